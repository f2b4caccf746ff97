"""A DeferredList fires when all its Deferreds have fired; results in list order.

The program puts three Deferreds in a DeferredList and fires them in
the order d3, d1, d2.  The DeferredList fires inside the last of those
calls, with a (success, result) pair for each Deferred, in the order of
the list it was given, not in the order the Deferreds fired.  Run it:

    python code/deferred-list/list-order.py
"""

import argparse

from twisted.internet.defer import Deferred, DeferredList


def all_fired(results: list[tuple[bool, str]]) -> None:
    print("  The DeferredList fired with:")
    for pair in results:
        print(f"    {pair!r}")


def main() -> None:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()

    d1: Deferred[str] = Deferred()
    d2: Deferred[str] = Deferred()
    d3: Deferred[str] = Deferred()
    dl = DeferredList([d1, d2, d3])
    dl.addCallback(all_fired)

    firings = [("d3", d3, "poem 3"), ("d1", d1, "poem 1"), ("d2", d2, "poem 2")]
    for name, d, poem in firings:
        print(f"{name}.callback({poem!r})")
        d.callback(poem)
    print("All three have fired.")


if __name__ == "__main__":
    main()
