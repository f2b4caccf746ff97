"""What switching between threads costs, and what the GIL does to computing.

Two measurements.  First, two threads hand a turn back and forth
through a pair of locks, and the program reports the time a hand-off
takes, beside the time of the plain function call with which an
asynchronous program's loop hands control to a task.  Second, the same
computation is done twice in one thread, then once in each of two
threads at the same time: with CPython's global interpreter lock, only
one thread runs Python code at a time, so two threads are no faster.
Run it:

    python code/models/thread-timings.py
"""

import argparse
import threading
import time


def hand_offs(turns: int) -> float:
    """Seconds per hand-off, when two threads take `turns` turns each."""
    mine, theirs = threading.Lock(), threading.Lock()
    mine.acquire()
    theirs.acquire()

    def other() -> None:
        for _ in range(turns):
            theirs.acquire()  # wait for our turn...
            mine.release()  # ...and hand it back

    thread = threading.Thread(target=other)
    thread.start()
    started = time.perf_counter()
    for _ in range(turns):
        theirs.release()  # hand the turn over...
        mine.acquire()  # ...and wait until it comes back
    elapsed = time.perf_counter() - started
    thread.join()
    return elapsed / (2 * turns)


def task() -> None:
    """A task that the loop of an asynchronous program would call: it does nothing."""


def calls(turns: int) -> float:
    """Seconds per call of a Python function."""
    started = time.perf_counter()
    for _ in range(turns):
        task()
    return (time.perf_counter() - started) / turns


def compute(n: int) -> int:
    """Work for the processor alone: add up the numbers below n."""
    total = 0
    for number in range(n):
        total += number
    return total


def computing(n: int, threads: int) -> float:
    """Seconds to compute twice: in one thread, or in two threads at once."""
    started = time.perf_counter()
    if threads == 1:
        compute(n)
        compute(n)
    else:
        workers = [threading.Thread(target=compute, args=(n,)) for _ in range(2)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    return time.perf_counter() - started


def positive_count(text: str) -> int:
    """A whole number, 1 or more."""
    number = int(text)
    if number < 1:
        raise argparse.ArgumentTypeError(f"not a whole number, 1 or more: {text!r}")
    return number


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--turns", type=positive_count, default=20_000,
                        help="hand-offs and calls to time (default: 20000)")
    parser.add_argument("--work", type=positive_count, default=5_000_000,
                        help="numbers each computation adds up (default: 5000000)")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    switch, call = hand_offs(args.turns), calls(args.turns)
    print(f"A hand-off between two threads: {switch * 1e6:.1f} microseconds,")
    print(f"as long as {switch / call:.0f} calls of a Python function "
          f"({call * 1e6:.2f} microseconds each).")
    one, two = computing(args.work, 1), computing(args.work, 2)
    print(f"Computing twice: {one:.2f} seconds in one thread, "
          f"{two:.2f} seconds in two threads.")


if __name__ == "__main__":
    main()
