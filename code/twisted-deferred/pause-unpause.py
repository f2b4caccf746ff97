"""A paused Deferred holds its result and runs no callbacks until it is unpaused.

Twisted pauses a Deferred itself when one of its callbacks returns a
Deferred that has not fired yet: the outer chain waits, paused, for the
inner Deferred.  d.paused counts the pauses not yet undone.  A callback
that returns a Deferred that has fired already, such as one from
succeed(), does not pause anything.  Run it:

    python code/twisted-deferred/pause-unpause.py
"""

import argparse

from twisted.internet.defer import Deferred, succeed


def callback_1(result: str) -> str:
    print(f"callback_1 got {result!r}")
    return result


def callback_2(result: str) -> str:
    print(f"callback_2 got {result!r}")
    return result


def main() -> None:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()

    print("1. Pausing d by hand, then firing it.")
    d: Deferred[str] = Deferred()
    d.addCallback(callback_1)
    d.pause()
    d.callback("a poem")
    d.addCallback(callback_2)
    print(f"d.called is {d.called}, d.paused is {d.paused}: no callback has run.")
    print("Unpausing d.")
    d.unpause()

    print("2. A callback returns a Deferred that has not fired.")
    inner: Deferred[str] = Deferred()

    def fetch_the_rest(first_line: str) -> Deferred[str]:
        print(f"fetch_the_rest got {first_line!r}, returns inner")
        return inner

    outer: Deferred[str] = Deferred()
    outer.addCallback(fetch_the_rest)
    outer.addCallback(callback_2)
    outer.callback("the first line")
    print(f"outer.paused is {outer.paused}: outer waits for inner. Firing inner.")
    inner.callback("the whole poem")
    print(f"outer.paused is {outer.paused}.")

    print("3. A callback returns a Deferred that has fired already.")

    def from_the_cache(first_line: str) -> Deferred[str]:
        print(f"from_the_cache got {first_line!r}, returns succeed(...)")
        return succeed("the poem, from a cache")

    outer = Deferred()
    outer.addCallback(from_the_cache)
    outer.addCallback(callback_2)
    outer.callback("the first line")
    print(f"outer.paused is {outer.paused}: outer never waited.")


if __name__ == "__main__":
    main()
