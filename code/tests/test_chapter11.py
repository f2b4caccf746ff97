"""Chapter 11: the transformation server, client 6, and a callback that returns a Deferred."""

import io
import select
import socket
import subprocess
import sys
import time
from contextlib import redirect_stdout
from functools import partial

from twisted.internet import error, reactor
from twisted.internet.address import IPv4Address
from twisted.internet.defer import Deferred, gatherResults, succeed
from twisted.internet.error import ConnectionDone, ConnectionRefusedError
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure
from twisted.trial import unittest

from tests.programs import (
    CODE,
    POEMS,
    Program,
    environment,
    listener,
    load_program,
    refused_port,
    run,
    start_server,
    unanswered_port,
)

SERVER = "twisted-server-2/transformedpoetry.py"
CLIENT = "twisted-client-6/get-poetry.py"
DEFERRED = "twisted-deferred/deferred-in-callback.py"
DEADLINE = "solutions/ch11-deadline/transformedpoetry.py"
PIPELINE = "solutions/ch11-pipeline/get-poetry.py"
NO_POEM = "the server closed the connection without sending a poem"


def netstring(data: bytes) -> bytes:
    return b"%d:%s," % (len(data), data)


def ctrl_c_inside(program: str, method: str, *args: str) -> tuple[int, str, str]:
    """Run a client with Ctrl-C pressed inside one of its methods; return (status, out, err).

    The method, "Class.name", is the one that delivers the last result: Ctrl-C
    comes in the same turn of the reactor's loop as the client's own wish to stop,
    the race a client must lose quietly.  main() runs in a process of its own.
    """
    class_name, name = method.split(".")
    script = ("import os, signal, sys\n"
              "from tests.programs import load_program\n"
              f"module = load_program({program!r})\n"
              f"cls = module.{class_name}\n"
              f"original = cls.{name}\n"
              "def pressed(self, *args):\n"
              "    os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C, right now\n"
              "    return original(self, *args)\n"
              f"cls.{name} = pressed\n"
              f"sys.argv = [{program!r}, *{list(args)!r}]\n"
              "module.main()\n")
    result = subprocess.run([sys.executable, "-c", script], cwd=CODE, env=environment(),
                            capture_output=True, text=True, timeout=10)
    return result.returncode, result.stdout, result.stderr


class Connection:
    """A TransformProtocol on a StringTransport: no socket, no reactor.

    Everything the protocol prints is collected in ``log``.
    """

    def __init__(self, factory) -> None:
        self.log = io.StringIO()
        address = IPv4Address("TCP", "127.0.0.1", 50000)
        self.protocol = factory.buildProtocol(address)
        self.transport = StringTransport(peerAddress=address)
        with redirect_stdout(self.log):
            self.protocol.makeConnection(self.transport)

    def send(self, *chunks: bytes) -> None:
        with redirect_stdout(self.log):
            for chunk in chunks:
                self.protocol.dataReceived(chunk)

    def close(self) -> None:
        """The connection ends, as the transport would report it."""
        with redirect_stdout(self.log):
            self.protocol.connectionLost(Failure(ConnectionDone()))

    def lines(self) -> list[str]:
        return self.log.getvalue().splitlines()


class TransformServiceTests(unittest.TestCase):
    def setUp(self):
        self.service = load_program(SERVER).TransformService()

    def test_cummingsify(self):
        self.assertEqual(self.service.cummingsify("Blessent Mon CŒUR"), "blessent mon cœur")

    def test_upper(self):
        self.assertEqual(self.service.upper("Tyger Tyger, burning bright"),
                         "TYGER TYGER, BURNING BRIGHT")

    def test_reverse_turns_the_lines_around(self):
        self.assertEqual(self.service.reverse("one\ntwo\nthree\n"), "three\ntwo\none\n")
        self.assertEqual(self.service.reverse(""), "")

    def test_a_whole_poem(self):
        poem = POEMS["automne"].decode("utf-8")
        self.assertEqual(self.service.cummingsify(poem), poem.lower())
        self.assertEqual(sorted(self.service.reverse(poem).splitlines()),
                         sorted(poem.splitlines()))


