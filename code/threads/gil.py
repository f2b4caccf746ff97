"""Two threads wait side by side, but compute one at a time: the GIL.

The program runs a blocking function twice, first one call after the
other, then both at once in two threads of the reactor's pool, and
prints how long each way took.  It does it for a function that waits
(time.sleep) and for one that computes in pure Python (adding up the
numbers below --count), with the processor time the program used meanwhile
(all its threads together).  Waiting in two threads takes half the
time; computing in two threads takes no less time than computing in
one, and never uses more than one processor at a time, because only one
thread at a time may run Python code.

    python code/threads/gil.py
"""

import argparse
import time
from collections.abc import Callable

from twisted.internet import task, threads
from twisted.internet.defer import Deferred, gatherResults

NAP = 0.1  # seconds each nap waits


def nap(seconds: float) -> None:
    """Block by waiting."""
    time.sleep(seconds)


def add_up(count: int) -> int:
    """Block by computing: the sum of the numbers below count, the slow way."""
    total = 0
    for number in range(count):
        total += number
    return total


async def one_after_the_other(function: Callable, argument) -> None:
    await threads.deferToThread(function, argument)
    await threads.deferToThread(function, argument)


async def both_at_once(function: Callable, argument) -> None:
    await gatherResults([threads.deferToThread(function, argument),
                         threads.deferToThread(function, argument)])


async def compare(reactor, count: int) -> None:
    await both_at_once(nap, 0)  # the pool starts two threads now, not while timed
    for what, function, argument in (
        (f"Two naps of {NAP:g} s", nap, NAP),
        (f"Two sums of {count:,} numbers", add_up, count),
    ):
        for how, run in (("one after the other", one_after_the_other),
                         ("in two threads at once", both_at_once)):
            started, cpu_started = time.monotonic(), time.process_time()
            await run(function, argument)
            seconds = time.monotonic() - started
            cpu_seconds = time.process_time() - cpu_started
            print(f"{what}, {how}: {seconds:.2f} s,"
                  f" processor time {cpu_seconds:.2f} s.")


def positive_count(text: str) -> int:
    """A whole number, 1 or more."""
    number = int(text)
    if number < 1:
        raise argparse.ArgumentTypeError(f"not a whole number, 1 or more: {text!r}")
    return number


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=positive_count, default=1_000_000,
                        help="how many numbers each sum adds up (default: 1,000,000)")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    task.react(lambda reactor: Deferred.fromCoroutine(compare(reactor, args.count)))


if __name__ == "__main__":
    main()
