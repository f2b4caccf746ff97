"""Chapter 3: the reactor's basic programs, and the countdowns exercise's solution."""

import io
import sys

from twisted.internet import task
from twisted.trial import unittest

from tests.programs import Program, load_program, run, wait_for_the_reactor

PROGRAMS = {
    name: f"basic-twisted/{name}.py"
    for name in ("simple", "simple-poll", "too-late", "hello", "countdown",
                 "countdown-blocking", "stop-restart", "exception", "stack")
}
COUNTDOWNS = "solutions/ch03-countdowns/countdowns.py"


class StoppableClock(task.Clock):
    """A fake reactor for the countdowns: a task.Clock that can also be stopped."""

    stopped = False

    def stop(self):
        self.stopped = True


def interrupt_when_running(test, relative_path):
    """Start a program, let its reactor start, press Ctrl-C; return (status, out, err).

    The program prints its first line just before reactor.run(), which
    then installs the reactor's own SIGINT handler.
    """
    program = Program(relative_path)
    test.addCleanup(program.end)
    first = program.first_line()
    wait_for_the_reactor(program)
    status, out, err = program.stop()
    return status, first + out, err


class HelpTests(unittest.TestCase):
    def test_every_program_has_help(self):
        for path in [*PROGRAMS.values(), COUNTDOWNS]:
            status, out, err = run(path, "--help")
            self.assertEqual((status, err), (0, ""), path)
            self.assertTrue(out.startswith("usage: "), path)


class RunningTests(unittest.TestCase):
    def test_the_reactor_waits_until_ctrl_c(self):
        status, out, err = interrupt_when_running(self, PROGRAMS["simple"])
        self.assertEqual((status, err), (0, ""))
        self.assertRegex(out, r"^Running the \w+Reactor\. Press Ctrl-C to stop it\.\n$")

    def test_the_poll_reactor_is_installed_first(self):
        status, out, err = interrupt_when_running(self, PROGRAMS["simple-poll"])
        self.assertEqual((status, err), (0, ""))
        self.assertEqual(out, "Running the PollReactor. Press Ctrl-C to stop it.\n")

    def test_installing_a_reactor_too_late_is_an_error(self):
        status, out, err = run(PROGRAMS["too-late"])
        self.assertEqual(status, 1)
        self.assertIn("Installing the PollReactor...", out)
        self.assertTrue(err.endswith("twisted.internet.error.ReactorAlreadyInstalledError:"
                                     " reactor already installed\n"), err)

    def test_hello_is_called_from_inside_the_running_reactor(self):
        program = Program(PROGRAMS["hello"])
        self.addCleanup(program.end)
        self.assertEqual(program.first_line(), "Starting the reactor.\n")
        # Printed by a callback: the reactor runs, its SIGINT handler is in place.
        self.assertEqual(program.first_line(), "Hello, reader, from inside the reactor.\n")
        self.assertEqual(program.stop(), (0, "", ""))


class CountdownTests(unittest.TestCase):
    def test_the_ticker_ticks_between_the_steps(self):
        status, out, err = run(PROGRAMS["countdown"], "--interval", "0.05")
        self.assertEqual((status, err), (0, ""))
        self.assertEqual(out.split(), ["tick", "3...", "tick", "2...", "tick", "1...",
                                       "tick", "Liftoff!"])

    def test_a_sleeping_callback_starves_the_ticker(self):
        status, out, err = run(PROGRAMS["countdown-blocking"], "--interval", "0.05")
        self.assertEqual((status, err), (0, ""))
        self.assertEqual(out.split(), ["tick", "3...", "2...", "1...", "Liftoff!"])

    def test_start(self):
        status, out, err = run(PROGRAMS["countdown"], "--interval", "0.02", "--start", "1")
        self.assertEqual(out.split(), ["tick", "1...", "tick", "Liftoff!"])

    def test_start_at_zero(self):
        status, out, err = run(PROGRAMS["countdown"], "--interval", "0.02", "--start", "0")
        self.assertEqual((status, err), (0, ""))
        self.assertEqual(out.split(), ["tick", "Liftoff!"])

    def test_each_line_is_sent_at_once(self):
        """Into a pipe, each line leaves when it is printed, not when the program ends."""
        for name in ("countdown", "countdown-blocking"):
            # The countdown's first step is 5 s away, its end 15 s: Ctrl-C comes first.
            program = Program(PROGRAMS[name], "--start", "1", "--interval", "10")
            self.addCleanup(program.end)
            self.assertEqual(program.readline(timeout=4), "tick\n", name)
            self.assertEqual(program.stop(), (0, "", ""), name)

    def test_the_countdown_in_simulated_time(self):
        """With a fake clock, the steps come exactly `interval` seconds apart."""
        countdown_module = load_program(PROGRAMS["countdown"])
        clock = StoppableClock()
        self.patch(countdown_module, "reactor", clock)
        output = io.StringIO()
        self.patch(sys, "stdout", output)
        ticker = countdown_module.Ticker(1.0)
        countdown = countdown_module.Countdown(2, 1.0, ticker)
        ticker.tick()
        clock.callLater(0.5, countdown.step)
        clock.advance(0.5)
        self.assertEqual(output.getvalue().split(), ["tick", "2..."])
        clock.advance(0.5)
        clock.advance(0.5)
        self.assertEqual(output.getvalue().split(), ["tick", "2...", "tick", "1..."])
        clock.advance(0.5)
        self.assertFalse(clock.stopped)
        clock.advance(0.5)
        self.assertEqual(output.getvalue().split()[-2:], ["tick", "Liftoff!"])
        self.assertTrue(clock.stopped)
        self.assertEqual(clock.getDelayedCalls(), [])  # the ticker was stopped too


