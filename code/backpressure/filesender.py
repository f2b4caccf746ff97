"""The streaming poetry server, with Twisted's FileSender as its producer.

It is streampoetry.py without its own producer class: FileSender, from
twisted.protocols.basic, reads the file and writes it to the transport.
FileSender is a pull producer: the transport calls its resumeProducing()
each time its buffer has drained, and each call writes one chunk of
16 KiB, so nothing is ever paused and the transport's buffer never holds
more than one chunk.

Make a big poem, serve it, and fetch it:

    yes 'Tyger Tyger, burning bright,' | head -c 50M > /tmp/big-poem.txt
    python code/backpressure/filesender.py --port 10001 /tmp/big-poem.txt
    nc -d 127.0.0.1 10001 | wc -c
"""

import argparse
import sys
from pathlib import Path
from typing import BinaryIO

from twisted.internet import reactor
from twisted.internet.error import CannotListenError, ConnectionDone
from twisted.internet.protocol import Protocol, ServerFactory
from twisted.protocols.basic import FileSender
from twisted.python.failure import Failure


class PoetryProtocol(Protocol):
    """One connection: stream the poem from its file, then hang up."""

    factory: "PoetryFactory"
    file: BinaryIO | None = None
    finished = False  # True once the whole file has gone to the transport

    def connectionMade(self) -> None:
        self.factory.connections += 1
        self.number = self.factory.connections  # this connection's own number
        print(f"Connection {self.number} from {self.transport.getPeer().host}.")
        try:
            self.file = self.factory.poem.open("rb")  # a file of its own
        except OSError as error:
            print(f"Connection {self.number}: cannot read the poem: {error.strerror}")
            self.transport.loseConnection()
            return
        d = FileSender().beginFileTransfer(self.file, self.transport)
        d.addCallbacks(self.poem_read, self.transfer_stopped)

    def poem_read(self, _: None) -> None:
        self.finished = True
        self.sent = self.file.tell()
        self.file.close()
        self.transport.loseConnection()  # once the buffer has been written

    def transfer_stopped(self, _: Failure) -> None:
        """The transport stopped the producer: its connection is gone."""
        self.sent = self.file.tell()
        self.file.close()
        if reactor.running:  # if not, Ctrl-C: the server is shutting down
            print(f"Connection {self.number}: stopped after {self.sent} bytes;"
                  f" the file is closed.")

    def connectionLost(self, reason: Failure) -> None:
        if not reactor.running or not self.finished:
            return  # Ctrl-C, no poem to send, or transfer_stopped() said how far it got
        if reason.check(ConnectionDone):
            print(f"Connection {self.number}: sent {self.sent} bytes.")
        else:
            print(f"Connection {self.number}: lost: {reason.getErrorMessage()}")


class PoetryFactory(ServerFactory):
    """What all the connections share: the poem's path, and a count of connections."""

    protocol = PoetryProtocol

    def __init__(self, poem: Path) -> None:
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
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    # Send out each line as soon as it is printed, even into a file or a pipe.
    sys.stdout.reconfigure(line_buffering=True)
    try:
        args.poem.open("rb").close()  # can we read it? Each connection opens it again
    except OSError as error:
        sys.exit(f"Cannot read the poem: {error}")
    factory = PoetryFactory(args.poem)
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
