"""Chapter 8: get_poetry() returns a Deferred, which the factory fires once."""

import os
import signal

from twisted.internet import error, reactor
from twisted.internet.address import IPv4Address
from twisted.internet.defer import AlreadyCalledError, Deferred
from twisted.internet.error import (
    ConnectionDone,
    ConnectionLost,
    ConnectionRefusedError,
    UserError,
)
from twisted.internet.task import deferLater
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure
from twisted.trial import unittest

from tests.programs import (
    POEMS,
    Program,
    listener,
    load_program,
    process_state,
    refused_port,
    run,
    start_server,
    tcp_socket,
    unanswered_port,
    wait_for_the_reactor,
    wait_until,
    wait_until_read,
)

CLIENT = "twisted-client-4/get-poetry.py"
STACK = "twisted-client-4/get-poetry-stack.py"
DEADLINE = "solutions/ch08-deadline/get-poetry.py"
ADDRESS = IPv4Address("TCP", "127.0.0.1", 10001)
NO_POEM = "the server closed the connection without sending a poem"
CLOSE_WAIT = 8
"""The state of a TCP socket whose other side has closed the connection."""


class Outcomes:
    """Records every result a Deferred's chain is called with."""

    def __init__(self, d):
        self.calls = []
        d.addCallbacks(self.callback, self.errback)

    def callback(self, poem):
        self.calls.append(("callback", poem))

    def errback(self, failure):
        self.calls.append(("errback", failure))


class FactoryTests(unittest.TestCase):
    """PoetryProtocol and PoetryClientFactory on a StringTransport: no sockets, no reactor."""

    def setUp(self):
        self.module = load_program(CLIENT)
        self.deferred = Deferred()
        self.outcomes = Outcomes(self.deferred)
        self.factory = self.module.PoetryClientFactory(self.deferred, 10.0)
        self.protocol = self.factory.buildProtocol(ADDRESS)
        self.protocol.makeConnection(StringTransport())
        self.addCleanup(self.stop_timer)

    def stop_timer(self):
        if self.protocol.timer.active():
            self.protocol.timer.cancel()

    def test_a_whole_poem_fires_the_callback(self):
        self.protocol.dataReceived(POEMS["tyger"])
        self.protocol.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(self.outcomes.calls, [("callback", POEMS["tyger"])])
        self.assertIsNone(self.factory.deferred)

    def test_an_empty_poem_fires_the_errback(self):
        self.protocol.connectionLost(Failure(ConnectionDone()))  # and not a byte before it
        [(kind, failure)] = self.outcomes.calls
        self.assertEqual((kind, failure.type, failure.getErrorMessage()),
                         ("errback", ConnectionError, NO_POEM))
        self.assertIsNone(self.factory.deferred)

    def test_a_connection_that_takes_too_long_fails_in_words(self):
        self.factory.clientConnectionFailed(None, Failure(error.TimeoutError()))  # Twisted's
        [(kind, failure)] = self.outcomes.calls
        self.assertEqual((kind, failure.type, failure.getErrorMessage()),
                         ("errback", TimeoutError, "no answer within 10 seconds"))

    def test_a_failed_connection_fires_the_errback(self):
        reason = Failure(ConnectionRefusedError(111, "Connection refused"))
        self.factory.clientConnectionFailed(None, reason)
        self.assertEqual(self.outcomes.calls, [("errback", reason)])
        self.assertIsNone(self.factory.deferred)

    def test_it_fires_once_when_the_news_comes_twice(self):
        """A connection that failed, then a connection that ends: one firing, no exception."""
        reason = Failure(ConnectionRefusedError(111, "Connection refused"))
        self.factory.clientConnectionFailed(None, reason)
        self.protocol.dataReceived(b"half a poem")
        self.protocol.connectionLost(Failure(ConnectionDone()))  # would be a "poem"
        self.assertEqual(self.outcomes.calls, [("errback", reason)])

    def test_a_late_clean_close_after_giving_up(self):
        """A timeout races the end of the poem, and wins: the half poem is ignored."""
        self.protocol.dataReceived(b"Tyger Tyger, burning")
        late = Failure(TimeoutError("no whole poem after 1 seconds"))
        self.factory.poem_failed(late)
        self.protocol.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(self.outcomes.calls, [("errback", late)])

    def test_it_lets_go_before_it_fires(self):
        """The chain may call back into the factory while it runs: that call finds nothing."""
        seen = []

        def meddle(result):
            seen.append(self.factory.deferred)
            self.factory.poem_failed(Failure(ConnectionLost()))  # re-entrant: ignored
            return result

        self.deferred.addBoth(meddle)
        self.factory.poem_finished(b"a poem")
        self.assertEqual(seen, [None])
        self.assertEqual(self.outcomes.calls, [("callback", b"a poem")])

    def test_without_letting_go_the_second_firing_raises(self):
        """What the factory protects us from: a careless factory fires the same Deferred twice."""

        class Careless(self.module.PoetryClientFactory):
            def poem_finished(self, poem):
                self.deferred.callback(poem)

            def poem_failed(self, reason):
                self.deferred.errback(reason)

        careless = Careless(Deferred(), 10.0)
        careless.clientConnectionFailed(None, Failure(ConnectionRefusedError()))
        self.assertRaises(AlreadyCalledError, careless.poem_finished, b"half a poem")
        careless.deferred.addErrback(lambda failure: None)  # handled: nothing to log


