"""What is under a callback: the call stack, printed from inside one.

The callback prints the calls that led to it, outermost first, as
module.function: your main(), then the reactor's run(), its loop, and
the reactor method that called the callback.  With --full it prints the
stack as traceback.print_stack() does, with your machine's paths and
line numbers.  Run it:

    python code/basic-twisted/stack.py
"""

import argparse
import inspect
import sys
import traceback

from twisted.internet import reactor


def print_calls() -> None:
    """Print the calls that led to the caller, outermost first, as module.function."""
    calls = []
    frame = inspect.currentframe().f_back
    while frame is not None:
        calls.append(f"{frame.f_globals['__name__']}.{frame.f_code.co_qualname}")
        frame = frame.f_back
    print("\n".join(reversed(calls)))


def callback(full: bool) -> None:
    if full:
        traceback.print_stack(file=sys.stdout)
    else:
        print_calls()
    reactor.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--full", action="store_true",
                        help="print the stack as traceback.print_stack() does")
    args = parser.parse_args()
    reactor.callLater(0, callback, args.full)
    reactor.run()


if __name__ == "__main__":
    main()
