"""A test that stops the reactor: chapter 13 runs it, and trial gives up.

While trial runs the reactor for a test, its stop() ends the loop; the
test's Deferred has not fired, so trial takes it for Ctrl-C, and stops
the whole run with KeyboardInterrupt.  The second test never runs.

    cd code/solutions/ch13-tidy-tests && python -m twisted.trial test_stop
"""

from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.trial import unittest


class StopTests(unittest.TestCase):
    def test_1_stops_the_reactor(self):
        d = Deferred()
        reactor.callLater(0, reactor.stop)  # as a main() does once its work is done
        reactor.callLater(0.1, d.callback, None)
        return d

    def test_2_never_runs(self):
        pass
