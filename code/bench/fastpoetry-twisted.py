"""The fast poetry server for the benchmark, written with Twisted.

Every client gets the whole poem at once, and then the server closes the
connection.  It is chapter 10's fastpoetry.py with three changes made for
crowds, the same in all four servers the benchmark compares (this one,
fastpoetry-asyncio.py with an asyncio Protocol, fastpoetry-streams.py with
asyncio's streams, and fastpoetry-trio.py): it logs nothing per
connection, only its address; it asks the kernel for the longest listen
queue the system allows; and it raises its limit of open files as far as
the hard limit allows.

    python code/bench/fastpoetry-twisted.py --port 10001 code/poetry/science.txt
    nc -d 127.0.0.1 10001
"""

import argparse
import resource
import socket
import sys
from pathlib import Path

from twisted.internet import reactor
from twisted.internet.error import CannotListenError
from twisted.internet.protocol import Protocol, ServerFactory

BACKLOG = socket.SOMAXCONN
"""How many connections the kernel may hold for us until we accept them.

The same in the four servers: SOMAXCONN, 4096 on Linux, which the kernel
caps at net.core.somaxconn.  listenTCP() would ask for 50.
"""


class PoetryProtocol(Protocol):
    """One connection: send the poem, then hang up."""

    factory: "PoetryFactory"

    def connectionMade(self) -> None:
        self.transport.write(self.factory.poem)  # buffered: returns at once
        self.transport.loseConnection()  # once the buffer has been written


class PoetryFactory(ServerFactory):
    """What all the connections share: the poem."""

    protocol = PoetryProtocol

    def __init__(self, poem: bytes) -> None:
        self.poem = poem


def raise_file_limit() -> int:
    """Allow this process as many open files as the hard limit allows.

    Every connection is a file descriptor, and the usual soft limit (often
    1024) would turn clients away long before the reactor is busy.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 65536 if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        except (ValueError, OSError):  # e.g. macOS caps it lower: keep what we have
            return soft
        return wanted
    return soft


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
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    # Send out each line as soon as it is printed, even into a file or a pipe.
    sys.stdout.reconfigure(line_buffering=True)
    try:
        poem = args.poem.read_bytes()
    except OSError as error:
        sys.exit(f"Cannot read the poem: {error}")
    raise_file_limit()
    try:
        port = reactor.listenTCP(args.port, PoetryFactory(poem), backlog=BACKLOG,
                                 interface=args.iface)
    except CannotListenError as error:
        sys.exit(f"Cannot listen on {args.iface}:{args.port}:"
                 f" {error.socketError.strerror}")
    address = port.getHost()
    print(f"Serving {args.poem} on {address.host}:{address.port}.")
    reactor.run()  # until Ctrl-C


if __name__ == "__main__":
    main()
