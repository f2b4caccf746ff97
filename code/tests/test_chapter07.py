"""Chapter 7: the Deferred on its own, and the chapter's exercise solutions."""

import contextlib
import io
import subprocess
import sys

from twisted.internet.defer import AlreadyCalledError, Deferred
from twisted.trial import unittest

from tests.programs import CODE, ROOT, environment, load_program, run

FOLDER = "twisted-deferred"
PROGRAMS = {
    name: f"{FOLDER}/{name}.py"
    for name in ("first-deferred", "fire-once", "two-chains", "failure",
                 "raise-or-return", "recovery", "reactor-fires", "unhandled")
}
ONLY_REFUSED = "solutions/ch07-only-refused/only-refused.py"
RECOVERY_SYNC = "solutions/ch07-try-statement/recovery-sync.py"


def output_of(test, program, *args):
    """Run a program that must succeed silently on stderr; return its stdout lines."""
    status, out, err = run(program, *args)
    test.assertEqual((status, err), (0, ""))
    return out.splitlines()


class EveryProgramTests(unittest.TestCase):
    def test_help(self):
        for program in [*PROGRAMS.values(), ONLY_REFUSED, RECOVERY_SYNC]:
            status, out, err = run(program, "--help")
            self.assertEqual((status, err), (0, ""), program)
            first_line = load_program(program).__doc__.split("\n\n")[0]
            # argparse wraps the description, and may break it after a hyphen.
            self.assertIn("".join(first_line.split()), "".join(out.split()), program)


class FirstDeferredTests(unittest.TestCase):
    def test_fired_with_a_poem(self):
        self.assertEqual(output_of(self, PROGRAMS["first-deferred"]), [
            "Firing the Deferred.",
            "got_poem got 'Tyger Tyger, burning bright,'",
            "Fired: the chain ran before that call returned.",
        ])

    def test_fired_with_an_error(self):
        self.assertEqual(output_of(self, PROGRAMS["first-deferred"], "--fail")[1],
                         "poem_failed got Failure "
                         "ConnectionRefusedError('nobody listens on port 10001')")

    def test_needs_no_reactor(self):
        """Running the program does not even import the reactor."""
        script = (
            "import runpy, sys\n"
            f"sys.argv = [{str(CODE / PROGRAMS['first-deferred'])!r}]\n"
            "runpy.run_path(sys.argv[0], run_name='__main__')\n"
            "print('reactor imported:', 'twisted.internet.reactor' in sys.modules)\n"
        )
        result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=environment(),
                                capture_output=True, text=True, timeout=10)
        self.assertEqual(result.stderr, "")
        self.assertEqual(result.stdout.splitlines()[-1], "reactor imported: False")


class FireOnceTests(unittest.TestCase):
    def test_second_firing_raises(self):
        self.assertEqual(output_of(self, PROGRAMS["fire-once"]), [
            "got_poem got 'the first poem'",
            "d.callback() again: AlreadyCalledError",
            "d.errback() after d.callback(): AlreadyCalledError",
        ])

    def test_the_chain_does_not_run_again(self):
        got = []
        d = Deferred()
        d.addCallback(got.append)
        d.callback(1)
        self.assertRaises(AlreadyCalledError, d.callback, 2)
        self.assertEqual(got, [1])


class TwoChainsTests(unittest.TestCase):
    def test_success_takes_the_callbacks(self):
        self.assertEqual(output_of(self, PROGRAMS["two-chains"]), [
            "callback_1 got 'a poem'",
            "callback_3 got 'a poem'",
            "finish got 'A POEM'",
        ])

    def test_failure_takes_the_errbacks(self):
        self.assertEqual(output_of(self, PROGRAMS["two-chains"], "--fail"), [
            "errback_2 got Failure ValueError('no poem today')",
            "errback_3 got Failure ValueError('no poem today')",
            "finish got None",
        ])


class FailureTests(unittest.TestCase):
    def test_an_errback_gets_a_failure(self):
        self.assertEqual(output_of(self, PROGRAMS["failure"]), [
            "type(failure): <class 'twisted.python.failure.Failure'>",
            "failure.value: ValueError('not a poem')",
            "failure.check(KeyError): None",
            "failure.check(KeyError, ValueError): <class 'ValueError'>",
            "failure.check(Exception): <class 'Exception'>",
        ])


