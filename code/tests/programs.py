"""Load the book's example programs in tests, and run them as processes.

The programs live in folders with hyphens in their names
(``code/twisted-client-3/get-poetry.py``), which cannot be imported with an
``import`` statement.  ``load_program`` imports one by its path, so a test
uses the program's real classes and functions, not copies of them.

``Program`` runs a program as a real process, for what can only be seen
from outside: its exit status, its output, what Ctrl-C does to it.
"""

from __future__ import annotations

import importlib.util
import os
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import ModuleType

CODE = Path(__file__).resolve().parents[1]
ROOT = CODE.parent


def load_program(relative_path: str) -> ModuleType:
    """Import ``code/<relative_path>`` as a module, without running its main()."""
    path = CODE / relative_path
    name = "program_" + re.sub(r"\W", "_", relative_path.removesuffix(".py"))
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def environment() -> dict[str, str]:
    """A reader's environment, with every warning an error.

    Nothing makes output unbuffered: a server whose output goes to a pipe
    must flush each line itself, as it must for a reader who sends it to a
    file.  Warnings are errors, ResourceWarning included (an unclosed
    socket fails the test).  Python's development mode, which the doctests
    turn on as well, is left off here: it adds nothing to the warnings, and
    it makes each of the suite's 500 program starts a fifth slower.
    """
    env = {name: value for name, value in os.environ.items()
           if not name.startswith("PYTHON")}
    env.update(PYTHONWARNINGS="error", LANG="C.UTF-8")
    return env


class Program:
    """A program from code/ running as a process, its output collected.

    Two threads read its standard output and standard error line by line,
    so a test can wait for the next line with a time limit: a program that
    never prints what the test waits for fails the test, it does not hang
    the suite.
    """

    def __init__(self, relative_path: str, *args: str, stdout=subprocess.PIPE) -> None:
        self.popen = subprocess.Popen(
            [sys.executable, str(CODE / relative_path), *args],
            cwd=ROOT, env=environment(), stdin=subprocess.DEVNULL,
            stdout=stdout, stderr=subprocess.PIPE, text=True,
            start_new_session=True,
        )
        self._lines: dict[str, list[str]] = {"stdout": [], "stderr": []}
        self._read_so_far = {"stdout": 0, "stderr": 0}
        self._changed = threading.Condition()
        self._readers = [
            threading.Thread(target=self._read, args=(name, stream), daemon=True)
            for name, stream in (("stdout", self.popen.stdout), ("stderr", self.popen.stderr))
            if stream is not None
        ]
        for reader in self._readers:
            reader.start()

    def _read(self, name: str, stream) -> None:
        with stream:
            for line in stream:
                with self._changed:
                    self._lines[name].append(line)
                    self._changed.notify_all()
        with self._changed:
            self._lines[name].append("")  # the end of the output
            self._changed.notify_all()

    def readline(self, stream: str = "stdout", timeout: float = 10) -> str:
        """The next line of ``stream`` ("stdout" or "stderr"), "" at its end.

        Fails the test if no line comes within ``timeout`` seconds.
        """
        index = self._read_so_far[stream]
        with self._changed:
            if not self._changed.wait_for(lambda: len(self._lines[stream]) > index, timeout):
                raise AssertionError(f"no line on {stream} within {timeout} s")
            line = self._lines[stream][index]
        if line:
            self._read_so_far[stream] += 1
        return line

    def first_line(self) -> str:
        """The next line of standard output (for a server, its address line)."""
        return self.readline("stdout")

    def port(self) -> int:
        """The port a server names in its first line."""
        line = self.first_line()
        match = re.search(r"127\.0\.0\.1:(\d+)", line)
        if not match:
            raise AssertionError(f"no address in the server's first line: {line!r}")
        return int(match.group(1))

    def interrupt(self) -> None:
        """Press Ctrl-C."""
        os.killpg(self.popen.pid, signal.SIGINT)

    def finish(self, timeout: float = 10) -> tuple[int, str, str]:
        """Wait for the end; return (status, stdout, stderr).  Kill it if it hangs.

        The output returned is what :meth:`readline` has not read yet.
        """
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait()
            out, err = self._unread()
            raise AssertionError(f"still running after {timeout} s:\n{out}\n{err}") from None
        out, err = self._unread()
        return self.popen.returncode, out, err

    def _unread(self) -> tuple[str, str]:
        for reader in self._readers:
            reader.join()
        return tuple("".join(self._lines[name][self._read_so_far[name]:])
                     for name in ("stdout", "stderr"))

    def stop(self) -> tuple[int, str, str]:
        """Ctrl-C, then wait for the end, if it is still running.

        A Ctrl-C that comes while the reactor is starting, before its handler
        is in place, can be lost in the start; so if the program has not
        stopped after three seconds, press Ctrl-C again, as a reader would.
        (A test that checks what one Ctrl-C does waits for the reactor first:
        wait_for_the_reactor().)
        """
        if self.popen.poll() is None:
            self.interrupt()
            try:
                self.popen.wait(3)
            except subprocess.TimeoutExpired:
                self.interrupt()
        return self.finish()

    def end(self) -> None:
        """A test's clean-up: stop the program however it takes, and say nothing.

        Ctrl-C, then SIGTERM, then SIGKILL, a few seconds apart: a Ctrl-C that
        lands while the reactor installs its handlers can leave a program
        that no Ctrl-C stops (Twisted logs "Unexpected error in main loop"
        and goes on).
        """
        for number in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
            if self.popen.poll() is not None:
                break
            os.killpg(self.popen.pid, number)
            try:
                self.popen.wait(3)
            except subprocess.TimeoutExpired:
                continue
        self.finish()


