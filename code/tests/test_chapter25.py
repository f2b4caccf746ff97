"""Chapter 25: poetry by datagram, the relay that loses datagrams, and solutions."""

import io
import os
import re
import socket
import sys
import time
from contextlib import redirect_stdout

from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.protocol import DatagramProtocol
from twisted.trial import unittest

from tests.programs import (
    POEMS,
    Program,
    load_program,
    run,
    wait_for_the_reactor,
)

SERVER = "udp/poetry-server.py"
CLIENT = "udp/get-poetry.py"
RELAY = "udp/relay.py"
DUPLICATE = "solutions/ch25-duplicate/relay.py"
BACKOFF = "solutions/ch25-backoff/get-poetry.py"
POEM = POEMS["science"]
SCIENCE = "code/poetry/science.txt"


class Sent:
    """A stand-in for a UDP port: it keeps what the protocol writes, and to whom."""

    def __init__(self) -> None:
        self.datagrams: list[tuple[bytes, tuple[str, int] | None]] = []

    def write(self, datagram: bytes, addr: tuple[str, int] | None = None) -> None:
        self.datagrams.append((datagram, addr))


def udp_socket(test) -> tuple[socket.socket, int]:
    """A UDP socket on 127.0.0.1 that the test reads by hand; return (socket, port)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(10)
    test.addCleanup(sock.close)
    return sock, sock.getsockname()[1]


def refusing_port(test) -> int:
    """A UDP port where nothing listens, held so that nobody else takes it.

    The socket is connected to another port, so the kernel delivers it only
    that port's datagrams; to everybody else it answers with an ICMP "port
    unreachable", as for a port where nothing listens.
    """
    sock, port = udp_socket(test)
    sock.connect(("127.0.0.1", 9))
    return port


def start(test, program: str, *args: str) -> tuple[Program, int]:
    process = Program(program, *args)
    test.addCleanup(process.end)
    return process, process.port()


def ask(sock: socket.socket, port: int, request: bytes, count: int) -> list[bytes]:
    """Send a request to a UDP server and read `count` datagrams of its answer."""
    sock.sendto(request, ("127.0.0.1", port))
    return [sock.recv(65536) for _ in range(count)]


class ServerProtocolTests(unittest.TestCase):
    """The server's protocol, fed datagrams by hand: no socket, no reactor."""

    def setUp(self):
        self.module = load_program(SERVER)
        self.protocol = self.module.PoetryDatagramProtocol(POEM, 64)
        self.sent = Sent()
        self.protocol.transport = self.sent

    def receive(self, datagram: bytes) -> str:
        output = io.StringIO()
        with redirect_stdout(output):
            self.protocol.datagramReceived(datagram, ("127.0.0.1", 40000))
        return output.getvalue()

    def test_get_answers_with_every_piece_numbered(self):
        self.assertEqual(self.receive(b"GET"), "Request from 127.0.0.1: all 11 pieces.\n")
        self.assertEqual(len(self.sent.datagrams), 11)
        poem = b""
        for number, (datagram, addr) in enumerate(self.sent.datagrams, start=1):
            header = b"%d/11:" % number
            self.assertTrue(datagram.startswith(header))
            self.assertLessEqual(len(datagram), len(header) + 64)
            self.assertEqual(addr, ("127.0.0.1", 40000))  # back where it came from
            poem += datagram[len(header):]
        self.assertEqual(poem, POEM)

    def test_a_request_for_some_pieces(self):
        self.assertEqual(self.receive(b"GET 5,3,5"),
                         "Request from 127.0.0.1: pieces 5, 3.\n")
        self.assertEqual([d for d, _ in self.sent.datagrams],
                         [b"5/11:" + POEM[256:320], b"3/11:" + POEM[128:192]])

    def test_the_last_piece_is_shorter(self):
        self.receive(b"GET 11")
        self.assertEqual(self.sent.datagrams[0][0], b"11/11:" + POEM[640:])

    def test_stateless_the_same_request_gets_the_same_answer(self):
        self.receive(b"GET 2,7")
        first = list(self.sent.datagrams)
        self.receive(b"GET")
        self.receive(b"GET 2,7")
        self.assertEqual(self.sent.datagrams[-2:], first)

    def test_garbage_gets_no_answer_and_the_server_goes_on(self):
        cases = {
            b"": "not a request",
            b"hello": "not a request",
            b"GET ": "no piece '' in a poem of 11",
            b"GET 0": "no piece '0' in a poem of 11",
            b"GET 12": "no piece '12' in a poem of 11",
            b"GET 3,,5": "no piece '' in a poem of 11",
            b"GET -1": "no piece '-1' in a poem of 11",
            b"get": "not a request",
            b"GET \xff": "no piece '\ufffd' in a poem of 11",
            b"GET " + b"1," * 300: "604 bytes is too long for a request",
        }
        for datagram, why in cases.items():
            self.assertEqual(self.receive(datagram),
                             f"Ignored a datagram from 127.0.0.1: {why}.\n")
        self.assertEqual(self.sent.datagrams, [])
        self.receive(b"GET 1")
        self.assertEqual(self.sent.datagrams, [(b"1/11:" + POEM[:64], ("127.0.0.1", 40000))])


