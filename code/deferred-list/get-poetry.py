"""A poetry client that waits for all its downloads with a DeferredList.

It is twisted-client-5 without the counting: main() puts the Deferred
of every download in a DeferredList, and the DeferredList's callback
stops the reactor once all of them have fired.  Its result, one
(success, result) pair per task in task order, is also where the poems
come from.  cummingsify() is as unreliable as before, and --outcomes
still chooses what it does, task by task.

Run it against one or more poetry servers, given as [host:]port:

    python code/deferred-list/get-poetry.py 10001 10002 10003
    python code/deferred-list/get-poetry.py --outcomes bug,gibberish 10001 10002
"""

import argparse
import math
import os
import random
import sys
import time
from functools import partial

from twisted.internet import reactor
from twisted.internet.defer import Deferred, DeferredList
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


OUTCOMES = ("success", "gibberish", "bug")


def parse_outcomes(text: str) -> list[str]:
    """Turn 'success,gibberish,bug' into a list, one outcome a task."""
    outcomes = text.split(",")
    for outcome in outcomes:
        if outcome not in OUTCOMES:
            raise argparse.ArgumentTypeError(
                f"not one of {', '.join(OUTCOMES)}: {outcome!r}")
    return outcomes


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("addresses", metavar="ADDRESS", nargs="+", type=parse_address,
                        help="a poetry server's [host:]port")
    parser.add_argument("--timeout", type=positive_seconds, default=10.0,
                        help="seconds to wait when a server says nothing (default: 10)")
    parser.add_argument("--outcomes", type=parse_outcomes, default=[],
                        help="what cummingsify() does for task 1, 2, ... in turn: "
                             "success, gibberish or bug, separated by commas "
                             "(default: each at random)")
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


class GibberishError(Exception):
    """cummingsify() has made gibberish of a poem."""


def cummingsify(poem: bytes, outcome: str | None = None) -> bytes:
    """Return the poem in lower case, or fail: with GibberishError, or with a bug.

    Which of the three happens is chosen at random, unless outcome says:
    "success", "gibberish" or "bug".
    """
    if outcome is None:
        outcome = random.choice(OUTCOMES)
    if outcome == "gibberish":
        raise GibberishError("cummingsify() made gibberish of it")
    if outcome == "bug":
        raise ValueError("a bug in cummingsify()")  # stands in for any bug at all
    return poem.decode("utf-8").lower().encode("utf-8")


def try_to_cummingsify(task: int, outcome: str | None, poem: bytes) -> bytes:
    """cummingsify() the poem; if cummingsify() has a bug, keep the poem as it came."""
    try:
        return cummingsify(poem, outcome)
    except GibberishError:
        raise  # a failure: the Deferred takes it down the errback chain
    except Exception as error:
        print(f"Task {task}: cummingsify() failed ({type(error).__name__}: {error}); "
              "keeping the poem as it came", file=sys.stderr)
        return poem


def stop_reactor() -> None:
    """Stop the reactor, unless Ctrl-C has stopped it already."""
    try:
        reactor.stop()
    except ReactorNotRunning:
        pass


def main() -> None:
    args = parse_args()
    started = time.monotonic()
    results: list[tuple[bool, bytes | Failure]] = []

    def got_poem(task: int, address: str, poem: bytes) -> bytes:
        print(f"Task {task}: got {len(poem)} bytes of poetry from {address}",
              file=sys.stderr)
        return poem  # for the DeferredList: (True, poem)

    def poem_failed(task: int, address: str, failure: Failure) -> Failure:
        if not reactor.running:
            return failure  # Ctrl-C: the reactor disconnects everybody as it stops
        if failure.check(GibberishError):
            print(f"Task {task}: cummingsify() made gibberish of the poem "
                  f"from {address}", file=sys.stderr)
        else:
            print(f"Task {task}: cannot get poetry "
                  f"from {address}: {describe(failure)}", file=sys.stderr)
        return failure  # for the DeferredList: (False, failure)

    def done(outcomes: list[tuple[bool, bytes | Failure]]) -> None:
        if reactor.running:  # not Ctrl-C: then results stays empty, and main() sees it
            results.extend(outcomes)
            reactor.callLater(0, stop_reactor)

    downloads: list[Deferred[bytes]] = []
    for task, (host, port) in enumerate(args.addresses, start=1):
        address = f"{host}:{port}"
        outcome = args.outcomes[task - 1] if task <= len(args.outcomes) else None
        d = get_poetry(host, port, args.timeout)
        d.addCallback(partial(try_to_cummingsify, task, outcome))
        d.addCallbacks(partial(got_poem, task, address),
                       partial(poem_failed, task, address))
        downloads.append(d)
    DeferredList(downloads, consumeErrors=True).addCallback(done)

    reactor.run()  # until done() stops it, or Ctrl-C does
    if not results:  # the reactor stopped with poems still on their way: Ctrl-C
        sys.exit(130)

    poems = [poem for succeeded, poem in results if succeeded]  # in task order
    elapsed = time.monotonic() - started
    print(f"Got {len(poems)} of {len(args.addresses)} poems in {elapsed:.1f} seconds.",
          file=sys.stderr)
    # Decode each poem only once it is whole: a character that takes several
    # bytes may have been split between two reads.
    texts = [poem.decode("utf-8", errors="replace") for poem in poems]
    print("\n".join(texts), end="")
    sys.exit(1 if len(poems) < len(args.addresses) else 0)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)  # Ctrl-C before the reactor runs: stop quietly, as it does
