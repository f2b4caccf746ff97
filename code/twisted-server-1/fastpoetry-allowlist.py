"""A fast poetry server, written with Twisted, with an allow-list of clients.

Every client gets the whole poem at once, and then the server closes the
connection.  The reactor serves any number of clients in one thread: one
factory holds the poem and counts the connections, and each connection
gets a protocol instance (and a transport) of its own.

The factory's buildProtocol() refuses a client whose address is not on
the allow-list: it returns None, and Twisted closes the connection at once.

Run it, then fetch the poem with netcat from an address on the list (on
Linux all of 127.0.0.0/8 is loopback, and -s chooses the source address):

    python code/twisted-server-1/fastpoetry-allowlist.py --port 10001 \
        --allow 127.0.0.2 code/poetry/science.txt
    nc -d -s 127.0.0.2 127.0.0.1 10001
"""

import argparse
import ipaddress
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
        self.number = self.factory.connections  # this connection's own number
        peer = self.transport.getPeer()
        print(f"Connection {self.number} from {peer.host}.")
        self.transport.write(self.factory.poem)  # buffered: returns at once
        self.transport.loseConnection()  # once the buffer has been written

    def connectionLost(self, reason: Failure) -> None:
        if not reactor.running:
            return  # Ctrl-C: the server is shutting down, no client hung up
        if reason.check(ConnectionDone):
            print(f"Connection {self.number}: sent {len(self.factory.poem)} bytes.")
        else:
            print(f"Connection {self.number}: lost: {reason.getErrorMessage()}")


class PoetryFactory(ServerFactory):
    """What all the connections share: the poem, and a count of connections."""

    protocol = PoetryProtocol

    def __init__(self, poem: bytes, allowed: set[str]) -> None:
        self.poem = poem
        self.connections = 0  # connections so far, counted by the protocols
        self.allowed = allowed  # the client addresses we serve

    def buildProtocol(self, addr: IPv4Address) -> PoetryProtocol | None:
        if addr.host not in self.allowed:
            print(f"Refused {addr.host}.")
            return None  # no protocol: Twisted closes the connection
        return super().buildProtocol(addr)


def port_number(text: str) -> int:
    """A port to listen on, from 0 to 65535; 0 lets the system pick one."""
    port = int(text)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"not a port number from 0 to 65535: {text!r}")
    return port


def ipv4_address(text: str) -> str:
    """An IPv4 address, such as 127.0.0.2, written as Twisted writes a client's."""
    try:
        return str(ipaddress.IPv4Address(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an IPv4 address: {text!r}") from None


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("poem", type=Path, help="the file holding the poem")
    parser.add_argument("--port", type=port_number, default=0,
                        help="port to listen on (default: 0, the system picks one)")
    parser.add_argument("--iface", default="127.0.0.1",
                        help="interface to listen on (default: 127.0.0.1)")
    parser.add_argument("--allow", action="append", required=True, metavar="ADDRESS",
                        type=ipv4_address,
                        help="a client address to serve; repeat it to allow more")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    # Send out each line as soon as it is printed, even into a file or a pipe.
    sys.stdout.reconfigure(line_buffering=True)
    try:
        poem = args.poem.read_bytes()
    except OSError as error:
        sys.exit(f"Cannot read the poem: {error}")
    factory = PoetryFactory(poem, set(args.allow))
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
