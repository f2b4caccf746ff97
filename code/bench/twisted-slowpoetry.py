"""A slow poetry server, written with Twisted: every client at once, in one thread.

It sends the poem the way chapter 2's slowpoetry.py does, in chunks of
--num-bytes bytes with a pause of --delay seconds after each, but it never
sleeps: each connection asks the reactor to call it back in --delay
seconds, and meanwhile the reactor serves every other connection.  So a
thousand clients wait about as long as one.

Run it, then fetch the poem with netcat, or load it with load.py:

    python code/bench/twisted-slowpoetry.py --port 10001 code/poetry/science.txt
    nc -d 127.0.0.1 10001
"""

import argparse
import math
import resource
import socket
import sys
from pathlib import Path

from twisted.internet import reactor
from twisted.internet.error import CannotListenError, ConnectionDone
from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.internet.protocol import Protocol, ServerFactory
from twisted.python.failure import Failure

BACKLOG = socket.SOMAXCONN
"""How many connections the kernel may hold for us until we accept them.

listenTCP() asks for 50 unless told otherwise; SOMAXCONN is the most the
system allows (4096 on Linux; the kernel caps it at net.core.somaxconn).
"""


class SlowPoetryProtocol(Protocol):
    """One connection: a chunk of the poem, a pause, a chunk, ..., then hang up."""

    factory: "SlowPoetryFactory"

    def connectionMade(self) -> None:
        self.factory.connections += 1
        self.number = self.factory.connections
        self.sent = 0  # bytes of the poem written so far
        self.finished = False  # True once we have closed the connection ourselves
        self.next_chunk: IDelayedCall | None = None
        print(f"Connection {self.number} from {self.transport.getPeer().host}.")
        self.send_chunk()

    def send_chunk(self) -> None:
        """Write the next chunk and ask to be called again in --delay seconds."""
        self.next_chunk = None
        poem = self.factory.poem
        if self.sent == len(poem):  # the pause after the last chunk is over
            self.finished = True
            self.transport.loseConnection()
            return
        chunk = poem[self.sent:self.sent + self.factory.num_bytes]
        self.transport.write(chunk)
        self.sent += len(chunk)
        self.next_chunk = self.factory.clock.callLater(self.factory.delay,
                                                       self.send_chunk)

    def connectionLost(self, reason: Failure) -> None:
        if self.next_chunk is not None:  # the client left in the middle of the poem
            self.next_chunk.cancel()
            self.next_chunk = None
        if not reactor.running:
            return  # Ctrl-C: the server is shutting down, no client hung up
        if self.finished and reason.check(ConnectionDone):
            print(f"Connection {self.number}: sent {self.sent} bytes.")
        else:
            print(f"Connection {self.number}: closed after {self.sent}"
                  f" of {len(self.factory.poem)} bytes.")


class SlowPoetryFactory(ServerFactory):
    """The poem, how to cut it up, the clock that times the pauses, and a count."""

    protocol = SlowPoetryProtocol

    def __init__(self, poem: bytes, num_bytes: int, delay: float,
                 clock: IReactorTime = reactor) -> None:
        self.poem = poem
        self.num_bytes = num_bytes
        self.delay = delay
        self.clock = clock  # the reactor, or a task.Clock in a test
        self.connections = 0


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


def delay_seconds(text: str) -> float:
    """A number of seconds to wait: 0 or more, and finite."""
    seconds = float(text)
    if not 0 <= seconds < math.inf:  # False for nan too
        raise argparse.ArgumentTypeError(
            f"not a number of seconds, 0 or more: {text!r}")
    return seconds


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
    parser.add_argument("--delay", type=delay_seconds, default=0.7,
                        help="seconds to wait after each chunk (default: 0.7)")
    parser.add_argument("--num-bytes", type=positive_count, default=10,
                        help="bytes in each chunk (default: 10)")
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
    factory = SlowPoetryFactory(poem, args.num_bytes, args.delay)
    try:
        port = reactor.listenTCP(args.port, factory, backlog=BACKLOG,
                                 interface=args.iface)
    except CannotListenError as error:
        sys.exit(f"Cannot listen on {args.iface}:{args.port}:"
                 f" {error.socketError.strerror}")
    address = port.getHost()
    print(f"Serving {args.poem} on {address.host}:{address.port}.")
    reactor.run()


if __name__ == "__main__":
    main()
