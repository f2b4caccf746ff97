"""Tests that log an error, which fails them: chapter 13 runs them.

The first test's timer raises, and the reactor logs the exception; the
second test drops a Deferred that has failed, and Twisted logs the
unhandled error when the Deferred is garbage.  The third expects its
error, and takes it out of the log with flushLoggedErrors().

    cd code/solutions/ch13-tidy-tests && python -m twisted.trial test_noisy
"""

from twisted.internet import reactor
from twisted.internet.defer import Deferred, fail
from twisted.trial import unittest


class NoisyTests(unittest.TestCase):
    def test_a_timer_raises(self):
        d = Deferred()

        def tick():
            d.callback(None)  # the test's Deferred fires: the test is over
            raise ValueError("a bug in a timer, after the test's Deferred fired")

        reactor.callLater(0, tick)
        return d

    def test_forgets_a_failed_deferred(self):
        fail(KeyError("no such poem"))  # nobody handles it, and it is garbage at once

    def test_expects_its_error(self):
        fail(KeyError("no such poem"))
        [logged] = self.flushLoggedErrors(KeyError)  # exactly one, and it was expected
        self.assertEqual(logged.value.args, ("no such poem",))
