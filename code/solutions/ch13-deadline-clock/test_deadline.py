"""Chapter 13, exercise 2: chapter 8's deadline, tested in fake time.

The client of code/solutions/ch08-deadline/ gives up on a download that
takes longer than --deadline seconds.  Its tests in test_chapter08.py wait
for real; these replace the program's reactor with a MemoryReactorClock,
play the network by hand, and take no time at all.

    cd code
    PYTHONPATH=solutions/ch13-deadline-clock python -m twisted.trial test_deadline

The book's suite runs them as tests.test_chapter13.DeadlineSolutionTests.
"""

from twisted.internet.address import IPv4Address
from twisted.internet.error import ConnectionDone, UserError
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.python.failure import Failure
from twisted.trial import unittest

from tests.programs import POEMS, load_program

DEADLINE = "solutions/ch08-deadline/get-poetry.py"


class DeadlineTests(unittest.TestCase):
    def setUp(self):
        self.reactor = MemoryReactorClock()
        client = load_program(DEADLINE)
        self.patch(client, "reactor", self.reactor)
        self.d = client.get_poetry("127.0.0.1", 10001, timeout=10.0, deadline=30.0)
        [(_, _, self.factory, _, _)] = self.reactor.tcpClients
        [connector] = self.reactor.connectors
        self.hang_ups = []
        self.patch(connector, "disconnect",
                   lambda: self.hang_ups.append(self.reactor.seconds()))

    def connect(self):
        """Play the network: the connection is made."""
        protocol = self.factory.buildProtocol(IPv4Address("TCP", "127.0.0.1", 10001))
        protocol.makeConnection(StringTransport())
        return protocol

    def test_a_poem_in_time(self):
        protocol = self.connect()
        poem = POEMS["tyger"]
        for part in (poem[:300], poem[300:600], poem[600:]):
            self.reactor.advance(9)
            protocol.dataReceived(part)
        self.reactor.advance(2)  # 29 seconds: just in time
        protocol.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(self.successResultOf(self.d), POEMS["tyger"])
        self.assertEqual(self.hang_ups, [])
        self.assertEqual(self.reactor.getDelayedCalls(), [])  # the deadline: cancelled

    def test_a_slow_server_loses_the_race(self):
        """A line every 5 seconds keeps the idle timer quiet; time is up at 30."""
        protocol = self.connect()
        for line in POEMS["tyger"].splitlines(keepends=True)[:6]:
            self.assertNoResult(self.d)
            protocol.dataReceived(line)
            self.reactor.advance(5)
        failure = self.failureResultOf(self.d, TimeoutError)
        self.assertEqual(failure.getErrorMessage(), "no whole poem after 30 seconds")
        self.assertEqual(self.hang_ups, [30.0])
        # The hang-up ends the connection cleanly, and the protocol reports
        # half a poem as a poem: the factory has let go, and ignores it.
        protocol.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(self.reactor.getDelayedCalls(), [])

    def test_giving_up_while_connecting(self):
        self.reactor.advance(29.5)
        self.assertNoResult(self.d)
        self.reactor.advance(0.5)
        self.failureResultOf(self.d, TimeoutError)
        self.assertEqual(self.hang_ups, [30.0])
        # Hanging up on a connection still being made fails it: ignored too.
        self.factory.clientConnectionFailed(None, Failure(UserError()))
        self.assertEqual(self.reactor.getDelayedCalls(), [])