class ServerProgramTests(unittest.TestCase):
    """The server as a process, with real datagrams."""

    def test_keeps_serving_after_garbage(self):
        server, port = start(self, SERVER, "--size", "64", SCIENCE)
        sock, _ = udp_socket(self)
        sock.sendto(b"\x00garbage", ("127.0.0.1", port))
        sock.sendto(b"GET 99", ("127.0.0.1", port))
        answer = ask(sock, port, b"GET", 11)
        self.assertEqual(b"".join(d.partition(b":")[2] for d in answer), POEM)
        self.assertEqual(server.readline(), "Ignored a datagram from 127.0.0.1: not a request.\n")
        self.assertEqual(server.readline(),
                         "Ignored a datagram from 127.0.0.1: no piece '99' in a poem of 11.\n")
        self.assertEqual(server.readline(), "Request from 127.0.0.1: all 11 pieces.\n")

    def test_first_line_and_quiet_ctrl_c(self):
        server = Program(SERVER, SCIENCE)
        self.addCleanup(server.end)
        line = server.first_line()
        self.assertRegex(line, r"^Serving code/poetry/science.txt on 127\.0\.0\.1:\d+ "
                               r"\(UDP\), in 2 pieces\.\n$")
        wait_for_the_reactor(server)
        status, out, err = server.stop()
        self.assertEqual((status, out, err), (0, "", ""))

    def test_an_empty_poem_is_refused(self):
        empty = os.path.abspath(self.mktemp())
        open(empty, "wb").close()
        status, out, err = run(SERVER, empty)
        self.assertEqual((status, out), (1, ""))
        self.assertEqual(err, f"Cannot serve {empty}: the file is empty.\n")


