"""Threads that share a counter, and the additions they lose.

Each thread adds 1 to the counter, many times.  An addition reads the
counter, sleeps for no time at all, which lets another thread run, and
writes back the value it read plus one: the steps of `counter += 1`,
with room between them for a switch of threads.  The program repeats the
experiment and counts the runs that end with the counter short.  With
--lock, each addition holds a lock from its read to its write.  Run it:

    python code/models/counter.py
    python code/models/counter.py --lock
"""

import argparse
import threading
import time


class Counter:
    """A number that several threads share."""

    def __init__(self) -> None:
        self.value = 0


def add(counter: Counter, times: int) -> None:
    """Add 1 to the counter `times` times: read it, let others run, write it."""
    for _ in range(times):
        value = counter.value  # read
        time.sleep(0)  # sleep for no time: another thread may run now
        counter.value = value + 1  # write back what we read, plus one


def add_with_lock(counter: Counter, times: int, lock: threading.Lock) -> None:
    """The same, but no other thread gets the lock between a read and its write."""
    for _ in range(times):
        with lock:
            value = counter.value
            time.sleep(0)
            counter.value = value + 1


def one_run(threads: int, times: int, locked: bool) -> int:
    """Start the threads, wait until all have finished; return the final count."""
    counter = Counter()
    if locked:
        lock = threading.Lock()
        workers = [threading.Thread(target=add_with_lock, args=(counter, times, lock))
                   for _ in range(threads)]
    else:
        workers = [threading.Thread(target=add, args=(counter, times))
                   for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return counter.value


def positive_count(text: str) -> int:
    """A whole number, 1 or more."""
    number = int(text)
    if number < 1:
        raise argparse.ArgumentTypeError(f"not a whole number, 1 or more: {text!r}")
    return number


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=positive_count, default=4,
                        help="threads that add to the counter (default: 4)")
    parser.add_argument("--times", type=positive_count, default=100,
                        help="additions by each thread (default: 100)")
    parser.add_argument("--runs", type=positive_count, default=10,
                        help="how many times to do it all (default: 10)")
    parser.add_argument("--lock", action="store_true",
                        help="hold a lock from each read to its write")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    expected = args.threads * args.times
    short = sum(one_run(args.threads, args.times, args.lock) < expected
                for _ in range(args.runs))
    print(f"{args.threads} threads each added 1 to a counter {args.times} times, "
          f"in {args.runs} runs.")
    print(f"The counter ended short of {expected} in {short} of {args.runs} runs.")


if __name__ == "__main__":
    main()
