"""A canceller: the function a Deferred calls when it is canceled.

Deferred(canceller=stop_download) keeps stop_download aside; it is not
a callback, and a Deferred that fires never calls it.  cancel() on a
Deferred that has not fired calls it first, with the Deferred, so that
it can stop the work.  This canceller does not fire the Deferred, so
cancel() then fails it with CancelledError.  Run it:

    python code/deferred-cancel/canceller.py
"""

import argparse

from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

POEM = "Tyger Tyger, burning bright,"


def got_poem(poem: str) -> None:
    print(f"got_poem got {poem!r}")


def poem_failed(failure: Failure) -> None:
    print(f"poem_failed got Failure {failure.value!r}")


def stop_download(d: Deferred[str]) -> None:
    print(f"stop_download runs, and stops the download. d.called is {d.called}.")


def main() -> None:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()

    print("1. A Deferred with a canceller fires, then is canceled.")
    d: Deferred[str] = Deferred(canceller=stop_download)
    d.addCallbacks(got_poem, poem_failed)
    print("Calling d.callback().")
    d.callback(POEM)
    print("Calling d.cancel().")
    d.cancel()
    print("d.cancel() has returned.")

    print("2. A Deferred with a canceller is canceled before it fires.")
    d = Deferred(canceller=stop_download)
    d.addCallbacks(got_poem, poem_failed)
    print("Calling d.cancel().")
    d.cancel()
    print("d.cancel() has returned.")


if __name__ == "__main__":
    main()
