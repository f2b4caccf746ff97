"""A poetry client built on get_poetry(host, port, callback); it hangs.

get_poetry() starts fetching one poem and returns at once; when the poem
is in, it calls callback(poem).  The protocol and the factory only fetch;
main() decides what to say and when to stop.  But nobody ever tells main()
about a poem that will not come: with a server down, the client waits
forever.  Press Ctrl-C to stop it.

Run it against one or more poetry servers, given as [host:]port:

    python code/twisted-client-3/get-poetry-hangs.py 10001 10002 10003
"""

import argparse
import sys
import time
from collections.abc import Callable
from functools import partial

from twisted.internet import reactor
from twisted.internet.error import ConnectionDone, ReactorNotRunning
from twisted.internet.protocol import ClientFactory, Protocol
from twisted.python.failure import Failure


def parse_address(text: str) -> tuple[str, int]:
    """Turn '[host:]port' into a (host, port) pair; the host defaults to 127.0.0.1."""
    host, _, port = text.rpartition(":")
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError(f"not a [host:]port address: {text!r}")
    return host or "127.0.0.1", int(port)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("addresses", metavar="ADDRESS", nargs="+", type=parse_address,
                        help="a poetry server's [host:]port")
    return parser.parse_args()


class PoetryProtocol(Protocol):
    """Receives one poem: the bytes a server sends until it closes the connection."""

    factory: "PoetryClientFactory"  # set by the factory that built this protocol

    def connectionMade(self) -> None:
        self.chunks: list[bytes] = []

    def dataReceived(self, data: bytes) -> None:
        self.chunks.append(data)

    def connectionLost(self, reason: Failure) -> None:
        if reason.check(ConnectionDone) and self.chunks:
            self.factory.poem_finished(b"".join(self.chunks))


class PoetryClientFactory(ClientFactory):
    """Builds the protocol for one download, and hands back the poem."""

    protocol = PoetryProtocol

    def __init__(self, callback: Callable[[bytes], None]) -> None:
        self.callback = callback

    def poem_finished(self, poem: bytes) -> None:
        self.callback(poem)


def get_poetry(host: str, port: int, callback: Callable[[bytes], None]) -> None:
    """Start fetching a poem from host:port, and return at once.

    Later, call callback(poem) with the poem's bytes.
    """
    factory = PoetryClientFactory(callback)
    reactor.connectTCP(host, port, factory)


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

    def got_poem(task: int, address: str, poem: bytes) -> None:
        print(f"Task {task}: got {len(poem)} bytes of poetry from {address}",
              file=sys.stderr)
        poems[task] = poem
        done(task)

    def done(task: int) -> None:
        pending.remove(task)
        if not pending:
            reactor.callLater(0, stop_reactor)

    for task, (host, port) in enumerate(args.addresses, start=1):
        pending.add(task)
        address = f"{host}:{port}"
        get_poetry(host, port, partial(got_poem, task, address))

    reactor.run()  # until done() stops it, or Ctrl-C does
    if pending:  # the reactor stopped with poems still on their way: Ctrl-C
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
