"""A client that reads the start of a poem and then stops reading.

It stands for a client on a hopelessly slow network.  It connects, reads
until it has the first --num-bytes bytes of the poem, says so, and then
reads nothing more: it keeps the connection open, unread bytes piling up
in its socket, until you press Ctrl-C.  That is what it is for, so it
waits for Ctrl-C however long it takes.

Run it against a poetry server that serves a big poem:

    python code/backpressure/stalled-client.py --num-bytes 100000 10001
"""

import argparse
import os
import sys

from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.error import ConnectError, ConnectionDone
from twisted.internet.interfaces import IConnector
from twisted.internet.protocol import ClientFactory, Protocol
from twisted.python.failure import Failure


class StalledProtocol(Protocol):
    """Reads the first bytes of the poem, then tells its transport to stop reading."""

    factory: "StalledFactory"
    received = 0
    stalled = False
    closed: Deferred[None] | None = None  # fires once hang_up() has closed it

    def dataReceived(self, data: bytes) -> None:
        self.received += len(data)
        if self.received >= self.factory.num_bytes and not self.stalled:
            self.stalled = True
            self.transport.pauseProducing()  # no more recv(): the socket fills up
            reactor.addSystemEventTrigger("before", "shutdown", self.hang_up)
            print(f"Got the first {self.factory.num_bytes} bytes from"
                  f" {self.factory.address}; reading no more (Ctrl-C to hang up).")

    def hang_up(self) -> Deferred[None]:
        """Ctrl-C: reset the connection, and let the reactor stop once it is closed.

        The reactor closes the connections it watches as it stops, and a
        paused transport is not one of them: so close it first, with a
        reset, as a program that ends with bytes unread in its socket does.
        """
        self.closed = Deferred()
        self.transport.abortConnection()
        return self.closed  # the shutdown waits for it

    def connectionLost(self, reason: Failure) -> None:
        if self.closed is not None:  # hang_up() closed it
            self.closed.callback(None)
            return
        if not reactor.running:
            return  # Ctrl-C before the client stalled
        if reason.check(ConnectionDone):
            self.factory.failed(f"the server closed the connection after"
                                f" {self.received} bytes: too soon to stall")
        else:
            self.factory.failed(f"lost the connection: {reason.getErrorMessage()}")


class StalledFactory(ClientFactory):
    protocol = StalledProtocol

    def __init__(self, address: str, num_bytes: int) -> None:
        self.address = address
        self.num_bytes = num_bytes
        self.failure: str | None = None

    def clientConnectionFailed(self, connector: IConnector, reason: Failure) -> None:
        error = reason.value
        if isinstance(error, ConnectError) and error.osError:
            self.failed(f"cannot connect: {os.strerror(error.osError)}")
        else:
            self.failed(f"cannot connect: {reason.getErrorMessage()}")

    def failed(self, message: str) -> None:
        self.failure = message
        reactor.stop()


def parse_address(text: str) -> tuple[str, int]:
    """Turn '[host:]port' into a (host, port) pair; the host defaults to 127.0.0.1."""
    host, _, port = text.rpartition(":")
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError(f"not a [host:]port address: {text!r}")
    return host or "127.0.0.1", int(port)


def positive_count(text: str) -> int:
    """A whole number, 1 or more."""
    number = int(text)
    if number < 1:
        raise argparse.ArgumentTypeError(f"not a whole number, 1 or more: {text!r}")
    return number


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("address", metavar="ADDRESS", type=parse_address,
                        help="a poetry server's [host:]port")
    parser.add_argument("--num-bytes", type=positive_count, default=65536,
                        help="bytes to read before it stops reading (default: 65536)")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    host, port = args.address
    factory = StalledFactory(f"{host}:{port}", args.num_bytes)
    reactor.connectTCP(host, port, factory, timeout=10)
    reactor.run()  # until Ctrl-C, or until something goes wrong
    if factory.failure is not None:
        sys.exit(f"{factory.address}: {factory.failure}")
    sys.exit(130)  # Ctrl-C, the way this client is meant to end


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)  # Ctrl-C before the reactor runs: stop quietly, as it does
