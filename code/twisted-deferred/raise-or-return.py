"""Two ways for a callback to fail: raise an exception, or return a Failure.

Either way the Deferred switches to its errback chain: the next callback
is skipped and the next errback gets a Failure.  Run it:

    python code/twisted-deferred/raise-or-return.py
"""

import argparse

from twisted.internet.defer import Deferred
from twisted.python.failure import Failure


def raise_an_exception(poem: str) -> str:
    print(f"raise_an_exception got {poem!r}")
    raise ValueError("raised")


def return_a_failure(poem: str) -> Failure:
    print(f"return_a_failure got {poem!r}")
    return Failure(ValueError("returned"))


def next_callback(poem: str) -> str:
    print(f"next_callback got {poem!r}")  # never printed
    return poem


def next_errback(failure: Failure) -> None:
    print(f"next_errback got Failure {failure.value!r}")


def main() -> None:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()
    for failing_callback in (raise_an_exception, return_a_failure):
        d = Deferred()
        d.addCallback(failing_callback)
        d.addCallbacks(next_callback, next_errback)
        d.callback("a poem")


if __name__ == "__main__":
    main()
