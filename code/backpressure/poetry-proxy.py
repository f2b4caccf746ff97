"""A poetry proxy that streams each poem through, as fast as its client reads.

Chapter 17's proxy downloads the whole poem, caches it, and then writes
it to the client.  This one keeps nothing: for each client it connects
to the upstream server and writes every chunk to the client as it comes.
The upstream connection's transport is registered as the producer of the
client's transport, so when the client reads slowly, the client's
transport pauses the upstream transport, which stops reading from the
upstream server, whose own buffers then fill and pause it in turn.  The
proxy's memory stays flat, whatever the size of the poem and however
slow the client.

Run a streaming poetry server, the proxy in front of it, and a client:

    python code/backpressure/streampoetry.py --port 10001 /tmp/big-poem.txt
    python code/backpressure/poetry-proxy.py --port 10002 10001
    nc -d 127.0.0.1 10002 | wc -c
"""

import argparse
import os
import sys

from twisted.internet import reactor
from twisted.internet.address import IPv4Address
from twisted.internet.error import CannotListenError, ConnectError, ConnectionDone
from twisted.internet.interfaces import IConnector, ITCPTransport
from twisted.internet.protocol import ClientFactory, Protocol, ServerFactory
from twisted.python.failure import Failure


def describe(reason: Failure) -> str:
    """Why a download failed, in a few words: the system's own, when it has some."""
    error = reason.value
    if isinstance(error, ConnectError) and error.osError:
        return os.strerror(error.osError)  # e.g. "Connection refused"
    return reason.getErrorMessage()


# -- the upstream side: one download per client, passed on chunk by chunk


class UpstreamProtocol(Protocol):
    """The download: hands each chunk to the client's side as it comes."""

    factory: "UpstreamFactory"

    def connectionMade(self) -> None:
        self.factory.client.upstream_connected(self.transport)

    def dataReceived(self, data: bytes) -> None:
        self.factory.client.upstream_data(data)

    def connectionLost(self, reason: Failure) -> None:
        self.factory.client.upstream_lost(reason)


class UpstreamFactory(ClientFactory):
    protocol = UpstreamProtocol

    def __init__(self, client: "PoetryProxyProtocol") -> None:
        self.client = client  # the client's side of the proxy, for this download

    def clientConnectionFailed(self, connector: IConnector, reason: Failure) -> None:
        self.client.upstream_lost(reason)


# -- the proxy's server side


class PoetryProxyProtocol(Protocol):
    """One client: stream the upstream server's poem to it, then hang up."""

    factory: "PoetryProxyFactory"

    def connectionMade(self) -> None:
        self.factory.requests += 1
        self.number = self.factory.requests  # this request's own number
        print(f"Request {self.number} from {self.transport.getPeer().host}.")
        self.received = 0  # bytes from the upstream server so far
        self.downloading = True  # until the download ends, or the client hangs up
        self.upstream: ITCPTransport | None = None  # the download, once connected
        self.connector = reactor.connectTCP(self.factory.host, self.factory.port,
                                            UpstreamFactory(self), timeout=10)

    def upstream_connected(self, upstream: ITCPTransport) -> None:
        # The upstream transport is a push producer, and ours is a consumer:
        # when our buffer is full, our transport pauses the upstream one,
        # which stops reading from the upstream server until we resume it.
        self.upstream = upstream
        self.transport.registerProducer(upstream, True)

    def upstream_data(self, data: bytes) -> None:
        self.received += len(data)
        self.transport.write(data)  # may pause the upstream transport

    def upstream_lost(self, reason: Failure) -> None:
        """The download has ended: the poem is whole, or it never will be."""
        if not self.downloading or not reactor.running:
            return  # our client hung up first, or Ctrl-C
        self.downloading = False
        if self.upstream is not None:  # it was registered: let it go
            self.transport.unregisterProducer()
        if reason.check(ConnectionDone) and self.received:
            print(f"Request {self.number}: passed on {self.received} bytes.")
            self.transport.loseConnection()  # once the buffer has been written
            return
        if reason.check(ConnectionDone):
            why = "the server closed the connection without sending a poem"
        else:
            why = describe(reason)
        print(f"Request {self.number}: no poem from {self.factory.upstream}: {why}")
        if self.received:  # part of a poem is not a poem: reset, do not close
            self.transport.abortConnection()
        else:
            self.transport.loseConnection()

    def connectionLost(self, reason: Failure) -> None:
        if not reactor.running:
            return  # Ctrl-C: the proxy is shutting down, no client hung up
        if self.downloading:
            self.downloading = False
            print(f"Request {self.number}: the client hung up after"
                  f" {self.received} bytes had come; hanging up upstream.")
            if self.upstream is None:
                self.connector.stopConnecting()  # still connecting: stop trying
            else:
                self.upstream.abortConnection()  # a reset: the rest is not wanted


def from_this_process(address: IPv4Address) -> bool:
    """Is this client's address the local end of a connection of our own?

    The reactor watches every connection of this process, the downloads
    included.  A client at the local address of one of them is this
    process itself: the proxy, asking itself for the poem.
    """
    return any(ITCPTransport.providedBy(selectable) and selectable.getHost() == address
               for selectable in reactor.getReaders() + reactor.getWriters())


class PoetryProxyFactory(ServerFactory):
    """The proxy's server side: the upstream address, and a count of requests."""

    protocol = PoetryProxyProtocol

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.upstream = f"{host}:{port}"
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
    factory = PoetryProxyFactory(*args.upstream)
    try:
        port = reactor.listenTCP(args.port, factory, interface=args.iface)
    except CannotListenError as error:
        sys.exit(f"Cannot listen on {args.iface}:{args.port}:"
                 f" {error.socketError.strerror}")
    address = port.getHost()
    print(f"Proxy on {address.host}:{address.port} for {factory.upstream}.")
    reactor.run()


if __name__ == "__main__":
    main()
