"""A caching poetry proxy that cancels the download of a client who hangs up.

Like twisted-server-3, the proxy serves the poem of one upstream poetry
server, downloaded for the first request and then kept in a cache.  But
when a client hangs up while its poem is still being downloaded, the
proxy cancels that client's download: the Deferred from get_poetry()
has a canceller, which closes the connection to the upstream server.
Nothing is cached then, and the next request downloads the poem again.

Run a slow poetry server, the proxy in front of it, and a client that
hangs up before the poem has come (Ctrl-C stops nc):

    python code/blocking-server/slowpoetry.py --port 10001 code/poetry/science.txt
    python code/twisted-server-4/poetry-proxy.py --port 10002 10001
    nc -d 127.0.0.1 10002
"""

import argparse
import os
import sys
from collections.abc import Callable

from twisted.internet import reactor
from twisted.internet.address import IPv4Address
from twisted.internet.defer import CancelledError, Deferred, succeed
from twisted.internet.error import (
    CannotListenError,
    ConnectError,
    ConnectionAborted,
    ConnectionDone,
)
from twisted.internet.error import TimeoutError as ConnectTimeout  # not Python's
from twisted.internet.interfaces import IConnector, ITCPTransport
from twisted.internet.protocol import ClientFactory, Protocol, ServerFactory
from twisted.python.failure import Failure


def describe(reason: Failure) -> str:
    """Why a download failed, in a few words: the system's own, when it has some."""
    error = reason.value
    if isinstance(error, ConnectError) and error.osError:
        return os.strerror(error.osError)  # e.g. "Connection refused"
    return reason.getErrorMessage()


# -- the upstream download: twisted-client-4's, with a get_poetry() that can be canceled


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
    that says why there is no poem.  Cancel it, and the download stops:
    the connection is closed, and the Deferred fails with CancelledError.
    """

    def stop_download(d: Deferred[bytes]) -> None:
        factory.deferred = None  # the download has nothing more to say to anybody
        connector.disconnect()  # hang up, or stop connecting

    d: Deferred[bytes] = Deferred(canceller=stop_download)
    factory = PoetryClientFactory(d, timeout)
    connector = reactor.connectTCP(host, port, factory, timeout=timeout)
    return d


# -- the proxy: a service that knows the poem, and a server that hands it out


class ProxyService:
    """The poem of one upstream server, fetched the first time it is asked for."""

    def __init__(self, host: str, port: int,
                 get_poetry: Callable[..., Deferred[bytes]] = get_poetry) -> None:
        self.upstream = f"{host}:{port}"
        self.host, self.port = host, port
        self.get_poetry = get_poetry  # how to download: tests give the service a fake
        self.poem: bytes | None = None  # the cache: None until a download succeeds

    def get_poem(self) -> Deferred[bytes]:
        """A Deferred for the poem, which has fired already if the poem is cached."""
        if self.poem is not None:
            print(f"Cache hit: {len(self.poem)} bytes.")
            return succeed(self.poem)
        print(f"Cache miss: fetching the poem from {self.upstream}.")
        d = self.get_poetry(self.host, self.port)
        d.addCallbacks(self.cache_poem, self.download_failed)
        return d

    def cache_poem(self, poem: bytes) -> bytes:
        print(f"Cached {len(poem)} bytes from {self.upstream}.")
        self.poem = poem
        return poem  # for the next callback: the protocol that asked

    def download_failed(self, failure: Failure) -> Failure:
        if not reactor.running:
            return failure  # Ctrl-C: the reactor closed the download as it shut down
        if failure.check(CancelledError):
            print(f"Canceled the download from {self.upstream}.")
        else:
            print(f"No poem from {self.upstream}: {describe(failure)}")
        return failure  # nothing cached; the protocol that asked gets the failure


class PoetryProxyProtocol(Protocol):
    """One client: ask the service for the poem, send it, and hang up."""

    factory: "PoetryProxyFactory"

    def connectionMade(self) -> None:
        self.factory.requests += 1
        self.number = self.factory.requests  # this request's own number
        print(f"Request {self.number} from {self.transport.getPeer().host}.")
        self.waiting = True  # set before asking: a cached poem arrives at once
        self.deferred = self.factory.service.get_poem()  # kept, to cancel it
        self.deferred.addCallbacks(self.send_poem, self.no_poem)

    def send_poem(self, poem: bytes) -> None:
        if self.waiting:  # if not, the client has hung up: nobody to send it to
            self.waiting = False
            print(f"Request {self.number}: sending {len(poem)} bytes.")
            self.transport.write(poem)
            self.transport.loseConnection()

    def no_poem(self, failure: Failure) -> None:
        # If not waiting, the client has hung up, and this is the CancelledError.
        if self.waiting:  # the service has said why; the client just gets no poem
            self.waiting = False
            self.transport.loseConnection()

    def connectionLost(self, reason: Failure) -> None:
        if not reactor.running:
            return  # Ctrl-C: the proxy is shutting down, no client hung up
        if self.waiting:
            self.waiting = False
            print(f"Request {self.number}: the client hung up before the poem came.")
            self.deferred.cancel()  # nobody wants the poem: stop downloading it


def from_this_process(address: IPv4Address) -> bool:
    """Is this client's address the local end of a connection of our own?

    The reactor watches every connection of this process, the downloads
    included.  A client at the local address of one of them is this
    process itself: the proxy, asking itself for the poem.
    """
    return any(ITCPTransport.providedBy(selectable) and selectable.getHost() == address
               for selectable in reactor.getReaders() + reactor.getWriters())


class PoetryProxyFactory(ServerFactory):
    """The proxy's server side: it holds the service, and counts the requests."""

    protocol = PoetryProxyProtocol

    def __init__(self, service: ProxyService) -> None:
        self.service = service
        self.requests = 0  # requests so far, counted by the protocols

    def buildProtocol(self, addr: IPv4Address) -> PoetryProxyProtocol | None:
        if from_this_process(addr):  # our own download: the proxy is its own upstream
            print(f"Refused {addr.host}: a request from this proxy itself.")
            return None  # no protocol: Twisted closes the connection, no poem goes out
        return super().buildProtocol(addr)


def port_number(text: str) -> int:
    """A port to listen on, from 0 to 65535; 0 lets the system pick one."""
    port = int(text)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"not a port number from 0 to 65535: {text!r}")
    return port


def parse_address(text: str) -> tuple[str, int]:
    """Turn '[host:]port' into a (host, port) pair; the host defaults to 127.0.0.1."""
    host, _, port = text.rpartition(":")
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError(f"not a [host:]port address: {text!r}")
    return host or "127.0.0.1", int(port)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("upstream", metavar="UPSTREAM", type=parse_address,
                        help="the upstream poetry server's [host:]port")
    parser.add_argument("--port", type=port_number, default=0,
                        help="port to listen on (default: 0, the system picks one)")
    parser.add_argument("--iface", default="127.0.0.1",
                        help="interface to listen on (default: 127.0.0.1)")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    # Send out each line as soon as it is printed, even into a file or a pipe.
    sys.stdout.reconfigure(line_buffering=True)
    service = ProxyService(*args.upstream)
    factory = PoetryProxyFactory(service)
    try:
        port = reactor.listenTCP(args.port, factory, interface=args.iface)
    except CannotListenError as error:
        sys.exit(f"Cannot listen on {args.iface}:{args.port}:"
                 f" {error.socketError.strerror}")
    address = port.getHost()
    print(f"Proxy on {address.host}:{address.port} for {service.upstream}.")
    reactor.run()


if __name__ == "__main__":
    main()
