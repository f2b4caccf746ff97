"""A fast poetry server that listens wherever an endpoint description says.

It is code/async-await/fastpoetry.py with a --listen option, the solution
to chapter 18's exercise 1: any server endpoint description, such as
unix:/tmp/poetry.sock, tcp6:10001:interface=\\:\\:1 or the usual
tcp:10001:interface=127.0.0.1.  Without --listen, --port and --iface make
the description, as before.  A connection over a Unix socket has no host,
so the protocol describes its peer with peer_name().

Run it, then fetch the poem with netcat:

    python code/solutions/ch18-listen/fastpoetry.py --listen unix:/tmp/poetry.sock \\
        code/poetry/science.txt
    nc -dU /tmp/poetry.sock
"""

import argparse
import os
import sys
import warnings
from pathlib import Path

from twisted.internet import reactor
from twisted.internet.address import IPv6Address, UNIXAddress
from twisted.internet.defer import Deferred
from twisted.internet.endpoints import serverFromString
from twisted.internet.error import CannotListenError, ConnectionDone
from twisted.internet.interfaces import IAddress, IReactorCore
from twisted.internet.protocol import Protocol, ServerFactory
from twisted.internet.task import react
from twisted.python.failure import Failure


class PoetryProtocol(Protocol):
    """One connection: send the poem, then hang up."""

    factory: "PoetryFactory"

    def connectionMade(self) -> None:
        self.factory.connections += 1
        self.number = self.factory.connections  # this connection's own number
        peer = self.transport.getPeer()
        print(f"Connection {self.number} from {peer_name(peer)}.")
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

    def __init__(self, poem: bytes) -> None:
        self.poem = poem
        self.connections = 0  # connections so far, counted by the protocols


def port_number(text: str) -> int:
    """A port to listen on, from 0 to 65535; 0 lets the system pick one."""
    port = int(text)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"not a port number from 0 to 65535: {text!r}")
    return port


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("poem", type=Path, help="the file holding the poem")
    parser.add_argument("--port", type=port_number, default=0,
                        help="port to listen on (default: 0, the system picks one)")
    parser.add_argument("--iface", default="127.0.0.1",
                        help="interface to listen on (default: 127.0.0.1)")
    parser.add_argument("--listen", metavar="DESCRIPTION",
                        help="where to listen, as an endpoint description, such as "
                             "unix:/tmp/poetry.sock "
                             "(default: tcp:PORT:interface=IFACE)")
    return parser.parse_args()


def peer_name(address: IAddress) -> str:
    """Who is connected: a host, or the path of a Unix socket, as people write it."""
    if isinstance(address, UNIXAddress):
        return os.fsdecode(address.name) if address.name else "a Unix socket"
    return address.host


def where(address: IAddress) -> str:
    """Where the server listens: 127.0.0.1:10001, [::1]:10001 or /tmp/poetry.sock."""
    if isinstance(address, UNIXAddress):
        return os.fsdecode(address.name)
    if isinstance(address, IPv6Address):
        return f"[{address.host}]:{address.port}"
    return f"{address.host}:{address.port}"


async def serve(reactor: IReactorCore, args: argparse.Namespace) -> None:
    # Send out each line as soon as it is printed, even into a file or a pipe.
    sys.stdout.reconfigure(line_buffering=True)
    try:
        poem = args.poem.read_bytes()
    except OSError as error:
        sys.exit(f"Cannot read the poem: {error}")
    factory = PoetryFactory(poem)
    interface = args.iface.replace(":", r"\:")  # a colon ends a description's field
    description = args.listen or f"tcp:{args.port}:interface={interface}"
    try:
        endpoint = serverFromString(reactor, description)
    except ValueError as error:  # an unknown kind of endpoint, or a bad description
        sys.exit(f"Cannot listen on {description}: {error}")
    try:
        port = await endpoint.listen(factory)
    except CannotListenError as error:
        sys.exit(f"Cannot listen on {description}: {error.socketError.strerror}")
    except OSError as error:  # such as no directory for a Unix socket's lock file
        sys.exit(f"Cannot listen on {description}: {error.strerror}")
    print(f"Serving {args.poem} on {where(port.getHost())}.")
    await Deferred()  # one that never fires: serve until Ctrl-C stops the reactor


def main() -> None:
    # Twisted's spare descriptor on /dev/null, open for good, is not a leak:
    warnings.filterwarnings("ignore", "unclosed file .*'/dev/null'", ResourceWarning)
    react(serve, [parse_args()])


if __name__ == "__main__":
    main()
