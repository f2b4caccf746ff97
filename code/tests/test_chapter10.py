"""Chapter 10: the fast poetry server, the one with an allow-list, and solutions."""

import io
import socket
import struct
import sys
from contextlib import redirect_stdout
from pathlib import Path

from twisted.internet import reactor, tcp
from twisted.internet.address import IPv4Address
from twisted.internet.defer import Deferred
from twisted.internet.error import ConnectionDone, ConnectionLost
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure
from twisted.trial import unittest

from tests.programs import CODE, Program, load_program, run

SERVER = "twisted-server-1/fastpoetry.py"
ALLOWLIST = "twisted-server-1/fastpoetry-allowlist.py"
ANTHOLOGY = "solutions/ch10-anthology/anthology.py"
LIMIT = "solutions/ch10-max-connections/fastpoetry-limit.py"
POEMS = {name: (CODE / "poetry" / f"{name}.txt").read_bytes()
         for name in ("science", "tyger", "automne")}
POEM = POEMS["science"]


def client(host: str = "127.0.0.1", port: int = 0):
    """An IPv4Address for a client, as the listening port gives it to buildProtocol."""
    return IPv4Address("TCP", host, port or 50000)


def connect(factory, host: str = "127.0.0.1"):
    """Connect a protocol from the factory to a StringTransport: no socket, no reactor.

    This is what the listening port does for each connection it accepts:
    buildProtocol(), a transport, makeConnection().  Returns the protocol,
    its transport, and what it printed.
    """
    address = client(host)
    protocol = factory.buildProtocol(address)
    transport = StringTransport(peerAddress=address)
    output = io.StringIO()
    with redirect_stdout(output):
        protocol.makeConnection(transport)
    return protocol, transport, output.getvalue()


def lose(protocol, reason: Exception | None = None):
    """Tell the protocol its connection is closed; return what it printed."""
    output = io.StringIO()
    with redirect_stdout(output):
        protocol.connectionLost(Failure(reason or ConnectionDone()))
    return output.getvalue()


def serving(test) -> None:
    """Play a running reactor for one test, as the reactor is while a server serves.

    Trial runs a synchronous test with its reactor stopped, and a server
    logs nothing about a connection that ends while the reactor is not
    running: it takes that for Ctrl-C, the reactor shutting down.
    """
    test.patch(reactor, "running", True)


def fetch(port: int, source: str | None = None, timeout: float = 10) -> bytes:
    """Fetch a poem as nc would: read until the server closes the connection."""
    source_address = (source, 0) if source else None
    with socket.create_connection(("127.0.0.1", port), timeout,
                                  source_address=source_address) as sock:
        received = b""
        while data := sock.recv(65536):
            received += data
    return received


def start(test, program: str, *args: str) -> tuple[Program, int]:
    server = Program(program, *args)
    test.addCleanup(server.end)
    return server, server.port()


class PoetryProtocolTests(unittest.TestCase):
    """The protocol and the factory, with a StringTransport instead of a socket."""

    def setUp(self):
        serving(self)
        self.module = load_program(SERVER)
        self.factory = self.module.PoetryFactory(POEM)

    def test_sends_the_poem_and_closes(self):
        protocol, transport, output = connect(self.factory)
        self.assertEqual(transport.value(), POEM)
        self.assertTrue(transport.disconnecting)
        self.assertEqual(output, "Connection 1 from 127.0.0.1.\n")
        self.assertEqual(lose(protocol), "Connection 1: sent 673 bytes.\n")

    def test_one_protocol_and_one_transport_per_connection(self):
        first, first_transport, _ = connect(self.factory)
        second, second_transport, output = connect(self.factory, "127.0.0.2")
        self.assertIsNot(first, second)
        self.assertIs(first.factory, self.factory)
        self.assertIs(second.factory, self.factory)
        self.assertEqual((first.number, second.number), (1, 2))
        self.assertEqual(self.factory.connections, 2)
        self.assertEqual(first_transport.value(), POEM)
        self.assertEqual(second_transport.value(), POEM)
        self.assertEqual(output, "Connection 2 from 127.0.0.2.\n")

    def test_a_lost_connection_is_reported(self):
        protocol, _, _ = connect(self.factory)
        self.assertEqual(
            lose(protocol, ConnectionLost()),
            "Connection 1: lost: Connection to the other side was lost in a non-clean fashion.\n")

    def test_nothing_is_logged_when_the_reactor_shuts_down(self):
        """Ctrl-C: the reactor closes every connection, and no client has hung up."""
        protocol, _, _ = connect(self.factory)
        self.patch(reactor, "running", False)  # as it is while the reactor shuts down
        self.assertEqual(lose(protocol, ConnectionLost()), "")

    def test_data_from_the_client_is_ignored(self):
        protocol, transport, _ = connect(self.factory)
        protocol.dataReceived(b"GET / HTTP/1.1\r\n\r\n\x00\xff")
        self.assertEqual(transport.value(), POEM)