class StopAndFailTests(unittest.TestCase):
    def test_a_stopped_reactor_cannot_run_again(self):
        status, out, err = run(PROGRAMS["stop-restart"])
        self.assertEqual((status, err), (0, ""))
        self.assertEqual(out.splitlines(), [
            "Running the reactor.",
            "Calling reactor.stop().",
            "reactor.stop() has returned, and this callback goes on to its end.",
            "reactor.run() has returned. Running it again...",
            "The second reactor.run() raised ReactorNotRestartable().",
        ])

    def test_an_exception_is_logged_and_the_reactor_goes_on(self):
        status, out, err = run(PROGRAMS["exception"])
        self.assertEqual((status, err), (0, ""))
        lines = out.splitlines()
        self.assertEqual(lines[:3], [
            "This callback is about to fail.",
            "[twisted.internet.base#critical] while handling timed call",
            "Traceback (most recent call last):",
        ])
        self.assertIn("builtins.ValueError: a bug in a callback", lines)
        self.assertEqual(lines[-2:], [
            "The reactor still calls later callbacks. Stopping it.",
            "[twisted.internet.base#info] Main loop terminated.",
        ])
        self.assertNotIn("/", out)  # no directories: the output is the same everywhere

    def test_short_text_without_directories(self):
        short_text = load_program(PROGRAMS["exception"]).short_text
        event = {"log_format": "{what} happened", "what": "Something",
                 "log_namespace": "poetry", "log_level": None}
        self.assertEqual(short_text(event), "[poetry#-] Something happened\n")
        self.assertIsNone(short_text({}))


class StackTests(unittest.TestCase):
    def test_the_reactor_is_under_the_callback(self):
        status, out, err = run(PROGRAMS["stack"])
        self.assertEqual((status, err), (0, ""))
        self.assertEqual(out.splitlines(), [
            "__main__.<module>",
            "__main__.main",
            "twisted.internet.base.ReactorBase.run",
            "twisted.internet.base.ReactorBase.mainLoop",
            "twisted.internet.base.ReactorBase.runUntilCurrent",
            "__main__.callback",
        ])

    def test_the_full_stack_is_python_s(self):
        status, out, err = run(PROGRAMS["stack"], "--full")
        self.assertEqual((status, err), (0, ""))
        self.assertIn(", in runUntilCurrent\n", out)
        self.assertIn("traceback.print_stack(file=sys.stdout)", out)


class CountdownsSolutionTests(unittest.TestCase):
    def test_countdowns_interleave_and_the_last_one_stops_the_reactor(self):
        status, out, err = run(COUNTDOWNS, "--interval", "0.02", "3", "1", "2", "0")
        self.assertEqual((status, err), (0, ""))
        self.assertEqual(out.splitlines(), [
            "Countdown 1: 3...",
            "Countdown 2: 1...",
            "Countdown 3: 2...",
            "Countdown 4: Liftoff!",
            "Countdown 1: 2...",
            "Countdown 2: Liftoff!",
            "Countdown 3: 1...",
            "Countdown 1: 1...",
            "Countdown 3: Liftoff!",
            "Countdown 1: Liftoff!",
        ])

    def test_each_line_is_sent_at_once(self):
        """Into a pipe, each line leaves when it is printed, not when the program ends."""
        program = Program(COUNTDOWNS, "--interval", "10", "2", "1")  # 20 s to the end
        self.addCleanup(program.end)
        self.assertEqual(program.readline(timeout=4), "Countdown 1: 2...\n")
        self.assertEqual(program.readline(timeout=4), "Countdown 2: 1...\n")
        self.assertEqual(program.stop(), (0, "", ""))

    def test_a_countdown_in_simulated_time(self):
        countdowns = load_program(COUNTDOWNS)
        clock = task.Clock()
        output = io.StringIO()
        self.patch(sys, "stdout", output)
        done = []
        countdown = countdowns.Countdown(clock, "A", 2, 10.0, lambda: done.append(clock.seconds()))
        countdown.step()
        clock.advance(10)
        self.assertEqual(done, [])
        clock.advance(10)
        self.assertEqual(done, [20.0])
        self.assertEqual(output.getvalue(), "A: 2...\nA: 1...\nA: Liftoff!\n")

    def test_the_last_one_stops_the_reactor(self):
        countdowns = load_program(COUNTDOWNS)
        clock = StoppableClock()
        self.patch(countdowns, "reactor", clock)
        last_one = countdowns.LastOneStops(2)
        last_one.one_done()
        self.assertFalse(clock.stopped)
        last_one.one_done()
        self.assertTrue(clock.stopped)
