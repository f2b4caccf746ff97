"""Chapter 13, exercise 1: the two tests of test_untidy.py, made tidy.

The first still schedules its line of Blake for a minute from now, but
on a Clock, which the test advances by a minute in no time.  The second
still returns a Deferred, and now something fires it.

    cd code/solutions/ch13-tidy-tests && python -m twisted.trial test_tidy
"""

from twisted.internet import reactor, task
from twisted.internet.defer import Deferred
from twisted.trial import unittest


class TidyTests(unittest.TestCase):
    def test_a_delayed_call_on_a_clock(self):
        clock = task.Clock()
        lines = []
        clock.callLater(60, lines.append, "Tyger Tyger, burning bright")
        clock.advance(59)
        self.assertEqual(lines, [])
        clock.advance(1)
        self.assertEqual(lines, ["Tyger Tyger, burning bright"])
        self.assertEqual(clock.getDelayedCalls(), [])

    def test_a_deferred_that_fires(self):
        d = Deferred()
        reactor.callLater(0.01, d.callback, "In the forests of the night")
        d.addCallback(self.assertEqual, "In the forests of the night")
        return d

    test_a_deferred_that_fires.timeout = 5  # seconds: a generous limit, never reached