class ResetTests(unittest.TestCase):
    """A client that stalls, then resets the connection, on the real reactor."""

    timeout = 10

    def test_the_reactor_reports_the_reset_and_no_send_fails(self):
        failed_sends: list[Exception] = []
        write_some_data = tcp.Connection.writeSomeData

        def watched_write(transport, data):
            result = write_some_data(transport, data)
            if isinstance(result, Exception):  # how a send() that failed is reported
                failed_sends.append(result)
            return result

        self.patch(tcp.Connection, "writeSomeData", watched_write)
        client = socket.socket()
        self.addCleanup(client.close)
        lost: Deferred[Exception] = Deferred()

        class Protocol(load_program(SERVER).PoetryProtocol):
            def connectionMade(self):
                super().connectionMade()
                # Close with bytes unread and SO_LINGER 0: the kernel sends a reset.
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                  struct.pack("ii", 1, 0))
                reactor.callLater(0, client.close)

            def connectionLost(self, reason):
                super().connectionLost(reason)
                lost.callback(reason.value)  # the exception: a Failure would errback

        factory = load_program(SERVER).PoetryFactory(b"x" * 8_000_000)
        factory.protocol = Protocol
        log = io.StringIO()
        self.patch(sys, "stdout", log)
        port = reactor.listenTCP(0, factory, interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        client.connect(("127.0.0.1", port.getHost().port))

        def check(why):
            self.assertIsInstance(why, ConnectionLost)
            self.assertEqual(failed_sends, [])
            self.assertEqual(log.getvalue().splitlines()[-1], "Connection 1: lost: "
                             "Connection to the other side was lost in a non-clean fashion.")

        return lost.addCallback(check)


class AllowListTests(unittest.TestCase):
    def setUp(self):
        self.module = load_program(ALLOWLIST)
        self.factory = self.module.PoetryFactory(POEM, {"127.0.0.2", "127.0.0.3"})

    def test_refuses_an_address_not_on_the_list(self):
        output = io.StringIO()
        with redirect_stdout(output):
            protocol = self.factory.buildProtocol(client("127.0.0.1"))
        self.assertIsNone(protocol)
        self.assertEqual(output.getvalue(), "Refused 127.0.0.1.\n")
        self.assertEqual(self.factory.connections, 0)

    def test_serves_an_address_on_the_list(self):
        protocol, transport, output = connect(self.factory, "127.0.0.3")
        self.assertIsInstance(protocol, self.module.PoetryProtocol)
        self.assertIs(protocol.factory, self.factory)
        self.assertEqual(transport.value(), POEM)
        self.assertEqual(output, "Connection 1 from 127.0.0.3.\n")


class ServerProcessTests(unittest.TestCase):
    """The program itself, as a process, against real sockets."""

    def test_serves_every_client_and_logs_each_connection(self):
        server, port = start(self, SERVER, "code/poetry/science.txt")
        self.assertEqual(fetch(port), POEM)
        self.assertEqual(fetch(port), POEM)
        status, log, err = server.stop()
        self.assertEqual((status, err), (0, ""))
        self.assertEqual(log.splitlines(), [
            "Connection 1 from 127.0.0.1.",
            "Connection 1: sent 673 bytes.",
            "Connection 2 from 127.0.0.1.",
            "Connection 2: sent 673 bytes.",
        ])

    def test_keeps_serving_after_garbage_and_early_hang_ups(self):
        server, port = start(self, SERVER, "code/poetry/science.txt")
        for _ in range(20):
            with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
                sock.sendall(b"Is this the way to Amarillo?\n\x00\xff")
                # The server never reads this, and closing a socket with
                # unread bytes makes Linux reset the connection; but the
                # poem and the end of the stream are here before the reset.
                received = b""
                while data := sock.recv(4096):
                    received += data
            self.assertEqual(received, POEM)
        with socket.create_connection(("127.0.0.1", port)):
            pass  # connect, and hang up at once
        self.assertEqual(fetch(port), POEM)
        status, log, err = server.stop()
        self.assertEqual((status, err), (0, ""))
        # The listening port may accept several waiting clients in one go,
        # so their lines may interleave.
        self.assertEqual(sorted(log.splitlines()), sorted(
            line for n in range(1, 23)
            for line in (f"Connection {n} from 127.0.0.1.", f"Connection {n}: sent 673 bytes.")))

    def test_a_client_that_reads_nothing_does_not_hold_up_the_others(self):
        big = Path(self.mktemp()).resolve()
        big.write_bytes(b"".join(b"%d\n" % n for n in range(1, 1_000_001)))
        server, port = start(self, SERVER, str(big))
        stalled = socket.create_connection(("127.0.0.1", port))
        self.addCleanup(stalled.close)
        # The stalled client is connected and reads nothing; a second
        # client gets the whole poem (6,888,896 bytes) all the same.
        self.assertEqual(len(fetch(port, timeout=5)), big.stat().st_size)
        stalled.close()
        status, log, err = server.stop()
        self.assertEqual((status, err), (0, ""))
        lines = log.splitlines()
        self.assertEqual(lines[:3], [
            "Connection 1 from 127.0.0.1.",
            "Connection 2 from 127.0.0.1.",
            "Connection 2: sent 6888896 bytes.",
        ])
        self.assertTrue(lines[3].startswith("Connection 1: lost: "), lines[3:])

    def test_ctrl_c_stops_it_cleanly(self):
        server, port = start(self, SERVER, "code/poetry/science.txt")
        self.assertEqual(fetch(port), POEM)
        status, out, err = server.stop()
        self.assertEqual((status, err), (0, ""))
        self.assertNotIn("Traceback", out)

    def test_a_missing_poem_is_a_clear_error(self):
        for program, options in ((SERVER, []), (ALLOWLIST, ["--allow", "127.0.0.1"])):
            status, out, err = run(program, *options, "code/poetry/no-such-poem.txt")
            self.assertEqual((status, out), (1, ""))
            self.assertEqual(err.splitlines(), [
                "Cannot read the poem: [Errno 2] No such file or directory:"
                " 'code/poetry/no-such-poem.txt'"])

    def test_a_port_in_use_is_a_clear_error(self):
        taken = socket.socket()
        self.addCleanup(taken.close)
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        status, out, err = run(SERVER, "--port", str(port), "code/poetry/science.txt")
        self.assertEqual(status, 1)
        # (In development mode, Python may also report the spare file
        # descriptor that Twisted's listenTCP reserves and never closes.)
        self.assertEqual(err.splitlines()[0],
                         f"Cannot listen on 127.0.0.1:{port}: Address already in use")

    def test_help(self):
        for program in (SERVER, ALLOWLIST):
            status, out, err = run(program, "--help")
            self.assertEqual((status, err), (0, ""))
            self.assertIn("--iface IFACE", out)
        self.assertIn("--allow ADDRESS", run(ALLOWLIST, "--help")[1])


class AllowListProcessTests(unittest.TestCase):
    def test_refused_clients_are_accepted_then_closed(self):
        server, port = start(self, ALLOWLIST, "--allow", "127.0.0.2",
                             "code/poetry/science.txt")
        self.assertEqual(fetch(port, source="127.0.0.2"), POEM)
        self.assertEqual(fetch(port), b"")  # connected, then closed: no bytes
        self.assertEqual(fetch(port, source="127.0.0.2"), POEM)
        status, log, err = server.stop()
        self.assertEqual((status, err), (0, ""))
        self.assertEqual(log.splitlines(), [
            "Connection 1 from 127.0.0.2.",
            "Connection 1: sent 673 bytes.",
            "Refused 127.0.0.1.",
            "Connection 2 from 127.0.0.2.",
            "Connection 2: sent 673 bytes.",
        ])

    def test_the_allow_list_is_required(self):
        status, out, err = run(ALLOWLIST, "code/poetry/science.txt")
        self.assertEqual(status, 2)
        self.assertIn("the following arguments are required: --allow", err)


class AnthologyTests(unittest.TestCase):
    """Exercise 1: each connection gets the next poem."""

    def setUp(self):
        serving(self)

    def test_poems_in_turn_then_round_again(self):
        module = load_program(ANTHOLOGY)
        factory = module.AnthologyFactory([POEMS["science"], POEMS["tyger"]])
        got = [connect(factory)[1].value() for _ in range(3)]
        self.assertEqual(got, [POEMS["science"], POEMS["tyger"], POEMS["science"]])

    def test_each_protocol_remembers_its_own_poem(self):
        module = load_program(ANTHOLOGY)
        factory = module.AnthologyFactory([POEMS["science"], POEMS["automne"]])
        first, _, _ = connect(factory)
        second, _, _ = connect(factory)
        self.assertEqual(lose(second), "Connection 2: sent 341 bytes.\n")
        self.assertEqual(lose(first), "Connection 1: sent 673 bytes.\n")

    def test_the_program(self):
        server, port = start(self, ANTHOLOGY, "code/poetry/science.txt",
                             "code/poetry/tyger.txt")
        self.assertEqual([fetch(port) for _ in range(3)],
                         [POEMS["science"], POEMS["tyger"], POEMS["science"]])
        status, log, err = server.stop()
        self.assertEqual((status, err), (0, ""))
        self.assertIn("Connection 3: sent 673 bytes.", log)

    def test_a_missing_poem_is_a_clear_error(self):
        status, out, err = run(ANTHOLOGY, "code/poetry/science.txt",
                               "code/poetry/no-such-poem.txt")
        self.assertEqual(status, 1)
        self.assertIn("Cannot read the poem:", err)


class MaxConnectionsTests(unittest.TestCase):
    """Exercise 2: at most --max-connections open at once."""

    def setUp(self):
        serving(self)
        self.module = load_program(LIMIT)
        self.factory = self.module.PoetryFactory(POEM, max_connections=2)

    def test_refuses_a_client_while_full_and_serves_once_one_closes(self):
        first, _, _ = connect(self.factory)
        connect(self.factory)
        output = io.StringIO()
        with redirect_stdout(output):
            self.assertIsNone(self.factory.buildProtocol(client()))
        self.assertEqual(output.getvalue(), "Refused 127.0.0.1: 2 connections open.\n")
        lose(first)
        third, transport, _ = connect(self.factory)
        self.assertEqual(transport.value(), POEM)
        self.assertEqual(third.number, 3)

    def test_a_connection_closed_at_shutdown_is_still_counted(self):
        protocol, _, _ = connect(self.factory)
        self.patch(reactor, "running", False)
        self.assertEqual(lose(protocol, ConnectionLost()), "")
        self.assertEqual(self.factory.open_connections, 0)

    def test_the_program_with_a_stalled_client(self):
        big = Path(self.mktemp()).resolve()
        big.write_bytes(b"x" * 8_000_000)
        server, port = start(self, LIMIT, "--max-connections", "1", str(big))
        stalled = socket.create_connection(("127.0.0.1", port))
        self.addCleanup(stalled.close)
        self.assertEqual(fetch(port), b"")  # refused: the stalled one is open
        stalled.close()
        # Wait until the server has noticed that the stalled client is gone.
        log = [server.readline() for _ in range(3)]
        self.assertEqual(log, [
            "Connection 1 from 127.0.0.1.\n",
            "Refused 127.0.0.1: 1 connections open.\n",
            "Connection 1: lost: Connection to the other side was lost"
            " in a non-clean fashion.\n",
        ])
        self.assertEqual(len(fetch(port)), 8_000_000)
        status, rest, err = server.stop()
        self.assertEqual((status, err), (0, ""))
        self.assertEqual(rest, "Connection 2 from 127.0.0.1.\nConnection 2: sent 8000000 bytes.\n")
