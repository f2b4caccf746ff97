"""A poetry client on Twisted's reactor, with the sockets still in our hands.

Chapter 2's asynchronous client without its select() loop: each download
is an object handed to the reactor with addReader(), and the reactor calls
its doRead() method when its socket has bytes waiting.  The reactor's
callLater() gives each download a timer for a server that stops talking.
The poems go to standard output; what the client is doing goes to
standard error.

Run it against one or more poetry servers, given as [host:]port:

    python code/twisted-client-1/get-poetry.py 10001 10002 10003
"""

import argparse
import math
import socket
import sys
import time
from collections.abc import Callable

from twisted.internet import reactor
from twisted.internet.error import ConnectionDone, ReactorNotRunning
from twisted.internet.interfaces import IReadDescriptor
from twisted.internet.main import CONNECTION_DONE
from twisted.python.failure import Failure
from zope.interface import implementer


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


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("addresses", metavar="ADDRESS", nargs="+", type=parse_address,
                        help="a poetry server's [host:]port")
    parser.add_argument("--timeout", type=positive_seconds, default=10.0,
                        help="seconds to wait when a server says nothing (default: 10)")
    return parser.parse_args()


def read_available(sock: socket.socket) -> tuple[bytes, bool]:
    """Read the bytes waiting on a socket; say whether the server has closed it."""
    data = []
    while True:
        try:
            chunk = sock.recv(1024)
        except BlockingIOError:  # EWOULDBLOCK: nothing more for now, don't wait
            return b"".join(data), False
        if not chunk:  # the server closed the connection
            return b"".join(data), True
        data.append(chunk)


@implementer(IReadDescriptor)
class PoetrySocket:
    """One download: a non-blocking socket that the reactor reads for us."""

    def __init__(self, task: int, host: str, port: int, timeout: float,
                 finished: Callable[[int, bytes | None], None]) -> None:
        self.task = task
        self.address = f"{host}:{port}"
        self.timeout = timeout
        self.finished = finished  # called with the poem, or with None if there is none
        self.chunks: list[bytes] = []
        # Blocks until connected, for simplicity: chapter 5 connects without blocking.
        self.sock = socket.create_connection((host, port))
        self.sock.setblocking(False)
        self.timer = reactor.callLater(timeout, self.silence)
        reactor.addReader(self)

    def logPrefix(self) -> str:
        """ILoggingContext: how the reactor names us when it logs an error of ours."""
        return f"Task {self.task}"

    def fileno(self) -> int:
        """IFileDescriptor: the file descriptor the reactor watches for us."""
        return self.sock.fileno()  # -1 once the socket is closed

    def doRead(self) -> Failure | ConnectionDone | None:
        """IReadDescriptor: the socket has bytes waiting, or has been closed."""
        try:
            data, closed = read_available(self.sock)
        except OSError as error:  # the connection broke, e.g. a reset
            return Failure(error)
        if data:
            print(f"Task {self.task}: got {len(data)} bytes of poetry "
                  f"from {self.address}", file=sys.stderr)
            self.chunks.append(data)
            self.timer.reset(self.timeout)  # the server spoke: wait again from now
        if closed:
            return CONNECTION_DONE  # stop reading me, and call my connectionLost()
        return None  # go on watching the socket

    def connectionLost(self, reason: Failure) -> None:
        """IFileDescriptor: the reactor has stopped watching us; reason says why."""
        self.sock.close()
        if self.timer.active():
            self.timer.cancel()
        if not reactor.running:
            return  # Ctrl-C: the reactor is shutting down and disconnects everybody
        if reason.check(ConnectionDone) and self.chunks:
            print(f"Task {self.task}: finished", file=sys.stderr)
            self.finished(self.task, b"".join(self.chunks))
        elif reason.check(ConnectionDone):  # closed before a single byte: no poem
            print(f"Task {self.task}: cannot get poetry from {self.address}: "
                  "the server closed the connection without sending a poem",
                  file=sys.stderr)
            self.finished(self.task, None)
        else:
            print(f"Task {self.task}: lost {self.address}: {reason.getErrorMessage()}",
                  file=sys.stderr)
            self.finished(self.task, None)

    def silence(self) -> None:
        """The timer went off: the server has said nothing for too long."""
        print(f"Task {self.task}: {self.address} said nothing "
              f"for {self.timeout:g} seconds", file=sys.stderr)
        reactor.removeReader(self)
        self.sock.close()
        self.finished(self.task, None)


def stop_reactor() -> None:
    """Stop the reactor, unless Ctrl-C has stopped it already."""
    try:
        reactor.stop()
    except ReactorNotRunning:
        pass


def main() -> None:
    args = parse_args()
    started = time.monotonic()
    downloads: dict[int, PoetrySocket] = {}
    poems: dict[int, bytes] = {}

    def finished(task: int, poem: bytes | None) -> None:
        del downloads[task]
        if poem is not None:
            poems[task] = poem
        if not downloads:
            reactor.callLater(0, stop_reactor)

    for task, (host, port) in enumerate(args.addresses, start=1):
        try:
            downloads[task] = PoetrySocket(task, host, port, args.timeout, finished)
        except OSError as error:
            print(f"Task {task}: cannot get poetry from {host}:{port}: "
                  f"{error.strerror}", file=sys.stderr)

    if downloads:
        reactor.run()  # until finished() stops it, or Ctrl-C does
        if downloads:  # the reactor stopped with poems still on their way: Ctrl-C
            sys.exit(130)

    elapsed = time.monotonic() - started
    print(f"Got {len(poems)} of {len(args.addresses)} poems in {elapsed:.1f} seconds.",
          file=sys.stderr)
    # Decode each poem only once it is whole: a character that takes several
    # bytes may have been split between two reads.
    texts = [poems[task].decode("utf-8", errors="replace") for task in sorted(poems)]
    print("\n".join(texts), end="")
    sys.exit(1 if len(poems) < len(args.addresses) else 0)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)  # Ctrl-C before the reactor runs: stop quietly, as it does
