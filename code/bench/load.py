"""A load generator: many poetry clients at once against one server, in one thread.

It opens --clients connections to the server in one go, reads each poem
to the end, and checks that every poem is complete and equal to the
poem's file.  Then it reports how many poems came back whole, how long
the load took, how many connections were open at the same time, and why
any client failed.  Whatever is still unfinished at --time-limit is
given up, and counted as a failure by the state it was in.

Run it against a poetry server, given as [host:]port:

    python code/bench/load.py --clients 1000 --poem code/poetry/science.txt 10001
"""

import argparse
import csv
import math
import os
import resource
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

from twisted.internet import reactor
from twisted.internet.error import ConnectError, ConnectionDone, ReactorNotRunning
from twisted.internet.interfaces import IAddress, IConnector
from twisted.internet.protocol import ClientFactory, Protocol
from twisted.python.failure import Failure


class Load:
    """What all the clients share: the poem to expect, the clock, and the tally."""

    def __init__(self, poem: bytes, clients: int) -> None:
        self.poem = poem
        self.clients: list[PoemClientFactory] = []
        self.started = time.monotonic()
        self.open = 0  # connections open right now
        self.most_open = 0  # and the most that were ever open at once
        self.unfinished = clients
        self.done = False  # True once every client has its outcome; False after Ctrl-C

    def now(self) -> float:
        return time.monotonic() - self.started

    def finished(self) -> None:
        """One more client has its outcome; stop once every client has one."""
        self.unfinished -= 1
        if self.unfinished == 0 and reactor.running:  # if not, Ctrl-C came first
            self.done = True
            reactor.callLater(0, stop_reactor)

    def give_up(self) -> None:
        """Time is up: end every client still waiting, and say what it waited for."""
        for factory in self.clients:
            if factory.outcome is not None:
                continue
            client = factory.client
            if client is None:
                factory.finish("still connecting at the time limit")
                factory.connector.stopConnecting()
            else:
                if client.received == 0:
                    factory.finish("connected, not a byte yet at the time limit")
                else:
                    factory.finish("part of the poem at the time limit")
                client.transport.abortConnection()


class PoemClient(Protocol):
    """One connection: collect the bytes until the server closes it."""

    factory: "PoemClientFactory"

    def connectionMade(self) -> None:
        load = self.factory.load
        load.open += 1
        load.most_open = max(load.most_open, load.open)
        self.factory.connected = load.now()
        self.chunks: list[bytes] = []
        self.received = 0

    def dataReceived(self, data: bytes) -> None:
        if not self.chunks:
            self.factory.first_byte = self.factory.load.now()
        self.chunks.append(data)
        self.received += len(data)

    def connectionLost(self, reason: Failure) -> None:
        self.factory.load.open -= 1
        poem = b"".join(self.chunks)
        expected = self.factory.load.poem
        if not reason.check(ConnectionDone):
            self.factory.finish(f"lost the connection: {reason.getErrorMessage()}")
        elif poem == expected:
            self.factory.finish("complete")
        elif expected.startswith(poem):
            self.factory.finish("an incomplete poem")
        else:
            self.factory.finish("a poem that differs from the file")


class PoemClientFactory(ClientFactory):
    """One client: its connection, and when and how it ended."""

    protocol = PoemClient

    def __init__(self, load: Load) -> None:
        self.load = load
        self.client: PoemClient | None = None
        self.connector: IConnector | None = None
        self.connected: float | None = None
        self.first_byte: float | None = None
        self.ended: float | None = None
        self.outcome: str | None = None

    def buildProtocol(self, addr: IAddress) -> PoemClient:
        self.client = super().buildProtocol(addr)
        return self.client

    def finish(self, outcome: str) -> None:
        """Record how this client ended: the first word is the one that counts."""
        if self.outcome is None:
            self.outcome = outcome
            self.ended = self.load.now()
            self.load.finished()

    def clientConnectionFailed(self, connector: IConnector, reason: Failure) -> None:
        error = reason.value
        if isinstance(error, ConnectError) and error.osError:
            self.finish(f"could not connect: {os.strerror(error.osError)}")
        else:
            self.finish(f"could not connect: {reason.getErrorMessage()}")