class GetPoetryTests(unittest.TestCase):
    """get_poetry() in this process, on the real reactor, against real servers."""

    def test_returns_a_deferred_that_fires_with_the_poem(self):
        get_poetry = load_program(CLIENT).get_poetry
        d = get_poetry("127.0.0.1", start_server(self, "automne"), 5.0)
        self.assertIsInstance(d, Deferred)
        self.assertFalse(d.called)
        d.addCallback(self.assertEqual, POEMS["automne"])
        return d

    def test_fails_for_a_refused_connection(self):
        get_poetry = load_program(CLIENT).get_poetry
        d = get_poetry("127.0.0.1", refused_port(self), 5.0)
        self.assertFalse(d.called)  # even a refusal is news for a later turn of the loop
        return self.assertFailure(d, ConnectionRefusedError)

    def test_fails_for_a_connection_never_made(self):
        get_poetry = load_program(CLIENT).get_poetry
        d = self.assertFailure(get_poetry("127.0.0.1", unanswered_port(self), 0.2), TimeoutError)
        d.addCallback(lambda error: self.assertEqual(str(error), "no answer within 0.2 seconds"))
        return d

    def test_fails_for_a_silent_server(self):
        _, port = listener(self)
        get_poetry = load_program(CLIENT).get_poetry
        return self.assertFailure(get_poetry("127.0.0.1", port, 0.2), TimeoutError)


class ClientTests(unittest.TestCase):
    """twisted-client-4 as a process."""

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

    def test_every_server_up(self):
        ports = [start_server(self, "tyger"), start_server(self, "automne")]
        status, out, err = run(CLIENT, *map(str, ports))
        self.assertEqual(status, 0, err)
        self.assertEqual(out.encode(), POEMS["tyger"] + b"\n" + POEMS["automne"])
        self.assertIn("Got 2 of 2 poems in ", err)

    def test_a_silent_server_times_out(self):
        _, silent = listener(self)
        status, out, err = run(CLIENT, "--timeout", "0.3", str(silent))
        self.assertEqual((status, out), (1, ""))
        self.assertTrue(err.startswith(f"Task 1: cannot get poetry from 127.0.0.1:{silent}: "
                                       "the server said nothing for 0.3 seconds\n"), err)

    def test_an_empty_poem_is_a_failure(self):
        for program in (CLIENT, STACK, DEADLINE):
            server, port = listener(self)
            client = Program(program, str(port))
            connection, _ = server.accept()
            connection.close()  # not a byte
            status, out, err = client.finish()
            self.assertEqual((status, out), (1, ""), program)
            self.assertEqual(err.splitlines()[0],
                             f"Task 1: cannot get poetry from 127.0.0.1:{port}: {NO_POEM}", program)

    def test_a_connection_that_is_never_made(self):
        stuck = unanswered_port(self)
        status, out, err = run(CLIENT, "--timeout", "0.3", str(stuck))
        self.assertEqual((status, out), (1, ""))
        self.assertEqual(err.splitlines()[0], f"Task 1: cannot get poetry from 127.0.0.1:{stuck}: "
                                              "no answer within 0.3 seconds")

    def test_ctrl_c_as_the_last_poem_ends(self):
        """Ctrl-C and the end of the last poem in one turn of the loop: two stops, no error.

        The client is stopped (SIGSTOP) while the server closes the
        connection and Ctrl-C is pressed; when it goes on (SIGCONT), the
        reactor hears of both at once.  Ctrl-C queues a stop for the next
        turn of the loop, and in this turn the last download ends and
        done() asks for a stop of its own.
        """
        server, port = listener(self)
        program = Program(CLIENT, str(port))
        self.addCleanup(program.end)
        self.addCleanup(lambda: program.popen.poll() is None
                        and os.kill(program.popen.pid, signal.SIGCONT))  # if the test failed
        connection, (_, client_port) = server.accept()
        self.addCleanup(connection.close)
        connection.sendall(POEMS["tyger"])
        wait_until_read(connection)  # the reactor is running
        # Waiting, which it does in one place only: in the reactor, for the next event.
        wait_until(lambda: process_state(program.popen.pid) == "S", "the client never waited")
        os.kill(program.popen.pid, signal.SIGSTOP)
        wait_until(lambda: process_state(program.popen.pid) == "T", "the client never stopped")
        connection.close()
        wait_until(lambda: tcp_socket(client_port, port)[0] == CLOSE_WAIT,
                   "the server's close never reached the client")
        program.interrupt()  # Ctrl-C, pending until the client goes on
        os.kill(program.popen.pid, signal.SIGCONT)
        status, out, err = program.finish()
        self.assertNotIn("ReactorNotRunning", err)
        self.assertNotIn("Traceback", err)
        self.assertEqual((status, out.encode()), (0, POEMS["tyger"]), err)

    def test_ctrl_c_stops_it_quietly(self):
        """Connected and waiting, or still connecting: Ctrl-C, status 130, not a word."""
        _, silent = listener(self)
        program = Program(CLIENT, str(silent), str(unanswered_port(self)))
        self.addCleanup(program.end)
        wait_for_the_reactor(program)
        self.assertEqual(program.stop(), (130, "", ""))

    def test_help(self):
        status, out, err = run(CLIENT, "--help")
        self.assertEqual((status, err), (0, ""))
        self.assertIn("a poetry server's [host:]port", out)
        self.assertIn("--timeout", out)
        self.assertIn("returns a Deferred", " ".join(out.split()))