class ClientProtocolTests(unittest.TestCase):
    """The client's protocol, fed datagrams by hand, with a fake clock."""

    def setUp(self):
        from twisted.internet.task import Clock
        self.module = load_program(CLIENT)
        self.clock = Clock()
        self.patch(self.module, "reactor", self.clock)
        self.d: Deferred[bytes] = Deferred()
        self.results: list = []
        self.d.addBoth(self.results.append)
        self.protocol = self.module.PoemDownload(1, "127.0.0.1", 10001, 0.5, 3, self.d)
        self.sent = Sent()
        self.protocol.transport = self.sent
        self.sent.connect = lambda host, port: None
        self.sent.stopListening = lambda: None
        self.stderr = io.StringIO()  # what the protocol reports
        self.patch(sys, "stderr", self.stderr)
        self.protocol.startProtocol()

    def receive(self, *numbers: int, total: int = 3) -> None:
        for number in numbers:
            piece = b"%d/%d:" % (number, total) + b"<%d>" % number
            self.protocol.datagramReceived(piece, ("127.0.0.1", 10001))

    def requests(self) -> list[bytes]:
        return [datagram for datagram, _ in self.sent.datagrams]

    def test_pieces_in_any_order_make_the_poem(self):
        self.receive(3, 1, 2)
        self.assertEqual(self.results, [b"<1><2><3>"])
        self.assertEqual(self.requests(), [b"GET"])
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_asks_again_for_exactly_the_missing_pieces(self):
        self.receive(1)
        self.clock.advance(0.5)
        self.assertEqual(self.requests(), [b"GET", b"GET 2,3"])
        self.receive(3, 3, 2)  # a copy of piece 3 changes nothing
        self.assertEqual(self.results, [b"<1><2><3>"])
        self.assertEqual(self.stderr.getvalue(),
                         "Task 1: got 1 of 3 pieces; asking again for 2, 3.\n"
                         "Task 1: piece 2 came after piece 3.\n")

    def test_each_piece_restarts_the_wait(self):
        self.clock.advance(0.4)
        self.receive(1)
        self.clock.advance(0.4)
        self.assertEqual(self.requests(), [b"GET"])  # not silent for 0.5 s yet
        self.clock.advance(0.1)
        self.assertEqual(self.requests(), [b"GET", b"GET 2,3"])

    def test_gives_up_after_the_last_try(self):
        self.clock.advance(0.5)
        self.clock.advance(0.5)
        self.assertEqual(self.requests(), [b"GET", b"GET", b"GET"])
        self.assertEqual(self.results, [])
        self.clock.advance(0.5)
        self.assertEqual(str(self.results[0].value),
                         "no answer in 3 tries of 0.5 seconds")
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_a_connection_refused_fails_at_once(self):
        """The select reactor calls connectionRefused(); epoll closes the port."""
        self.protocol.connectionRefused()
        self.assertEqual(str(self.results[0].value),
                         "Connection refused")
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_garbage_from_the_server_is_ignored(self):
        for datagram in (b"hello", b"0/3:x", b"4/3:x", b"a/3:x", b"1/3"):
            self.protocol.datagramReceived(datagram, ("127.0.0.1", 10001))
        self.receive(1, 2)
        self.receive(3, total=4)  # not the same poem
        self.assertEqual(self.results, [])
        self.receive(3)
        self.assertEqual(self.results, [b"<1><2><3>"])


