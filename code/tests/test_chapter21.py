"""Chapter 21: child processes, a server that runs programs, standard input and output."""

import os
import re
import select
import signal
import socket
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

from twisted.trial import unittest

from tests.programs import (
    CODE,
    POEMS,
    ROOT,
    Program,
    environment,
    listener,
    load_program,
    refused_port,
    run,
    start_server,
    wait_for_the_reactor,
    wait_until,
)

SPAWN = "processes/spawn.py"
OUTPUT_AND_VALUE = "processes/output-and-value.py"
SLOWCAPS = "processes/slowcaps.py"
SERVER = "processes/transformedpoetry.py"
PRINT_BLOCKS = "stdio-client/print-blocks.py"
SLOW_READER = "stdio-client/slow-reader.py"
CLIENT = "stdio-client/get-poetry.py"
OUTPUT_LIMIT = "solutions/ch21-output-limit/transformedpoetry.py"
AT_MOST = "solutions/ch21-at-most/get-poetry.py"
BLAKE = ",thgirb gninrub ,regyT regyT\n;thgin eht fo stserof eht nI\n"


def netstring(data: bytes) -> bytes:
    return b"%d:%s," % (len(data), data)


def ask(port: int, name: str, text: str) -> bytes:
    """Send one request to the transformation server; return all it answers."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(netstring(f"{name}.{text}".encode()))
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def children(pid: int) -> list[int]:
    """The processes whose parent is pid, from Linux's /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue  # it ended as we looked
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def end(client: subprocess.Popen) -> None:
    """A test's clean-up: kill a client still running, and close its pipes."""
    if client.poll() is None:
        client.kill()
    client.communicate()


def run_with_input(program: str, text: str, *args: str, timeout: float = 20):
    """Run a program with text on its standard input; return (status, out, err)."""
    done = subprocess.run([sys.executable, str(CODE / program), *args], input=text,
                          capture_output=True, text=True, cwd=ROOT, env=environment(),
                          timeout=timeout)
    return done.returncode, done.stdout, done.stderr


class EveryProgramTests(unittest.TestCase):
    def test_help(self):
        for program in (SPAWN, OUTPUT_AND_VALUE, SLOWCAPS, SERVER, PRINT_BLOCKS,
                        SLOW_READER, CLIENT, OUTPUT_LIMIT, AT_MOST):
            status, out, err = run(program, "--help")
            self.assertEqual((status, err), (0, ""), program)
            first_line = load_program(program).__doc__.split("\n\n")[0]
            self.assertIn("".join(first_line.split()), "".join(out.split()), program)


class SpawnTests(unittest.TestCase):
    def test_a_program_that_succeeds(self):
        status, out, err = run(SPAWN, "--", "rev")
        self.assertEqual((status, err), (0, ""))
        self.assertIn("processEnded: ProcessDone, exit status 0.\n"
                      "It wrote 58 bytes to its standard output.\n" + BLAKE, out)

    def test_a_program_that_fails(self):
        status, out, err = run(SPAWN, "--", "sh", "-c", "echo no poem today >&2; exit 3")
        self.assertEqual((status, err), (1, ""))
        self.assertIn("processEnded: ProcessTerminated, exit status 3.", out)
        self.assertIn("It wrote 14 bytes to its standard error.\nno poem today\n", out)

    def test_a_program_killed_at_the_time_limit(self):
        status, out, err = run(SPAWN, "--time-limit", "0.2", "--", "sleep", "10")
        self.assertEqual((status, err), (1, ""))
        self.assertIn("processEnded: ProcessTerminated, killed by signal 15.", out)

    def test_no_such_program(self):
        status, out, err = run(SPAWN, "--", "no-such-program-here")
        self.assertEqual((status, out), (1, ""))
        self.assertEqual(err, "No program named 'no-such-program-here' on the PATH.\n")

    def test_impossible_time_limit(self):
        for value in ("0", "-1", "nan", "inf", "soon"):
            status, out, err = run(SPAWN, "--time-limit", value, "--", "rev")
            self.assertEqual(status, 2, value)

    def test_process_exited_comes_no_later_than_process_ended(self):
        """processExited() and processEnded() both come, with the same reason."""
        from twisted.internet import reactor
        from twisted.internet.defer import Deferred
        from twisted.internet.protocol import ProcessProtocol

        events = []
        ended = Deferred()

        class Recorder(ProcessProtocol):
            def processExited(self, reason):
                events.append(("exited", reason.value.exitCode))

            def processEnded(self, reason):
                events.append(("ended", reason.value.exitCode))
                ended.callback(None)

        reactor.spawnProcess(Recorder(), "/bin/sh", ["sh", "-c", "exit 4"], env=None)
        return ended.addCallback(
            lambda _: self.assertEqual(events, [("exited", 4), ("ended", 4)]))


