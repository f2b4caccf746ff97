"""Chapter 1: threads that lose updates to a shared counter, and what threads cost."""

import re

from twisted.trial import unittest

from tests.programs import load_program, run

COUNTER = "models/counter.py"
WAITING = "models/waiting-threads.py"
TIMINGS = "models/thread-timings.py"


def sizes(out: str) -> dict[str, float]:
    """The KiB a thread from waiting-threads.py's report, by what grew."""
    return {what: float(kib.replace(",", ""))
            for what, kib in re.findall(r"^(\w[\w ]*) grew by .*: ([\d,.]+) KiB a thread\.$",
                                        out, re.MULTILINE)}


class CounterTests(unittest.TestCase):
    def test_every_run_loses_additions(self):
        status, out, err = run(COUNTER)
        self.assertEqual((status, err), (0, ""))
        self.assertEqual(out.splitlines(), [
            "4 threads each added 1 to a counter 100 times, in 10 runs.",
            "The counter ended short of 400 in 10 of 10 runs.",
        ])

    def test_a_lock_loses_none(self):
        status, out, err = run(COUNTER, "--lock")
        self.assertEqual((status, err), (0, ""))
        self.assertEqual(out.splitlines()[-1],
                         "The counter ended short of 400 in 0 of 10 runs.")

    def test_one_run_in_this_process(self):
        counter = load_program(COUNTER)
        self.assertLess(counter.one_run(4, 100, locked=False), 400)
        self.assertEqual(counter.one_run(4, 100, locked=True), 400)

    def test_one_thread_alone_loses_nothing(self):
        """The additions are lost between threads, not by the way they are written."""
        counter = load_program(COUNTER)
        self.assertEqual(counter.one_run(1, 100, locked=False), 100)

    def test_impossible_arguments(self):
        for option in ("--threads", "--times", "--runs"):
            status, out, err = run(COUNTER, f"{option}=0")
            self.assertEqual((status, out), (2, ""), option)
            self.assertIn(f"argument {option}: not a whole number, 1 or more: '0'", err)


class WaitingThreadsTests(unittest.TestCase):
    def test_a_waiting_thread_reserves_far_more_than_it_occupies(self):
        status, out, err = run(WAITING, "500", timeout=30)
        self.assertEqual((status, err), (0, ""))
        self.assertRegex(out, r"^Started 500 threads in [\d.]+ seconds; each is waiting\.\n")
        grew = sizes(out)
        self.assertLess(grew["Resident memory"], 100)  # KiB a thread: 16 on Linux x86-64
        self.assertGreater(grew["Address space"], 10 * grew["Resident memory"])


class ThreadTimingsTests(unittest.TestCase):
    def test_a_hand_off_costs_many_calls(self):
        status, out, err = run(TIMINGS, "--turns", "2000", "--work", "100000")
        self.assertEqual((status, err), (0, ""))
        lines = out.splitlines()
        self.assertRegex(lines[0], r"^A hand-off between two threads: [\d.]+ microseconds,$")
        calls = int(re.match(r"as long as (\d+) calls of a Python function", lines[1])[1])
        self.assertGreater(calls, 5)
        self.assertRegex(lines[2], r"^Computing twice: [\d.]+ seconds in one thread, "
                                   r"[\d.]+ seconds in two threads\.$")
