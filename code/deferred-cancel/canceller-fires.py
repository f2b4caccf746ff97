"""A canceller may fire the Deferred itself, with a result or an error.

When the canceller fires the Deferred, cancel() leaves it at that: no
CancelledError.  keep_the_start() fires it with the part of the poem
that has come so far, so the callback chain runs; give_a_reason() fails
it with an error of its own, so the errback chain gets that error
instead of a CancelledError.  Run it:

    python code/deferred-cancel/canceller-fires.py
"""

import argparse

from twisted.internet.defer import Deferred
from twisted.python.failure import Failure


def got_poem(poem: str) -> None:
    print(f"got_poem got {poem!r}")


def poem_failed(failure: Failure) -> None:
    print(f"poem_failed got Failure {failure.value!r}")


def keep_the_start(d: Deferred[str]) -> None:
    print("keep_the_start runs, and fires d with what has come so far.")
    d.callback("Tyger Tyger,")


def give_a_reason(d: Deferred[str]) -> None:
    print("give_a_reason runs, and fails d with an error of its own.")
    d.errback(ConnectionAbortedError("stopped after 12 bytes"))


def main() -> None:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()

    print("1. A canceller that fires d with a result.")
    d: Deferred[str] = Deferred(canceller=keep_the_start)
    d.addCallbacks(got_poem, poem_failed)
    print("Calling d.cancel().")
    d.cancel()
    print("d.cancel() has returned.")

    print("2. A canceller that fires d with an error.")
    d = Deferred(canceller=give_a_reason)
    d.addCallbacks(got_poem, poem_failed)
    print("Calling d.cancel().")
    d.cancel()
    print("d.cancel() has returned.")


if __name__ == "__main__":
    main()