class OutputAndValueTests(unittest.TestCase):
    def test_output_and_status(self):
        status, out, err = run(OUTPUT_AND_VALUE, "--", "tr", "a-z", "A-Z")
        self.assertEqual((status, err), (0, ""))
        self.assertEqual(out, "Exit status 0; 58 bytes of output, 0 of errors.\n"
                              "TYGER TYGER, BURNING BRIGHT,\nIN THE FORESTS OF THE NIGHT;\n")

    def test_failure_and_signal(self):
        status, out, _ = run(OUTPUT_AND_VALUE, "--", "sh", "-c", "echo oh >&2; exit 3")
        self.assertEqual((status, out),
                         (1, "Exit status 3; 0 bytes of output, 3 of errors.\noh\n"))
        status, out, _ = run(OUTPUT_AND_VALUE, "--", "sh", "-c", "kill $$")
        self.assertEqual((status, out),
                         (1, "Killed by signal 15; 0 bytes of output, 0 of errors.\n"))


    def test_await_cannot_raise_the_signal_tuple(self):
        """The Failure of a killed child holds a tuple: awaiting it raises nothing we see."""
        from twisted.internet.defer import Deferred
        from twisted.internet.utils import getProcessOutputAndValue

        seen = []

        async def wait_for_it():
            try:
                await getProcessOutputAndValue("/bin/sh", ["-c", "kill $$"], env=None)
            except BaseException as error:  # whatever it is, note it
                seen.append(error)

        d = Deferred.fromCoroutine(wait_for_it())
        d = self.assertFailure(d, AttributeError)  # 'tuple' has no 'with_traceback'
        return d.addCallback(lambda _: self.assertEqual(seen, []))


