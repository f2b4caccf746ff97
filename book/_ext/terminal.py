"""Run the book's example programs from its doctests, as a reader would.

A chapter's hidden ``{testcode}`` block drives a :class:`Terminal`; what it
prints is a terminal session, which the ``{testoutput}`` block beside it
shows and checks::

    with Terminal() as t:
        t.server("python code/blocking-server/slowpoetry.py --port 10001 code/poetry/science.txt")
        t.run("python code/blocking-client/get-poetry.py 10001")

prints::

    $ python code/blocking-server/slowpoetry.py --port 10001 code/poetry/science.txt
    Serving code/poetry/science.txt on 127.0.0.1:10001.
    $ python code/blocking-client/get-poetry.py 10001
    ...what the client printed...

The chapters use stable port numbers (10001, 10002, ...), so that the text
reads the same for everybody.  The tests cannot: a fixed port may be taken.
So a server is really started with ``--port 0``, the system picks a free
port, the server names it on its first line, and from then on the real
port is shown as the chapter's port in everything printed, and the
chapter's port is turned into the real one in every command run.

Everything started is stopped when the ``with`` block ends, even when an
example fails or hangs: servers get SIGINT (Ctrl-C) first, and a server
that does not stop cleanly on Ctrl-C is reported, so every doctest that
starts a server also checks that Ctrl-C stops it without a traceback.
"""

from __future__ import annotations

import codecs
import fcntl
import os
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
"""The repository's root: every command runs there, as the README says."""

SERVER_START_TIMEOUT = 10.0
"""Seconds a server may take to print its address."""

RUN_TIMEOUT = 20.0
"""Seconds a client may run before it counts as hung and is stopped."""

STOP_TIMEOUT = 5.0
"""Seconds a program may take to exit after Ctrl-C before it is killed."""

ADDRESS = re.compile(r"127\.0\.0\.1:(\d+)")


def _environment() -> dict[str, str]:
    """The environment of a reader's shell, strict about warnings.

    Nothing makes output unbuffered: a program's output reaches the
    terminal when the program sends it, as it does for a reader.  (Python
    flushes each line written to a terminal; a program whose output goes
    to a pipe or a file must flush for itself.)  Any warning becomes an
    error, so a deprecated call or an unclosed socket (a ResourceWarning)
    shows up in the output and fails the doctest; that changes nothing a
    correct program prints.  Python's development mode stays off, as it is
    for a reader: it would add no warning to these, and it makes every
    start of a program a fifth slower.
    """
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("PYTHON", "LC_")) and name not in ("COLUMNS", "LINES")}
    env.update(PYTHONWARNINGS="error", TERM="xterm-256color",
               LANG="C.UTF-8")
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


ROWS, COLUMNS = 24, 88
"""The size of every terminal the helper opens.

88 columns is also the width of the code in the printed book: a session
shown at that width fits the page, and what a program prints is wrapped
where the reader's terminal of that width would wrap it.
"""

CTRL_C = b"\x03"
"""The byte the keyboard sends for Ctrl-C."""

_ESCAPE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")
"""A terminal control sequence (colour, cursor): not text a reader sees."""