class ClientProgramTests(unittest.TestCase):
    """The client as a process, against the server, the relay, and silence."""

    def test_gets_the_poem(self):
        _, port = start(self, SERVER, "--size", "64", SCIENCE)
        status, out, err = run(CLIENT, str(port))
        self.assertEqual((status, out), (0, POEM.decode()))
        self.assertEqual(err.splitlines()[0],
                         f"Task 1: got 673 bytes of poetry from 127.0.0.1:{port}"
                         " in 1 request.")

    def test_through_a_relay_that_drops_and_swaps(self):
        server, port = start(self, SERVER, "--size", "64", SCIENCE)
        relay, relay_port = start(self, RELAY, "--drop", "3,5", "--swap", "7", str(port))
        status, out, err = run(CLIENT, "--timeout", "0.5", str(relay_port))
        self.assertEqual((status, out), (0, POEM.decode()))
        self.assertEqual(err.splitlines()[:3], [
            "Task 1: piece 7 came after piece 8.",
            "Task 1: got 9 of 11 pieces; asking again for 3, 5.",
            f"Task 1: got 673 bytes of poetry from 127.0.0.1:{relay_port} in 2 requests.",
        ])
        self.assertEqual([relay.readline() for _ in range(6)], [
            "Request 1 from 127.0.0.1: 'GET'.\n",
            "Datagram 3 (3/11): dropped.\n",
            "Datagram 5 (5/11): dropped.\n",
            "Datagram 7 (7/11): held back.\n",
            "Datagram 7 (7/11): sent after 8.\n",
            "Request 2 from 127.0.0.1: 'GET 3,5'.\n",
        ])
        self.assertEqual([server.readline() for _ in range(2)], [
            "Request from 127.0.0.1: all 11 pieces.\n",
            "Request from 127.0.0.1: pieces 3, 5.\n",
        ])
        wait_for_the_reactor(relay)
        self.assertEqual(relay.stop(), (0, "", ""))

    def test_nobody_listening_fails_at_once(self):
        port = refusing_port(self)
        started = time.monotonic()
        status, out, err = run(CLIENT, "--timeout", "5", str(port))
        self.assertLess(time.monotonic() - started, 5)  # no timeout was needed
        self.assertEqual((status, out), (1, ""))
        self.assertEqual(err.splitlines()[0],
                         f"Task 1: cannot get poetry from 127.0.0.1:{port}:"
                         " Connection refused")
        self.assertNotIn("Traceback", err)

    def test_silence_fails_after_the_last_try(self):
        sock, port = udp_socket(self)
        status, out, err = run(CLIENT, "--timeout", "0.2", "--tries", "3", str(port))
        self.assertEqual((status, out), (1, ""))
        self.assertEqual(err.splitlines()[:3], [
            "Task 1: no answer in 0.2 seconds; asking again.",
            "Task 1: no answer in 0.2 seconds; asking again.",
            f"Task 1: cannot get poetry from 127.0.0.1:{port}:"
            " no answer in 3 tries of 0.2 seconds",
        ])
        sock.settimeout(0)
        self.assertEqual([sock.recv(100) for _ in range(3)], [b"GET"] * 3)
        self.assertRaises(BlockingIOError, sock.recv, 100)  # no fourth

    def test_missing_pieces_after_the_last_try(self):
        """A server that never sends piece 2: the client names what it still lacks."""
        sock, port = udp_socket(self)
        client = Program(CLIENT, "--timeout", "0.2", "--tries", "2", str(port))
        request, addr = sock.recvfrom(100)
        self.assertEqual(request, b"GET")
        sock.sendto(b"1/3:a", addr)
        sock.sendto(b"3/3:c", addr)
        self.assertEqual(sock.recv(100), b"GET 2")
        status, out, err = client.finish()
        self.assertEqual((status, out), (1, ""))
        self.assertEqual(err.splitlines()[:2], [
            "Task 1: got 2 of 3 pieces; asking again for 2.",
            f"Task 1: cannot get poetry from 127.0.0.1:{port}:"
            " still no piece 2 after 2 requests",
        ])

    def test_connected_only_the_servers_datagrams_arrive(self):
        """A stranger's datagram to the client's port never reaches the client."""
        sock, port = udp_socket(self)
        stranger, _ = udp_socket(self)
        client = Program(CLIENT, "--timeout", "2", str(port))
        request, addr = sock.recvfrom(100)
        stranger.sendto(b"1/1:a stranger's poem\n", addr)
        sock.sendto(b"1/1:the server's poem\n", addr)
        status, out, err = client.finish()
        self.assertEqual((status, out), (0, "the server's poem\n"))

    def test_several_servers_at_once(self):
        _, port1 = start(self, SERVER, SCIENCE)
        _, port2 = start(self, SERVER, "code/poetry/tyger.txt")
        nobody = refusing_port(self)
        status, out, err = run(CLIENT, str(port1), str(nobody), str(port2))
        self.assertEqual(status, 1)
        self.assertEqual(out, POEM.decode() + "\n" + POEMS["tyger"].decode())
        self.assertIn("Got 2 of 3 poems in ", err)

    def test_ctrl_c_is_quiet(self):
        _, port = udp_socket(self)
        client = Program(CLIENT, "--timeout", "30", str(port))
        wait_for_the_reactor(client)
        client.interrupt()
        self.assertEqual(client.finish(), (130, "", ""))