def wait_until(condition, what: str, timeout: float = 10) -> None:
    """Check condition() every 10 ms until it is true; fail the test after timeout seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(0.01)  # look again


def wait_for_the_reactor(program: Program, timeout: float = 10) -> None:
    """Wait until the program's reactor runs, and Ctrl-C will stop it cleanly.

    A program that gets Ctrl-C while Python is still importing Twisted dies
    with a KeyboardInterrupt traceback, as any Python program would; a test
    that means to press Ctrl-C in the running program must wait for it.
    The reactor catches SIGTERM, which Python alone does not, and it
    installs that handler just after its own for SIGINT: once Linux says
    (in /proc/PID/status) that the process catches SIGTERM, the reactor is
    the one that will get Ctrl-C.
    """
    status = Path(f"/proc/{program.popen.pid}/status")
    sigterm = 1 << (signal.SIGTERM - 1)

    def catches_sigterm() -> bool:
        caught = re.search(r"^SigCgt:\s*([0-9a-f]+)$", status.read_text(), re.M)
        return bool(int(caught.group(1), 16) & sigterm)

    wait_until(catches_sigterm, "the reactor to start", timeout)


def tcp_socket(local_port: int, remote_port: int) -> tuple[int, int, int]:
    """(state, bytes not yet acknowledged, bytes not yet read) of a TCP socket on 127.0.0.1.

    Read from Linux's /proc/net/tcp, so that a test can see from outside
    what another process's socket is doing: whether the program has read
    what arrived for it, or whether the other side's close has reached it
    (state 8, CLOSE_WAIT).
    """
    local, remote = f"0100007F:{local_port:04X}", f"0100007F:{remote_port:04X}"
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if (fields[1], fields[2]) == (local, remote):
            unacknowledged, unread = fields[4].split(":")
            return int(fields[3], 16), int(unacknowledged, 16), int(unread, 16)
    raise AssertionError(f"no TCP socket from port {local_port} to port {remote_port}")


def wait_until_read(connection: socket.socket) -> None:
    """Wait until the program at the other end of ``connection`` has read all we sent."""
    ours, theirs = connection.getsockname()[1], connection.getpeername()[1]
    wait_until(lambda: tcp_socket(ours, theirs)[1] == 0  # it arrived
               and tcp_socket(theirs, ours)[2] == 0,  # and the program read it
               "the program never read what was sent to it")


def process_state(pid: int) -> str:
    """A process's state, from Linux's /proc/PID/stat: "S" waiting, "R" running, "T" stopped."""
    return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]


def run(relative_path: str, *args: str, timeout: float = 10) -> tuple[int, str, str]:
    """Run a program to its end; return (status, stdout, stderr)."""
    return Program(relative_path, *args).finish(timeout)


# -- servers and sockets for tests ------------------------------------------

POEMS = {path.stem: path.read_bytes() for path in (CODE / "poetry").glob("*.txt")}
"""Every poem of code/poetry, by name: POEMS["science"]."""

SLOW_SERVER = "blocking-server/slowpoetry.py"


def start_server(test, poem: str = "science", *options: str) -> int:
    """Start chapter 2's slow server for one test (stopped after it); return its port."""
    server = Program(SLOW_SERVER, "--delay", "0.01", "--num-bytes", "200", *options,
                     f"code/poetry/{poem}.txt")
    test.addCleanup(server.end)
    return server.port()


def listener(test, backlog: int = 5) -> tuple[socket.socket, int]:
    """A listening socket that no program serves; return (socket, port).

    The kernel completes connections to it, and then nobody says a word:
    a server that hangs.  The test may accept() a connection to play the
    server by hand.
    """
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(backlog)
    sock.settimeout(10)
    test.addCleanup(sock.close)
    return sock, sock.getsockname()[1]


def refused_port(test) -> int:
    """A port that is bound but not listening: connections to it are refused."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    test.addCleanup(sock.close)
    return sock.getsockname()[1]


def unanswered_port(test) -> int:
    """A port whose listen queue is full: a new connection is never completed.

    With a backlog of 0, Linux queues one connection that nobody accepts;
    once that one is established the queue is full, and the kernel drops
    every later attempt to connect, as a server behind a firewall would.
    """
    sock, port = listener(test, backlog=0)
    filler = socket.socket()
    test.addCleanup(filler.close)
    filler.setblocking(False)
    filler.connect_ex(("127.0.0.1", port))
    _, writable, _ = select.select([], [filler], [], 10)  # established: the queue is full
    assert writable, "the filler connection never completed"
    return port


def reset(connection: socket.socket) -> None:
    """Close a connection with a TCP reset instead of a clean close."""
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    connection.close()
