"""Chapter 16, exercise 2: a DeferredList of our own, as a function.

deferred_list() does what DeferredList(deferreds, consumeErrors=True)
does, with a plain Deferred: it adds one stage to each Deferred, which
records its result in the Deferred's place in the list and fires the
plain Deferred when the last of them has fired.  main() is list-order.py
with deferred_list() in place of DeferredList, and prints the same.
Run it:

    python code/solutions/ch16-deferred-list/list-order.py
"""

import argparse
from collections.abc import Iterable
from functools import partial
from typing import TypeVar

from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

T = TypeVar("T")


def deferred_list(
    deferreds: Iterable[Deferred[T]],
) -> Deferred[list[tuple[bool, T | Failure]]]:
    """A Deferred that fires with a (success, result) pair per Deferred, in order."""
    deferreds = list(deferreds)
    all_fired: Deferred[list[tuple[bool, T | Failure]]] = Deferred()
    results: list = [None] * len(deferreds)
    waiting = len(deferreds)

    def record(index: int, succeeded: bool, result: T | Failure) -> T | None:
        nonlocal waiting
        results[index] = (succeeded, result)
        waiting -= 1
        if waiting == 0:
            all_fired.callback(results)
        return result if succeeded else None  # consumeErrors: a failure ends here

    for index, d in enumerate(deferreds):
        d.addCallbacks(partial(record, index, True), partial(record, index, False))
    if not deferreds:
        all_fired.callback([])  # nothing to wait for
    return all_fired


def all_fired(results: list[tuple[bool, str]]) -> None:
    print("  The DeferredList fired with:")
    for pair in results:
        print(f"    {pair!r}")


def main() -> None:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()

    d1: Deferred[str] = Deferred()
    d2: Deferred[str] = Deferred()
    d3: Deferred[str] = Deferred()
    dl = deferred_list([d1, d2, d3])
    dl.addCallback(all_fired)

    firings = [("d3", d3, "poem 3"), ("d1", d1, "poem 1"), ("d2", d2, "poem 2")]
    for name, d, poem in firings:
        print(f"{name}.callback({poem!r})")
        d.callback(poem)
    print("All three have fired.")


if __name__ == "__main__":
    main()