class ServerTests(unittest.TestCase):
    def start(self, program=SERVER, *args):
        self.server = Program(program, "--time-limit", "1", *args)
        self.addCleanup(self.server.end)
        return self.server.port()

    def test_answers_from_programs_and_from_python(self):
        port = self.start()
        self.assertEqual(ask(port, "rev", "blême\nabc\n"), netstring("emêlb\ncba\n".encode()))
        self.assertEqual(ask(port, "upper", "abc"), netstring(b"ABC"))
        self.assertEqual(ask(port, "ascii", "Tyger"), netstring(b"Tyger"))
        self.assertEqual(ask(port, "slowcaps", "ab\n"), netstring(b"AB\n"))
        self.assertEqual([self.server.readline() for _ in range(3)], [
            "Connection 1 from 127.0.0.1: rev: started.\n",
            "Connection 1 from 127.0.0.1: rev: answered with 11 bytes.\n",
            "Connection 2 from 127.0.0.1: upper: answered with 3 bytes.\n"])

    def test_chapter_11s_client_asks_for_rev(self):
        port = self.start()
        poems = start_server(self, "science")
        status, out, err = run("twisted-client-6/get-poetry.py", "--transform", "rev",
                               str(port), str(poems))
        self.assertEqual(status, 0, err)
        expected = "".join(line[::-1] + "\n"
                           for line in POEMS["science"].decode().splitlines())
        self.assertEqual(out, expected)
        self.assertEqual(out.splitlines()[0], "ecneicS oT\u2014tennoS")

    def test_a_program_that_fails_gets_no_answer(self):
        port = self.start()
        self.assertEqual(ask(port, "ascii", "blême"), b"")
        self.assertEqual(self.server.readline(), "Connection 1 from 127.0.0.1: ascii:"
                                                 " started.\n")
        self.assertEqual(self.server.readline(), "Connection 1 from 127.0.0.1: no answer:"
                                                 " ascii ended with exit status 1.\n")
        self.assertEqual(self.server.readline(), "Connection 1 from 127.0.0.1: ascii wrote:"
                                                 " iconv: illegal input sequence at"
                                                 " position 2.\n")
        self.assertEqual(ask(port, "rev", "ok"), netstring(b"ko"))  # still serving

    def test_the_time_limit_kills_the_program_and_others_are_served(self):
        port = self.start()
        slow = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.addCleanup(slow.close)
        slow.sendall(netstring(b"slowcaps." + POEMS["science"]))
        wait_until(lambda: children(self.server.popen.pid), "slowcaps to start")
        self.assertEqual(ask(port, "rev", "abc"), netstring(b"cba"))  # meanwhile
        self.assertEqual(slow.recv(100), b"")  # no answer: the connection closes
        wait_until(lambda: not children(self.server.popen.pid),
                   "slowcaps to be killed and reaped")
        lines = [self.server.readline() for _ in range(4)]
        self.assertEqual(lines, [
            "Connection 1 from 127.0.0.1: slowcaps: started.\n",
            "Connection 2 from 127.0.0.1: rev: started.\n",
            "Connection 2 from 127.0.0.1: rev: answered with 3 bytes.\n",
            "Connection 1 from 127.0.0.1: no answer: slowcaps ran past the time limit"
            " of 1 s.\n"])

    def test_a_client_that_hangs_up_has_its_program_killed(self):
        port = self.start()
        slow = socket.create_connection(("127.0.0.1", port), timeout=10)
        slow.sendall(netstring(b"slowcaps." + POEMS["science"]))
        wait_until(lambda: children(self.server.popen.pid), "slowcaps to start")
        slow.close()
        self.server.readline()  # started
        self.assertEqual(self.server.readline(), "Connection 1 from 127.0.0.1: the client"
                         " hung up before the answer; stopping slowcaps.\n")
        wait_until(lambda: not children(self.server.popen.pid), "slowcaps to be killed")
        self.assertEqual(ask(port, "rev", "abc"), netstring(b"cba"))
        # Killed for the hang-up, not by the time limit: the next lines are rev's.
        self.assertEqual([self.server.readline() for _ in range(2)], [
            "Connection 2 from 127.0.0.1: rev: started.\n",
            "Connection 2 from 127.0.0.1: rev: answered with 3 bytes.\n"])

    def test_unknown_names_and_ctrl_c(self):
        port = self.start()
        self.assertEqual(ask(port, "__init__", "x"), b"")
        wait_for_the_reactor(self.server)
        status, out, err = self.server.stop()
        self.assertEqual((status, err), (0, ""))
        self.assertEqual(out, "Connection 1 from 127.0.0.1: no answer:"
                              " no transformation named '__init__'.\n")

    def test_ctrl_c_during_a_transformation_kills_its_program(self):
        port = self.start(SERVER, "--time-limit", "60")  # Ctrl-C comes first, however slow
        slow = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.addCleanup(slow.close)
        slow.sendall(netstring(b"slowcaps." + POEMS["science"]))
        wait_until(lambda: children(self.server.popen.pid), "slowcaps to start")
        pids = children(self.server.popen.pid)
        status, out, err = self.server.stop()
        self.assertEqual((status, out, err),
                         (0, "Connection 1 from 127.0.0.1: slowcaps: started.\n", ""))
        wait_until(lambda: not any(Path(f"/proc/{pid}").exists() for pid in pids),
                   "the child to end")


