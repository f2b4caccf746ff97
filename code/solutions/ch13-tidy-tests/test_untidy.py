"""Two tests that break trial's rules, on purpose: chapter 13 runs them to fail.

The first leaves a delayed call in the reactor; the second returns a
Deferred that nothing will ever fire.  test_tidy.py, beside this file, is
the solution to the chapter's first exercise: the same two tests, tidy.

    cd code/solutions/ch13-tidy-tests && python -m twisted.trial test_untidy
"""

from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.trial import unittest


class UntidyTests(unittest.TestCase):
    def test_leaves_a_delayed_call(self):
        reactor.callLater(60, print, "Tyger Tyger, burning bright")

    def test_waits_forever(self):
        return Deferred()  # and nothing will ever fire it

    test_waits_forever.timeout = 0.1  # seconds, for this test only
