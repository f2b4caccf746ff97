"""Chapter 19: the Twisted slow server and the load generator.

The measurements themselves run only on `make bench`, never in `make test`.
"""

import csv
import io
import socket
import tempfile
from contextlib import redirect_stdout
from pathlib import Path

from twisted.internet import reactor
from twisted.internet.address import IPv4Address
from twisted.internet.error import ConnectionDone, ConnectionLost
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure
from twisted.trial import unittest

from tests.programs import POEMS, Program, listener, load_program, run

SERVER = "bench/twisted-slowpoetry.py"
LOAD = "bench/load.py"
BENCH = "bench/run.py"
POEM = POEMS["science"]


def quietly(function, *args):
    """Call function(*args) and return what it printed."""
    output = io.StringIO()
    with redirect_stdout(output):
        function(*args)
    return output.getvalue()


class SlowPoetryProtocolTests(unittest.TestCase):
    """The protocol with a StringTransport and a Clock: no sockets, no waiting."""

    def setUp(self):
        # Play a running reactor: the server logs nothing about a connection
        # that ends while the reactor is not running (Ctrl-C), and trial runs
        # a synchronous test with its reactor stopped.
        self.patch(reactor, "running", True)
        self.clock = Clock()
        self.factory = load_program(SERVER).SlowPoetryFactory(POEM, 200, 0.5, self.clock)

    def connect(self):
        address = IPv4Address("TCP", "127.0.0.1", 50000)
        protocol = self.factory.buildProtocol(address)
        transport = StringTransport(peerAddress=address)
        quietly(protocol.makeConnection, transport)
        return protocol, transport

    def test_sends_the_poem_in_chunks_then_closes(self):
        protocol, transport = self.connect()
        self.assertEqual(transport.value(), POEM[:200])  # the first chunk at once
        self.clock.advance(0.49)
        self.assertEqual(transport.value(), POEM[:200])  # nothing before the pause is over
        self.clock.advance(0.01)
        self.assertEqual(transport.value(), POEM[:400])
        self.clock.pump([0.5, 0.5])
        self.assertEqual(transport.value(), POEM)  # 673 bytes: four chunks
        self.assertFalse(transport.disconnecting)  # a pause after the last chunk too
        self.clock.advance(0.5)
        self.assertTrue(transport.disconnecting)
        self.assertEqual(self.clock.getDelayedCalls(), [])
        log = quietly(protocol.connectionLost, Failure(ConnectionDone()))
        self.assertEqual(log, "Connection 1: sent 673 bytes.\n")

    def test_serves_many_connections_at_once(self):
        first, first_transport = self.connect()
        self.clock.advance(0.25)
        second, second_transport = self.connect()
        self.assertEqual((first.number, second.number), (1, 2))
        self.clock.pump([0.25] * 7)  # 2 seconds after the first connected
        self.assertTrue(first_transport.disconnecting)
        self.assertFalse(second_transport.disconnecting)
        self.clock.advance(0.25)
        for transport in (first_transport, second_transport):
            self.assertEqual(transport.value(), POEM)
            self.assertTrue(transport.disconnecting)

    def test_a_client_that_leaves_early_cancels_its_next_chunk(self):
        protocol, transport = self.connect()
        self.clock.advance(0.5)
        log = quietly(protocol.connectionLost, Failure(ConnectionLost()))
        self.assertEqual(log, "Connection 1: closed after 400 of 673 bytes.\n")
        self.assertEqual(self.clock.getDelayedCalls(), [])
        other, other_transport = self.connect()  # and the server goes on serving
        self.clock.pump([0.5] * 4)
        self.assertEqual(other_transport.value(), POEM)

    def test_ctrl_c_logs_nothing_and_leaves_no_timer(self):
        protocol, transport = self.connect()
        self.patch(reactor, "running", False)  # the reactor closes every connection
        self.assertEqual(quietly(protocol.connectionLost, Failure(ConnectionLost())), "")
        self.assertEqual(self.clock.getDelayedCalls(), [])


def fetch(port, limit=None):
    """Read a poem from the server as nc does; with limit, hang up after that many bytes."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        received = b""
        while data := sock.recv(4096):
            received += data
            if limit is not None and len(received) >= limit:
                break
    return received


class ProgramsTests(unittest.TestCase):
    """The server and the load generator as processes, on real sockets."""

    def start_server(self):
        server = Program(SERVER, "--delay", "0.02", "--num-bytes", "200",
                         "code/poetry/science.txt")
        self.addCleanup(server.end)
        return server, server.port()

    def test_server_keeps_serving_and_stops_on_ctrl_c(self):
        server, port = self.start_server()
        self.assertEqual(fetch(port, limit=1), POEM[:200])
        self.assertEqual(fetch(port), POEM)
        status, out, err = server.stop()
        self.assertEqual((status, err), (0, ""))
        self.assertIn("Connection 2: sent 673 bytes.", out)
        self.assertRegex(out, r"Connection 1: closed after \d+ of 673 bytes\.")

    def test_load_reports_every_poem_complete(self):
        server, port = self.start_server()
        with tempfile.TemporaryDirectory() as folder:
            times = Path(folder) / "times.csv"
            status, out, err = run(LOAD, "--clients", "20", "--poem", "code/poetry/science.txt",
                                   "--times", str(times), str(port))
            self.assertEqual((status, err), (0, ""))
            with times.open() as file:
                rows = list(csv.DictReader(file))
        self.assertIn("20 of 20 poems complete and equal to code/poetry/science.txt", out)
        self.assertIn("Connections open at once: at most 20.", out)
        self.assertNotIn("Failed", out)
        self.assertEqual([row["outcome"] for row in rows], ["complete"] * 20)

    def test_load_gives_up_at_its_time_limit(self):
        _, port = listener(self)  # connections are made, and nobody ever says a word
        status, out, err = run(LOAD, "--clients", "3", "--time-limit", "0.3",
                               "--poem", "code/poetry/science.txt", str(port))
        self.assertEqual(status, 1)
        self.assertIn("0 of 3 poems complete", out)
        self.assertIn("Failed: 3 clients: connected, not a byte yet at the time limit.", out)
