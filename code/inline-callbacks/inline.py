"""gen-4's generator, run by Twisted: @inlineCallbacks instead of drive().

two_poems() is gen-4's generator with the decorator @inlineCallbacks.
Calling it starts the generator and returns a Deferred; each Deferred
the generator yields resumes it when it fires, with send(poem) or
throw(error); what the generator returns fires the Deferred that the
call returned.  Run it:

    python code/inline-callbacks/inline.py
"""

import argparse
from collections.abc import Generator

from twisted.internet import reactor
from twisted.internet.defer import Deferred, inlineCallbacks

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


@inlineCallbacks
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


def got_poems(poems: list[str]) -> None:
    print(f"main: the Deferred fired with {poems!r}")


def stop(result: object) -> object:
    reactor.stop()
    return result


def main() -> None:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()
    d = two_poems()
    print("main: two_poems() returned a Deferred; starting the reactor")
    d.addCallback(got_poems)
    d.addBoth(stop)
    reactor.run()


if __name__ == "__main__":
    main()
