"""Run every check of the book, as `make test` does, and count the results.

Every step runs, even after one fails, so that one run shows every
problem.  The steps run in three lanes at once: the doctests and the trial
tests spend most of their time waiting for the programs they run, so they
go side by side with the lane that builds the HTML book, checks its
spelling and opens it in a browser; once the trial tests are done, their
lane builds the PDF and the EPUB and measures them (tools/check_formats.py).
Each step's result is printed when it
ends.  Steps that run many tests (the doctests, the trial suite, the
browser test) count each test; the others count as one check each.  With
no Chromium installed, the browser test says so and counts as skipped,
not passed.  The last line is the summary CI reads: "N passed, N failed"
(", N skipped" when something could not run).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SPHINX_OPTIONS = ["-c", ".", "-W", "--keep-going", "-n", "-q"]
TRIAL_JOBS = 4
"""Trial's worker processes: most tests wait on programs, not on the processor."""
STRICT = {"PYTHONWARNINGS": "error", "PYTHONDEVMODE": "1"}
"""The trial tests run with every warning an error, and Python's development mode."""


def sphinx(builder: str) -> list[str]:
    """The same sphinx-build command as the Makefile's."""
    return [str(BIN / "sphinx-build"), "-M", builder, "book", "_build", *SPHINX_OPTIONS]


def count_doctests(output: str, status: int) -> tuple[int, int]:
    # tools/run_doctests.py gathers every sphinx-build's summary in output.txt.
    summary = ROOT / "_build" / "doctest" / "output.txt"
    if summary.exists():
        output += summary.read_text()
    tests = sum(int(n) for n in re.findall(r"^\s*(\d+) tests?$", output, re.M))
    failed = sum(int(n) for n in re.findall(r"^\s*(\d+) failures? in", output, re.M))
    if status and not failed:
        failed = 1
    return tests - min(failed, tests), failed


def count_trial(output: str, status: int) -> tuple[int, int]:
    match = re.search(r"^(PASSED|FAILED) \((.*)\)$", output, re.M)
    if not match:
        return 0, 1
    counts = dict((k, int(v)) for k, v in re.findall(r"(\w+)=(\d+)", match.group(2)))
    failed = sum(counts.get(k, 0) for k in ("failures", "errors", "unexpectedSuccesses"))
    skipped = counts.get("skips", 0)
    if skipped:  # a skipped test is a test that did not run: it counts as failed
        failed += skipped
    return counts.get("successes", 0), failed or (1 if status else 0)


def one_check(output: str, status: int) -> tuple[int, int]:
    return (0, 1) if status else (1, 0)


def count_own(output: str, status: int) -> tuple[int, int, int]:
    """A step that counts its own checks (the browser test: skipped with no browser)."""
    match = re.search(r"^(\d+) passed, (\d+) failed(?:, (\d+) skipped)?$", output, re.M)
    if not match:
        return 0, 1, 0
    passed, failed, skipped = (int(n or 0) for n in match.groups())
    return passed, failed or (1 if status else 0), skipped


LANES = [
    [
        ("ruff", [str(BIN / "ruff"), "check", "--quiet", "."], one_check),
        ("HTML build, warning-free", sphinx("html"), one_check),
        ("spelling", sphinx("spelling"), one_check),
        ("browser test of the HTML book", [sys.executable, "tools/browser_test.py"],
         count_own),
    ],
    [("doctests: every example program", [sys.executable, "tools/run_doctests.py"],
      count_doctests)],
    [("trial tests in code/tests, warnings as errors",
      [sys.executable, "-m", "twisted.trial", f"--jobs={TRIAL_JOBS}",
       "--temp-directory", "../_build/_trial_temp", "tests"],
      count_trial),
     ("PDF and EPUB: the publisher's checklist", [sys.executable, "tools/check_formats.py"],
      count_own)],
]


class Tally:
    """The counts of every step, and the lock that keeps their reports whole."""

    def __init__(self) -> None:
        self.passed = self.failed = self.skipped = 0
        self.lock = threading.Lock()

    def run(self, title: str, command: list[str], count) -> None:
        started = time.monotonic()
        trial = "twisted.trial" in command
        result = subprocess.run(command, cwd=ROOT / "code" if trial else ROOT,
                                env={**os.environ, **STRICT} if trial else None,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        ok, bad, *rest = count(result.stdout, result.returncode)
        with self.lock:
            shown = " ".join([Path(command[0]).name, *command[1:]])
            print(f"== {title}: {shown}")
            if bad or result.returncode:
                print(result.stdout.rstrip())
            elif title.startswith(("doctests", "trial", "browser")):
                print("\n".join(result.stdout.rstrip().splitlines()[-6:]))
            print(f"   {ok} passed, {bad} failed{f', {sum(rest)} skipped' if sum(rest) else ''}"
                  f" in {time.monotonic() - started:.1f} s", flush=True)
            self.passed += ok
            self.failed += bad
            self.skipped += sum(rest)

    def lane(self, steps) -> None:
        for title, command, count in steps:
            self.run(title, command, count)


def main() -> int:
    started = time.monotonic()
    (ROOT / "_build" / "doctest" / "output.txt").unlink(missing_ok=True)
    tally = Tally()
    lanes = [threading.Thread(target=tally.lane, args=(steps,)) for steps in LANES]
    for lane in lanes:
        lane.start()
    for lane in lanes:
        lane.join()
    print(f"(all checks in {time.monotonic() - started:.0f} s)")
    print(f"{tally.passed} passed, {tally.failed} failed"
          + (f", {tally.skipped} skipped" if tally.skipped else ""))
    return 1 if tally.failed else 0


if __name__ == "__main__":
    sys.exit(main())
