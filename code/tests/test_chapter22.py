"""Chapter 22: backpressure.  Servers that stream, a stalled client, a proxy.

The process tests serve a poem of 50 MB, written for each test in a
temporary directory, to a client that stops reading, and look at the
server from outside, through Linux's /proc: its memory (VmRSS, VmHWM in
/proc/PID/status), and how far each open copy of the poem has been read
(the file position in /proc/PID/fdinfo).  The bounds have wide margins:
a server that kept the poem in memory would be 50 MB over them.
"""

import io
import os
import re
import socket
from contextlib import redirect_stdout
from pathlib import Path

from twisted.internet.defer import Deferred
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure
from twisted.trial import unittest

from tests.programs import (
    CODE,
    Program,
    load_program,
    refused_port,
    reset,
    run,
    tcp_socket,
    wait_for_the_reactor,
    wait_until,
)

STREAM = "backpressure/streampoetry.py"
FILESENDER = "backpressure/filesender.py"
FAST = "twisted-server-1/fastpoetry.py"
PROXY = "backpressure/poetry-proxy.py"
STALLED = "backpressure/stalled-client.py"
MEMORY = "backpressure/memory.py"
PULL = "solutions/ch22-pull-producer/streampoetry-pull.py"
RATE = "solutions/ch22-rate-limit/streampoetry-rate.py"

MB = 1024 * 1024
BIG = 50 * MB
LINE = b"Tyger Tyger, burning bright,\n"
SMALL = (CODE / "poetry" / "science.txt").read_bytes()


