"""Run every check of the book, as `make test` does, and count the results.

Each step runs in turn, even after one fails, so that one run shows every
problem.  Steps that run many tests (the doctests, the trial suite, the
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


def count_browser(output: str, status: int) -> tuple[int, int, int]:
    """The browser test counts its own checks; with no browser it is skipped."""
    match = re.search(r"^(\d+) passed, (\d+) failed(?:, (\d+) skipped)?$", output, re.M)
    if not match:
        return 0, 1, 0
    passed, failed, skipped = (int(n or 0) for n in match.groups())
    return passed, failed or (1 if status else 0), skipped


STEPS = [
    ("HTML build, warning-free", sphinx("html"), one_check),
    ("doctests: every example program", [sys.executable, "tools/run_doctests.py"], count_doctests),
    ("trial tests in code/tests, warnings as errors",
     [sys.executable, "-m", "twisted.trial", f"--jobs={TRIAL_JOBS}",
      "--temp-directory", "../_build/_trial_temp", "tests"],
     count_trial),
    ("spelling", sphinx("spelling"), one_check),
    ("ruff", [str(BIN / "ruff"), "check", "--quiet", "."], one_check),
    ("browser test of the HTML book", [sys.executable, "tools/browser_test.py"], count_browser),
]


def main() -> int:
    passed = failed = skipped = 0
    (ROOT / "_build" / "doctest" / "output.txt").unlink(missing_ok=True)
    for title, command, count in STEPS:
        shown = " ".join([Path(command[0]).name, *command[1:]])
        print(f"== {title}: {shown}", flush=True)
        started = time.monotonic()
        trial = "twisted.trial" in command
        result = subprocess.run(command, cwd=ROOT / "code" if trial else ROOT,
                                env={**os.environ, **STRICT} if trial else None,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        ok, bad, *rest = count(result.stdout, result.returncode)
        skipped += sum(rest)
        if bad or result.returncode:
            print(result.stdout.rstrip())
        elif title.startswith(("doctests", "trial", "browser")):
            print("\n".join(result.stdout.rstrip().splitlines()[-6:]))
        print(f"   {ok} passed, {bad} failed{f', {sum(rest)} skipped' if sum(rest) else ''}"
              f" in {time.monotonic() - started:.1f} s", flush=True)
        passed += ok
        failed += bad
    print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