class ServiceWithExtras(load_program(SERVER).TransformService):
    """A service that has grown what a client must never reach, and a bug."""

    def __init__(self):
        self.shut_down = False
        self.secret = "swordfish"

    def shutdown(self, reason: str = "") -> None:  # for the operator
        self.shut_down = True

    def _helper(self, text: str) -> str:
        return text

    def upper(self, poem: str) -> str:
        return str(1 / 0)  # a bug


class DispatchTests(unittest.TestCase):
    """The factory's allow-list: what a client's name can and cannot reach."""

    def setUp(self):
        self.module = load_program(SERVER)
        self.service = ServiceWithExtras()
        self.factory = self.module.TransformFactory(self.service)

    def test_names_on_the_list(self):
        self.assertEqual(self.factory.transform("cummingsify", "Whose WOODS"), "whose woods")
        self.assertEqual(self.factory.transform("reverse", "a\nb\n"), "b\na\n")
        self.assertEqual(sorted(self.factory.transforms), ["cummingsify", "reverse", "upper"])

    def test_nothing_else_of_the_service_is_reached(self):
        for name in ("shutdown", "_helper", "secret", "__init__", "__class__",
                     "__getattribute__", "__setattr__", "__dict__", "transforms",
                     "transform", "", "Upper", "upper ", "cummingsify.upper"):
            error = self.assertRaises(self.module.NoAnswer, self.factory.transform, name, "x")
            self.assertEqual(str(error), f"no transformation named {name!r}")
        self.assertFalse(self.service.shut_down)
        self.assertEqual(self.service.secret, "swordfish")

    def test_a_long_name_is_cut_short_in_the_reason(self):
        error = self.assertRaises(self.module.NoAnswer, self.factory.transform, "x" * 99_000, "")
        self.assertEqual(str(error), "no transformation named 'xxxxxxxxxxxx...xxxxxxxxxxxxx'")

    def test_a_transformation_that_raises(self):
        error = self.assertRaises(self.module.NoAnswer, self.factory.transform, "upper", "x")
        self.assertEqual(str(error), "upper failed: ZeroDivisionError: division by zero")


