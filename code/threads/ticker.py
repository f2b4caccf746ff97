"""A ticker that shows what a blocking call does to the reactor.

The reactor runs a tick every 0.2 seconds, five ticks in all, and each
tick prints how late it is: how long after the moment it was due the
reactor got round to it (rounded down to the tenth of a second).  At
tick 2 the program calls a function that blocks for --seconds (0.5 by
default).  With --where reactor it calls it right there, in the tick's
callback, in the reactor's thread; with --where thread it hands it to
the reactor's thread pool with deferToThread, and gets the result back
as a Deferred.  At the end it prints how late the latest tick was, to
the millisecond.

--work sleep blocks by waiting, as a call into a slow library or a
blocking socket does; --work compute blocks by computing in pure
Python for the same time, which needs the interpreter all along.

Run it both ways, and compare:

    python code/threads/ticker.py --where reactor
    python code/threads/ticker.py --where thread
"""

import argparse
import math
import sys
import time

from twisted.internet import reactor, threads

INTERVAL = 0.2  # seconds between ticks
TICKS = 5
BLOCKING_TICK = 2  # the tick that makes the blocking call


def sleep_for(seconds: float) -> None:
    """Block by waiting: the thread sleeps, and lets go of the interpreter."""
    time.sleep(seconds)


def compute_for(seconds: float) -> None:
    """Block by computing, in pure Python, for the given time."""
    deadline = time.monotonic() + seconds
    total = 0
    while time.monotonic() < deadline:
        for number in range(1000):
            total += number * number


WORK = {"sleep": sleep_for, "compute": compute_for}


def tenths(seconds: float) -> str:
    """Seconds rounded down to the tenth, after rounding to the millisecond.

    (The first rounding hides the error of floating point: 0.3 seconds
    late can come out as 0.29999995.)
    """
    milliseconds = round(seconds * 1000)
    return f"{milliseconds // 100 / 10:.1f}"


class Ticker:
    """Ticks on a fixed schedule, and remembers how late each tick was."""

    def __init__(self, where: str, work: str, seconds: float) -> None:
        self.where = where
        self.work = WORK[work]
        self.seconds = seconds
        self.worst = 0.0

    def start(self) -> None:
        self.started = reactor.seconds()
        self.schedule(1)

    def schedule(self, number: int) -> None:
        """Arrange tick `number` for its moment: started + number * INTERVAL."""
        due = self.started + number * INTERVAL
        reactor.callLater(max(0, due - reactor.seconds()), self.tick, number, due)

    def tick(self, number: int, due: float) -> None:
        late = reactor.seconds() - due
        self.worst = max(self.worst, late)
        print(f"Tick {number} is {tenths(late)} s late.")
        if number == BLOCKING_TICK:
            self.block()
        if number < TICKS:
            self.schedule(number + 1)
        else:
            self.finish()

    def block(self) -> None:
        if self.where == "reactor":
            print(f"Tick {BLOCKING_TICK} calls the blocking function.")
            self.work(self.seconds)
            self.returned()
        else:
            print(f"Tick {BLOCKING_TICK} hands the blocking function to a thread.")
            d = threads.deferToThread(self.work, self.seconds)
            d.addCallback(lambda _: self.returned())

    def returned(self) -> None:
        print(f"The blocking function has returned, after {self.seconds:g} s.")

    def finish(self) -> None:
        print(f"The latest tick was {self.worst:.3f} s late.")
        reactor.stop()


def positive_seconds(text: str) -> float:
    """A number of seconds greater than 0, and finite."""
    seconds = float(text)
    if not 0 < seconds < math.inf:  # False for nan too
        raise argparse.ArgumentTypeError(f"not a positive number of seconds: {text!r}")
    return seconds


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--where", choices=("reactor", "thread"), default="reactor",
                        help="where the blocking function runs (default: reactor)")
    parser.add_argument("--work", choices=sorted(WORK), default="sleep",
                        help="how the function blocks (default: sleep)")
    parser.add_argument("--seconds", type=positive_seconds, default=0.5,
                        help="how long the function blocks (default: 0.5)")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    # Send out each line as soon as it is printed, even into a file or a pipe.
    sys.stdout.reconfigure(line_buffering=True)
    ticker = Ticker(args.where, args.work, args.seconds)
    reactor.callWhenRunning(ticker.start)
    reactor.run()


if __name__ == "__main__":
    main()