class RelayTests(unittest.TestCase):
    """The relay's rules, fed datagrams by hand, and the relay as a process."""

    def setUp(self):
        self.module = load_program(RELAY)

    def relay(self, drop=(), swap=()):
        relay = self.module.Relay(("127.0.0.1", 10001), set(drop), set(swap))
        relay.transport = Sent()
        upstream = self.module.Upstream(relay, ("127.0.0.1", 40000))
        output = io.StringIO()
        with redirect_stdout(output):
            for number in range(1, 7):
                upstream.datagramReceived(b"%d/6:x" % number, ("127.0.0.1", 10001))
        sent = [d.partition(b"/")[0].decode() for d, _ in relay.transport.datagrams]
        return sent, output.getvalue().splitlines()

    def test_passes_everything_without_rules(self):
        self.assertEqual(self.relay()[0], ["1", "2", "3", "4", "5", "6"])

    def test_drop_and_swap(self):
        sent, log = self.relay(drop=[2, 6], swap=[3])
        self.assertEqual(sent, ["1", "4", "3", "5"])
        self.assertEqual(log, [
            "Datagram 2 (2/6): dropped.",
            "Datagram 3 (3/6): held back.",
            "Datagram 3 (3/6): sent after 4.",
            "Datagram 6 (6/6): dropped.",
        ])

    def test_swap_before_a_dropped_datagram(self):
        sent, _ = self.relay(drop=[4], swap=[3])
        self.assertEqual(sent, ["1", "2", "3", "5", "6"])  # 3 goes when 4 is lost

    def test_a_datagram_cannot_be_dropped_and_swapped(self):
        status, out, err = run(RELAY, "--drop", "3,4", "--swap", "4", "10001")
        self.assertEqual((status, out), (2, ""))
        self.assertTrue(err.endswith(
            "error: a datagram cannot be both dropped and swapped: 4\n"))

    def test_a_server_where_nobody_listens(self):
        port = refusing_port(self)
        relay, relay_port = start(self, RELAY, str(port))
        sock, _ = udp_socket(self)
        for _ in range(2):
            sock.sendto(b"GET", ("127.0.0.1", relay_port))
            self.assertRegex(relay.readline(), r"^Request \d from 127\.0\.0\.1: 'GET'\.\n$")
            self.assertEqual(relay.readline(), "The server refused a datagram:"
                             f" nothing listens on 127.0.0.1:{port}.\n")
        wait_for_the_reactor(relay)
        self.assertEqual(relay.stop(), (0, "", ""))


class EpollRefusalTests(unittest.TestCase):
    """What the chapter says the reactor does with an ICMP "port unreachable".

    On the epoll reactor, Linux's default, a connected UDP port whose
    datagram was refused is closed (stopProtocol()), and connectionRefused()
    is not called: Twisted issue 5377.  If a Twisted release fixes it, this
    test fails, and the chapter must be changed with it.
    """

    def test_the_port_closes(self):
        if type(reactor).__name__ != "EPollReactor":
            raise unittest.SkipTest("this is about the epoll reactor")
        port_number = refusing_port(self)
        events: list[str] = []
        closed: Deferred[None] = Deferred()

        class Probe(DatagramProtocol):
            def startProtocol(self):
                self.transport.connect("127.0.0.1", port_number)
                self.transport.write(b"GET")

            def connectionRefused(self):
                events.append("connectionRefused")

            def stopProtocol(self):
                events.append("stopProtocol")
                closed.callback(None)

        reactor.listenUDP(0, Probe(), interface="127.0.0.1")
        closed.addCallback(lambda _: self.assertEqual(events, ["stopProtocol"]))
        return closed


class DuplicateSolutionTests(unittest.TestCase):
    """Exercise 1: the relay that also sends some datagrams twice."""

    def test_copies_change_nothing(self):
        server, port = start(self, SERVER, "--size", "64", SCIENCE)
        relay = Program(DUPLICATE, "--duplicate", "2,4", "--drop", "6", str(port))
        self.addCleanup(relay.end)
        line = relay.first_line()
        self.assertRegex(line, r"^Relaying 127\.0\.0\.1:\d+ to 127\.0\.0\.1:"
                               rf"{port} \(UDP\), dropping 6; duplicating 2, 4\.\n$")
        relay_port = int(re.search(r"127\.0\.0\.1:(\d+)", line).group(1))
        sock, _ = udp_socket(self)
        answer = ask(sock, relay_port, b"GET", 12)  # 11 pieces, less one, two copies
        self.assertEqual([d.partition(b":")[0] for d in answer][:6],
                         [b"1/11", b"2/11", b"2/11", b"3/11", b"4/11", b"4/11"])
        self.assertEqual([relay.readline() for _ in range(4)], [
            "Request 1 from 127.0.0.1: 'GET'.\n",
            "Datagram 2 (2/11): sent twice.\n",
            "Datagram 4 (4/11): sent twice.\n",
            "Datagram 6 (6/11): dropped.\n",
        ])
        status, out, err = run(CLIENT, "--timeout", "0.5", str(relay_port))
        self.assertEqual((status, out), (0, POEM.decode()))
        self.assertIn("in 2 requests.", err)  # piece 6, asked for again

    def test_rules_cannot_overlap(self):
        status, out, err = run(DUPLICATE, "--swap", "3", "--duplicate", "2,3", "10001")
        self.assertEqual((status, out), (2, ""))
        self.assertTrue(err.endswith(
            "error: a datagram cannot be both swapped and duplicated: 3\n"))