class PrintBlocksTests(unittest.TestCase):
    def pipeline(self, *args):
        command = (f"{sys.executable} {CODE / PRINT_BLOCKS} {' '.join(args)}"
                   f" | {sys.executable} {CODE / SLOW_READER}")
        done = subprocess.run(command, shell=True, capture_output=True, text=True,
                              env=environment(), timeout=30, stdin=subprocess.DEVNULL)
        self.assertEqual((done.returncode, done.stdout), (0, ""))
        lines = done.stderr.splitlines()
        self.assertEqual(len(lines), 3, lines)
        seconds = [float(re.search(r"(\d+\.\d\d) seconds\.$", line).group(1))
                   for line in lines[1:]]
        return lines, seconds

    def test_print_stops_the_ticker(self):
        lines, (returned, silence) = self.pipeline()
        self.assertEqual(lines[0], "Writing 150800 bytes with print() at tick 3.")
        # print() returns once the last byte is in the pipe, which holds
        # 65536: by then the reader has read at least 150800 - 65536 =
        # 85264 bytes, in at least 21 reads of at most 4096 bytes, with
        # at least 20 pauses of 0.01 seconds between them.
        self.assertGreaterEqual(returned, 0.2)
        self.assertGreaterEqual(silence, returned)
        self.assertEqual(lines[2][:32], "The ticker ticks every 0.05 seco")

    def test_a_transport_does_not(self):
        lines, (returned, silence) = self.pipeline("--stdio")
        self.assertEqual(lines[0], "Writing 150800 bytes with transport.write() at tick 3.")
        self.assertLess(returned, 0.05)  # it only buffers the bytes
        self.assertLess(silence, 0.2)  # print()'s least silence: the ticker went on

    def test_lines_must_be_a_positive_count(self):
        for value in ("0", "-1", "many", "1.5"):
            self.assertEqual(run(PRINT_BLOCKS, "--lines", value)[0], 2, value)

    PRINT_AFTER_STDIO = (
        "import os, sys\n"
        "from twisted.internet import stdio\n"
        "from twisted.internet.protocol import Protocol\n"
        "stdio.StandardIO(Protocol())\n"
        "try:\n"
        "    print('x' * 100_000, flush=True)\n"
        "except BlockingIOError as error:\n"
        "    sys.stderr.write(f'BlockingIOError after {error.characters_written}\\n')\n"
        "    os._exit(0)  # not the flush at exit, which would fail as well\n"
        "sys.stderr.write('print() returned\\n')\n"
    )

    def print_after_stdio(self, **variables: str) -> tuple[str, int]:
        """Run PRINT_AFTER_STDIO into a pipe nobody reads; (its stderr, bytes in the pipe)."""
        reader, writer = os.pipe()
        self.addCleanup(os.close, reader)
        with os.fdopen(writer, "wb") as stdout:
            done = subprocess.run([sys.executable, "-c", self.PRINT_AFTER_STDIO],
                                  stdout=stdout, stderr=subprocess.PIPE, text=True,
                                  env={**environment(), **variables}, timeout=20,
                                  stdin=subprocess.DEVNULL)
        self.assertEqual(done.returncode, 0, done.stderr)
        os.set_blocking(reader, False)
        received = 0
        try:
            while chunk := os.read(reader, 65536):
                received += len(chunk)
        except BlockingIOError:
            pass  # all read: the pipe is empty, and still open (the test holds it)
        return done.stderr, received

    def test_print_fails_once_standard_output_is_a_transport(self):
        """StandardIO makes descriptor 1 non-blocking: print() into a full pipe fails."""
        err, received = self.print_after_stdio()
        # It wrote what the pipe could take, 64 KiB, and failed.
        self.assertRegex(err, r"^BlockingIOError after \d+\n$")
        self.assertLess(received, 100_000)

    def test_unbuffered_print_loses_text_without_a_word(self):
        err, received = self.print_after_stdio(PYTHONUNBUFFERED="1")
        self.assertEqual(err, "print() returned\n")
        self.assertLess(received, 100_000)

    def test_at_a_terminal_all_three_are_non_blocking(self):
        """0, 1 and 2 share one open terminal, and its non-blocking mode."""
        program = ("import os\n"
                   "from twisted.internet import stdio\n"
                   "from twisted.internet.protocol import Protocol\n"
                   "stdio.StandardIO(Protocol())\n"
                   "print(*(not os.get_blocking(n) for n in (0, 1, 2)))\n")
        main, terminal = os.openpty()
        self.addCleanup(os.close, main)
        with os.fdopen(terminal, "wb") as end:
            done = subprocess.run([sys.executable, "-c", program], stdin=end, stdout=end,
                                  stderr=end, env=environment(), timeout=20)
        self.assertEqual(done.returncode, 0)
        self.assertEqual(os.read(main, 1000), b"True True True\r\n")


