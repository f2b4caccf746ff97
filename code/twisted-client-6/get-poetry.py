"""A poetry client that has a transformation server transform its poems.

It is twisted-client-5 with the transformation moved to a server of its
own (twisted-server-2).  Each poem, once downloaded, goes to the
transformation server in one netstring, NAME.POEM, and the answer takes
its place.  The callback that asks, try_to_transform(), returns a
Deferred, and the poem's chain waits until that one has fired.  When the
transformation server is down, refuses or says nothing, the client keeps
the poem as it came and says why.

Run it with the transformation server's [host:]port first, then one or
more poetry servers:

    python code/twisted-client-6/get-poetry.py 10001 10002 10003
    python code/twisted-client-6/get-poetry.py --transform upper 10001 10002
"""

import argparse
import math
import os
import sys
import time
from functools import partial

from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.error import (
    ConnectError,
    ConnectionAborted,
    ConnectionDone,
    ReactorNotRunning,
)
from twisted.internet.error import TimeoutError as ConnectTimeout  # not Python's
from twisted.internet.interfaces import IConnector
from twisted.internet.protocol import ClientFactory, Protocol
from twisted.protocols.basic import NetstringReceiver
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
    parser.add_argument("xform_address", metavar="XFORM_ADDRESS", type=parse_address,
                        help="the transformation server's [host:]port")
    parser.add_argument("addresses", metavar="ADDRESS", nargs="+", type=parse_address,
                        help="a poetry server's [host:]port")
    parser.add_argument("--timeout", type=positive_seconds, default=10.0,
                        help="seconds to wait when a server says nothing (default: 10)")
    parser.add_argument("--transform", metavar="NAME", default="cummingsify",
                        help="the transformation to ask for (default: cummingsify)")
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


class TransformError(Exception):
    """The transformation server did not answer."""


class TransformClientProtocol(NetstringReceiver):
    """Sends one request, NAME.POEM, and receives one answer: both netstrings."""

    MAX_LENGTH = 1_000_000  # an answer may be longer than its request
    factory: "TransformClientFactory"

    def connectionMade(self) -> None:
        self.answer: bytes | None = None
        self.timer = reactor.callLater(self.factory.timeout, self.silence)
        self.sendString(self.factory.request)

    def stringReceived(self, answer: bytes) -> None:
        if self.answer is None:  # the first answer is the one
            self.answer = answer
            self.transport.loseConnection()

    def connectionLost(self, reason: Failure) -> None:
        if self.timer.active():
            self.timer.cancel()
        if self.answer is not None:
            self.factory.answered(self.answer)
        elif reason.check(ConnectionAborted):  # silence() hung up
            self.factory.failed(TransformError(
                f"the server said nothing for {self.factory.timeout:g} seconds"))
        elif self.brokenPeer:
            self.factory.failed(TransformError("the answer was not a netstring"))
        elif reason.check(ConnectionDone):
            self.factory.failed(TransformError("the server hung up without an answer"))
        else:
            self.factory.failed(reason)

    def silence(self) -> None:
        """The timer went off: the server has said nothing for too long."""
        self.transport.abortConnection()


class TransformClientFactory(ClientFactory):
    """Builds the protocol for one request, and fires its Deferred with the outcome."""

    protocol = TransformClientProtocol

    def __init__(self, request: bytes, deferred: Deferred[bytes],
                 timeout: float) -> None:
        self.request = request
        self.deferred: Deferred[bytes] | None = deferred
        self.timeout = timeout

    def answered(self, answer: bytes) -> None:
        if self.deferred is not None:
            d, self.deferred = self.deferred, None  # let go of it first: it fires once
            d.callback(answer)

    def failed(self, reason: Failure | Exception) -> None:
        if self.deferred is not None:
            d, self.deferred = self.deferred, None
            d.errback(reason)

    def clientConnectionFailed(self, connector: IConnector, reason: Failure) -> None:
        if reason.check(ConnectTimeout):  # connectTCP() gave up: no answer
            reason = Failure(TimeoutError(
                f"no answer within {self.timeout:g} seconds"))
        self.failed(reason)


def transform(host: str, port: int, name: str, poem: bytes,
              timeout: float = 10.0) -> Deferred[bytes]:
    """Have the transformation server at host:port transform a poem; return a Deferred.

    The Deferred fires once: with the transformed poem, or with a Failure
    that says why there is none.
    """
    d: Deferred[bytes] = Deferred()
    factory = TransformClientFactory(name.encode("utf-8") + b"." + poem, d, timeout)
    reactor.connectTCP(host, port, factory, timeout=timeout)
    return d


def try_to_transform(task: int, server: tuple[str, int], name: str, timeout: float,
                     poem: bytes) -> Deferred[bytes]:
    """Have the poem transformed; if the server cannot, keep the poem as it came.

    A callback that returns a Deferred: the chain that called it waits
    until this Deferred has fired, and goes on with its result.
    """
    host, port = server

    def keep_the_poem(failure: Failure) -> bytes | Failure:
        if not reactor.running:
            return failure  # Ctrl-C: poem_failed() stays quiet about it
        print(f"Task {task}: {name} failed ({describe(failure)}); "
              "keeping the poem as it came", file=sys.stderr)
        return poem

    d = transform(host, port, name, poem, timeout)
    d.addErrback(keep_the_poem)
    return d


def stop_reactor() -> None:
    """Stop the reactor, unless Ctrl-C has stopped it already."""
    try:
        reactor.stop()
    except ReactorNotRunning:
        pass


def main() -> None:
    args = parse_args()
    started = time.monotonic()
    pending: set[int] = set()
    poems: dict[int, bytes] = {}

    def got_poem(task: int, address: str, poem: bytes) -> None:
        print(f"Task {task}: got {len(poem)} bytes of poetry from {address}",
              file=sys.stderr)
        poems[task] = poem

    def poem_failed(task: int, address: str, failure: Failure) -> None:
        if not reactor.running:
            return  # Ctrl-C: the reactor is shutting down and disconnects everybody
        print(f"Task {task}: cannot get poetry from {address}: {describe(failure)}",
              file=sys.stderr)

    def done(task: int, result: None | Failure) -> None | Failure:
        if reactor.running:  # not Ctrl-C, which leaves the task pending for main()
            pending.remove(task)
            if not pending:
                reactor.callLater(0, stop_reactor)
        return result  # a Failure here is a bug in got_poem() or poem_failed()

    for task, (host, port) in enumerate(args.addresses, start=1):
        pending.add(task)
        address = f"{host}:{port}"
        d = get_poetry(host, port, args.timeout)
        d.addCallback(partial(try_to_transform, task, args.xform_address,
                              args.transform, args.timeout))
        d.addCallbacks(partial(got_poem, task, address),
                       partial(poem_failed, task, address))
        d.addBoth(partial(done, task))

    reactor.run()  # until done() stops it, or Ctrl-C does
    if pending:  # the reactor stopped with poems still on their way: Ctrl-C
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
