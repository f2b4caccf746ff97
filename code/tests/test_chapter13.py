"""Chapter 13: the chapter's examples of testing with trial, and its tested solutions.

Four ways to test the book's programs in this process: a real server on
port 0 and the real client on the real reactor; a protocol on a
StringTransport; a client whose reactor has been replaced by a Clock or a
MemoryReactorClock.  TrialTests runs trial itself, as a process, on tests
that break its rules; the last two classes run the solutions to the
chapter's exercises, from code/solutions/ch13-*/.
"""

import io
import os
import signal
import subprocess
import sys
import warnings

from twisted.internet import reactor, task
from twisted.internet.address import IPv4Address
from twisted.internet.defer import Deferred
from twisted.internet.error import (
    ConnectionAborted,
    ConnectionDone,
    ConnectionLost,
    ConnectionRefusedError,
)
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.python.failure import Failure
from twisted.trial import unittest

from tests.programs import CODE, POEMS, environment, load_program, refused_port

SERVER = "twisted-server-1/fastpoetry.py"
CLIENT = "twisted-client-4/get-poetry.py"
ADDRESS = IPv4Address("TCP", "127.0.0.1", 10001)  # only a name: no socket uses it


class ServerTests(unittest.TestCase):
    """The real fast poetry server on port 0, and the real client of chapter 8."""

    timeout = 5  # seconds, for each test of this class; trial's default is 120

    def setUp(self):
        self.log = io.StringIO()
        self.patch(sys, "stdout", self.log)  # the server prints a line per connection
        server = load_program(SERVER)
        factory = server.PoetryFactory(POEMS["science"])
        self.port = reactor.listenTCP(0, factory, interface="127.0.0.1")
        self.client = load_program(CLIENT)

    def tearDown(self):
        return self.port.stopListening()

    def test_a_client_gets_the_whole_poem(self):
        port = self.port.getHost().port
        d = self.client.get_poetry("127.0.0.1", port)
        d.addCallback(self.assertEqual, POEMS["science"])
        return d

    def test_the_server_logs_each_connection(self):
        port = self.port.getHost().port
        d = self.client.get_poetry("127.0.0.1", port)
        d.addCallback(lambda poem: self.client.get_poetry("127.0.0.1", port))
        d.addCallback(lambda poem: self.assertEqual(self.log.getvalue(), (
            "Connection 1 from 127.0.0.1.\n"
            "Connection 1: sent 673 bytes.\n"
            "Connection 2 from 127.0.0.1.\n"
            "Connection 2: sent 673 bytes.\n")))
        return d


class RefusedTests(unittest.TestCase):
    def test_a_refused_connection_fails_the_deferred(self):
        client = load_program(CLIENT)
        d = client.get_poetry("127.0.0.1", refused_port(self))
        return self.assertFailure(d, ConnectionRefusedError)


class StringTransportTests(unittest.TestCase):
    """The server's protocol on a transport that only records: no socket, no reactor."""

    def test_the_server_writes_the_poem_and_hangs_up(self):
        factory = load_program(SERVER).PoetryFactory(POEMS["tyger"])
        protocol = factory.buildProtocol(ADDRESS)
        transport = StringTransport(peerAddress=ADDRESS)
        self.patch(sys, "stdout", io.StringIO())
        protocol.makeConnection(transport)
        self.assertEqual(transport.value(), POEMS["tyger"])
        self.assertTrue(transport.disconnecting)

    def test_the_server_logs_a_client_that_hangs_up(self):
        factory = load_program(SERVER).PoetryFactory(POEMS["tyger"])
        protocol = factory.buildProtocol(ADDRESS)
        log = io.StringIO()
        self.patch(sys, "stdout", log)
        protocol.makeConnection(StringTransport(peerAddress=ADDRESS))
        # The server logs nothing while the reactor is not running, as at
        # Ctrl-C; in this test it never runs, so play a running reactor.
        self.patch(reactor, "running", True)
        protocol.connectionLost(Failure(ConnectionLost()))
        self.assertEqual(log.getvalue().splitlines()[-1],
                         "Connection 1: lost: Connection to the other side"
                         " was lost in a non-clean fashion.")


class IdleTimeoutTests(unittest.TestCase):
    """The client's idle timer, on a Clock in place of the reactor: no waiting."""

    def setUp(self):
        self.clock = task.Clock()
        client = load_program(CLIENT)
        self.patch(client, "reactor", self.clock)  # what the program calls "reactor"
        self.deferred = Deferred()
        factory = client.PoetryClientFactory(self.deferred, 10.0)
        self.protocol = factory.buildProtocol(ADDRESS)
        self.transport = StringTransport()
        self.protocol.makeConnection(self.transport)

    def test_silence_hangs_up_after_the_timeout(self):
        self.clock.advance(9.5)
        self.assertFalse(self.transport.disconnected)
        self.clock.advance(0.5)
        self.assertTrue(self.transport.disconnected)  # silence() aborted the connection
        self.assertNoResult(self.deferred)
        # A StringTransport closes nothing: play the reactor, which would now
        # tell the protocol that its connection was aborted.
        self.protocol.connectionLost(Failure(ConnectionAborted()))
        failure = self.failureResultOf(self.deferred, TimeoutError)
        self.assertEqual(failure.getErrorMessage(),
                         "the server said nothing for 10 seconds")

    def test_each_chunk_restarts_the_timer(self):
        poem = POEMS["tyger"]
        for chunk in (poem[:300], poem[300:600], poem[600:]):
            self.clock.advance(9.5)
            self.protocol.dataReceived(chunk)
        self.clock.advance(9.5)
        self.assertEqual(self.clock.seconds(), 38.0)  # four pauses, none too long
        self.assertFalse(self.transport.disconnected)
        self.protocol.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(self.successResultOf(self.deferred), poem)
        self.assertEqual(self.clock.getDelayedCalls(), [])


