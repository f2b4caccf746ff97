"""Canceling a Deferred: it fails with CancelledError, unless it has fired.

d.cancel() says "nobody wants this result any more".  A Deferred that
has not fired yet fires at once, on its errback chain, with a
CancelledError.  A Deferred that has fired already has nothing left to
cancel, and cancel() does nothing at all.  Run it:

    python code/deferred-cancel/cancel.py
"""

import argparse

from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

POEM = "Tyger Tyger, burning bright,"


def got_poem(poem: str) -> None:
    print(f"got_poem got {poem!r}")


def poem_failed(failure: Failure) -> None:
    print(f"poem_failed got Failure {failure.value!r}")


def main() -> None:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()

    print("1. Canceling a Deferred that has not fired.")
    d: Deferred[str] = Deferred()
    d.addCallbacks(got_poem, poem_failed)
    print("Calling d.cancel().")
    d.cancel()
    print(f"d.cancel() has returned. d.called is {d.called}.")

    print("2. Canceling a Deferred that has fired.")
    d = Deferred()
    d.addCallbacks(got_poem, poem_failed)
    d.callback(POEM)
    print("Calling d.cancel().")
    d.cancel()
    print("d.cancel() has returned, and nothing ran.")


if __name__ == "__main__":
    main()
