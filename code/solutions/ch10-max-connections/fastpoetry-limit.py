"""A fast poetry server with a limit on open connections: a solution to an
exercise of chapter 10.

transport.write() never blocks, so a client that reads nothing keeps its
whole poem in the server's memory until it goes away.  This server keeps
at most --max-connections connections open at once.  The factory counts
the open connections (each protocol adds itself in connectionMade and
takes itself away in connectionLost), and buildProtocol() returns None
for a client that arrives while the server is full: Twisted closes that
connection at once.  Run it with a limit of one, keep one client busy,
and try another:

    python code/solutions/ch10-max-connections/fastpoetry-limit.py --port 10001 \
        --max-connections 1 code/poetry/science.txt
"""

import argparse
import sys
from pathlib import Path

from twisted.internet import reactor
from twisted.internet.address import IPv4Address
from twisted.internet.error import CannotListenError, ConnectionDone
from twisted.internet.protocol import Protocol, ServerFactory
from twisted.python.failure import Failure


class PoetryProtocol(Protocol):
    """One connection: send the poem, then hang up."""

    factory: "PoetryFactory"

    def connectionMade(self) -> None:
        self.factory.connections += 1
        self.factory.open_connections += 1
        self.number = self.factory.connections  # this connection's own number
        peer = self.transport.getPeer()
        print(f"Connection {self.number} from {peer.host}.")
        self.transport.write(self.factory.poem)
        self.transport.loseConnection()

    def connectionLost(self, reason: Failure) -> None:
        self.factory.open_connections -= 1
        if not reactor.running:
            return  # Ctrl-C: the server is shutting down, no client hung up
        if reason.check(ConnectionDone):
            print(f"Connection {self.number}: sent {len(self.factory.poem)} bytes.")
        else:
            print(f"Connection {self.number}: lost: {reason.getErrorMessage()}")


class PoetryFactory(ServerFactory):
    """What all the connections share: the poem, and counts of connections."""

    protocol = PoetryProtocol

    def __init__(self, poem: bytes, max_connections: int) -> None:
        self.poem = poem
        self.connections = 0  # every connection served so far
        self.open_connections = 0  # those that are open now
        self.max_connections = max_connections

    def buildProtocol(self, addr: IPv4Address) -> PoetryProtocol | None:
        if self.open_connections >= self.max_connections:
            print(f"Refused {addr.host}: {self.open_connections} connections open.")
            return None  # no protocol: Twisted closes the connection
        return super().buildProtocol(addr)


def port_number(text: str) -> int:
    """A port to listen on, from 0 to 65535; 0 lets the system pick one."""
    port = int(text)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"not a port number from 0 to 65535: {text!r}")
    return port


def positive_count(text: str) -> int:
    """A whole number, 1 or more."""
    number = int(text)
    if number < 1:
        raise argparse.ArgumentTypeError(f"not a whole number, 1 or more: {text!r}")
    return number


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("poem", type=Path, help="the file holding the poem")
    parser.add_argument("--port", type=port_number, default=0,
                        help="port to listen on (default: 0, the system picks one)")
    parser.add_argument("--iface", default="127.0.0.1",
                        help="interface to listen on (default: 127.0.0.1)")
    parser.add_argument("--max-connections", type=positive_count, default=100,
                        help="connections open at once, at most (default: 100)")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    # Send out each line as soon as it is printed, even into a file or a pipe.
    sys.stdout.reconfigure(line_buffering=True)
    try:
        poem = args.poem.read_bytes()
    except OSError as error:
        sys.exit(f"Cannot read the poem: {error}")
    factory = PoetryFactory(poem, args.max_connections)
    try:
        port = reactor.listenTCP(args.port, factory, interface=args.iface)
    except CannotListenError as error:
        sys.exit(f"Cannot listen on {args.iface}:{args.port}:"
                 f" {error.socketError.strerror}")
    address = port.getHost()
    print(f"Serving {args.poem} on {address.host}:{address.port}.")
    reactor.run()


if __name__ == "__main__":
    main()
