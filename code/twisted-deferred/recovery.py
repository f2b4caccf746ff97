"""An errback that returns a value puts the Deferred back on its callback chain.

callback_2 raises, so callback_3 is skipped; errback_4 handles the error
by returning a poem of its own, and from there the callbacks run again.
Run it:

    python code/twisted-deferred/recovery.py
"""

import argparse

from twisted.internet.defer import Deferred
from twisted.python.failure import Failure


def callback_1(poem: str) -> str:
    print(f"callback_1 got {poem!r}")
    return poem.strip()


def callback_2(poem: str) -> str:
    print(f"callback_2 got {poem!r}")
    raise ValueError("this poem does not scan")


def callback_3(poem: str) -> str:
    print(f"callback_3 got {poem!r}")  # skipped: callback_2 failed
    return poem


def errback_4(failure: Failure) -> str:
    print(f"errback_4 got Failure {failure.value!r}")
    return "a stand-in poem"  # recovered: back to the callback chain


def callback_5(poem: str) -> str:
    print(f"callback_5 got {poem!r}")
    return poem.title()


def finish(result: str | Failure) -> None:
    print(f"finish got {result!r}")


def main() -> None:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()
    d = Deferred()
    d.addCallback(callback_1)
    d.addCallback(callback_2)
    d.addCallback(callback_3)
    d.addErrback(errback_4)
    d.addCallback(callback_5)
    d.addBoth(finish)
    d.callback("  a poem  ")


if __name__ == "__main__":
    main()
