"""Canceling a Deferred that waits for another one cancels the other one.

outer's first callback, fetch_the_rest(), starts a second download and
returns its Deferred, inner, which has not fired; so outer waits for
inner.  outer has fired already, and its own canceller will never run;
but outer.cancel() passes the cancellation on to inner.  inner's
canceller runs, inner fails with CancelledError, and outer's chain goes
on with that failure.  Run it:

    python code/deferred-cancel/cancel-inner.py
"""

import argparse

from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

FIRST_LINE = "Tyger Tyger, burning bright,"


def got_poem(poem: str) -> None:
    print(f"got_poem got {poem!r}")


def poem_failed(failure: Failure) -> None:
    print(f"poem_failed got Failure {failure.value!r}")


def stop_outer(d: Deferred[str]) -> None:
    print("stop_outer, outer's canceller, runs.")


def stop_inner(d: Deferred[str]) -> None:
    print("stop_inner, inner's canceller, runs.")


def fetch_the_rest(first_line: str) -> Deferred[str]:
    print(f"fetch_the_rest got {first_line!r}, returns inner")
    return Deferred(canceller=stop_inner)  # inner: the download of the rest


def main() -> None:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()
    outer: Deferred[str] = Deferred(canceller=stop_outer)
    outer.addCallback(fetch_the_rest)
    outer.addCallbacks(got_poem, poem_failed)
    print("Calling outer.callback().")
    outer.callback(FIRST_LINE)
    print(f"outer.paused is {outer.paused}: outer waits for inner.")
    print("Calling outer.cancel().")
    outer.cancel()
    print(f"outer.cancel() has returned. outer.paused is {outer.paused}.")


if __name__ == "__main__":
    main()