def stop_reactor() -> None:
    """Stop the reactor, unless Ctrl-C has stopped it already."""
    try:
        reactor.stop()
    except ReactorNotRunning:
        pass


def raise_file_limit(needed: int) -> None:
    """Allow this process at least `needed` open files, or exit saying why not."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return
    if hard != resource.RLIM_INFINITY and hard < needed:
        sys.exit(f"{needed} open files are needed, and the hard limit is {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))


def parse_address(text: str) -> tuple[str, int]:
    """Turn '[host:]port' into a (host, port) pair; the host defaults to 127.0.0.1."""
    host, _, port = text.rpartition(":")
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError(f"not a [host:]port address: {text!r}")
    return host or "127.0.0.1", int(port)


def positive_seconds(text: str) -> float:
    """A number of seconds greater than 0, and finite."""
    seconds = float(text)
    if not 0 < seconds < math.inf:  # False for nan too
        raise argparse.ArgumentTypeError(f"not a positive number of seconds: {text!r}")
    return seconds


def positive_count(text: str) -> int:
    """A whole number, 1 or more."""
    number = int(text)
    if number < 1:
        raise argparse.ArgumentTypeError(f"not a whole number, 1 or more: {text!r}")
    return number


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("address", metavar="ADDRESS", type=parse_address,
                        help="the poetry server's [host:]port")
    parser.add_argument("--clients", type=positive_count, default=100,
                        help="how many clients connect at once (default: 100)")
    parser.add_argument("--poem", type=Path, required=True,
                        help="the file holding the poem the server serves")
    parser.add_argument("--time-limit", type=positive_seconds, default=60.0,
                        help="seconds after which every unfinished client gives up"
                             " (default: 60)")
    parser.add_argument("--times", type=Path,
                        help="write each client's times and outcome to this CSV file")
    return parser.parse_args()


def report(load: Load, args: argparse.Namespace) -> int:
    """Print what happened; return how many clients failed."""
    clients = load.clients
    complete = [c for c in clients if c.outcome == "complete"]
    host, port = args.address
    print(f"{len(complete)} of {len(clients)} poems complete and equal to {args.poem},"
          f" from {host}:{port}.")
    ends = [c.ended for c in clients if c.ended is not None]
    print(f"Time: {max(ends):.2f} seconds for the whole load.")
    if complete:
        times = sorted(c.ended for c in complete)
        print(f"Each complete poem took {times[0]:.2f} to {times[-1]:.2f} seconds"
              f" (median {statistics.median(times):.2f}).")
    print(f"Connections open at once: at most {load.most_open}.")
    failures = Counter(c.outcome for c in clients if c.outcome != "complete")
    for outcome, count in failures.most_common():
        print(f"Failed: {count} clients: {outcome}.")
    return sum(failures.values())


def write_times(load: Load, path: Path) -> None:
    """One row per client: seconds from the start to each event, bytes, outcome."""
    with path.open("w", newline="") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(["client", "connected", "first_byte", "ended", "bytes",
                         "outcome"])
        for number, c in enumerate(load.clients, start=1):
            row = [c.connected, c.first_byte, c.ended]
            received = 0 if c.client is None else c.client.received
            writer.writerow([number, *("" if t is None else f"{t:.4f}" for t in row),
                             received, c.outcome])


def main() -> None:
    args = parse_args()
    try:
        poem = args.poem.read_bytes()
    except OSError as error:
        sys.exit(f"Cannot read the poem: {error}")
    raise_file_limit(args.clients + 64)  # a socket per client, and some to spare
    host, port = args.address
    load = Load(poem, args.clients)
    for _ in range(args.clients):  # every connection is started before the reactor runs
        factory = PoemClientFactory(load)
        # The time limit below decides when to give up, not connectTCP's own timeout.
        factory.connector = reactor.connectTCP(host, port, factory,
                                               timeout=args.time_limit + 1)
        load.clients.append(factory)
    limit = reactor.callLater(args.time_limit, load.give_up)
    reactor.run()  # until every client has an outcome, or Ctrl-C
    if not load.done:  # Ctrl-C stopped the reactor
        sys.exit(130)
    if limit.active():
        limit.cancel()
    failed = report(load, args)
    if args.times:
        write_times(load, args.times)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)  # Ctrl-C before the reactor runs: stop quietly, as it does
