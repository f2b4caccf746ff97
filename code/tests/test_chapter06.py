"""Chapter 6: get_poetry() with a callback (the client that hangs) and with an errback."""

import io
import sys
import time

from twisted.internet import error, reactor
from twisted.internet.address import IPv4Address
from twisted.internet.defer import Deferred
from twisted.internet.error import (
    ConnectionAborted,
    ConnectionDone,
    ConnectionLost,
    ConnectionRefusedError,
)
from twisted.internet.protocol import ClientFactory, Factory, Protocol
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure
from twisted.trial import unittest

from tests.programs import (
    POEMS,
    Program,
    listener,
    load_program,
    refused_port,
    reset,
    run,
    start_server,
    unanswered_port,
    wait_for_the_reactor,
    wait_until_read,
)

CLIENT = "twisted-client-3/get-poetry.py"
HANGS = "twisted-client-3/get-poetry-hangs.py"
FIRST = "solutions/ch06-first-poem/get-poetry.py"
ADDRESS = IPv4Address("TCP", "127.0.0.1", 10001)
NO_POEM = "the server closed the connection without sending a poem"


class HangUp(Protocol):
    """A server's protocol that closes every connection at once, without a word."""

    def connectionMade(self):
        self.transport.loseConnection()


class Outcomes:
    """A callback and an errback that record what they are called with."""

    def __init__(self):
        self.calls = []

    def callback(self, poem):
        self.calls.append(("callback", poem))

    def errback(self, failure):
        self.calls.append(("errback", failure))


class ProtocolTests(unittest.TestCase):
    """The final PoetryProtocol and PoetryClientFactory, on a StringTransport."""

    def setUp(self):
        self.module = load_program(CLIENT)
        self.outcomes = Outcomes()
        self.factory = self.module.PoetryClientFactory(
            self.outcomes.callback, self.outcomes.errback, 10.0)
        self.protocol = self.factory.buildProtocol(ADDRESS)
        self.transport = StringTransport()
        self.protocol.makeConnection(self.transport)
        self.addCleanup(self.stop_timer)

    def stop_timer(self):
        if self.protocol.timer.active():
            self.protocol.timer.cancel()

    def test_a_whole_poem_goes_to_the_callback(self):
        poem = POEMS["automne"]
        for i in range(0, len(poem), 7):
            self.protocol.dataReceived(poem[i:i + 7])
        self.protocol.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(self.outcomes.calls, [("callback", poem)])
        self.assertFalse(self.protocol.timer.active())

    def test_an_empty_poem_goes_to_the_errback(self):
        self.protocol.connectionLost(Failure(ConnectionDone()))  # and not a byte before it
        [(kind, failure)] = self.outcomes.calls
        self.assertEqual(kind, "errback")
        self.assertIs(failure.type, ConnectionError)
        self.assertEqual(failure.getErrorMessage(), NO_POEM)

    def test_a_broken_connection_goes_to_the_errback(self):
        self.protocol.dataReceived(b"half a poem")
        reason = Failure(ConnectionLost())
        self.protocol.connectionLost(reason)
        self.assertEqual(self.outcomes.calls, [("errback", reason)])

    def test_silence_goes_to_the_errback_as_a_timeout(self):
        self.protocol.silence()
        self.assertTrue(self.transport.disconnected)
        self.protocol.connectionLost(Failure(ConnectionAborted()))
        [(kind, failure)] = self.outcomes.calls
        self.assertEqual(kind, "errback")
        self.assertIs(failure.type, TimeoutError)
        self.assertEqual(failure.getErrorMessage(), "the server said nothing for 10 seconds")

    def test_a_failed_connection_goes_to_the_errback(self):
        reason = Failure(ConnectionRefusedError(111, "Connection refused"))
        self.factory.clientConnectionFailed(None, reason)
        self.assertEqual(self.outcomes.calls, [("errback", reason)])

    def test_a_connection_that_takes_too_long_goes_to_the_errback_in_words(self):
        self.factory.clientConnectionFailed(None, Failure(error.TimeoutError()))  # Twisted's
        [(kind, failure)] = self.outcomes.calls
        self.assertEqual(kind, "errback")
        self.assertIs(failure.type, TimeoutError)  # Python's, as for a silent server
        self.assertEqual(failure.getErrorMessage(), "no answer within 10 seconds")

    def test_the_protocol_and_factory_print_nothing(self):
        stderr, stdout = io.StringIO(), io.StringIO()
        self.patch(sys, "stderr", stderr)
        self.patch(sys, "stdout", stdout)
        self.protocol.dataReceived(b"Tyger Tyger")
        self.protocol.connectionLost(Failure(ConnectionDone()))
        self.factory.clientConnectionFailed(None, Failure(ConnectionRefusedError()))
        self.assertEqual((stdout.getvalue(), stderr.getvalue()), ("", ""))


