"""A stdio poetry client that runs at most N downloads at once: a chapter 21 solution.

It is chapter 21's client, with --at-most N: an address typed while N
downloads are running waits its turn, and its download starts when one
of them ends.  A DeferredSemaphore with N tokens does the waiting: its
run() takes a token (or waits for one), calls get_poetry(), and gives
the token back when the download's Deferred fires, poem or failure.
At the end of the input the client waits for the downloads still
running and for the ones still waiting.

    python code/solutions/ch21-at-most/get-poetry.py --at-most 2
    printf '10001\\n10002\\n10003\\n' | \\
        python code/solutions/ch21-at-most/get-poetry.py --at-most 1
"""

import argparse
import math
import os
import sys
import time

from twisted.internet import reactor, stdio
from twisted.internet.defer import Deferred, DeferredSemaphore
from twisted.internet.error import (
    ConnectError,
    ConnectionAborted,
    ConnectionDone,
    ReactorNotRunning,
)
from twisted.internet.error import TimeoutError as ConnectTimeout  # not Python's
from twisted.internet.interfaces import IConnector, IHalfCloseableProtocol
from twisted.internet.protocol import ClientFactory, Protocol
from twisted.protocols.basic import LineReceiver
from twisted.python.failure import Failure
from zope.interface import implementer


def parse_address(text: str) -> tuple[str, int]:
    """Turn '[host:]port' into a (host, port) pair; the host defaults to 127.0.0.1."""
    host, _, port = text.rpartition(":")
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError(f"not a [host:]port address: {text!r}")
    return host or "127.0.0.1", int(port)


def positive_count(text: str) -> int:
    """A whole number, 1 or more."""
    number = int(text)
    if number < 1:
        raise argparse.ArgumentTypeError(f"not a whole number, 1 or more: {text!r}")
    return number


def positive_seconds(text: str) -> float:
    """A number of seconds greater than 0, and finite."""
    seconds = float(text)
    if not 0 < seconds < math.inf:  # False for nan too
        raise argparse.ArgumentTypeError(f"not a positive number of seconds: {text!r}")
    return seconds


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


@implementer(IHalfCloseableProtocol)
class AddressReader(LineReceiver):
    """Standard input and output: an address a line in, a line a poem out."""

    delimiter = b"\n"  # a line typed or piped in ends with "\n", not "\r\n"

    def __init__(self, timeout: float, at_most: int) -> None:
        self.timeout = timeout
        self.semaphore = DeferredSemaphore(at_most)  # a token for each running download
        self.started = time.monotonic()
        self.tasks = 0
        self.poems = 0
        self.pending: set[int] = set()
        self.input_ended = False
        self.finished = False  # the summary is out: not stopped by Ctrl-C

    def lineReceived(self, line: bytes) -> None:
        text = line.decode("utf-8", errors="replace").strip()
        if not text:
            return  # an empty line: nothing to fetch
        self.tasks += 1
        task = self.tasks
        try:
            host, port = parse_address(text)
        except argparse.ArgumentTypeError as error:
            self.say(f"Task {task}: {error}")
            return
        address = f"{host}:{port}"
        self.pending.add(task)  # running, or waiting for a token
        # run() calls get_poetry() once it has a token, and gives the token
        # back when the download's Deferred fires; d fires with its result.
        d = self.semaphore.run(get_poetry, host, port, self.timeout)
        d.addCallbacks(self.got_poem, self.no_poem,
                       callbackArgs=(task, address), errbackArgs=(task, address))
        d.addBoth(self.done, task)

    def got_poem(self, poem: bytes, task: int, address: str) -> None:
        self.poems += 1
        self.say(f"Task {task}: got {len(poem)} bytes of poetry from {address}")

    def no_poem(self, reason: Failure, task: int, address: str) -> None:
        if reactor.running:  # not Ctrl-C, when the reactor disconnects everybody
            self.say(f"Task {task}: cannot get poetry from {address}:"
                     f" {describe(reason.value)}")

    def done(self, result: None, task: int) -> None:
        self.pending.discard(task)
        self.finish_if_done()

    def readConnectionLost(self) -> None:
        """The end of standard input; standard output is still open."""
        self.input_ended = True
        self.finish_if_done()

    def writeConnectionLost(self) -> None:
        """Standard output is closed: nobody reads what we write.  Stop."""
        self.transport.loseConnection()

    def finish_if_done(self) -> None:
        if self.input_ended and not self.pending and reactor.running:
            elapsed = time.monotonic() - self.started
            self.say(f"Got {self.poems} of {self.tasks} poems"
                     f" in {elapsed:.1f} seconds.")
            self.finished = True
            self.transport.loseConnection()  # once all is written: connectionLost()

    def say(self, line: str) -> None:
        self.transport.write(line.encode("utf-8") + b"\n")

    def connectionLost(self, reason: Failure) -> None:
        stop_reactor()


def stop_reactor() -> None:
    """Stop the reactor, unless Ctrl-C has stopped it already."""
    try:
        reactor.stop()
    except ReactorNotRunning:
        pass


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--timeout", type=positive_seconds, default=10.0,
                        help="seconds to wait when a server says nothing (default: 10)")
    parser.add_argument("--at-most", type=positive_count, default=10,
                        help="downloads to run at once (default: 10)")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    reader = AddressReader(args.timeout, args.at_most)
    stdio.StandardIO(reader)
    reactor.run()  # until the reader is done, or Ctrl-C
    if not reader.finished:  # Ctrl-C stopped the reactor
        sys.exit(130)
    sys.exit(0 if reader.poems == reader.tasks else 1)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)  # Ctrl-C before the reactor runs: stop quietly, as it does
