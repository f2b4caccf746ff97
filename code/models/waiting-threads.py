"""What waiting threads cost: start N threads that wait, and measure them.

Each thread waits on one shared event, as a thread waits for its
network, using no processor time.  The program reports how long the
threads took to start and how much the process grew, in resident memory
(what the threads really occupy) and in address space (what they have
reserved, mostly for their stacks).  Linux only: it reads the sizes from
/proc/self/status.  Run it:

    python code/models/waiting-threads.py 1000
"""

import argparse
import threading
import time


def memory() -> tuple[int, int]:
    """The process's resident memory and its address space, in KiB."""
    sizes = {}
    with open("/proc/self/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            sizes[name] = value
    return int(sizes["VmRSS"].split()[0]), int(sizes["VmSize"].split()[0])


def positive_count(text: str) -> int:
    """A whole number, 1 or more."""
    number = int(text)
    if number < 1:
        raise argparse.ArgumentTypeError(f"not a whole number, 1 or more: {text!r}")
    return number


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("threads", metavar="N", type=positive_count,
                        help="how many threads to start")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    go_on = threading.Event()
    threads = []
    resident, reserved = memory()
    started = time.monotonic()
    try:
        for _ in range(args.threads):
            thread = threading.Thread(target=go_on.wait)
            thread.start()
            threads.append(thread)
    except RuntimeError as error:  # the system refused one more thread
        print(f"Started {len(threads)} threads, then: {error}.")
    else:
        elapsed = time.monotonic() - started
        now_resident, now_reserved = memory()
        count = len(threads)
        print(f"Started {count} threads in {elapsed:.2f} seconds; each is waiting.")
        for what, before, after in (("Resident memory", resident, now_resident),
                                    ("Address space", reserved, now_reserved)):
            print(f"{what} grew by {(after - before) / 1024:,.1f} MiB: "
                  f"{(after - before) / count:,.1f} KiB a thread.")
    go_on.set()
    for thread in threads:
        thread.join()
    return 0 if len(threads) == args.threads else 1


if __name__ == "__main__":
    raise SystemExit(main())
