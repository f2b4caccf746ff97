"""Chapter 5, exercise 1: twisted-client-2, trying again when a connection fails.

When a connection cannot be made, the factory asks the connector to try
again after --retry-delay seconds, up to --retries times.  The connector
is the object that knows where to connect and which factory to use, so
a new attempt is just connector.connect().

Run it before the server starts, then start the server:

    python code/solutions/ch05-retry/get-poetry.py --retries 10 10001
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


def delay_seconds(text: str) -> float:
    """A number of seconds to wait: 0 or more, and finite."""
    seconds = float(text)
    if not 0 <= seconds < math.inf:  # False for nan too
        raise argparse.ArgumentTypeError(
            f"not a number of seconds, 0 or more: {text!r}")
    return seconds


def count_or_zero(text: str) -> int:
    """A whole number, 0 or more."""
    number = int(text)
    if number < 0:
        raise argparse.ArgumentTypeError(f"not a whole number, 0 or more: {text!r}")
    return number


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("addresses", metavar="ADDRESS", nargs="+", type=parse_address,
                        help="a poetry server's [host:]port")
    parser.add_argument("--timeout", type=positive_seconds, default=10.0,
                        help="seconds to wait when a server says nothing (default: 10)")
    parser.add_argument("--retries", type=count_or_zero, default=3,
                        help="how many times to try again to connect (default: 3)")
    parser.add_argument("--retry-delay", type=delay_seconds, default=1.0,
                        help="seconds to wait before trying again (default: 1)")
    return parser.parse_args()


def describe(reason: Failure) -> str:
    """Why a connection failed, in a few words: the system's own, when it has some."""
    error = reason.value
    if isinstance(error, ConnectError) and error.osError:
        return os.strerror(error.osError)  # e.g. "Connection refused"
    return reason.getErrorMessage()


class PoetryProtocol(Protocol):
    """Receives one poem: the bytes a server sends until it closes the connection."""

    factory: "PoetryClientFactory"  # set by the factory that built this protocol

    def connectionMade(self) -> None:
        """The connection is made, and self.transport is set: start the download."""
        self.chunks: list[bytes] = []
        self.timer = reactor.callLater(self.factory.timeout, self.silence)

    def dataReceived(self, data: bytes) -> None:
        """Some bytes of the poem have arrived."""
        print(f"Task {self.factory.task}: got {len(data)} bytes of poetry "
              f"from {self.factory.address}", file=sys.stderr)
        self.chunks.append(data)
        self.timer.reset(self.factory.timeout)  # the server spoke: wait again from now

    def connectionLost(self, reason: Failure) -> None:
        """The connection is closed; reason says how."""
        if self.timer.active():
            self.timer.cancel()
        if not reactor.running:
            return  # Ctrl-C: the reactor is shutting down and disconnects everybody
        task, address = self.factory.task, self.factory.address
        if reason.check(ConnectionDone) and self.chunks:
            print(f"Task {task}: finished", file=sys.stderr)
            self.factory.finished(task, b"".join(self.chunks))
        elif reason.check(ConnectionDone):  # closed before a single byte: no poem
            print(f"Task {task}: cannot get poetry from {address}: "
                  "the server closed the connection without sending a poem",
                  file=sys.stderr)
            self.factory.finished(task, None)
        elif reason.check(ConnectionAborted):  # silence() hung up
            print(f"Task {task}: {address} said nothing "
                  f"for {self.factory.timeout:g} seconds", file=sys.stderr)
            self.factory.finished(task, None)
        else:
            print(f"Task {task}: lost {address}: {describe(reason)}", file=sys.stderr)
            self.factory.finished(task, None)

    def silence(self) -> None:
        """The timer went off: the server has said nothing for too long."""
        self.transport.abortConnection()


class PoetryClientFactory(ClientFactory):
    """Builds the protocol for one download, and hears if the connection fails."""

    protocol = PoetryProtocol

    def __init__(self, task: int, address: str, timeout: float,
                 finished: Callable[[int, bytes | None], None],
                 retries: int, retry_delay: float) -> None:
        self.task = task
        self.address = address
        self.timeout = timeout
        self.finished = finished  # called with the poem, or with None if there is none
        self.retries = retries  # attempts left after this one
        self.retry_delay = retry_delay

    def clientConnectionFailed(self, connector: IConnector, reason: Failure) -> None:
        """The connection could not be made; reason says why."""
        if not reactor.running:
            return  # Ctrl-C: the reactor is shutting down and gives up connecting
        if reason.check(ConnectTimeout):  # connectTCP() gave up: no answer
            reason = Failure(TimeoutError(f"no answer within {self.timeout:g} seconds"))
        if self.retries > 0:
            self.retries -= 1
            print(f"Task {self.task}: cannot connect to {self.address}: "
                  f"{describe(reason)}; trying again in {self.retry_delay:g} seconds",
                  file=sys.stderr)
            reactor.callLater(self.retry_delay, connector.connect)
            return
        print(f"Task {self.task}: cannot get poetry from {self.address}: "
              f"{describe(reason)}", file=sys.stderr)
        self.finished(self.task, None)


def stop_reactor() -> None:
    """Stop the reactor, unless Ctrl-C has stopped it already."""
    try:
        reactor.stop()
    except ReactorNotRunning:
        pass


def main() -> None:
    args = parse_args()
    started = time.monotonic()
    downloads: dict[int, PoetryClientFactory] = {}
    poems: dict[int, bytes] = {}

    def finished(task: int, poem: bytes | None) -> None:
        del downloads[task]
        if poem is not None:
            poems[task] = poem
        if not downloads:
            reactor.callLater(0, stop_reactor)

    for task, (host, port) in enumerate(args.addresses, start=1):
        factory = PoetryClientFactory(task, f"{host}:{port}", args.timeout, finished,
                                      args.retries, args.retry_delay)
        downloads[task] = factory
        reactor.connectTCP(host, port, factory, timeout=args.timeout)

    reactor.run()  # until finished() stops it, or Ctrl-C does
    if downloads:  # the reactor stopped with poems still on their way: Ctrl-C
        sys.exit(130)

    elapsed = time.monotonic() - started
    print(f"Got {len(poems)} of {len(args.addresses)} poems in {elapsed:.1f} seconds.",
          file=sys.stderr)
    # Decode each poem only once it is whole: a character that takes several
    # bytes may have been split between two reads.
    texts = [poems[task].decode("utf-8", errors="replace") for task in sorted(poems)]
    print("\n".join(texts), end="")
    sys.exit(1 if len(poems) < len(args.addresses) else 0)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)  # Ctrl-C before the reactor runs: stop quietly, as it does
