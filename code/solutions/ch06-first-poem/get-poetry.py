"""Chapter 6, exercise 1: one poem, from the first server that has one.

get_poetry_from_any() tries the servers in turn, with chapter 6's
get_poetry(): when one fails, its errback starts the next.  It calls
callback(poem, address) with the first poem, or errback(failure) with
the last failure if every server failed.

Run it with the servers in order of preference, given as [host:]port:

    python code/solutions/ch06-first-poem/get-poetry.py 10003 10001 10002
"""

import argparse
import math
import os
import sys
import time
from collections.abc import Callable

from twisted.internet import reactor
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


def describe(reason: Failure) -> str:
    """Why a download failed, in a few words: the system's own, when it has some."""
    error = reason.value
    if isinstance(error, ConnectError) and error.osError:
        return os.strerror(error.osError)  # e.g. "Connection refused"
    return reason.getErrorMessage()


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
    """Builds the protocol for one download, and hands back the poem or the failure."""

    protocol = PoetryProtocol

    def __init__(self, callback: Callable[[bytes], None],
                 errback: Callable[[Failure], None], timeout: float) -> None:
        self.callback = callback
        self.errback = errback
        self.timeout = timeout

    def poem_finished(self, poem: bytes) -> None:
        self.callback(poem)

    def poem_failed(self, reason: Failure) -> None:
        self.errback(reason)

    def clientConnectionFailed(self, connector: IConnector, reason: Failure) -> None:
        if reason.check(ConnectTimeout):  # connectTCP() gave up: no answer
            reason = Failure(TimeoutError(f"no answer within {self.timeout:g} seconds"))
        self.errback(reason)


def get_poetry(host: str, port: int, callback: Callable[[bytes], None],
               errback: Callable[[Failure], None], timeout: float = 10.0) -> None:
    """Start fetching a poem from host:port, and return at once.

    Later, call callback(poem) with the poem's bytes, or errback(failure)
    with a Failure that says why there is no poem.
    """
    factory = PoetryClientFactory(callback, errback, timeout)
    reactor.connectTCP(host, port, factory, timeout=timeout)


def get_poetry_from_any(addresses: list[tuple[str, int]],
                        callback: Callable[[bytes, str], None],
                        errback: Callable[[Failure], None],
                        timeout: float = 10.0) -> None:
    """Start fetching one poem, trying the servers in turn, and return at once.

    Later, call callback(poem, address) with the first poem and the address
    of the server that had it, or errback(failure) with the last failure if
    none had one.  Each failure on the way is reported on standard error.
    """

    def attempt(index: int) -> None:
        host, port = addresses[index]
        address = f"{host}:{port}"

        def got_poem(poem: bytes) -> None:
            callback(poem, address)

        def poem_failed(failure: Failure) -> None:
            if not reactor.running:
                return  # Ctrl-C: the reactor is shutting down and disconnects everybody
            print(f"Cannot get poetry from {address}: {describe(failure)}",
                  file=sys.stderr)
            if index + 1 < len(addresses):
                attempt(index + 1)  # the next server's turn
            else:
                errback(failure)

        get_poetry(host, port, got_poem, poem_failed, timeout)

    attempt(0)


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

    def got_poem(poem: bytes, address: str) -> None:
        elapsed = time.monotonic() - started
        print(f"Got a poem from {address} in {elapsed:.1f} seconds.", file=sys.stderr)
        outcome.append(poem)
        reactor.callLater(0, stop_reactor)

    def no_poem(failure: Failure) -> None:
        print("No server had a poem.", file=sys.stderr)
        outcome.append(None)
        reactor.callLater(0, stop_reactor)

    get_poetry_from_any(args.addresses, got_poem, no_poem, args.timeout)
    reactor.run()  # until got_poem() or no_poem() stops it, or Ctrl-C does
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