class HangingFactoryTests(unittest.TestCase):
    def test_it_keeps_the_default_client_connection_failed(self):
        module = load_program(HANGS)
        self.assertIs(module.PoetryClientFactory.clientConnectionFailed,
                      ClientFactory.clientConnectionFailed)

    def test_it_ignores_a_broken_connection(self):
        module = load_program(HANGS)
        outcomes = Outcomes()
        protocol = module.PoetryClientFactory(outcomes.callback).buildProtocol(ADDRESS)
        protocol.makeConnection(StringTransport())
        protocol.dataReceived(b"half a poem")
        protocol.connectionLost(Failure(ConnectionLost()))
        self.assertEqual(outcomes.calls, [])

    def test_it_ignores_an_empty_poem(self):
        """An empty poem is no poem, and this factory has nobody to tell."""
        module = load_program(HANGS)
        outcomes = Outcomes()
        protocol = module.PoetryClientFactory(outcomes.callback).buildProtocol(ADDRESS)
        protocol.makeConnection(StringTransport())
        protocol.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(outcomes.calls, [])


class GetPoetryTests(unittest.TestCase):
    """get_poetry() in this process, on the real reactor, against real servers."""

    def fetch(self, port, timeout=5.0):
        """get_poetry() from the final client, its two callbacks turned into a Deferred."""
        get_poetry = load_program(CLIENT).get_poetry
        result = Deferred()
        get_poetry("127.0.0.1", port, result.callback, result.errback, timeout)
        return result

    def test_calls_back_with_the_poem(self):
        d = self.fetch(start_server(self, "automne"))
        d.addCallback(self.assertEqual, POEMS["automne"])
        return d

    def test_calls_the_errback_for_a_refused_connection(self):
        return self.assertFailure(self.fetch(refused_port(self)), ConnectionRefusedError)

    def test_calls_the_errback_for_a_silent_server(self):
        _, port = listener(self)
        return self.assertFailure(self.fetch(port, timeout=0.2), TimeoutError)

    def test_calls_the_errback_for_a_connection_never_made(self):
        d = self.assertFailure(self.fetch(unanswered_port(self), timeout=0.2), TimeoutError)
        d.addCallback(lambda error: self.assertEqual(str(error), "no answer within 0.2 seconds"))
        return d

    def test_calls_the_errback_for_an_empty_poem(self):
        server = reactor.listenTCP(0, Factory.forProtocol(HangUp), interface="127.0.0.1")
        self.addCleanup(server.stopListening)
        d = self.assertFailure(self.fetch(server.getHost().port), ConnectionError)
        d.addCallback(lambda error: self.assertEqual(str(error), NO_POEM))
        return d

    def test_returns_before_anything_happens(self):
        d = self.fetch(start_server(self, "automne"))
        self.assertFalse(d.called)
        return d


class HangingClientTests(unittest.TestCase):
    def test_works_when_every_server_is_up(self):
        ports = [start_server(self, name) for name in ("science", "automne")]
        status, out, err = run(HANGS, *map(str, ports))
        self.assertEqual(status, 0, err)
        self.assertEqual(out.encode(), POEMS["science"] + b"\n" + POEMS["automne"])
        self.assertEqual(sorted(err.splitlines()[:2]), [
            f"Task 1: got 673 bytes of poetry from 127.0.0.1:{ports[0]}",
            f"Task 2: got 341 bytes of poetry from 127.0.0.1:{ports[1]}",
        ])

    def test_hangs_with_a_server_down_until_ctrl_c(self):
        live, dead = start_server(self), refused_port(self)
        program = Program(HANGS, str(live), str(dead))
        self.addCleanup(program.end)
        self.assertEqual(program.readline("stderr"),
                         f"Task 1: got 673 bytes of poetry from 127.0.0.1:{live}\n")
        time.sleep(1)
        self.assertIsNone(program.popen.poll(), "it did not hang")
        status, out, err = program.stop()
        self.assertEqual((status, out, err), (130, "", ""))