def big_poem(test) -> Path:
    """A poem of 50 MB in a temporary directory of the test's own."""
    folder = Path(test.mktemp()).resolve()
    folder.mkdir()
    path = folder / "big.txt"
    with path.open("wb") as file:
        file.write((LINE * (BIG // len(LINE) + 1))[:BIG])
    return path


def start(test, program: str, *args: str) -> tuple[Program, int]:
    server = Program(program, *args)
    test.addCleanup(server.end)
    port = server.port()
    wait_for_the_reactor(server)
    return server, port


def memory(pid: int, name: str) -> float:
    """VmRSS (now) or VmHWM (at most, so far) of a process, in MB."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(rf"^{name}:\s+(\d+) kB", status, re.M).group(1)) / 1024


def positions(pid: int, path: Path) -> list[int]:
    """How far the process has read each file it has open at ``path``."""
    found = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            if os.readlink(fd) == str(path):
                info = Path(f"/proc/{pid}/fdinfo/{fd.name}").read_text()
                found.append(int(re.search(r"^pos:\s+(\d+)", info, re.M).group(1)))
        except OSError:  # closed as we looked
            continue
    return found


def stall(port: int, num_bytes: int = 100_000) -> socket.socket:
    """Connect, read the first bytes of the poem, then read nothing more."""
    sock = socket.create_connection(("127.0.0.1", port), 10)
    received = 0
    while received < num_bytes:
        data = sock.recv(65536)
        assert data, "the server closed the connection"
        received += len(data)
    return sock


def stalled(sock: socket.socket, pid: int, path: Path) -> bool:
    """Have bytes piled up, unread, in the socket of a client that reads no more?"""
    ours, theirs = sock.getsockname()[1], sock.getpeername()[1]
    return tcp_socket(ours, theirs)[2] > 0 and any(positions(pid, path))


def fetch(port: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port), 10) as sock:
        chunks = []
        while data := sock.recv(1 << 20):
            chunks.append(data)
    return b"".join(chunks)


class FakeConsumer:
    """A consumer that asks to be paused after every ``limit`` bytes."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.written: list[bytes] = []
        self.producer = None
        self.streaming = None
        self.buffered = 0

    def registerProducer(self, producer, streaming):
        self.producer, self.streaming = producer, streaming

    def unregisterProducer(self):
        self.producer = None

    def write(self, data):
        self.written.append(data)
        self.buffered += len(data)
        if self.buffered >= self.limit:
            self.producer.pauseProducing()

    def drain(self):
        """The buffer has been written: resume the producer, as a transport does."""
        self.buffered = 0
        self.producer.resumeProducing()


class PausingTransport(StringTransport):
    """A transport whose buffer is full after every write."""

    def write(self, data):
        super().write(data)
        if self.producer is not None and self.streaming:
            self.producer.pauseProducing()


class PoemProducerTests(unittest.TestCase):
    """streampoetry.py's producer, with a consumer played by the test."""

    def setUp(self):
        self.module = load_program(STREAM)
        self.path = Path(self.mktemp()).resolve()
        self.path.write_bytes(b"x" * (5 * self.module.CHUNK_SIZE + 10))
        self.file = self.path.open("rb")
        self.addCleanup(self.file.close)

    def test_writes_until_paused_and_goes_on_when_resumed(self):
        consumer = FakeConsumer(limit=2 * self.module.CHUNK_SIZE)
        producer = self.module.PoemProducer()
        done = producer.beginFileTransfer(self.file, consumer)
        self.assertIs(consumer.producer, producer)
        self.assertTrue(consumer.streaming)
        self.assertEqual(len(consumer.written), 2)  # paused after the second chunk
        self.assertNoResult(done)
        consumer.drain()
        self.assertEqual(len(consumer.written), 4)
        consumer.drain()
        self.assertEqual(b"".join(consumer.written), self.path.read_bytes())
        self.assertIsNone(consumer.producer)  # unregistered at the end of the file
        self.assertIsNone(self.successResultOf(done))

    def test_stop_fails_the_deferred(self):
        consumer = FakeConsumer(limit=self.module.CHUNK_SIZE)
        producer = self.module.PoemProducer()
        done = producer.beginFileTransfer(self.file, consumer)
        producer.stopProducing()
        self.failureResultOf(done, ConnectionError)
        self.assertEqual(len(consumer.written), 1)

    def test_the_protocol_closes_the_file_when_stopped(self):
        factory = self.module.PoetryFactory(self.path)
        protocol = factory.buildProtocol(None)
        transport = PausingTransport()
        self.patch(self.module.reactor, "running", True)
        with redirect_stdout(io.StringIO()):
            protocol.makeConnection(transport)
        self.assertIsNotNone(transport.producer)
        self.assertTrue(transport.streaming)
        with redirect_stdout(io.StringIO()) as output:
            transport.producer.stopProducing()  # what a transport does when lost
        self.assertEqual(output.getvalue(), "Connection 1: stopped after 65536 bytes;"
                                            " the file is closed.\n")
        self.assertTrue(protocol.file.closed)

    def test_the_protocol_hangs_up_at_the_end_of_the_file(self):
        factory = self.module.PoetryFactory(self.path)
        protocol = factory.buildProtocol(None)
        transport = StringTransport()
        with redirect_stdout(io.StringIO()):
            protocol.makeConnection(transport)  # StringTransport never pauses anybody
        self.assertEqual(transport.value(), self.path.read_bytes())
        self.assertIsNone(transport.producer)
        self.assertTrue(transport.disconnecting)
        self.assertTrue(protocol.file.closed)


class StreamingServerTests(unittest.TestCase):
    """A stalled client costs the streaming server nothing, and others are served."""

    timeout = 60
    program = STREAM

    def test_flat_memory_with_a_stalled_client(self):
        poem = big_poem(self)
        server, port = start(self, self.program, str(poem))
        pid = server.popen.pid
        idle = memory(pid, "VmRSS")
        stuck = stall(port)
        self.addCleanup(stuck.close)
        wait_until(lambda: stalled(stuck, pid, poem), "the client to stall")
        self.assertEqual(server.readline(), "Connection 1 from 127.0.0.1.\n")
        self.assertEqual(len(fetch(port)), BIG)  # served in full meanwhile
        self.assertEqual(server.readline(), "Connection 2 from 127.0.0.1.\n")
        self.assertEqual(server.readline(), f"Connection 2: sent {BIG} bytes.\n")
        [read] = positions(pid, poem)  # the stalled client's copy, still open
        self.assertLess(read, 25 * MB)  # paused: not read to the end
        self.assertLess(memory(pid, "VmHWM") - idle, 20)  # MB; the poem is 50
        reset(stuck)
        stopped = server.readline()
        self.assertRegex(stopped, r"^Connection 1: stopped after (\d+) bytes;"
                                  r" the file is closed\.\n$")
        self.assertEqual(int(re.search(r"\d+ bytes", stopped)[0].split()[0]), read)
        self.assertEqual(positions(pid, poem), [])  # no file left open
        status, out, err = server.stop()
        self.assertEqual((status, out, err), (0, "", ""))

    def test_ctrl_c_with_a_stalled_client_is_quiet(self):
        poem = big_poem(self)
        server, port = start(self, self.program, str(poem))
        stuck = stall(port)
        self.addCleanup(stuck.close)
        wait_until(lambda: stalled(stuck, server.popen.pid, poem), "the client to stall")
        self.assertEqual(server.readline(), "Connection 1 from 127.0.0.1.\n")
        self.assertEqual(server.stop(), (0, "", ""))

    def test_serves_a_small_poem(self):
        server, port = start(self, self.program, "code/poetry/science.txt")
        self.assertEqual(fetch(port), SMALL)
        self.assertEqual(server.readline(), "Connection 1 from 127.0.0.1.\n")
        self.assertEqual(server.readline(), f"Connection 1: sent {len(SMALL)} bytes.\n")

    def test_a_missing_poem_is_a_clear_error(self):
        status, out, err = run(self.program, "code/poetry/missing.txt")
        self.assertEqual(status, 1)
        self.assertEqual(err, "Cannot read the poem: [Errno 2] No such file or"
                              " directory: 'code/poetry/missing.txt'\n")

    def test_a_poem_that_goes_away_is_logged_and_the_server_goes_on(self):
        path = Path(self.mktemp()).resolve()
        path.write_bytes(SMALL)
        server, port = start(self, self.program, str(path))
        path.unlink()
        self.assertEqual(fetch(port), b"")
        self.assertEqual(server.readline(), "Connection 1 from 127.0.0.1.\n")
        self.assertEqual(server.readline(), "Connection 1: cannot read the poem:"
                                            " No such file or directory\n")
        path.write_bytes(SMALL)
        self.assertEqual(fetch(port), SMALL)


class FileSenderServerTests(StreamingServerTests):
    """The same, with Twisted's FileSender as the producer."""

    program = FILESENDER


class PullSolutionServerTests(StreamingServerTests):
    """Exercise 1's solution: the same, with a pull producer of its own."""

    program = PULL


class FastServerTests(unittest.TestCase):
    """Chapter 10's fast server, under the same stalled client, for comparison."""

    timeout = 60

    def test_holds_the_poem_in_memory(self):
        poem = big_poem(self)
        server, port = start(self, FAST, str(poem))
        pid = server.popen.pid
        stuck = stall(port)
        self.addCleanup(stuck.close)
        wait_until(lambda: tcp_socket(*(lambda s: (s.getsockname()[1],
                                                   s.getpeername()[1]))(stuck))[2] > 0,
                   "the client to stall")
        self.assertEqual(len(fetch(port)), BIG)
        self.assertGreater(memory(pid, "VmRSS"), 50)  # MB: the poem, and Python


class StalledClientTests(unittest.TestCase):
    timeout = 60

    def test_stalls_and_ctrl_c_hangs_up(self):
        poem = big_poem(self)
        server, port = start(self, STREAM, str(poem))
        client = Program(STALLED, "--num-bytes", "100000", str(port))
        self.addCleanup(client.end)
        self.assertEqual(client.readline(), f"Got the first 100000 bytes from"
                         f" 127.0.0.1:{port}; reading no more (Ctrl-C to hang up).\n")
        wait_for_the_reactor(client)
        client.interrupt()
        self.assertEqual(client.finish(), (130, "", ""))
        self.assertEqual(server.readline(), "Connection 1 from 127.0.0.1.\n")
        self.assertRegex(server.readline(), r"^Connection 1: stopped after \d+ bytes")
        self.assertEqual(positions(server.popen.pid, poem), [])
        self.assertEqual(server.stop(), (0, "", ""))  # and nothing more in the log

    def test_kill_hangs_up_with_a_reset_too(self):
        poem = big_poem(self)
        server, port = start(self, STREAM, str(poem))
        client = Program(STALLED, str(port))
        self.addCleanup(client.end)
        self.assertIn("reading no more", client.readline())
        client.popen.terminate()
        self.assertEqual(client.finish(), (130, "", ""))
        self.assertEqual(server.readline(), "Connection 1 from 127.0.0.1.\n")
        self.assertRegex(server.readline(), r"^Connection 1: stopped after \d+ bytes")
        self.assertEqual(server.stop(), (0, "", ""))  # and nothing more in the log

    def test_a_poem_too_short_to_stall(self):
        server, port = start(self, STREAM, "code/poetry/science.txt")
        status, out, err = run(STALLED, str(port))
        self.assertEqual((status, out), (1, ""))
        self.assertEqual(err, f"127.0.0.1:{port}: the server closed the connection"
                              f" after {len(SMALL)} bytes: too soon to stall\n")

    def test_a_server_that_is_down(self):
        port = refused_port(self)
        self.assertEqual(run(STALLED, str(port)), (
            1, "", f"127.0.0.1:{port}: cannot connect: Connection refused\n"))


class MemoryProgramTests(unittest.TestCase):
    def test_reports_a_server(self):
        server, port = start(self, STREAM, "code/poetry/science.txt")
        status, out, err = run(MEMORY, str(port))
        self.assertEqual((status, err), (0, ""))
        self.assertRegex(out, rf"^127\.0\.0\.1:{port}: \d+ MB in memory now,"
                              r" \d+ MB at most\.\n$")

    def test_nothing_listens(self):
        port = refused_port(self)
        self.assertEqual(run(MEMORY, str(port)),
                         (1, "", f"Nothing of ours listens on port {port}.\n"))


class ProxyTests(unittest.TestCase):
    """The streaming proxy passes the stalled client's backpressure upstream."""

    timeout = 60

    def test_flat_memory_and_the_upstream_server_pauses(self):
        poem = big_poem(self)
        upstream, upstream_port = start(self, STREAM, str(poem))
        proxy, port = start(self, PROXY, str(upstream_port))
        pid, upstream_pid = proxy.popen.pid, upstream.popen.pid
        idle = memory(pid, "VmRSS")
        stuck = stall(port)
        self.addCleanup(stuck.close)
        wait_until(lambda: stalled(stuck, upstream_pid, poem), "the client to stall")
        self.assertEqual(len(fetch(port)), BIG)
        self.assertEqual(proxy.readline(), "Request 1 from 127.0.0.1.\n")
        self.assertEqual(proxy.readline(), "Request 2 from 127.0.0.1.\n")
        self.assertEqual(proxy.readline(), f"Request 2: passed on {BIG} bytes.\n")
        [read] = positions(upstream_pid, poem)  # request 1's download, paused
        self.assertLess(read, 25 * MB)
        self.assertLess(memory(pid, "VmHWM") - idle, 20)  # MB; the poem is 50
        reset(stuck)
        self.assertRegex(proxy.readline(), r"^Request 1: the client hung up after \d+"
                                           r" bytes had come; hanging up upstream\.\n$")
        for line in ("Connection 1 from", "Connection 2 from", "Connection 2: sent",
                     "Connection 1: stopped after"):
            self.assertTrue(upstream.readline().startswith(line), line)
        self.assertEqual(positions(upstream_pid, poem), [])
        self.assertEqual(proxy.stop(), (0, "", ""))
        self.assertEqual(upstream.stop(), (0, "", ""))  # and nothing more in its log

    def test_ctrl_c_with_a_stalled_client_is_quiet(self):
        poem = big_poem(self)
        upstream, upstream_port = start(self, STREAM, str(poem))
        proxy, port = start(self, PROXY, str(upstream_port))
        stuck = stall(port)
        self.addCleanup(stuck.close)
        wait_until(lambda: stalled(stuck, upstream.popen.pid, poem), "the client to stall")
        self.assertEqual(proxy.readline(), "Request 1 from 127.0.0.1.\n")
        self.assertEqual(proxy.stop(), (0, "", ""))
        self.assertEqual(upstream.readline(), "Connection 1 from 127.0.0.1.\n")
        self.assertRegex(upstream.readline(), r"^Connection 1: stopped after \d+ bytes")

    def test_streams_a_small_poem(self):
        _, upstream_port = start(self, STREAM, "code/poetry/science.txt")
        proxy, port = start(self, PROXY, str(upstream_port))
        self.assertEqual(fetch(port), SMALL)
        self.assertEqual(proxy.readline(), "Request 1 from 127.0.0.1.\n")
        self.assertEqual(proxy.readline(), f"Request 1: passed on {len(SMALL)} bytes.\n")

    def test_an_upstream_server_that_is_down(self):
        upstream_port = refused_port(self)
        proxy, port = start(self, PROXY, str(upstream_port))
        self.assertEqual(fetch(port), b"")
        self.assertEqual(proxy.readline(), "Request 1 from 127.0.0.1.\n")
        self.assertEqual(proxy.readline(), f"Request 1: no poem from 127.0.0.1:"
                                           f"{upstream_port}: Connection refused\n")
        self.assertEqual(proxy.stop(), (0, "", ""))

    def test_an_upstream_server_that_breaks_off_is_a_reset_for_the_client(self):
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.settimeout(10)
        self.addCleanup(listener.close)
        proxy, port = start(self, PROXY, str(listener.getsockname()[1]))
        client = socket.create_connection(("127.0.0.1", port), 10)
        self.addCleanup(client.close)
        upstream, _ = listener.accept()
        upstream.sendall(b"Tyger Tyger")
        self.assertEqual(client.recv(100), b"Tyger Tyger")
        reset(upstream)
        with self.assertRaises(ConnectionResetError):
            while client.recv(100):
                pass
        self.assertEqual(proxy.readline(), "Request 1 from 127.0.0.1.\n")
        self.assertEqual(proxy.readline(), "Request 1: no poem from 127.0.0.1:"
                         f"{listener.getsockname()[1]}: Connection to the other side"
                         " was lost in a non-clean fashion.\n")

    def test_a_client_that_hangs_up_while_connecting_stops_the_attempt(self):
        module = load_program(PROXY)
        self.patch(module.reactor, "running", True)
        connectors = []

        class Connector:
            stopped = False

            def stopConnecting(self):
                self.stopped = True

        def connectTCP(host, port, factory, timeout):
            connectors.append(Connector())
            return connectors[-1]

        self.patch(module.reactor, "connectTCP", connectTCP)
        protocol = module.PoetryProxyFactory("127.0.0.1", 1).buildProtocol(None)
        with redirect_stdout(io.StringIO()):
            protocol.makeConnection(StringTransport())
            protocol.connectionLost(Failure(ConnectionError()))
        self.assertTrue(connectors[0].stopped)


class RateLimitTests(unittest.TestCase):
    """Exercise 2's solution: a producer that sends at most --rate bytes a second."""

    timeout = 30

    def test_the_rate_is_kept(self):
        module = load_program(RATE)
        clock = Clock()
        path = Path(self.mktemp()).resolve()
        path.write_bytes(b"x" * 100_000)
        transport = StringTransport()
        with path.open("rb") as file:
            producer = module.RateLimitedProducer(10_000, clock)
            done: Deferred = producer.beginFileTransfer(file, transport)
            self.assertEqual(len(transport.value()), 10_000)
            clock.advance(1)
            self.assertEqual(len(transport.value()), 20_000)
            producer.pauseProducing()
            clock.advance(5)
            self.assertEqual(len(transport.value()), 20_000)  # paused: nothing more
            producer.resumeProducing()  # a second has passed: at once
            clock.advance(0)
            self.assertEqual(len(transport.value()), 30_000)
            clock.pump([1] * 10)  # ten seconds, one at a time
            self.assertEqual(transport.value(), path.read_bytes())
            self.assertIsNone(self.successResultOf(done))
            self.assertEqual(clock.getDelayedCalls(), [])

    def test_stop_cancels_the_timer(self):
        module = load_program(RATE)
        clock = Clock()
        path = Path(self.mktemp()).resolve()
        path.write_bytes(b"x" * 100_000)
        with path.open("rb") as file:
            producer = module.RateLimitedProducer(10_000, clock)
            done = producer.beginFileTransfer(file, StringTransport())
            producer.stopProducing()
            self.failureResultOf(done, ConnectionError)
            self.assertEqual(clock.getDelayedCalls(), [])

    def test_the_program(self):
        server, port = start(self, RATE, "--rate", "2000", "code/poetry/science.txt")
        self.assertEqual(fetch(port), SMALL)  # 673 bytes at 2000 a second
        self.assertEqual(server.readline(), "Connection 1 from 127.0.0.1.\n")
        self.assertEqual(server.readline(), f"Connection 1: sent {len(SMALL)} bytes.\n")
