"""A Deferred holds a callback and an errback, and fires one of them.

There is no reactor and no network here: the program makes a Deferred,
gives it a pair of functions with addCallbacks, and fires it itself,
with a poem or, given --fail, with an error.  Run it both ways:

    python code/twisted-deferred/first-deferred.py
    python code/twisted-deferred/first-deferred.py --fail
"""

import argparse

from twisted.internet.defer import Deferred
from twisted.python.failure import Failure


def got_poem(poem: str) -> None:
    print(f"got_poem got {poem!r}")


def poem_failed(failure: Failure) -> None:
    print(f"poem_failed got Failure {failure.value!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fail", action="store_true",
                        help="fire the Deferred with an error instead of a poem")
    args = parser.parse_args()

    d = Deferred()
    d.addCallbacks(got_poem, poem_failed)
    print("Firing the Deferred.")
    if args.fail:
        d.errback(ConnectionRefusedError("nobody listens on port 10001"))
    else:
        d.callback("Tyger Tyger, burning bright,")
    print("Fired: the chain ran before that call returned.")


if __name__ == "__main__":
    main()