class ClientTests(unittest.TestCase):
    """The final client as a process."""

    def test_one_server_of_three_down(self):
        ports = [start_server(self, "science"), start_server(self, "ozymandias"),
                 refused_port(self)]
        status, out, err = run(CLIENT, *map(str, ports))
        self.assertEqual(status, 1)
        self.assertEqual(out.encode(), POEMS["science"] + b"\n" + POEMS["ozymandias"])
        lines = err.splitlines()
        self.assertEqual(sorted(lines[:3]), [
            f"Task 1: got 673 bytes of poetry from 127.0.0.1:{ports[0]}",
            f"Task 2: got 676 bytes of poetry from 127.0.0.1:{ports[1]}",
            f"Task 3: cannot get poetry from 127.0.0.1:{ports[2]}: Connection refused",
        ])
        self.assertRegex(lines[3], r"^Got 2 of 3 poems in \d+\.\d seconds\.$")
        self.assertEqual(len(lines), 4)

    def test_a_silent_server_times_out(self):
        _, silent = listener(self)
        status, out, err = run(CLIENT, "--timeout", "0.3", str(silent))
        self.assertEqual(status, 1)
        self.assertIn(f"Task 1: cannot get poetry from 127.0.0.1:{silent}: "
                      "the server said nothing for 0.3 seconds\n", err)

    def test_a_reset_connection_is_a_failure(self):
        server, port = listener(self)
        program = Program(CLIENT, str(port))
        connection, _ = server.accept()
        connection.sendall(b"Tyger Tyger")
        wait_until_read(connection)
        reset(connection)
        status, out, err = program.finish()
        self.assertEqual((status, out), (1, ""))
        self.assertIn(f"Task 1: cannot get poetry from 127.0.0.1:{port}: Connection to the "
                      "other side was lost in a non-clean fashion.\n", err)

    def test_an_empty_poem_is_a_failure(self):
        server, port = listener(self)
        program = Program(CLIENT, str(port))
        connection, _ = server.accept()
        connection.close()  # not a byte
        status, out, err = program.finish()
        self.assertEqual((status, out), (1, ""))
        self.assertEqual(err.splitlines()[0],
                         f"Task 1: cannot get poetry from 127.0.0.1:{port}: {NO_POEM}")

    def test_a_connection_that_is_never_made(self):
        stuck = unanswered_port(self)
        status, out, err = run(CLIENT, "--timeout", "0.3", str(stuck))
        self.assertEqual((status, out), (1, ""))
        self.assertEqual(err.splitlines()[0], f"Task 1: cannot get poetry from 127.0.0.1:{stuck}: "
                                              "no answer within 0.3 seconds")

    def test_ctrl_c_stops_it_quietly(self):
        server, silent = listener(self)
        program = Program(CLIENT, str(silent))
        self.addCleanup(program.end)
        self.addCleanup(server.accept()[0].close)  # connected, and waiting
        wait_for_the_reactor(program)
        status, out, err = program.stop()
        self.assertEqual((status, out, err), (130, "", ""))

    def test_help(self):
        for program in (CLIENT, HANGS, FIRST):
            status, out, err = run(program, "--help")
            self.assertEqual((status, err), (0, ""))
            self.assertIn("a poetry server's [host:]port", out)
        self.assertIn("--timeout", run(CLIENT, "--help")[1])
        self.assertNotIn("--timeout", run(HANGS, "--help")[1])


class FirstPoemTests(unittest.TestCase):
    """The solution to exercise 1: get_poetry_from_any()."""

    def test_the_first_server_that_has_a_poem(self):
        dead, live = refused_port(self), start_server(self, "automne")
        _, silent = listener(self)
        status, out, err = run(FIRST, "--timeout", "0.3", str(dead), str(silent), str(live))
        self.assertEqual(status, 0, err)
        self.assertEqual(out.encode(), POEMS["automne"])
        self.assertEqual(err.splitlines()[:2], [
            f"Cannot get poetry from 127.0.0.1:{dead}: Connection refused",
            f"Cannot get poetry from 127.0.0.1:{silent}: the server said nothing for 0.3 seconds",
        ])
        self.assertIn(f"Got a poem from 127.0.0.1:{live} in ", err)

    def test_an_empty_poem_is_no_poem(self):
        server, empty = listener(self)
        live = start_server(self, "tyger")
        program = Program(FIRST, str(empty), str(live))
        server.accept()[0].close()  # not a byte
        status, out, err = program.finish()
        self.assertEqual(status, 0, err)
        self.assertEqual(out.encode(), POEMS["tyger"])
        self.assertEqual(err.splitlines()[0],
                         f"Cannot get poetry from 127.0.0.1:{empty}: {NO_POEM}")

    def test_stops_at_the_first_poem(self):
        first, second = start_server(self, "science"), refused_port(self)
        status, out, err = run(FIRST, str(first), str(second))
        self.assertEqual(status, 0, err)
        self.assertEqual(out.encode(), POEMS["science"])
        self.assertNotIn(str(second), err)

    def test_no_server_has_a_poem(self):
        dead = [refused_port(self), refused_port(self)]
        status, out, err = run(FIRST, *map(str, dead))
        self.assertEqual((status, out), (1, ""))
        self.assertTrue(err.endswith("No server had a poem.\n"), err)
