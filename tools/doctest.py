"""Run the book's doctests, several chapters at a time.

    .venv/bin/python tools/doctest.py              # every chapter (make doctest)
    .venv/bin/python tools/doctest.py 2 10         # chapters 2 and 10 only
    .venv/bin/python tools/doctest.py --jobs 1     # one chapter after another

A doctest spends most of its time waiting: for a slow server's next chunk,
for the timeout a chapter shows, for a program to stop on Ctrl-C.  So the
chapters are shared out among a few sphinx-build processes that run at the
same time, each testing its own chapters.  The sources are read once, first,
and each process starts from a copy of that environment.  The chapters do
not share anything but the machine: each starts its own servers on ports the
system picks, and stops them before it ends.

The results are gathered in _build/doctest/output.txt, the file Sphinx's
doctest builder writes, with one summary per process; the exit status is 1
if any example failed.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "_build"
BIN = Path(sys.executable).parent
OPTIONS = ["-c", ".", "-W", "--keep-going", "-n", "-q"]

SECONDS = {
    "02": 9, "03": 5, "04": 4, "05": 4, "06": 5, "07": 2, "08": 4, "09": 5,
    "10": 10, "11": 4, "12": 7, "13": 4, "14": 8, "15": 4, "16": 4, "17": 7,
    "18": 5, "19": 6,
}
"""Roughly how long each chapter's doctests take, to share them out evenly.

A chapter missing here counts as 5 seconds.  Only the balance depends on
these figures, never a result.
"""


def chapters(wanted: list[int]) -> list[Path]:
    found = sorted(p for p in (ROOT / "book").glob("[0-9][0-9]-*.md"))
    if wanted:
        found = [p for p in found if int(p.name[:2]) in wanted]
    return found


def share_out(files: list[Path], jobs: int) -> list[list[Path]]:
    """Longest first, each to the group with the least work so far."""
    groups: list[list[Path]] = [[] for _ in range(min(jobs, len(files)))]
    load = [0.0] * len(groups)
    for path in sorted(files, key=lambda p: -SECONDS.get(p.name[:2], 5)):
        i = load.index(min(load))
        groups[i].append(path)
        load[i] += SECONDS.get(path.name[:2], 5)
    return groups


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("chapters", nargs="*", type=int, metavar="CHAPTER",
                        help="the chapters to test (default: all)")
    parser.add_argument("--jobs", type=int, default=4,
                        help="sphinx-build processes at once (default: 4)")
    args = parser.parse_args()
    files = chapters(args.chapters)
    if not files:
        parser.error("no such chapter")

    started = time.monotonic()
    sphinx = str(BIN / "sphinx-build")
    doctrees = BUILD / "doctrees"
    # Read every source once (quick when the HTML build has just done it).
    read = subprocess.run([sphinx, "-b", "dummy", "-d", str(doctrees), *OPTIONS,
                           "book", str(BUILD / "dummy")], cwd=ROOT)
    if read.returncode:
        return read.returncode

    shards = BUILD / "doctest-shards"
    shutil.rmtree(shards, ignore_errors=True)
    runs = []
    for number, group in enumerate(share_out(files, max(1, args.jobs)), start=1):
        folder = shards / str(number)
        shutil.copytree(doctrees, folder / "doctrees")
        command = [sphinx, "-b", "doctest", "-d", str(folder / "doctrees"), *OPTIONS,
                   "book", str(folder / "out"), *(str(p.relative_to(ROOT)) for p in group)]
        runs.append((group, folder, subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)))

    report = []
    status = 0
    for group, folder, process in runs:
        output, _ = process.communicate()
        status = status or process.returncode
        if output.strip():
            print(output, end="")
        summary = folder / "out" / "output.txt"
        names = ", ".join(p.stem for p in group)
        text = summary.read_text() if summary.exists() else "(sphinx-build failed)\n"
        report.append(f"== {names}\n{text}")
        if process.returncode or re.search(r"^\s*[1-9]\d* failures? in", text, re.M):
            print(text, end="")  # which examples failed, and how
    (BUILD / "doctest").mkdir(parents=True, exist_ok=True)
    (BUILD / "doctest" / "output.txt").write_text("\n".join(report))

    text = "\n".join(report)
    tests = sum(int(n) for n in re.findall(r"^\s*(\d+) tests?$", text, re.M))
    failed = sum(int(n) for n in re.findall(r"^\s*(\d+) failures? in", text, re.M))
    print(f"{tests} examples in {len(files)} chapters, {failed} failed,"
          f" in {time.monotonic() - started:.1f} s ({len(runs)} at a time);"
          f" details in _build/doctest/output.txt")
    return 1 if status or failed else 0


if __name__ == "__main__":
    sys.exit(main())