class BackoffSolutionTests(unittest.TestCase):
    """Exercise 2: the client that doubles its wait after each unanswered request."""

    def setUp(self):
        from twisted.internet.task import Clock
        self.module = load_program(BACKOFF)
        self.clock = Clock()
        self.patch(self.module, "reactor", self.clock)
        self.d: Deferred[bytes] = Deferred()
        self.results: list = []
        self.d.addBoth(self.results.append)
        self.protocol = self.module.PoemDownload(1, "127.0.0.1", 10001, 0.5, 4, self.d)
        self.sent = Sent()
        self.protocol.transport = self.sent
        self.sent.connect = lambda host, port: None
        self.sent.stopListening = lambda: None
        self.stderr = io.StringIO()  # what the protocol reports
        self.patch(sys, "stderr", self.stderr)
        self.protocol.startProtocol()

    def test_each_unanswered_request_doubles_the_wait(self):
        for wait, requests in ((0.5, 2), (1, 3), (2, 4)):
            self.clock.advance(wait * 0.99)
            self.assertEqual(len(self.sent.datagrams), requests - 1)
            self.clock.advance(wait * 0.01)
            self.assertEqual(len(self.sent.datagrams), requests)
        self.clock.advance(3.99)
        self.assertEqual(self.results, [])
        self.clock.advance(0.01)
        self.assertEqual(str(self.results[0].value),
                         "no answer in 4 tries, the last after 4 seconds")
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_an_answer_keeps_the_wait(self):
        self.clock.advance(0.5)  # nothing: the next wait is 1 s
        self.protocol.datagramReceived(b"1/2:a", ("127.0.0.1", 10001))
        self.clock.advance(1)  # piece 2 never comes, but piece 1 did: still 1 s
        self.assertEqual([d for d, _ in self.sent.datagrams], [b"GET", b"GET", b"GET 2"])
        self.clock.advance(0.99)
        self.assertEqual(len(self.sent.datagrams), 3)
        self.clock.advance(0.01)  # nothing this time: asked again, now waiting 2 s
        self.assertEqual(len(self.sent.datagrams), 4)
        self.assertEqual(self.protocol.wait, 2)
        self.assertEqual(self.stderr.getvalue().splitlines(), [
            "Task 1: no answer in 0.5 seconds; asking again, then waiting 1.",
            "Task 1: got 1 of 2 pieces; asking again for 2.",
            "Task 1: got 1 of 2 pieces; asking again for 2.",
        ])

    def test_the_gaps_between_requests_grow(self):
        """As a process, against a socket that never answers."""
        sock, port = udp_socket(self)
        client = Program(BACKOFF, "--timeout", "0.1", "--tries", "4", str(port))
        arrived = []
        for _ in range(4):
            self.assertEqual(sock.recv(100), b"GET")
            arrived.append(time.monotonic())
        status, out, err = client.finish()
        self.assertEqual((status, out), (1, ""))
        gaps = [later - earlier for earlier, later in zip(arrived, arrived[1:], strict=False)]
        for gap, least in zip(gaps, (0.1, 0.2, 0.4), strict=True):
            self.assertGreater(gap, least * 0.5)  # a bound that cannot flake
        self.assertEqual(err.splitlines()[:4], [
            "Task 1: no answer in 0.1 seconds; asking again, then waiting 0.2.",
            "Task 1: no answer in 0.2 seconds; asking again, then waiting 0.4.",
            "Task 1: no answer in 0.4 seconds; asking again, then waiting 0.8.",
            f"Task 1: cannot get poetry from 127.0.0.1:{port}:"
            " no answer in 4 tries, the last after 0.8 seconds",
        ])
