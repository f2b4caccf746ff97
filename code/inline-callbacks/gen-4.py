"""A generator of Deferreds, resumed by their callbacks: inlineCallbacks by hand.

two_poems() is gen-3's generator, but it yields Deferreds instead of
addresses: poem_later() stands in for chapter 8's get_poetry(), and the
reactor fires its Deferred a tenth of a second later.  drive() runs the
generator: it adds a callback to each Deferred the generator yields, and
that callback resumes the generator, with send(poem) or throw(error).
Run it:

    python code/inline-callbacks/gen-4.py
"""

import argparse
from collections.abc import Generator
from typing import Any

from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

POEMS = {
    "10001": "Tyger Tyger, burning bright,",
}


def poem_later(address: str) -> Deferred[str]:
    """A stand-in for get_poetry(): the reactor fires its Deferred 0.1 s from now."""
    d: Deferred[str] = Deferred()
    if address in POEMS:
        reactor.callLater(0.1, d.callback, POEMS[address])
    else:
        error = ConnectionRefusedError(f"nobody listens on port {address}")
        reactor.callLater(0.1, d.errback, error)
    return d


def two_poems() -> Generator[Deferred[str], str, list[str]]:
    print("  generator: asking for the poem on 10001")
    first = yield poem_later("10001")
    print(f"  generator: got {first!r}; asking for the poem on 10002")
    try:
        second = yield poem_later("10002")
    except ConnectionRefusedError as error:
        print(f"  generator: caught {error!r}")
        second = "[no poem]"
    print(f"  generator: returning {[first, second]!r}")
    return [first, second]


def drive(gen: Generator[Deferred[Any], Any, Any]) -> Deferred[Any]:
    """Run the generator to its end; return a Deferred for its return value."""
    finished: Deferred[Any] = Deferred()

    def resume(result: object) -> None:
        try:
            if isinstance(result, Failure):
                print(f"drive: gen.throw({result.value!r})")
                d = gen.throw(result.value)
            else:
                print(f"drive: gen.send({result!r})")
                d = gen.send(result)
        except StopIteration as stop:  # the generator returned
            finished.callback(stop.value)
        except Exception:  # the generator raised
            finished.errback()
        else:  # the generator yielded a Deferred: resume it when that fires
            d.addBoth(resume)

    resume(None)  # send(None) starts a generator, as next() does
    return finished


def got_poems(poems: list[str]) -> None:
    print(f"main: the Deferred fired with {poems!r}")


def stop(result: object) -> object:
    reactor.stop()
    return result


def main() -> None:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()
    d = drive(two_poems())
    print("main: drive() returned a Deferred; starting the reactor")
    d.addCallback(got_poems)
    d.addBoth(stop)
    reactor.run()


if __name__ == "__main__":
    main()