class ProtocolTests(unittest.TestCase):
    """Every kind of request, through the real protocol and factory, on a StringTransport."""

    def setUp(self):
        self.module = load_program(SERVER)
        self.patch(reactor, "running", True)  # as in the server: Ctrl-C has not come

    @property
    def factory(self):
        """A new factory each time: every connection here is connection 1."""
        return self.module.TransformFactory(self.module.TransformService())

    def assertNoAnswer(self, connection: Connection, reason: str) -> None:
        """The connection is closing, nothing was sent, and the log says why."""
        self.assertEqual(connection.transport.value(), b"")
        self.assertTrue(connection.transport.disconnecting)
        connection.close()
        self.assertEqual(connection.lines(),
                         [f"Connection 1 from 127.0.0.1: no answer: {reason}."])

    def test_a_good_request(self):
        connection = Connection(self.factory)
        connection.send(b"11:upper.hello,")
        self.assertEqual(connection.transport.value(), b"5:HELLO,")
        self.assertTrue(connection.transport.disconnecting)
        connection.close()
        self.assertEqual(connection.lines(),
                         ["Connection 1 from 127.0.0.1: upper: answered with 5 bytes."])

    def test_a_request_in_pieces(self):
        request = netstring(b"cummingsify." + POEMS["automne"])
        connection = Connection(self.factory)
        connection.send(*(request[i:i + 1] for i in range(len(request))))
        answer = POEMS["automne"].decode("utf-8").lower().encode("utf-8")
        self.assertEqual(connection.transport.value(), netstring(answer))

    def test_the_length_counts_bytes(self):
        connection = Connection(self.factory)
        connection.send("12:upper.blême,".encode())
        self.assertEqual(connection.transport.value(), "6:BLÊME,".encode())

    def test_an_empty_text(self):
        connection = Connection(self.factory)
        connection.send(b"8:reverse.,")
        self.assertEqual(connection.transport.value(), b"0:,")

    def test_an_unknown_name(self):
        connection = Connection(self.factory)
        connection.send(b"11:shout.hello,")
        self.assertNoAnswer(connection, "no transformation named 'shout'")

    def test_names_that_are_not_transformations(self):
        for name in (b"__class__", b"__init__", b"_secret", b"shutdown", b"transforms"):
            connection = Connection(self.factory)
            connection.send(netstring(name + b".x"))
            self.assertEqual(connection.transport.value(), b"")
            self.assertTrue(connection.transport.disconnecting)
            self.assertIn(f"no transformation named '{name.decode()}'", connection.lines()[0])

    def test_no_dot(self):
        connection = Connection(self.factory)
        connection.send(b"5:hello,")
        self.assertNoAnswer(connection, "no '.' between a name and a text")

    def test_not_a_netstring(self):
        for data in (b"hello\n", b"GET / HTTP/1.1\r\n\r\n", b":upper.hello,", b"05:upper,",
                     b"-5:upper,", b"\xff"):
            connection = Connection(self.factory)
            connection.send(data)
            self.assertTrue(connection.protocol.brokenPeer, data)
            self.assertNoAnswer(connection, "not a netstring of at most 100000 bytes")

    def test_no_comma_where_the_length_says(self):
        connection = Connection(self.factory)
        connection.send(b"10:upper.hello,")
        self.assertNoAnswer(connection, "not a netstring of at most 100000 bytes")

    def test_a_length_over_max_length_is_refused_before_the_data(self):
        connection = Connection(self.factory)
        connection.send(b"100001:")
        self.assertNoAnswer(connection, "not a netstring of at most 100000 bytes")

    def test_a_length_with_too_many_digits_is_refused_before_its_colon(self):
        connection = Connection(self.factory)
        connection.send(b"9" * 30)
        self.assertNoAnswer(connection, "not a netstring of at most 100000 bytes")

    def test_max_length_itself_is_allowed(self):
        text = b"a" * (100_000 - len(b"upper."))
        connection = Connection(self.factory)
        connection.send(netstring(b"upper." + text))
        self.assertEqual(connection.transport.value(), netstring(text.upper()))

    def test_not_utf8(self):
        connection = Connection(self.factory)
        connection.send(b"8:upper.\xff\xfe,")
        self.assertNoAnswer(connection, "the request is not UTF-8")

    def test_a_transformation_that_raises(self):
        factory = self.module.TransformFactory(ServiceWithExtras())
        connection = Connection(factory)
        connection.send(b"11:upper.hello,")
        self.assertNoAnswer(connection, "upper failed: ZeroDivisionError: division by zero")
        # The next connection is served as usual.
        connection = Connection(factory)
        connection.send(b"17:cummingsify.HELLO,")
        self.assertEqual(connection.transport.value(), b"5:hello,")

    def test_two_requests_in_one_chunk_get_one_answer(self):
        connection = Connection(self.factory)
        connection.send(b"11:upper.hello,11:upper.world,")
        self.assertEqual(connection.transport.value(), b"5:HELLO,")
        connection.close()
        self.assertEqual(len(connection.lines()), 1)

    def test_netstring_receiver_goes_on_after_lose_connection(self):
        """Why the guard is needed: without it, the second netstring is handled too."""
        received = []
        protocol = self.module.NetstringReceiver()
        protocol.stringReceived = lambda string: (received.append(string),
                                                  protocol.transport.loseConnection())
        protocol.makeConnection(StringTransport())
        protocol.dataReceived(b"1:a,1:b,")
        self.assertEqual(received, [b"a", b"b"])

    def test_a_client_that_hangs_up_before_its_request_is_whole(self):
        for data in (b"", b"11:upper.hell"):
            connection = Connection(self.factory)
            connection.send(data)
            self.assertFalse(connection.transport.disconnecting)
            connection.close()
            self.assertEqual(connection.lines(), [
                "Connection 1 from 127.0.0.1: no answer: "
                "the client hung up before its request was whole."])

    def test_ctrl_c_is_not_a_client_hanging_up(self):
        """The reactor disconnects everybody as it shuts down: that is no news for the log."""
        connection = Connection(self.factory)
        connection.send(b"11:upper.hell")
        self.patch(reactor, "running", False)  # Ctrl-C: the reactor is shutting down
        connection.close()
        self.assertEqual(connection.lines(), [])

    def test_a_newline_in_a_name_cannot_forge_a_log_line(self):
        connection = Connection(self.factory)
        connection.send(netstring(b"x\nConnection 9 from 10.0.0.1: upper: answered.x"))
        self.assertEqual(len(connection.lines()), 1)
        self.assertIn(r"'x\nConnection 9", connection.lines()[0])