class _Process:
    """A command running in a terminal of its own, its output collected by a thread.

    The command runs through bash in a new session whose controlling
    terminal is a fresh pseudo-terminal: its standard input, output and
    error are that terminal, as in a reader's shell.  Nobody types on it,
    so a program that reads the keyboard waits, as it would for a reader
    who types nothing.  Ctrl-C is the byte a keyboard sends: the terminal
    turns it into SIGINT for the programs in the foreground and echoes
    ``^C`` where it was pressed.
    """

    def __init__(self, command: str) -> None:
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._terminal, child_side = os.openpty()
        fcntl.ioctl(child_side, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
        try:
            # setsid --ctty: a new session, with this terminal as its own.
            self.popen = subprocess.Popen(
                ["setsid", "--ctty", "bash", "-c", command],
                cwd=ROOT, env=_environment(),
                stdin=child_side, stdout=child_side, stderr=child_side,
            )
        finally:
            os.close(child_side)  # the program holds it now; its end is our end of file
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        partial = ""
        while True:
            try:
                data = os.read(self._terminal, 65536)
            except OSError:  # EIO: every program on the terminal has closed it
                data = b""
            text = decoder.decode(data, final=not data)
            *complete, partial = (partial + text).split("\n")
            if not data and partial:
                complete.append(partial)
            with self._changed:
                self.lines.extend(_screen_lines(complete))
                self._changed.notify_all()
            if not data:
                break
        os.close(self._terminal)

    def first_line(self, timeout: float) -> str | None:
        """Wait for the first line of output; None if none came in time."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not self.lines and self._reader.is_alive():
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._changed.wait(left)
            return self.lines[0] if self.lines else None

    def wait_for_text(self, text: str, timeout: float) -> bool:
        """Wait until a line of output contains ``text``; False if none did in time."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not any(text in line for line in self.lines):
                left = deadline - time.monotonic()
                if left <= 0 or not self._reader.is_alive():
                    return any(text in line for line in self.lines)
                self._changed.wait(left)
            return True

    def wait_for_reactor(self, timeout: float) -> bool:
        """Wait until a program of this command runs a reactor; False if none did in time.

        A Twisted reactor catches SIGTERM, which Python alone does not, and
        it installs that handler just after its own for SIGINT: so the
        reactor has started once Linux says (in /proc/PID/status) that a
        process of this command's session catches SIGTERM.
        """
        sigterm = 1 << (signal.SIGTERM - 1)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.popen.poll() is None:
            for status in _session_statuses(self.popen.pid):
                caught = re.search(r"^SigCgt:\s*([0-9a-f]+)$", status, re.M)
                if caught and int(caught.group(1), 16) & sigterm:
                    return True
            time.sleep(0.01)  # look again: the reactor is starting
        return False

    def interrupt(self) -> None:
        """Press Ctrl-C on the program's terminal."""
        if self.popen.poll() is None:
            try:
                os.write(self._terminal, CTRL_C)
            except OSError:  # the terminal is gone: so is everything on it
                pass

    def wait(self, timeout: float) -> int | None:
        """Wait for the exit status; None if it is still running."""
        try:
            status = self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        self._reader.join(STOP_TIMEOUT)
        return status

    def signal(self, number: int) -> None:
        """Send a signal to the program's process group, as ``kill`` does."""
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, number)

    def kill(self) -> None:
        self.signal(signal.SIGKILL)
        self.popen.wait()
        self._reader.join(STOP_TIMEOUT)


def typed(command: str) -> str:
    """A command as the book shows it typed: "$ " and, if it is long, several lines.

    A reader types a long command on one line and the terminal wraps it
    anywhere; the book breaks it between words instead, with the shell's
    backslash at the end of each line but the last and the rest indented,
    so that every line fits the page and the command can be copied and
    run as it is.  An option stays on the line of its value, and nothing
    is broken inside quotes.
    """
    lines, line = [], "$"
    for unit in _units(command):
        if len(line) + 1 + len(unit) > COLUMNS - 2 and line not in ("$", "   "):
            lines.append(line + " \\")
            line = "   "
        line += " " + unit
    return "\n".join([*lines, line])


def _units(command: str) -> list[str]:
    """The command's words, an option or a redirection joined to what follows it."""
    words, word, quote = [], "", ""
    for char in command:
        if char in "'\"" and quote in ("", char):
            quote = "" if quote else char
        if char == " " and not quote:
            words.append(word)
            word = ""
        else:
            word += char
    words.append(word)
    units: list[str] = []
    for word in words:
        if units and (units[-1] in REDIRECTIONS or (
                units[-1].startswith("--") and " " not in units[-1]
                and "=" not in units[-1] and not word.startswith("-"))):
            units[-1] += " " + word
        else:
            units.append(word)
    return units


REDIRECTIONS = {">", ">>", "<", "2>", "2>>", "&>"}
"""A redirection stays on the line of the file it names."""


