"""A countdown done WRONG: one callback counts down with time.sleep().

The ticker beside it is the same as in countdown.py, but while the
callback sleeps, the reactor cannot call anything else: the ticker is
silent for the whole countdown.  Run it:

    python code/basic-twisted/countdown-blocking.py --start 3 --interval 1
"""

import argparse
import math
import sys
import time

from twisted.internet import reactor


class Ticker:
    """Says "tick" every `interval` seconds, until it is stopped."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.next_tick = None

    def tick(self) -> None:
        print("tick")
        self.next_tick = reactor.callLater(self.interval, self.tick)

    def stop(self) -> None:
        self.next_tick.cancel()


class Countdown:
    """Counts down from `start`, one step per interval, then stops the reactor."""

    def __init__(self, start: int, interval: float, ticker: Ticker) -> None:
        self.count = start
        self.interval = interval
        self.ticker = ticker

    def step(self) -> None:
        while self.count > 0:
            print(f"{self.count}...")
            self.count -= 1
            time.sleep(self.interval)  # WRONG: the whole reactor sleeps here
        print("Liftoff!")
        self.ticker.stop()
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
    parser.add_argument("--start", type=count_or_zero, default=3,
                        help="the number to count down from (default: 3)")
    parser.add_argument("--interval", type=positive_seconds, default=1.0,
                        help="seconds between steps, and between ticks (default: 1)")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    # Send out each line as soon as it is printed, even into a file or a pipe.
    sys.stdout.reconfigure(line_buffering=True)
    ticker = Ticker(args.interval)
    countdown = Countdown(args.start, args.interval, ticker)
    reactor.callWhenRunning(ticker.tick)
    reactor.callLater(args.interval / 2, countdown.step)
    reactor.run()


if __name__ == "__main__":
    main()
