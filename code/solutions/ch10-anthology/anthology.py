"""An anthology server: a solution to an exercise of chapter 10.

The fast poetry server, serving several poems: each connection gets the
next one, in the order given, and after the last the first comes round
again.  Which poem is next is shared by every connection, so it lives in
the factory; which poem a connection got is its own, so it lives in the
protocol.  Run it, then fetch three poems in a row:

    python code/solutions/ch10-anthology/anthology.py --port 10001 \
        code/poetry/science.txt code/poetry/tyger.txt
    nc -d 127.0.0.1 10001; nc -d 127.0.0.1 10001; nc -d 127.0.0.1 10001
"""

import argparse
import sys
from pathlib import Path

from twisted.internet import reactor
from twisted.internet.error import CannotListenError, ConnectionDone
from twisted.internet.protocol import Protocol, ServerFactory
from twisted.python.failure import Failure


class PoetryProtocol(Protocol):
    """One connection: send the next poem, then hang up."""

    factory: "AnthologyFactory"

    def connectionMade(self) -> None:
        self.factory.connections += 1
        self.number = self.factory.connections  # this connection's own number
        self.poem = self.factory.next_poem()  # and its own poem
        peer = self.transport.getPeer()
        print(f"Connection {self.number} from {peer.host}.")
        self.transport.write(self.poem)
        self.transport.loseConnection()

    def connectionLost(self, reason: Failure) -> None:
        if not reactor.running:
            return  # Ctrl-C: the server is shutting down, no client hung up
        if reason.check(ConnectionDone):
            print(f"Connection {self.number}: sent {len(self.poem)} bytes.")
        else:
            print(f"Connection {self.number}: lost: {reason.getErrorMessage()}")


class AnthologyFactory(ServerFactory):
    """What all the connections share: the poems, which one is next, and a count."""

    protocol = PoetryProtocol

    def __init__(self, poems: list[bytes]) -> None:
        self.poems = poems
        self.next = 0  # the index of the poem the next connection gets
        self.connections = 0

    def next_poem(self) -> bytes:
        poem = self.poems[self.next]
        self.next = (self.next + 1) % len(self.poems)
        return poem


def port_number(text: str) -> int:
    """A port to listen on, from 0 to 65535; 0 lets the system pick one."""
    port = int(text)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"not a port number from 0 to 65535: {text!r}")
    return port


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("poems", metavar="poem", type=Path, nargs="+",
                        help="a file holding a poem; give several")
    parser.add_argument("--port", type=port_number, default=0,
                        help="port to listen on (default: 0, the system picks one)")
    parser.add_argument("--iface", default="127.0.0.1",
                        help="interface to listen on (default: 127.0.0.1)")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    # Send out each line as soon as it is printed, even into a file or a pipe.
    sys.stdout.reconfigure(line_buffering=True)
    try:
        poems = [path.read_bytes() for path in args.poems]
    except OSError as error:
        sys.exit(f"Cannot read the poem: {error}")
    factory = AnthologyFactory(poems)
    try:
        port = reactor.listenTCP(args.port, factory, interface=args.iface)
    except CannotListenError as error:
        sys.exit(f"Cannot listen on {args.iface}:{args.port}:"
                 f" {error.socketError.strerror}")
    address = port.getHost()
    names = ", ".join(str(path) for path in args.poems)
    print(f"Serving {names} on {address.host}:{address.port}.")
    reactor.run()


if __name__ == "__main__":
    main()
