"""Run another program under the reactor, and print what its process protocol hears.

The program is started with reactor.spawnProcess(); a ProcessProtocol
writes a text to its standard input, closes it, and collects what the
program writes to its standard output and its standard error.  When the
program has ended, processEnded() says how: a ProcessDone for exit
status 0, a ProcessTerminated for any other status or for a signal.
With --time-limit, a program that runs longer gets SIGTERM.

Give the program and its arguments after "--":

    python code/processes/spawn.py -- rev
    python code/processes/spawn.py -- sh -c 'echo no poem today >&2; exit 3'
    python code/processes/spawn.py --time-limit 0.5 -- sleep 10
"""

import argparse
import math
import shutil
import sys

from twisted.internet import reactor
from twisted.internet.error import ProcessDone, ProcessExitedAlready
from twisted.internet.protocol import ProcessProtocol
from twisted.python.failure import Failure

TEXT = "Tyger Tyger, burning bright,\nIn the forests of the night;\n"


def positive_seconds(text: str) -> float:
    """A number of seconds greater than 0, and finite."""
    seconds = float(text)
    if not 0 < seconds < math.inf:  # False for nan too
        raise argparse.ArgumentTypeError(f"not a positive number of seconds: {text!r}")
    return seconds


class Reporter(ProcessProtocol):
    """Feeds the child a text, collects its output, and prints each event."""

    def __init__(self, text: bytes) -> None:
        self.text = text
        self.out: list[bytes] = []
        self.err: list[bytes] = []

    def connectionMade(self) -> None:
        # self.transport is the child process: writing to it writes to the
        # child's standard input, and closeStdin() gives it its end of file.
        self.transport.write(self.text)
        self.transport.closeStdin()
        print(f"connectionMade: wrote {len(self.text)} bytes to the child's"
              " standard input, and closed it.")

    def outReceived(self, data: bytes) -> None:
        self.out.append(data)  # a chunk of its standard output, of any size

    def errReceived(self, data: bytes) -> None:
        self.err.append(data)  # a chunk of its standard error

    def processEnded(self, reason: Failure) -> None:
        # The child has exited, and its standard output and standard error
        # are closed: everything it wrote has been received.
        ended = reason.value
        how = (f"killed by signal {ended.signal}" if ended.signal is not None
               else f"exit status {ended.exitCode}")
        print(f"processEnded: {type(ended).__name__}, {how}.")
        for name, chunks in (("output", self.out), ("error", self.err)):
            data = b"".join(chunks)
            print(f"It wrote {len(data)} bytes to its standard {name}.")
            print(data.decode("utf-8", errors="replace"), end="")
        reactor.stop()
        self.status = 0 if reason.check(ProcessDone) else 1


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", nargs="+",
                        help='the program to run and its arguments, after "--"')
    parser.add_argument("--text", default=TEXT,
                        help="the text to write to its standard input"
                             " (default: two lines of Blake)")
    parser.add_argument("--time-limit", type=positive_seconds, default=None,
                        help="seconds after which the program gets SIGTERM"
                             " (default: no limit)")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    executable = shutil.which(args.command[0])  # spawnProcess() wants a path
    if executable is None:
        sys.exit(f"No program named {args.command[0]!r} on the PATH.")
    protocol = Reporter(args.text.encode("utf-8"))
    # args.command[0] is the name the program sees as its own (argv[0]);
    # env=None gives the child this program's environment (the default, {},
    # would give it an empty one).
    process = reactor.spawnProcess(protocol, executable, args.command, env=None)

    def time_is_up() -> None:
        print(f"The time limit of {args.time_limit:g} seconds is up: sending SIGTERM.")
        try:
            process.signalProcess("TERM")
        except ProcessExitedAlready:  # it ended, and processEnded() is on its way
            pass

    if args.time_limit is not None:
        timer = reactor.callLater(args.time_limit, time_is_up)
        reactor.addSystemEventTrigger(
            "before", "shutdown", lambda: timer.active() and timer.cancel())
    reactor.run()
    sys.exit(getattr(protocol, "status", 130))  # none: Ctrl-C stopped the reactor


if __name__ == "__main__":
    main()
