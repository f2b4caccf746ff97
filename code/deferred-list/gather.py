"""gatherResults: a list of the results alone, in list order, or the first failure.

Three Deferreds fire in the order d3, d1, d2.  gatherResults() fires with
their results, in the order of the list.  With --fail, d1 fails, and
gatherResults() fails at once with a FirstError; d2 fires too late to
matter.  consumeErrors=True keeps d1's failure from going on down d1's
own chain, as with a DeferredList.  Run it both ways:

    python code/deferred-list/gather.py
    python code/deferred-list/gather.py --fail
"""

import argparse

from twisted.internet.defer import Deferred, gatherResults
from twisted.python.failure import Failure


def got_results(results: list[str]) -> None:
    print(f"  gatherResults() fired with {results!r}")


def failed(failure: Failure) -> None:
    print(f"  gatherResults() failed with {failure.value!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fail", action="store_true", help="fire d1 with an error")
    args = parser.parse_args()

    d1: Deferred[str] = Deferred()
    d2: Deferred[str] = Deferred()
    d3: Deferred[str] = Deferred()
    gathered = gatherResults([d1, d2, d3], consumeErrors=True)
    gathered.addCallbacks(got_results, failed)

    print("d3.callback('poem 3')")
    d3.callback("poem 3")
    if args.fail:
        print("d1.errback(ValueError('no poem 1'))")
        d1.errback(ValueError("no poem 1"))
    else:
        print("d1.callback('poem 1')")
        d1.callback("poem 1")
    print("d2.callback('poem 2')")
    d2.callback("poem 2")


if __name__ == "__main__":
    main()
