"""A poetry client over UDP that backs off: each unanswered request doubles the wait.

A solution to chapter 25's exercise 2.  It is the chapter's client, but
the wait before asking again is --timeout seconds only at first: when a
request brings nothing back at all, the wait before the next one is
twice as long, as TCP does with its retransmissions.  A request that
brought some pieces back leaves the wait as it was.

It speaks the protocol of code/udp/poetry-server.py: it sends GET, and
collects the numbered pieces (N/TOTAL:bytes) that come back, in whatever
order they come.  Once the server has said nothing for --timeout seconds,
it asks again for exactly the pieces still missing (GET 3,5), up to
--tries requests in all; then it gives up.  UDP has no connection to
fail, so silence is the only sign of a server that is down or far away,
with one exception: the client's port is connected to the server's, and
when the server's machine says that nothing listens there (an ICMP "port
unreachable"), the client hears of it at once.

Run it against one or more UDP poetry servers, given as [host:]port:

    python code/solutions/ch25-backoff/get-poetry.py --timeout 0.5 --tries 4 10001
"""

import argparse
import math
import sys
import time
from functools import partial

from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.error import ReactorNotRunning
from twisted.internet.protocol import DatagramProtocol
from twisted.python.failure import Failure

MAX_REQUEST = 512
"""The longest request the server reads, in bytes."""


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
    parser.add_argument("addresses", metavar="ADDRESS", nargs="+", type=parse_address,
                        help="a UDP poetry server's [host:]port")
    parser.add_argument("--timeout", type=positive_seconds, default=1.0,
                        help="seconds of silence before asking again (default: 1)")
    parser.add_argument("--tries", type=positive_count, default=4,
                        help="requests to send before giving up (default: 4)")
    return parser.parse_args()


def parse_piece(datagram: bytes) -> tuple[int, int, bytes]:
    """Split an answer, N/TOTAL:bytes, into (N, TOTAL, bytes); or raise ValueError."""
    header, colon, piece = datagram.partition(b":")
    number, slash, total = header.partition(b"/")
    if not (colon and slash and number.isdigit() and total.isdigit()):
        raise ValueError("not a piece of a poem")
    if not 1 <= int(number) <= int(total):
        raise ValueError(f"no piece {int(number)} of {int(total)}")
    return int(number), int(total), piece


def listed(numbers: list[int]) -> str:
    """Numbers for a request: "3,5"."""
    return ",".join(map(str, numbers))


def said(numbers: list[int]) -> str:
    """Numbers for a reader: "3, 5", or "643 pieces" when there are many."""
    if len(numbers) > 8:
        return f"{len(numbers)} pieces"
    return ", ".join(map(str, numbers))


