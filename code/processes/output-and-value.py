"""Run another program with getProcessOutputAndValue(): one Deferred, no protocol.

For a program that reads a text, writes an answer and exits, that is all
you need: the Deferred fires with (output, errors, exit status) once the
program has ended.  A program killed by a signal fails the Deferred, and
the Failure's value is then a tuple, (output, errors, signal), not an
exception.

Give the program and its arguments after "--":

    python code/processes/output-and-value.py -- tr a-z A-Z
    python code/processes/output-and-value.py -- sh -c 'echo no poem today >&2; exit 3'
"""

import argparse
import os
import shutil
import sys

from twisted.internet import task
from twisted.internet.defer import Deferred
from twisted.internet.utils import getProcessOutputAndValue
from twisted.python.failure import Failure

TEXT = "Tyger Tyger, burning bright,\nIn the forests of the night;\n"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", nargs="+",
                        help='the program to run and its arguments, after "--"')
    parser.add_argument("--text", default=TEXT,
                        help="the text to write to its standard input"
                             " (default: two lines of Blake)")
    return parser.parse_args()


def show(result: tuple[bytes, bytes, int]) -> int:
    out, err, status = result
    print(f"Exit status {status}; {len(out)} bytes of output, {len(err)} of errors.")
    sys.stdout.write((out + err).decode("utf-8", errors="replace"))
    return status


def killed(failure: Failure) -> int | Failure:
    if not isinstance(failure.value, tuple):
        return failure  # not the (output, errors, signal) of a killed program
    out, err, signal = failure.value
    print(f"Killed by signal {signal}; {len(out)} bytes of output,"
          f" {len(err)} of errors.")
    return 128 + signal  # as a shell reports it


def run(reactor, executable: str, args: argparse.Namespace) -> Deferred[None]:
    d = getProcessOutputAndValue(
        executable, args.command[1:],  # its arguments, without its name
        env=os.environ, stdinBytes=args.text.encode("utf-8"))
    d.addCallbacks(show, killed)
    d.addCallback(exit_with)
    return d


def exit_with(status: int) -> None:
    if status:
        raise SystemExit(1)  # task.react() exits with a SystemExit's status


def main() -> None:
    args = parse_args()
    executable = shutil.which(args.command[0])  # a path: it does not search
    if executable is None:
        sys.exit(f"No program named {args.command[0]!r} on the PATH.")
    task.react(run, (executable, args))


if __name__ == "__main__":
    main()