class StackTests(unittest.TestCase):
    def test_prints_who_calls_got_poem_once(self):
        port = start_server(self, "science")
        status, out, err = run(STACK, str(port))
        self.assertEqual(status, 0, err)
        lines = err.splitlines()
        calls = lines[:lines.index("__main__.main.<locals>.got_poem") + 1]
        self.assertEqual(calls[:4], [
            "__main__.<module>",
            "__main__.main",
            "twisted.internet.base.ReactorBase.run",
            "twisted.internet.base.ReactorBase.mainLoop",
        ])
        self.assertEqual(calls[-6:], [
            "__main__.PoetryProtocol.connectionLost",
            "__main__.PoetryClientFactory.poem_finished",
            "twisted.internet.defer.Deferred.callback",
            "twisted.internet.defer.Deferred._startRunCallbacks",
            "twisted.internet.defer.Deferred._runCallbacks",
            "__main__.main.<locals>.got_poem",
        ])
        self.assertEqual(err.count("__main__.main\n"), 1)
        self.assertEqual(out.encode(), POEMS["science"])


class DeadlineTests(unittest.TestCase):
    """The solution to exercise 3: a deadline for the whole download."""

    def test_gives_up_at_the_deadline(self):
        slow = start_server(self, "science", "--num-bytes", "20", "--delay", "0.05")  # 1.7 s
        never = unanswered_port(self)
        status, out, err = run(DEADLINE, "--deadline", "0.15", str(slow), str(never))
        self.assertEqual((status, out), (1, ""))
        self.assertEqual(sorted(err.splitlines()[:2]), [
            f"Task 1: cannot get poetry from 127.0.0.1:{slow}: no whole poem after 0.15 seconds",
            f"Task 2: cannot get poetry from 127.0.0.1:{never}: no whole poem after 0.15 seconds",
        ])
        self.assertNotIn("Error", err)
        self.assertEqual(len(err.splitlines()), 3)

    def test_a_poem_within_the_deadline(self):
        status, out, err = run(DEADLINE, "--deadline", "5", str(start_server(self, "tyger")))
        self.assertEqual(status, 0, err)
        self.assertEqual(out.encode(), POEMS["tyger"])

    def test_the_hang_up_is_ignored(self):
        """In this process: after the deadline, the clean close brings half a poem; nobody hears."""
        module = load_program(DEADLINE)
        slow = start_server(self, "science", "--num-bytes", "20", "--delay", "0.05")
        factories = []
        build = module.PoetryClientFactory.buildProtocol
        finished = module.PoetryClientFactory.poem_finished

        def spy_build(factory, address):
            factories.append(factory)
            return build(factory, address)

        half_poems = []

        def spy_finished(factory, poem):
            half_poems.append(poem)
            finished(factory, poem)

        self.patch(module.PoetryClientFactory, "buildProtocol", spy_build)
        self.patch(module.PoetryClientFactory, "poem_finished", spy_finished)
        d = module.get_poetry("127.0.0.1", slow, 5.0, 0.15)
        d = self.assertFailure(d, TimeoutError)
        d.addCallback(lambda _: deferLater(reactor, 0.2, lambda: None))  # let the close arrive

        def check(_):
            [factory] = factories
            self.assertIsNone(factory.deferred)
            [half_poem] = half_poems  # reported by the protocol as a poem, and ignored
            self.assertTrue(POEMS["science"].startswith(half_poem))
            self.assertLess(len(half_poem), len(POEMS["science"]))

        return d.addCallback(check)

    def test_giving_up_while_connecting(self):
        module = load_program(DEADLINE)
        reasons = []
        failed = module.PoetryClientFactory.clientConnectionFailed

        def spy(factory, connector, reason):
            reasons.append(reason)
            failed(factory, connector, reason)

        self.patch(module.PoetryClientFactory, "clientConnectionFailed", spy)
        d = module.get_poetry("127.0.0.1", unanswered_port(self), 5.0, 0.1)
        d = self.assertFailure(d, TimeoutError)
        # The chain runs inside give_up(), before it hangs up: look a moment later.
        d.addCallback(lambda _: deferLater(reactor, 0, lambda: None))
        d.addCallback(lambda _: [reason.type for reason in reasons])
        d.addCallback(self.assertEqual, [UserError])  # the hang-up, heard and ignored
        return d
