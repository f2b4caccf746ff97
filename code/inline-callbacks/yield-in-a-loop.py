"""A yield in a loop runs the downloads one by one; started first, they overlap.

one_by_one() starts a download and yields its Deferred before it starts
the next, so each download waits for the one before it to finish.
all_at_once() starts every download first, then yields their Deferreds
in turn.  Both are @inlineCallbacks functions, and both return the poems
in the order of the addresses.  Run it both ways against the same slow
servers, given as [host:]port, and compare the times:

    python code/inline-callbacks/yield-in-a-loop.py 10001 10002 10003
    python code/inline-callbacks/yield-in-a-loop.py --all-at-once 10001 10002 10003
"""

import argparse
import sys
import time
from collections.abc import Generator

from twisted.internet import reactor
from twisted.internet.defer import Deferred, inlineCallbacks
from twisted.internet.error import ConnectionDone, ReactorNotRunning
from twisted.internet.error import TimeoutError as ConnectTimeout  # not Python's
from twisted.internet.interfaces import IConnector
from twisted.internet.protocol import ClientFactory, Protocol
from twisted.python.failure import Failure


def parse_address(text: str) -> tuple[str, int]:
    """Turn '[host:]port' into a (host, port) pair; the host defaults to 127.0.0.1."""
    host, _, port = text.rpartition(":")
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError(f"not a [host:]port address: {text!r}")
    return host or "127.0.0.1", int(port)


class PoetryProtocol(Protocol):
    """Receives one poem, and fires the factory's Deferred when the server closes."""

    factory: "PoetryClientFactory"

    def connectionMade(self) -> None:
        self.chunks: list[bytes] = []

    def dataReceived(self, data: bytes) -> None:
        self.chunks.append(data)

    def connectionLost(self, reason: Failure) -> None:
        if not reactor.running:
            return  # Ctrl-C: nobody is waiting for this poem any more
        if reason.check(ConnectionDone) and self.chunks:
            self.factory.deferred.callback(b"".join(self.chunks))
        elif reason.check(ConnectionDone):  # closed before a single byte: no poem
            self.factory.deferred.errback(ConnectionError(
                "the server closed the connection without sending a poem"))
        else:
            self.factory.deferred.errback(reason)


class PoetryClientFactory(ClientFactory):
    protocol = PoetryProtocol

    def __init__(self, deferred: Deferred[bytes]) -> None:
        self.deferred = deferred

    def clientConnectionFailed(self, connector: IConnector, reason: Failure) -> None:
        if not reactor.running:
            return  # Ctrl-C while still connecting: nobody is waiting any more
        if reason.check(ConnectTimeout):  # connectTCP() gave up, after its 30 seconds
            reason = Failure(TimeoutError(
                f"no answer within {connector.timeout:g} seconds"))
        self.deferred.errback(reason)


def get_poetry(host: str, port: int) -> Deferred[bytes]:
    """Start fetching the poem at host:port; return a Deferred for its bytes at once."""
    d: Deferred[bytes] = Deferred()
    reactor.connectTCP(host, port, PoetryClientFactory(d))
    return d


@inlineCallbacks
def one_by_one(
    addresses: list[tuple[str, int]],
) -> Generator[Deferred[bytes], bytes, list[bytes]]:
    poems = []
    for task, (host, port) in enumerate(addresses, start=1):
        print(f"Task {task}: fetching from {host}:{port}")
        poem = yield get_poetry(host, port)
        print(f"Task {task}: got {len(poem)} bytes")
        poems.append(poem)
    return poems


@inlineCallbacks
def all_at_once(
    addresses: list[tuple[str, int]],
) -> Generator[Deferred[bytes], bytes, list[bytes]]:
    downloads = []
    for task, (host, port) in enumerate(addresses, start=1):
        print(f"Task {task}: fetching from {host}:{port}")
        downloads.append(get_poetry(host, port))
    poems = []
    for task, download in enumerate(downloads, start=1):
        poem = yield download
        print(f"Task {task}: got {len(poem)} bytes")
        poems.append(poem)
    return poems


def stop_reactor() -> None:
    """Stop the reactor, unless Ctrl-C has stopped it already."""
    try:
        reactor.stop()
    except ReactorNotRunning:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("addresses", metavar="ADDRESS", nargs="+", type=parse_address,
                        help="a poetry server's [host:]port")
    parser.add_argument("--all-at-once", action="store_true",
                        help="start every download before waiting for any")
    args = parser.parse_args()
    # Send out each line as soon as it is printed, even into a file or a pipe.
    sys.stdout.reconfigure(line_buffering=True)
    started = time.monotonic()
    outcome: list[str] = []

    def got_poems(poems: list[bytes]) -> None:
        elapsed = time.monotonic() - started
        outcome.append(f"Got {len(poems)} poems in {elapsed:.1f} seconds.")

    def failed(failure: Failure) -> None:
        outcome.append(f"No poems: {failure.getErrorMessage()}")

    def stop(result: None) -> None:
        reactor.callLater(0, stop_reactor)

    fetch = all_at_once if args.all_at_once else one_by_one
    d = fetch(args.addresses)
    d.addCallbacks(got_poems, failed)
    d.addBoth(stop)
    reactor.run()
    if not outcome:  # Ctrl-C stopped the reactor before the poems came
        sys.exit(130)
    print(outcome[0])
    sys.exit(0 if outcome[0].startswith("Got") else 1)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
