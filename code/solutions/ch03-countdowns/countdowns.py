"""Several countdowns at once in one reactor: a solution to an exercise of chapter 3.

Each number on the command line starts a countdown from that number.
They all count at the same pace, their steps interleaved, and the reactor
stops when the last one lifts off.  Run it:

    python code/solutions/ch03-countdowns/countdowns.py 3 1 2
"""

import argparse
import math
import sys
from collections.abc import Callable

from twisted.internet import reactor
from twisted.internet.interfaces import IReactorTime


class Countdown:
    """Counts down from `start`, one step per interval, then calls `done`."""

    def __init__(self, clock: IReactorTime, name: str, start: int, interval: float,
                 done: Callable[[], None]) -> None:
        self.clock = clock
        self.name = name
        self.count = start
        self.interval = interval
        self.done = done

    def step(self) -> None:
        if self.count > 0:
            print(f"{self.name}: {self.count}...")
            self.count -= 1
            self.clock.callLater(self.interval, self.step)
        else:
            print(f"{self.name}: Liftoff!")
            self.done()


class LastOneStops:
    """Stops the reactor when all of `count` countdowns are done."""

    def __init__(self, count: int) -> None:
        self.running = count

    def one_done(self) -> None:
        self.running -= 1
        if self.running == 0:
            reactor.stop()


def positive_seconds(text: str) -> float:
    """A number of seconds greater than 0, and finite."""
    seconds = float(text)
    if not 0 < seconds < math.inf:  # False for nan too
        raise argparse.ArgumentTypeError(f"not a positive number of seconds: {text!r}")
    return seconds


def count_or_zero(text: str) -> int:
    """A whole number, 0 or more."""
    number = int(text)
    if number < 0:
        raise argparse.ArgumentTypeError(f"not a whole number, 0 or more: {text!r}")
    return number


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("starts", metavar="N", type=count_or_zero, nargs="+",
                        help="a number to count down from")
    parser.add_argument("--interval", type=positive_seconds, default=1.0,
                        help="seconds between steps (default: 1)")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    # Send out each line as soon as it is printed, even into a file or a pipe.
    sys.stdout.reconfigure(line_buffering=True)
    last_one = LastOneStops(len(args.starts))
    for number, start in enumerate(args.starts, start=1):
        countdown = Countdown(reactor, f"Countdown {number}", start, args.interval,
                              last_one.one_done)
        reactor.callWhenRunning(countdown.step)
    reactor.run()


if __name__ == "__main__":
    main()
