"""The streaming poetry server, with a pull producer of its own.

Chapter 22, exercise 1.  The producer of streampoetry.py, rewritten as an
IPullProducer: it is registered with streaming=False, and the transport
calls its resumeProducing() once at the start and again each time its
buffer has drained; each call writes exactly one chunk.  There is nothing
to pause, so pauseProducing() does nothing.

    yes 'Tyger Tyger, burning bright,' | head -c 50M > /tmp/big-poem.txt
    python code/solutions/ch22-pull-producer/streampoetry-pull.py --port 10001 \
        /tmp/big-poem.txt
    nc -d 127.0.0.1 10001 | wc -c
"""

import argparse
import sys
from pathlib import Path
from typing import BinaryIO

from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.error import CannotListenError, ConnectionDone
from twisted.internet.interfaces import IConsumer, IPullProducer
from twisted.internet.protocol import Protocol, ServerFactory
from twisted.python.failure import Failure
from zope.interface import implementer

CHUNK_SIZE = 65536  # bytes read from the file, and written, at a time


@implementer(IPullProducer)
class PoemProducer:
    """Writes a file to a consumer, one chunk each time the consumer asks for one."""

    def beginFileTransfer(self, file: BinaryIO, consumer: IConsumer) -> Deferred[None]:
        """Start writing; the Deferred fires at the end of the file.

        It fails if the consumer stops the producer first.
        """
        self.file = file
        self.consumer = consumer
        self.deferred: Deferred[None] = Deferred()
        # False: a pull producer.  The consumer calls resumeProducing() at once.
        consumer.registerProducer(self, False)
        return self.deferred

    def resumeProducing(self) -> None:
        chunk = self.file.read(CHUNK_SIZE)
        if not chunk:  # the end of the file: the transfer is done
            self.consumer.unregisterProducer()
            self.deferred.callback(None)
            return
        self.consumer.write(chunk)  # one chunk; the consumer asks for the next

    def pauseProducing(self) -> None:
        pass  # a pull producer is never paused: it is just not asked

    def stopProducing(self) -> None:
        self.deferred.errback(ConnectionError("the consumer stopped the transfer"))


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
        d = PoemProducer().beginFileTransfer(self.file, self.transport)
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
