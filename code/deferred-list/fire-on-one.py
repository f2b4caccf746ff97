"""A DeferredList that fires on the first success, or with --errback, the first failure.

Three Deferreds fire in the order d2 (with an error), d3, d1.  With
fireOnOneCallback=True, the DeferredList fires as soon as one succeeds,
with that result and its index in the list.  With fireOnOneErrback=True
(--errback), it fails as soon as one fails, with a FirstError that holds
the Failure and its index.  Either way, what fires later changes nothing.
Run it both ways:

    python code/deferred-list/fire-on-one.py
    python code/deferred-list/fire-on-one.py --errback
"""

import argparse

from twisted.internet.defer import Deferred, DeferredList, FirstError
from twisted.python.failure import Failure


def fired(result: tuple[str, int]) -> None:
    print(f"  The DeferredList fired with {result!r}")


def failed(failure: Failure) -> None:
    failure.trap(FirstError)
    print(f"  The DeferredList failed with {failure.value!r}")
    print(f"    value.index: {failure.value.index!r}")
    print(f"    value.subFailure: {failure.value.subFailure!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--errback", action="store_true",
                        help="fireOnOneErrback=True instead of fireOnOneCallback=True")
    args = parser.parse_args()

    d1: Deferred[str] = Deferred()
    d2: Deferred[str] = Deferred()
    d3: Deferred[str] = Deferred()
    if args.errback:
        dl = DeferredList([d1, d2, d3], fireOnOneErrback=True, consumeErrors=True)
    else:
        dl = DeferredList([d1, d2, d3], fireOnOneCallback=True, consumeErrors=True)
    dl.addCallbacks(fired, failed)

    print("d2.errback(ValueError('no poem 2'))")
    d2.errback(ValueError("no poem 2"))
    print("d3.callback('poem 3')")
    d3.callback("poem 3")
    print("d1.callback('poem 1')")
    d1.callback("poem 1")


if __name__ == "__main__":
    main()