class StdioClientTests(unittest.TestCase):
    def test_addresses_from_standard_input(self):
        fast = start_server(self, "science")
        slow = Program("blocking-server/slowpoetry.py", "--delay", "0.1", "--num-bytes",
                       "300", "code/poetry/tyger.txt")
        self.addCleanup(slow.end)
        refused = refused_port(self)
        slow_port = slow.port()
        text = f"{slow_port}\n\n{fast}\nnonsense\n{refused}\n"
        status, out, err = run_with_input(CLIENT, text)
        self.assertEqual((status, err), (1, ""))
        lines = out.splitlines()
        self.assertEqual(lines[:3], [
            "Task 3: not a [host:]port address: 'nonsense'",
            f"Task 4: cannot get poetry from 127.0.0.1:{refused}: Connection refused",
            f"Task 2: got 673 bytes of poetry from 127.0.0.1:{fast}"])
        self.assertEqual(lines[3], f"Task 1: got 813 bytes of poetry from 127.0.0.1:{slow_port}")
        self.assertRegex(lines[4], r"^Got 2 of 4 poems in \d+\.\d seconds\.$")
        self.assertEqual(len(lines), 5)

    def test_a_line_typed_during_a_download_starts_its_own(self):
        silent, port = listener(self)
        fast = start_server(self, "science")
        client = subprocess.Popen([sys.executable, str(CODE / CLIENT)], cwd=ROOT,
                                  env=environment(), stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  bufsize=0, start_new_session=True)
        self.addCleanup(end, client)
        client.stdin.write(f"{port}\n".encode())
        connection, _ = silent.accept()  # task 1 is under way, and hangs
        self.addCleanup(connection.close)
        client.stdin.write(f"{fast}\n".encode())  # typed meanwhile
        self.assertEqual(read_line(client.stdout),
                         f"Task 2: got 673 bytes of poetry from 127.0.0.1:{fast}\n".encode())
        connection.sendall(b"At last.\n")
        connection.close()
        self.assertEqual(read_line(client.stdout),
                         f"Task 1: got 9 bytes of poetry from 127.0.0.1:{port}\n".encode())
        out, err = client.communicate(timeout=10)  # it closes stdin: the end of the input
        self.assertRegex(out.decode(), r"^Got 2 of 2 poems in \d+\.\d seconds\.\n$")
        self.assertEqual((client.returncode, err), (0, b""))

    def test_no_input_no_poems(self):
        status, out, err = run_with_input(CLIENT, "")
        self.assertEqual((status, err), (0, ""))
        self.assertRegex(out, r"^Got 0 of 0 poems in \d\.\d seconds\.\n$")

    def test_ctrl_c_while_waiting_for_input(self):
        """Standard input still open, a download under way: Ctrl-C ends it quietly."""
        silent, port = listener(self)
        client = subprocess.Popen([sys.executable, str(CODE / CLIENT)], cwd=ROOT,
                                  env=environment(), stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  start_new_session=True)
        self.addCleanup(lambda: client.poll() is None and client.kill())
        wait_for_the_reactor(SimpleNamespace(popen=client))
        client.stdin.write(f"{port}\n".encode())
        client.stdin.flush()
        connection, _ = silent.accept()  # the download has started, and hangs
        self.addCleanup(connection.close)
        os.killpg(client.pid, signal.SIGINT)
        out, err = client.communicate(timeout=10)
        client.stdin.close()
        self.assertEqual((client.returncode, out, err), (130, b"", b""))

    def test_impossible_timeout(self):
        for value in ("0", "-1", "nan", "soon"):
            self.assertEqual(run(CLIENT, "--timeout", value)[0], 2, value)


class OutputLimitSolutionTests(unittest.TestCase):
    """The solution to exercise 1: a program that writes too much is killed."""

    def start(self, max_output: str) -> int:
        self.server = Program(OUTPUT_LIMIT, "--time-limit", "5", "--max-output", max_output)
        self.addCleanup(self.server.end)
        return self.server.port()

    def test_too_much_output_gets_no_answer_and_the_server_goes_on(self):
        port = self.start("10")
        self.assertEqual(ask(port, "rev", "hello, world"), b"")  # 12 bytes: too many
        self.assertEqual(ask(port, "rev", "hello"), netstring(b"olleh"))
        self.assertEqual(ask(port, "upper", "hello, world"), netstring(b"HELLO, WORLD"))
        self.assertEqual([self.server.readline() for _ in range(4)], [
            "Connection 1 from 127.0.0.1: rev: started.\n",
            "Connection 1 from 127.0.0.1: no answer: rev wrote more than 10 bytes of"
            " output, and was killed.\n",
            "Connection 2 from 127.0.0.1: rev: started.\n",
            "Connection 2 from 127.0.0.1: rev: answered with 5 bytes.\n"])

    def test_a_program_still_writing_is_killed_at_once(self):
        port = self.start("100")
        slow = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.addCleanup(slow.close)
        slow.sendall(netstring(b"slowcaps." + POEMS["science"]))  # 673 bytes, 1.7 s
        wait_until(lambda: children(self.server.popen.pid), "slowcaps to start")
        self.assertEqual(slow.recv(100), b"")  # no answer: the connection closes
        self.assertEqual(self.server.readline(), "Connection 1 from 127.0.0.1: slowcaps:"
                                                 " started.\n")
        self.assertEqual(self.server.readline(), "Connection 1 from 127.0.0.1: no answer:"
                         " slowcaps wrote more than 100 bytes of output, and was"
                         " killed.\n")
        # Killed, not left to run its 1.7 seconds: a second is plenty.
        wait_until(lambda: not children(self.server.popen.pid), "slowcaps to be killed",
                   timeout=1)
        self.assertEqual(ask(port, "rev", "abc"), netstring(b"cba"))  # still serving

    def test_impossible_max_output(self):
        for value in ("0", "-1", "lots", "1.5"):
            self.assertEqual(run(OUTPUT_LIMIT, "--max-output", value)[0], 2, value)


