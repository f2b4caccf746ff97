"""A Deferred fires once: a second callback() or errback() raises AlreadyCalledError.

The first call runs the chain; any later call to fire the same Deferred,
with a result or with an error, is a bug in the program, and the
Deferred says so instead of running the chain again.  Run it:

    python code/twisted-deferred/fire-once.py
"""

import argparse

from twisted.internet.defer import AlreadyCalledError, Deferred


def got_poem(poem: str) -> None:
    print(f"got_poem got {poem!r}")


def main() -> None:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()
    d = Deferred()
    d.addCallback(got_poem)
    d.callback("the first poem")
    try:
        d.callback("a second poem")
    except AlreadyCalledError:
        print("d.callback() again: AlreadyCalledError")
    try:
        d.errback(ValueError("an error after all"))
    except AlreadyCalledError:
        print("d.errback() after d.callback(): AlreadyCalledError")


if __name__ == "__main__":
    main()