def _session_statuses(session: int) -> list[str]:
    """The /proc/PID/status of every process in a session (its programs)."""
    statuses = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
            if int(fields[3]) == session:  # the session id
                statuses.append((stat.parent / "status").read_text())
        except (OSError, IndexError, ValueError):
            continue  # a process that ended as we looked
    return statuses


def _screen_lines(raw_lines: list[str]) -> list[str]:
    """The lines as a reader's screen shows them.

    The terminal ends each line with a carriage return and a newline; the
    ``^C`` that it echoes where Ctrl-C was pressed ends its line here,
    since a reader's shell would show what the program printed next on a
    line of its own.
    """
    lines = []
    for raw in raw_lines:
        line = _ESCAPE.sub("", raw).rstrip("\r")
        while "^C" in line and not line.endswith("^C"):
            head, _, line = line.partition("^C")
            lines.append(head + "^C")
        lines.append(line)
    return lines


class Server:
    """A server started by :meth:`Terminal.server`."""

    def __init__(self, process: _Process, port: int, shown_port: int) -> None:
        self.process = process
        self.port = port
        self.shown_port = shown_port
        self.shown_lines = 1  # lines shown when it started: up to its address
        self.status: int | None = None


class Terminal:
    """A terminal session made of real programs, with stable port numbers.

    Use it in a ``with`` block, or, for a session that spans several
    examples, create it in one and call :meth:`close` in the last.  The
    book's global doctest cleanup calls :meth:`close_all` after each
    chapter, so nothing outlives the chapter that started it.
    """

    _open: list[Terminal] = []

    @classmethod
    def close_all(cls) -> None:
        """Close every session still open."""
        while cls._open:
            cls._open[0].close()

    def __init__(self) -> None:
        Terminal._open.append(self)
        self._servers: list[Server] = []
        self._jobs: list[_Process] = []
        self._reserved: list[socket.socket] = []
        self._real_to_shown: dict[int, int] = {}
        self._shown_to_real: dict[int, int] = {}
        self.last_status: int | None = None
        self.last_lines: list[str] = []

    # -- the with block ---------------------------------------------------

    def __enter__(self) -> Terminal:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop every server still running, and report any unclean stop."""
        if self in Terminal._open:
            Terminal._open.remove(self)
        for server in self._servers:
            if server.status is None:
                self._stop(server, show=False)
        for job in self._jobs:
            job.kill()
        self._jobs.clear()
        for sock in self._reserved:
            sock.close()
        self._reserved.clear()

    # -- ports ------------------------------------------------------------

    def _map(self, real: int, shown: int) -> None:
        if shown in self._shown_to_real:
            raise ValueError(f"port {shown} is used twice in one example")
        self._real_to_shown[real] = shown
        self._shown_to_real[shown] = real

    def shown(self, text: str) -> str:
        """A line of output as the reader's terminal shows it.

        Every real port is replaced by the chapter's port, and a line longer
        than the terminal is wide goes on at the start of the next line.
        """
        for real, shown in self._real_to_shown.items():
            text = re.sub(rf"(?<!\d){real}(?!\d)", str(shown), text)
        return "\n".join(text[i:i + COLUMNS] for i in range(0, len(text), COLUMNS)) or text

    def _start(self, command: str) -> _Process:
        """Start the command, with the chapter's ports made real, in a terminal.

        bash runs the command as the reader would type it, pipes and
        redirections included; ``python`` is the Python running the
        doctests (the book's .venv), found first on the PATH.
        """
        for shown, real in self._shown_to_real.items():
            command = re.sub(rf"(?<![\d.]){shown}(?![\d.])", str(real), command)
        return _Process(command)

    def nobody(self, shown_port: int) -> int:
        """Reserve a port where nothing listens, shown as ``shown_port``.

        The socket stays bound but never listens, so nobody else can take
        the port and a connection to it is refused at once.
        """
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self._reserved.append(sock)
        real = sock.getsockname()[1]
        self._map(real, shown_port)
        return real

    def silent(self, shown_port: int) -> int:
        """Reserve a port that accepts connections and then never says a word.

        The kernel completes the TCP handshake for a listening socket even
        if no program ever calls accept(), so a client connects and then
        waits for bytes that never come: a server that hangs.
        """
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        self._reserved.append(sock)
        real = sock.getsockname()[1]
        self._map(real, shown_port)
        return real

    def unanswered(self, shown_port: int) -> int:
        """Reserve a port where a connection is never even completed.

        The port listens with a queue of one connection, and one connection
        already waits in it, never accepted: the kernel drops every later
        attempt to connect, as a server behind a firewall would, and a
        client's connect() waits until it gives up.
        """
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        sock.listen(0)
        filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        filler.setblocking(False)
        filler.connect_ex(sock.getsockname())
        select.select([], [filler], [], SERVER_START_TIMEOUT)  # connected: the queue is full
        self._reserved += [sock, filler]
        real = sock.getsockname()[1]
        self._map(real, shown_port)
        return real

    def port_in_file(self, path: str, shown_port: int,
                     timeout: float = SERVER_START_TIMEOUT) -> None:
        """Show the port that a daemon names in its log file as ``shown_port``.

        A daemon prints nothing where it was started: it names its address
        (``127.0.0.1:PORT``) in its log.  Wait until the file at ``path``,
        relative to the repository's root, names one, and from then on show
        that port as ``shown_port``, as :meth:`server` does with the first
        line of a server.  Prints nothing.
        """
        file = ROOT / path
        deadline = time.monotonic() + timeout
        while True:
            try:
                match = ADDRESS.search(file.read_text(errors="replace"))
            except FileNotFoundError:
                match = None
            if match:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{path} never named an address")
            time.sleep(0.02)  # poll the file until the daemon has written it
        self._map(int(match.group(1)), shown_port)

    # -- programs ---------------------------------------------------------

    def server(self, command: str) -> Server:
        """Start a server and show its command and its first line.

        ``command`` is what the reader types, with ``--port N`` giving the
        chapter's port.  It runs with ``--port 0`` instead, and the port the
        server names in its first line is shown as N from then on.  (A
        server that logs other lines before its address, such as twistd,
        has every line up to the address shown.)
        """
        match = re.search(r"--port[ =](\d+)", command)
        if not match:
            raise ValueError(f"a server needs --port in the example: {command}")
        shown_port = int(match.group(1))
        real_command = command[: match.start()] + "--port 0" + command[match.end() :]
        process = self._start(real_command)
        print(typed(command))
        process.wait_for_text("127.0.0.1:", SERVER_START_TIMEOUT)
        named = [i for i, line in enumerate(process.lines) if ADDRESS.search(line)]
        if not named:
            process.interrupt()
            if process.wait(STOP_TIMEOUT) is None:
                process.kill()
            print("\n".join(process.lines))
            raise RuntimeError(f"the server did not name its address: {command}")
        first = process.lines[: named[0] + 1]  # the book's servers name it on line 1
        real = int(ADDRESS.search(first[-1]).group(1))
        self._map(real, shown_port)
        server = Server(process, real, shown_port)
        server.shown_lines = len(first)
        self._servers.append(server)
        for line in first:
            print(self.shown(line))
        return server

    def run(
        self,
        command: str,
        *,
        timeout: float = RUN_TIMEOUT,
        interrupt_after: float | None = None,
        interrupt_on: str | tuple[str, ...] | None = None,
    ) -> float:
        """Run a program to its end, show what it printed, return its run time.

        A program that runs longer than ``timeout`` seconds is a hung
        example: it is stopped and the doctest fails.  A program that is
        meant to hang, so that the chapter can show it, gets Ctrl-C, and
        the session shows ``^C`` where the reader pressed it:

        * ``interrupt_on="text"`` (or several texts): once the program has
          printed lines containing them all, as a reader who waits for them;
        * ``interrupt_after=N``: N seconds after the program's reactor has
          started, and not before: a Ctrl-C while Python is still importing
          Twisted would end in a KeyboardInterrupt traceback.
        """
        print(typed(command))
        started = time.monotonic()
        process = self._start(command)
        if interrupt_on is not None:
            texts = (interrupt_on,) if isinstance(interrupt_on, str) else interrupt_on
            for text in texts:
                process.wait_for_text(text, timeout)
            status = process.wait(interrupt_after or 0)
        elif interrupt_after is not None:
            process.wait_for_reactor(timeout)
            status = process.wait(interrupt_after)
        else:
            status = process.wait(timeout)
        interrupted = status is None
        if interrupted:
            process.interrupt()
            status = process.wait(STOP_TIMEOUT)
        elapsed = time.monotonic() - started
        if status is None:
            process.kill()
        for line in process.lines:
            print(self.shown(line))
        self.last_lines = process.lines
        if interrupted and interrupt_after is None and interrupt_on is None:
            print(f"[still running after {timeout:g} s: a hung example]")
        elif interrupted and status is None:
            print("[Ctrl-C did not stop it]")
        # As a shell reports it: 128 + N for a program ended by signal N.
        self.last_status = None if status is None else status if status >= 0 else 128 - status
        return elapsed

    def background(self, command: str) -> int:
        """Start a command in the background, as ``command &`` in a shell.

        Returns its job number (1 for the first), for :meth:`kill`.  A
        background job here must not print anything: on a terminal its
        output would land wherever the other commands' output happens to be.
        """
        print(typed(command + " &"))
        self._jobs.append(self._start(command))
        return len(self._jobs)

    def kill(self, job: int) -> None:
        """End a background job, as ``kill %N`` does, and check it printed nothing."""
        print(f"$ kill %{job}")
        process = self._jobs[job - 1]
        process.signal(signal.SIGTERM)
        if process.wait(STOP_TIMEOUT) is None:
            process.kill()
        for line in process.lines:
            print(f"[background job {job} printed:] {self.shown(line)}")

    def wait_for(self, server: Server, text: str, timeout: float = RUN_TIMEOUT) -> None:
        """Wait until the server has printed a line that contains ``text``.

        Prints nothing when it has: a server's terminal shows its lines as
        they come, so a session may need to wait for one before it goes
        on, as a reader watching that terminal would.
        """
        if not server.process.wait_for_text(text, timeout):
            print(f"[the server on port {server.shown_port} never printed {text!r}]")

    def reported_seconds(self) -> float:
        """The time the last program said it took, in its "... in 1.2 seconds." line.

        A program times its own work, without the time Python takes to
        start, which a busy machine can stretch: comparisons between runs
        use this figure, not the time the whole command took.
        """
        for line in reversed(self.last_lines):
            if match := re.search(r" in (\d+(?:\.\d+)?) seconds\.?$", line):
                return float(match.group(1))
        raise ValueError("the last program did not say how long it took")

    def status(self) -> None:
        """Show the last program's exit status, as ``echo $?`` would."""
        print("$ echo $?")
        print(self.last_status)

    def stop(self, server: Server) -> None:
        """Press Ctrl-C in a server's terminal, and show what it printed.

        Shows the server's output after its first line: what it printed
        before Ctrl-C, the ``^C`` its terminal echoed, and what it printed
        as it stopped.
        """
        self._stop(server, show=True)

    def _stop(self, server: Server, *, show: bool) -> None:
        process = server.process
        process.interrupt()
        server.status = process.wait(STOP_TIMEOUT)
        if server.status is None:
            process.kill()
        if show:
            print(f"[the terminal of the server on port {server.shown_port}]")
            for line in process.lines[server.shown_lines:]:
                print(self.shown(line))
        clean = server.status is not None and not any(
            "Traceback" in line for line in process.lines
        )
        if not clean:
            print(f"[the server on port {server.shown_port} did not stop cleanly on Ctrl-C:]")
            for line in process.lines:
                print(self.shown(line))
