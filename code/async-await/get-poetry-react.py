"""The async/await poetry client, run by task.react(), connecting through endpoints.

It is code/async-await/get-poetry.py with two changes.  get_poems(), the
old main(), is a coroutine that task.react() runs: it starts a download
for each address, awaits them all, and ends the program with its exit
status, so the pending set, done(), stop_reactor() and reactor.run() are
gone.  And get_poetry() connects through a HostnameEndpoint instead of
connectTCP().  Its command line and its output are client-5's.

Run it against one or more poetry servers, given as [host:]port:

    python code/async-await/get-poetry-react.py 10001 10002 10003
    python code/async-await/get-poetry-react.py --outcomes bug,gibberish 10001 10002
"""

import argparse
import math
import os
import random
import sys
import time

from twisted.internet import reactor
from twisted.internet.defer import Deferred, gatherResults
from twisted.internet.endpoints import HostnameEndpoint
from twisted.internet.error import (
    ConnectError,
    ConnectionAborted,
    ConnectionDone,
)
from twisted.internet.error import TimeoutError as ConnectTimeout  # not Python's
from twisted.internet.interfaces import IReactorCore
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.task import deferLater, react
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


class PoetryClientFactory(Factory):
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

    def connection_failed(self, reason: Failure) -> None:
        if reason.check(ConnectTimeout):  # the endpoint gave up: no answer
            reason = Failure(TimeoutError(f"no answer within {self.timeout:g} seconds"))
        self.poem_failed(reason)


def get_poetry(host: str, port: int, timeout: float = 10.0) -> Deferred[bytes]:
    """Start fetching a poem from host:port, and return a Deferred at once.

    The Deferred fires once: with the poem's bytes, or with a Failure
    that says why there is no poem.
    """
    d: Deferred[bytes] = Deferred()
    factory = PoetryClientFactory(d, timeout)
    endpoint = HostnameEndpoint(reactor, host, port, timeout=timeout)
    endpoint.connect(factory).addErrback(factory.connection_failed)  # no poem either
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
        raise  # a failure: fetch_and_report() has an except clause for it
    except Exception as error:
        print(f"Task {task}: cummingsify() failed ({type(error).__name__}: {error}); "
              "keeping the poem as it came", file=sys.stderr)
        return poem


async def get_poems(reactor: IReactorCore, args: argparse.Namespace) -> None:
    started = time.monotonic()
    poems: dict[int, bytes] = {}

    async def fetch_and_report(task: int, address: str, host: str, port: int,
                               outcome: str | None) -> None:
        try:
            poem = await get_poetry(host, port, args.timeout)
            poem = try_to_cummingsify(task, outcome, poem)
        except GibberishError:
            print(f"Task {task}: cummingsify() made gibberish of the poem "
                  f"from {address}", file=sys.stderr)
        except Exception as error:
            if reactor.running:  # not Ctrl-C, when the reactor disconnects everybody
                print(f"Task {task}: cannot get poetry "
                      f"from {address}: {describe(error)}", file=sys.stderr)
        else:
            print(f"Task {task}: got {len(poem)} bytes of poetry from {address}",
                  file=sys.stderr)
            poems[task] = poem

    downloads = []
    for task, (host, port) in enumerate(args.addresses, start=1):
        address = f"{host}:{port}"
        outcome = args.outcomes[task - 1] if task <= len(args.outcomes) else None
        downloads.append(Deferred.fromCoroutine(
            fetch_and_report(task, address, host, port, outcome)))
    finished = gatherResults(downloads, consumeErrors=True)
    # Ctrl-C: once the reactor has disconnected everybody, give up on whatever is left.
    reactor.addSystemEventTrigger("during", "shutdown", finished.cancel)
    await finished  # every download has ended
    if not reactor.running:  # they ended because Ctrl-C stopped the reactor
        sys.exit(130)
    # Go on in a timed call, not in the last download's callback, so that a stop
    # queued by Ctrl-C meanwhile runs before react() stops the reactor.
    await deferLater(reactor, 0)

    elapsed = time.monotonic() - started
    print(f"Got {len(poems)} of {len(args.addresses)} poems in {elapsed:.1f} seconds.",
          file=sys.stderr)
    # Decode each poem only once it is whole: a character that takes several
    # bytes may have been split between two reads.
    texts = [poems[task].decode("utf-8", errors="replace") for task in sorted(poems)]
    print("\n".join(texts), end="")
    sys.exit(1 if len(poems) < len(args.addresses) else 0)


def main() -> None:
    react(get_poems, [parse_args()])  # runs the reactor until get_poems() ends


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)  # Ctrl-C before the reactor runs: stop quietly, as it does
