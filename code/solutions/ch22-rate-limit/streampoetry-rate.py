"""The streaming poetry server, sending at most --rate bytes a second to each client.

Chapter 22, exercise 2.  The producer writes one chunk of --rate bytes,
then waits a second before the next, with reactor.callLater().  It is
still a push producer: when the transport pauses it, it cancels its timer,
and when the transport resumes it, it goes on where the second it was
paused in would have ended, so that pausing and resuming never sends
faster than the rate.

    python code/solutions/ch22-rate-limit/streampoetry-rate.py --port 10001 \
        --rate 100 code/poetry/science.txt
    nc -d 127.0.0.1 10001
"""

import argparse
import math
import sys
from pathlib import Path
from typing import BinaryIO

from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.error import CannotListenError, ConnectionDone
from twisted.internet.interfaces import (
    IConsumer,
    IDelayedCall,
    IPushProducer,
    IReactorTime,
)
from twisted.internet.protocol import Protocol, ServerFactory
from twisted.python.failure import Failure
from zope.interface import implementer


@implementer(IPushProducer)
class RateLimitedProducer:
    """Writes a file to a consumer, at most ``rate`` bytes a second."""

    def __init__(self, rate: int, clock: IReactorTime) -> None:
        self.rate = rate
        self.clock = clock
        self.timer: IDelayedCall | None = None
        self.last = -math.inf  # when the last chunk went out

    def beginFileTransfer(self, file: BinaryIO, consumer: IConsumer) -> Deferred[None]:
        """Start writing; the Deferred fires at the end of the file.

        It fails if the consumer stops the producer first.
        """
        self.file = file
        self.consumer = consumer
        self.paused = False
        self.deferred: Deferred[None] = Deferred()
        consumer.registerProducer(self, True)  # True: a push (streaming) producer
        self.send_chunk()
        return self.deferred

    def send_chunk(self) -> None:
        self.timer = None
        chunk = self.file.read(self.rate)
        if not chunk:  # the end of the file: the transfer is done
            self.consumer.unregisterProducer()
            self.deferred.callback(None)
            return
        self.last = self.clock.seconds()
        self.consumer.write(chunk)  # may call pauseProducing() before it returns
        if not self.paused:
            self.timer = self.clock.callLater(1, self.send_chunk)

    def resumeProducing(self) -> None:
        if self.paused:
            self.paused = False
            wait = max(0.0, self.last + 1 - self.clock.seconds())
            self.timer = self.clock.callLater(wait, self.send_chunk)

    def pauseProducing(self) -> None:
        self.paused = True
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def stopProducing(self) -> None:
        self.pauseProducing()
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
        producer = RateLimitedProducer(self.factory.rate, reactor)
        d = producer.beginFileTransfer(self.file, self.transport)
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
    """What all the connections share: the poem's path, the rate, a count."""

    protocol = PoetryProtocol

    def __init__(self, poem: Path, rate: int) -> None:
        self.poem = poem
        self.rate = rate  # bytes a second, for each connection
        self.connections = 0  # connections so far, counted by the protocols


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
    parser.add_argument("--rate", type=positive_count, default=65536,
                        help="bytes a second to each client (default: 65536)")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    # Send out each line as soon as it is printed, even into a file or a pipe.
    sys.stdout.reconfigure(line_buffering=True)
    try:
        args.poem.open("rb").close()  # can we read it? Each connection opens it again
    except OSError as error:
        sys.exit(f"Cannot read the poem: {error}")
    factory = PoetryFactory(args.poem, args.rate)
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
