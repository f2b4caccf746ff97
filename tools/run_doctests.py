"""Run the book's doctests, several chapters at a time.

    .venv/bin/python tools/run_doctests.py              # every chapter (make doctest)
    .venv/bin/python tools/run_doctests.py 2 10         # chapters 2 and 10 only
    .venv/bin/python tools/run_doctests.py --jobs 1     # one chapter after another

A doctest spends most of its time waiting: for a slow server's next chunk,
for the timeout a chapter shows, for a program to stop on Ctrl-C.  So the
chapters are shared out among a few sphinx-build processes that run at the
same time, each testing its own chapters.  The sources are read once, first,
and each process starts from a copy of that environment.  The chapters do
not share anything but the machine: each starts its own servers on ports the
system picks, and stops them before it ends.

The results are gathered in _build/doctest/output.txt, the file Sphinx's
doctest builder writes, with one summary per process; the exit status is 1
if any example failed.  _build/doctest/results.json records, for each
chapter, how many examples ran and how many failed, with the date, the
versions of Python and Twisted, and fingerprints of the chapter and of the
programs: every chapter built afterwards from the same sources says so in
a line under its title (book/_ext/poetrybook.py writes it).
"""

from __future__ import annotations

import argparse
import datetime
import fcntl
import importlib.metadata
import json
import platform
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))
from poetrybook import fingerprint, programs_fingerprint  # noqa: E402

BUILD = ROOT / "_build"
BIN = Path(sys.executable).parent
OPTIONS = ["-c", ".", "-W", "--keep-going", "-n", "-q"]

SECONDS = {
    "01": 1, "02": 7, "03": 7, "04": 4, "05": 2, "06": 3, "07": 3, "08": 2, "09": 2,
    "10": 5, "11": 6, "12": 7, "13": 9, "14": 2, "15": 4, "16": 2, "17": 3, "18": 3,
    "19": 1, "20": 5, "21": 4, "22": 3, "23": 5, "24": 4, "25": 2, "26": 1,
    "pr": 1, "ap": 1,
}
"""Roughly how long each chapter's doctests take, to share them out evenly.

Measured one chapter at a time (tools/run_doctests.py N), less the three
seconds that any sphinx-build spends starting.  A document missing here
(by the first two letters of its name) counts as 5 seconds.  Only the
balance depends on these figures, never a result.
"""


def chapters(wanted: list[int]) -> list[Path]:
    """The book's documents with examples: the chapters, the preface, the appendices.

    With chapter numbers, those chapters only.
    """
    found = sorted(p for p in (ROOT / "book").glob("*.md") if "{testcode}" in p.read_text())
    if wanted:
        found = [p for p in found if p.name[:2].isdigit() and int(p.name[:2]) in wanted]
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


def chapter_results(output: str) -> dict[str, tuple[int, int]]:
    """(examples, failures) for each document in a doctest builder's output.txt."""
    results = {}
    for document, body in re.findall(r"^Document: (\S+)\n-+\n(.*?)(?=^Document: |\Z)",
                                      output, re.M | re.S):
        match = re.search(r"^(\d+) passed and (\d+) failed\.$", body, re.M)
        if match:
            passed, failed = int(match.group(1)), int(match.group(2))
            results[document] = (passed + failed, failed)
    return results


def write_results(files: list[Path], report: str, broken: set[str]) -> None:
    """Record each chapter's results, for the line the book prints under its title.

    ``broken`` names the chapters whose sphinx-build failed as a whole: with
    no result, they count as failed.
    """
    path = BUILD / "doctest" / "results.json"
    previous = json.loads(path.read_text()) if path.exists() else {}
    chapters = previous.get("chapters", {}) if previous.get("programs") == (
        code := programs_fingerprint()) else {}
    counts = chapter_results(report)
    for chapter in files:
        examples, failed = counts.get(chapter.stem, (0, 1 if chapter.stem in broken else 0))
        chapters[chapter.stem] = {"examples": examples, "failed": failed,
                                  "source": fingerprint([chapter]),
                                  "date": datetime.date.today().isoformat()}
    path.write_text(json.dumps({
        "python": platform.python_version(),
        "twisted": importlib.metadata.version("twisted"),
        "programs": code,
        "chapters": chapters,
    }, indent=2) + "\n")


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
    # One run at a time: a second one would delete this one's shards.
    BUILD.mkdir(exist_ok=True)
    lock = (BUILD / "doctest.lock").open("w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    sphinx = str(BIN / "sphinx-build")
    # Read every source once, into doctrees of its own: make test builds the
    # HTML book (into _build/doctrees) at the same time.
    doctrees = BUILD / "doctest-doctrees"
    read = subprocess.run([sphinx, "-b", "read", "-j", "auto", "-d", str(doctrees), *OPTIONS,
                           "book", str(BUILD / "read")], cwd=ROOT)
    if read.returncode:
        return read.returncode

    print(f"{time.monotonic() - started:5.1f} s: the sources read")
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
    broken: set[str] = set()
    for group, folder, process in runs:
        output, _ = process.communicate()
        status = status or process.returncode
        if process.returncode:
            broken.update(p.stem for p in group)
        if output.strip():
            print(output, end="")
        summary = folder / "out" / "output.txt"
        names = ", ".join(p.stem for p in group)
        text = summary.read_text() if summary.exists() else ""
        if "Doctest summary" not in text:  # the run did not finish: nothing was tested
            text += "(this sphinx-build gave no summary)\n"
            broken.update(p.stem for p in group)
            status = status or 1
        report.append(f"== {names}\n{text}")
        if process.returncode or re.search(r"^\s*[1-9]\d* failures? in", text, re.M):
            print(text, end="")  # which examples failed, and how
    (BUILD / "doctest").mkdir(parents=True, exist_ok=True)
    (BUILD / "doctest" / "output.txt").write_text("\n".join(report))

    text = "\n".join(report)
    write_results(files, text, broken)
    tests = sum(int(n) for n in re.findall(r"^\s*(\d+) tests?$", text, re.M))
    failed = sum(int(n) for n in re.findall(r"^\s*(\d+) failures? in", text, re.M))
    print(f"{tests} examples in {len(files)} documents, {failed} failed,"
          f" in {time.monotonic() - started:.1f} s ({len(runs)} at a time);"
          f" details in _build/doctest/output.txt")
    return 1 if status or failed else 0


if __name__ == "__main__":
    sys.exit(main())
