"""The two chains of a Deferred: each add* method adds one stage to both.

addCallback adds a callback and a pass-through errback, addErrback the
reverse, addCallbacks a pair, addBoth the same function on both sides.
The functions print what they get, so the output shows which side of
each stage ran.  Run it with a poem, then with an error:

    python code/twisted-deferred/two-chains.py
    python code/twisted-deferred/two-chains.py --fail
"""

import argparse

from twisted.internet.defer import Deferred
from twisted.python.failure import Failure


def callback_1(poem: str) -> str:
    print(f"callback_1 got {poem!r}")
    return poem


def errback_2(failure: Failure) -> Failure:
    print(f"errback_2 got Failure {failure.value!r}")
    return failure  # not handled here: the next errback gets it


def callback_3(poem: str) -> str:
    print(f"callback_3 got {poem!r}")
    return poem.upper()


def errback_3(failure: Failure) -> None:
    print(f"errback_3 got Failure {failure.value!r}")
    return None  # handled: no error goes further down the chain


def finish(result: str | None) -> None:
    print(f"finish got {result!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fail", action="store_true",
                        help="fire the Deferred with an error instead of a poem")
    args = parser.parse_args()

    d = Deferred()
    d.addCallback(callback_1)
    d.addErrback(errback_2)
    d.addCallbacks(callback_3, errback_3)
    d.addBoth(finish)
    if args.fail:
        d.errback(ValueError("no poem today"))
    else:
        d.callback("a poem")


if __name__ == "__main__":
    main()
