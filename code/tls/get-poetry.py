"""A poetry client that fetches its poems over TLS, and trusts one authority.

It is chapter 18's get-poetry-react.py, without cummingsify(), with
each connection wrapped in TLS: optionsForClientTLS() says which
certificate authority to believe (--ca) and which host name the
server's certificate must name (the host of its address), and
wrapClientTLS() wraps the HostnameEndpoint.  A server that cannot prove
who it is gets no trust: the download fails, in one line.  The protocol
changes in one place: silence() notes that it hung up, because TLS
reports that to the protocol as a lost connection, not an aborted one.

Make the certificates, start the TLS server, then fetch the poem:

    python code/tls/make-certificates.py /tmp/poetry-tls
    python code/tls/get-poetry.py --ca /tmp/poetry-tls/ca.pem 10001 localhost:10002
"""

import argparse
import math
import os
import sys
import time
from pathlib import Path

from OpenSSL.crypto import Error as OpenSSLError
from OpenSSL.SSL import Error as TLSError
from service_identity import VerificationError
from twisted.internet import reactor
from twisted.internet.defer import Deferred, gatherResults
from twisted.internet.endpoints import HostnameEndpoint, wrapClientTLS
from twisted.internet.error import (
    ConnectError,
    ConnectionDone,
)
from twisted.internet.error import TimeoutError as ConnectTimeout  # not Python's
from twisted.internet.interfaces import IReactorCore
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.ssl import Certificate, optionsForClientTLS
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


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("addresses", metavar="ADDRESS", nargs="+", type=parse_address,
                        help="a poetry server's [host:]port")
    parser.add_argument("--timeout", type=positive_seconds, default=10.0,
                        help="seconds to wait when a server says nothing (default: 10)")
    parser.add_argument("--ca", type=Path, required=True,
                        help="a PEM file: the certificate of the authority to trust")
    return parser.parse_args()


def describe(error: Exception) -> str:
    """Why a download failed, in a few words: the system's own, when it has some."""
    if isinstance(error, ConnectError) and error.osError:
        return os.strerror(error.osError)  # e.g. "Connection refused"
    if isinstance(error, VerificationError):  # a good certificate, for someone else
        return "TLS failed: certificate for another host"
    if isinstance(error, TLSError):  # OpenSSL's (library, function, reason) triples
        reasons = [reason for *_, reason in error.args[0]]
        return f"TLS failed: {', '.join(reasons) or 'the connection broke'}"
    return str(error)


class PoetryProtocol(Protocol):
    """Receives one poem: the bytes a server sends until it closes the connection."""

    factory: "PoetryClientFactory"  # set by the factory that built this protocol

    def connectionMade(self) -> None:
        self.chunks: list[bytes] = []
        self.hung_up = False  # set by silence()
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
        elif self.hung_up:  # silence() did it: TLS reports that as ConnectionLost
            silent = TimeoutError(
                f"the server said nothing for {self.factory.timeout:g} seconds")
            self.factory.poem_failed(Failure(silent))
        else:
            self.factory.poem_failed(reason)

    def silence(self) -> None:
        """The timer went off: the server has said nothing for too long."""
        self.hung_up = True
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


def get_poetry(host: str, port: int, trust_root: Certificate,
               timeout: float = 10.0) -> Deferred[bytes]:
    """Start fetching a poem from host:port over TLS, and return a Deferred at once.

    The server must prove that it is host with a certificate that
    trust_root has signed.  The Deferred fires once: with the poem's
    bytes, or with a Failure that says why there is no poem.
    """
    d: Deferred[bytes] = Deferred()
    factory = PoetryClientFactory(d, timeout)
    tcp = HostnameEndpoint(reactor, host, port, timeout=timeout)
    tls = optionsForClientTLS(host, trustRoot=trust_root)  # whom to believe, and who
    endpoint = wrapClientTLS(tls, tcp)  # TLS over that TCP connection
    endpoint.connect(factory).addErrback(factory.connection_failed)  # no poem either
    return d


async def get_poems(reactor: IReactorCore, args: argparse.Namespace) -> None:
    try:
        trust_root = Certificate.loadPEM(args.ca.read_bytes())
    except OSError as error:
        sys.exit(f"Cannot read the certificate authority: {error}")
    except OpenSSLError:
        sys.exit(f"Cannot use {args.ca}: it holds no certificate in PEM format")
    started = time.monotonic()
    poems: dict[int, bytes] = {}

    async def fetch_and_report(task: int, address: str, host: str, port: int) -> None:
        try:
            poem = await get_poetry(host, port, trust_root, args.timeout)
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
        downloads.append(Deferred.fromCoroutine(
            fetch_and_report(task, address, host, port)))
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