class PoemDownload(DatagramProtocol):
    """One download: requests, the pieces that come back, and a timer for silence."""

    def __init__(self, task: int, host: str, port: int, timeout: float, tries: int,
                 deferred: Deferred[bytes]) -> None:
        self.task, self.host, self.port = task, host, port
        self.timeout, self.tries = timeout, tries
        self.deferred: Deferred[bytes] | None = deferred
        self.pieces: dict[int, bytes] = {}
        self.total: int | None = None  # unknown until the first piece comes
        self.requests = 0
        self.highest = 0  # the highest piece number since the last request
        self.timer = None
        self.wait = timeout  # doubled after each request that brings nothing
        self.answered = False  # whether a piece came since the last request

    def startProtocol(self) -> None:
        # Connected UDP: only the server's datagrams reach us, and an ICMP
        # "port unreachable" from its machine is reported to us (below).
        self.transport.connect(self.host, self.port)
        self.ask()

    def missing(self) -> list[int]:
        return [n for n in range(1, (self.total or 0) + 1) if n not in self.pieces]

    def ask(self) -> None:
        """Send a request for every missing piece, and wait for the answer."""
        request = b"GET"
        if self.total is not None:
            request = b"GET " + listed(self.missing()).encode()
            if len(request) > MAX_REQUEST:  # too many to list: ask for them all
                request = b"GET"
        self.requests += 1
        self.highest = 0
        self.answered = False
        self.transport.write(request)
        if self.deferred is None:
            return  # the write was refused at once: finish() has run
        self.timer = reactor.callLater(self.wait, self.silence)

    def datagramReceived(self, datagram: bytes, addr: tuple[str, int]) -> None:
        try:
            number, total, piece = parse_piece(datagram)
        except ValueError as error:
            print(f"Task {self.task}: ignored a datagram: {error}.", file=sys.stderr)
            return
        if self.total is None:
            self.total = total
        if total != self.total:
            print(f"Task {self.task}: ignored a piece of {total}, not {self.total}.",
                  file=sys.stderr)
            return
        if number < self.highest:
            print(f"Task {self.task}: piece {number} came after piece {self.highest}.",
                  file=sys.stderr)
        self.highest = max(self.highest, number)
        self.answered = True
        self.pieces.setdefault(number, piece)  # a second copy changes nothing
        if len(self.pieces) == self.total:
            poem = b"".join(self.pieces[n] for n in range(1, self.total + 1))
            self.finish(poem)
        else:
            self.timer.reset(self.wait)  # the server spoke: wait again from now

    def silence(self) -> None:
        """The timer went off: nothing came for `wait` seconds."""
        self.timer = None
        if self.deferred is None:
            return  # finished already
        waited = self.wait
        if not self.answered:
            self.wait *= 2  # back off: the server, or the path, may be overwhelmed
        if self.total is None and self.requests == self.tries:
            self.finish(Failure(TimeoutError(
                f"no answer in {self.tries} tries, the last after {waited:g} seconds")))
        elif self.requests == self.tries:
            self.finish(Failure(TimeoutError(
                f"still no piece {said(self.missing())} after {self.tries} requests")))
        elif self.total is None:
            print(f"Task {self.task}: no answer in {waited:g} seconds;"
                  f" asking again, then waiting {self.wait:g}.", file=sys.stderr)
            self.ask()
        else:
            print(f"Task {self.task}: got {len(self.pieces)} of {self.total} pieces;"
                  f" asking again for {said(self.missing())}.", file=sys.stderr)
            self.ask()

    def connectionRefused(self) -> None:
        """The server's machine says nothing listens there (the select reactor)."""
        self.refused()

    def stopProtocol(self) -> None:
        """The port closed.  Unless finish() closed it, the refusal closed it.

        The epoll and poll reactors, Linux's default and its fallback, take
        the error that an ICMP "port unreachable" leaves on the socket for a
        broken connection, and close the port instead of calling
        connectionRefused() (Twisted issue 5377).
        """
        self.refused()

    def refused(self) -> None:
        self.finish(Failure(ConnectionRefusedError("Connection refused")))

    def finish(self, result: bytes | Failure) -> None:
        """Stop the timer and the port, and fire the Deferred, once."""
        if self.timer is not None and self.timer.active():
            self.timer.cancel()
        if self.deferred is not None:
            d, self.deferred = self.deferred, None
            if self.transport is not None:  # None once the port has closed
                self.transport.stopListening()
            if isinstance(result, Failure):
                d.errback(result)
            else:
                d.callback(result)


async def get_poetry(task: int, host: str, port: int, timeout: float,
                     tries: int) -> tuple[bytes, int]:
    """Download a poem from a UDP poetry server; return (poem, requests sent)."""
    address = await reactor.resolve(host)  # connect() takes an IP address only
    d: Deferred[bytes] = Deferred()
    protocol = PoemDownload(task, address, port, timeout, tries, d)
    reactor.listenUDP(0, protocol)  # port 0: any free port, as for TCP clients
    poem = await d
    return poem, protocol.requests


def stop_reactor() -> None:
    """Stop the reactor, unless Ctrl-C has stopped it already."""
    try:
        reactor.stop()
    except ReactorNotRunning:
        pass


def main() -> None:
    args = parse_args()
    started = time.monotonic()
    pending: set[int] = set()
    poems: dict[int, bytes] = {}

    async def fetch_and_report(task: int, address: str, host: str, port: int) -> None:
        try:
            poem, requests = await get_poetry(task, host, port,
                                              args.timeout, args.tries)
        except Exception as error:
            if reactor.running:  # not Ctrl-C
                print(f"Task {task}: cannot get poetry from {address}: {error}",
                      file=sys.stderr)
        else:
            print(f"Task {task}: got {len(poem)} bytes of poetry from {address}"
                  f" in {requests} request{'s' if requests > 1 else ''}.",
                  file=sys.stderr)
            poems[task] = poem

    def done(task: int, result: None | Failure) -> None | Failure:
        if reactor.running:  # not Ctrl-C, which leaves the task pending for main()
            pending.remove(task)
            if not pending:
                reactor.callLater(0, stop_reactor)
        return result  # a Failure here is a bug in fetch_and_report(): pass it on

    for task, (host, port) in enumerate(args.addresses, start=1):
        pending.add(task)
        d = Deferred.fromCoroutine(fetch_and_report(task, f"{host}:{port}", host, port))
        d.addBoth(partial(done, task))

    reactor.run()  # until done() stops it, or Ctrl-C does
    if pending:  # the reactor stopped with poems still on their way: Ctrl-C
        sys.exit(130)

    elapsed = time.monotonic() - started
    print(f"Got {len(poems)} of {len(args.addresses)} poems in {elapsed:.1f} seconds.",
          file=sys.stderr)
    # Decode each poem only once it is whole: a character that takes several
    # bytes may have been split between two pieces.
    texts = [poems[task].decode("utf-8", errors="replace") for task in sorted(poems)]
    print("\n".join(texts), end="")
    sys.exit(1 if len(poems) < len(args.addresses) else 0)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)  # Ctrl-C before the reactor runs: stop quietly, as it does