class RaiseOrReturnTests(unittest.TestCase):
    def test_both_switch_to_the_errbacks(self):
        self.assertEqual(output_of(self, PROGRAMS["raise-or-return"]), [
            "raise_an_exception got 'a poem'",
            "next_errback got Failure ValueError('raised')",
            "return_a_failure got 'a poem'",
            "next_errback got Failure ValueError('returned')",
        ])


class RecoveryTests(unittest.TestCase):
    expected = [
        "callback_1 got '  a poem  '",
        "callback_2 got 'a poem'",
        "errback_4 got Failure ValueError('this poem does not scan')",
        "callback_5 got 'a stand-in poem'",
        "finish got 'A Stand-In Poem'",
    ]

    def test_an_errback_that_returns_a_value_recovers(self):
        self.assertEqual(output_of(self, PROGRAMS["recovery"]), self.expected)

    def test_the_try_statement_prints_the_same(self):
        """Exercise 3's solution: the chain of recovery.py as a try statement."""
        self.assertEqual(output_of(self, RECOVERY_SYNC), self.expected)


class ReactorFiresTests(unittest.TestCase):
    def test_the_reactor_fires_and_the_chain_stops_it(self):
        self.assertEqual(output_of(self, PROGRAMS["reactor-fires"]), [
            "Starting the reactor.",
            "got_poem got 'Tyger Tyger, burning bright,'",
            "Stopping the reactor.",
            "The reactor has stopped.",
        ])

    def test_it_stops_after_an_error_too(self):
        self.assertEqual(output_of(self, PROGRAMS["reactor-fires"], "--fail"), [
            "Starting the reactor.",
            "poem_failed got Failure ConnectionRefusedError('nobody listens on port 10001')",
            "Stopping the reactor.",
            "The reactor has stopped.",
        ])


class UnhandledTests(unittest.TestCase):
    def test_logged_at_garbage_collection(self):
        lines = output_of(self, PROGRAMS["unhandled"])
        self.assertEqual(lines[:3], [
            "callback_1 got 'a poem'",
            "The chain has run to its end, with a Failure as its result.",
            "del d: the program has no name for the Deferred any more.",
        ])
        self.assertEqual(lines[3], "[twisted.internet.defer#critical] Unhandled error in Deferred:")
        self.assertIn("Traceback (most recent call last):", lines)
        self.assertIn('  File "unhandled.py", line 31, in callback_1', lines)
        self.assertEqual(lines[-2:], ["builtins.ValueError: this poem does not scan",
                                      "gc.collect(): done."])

    def test_no_directories_in_the_log(self):
        text = "\n".join(output_of(self, PROGRAMS["unhandled"]))
        self.assertNotIn("/", text)
        self.assertNotIn(str(ROOT), text)

    def test_as_text_has_no_time_stamp_or_trailing_spaces(self):
        as_text = load_program(PROGRAMS["unhandled"]).as_text
        event = {"log_format": "Hello, {name}. ", "name": "reader", "log_time": 0.0,
                 "log_namespace": "poetry", "log_level": None}
        self.assertEqual(as_text(event), "[poetry#-] Hello, reader.\n")


class OnlyRefusedTests(unittest.TestCase):
    """Exercise 2's solution: an errback that handles one kind of error only."""

    def fire_with(self, error):
        """A Deferred with only_refused as its errback, fired with error; what it printed."""
        d = Deferred()
        d.addErrback(load_program(ONLY_REFUSED).only_refused)
        with contextlib.redirect_stdout(io.StringIO()) as stdout:
            d.errback(error)
        return d, stdout.getvalue()

    def test_handles_a_refused_connection(self):
        d, printed = self.fire_with(ConnectionRefusedError("nobody listens"))
        self.assertEqual(self.successResultOf(d),
                         "[no poem: the server refused the connection]")
        self.assertEqual(printed,
                         "only_refused handles Failure ConnectionRefusedError('nobody listens')\n")

    def test_passes_on_any_other_error(self):
        d, printed = self.fire_with(ValueError("not a poem"))
        failure = self.failureResultOf(d, ValueError)
        self.assertEqual(str(failure.value), "not a poem")
        self.assertEqual(printed, "only_refused passes on Failure ValueError('not a poem')\n")

    def test_the_program(self):
        self.assertEqual(output_of(self, ONLY_REFUSED), [
            "only_refused handles Failure ConnectionRefusedError('nobody listens on port 10001')",
            "got_poem got '[no poem: the server refused the connection]'",
            "only_refused passes on Failure ValueError('not a poem')",
            "poem_failed got Failure ValueError('not a poem')",
        ])