def exchange(port: int, request: bytes, half_close: bool = False) -> bytes:
    """Send a request as nc would, and read until the server closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        if half_close:
            sock.shutdown(socket.SHUT_WR)  # nc -N
        received = b""
        while data := sock.recv(65536):
            received += data
    return received


def start(test, program: str = SERVER, *args: str) -> tuple[Program, int]:
    server = Program(program, *args)
    test.addCleanup(server.end)
    return server, server.port()


class ServerProcessTests(unittest.TestCase):
    """The program itself, against real sockets."""

    def test_first_line(self):
        server = Program(SERVER)
        self.addCleanup(server.end)
        self.assertRegex(server.first_line(),
                         r"^Serving transformations on 127\.0\.0\.1:\d+\.\n$")

    def test_bad_requests_then_a_good_one(self):
        server, port = start(self)
        bad = [b"11:shout.hello,", b"5:hello,", b"hello\n", b"10:upper.hello,",
               b"100001:upper.", b"8:upper.\xff\xfe,", b"11:__class__.x,", b"10:__init__.x,",
               b"99999999999999999999"]
        for request in bad:
            self.assertEqual(exchange(port, request), b"", request)
        self.assertEqual(exchange(port, b"11:upper.hell", half_close=True), b"")
        self.assertEqual(exchange(port, b"11:upper.hello,"), b"5:HELLO,")
        status, log, err = server.stop()
        self.assertEqual((status, err), (0, ""))
        not_a_netstring = "no answer: not a netstring of at most 100000 bytes."
        self.assertEqual(log.splitlines(), [
            f"Connection {n} from 127.0.0.1: {message}" for n, message in enumerate([
                "no answer: no transformation named 'shout'.",
                "no answer: no '.' between a name and a text.",
                not_a_netstring,
                not_a_netstring,
                not_a_netstring,
                "no answer: the request is not UTF-8.",
                "no answer: no transformation named '__class__'.",
                "no answer: no transformation named '__init__'.",
                not_a_netstring,
                "no answer: the client hung up before its request was whole.",
                "upper: answered with 5 bytes.",
            ], start=1)])

    def test_a_client_that_never_finishes_does_not_hold_up_the_others(self):
        server, port = start(self)
        stalled = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.addCleanup(stalled.close)
        stalled.sendall(b"11:upper.hell")
        self.assertEqual(exchange(port, b"11:upper.hello,"), b"5:HELLO,")
        stalled.settimeout(0.2)
        self.assertRaises(TimeoutError, stalled.recv, 100)  # still waiting for the rest
        stalled.sendall(b"o,")
        stalled.settimeout(10)
        self.assertEqual(stalled.recv(100), b"5:HELLO,")

    def test_many_clients_at_once(self):
        server, port = start(self)
        socks = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(20)]
        for n, sock in enumerate(socks):
            sock.sendall(netstring(b"upper.poem %d" % n))
        for n, sock in enumerate(socks):
            with sock:
                self.assertEqual(sock.recv(100), netstring(b"POEM %d" % n))

    def test_ctrl_c_stops_it_cleanly(self):
        server, port = start(self)
        self.assertEqual(exchange(port, b"11:upper.hello,"), b"5:HELLO,")
        status, out, err = server.stop()
        self.assertEqual((status, err), (0, ""))
        self.assertNotIn("Traceback", out)

    def test_each_line_as_it_happens_and_nothing_at_ctrl_c(self):
        """A pipe gets each line at once; a request half sent at Ctrl-C is not logged."""
        server, port = start(self)
        half = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.addCleanup(half.close)
        half.sendall(b"11:upper.hell")
        self.assertEqual(exchange(port, b"11:upper.hello,"), b"5:HELLO,")
        self.assertEqual(server.readline(),  # while the server runs, not when it exits
                         "Connection 2 from 127.0.0.1: upper: answered with 5 bytes.\n")
        self.assertEqual(server.stop(), (0, "", ""))

    def test_a_port_in_use_is_a_clear_error(self):
        taken = socket.socket()
        self.addCleanup(taken.close)
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        status, out, err = run(SERVER, "--port", str(port))
        self.assertEqual(status, 1)
        self.assertEqual(err.splitlines()[0],
                         f"Cannot listen on 127.0.0.1:{port}: Address already in use")

    def test_help(self):
        status, out, err = run(SERVER, "--help")
        self.assertEqual((status, err), (0, ""))
        self.assertIn("--iface IFACE", out)
        self.assertIn("--port PORT", out)

    def test_no_positional_argument(self):
        status, out, err = run(SERVER, "code/poetry/science.txt")
        self.assertEqual(status, 2)
        self.assertIn("unrecognized arguments: code/poetry/science.txt", err)


class DeferredInCallbackTests(unittest.TestCase):
    """What the chapter says about a callback that returns a Deferred."""

    def test_the_program(self):
        status, out, err = run(DEFERRED)
        self.assertEqual((status, err), (0, ""))
        self.assertEqual(out.splitlines(), [
            "main fires the outer Deferred",
            "transform got 'Whose woods these are', and returns the inner Deferred",
            "main: outer.callback() has returned; outer.paused is 1",
            "main fires the inner Deferred",
            "got_answer got 'whose woods these are'",
            "print_poem got 'whose woods these are'",
            "main: the inner Deferred has fired; outer.paused is 0",
        ])

    def test_the_program_with_a_failure(self):
        status, out, err = run(DEFERRED, "--fail")
        self.assertEqual((status, err), (0, ""))
        self.assertIn("poem_failed got Failure ConnectionRefusedError("
                      "'the transformation server is down')", out)
        self.assertNotIn("got_answer", out)

    def test_the_inner_result_is_none_once_handed_over(self):
        inner, outer, late = Deferred(), Deferred(), []
        outer.addCallback(lambda _: inner)
        outer.callback("poem")
        inner.callback("answer")
        inner.addCallback(late.append)
        self.assertEqual(late, [None])
        self.assertEqual(self.successResultOf(outer), "answer")

    def test_an_inner_deferred_that_has_fired_is_used_at_once(self):
        outer, got = Deferred(), []
        outer.addCallback(lambda _: succeed("answer"))
        outer.addCallback(got.append)
        outer.callback("poem")
        self.assertEqual((got, outer.paused), (["answer"], 0))


class ClientProtocolTests(unittest.TestCase):
    """TransformClientProtocol and its factory on a StringTransport."""

    def setUp(self):
        self.module = load_program(CLIENT)
        self.deferred = Deferred()
        self.factory = self.module.TransformClientFactory(b"upper.hello", self.deferred, 10)
        self.protocol = self.factory.buildProtocol(IPv4Address("TCP", "127.0.0.1", 10001))
        self.transport = StringTransport()
        self.protocol.makeConnection(self.transport)
        self.addCleanup(lambda: self.protocol.timer.active() and self.protocol.timer.cancel())

    def test_sends_the_request_as_a_netstring(self):
        self.assertEqual(self.transport.value(), b"11:upper.hello,")

    def test_the_answer(self):
        self.protocol.dataReceived(b"5:HEL")
        self.assertNoResult(self.deferred)
        self.protocol.dataReceived(b"LO,")
        self.assertTrue(self.transport.disconnecting)
        self.protocol.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(self.successResultOf(self.deferred), b"HELLO")
        self.assertIsNone(self.factory.deferred)

    def test_no_answer(self):
        self.protocol.connectionLost(Failure(ConnectionDone()))
        failure = self.failureResultOf(self.deferred, self.module.TransformError)
        self.assertEqual(failure.getErrorMessage(), "the server hung up without an answer")

    def test_a_connection_that_takes_too_long(self):
        """Twisted's "User timeout caused connection failure." is said in the book's words."""
        self.factory.clientConnectionFailed(None, Failure(error.TimeoutError()))
        failure = self.failureResultOf(self.deferred, TimeoutError)  # Python's
        self.assertEqual(failure.getErrorMessage(), "no answer within 10 seconds")

    def test_an_answer_that_is_not_a_netstring(self):
        self.protocol.dataReceived(b"HELLO\n")
        self.assertTrue(self.transport.disconnecting)
        self.protocol.connectionLost(Failure(ConnectionDone()))
        failure = self.failureResultOf(self.deferred, self.module.TransformError)
        self.assertEqual(failure.getErrorMessage(), "the answer was not a netstring")


class ClientChainTests(unittest.TestCase):
    """try_to_transform() against real sockets, in this process, with the reactor."""

    def setUp(self):
        self.module = load_program(CLIENT)
        self.stderr = io.StringIO()
        self.patch(sys, "stderr", self.stderr)

    def test_transformation_server_down_keeps_the_poem(self):
        port = refused_port(self)
        d = self.module.try_to_transform(3, ("127.0.0.1", port), "upper", 5, POEMS["tyger"])

        def check(poem):
            self.assertEqual(poem, POEMS["tyger"])
            self.assertEqual(self.stderr.getvalue(),
                             "Task 3: upper failed (Connection refused); "
                             "keeping the poem as it came\n")

        return d.addCallback(check)

    def test_transform_itself_fails_with_the_reason(self):
        port = refused_port(self)
        d = self.module.transform("127.0.0.1", port, "upper", b"poem", 5)
        return self.assertFailure(d, ConnectionRefusedError)

    def test_a_silent_transformation_server(self):
        _, port = listener(self)
        d = self.module.try_to_transform(1, ("127.0.0.1", port), "upper", 0.2, b"A poem")

        def check(poem):
            self.assertEqual(poem, b"A poem")
            self.assertIn("(the server said nothing for 0.2 seconds)", self.stderr.getvalue())

        return d.addCallback(check)

    def test_the_outer_chain_waits_for_the_answer(self):
        """A chain like main()'s, with the transformation server in this process."""
        server = load_program(SERVER)
        self.patch(sys, "stdout", io.StringIO())  # the server's log
        server_closed = Deferred()

        class Protocol(server.TransformProtocol):
            def connectionLost(self, reason):
                super().connectionLost(reason)
                server_closed.callback(None)

        factory = server.TransformFactory(server.TransformService())
        factory.protocol = Protocol
        port = reactor.listenTCP(0, factory, interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        outer = Deferred()
        outer.addCallback(partial(self.module.try_to_transform, 1,
                                  ("127.0.0.1", port.getHost().port), "reverse", 5))
        outer.callback(b"one\ntwo\n")
        self.assertEqual(outer.paused, 1)  # waiting for the inner Deferred

        def check(poem):
            self.assertEqual(poem, b"two\none\n")
            self.assertEqual(self.stderr.getvalue(), "")
            self.assertEqual(sys.stdout.getvalue(),
                             "Connection 1 from 127.0.0.1: reverse: answered with 8 bytes.\n")

        # The server's side of the connection closes too before the test ends.
        return gatherResults([outer.addCallback(check), server_closed])


def poetry_and_transform_servers(test, *poems: str) -> tuple[int, list[int]]:
    _, xform = start(test)
    return xform, [start_server(test, poem) for poem in poems]


class ClientProcessTests(unittest.TestCase):
    """twisted-client-6 as a process."""

    def test_poems_come_back_transformed(self):
        xform, ports = poetry_and_transform_servers(self, "science", "automne")
        status, out, err = run(CLIENT, str(xform), *map(str, ports))
        self.assertEqual(status, 0)
        self.assertEqual(out, (POEMS["science"] + b"\n" + POEMS["automne"]).decode().lower())
        lines = err.splitlines()
        self.assertEqual(sorted(lines[:2]), [
            f"Task 1: got 673 bytes of poetry from 127.0.0.1:{ports[0]}",
            f"Task 2: got 341 bytes of poetry from 127.0.0.1:{ports[1]}",
        ])
        self.assertRegex(lines[2], r"^Got 2 of 2 poems in \d+\.\d seconds\.$")

    def test_another_transformation(self):
        xform, ports = poetry_and_transform_servers(self, "tyger")
        status, out, err = run(CLIENT, "--transform", "reverse", f"127.0.0.1:{xform}",
                               str(ports[0]))
        self.assertEqual(status, 0)
        lines = POEMS["tyger"].decode().splitlines(keepends=True)
        self.assertEqual(out, "".join(reversed(lines)))

    def test_transformation_server_down(self):
        dead = refused_port(self)
        port = start_server(self, "tyger")
        status, out, err = run(CLIENT, str(dead), str(port))
        self.assertEqual(status, 0)
        self.assertEqual(out, POEMS["tyger"].decode())
        self.assertEqual(err.splitlines()[0],
                         "Task 1: cummingsify failed (Connection refused); "
                         "keeping the poem as it came")

    def test_transformation_refused(self):
        xform, ports = poetry_and_transform_servers(self, "tyger", "automne")
        status, out, err = run(CLIENT, "--transform", "__init__", str(xform), *map(str, ports))
        self.assertEqual(status, 0)
        self.assertEqual(out, (POEMS["tyger"] + b"\n" + POEMS["automne"]).decode())
        for task in (1, 2):
            self.assertIn(f"Task {task}: __init__ failed "
                          "(the server hung up without an answer); keeping the poem as it came\n",
                          err)

    def test_a_poetry_server_down_is_still_a_failure(self):
        xform, ports = poetry_and_transform_servers(self, "tyger")
        dead = refused_port(self)
        status, out, err = run(CLIENT, str(xform), str(dead), str(ports[0]))
        self.assertEqual(status, 1)
        self.assertEqual(out, POEMS["tyger"].decode().lower())
        self.assertIn(f"Task 1: cannot get poetry from 127.0.0.1:{dead}: Connection refused\n",
                      err)
        self.assertIn("Got 1 of 2 poems in ", err)

    def test_ctrl_c_while_waiting_for_the_transformation(self):
        sock, xform = listener(self)
        port = start_server(self, "tyger")
        program = Program(CLIENT, str(xform), str(port))
        self.addCleanup(program.end)
        connection, _ = sock.accept()  # the poem is in, and the request is on its way
        self.addCleanup(connection.close)
        self.assertEqual(program.stop(), (130, "", ""))

    def test_an_empty_poem_is_a_failure(self):
        for program in (CLIENT, PIPELINE):
            server, port = listener(self)
            client = Program(program, str(refused_port(self)), str(port))
            connection, _ = server.accept()
            connection.close()  # not a byte
            status, out, err = client.finish()
            self.assertEqual((status, out), (1, ""), program)
            self.assertEqual(err.splitlines()[0],
                             f"Task 1: cannot get poetry from 127.0.0.1:{port}: {NO_POEM}", program)
            self.assertIn("Got 0 of 1 poems in", err)

    def test_a_poetry_server_that_never_answers(self):
        stuck = unanswered_port(self)
        status, out, err = run(CLIENT, "--timeout", "0.5", str(refused_port(self)), str(stuck))
        self.assertEqual((status, out), (1, ""))
        self.assertEqual(err.splitlines()[0], f"Task 1: cannot get poetry from 127.0.0.1:{stuck}: "
                                              "no answer within 0.5 seconds")

    def test_a_transformation_server_that_never_answers(self):
        stuck = unanswered_port(self)
        port = start_server(self, "tyger")
        status, out, err = run(CLIENT, "--timeout", "0.5", str(stuck), str(port))
        self.assertEqual((status, out), (0, POEMS["tyger"].decode()))
        self.assertEqual(err.splitlines()[0],
                         "Task 1: cummingsify failed "
                         "(no answer within 0.5 seconds); keeping the poem as it came")

    def test_ctrl_c_as_the_last_answer_comes_in(self):
        """The client's stop and Ctrl-C's in one turn of the loop: no ReactorNotRunning."""
        xform, ports = poetry_and_transform_servers(self, "tyger")
        status, out, err = ctrl_c_inside(CLIENT, "TransformClientFactory.answered",
                                         str(xform), str(ports[0]))
        self.assertNotIn("ReactorNotRunning", err)
        self.assertEqual((status, out), (0, POEMS["tyger"].decode().lower()), err)

    def test_help(self):
        status, out, err = run(CLIENT, "--help")
        self.assertEqual((status, err), (0, ""))
        self.assertIn("XFORM_ADDRESS ADDRESS [ADDRESS ...]", out)
        self.assertIn("--transform NAME", out)


class DeadlineTests(unittest.TestCase):
    """Exercise 1: a deadline for the whole request."""

    def test_a_slow_client_is_hung_up_on_and_logged(self):
        server, port = start(self, DEADLINE, "--timeout", "0.3")
        started = time.monotonic()
        self.assertEqual(exchange(port, b"11:upper.hell"), b"")  # no -N: the server hangs up
        self.assertLess(time.monotonic() - started, 5)
        self.assertEqual(exchange(port, b"11:upper.hello,"), b"5:HELLO,")
        status, log, err = server.stop()
        self.assertEqual((status, err), (0, ""))
        self.assertEqual(log.splitlines(), [
            "Connection 1 from 127.0.0.1: no answer: no whole request within 0.3 seconds.",
            "Connection 2 from 127.0.0.1: upper: answered with 5 bytes.",
        ])

    def test_a_byte_now_and_then_does_not_restart_the_clock(self):
        server, port = start(self, DEADLINE, "--timeout", "0.5")
        request = b"11:upper.hello,"
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            started = time.monotonic()
            sent = 0
            while sent < len(request):
                sock.sendall(request[sent:sent + 1])
                sent += 1
                readable, _, _ = select.select([sock], [], [], 0.1)
                if readable:
                    break  # the server has hung up
            elapsed = time.monotonic() - started
        # A clock that started again with every byte would not have run out
        # before the whole request was in, 1.5 seconds after the first byte.
        self.assertLess(sent, len(request))
        self.assertLess(elapsed, 1.2)
        status, log, err = server.stop()
        self.assertIn("no answer: no whole request within 0.5 seconds.", log)

    def test_bad_requests_are_still_refused_at_once(self):
        server, port = start(self, DEADLINE, "--timeout", "60")
        self.assertEqual(exchange(port, b"hello\n"), b"")
        self.assertEqual(exchange(port, b"11:shout.hello,"), b"")
        status, log, err = server.stop()
        self.assertIn("Connection 1 from 127.0.0.1: no answer: not a netstring", log)

    def test_ctrl_c_with_a_request_half_sent_logs_nothing(self):
        server, port = start(self, DEADLINE, "--timeout", "30")
        half = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.addCleanup(half.close)
        half.sendall(b"11:upper.hell")
        self.assertEqual(exchange(port, b"11:upper.hello,"), b"5:HELLO,")
        self.assertEqual(server.readline(),
                         "Connection 2 from 127.0.0.1: upper: answered with 5 bytes.\n")
        self.assertEqual(server.stop(), (0, "", ""))

    def test_the_timer_is_cancelled_with_the_connection(self):
        module = load_program(DEADLINE)
        factory = module.TransformFactory(module.TransformService(), timeout=5)
        connection = Connection(factory)
        connection.send(b"11:upper.hello,")
        self.assertTrue(connection.protocol.deadline.active())
        connection.close()
        self.assertFalse(connection.protocol.deadline.active())


class PipelineTests(unittest.TestCase):
    """Exercise 2: several transformations in turn, each waiting for the one before."""

    def test_two_transformations_in_turn(self):
        xform, ports = poetry_and_transform_servers(self, "automne")
        status, out, err = run(PIPELINE, "--transform", "upper,reverse", str(xform),
                               str(ports[0]))
        self.assertEqual((status, err.count("failed")), (0, 0))
        lines = POEMS["automne"].decode().upper().splitlines(keepends=True)
        self.assertEqual(out, "".join(reversed(lines)))

    def test_a_failure_in_the_middle_leaves_the_poem_as_it_was(self):
        xform, ports = poetry_and_transform_servers(self, "tyger")
        status, out, err = run(PIPELINE, "--transform", "upper,shout,cummingsify", str(xform),
                               str(ports[0]))
        self.assertEqual(status, 0)
        self.assertEqual(out, POEMS["tyger"].decode().lower())
        self.assertIn("Task 1: shout failed (", err)