class MemoryReactorTests(unittest.TestCase):
    """get_poetry() itself, on a reactor that connects nothing and keeps fake time."""

    def setUp(self):
        self.reactor = MemoryReactorClock()
        self.client = load_program(CLIENT)
        self.patch(self.client, "reactor", self.reactor)

    def connect(self, d):
        """Play the network: the connection that get_poetry() asked for is made."""
        [(host, port, factory, timeout, bindAddress)] = self.reactor.tcpClients
        self.assertEqual((host, port, timeout), ("127.0.0.1", 10001, 5.0))
        protocol = factory.buildProtocol(IPv4Address("TCP", host, port))
        transport = StringTransport()
        protocol.makeConnection(transport)
        self.assertNoResult(d)
        return protocol, transport

    def test_a_poem(self):
        d = self.client.get_poetry("127.0.0.1", 10001, 5.0)
        protocol, transport = self.connect(d)
        protocol.dataReceived(POEMS["automne"])
        protocol.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(self.successResultOf(d), POEMS["automne"])

    def test_a_silent_server(self):
        d = self.client.get_poetry("127.0.0.1", 10001, 5.0)
        protocol, transport = self.connect(d)
        self.reactor.advance(5.0)
        self.assertTrue(transport.disconnected)
        protocol.connectionLost(Failure(ConnectionAborted()))
        self.failureResultOf(d, TimeoutError)

    def test_a_refused_connection(self):
        d = self.client.get_poetry("127.0.0.1", 10001, 5.0)
        [(_, _, factory, _, _)] = self.reactor.tcpClients
        [connector] = self.reactor.connectors
        factory.clientConnectionFailed(connector, Failure(ConnectionRefusedError()))
        self.failureResultOf(d, ConnectionRefusedError)


def trial(test, folder: str, module: str) -> tuple[int, str]:
    """Run trial on a test module in code/<folder>, as a process; return (status, output)."""
    result = subprocess.run(
        [sys.executable, "-m", "twisted.trial", "--temp-directory",
         os.path.abspath(test.mktemp()), module],
        cwd=CODE / folder, env=environment(), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, timeout=60,
    )
    return result.returncode, result.stdout


class TrialTests(unittest.TestCase):
    """trial itself, run as a process on two tests that break its rules."""

    def test_untidy_tests_fail(self):
        status, output = trial(self, "solutions/ch13-tidy-tests", "test_untidy")
        self.assertEqual(status, 1, output)
        self.assertIn("DirtyReactorAggregateError: Reactor was unclean.\n"
                      "DelayedCalls: ", output)
        self.assertRegex(output, r"<DelayedCall 0x[0-9a-f]+ \[\d+\.\d+s\] called=0 cancelled=0 "
                                 r"print\('Tyger Tyger, burning bright'\)>")
        self.assertIn("(test_waits_forever) still running at 0.1 secs", output)
        self.assertIn("\nFAILED (errors=2)\n", output)


    def test_an_error_logged_during_a_test_fails_it(self):
        status, output = trial(self, "solutions/ch13-tidy-tests", "test_noisy")
        self.assertEqual(status, 1, output)
        self.assertIn("builtins.ValueError: a bug in a timer, after the test's Deferred"
                      " fired\n\ntest_noisy.NoisyTests.test_a_timer_raises\n", output)
        self.assertIn("Failure: builtins.KeyError: 'no such poem'\n\n"
                      "test_noisy.NoisyTests.test_forgets_a_failed_deferred\n", output)
        self.assertRegex(output, r"test_expects_its_error \.\.\. +\[OK\]")
        self.assertIn("\nFAILED (errors=2, successes=1)\n", output)

    def test_stopping_the_reactor_stops_the_whole_run(self):
        status, output = trial(self, "solutions/ch13-tidy-tests", "test_stop")
        self.assertEqual(status, -signal.SIGINT, output)  # as Ctrl-C ends it: $? is 130
        self.assertIn("\nKeyboardInterrupt\n", output)
        self.assertIn("test_1_stops_the_reactor", output)
        self.assertNotIn("test_2_never_runs", output)


class ReactorStopTests(unittest.TestCase):
    """What reactor.stop is while trial runs a test."""

    def test_while_the_test_method_runs_stop_warns(self):
        self.assertFalse(reactor.running)  # trial has not started it yet
        # Not called: trial's own reactor would stop for good.  The wrapper is
        # the function that warns (DeprecationWarning) and calls the original.
        self.assertEqual(reactor.stop.__qualname__,
                         "TestCase._makeReactorMethod.<locals>._")
        self.assertEqual(type(reactor).stop.__qualname__, "ReactorBase.stop")

    def test_while_the_reactor_runs_stop_is_trials_own(self):
        d = Deferred()

        def look():
            self.assertTrue(reactor.running)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                stop = reactor.stop  # not called: it would crash the loop
            self.assertEqual(caught, [])
            self.assertIn("_wait", stop.__qualname__)  # TestCase._wait()'s: crash()
            d.callback(None)

        reactor.callLater(0, look)
        return d


class TidySolutionTests(load_program("solutions/ch13-tidy-tests/test_tidy.py").TidyTests):
    """Exercise 1: the untidy tests, made tidy."""


class DeadlineSolutionTests(
        load_program("solutions/ch13-deadline-clock/test_deadline.py").DeadlineTests):
    """Exercise 2: chapter 8's deadline, tested in fake time."""