def read_line(pipe, timeout: float = 10) -> bytes:
    """One line from an unbuffered binary pipe; fail the test if none comes in time."""
    line = b""
    while not line.endswith(b"\n"):
        ready, _, _ = select.select([pipe], [], [], timeout)
        if not ready:
            raise AssertionError(f"no whole line within {timeout} s: {line!r}")
        byte = pipe.read(1)
        if not byte:
            return line  # the end of the output
        line += byte
    return line


class AtMostSolutionTests(unittest.TestCase):
    """The solution to exercise 3: at most N downloads at once; the others wait."""

    def test_one_at_a_time_the_slow_server_first(self):
        slow = Program("blocking-server/slowpoetry.py", "--delay", "0.1", "--num-bytes",
                       "300", "code/poetry/tyger.txt")
        self.addCleanup(slow.end)
        slow_port = slow.port()
        fast = start_server(self, "science")
        status, out, err = run_with_input(AT_MOST, f"{slow_port}\n{fast}\n", "--at-most", "1")
        self.assertEqual((status, err), (0, ""))
        lines = out.splitlines()
        # The chapter's client finishes task 2 first; here it waits for task 1.
        self.assertEqual(lines[:2], [
            f"Task 1: got 813 bytes of poetry from 127.0.0.1:{slow_port}",
            f"Task 2: got 673 bytes of poetry from 127.0.0.1:{fast}"])
        self.assertRegex(lines[2], r"^Got 2 of 2 poems in \d+\.\d seconds\.$")
        self.assertEqual(len(lines), 3)

    def test_the_third_download_waits_for_a_token(self):
        (a, port_a), (b, port_b), (c, port_c) = (listener(self) for _ in range(3))
        client = subprocess.Popen([sys.executable, str(CODE / AT_MOST), "--at-most", "2"],
                                  cwd=ROOT, env=environment(), stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  bufsize=0, start_new_session=True)
        self.addCleanup(end, client)
        client.stdin.write(f"{port_a}\n{port_b}\n{port_c}\nnonsense\n".encode())
        connection_a, _ = a.accept()  # two downloads run at once
        self.addCleanup(connection_a.close)
        connection_b, _ = b.accept()
        self.addCleanup(connection_b.close)
        self.assertEqual(read_line(client.stdout),
                         b"Task 4: not a [host:]port address: 'nonsense'\n")
        # The client has read every line, and started what it may start:
        # nobody has connected to c, whose download waits for a token.
        self.assertEqual(select.select([c], [], [], 0)[0], [])
        connection_a.sendall(b"A poem.\n")
        connection_a.close()  # task 1 is over: its token goes to task 3
        self.assertEqual(read_line(client.stdout),
                         f"Task 1: got 8 bytes of poetry from 127.0.0.1:{port_a}\n".encode())
        connection_c, _ = c.accept()
        self.addCleanup(connection_c.close)
        for connection in (connection_b, connection_c):
            connection.sendall(b"Another.\n")
            connection.close()
        out, err = client.communicate(timeout=10)  # it closes stdin: the end of the input
        lines = out.decode().splitlines()
        self.assertEqual(sorted(lines[:2]), [
            f"Task 2: got 9 bytes of poetry from 127.0.0.1:{port_b}",
            f"Task 3: got 9 bytes of poetry from 127.0.0.1:{port_c}"])
        self.assertRegex(lines[2], r"^Got 3 of 4 poems in \d+\.\d seconds\.$")
        self.assertEqual((client.returncode, len(lines), err), (1, 3, b""))

    def test_impossible_at_most(self):
        for value in ("0", "-1", "two", "1.5"):
            self.assertEqual(run(AT_MOST, "--at-most", value)[0], 2, value)
