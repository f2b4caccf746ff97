"""Chapter 15, exercise 1: one poem, from the first server that has one.

get_poetry_from_any() is an @inlineCallbacks function with a for loop:
it yields a download from each server in turn, and returns the first
poem with the address it came from.  A server that fails is reported,
and the loop goes on to the next; if every server fails, so does
get_poetry_from_any(), with the last error.  Here, one at a time is
what we want: a server is asked only if the ones before it had nothing.

Run it with the servers in order of preference, given as [host:]port:

    python code/solutions/ch15-first-poem/get-poetry.py 10003 10001 10002
"""

import argparse
import math
import os
import sys
import time
from collections.abc import Generator

from twisted.internet import reactor
from twisted.internet.defer import Deferred, inlineCallbacks
from twisted.internet.error import (
    ConnectError,
    ConnectionAborted,
    ConnectionDone,
    ReactorNotRunning,
)
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


def positive_seconds(text: str) -> float:
    """A number of seconds greater than 0, and finite."""
    seconds = float(text)
    if not 0 < seconds < math.inf:  # False for nan too
        raise argparse.ArgumentTypeError(f"not a positive number of seconds: {text!r}")
    return seconds


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("addresses", metavar="ADDRESS", nargs="+", type=parse_address,
                        help="a poetry server's [host:]port, in order of preference")
    parser.add_argument("--timeout", type=positive_seconds, default=10.0,
                        help="seconds to wait when a server says nothing (default: 10)")
    return parser.parse_args()


def describe(error: Exception) -> str:
    """Why a download failed, in a few words: the system's own, when it has some."""
    if isinstance(error, ConnectError) and error.osError:
        return os.strerror(error.osError)  # e.g. "Connection refused"
    return str(error)


class PoetryProtocol(Protocol):
    """Receives one poem: the bytes a server sends until it closes the connection."""

    factory: "PoetryClientFactory"  # set by the factory that built this protocol

    def connectionMade(self) -> None:
        self.chunks: list[bytes] = []
        self.timer = reactor.callLater(self.factory.timeout, self.silence)

    def dataReceived(self, data: bytes) -> None:
        self.chunks.append(data)
        self.timer.reset(self.factory.timeout)  # the server spoke: wait again from now

    def connectionLost(self, reason: Failure) -> None:
        if self.timer.active():
            self.timer.cancel()
        if reason.check(ConnectionDone) and self.chunks:
            self.factory.poem_finished(b"".join(self.chunks))
        elif reason.check(ConnectionDone):  # closed before a single byte: no poem
            empty = ConnectionError(
                "the server closed the connection without sending a poem")
            self.factory.poem_failed(Failure(empty))
        elif reason.check(ConnectionAborted):  # silence() hung up
            silent = TimeoutError(
                f"the server said nothing for {self.factory.timeout:g} seconds")
            self.factory.poem_failed(Failure(silent))
        else:
            self.factory.poem_failed(reason)

    def silence(self) -> None:
        """The timer went off: the server has said nothing for too long."""
        self.transport.abortConnection()


class PoetryClientFactory(ClientFactory):
    """Builds the protocol for one download, and fires its Deferred with the outcome."""

    protocol = PoetryProtocol

    def __init__(self, deferred: Deferred[bytes], timeout: float) -> None:
        self.deferred: Deferred[bytes] | None = deferred
        self.timeout = timeout

    def poem_finished(self, poem: bytes) -> None:
        if self.deferred is not None:
            d, self.deferred = self.deferred, None  # let go of it first: it fires once
            d.callback(poem)

    def poem_failed(self, reason: Failure) -> None:
        if self.deferred is not None:
            d, self.deferred = self.deferred, None
            d.errback(reason)

    def clientConnectionFailed(self, connector: IConnector, reason: Failure) -> None:
        if reason.check(ConnectTimeout):  # connectTCP() gave up: no answer
            reason = Failure(TimeoutError(f"no answer within {self.timeout:g} seconds"))
        self.poem_failed(reason)


def get_poetry(host: str, port: int, timeout: float = 10.0) -> Deferred[bytes]:
    """Start fetching a poem from host:port, and return a Deferred at once.

    The Deferred fires once: with the poem's bytes, or with a Failure
    that says why there is no poem.
    """
    d: Deferred[bytes] = Deferred()
    factory = PoetryClientFactory(d, timeout)
    reactor.connectTCP(host, port, factory, timeout=timeout)
    return d


@inlineCallbacks
def get_poetry_from_any(
    addresses: list[tuple[str, int]], timeout: float = 10.0,
) -> Generator[Deferred[bytes], bytes, tuple[bytes, str]]:
    """Try the servers in turn; return (poem, address) from the first that has a poem.

    Each failure on the way is reported on standard error.  If every
    server fails, the Deferred fails with the last server's error.
    """
    last_error = None
    for host, port in addresses:
        address = f"{host}:{port}"
        try:
            poem = yield get_poetry(host, port, timeout)
        except Exception as error:
            if not reactor.running:
                raise  # Ctrl-C: the reactor is shutting down; try nobody else
            print(f"Cannot get poetry from {address}: {describe(error)}",
                  file=sys.stderr)
            last_error = error
        else:
            return poem, address
    assert last_error is not None  # argparse makes sure there was an address
    raise last_error


def stop_reactor() -> None:
    """Stop the reactor, unless Ctrl-C has stopped it already."""
    try:
        reactor.stop()
    except ReactorNotRunning:
        pass


def main() -> None:
    args = parse_args()
    started = time.monotonic()
    outcome: list[bytes | None] = []  # the poem, or None, once there is an outcome

    def got_poem(result: tuple[bytes, str]) -> None:
        poem, address = result
        elapsed = time.monotonic() - started
        print(f"Got a poem from {address} in {elapsed:.1f} seconds.", file=sys.stderr)
        outcome.append(poem)

    def no_poem(failure: Failure) -> None:
        if reactor.running:  # not Ctrl-C
            print("No server had a poem.", file=sys.stderr)
            outcome.append(None)

    def stop(result: None) -> None:
        reactor.callLater(0, stop_reactor)

    d = get_poetry_from_any(args.addresses, args.timeout)
    d.addCallbacks(got_poem, no_poem)
    d.addBoth(stop)
    reactor.run()  # until stop() stops it, or Ctrl-C does
    if not outcome:  # the reactor stopped before there was an outcome: Ctrl-C
        sys.exit(130)
    poem = outcome[0]
    if poem is None:
        sys.exit(1)
    print(poem.decode("utf-8", errors="replace"), end="")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)  # Ctrl-C before the reactor runs: stop quietly, as it does
