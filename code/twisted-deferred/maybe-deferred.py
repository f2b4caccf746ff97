"""maybeDeferred() turns any call into a Deferred: a value, a Deferred or an exception.

get_poem() answers in one of three ways, as functions with a cache
often do: it returns a poem it has at hand, returns a Deferred for a
poem it must fetch, or raises for a poem it cannot get.  Called through
maybeDeferred(), it always gives the caller a Deferred, and the caller
handles all three with one pair of callbacks.  Run it:

    python code/twisted-deferred/maybe-deferred.py
"""

import argparse

from twisted.internet.defer import Deferred, maybeDeferred
from twisted.python.failure import Failure

CACHED = {"tyger": "Tyger Tyger, burning bright,"}
UPSTREAM = {"ozymandias": "I met a traveller from an antique land,"}
downloads: list[tuple[Deferred[str], str]] = []  # fetches under way


def get_poem(name: str) -> str | Deferred[str]:
    """A poem from the cache, a Deferred for one to fetch, or KeyError."""
    if name in CACHED:
        return CACHED[name]
    if name in UPSTREAM:
        d: Deferred[str] = Deferred()
        downloads.append((d, name))  # main() plays the network, and fires it later
        return d
    raise KeyError(name)


def got_poem(poem: str) -> None:
    print(f"got_poem got {poem!r}")


def poem_failed(failure: Failure) -> None:
    print(f"poem_failed got Failure {failure.value!r}")


def main() -> None:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()
    for name in ("tyger", "ozymandias", "jabberwocky"):
        print(f"maybeDeferred(get_poem, {name!r})")
        d = maybeDeferred(get_poem, name)
        d.addCallbacks(got_poem, poem_failed)
    for d, name in downloads:
        print(f"The download of {name!r} is done.")
        d.callback(UPSTREAM[name])


if __name__ == "__main__":
    main()
