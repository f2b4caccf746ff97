"""Twisted and asyncio in one program, on one event loop.

The program installs Twisted's asyncio reactor, which runs on asyncio's
event loop, and then fetches the same poem twice.  Twisted awaits an
asyncio coroutine that fetches it with asyncio's own streams, wrapped in
a Deferred by Deferred.fromFuture().  Then an asyncio coroutine awaits
Twisted code that fetches it with an endpoint and a protocol, wrapped in
an asyncio Future by Deferred.asFuture().  Last, a Twisted timer and an
asyncio timer go off on the same loop, in the order of their deadlines.

Run it against a poetry server, given as [host:]port:

    python code/async-await/fastpoetry.py --port 10001 code/poetry/science.txt
    python code/async-await/asyncio-poetry.py 10001
"""

import argparse
import asyncio
import os
import sys

from twisted.internet import asyncioreactor
from twisted.internet.defer import Deferred
from twisted.internet.endpoints import HostnameEndpoint, connectProtocol
from twisted.internet.error import ConnectionDone
from twisted.internet.interfaces import IReactorCore
from twisted.internet.protocol import Protocol
from twisted.internet.task import deferLater, react
from twisted.python.failure import Failure


def parse_address(text: str) -> tuple[str, int]:
    """Turn '[host:]port' into a (host, port) pair; the host defaults to 127.0.0.1."""
    host, _, port = text.rpartition(":")
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError(f"not a [host:]port address: {text!r}")
    return host or "127.0.0.1", int(port)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("address", metavar="ADDRESS", type=parse_address,
                        help="a poetry server's [host:]port")
    return parser.parse_args()


# -- asyncio code: it knows nothing of Twisted ------------------------------

async def fetch_with_asyncio(host: str, port: int) -> bytes:
    """Fetch a poem with asyncio's streams."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        poem = await reader.read()  # everything, up to the server's close
    finally:
        writer.close()
        await writer.wait_closed()
    if not poem:
        raise ConnectionError("the server closed the connection without sending a poem")
    return poem


# -- Twisted code: it knows nothing of asyncio ------------------------------

class PoemProtocol(Protocol):
    """Receives one poem; self.poem fires with its bytes when the server closes."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.poem: Deferred[bytes] = Deferred()

    def dataReceived(self, data: bytes) -> None:
        self.chunks.append(data)

    def connectionLost(self, reason: Failure) -> None:
        if reason.check(ConnectionDone) and self.chunks:
            self.poem.callback(b"".join(self.chunks))
        elif reason.check(ConnectionDone):  # closed before a single byte: no poem
            self.poem.errback(ConnectionError(
                "the server closed the connection without sending a poem"))
        else:
            self.poem.errback(reason)


async def fetch_with_twisted(reactor: IReactorCore, host: str, port: int) -> bytes:
    """Fetch a poem with a Twisted protocol, connected through an endpoint."""
    endpoint = HostnameEndpoint(reactor, host, port)
    protocol = await connectProtocol(endpoint, PoemProtocol())
    return await protocol.poem


# -- both: the bridges between them -----------------------------------------

async def asyncio_awaits_twisted(reactor: IReactorCore, host: str, port: int) -> bytes:
    """An asyncio coroutine: it awaits Twisted's fetch as an asyncio Future."""
    d = Deferred.fromCoroutine(fetch_with_twisted(reactor, host, port))
    poem = await d.asFuture(asyncio.get_running_loop())
    print(f"asyncio: the Future gave me {len(poem)} bytes from Twisted's fetch")
    return poem


def cancel_asyncio_tasks() -> Deferred[object]:
    """Cancel asyncio's tasks; the Deferred fires when they have all ended."""
    tasks = asyncio.all_tasks()
    for task in tasks:
        task.cancel()
    return Deferred.fromFuture(asyncio.gather(*tasks, return_exceptions=True))


async def fetch_twice(reactor: IReactorCore, args: argparse.Namespace) -> None:
    """Twisted's side, run by react(): it awaits asyncio's work through Deferreds."""
    # Ctrl-C stops the reactor, which stops the loop: first let asyncio's tasks end.
    reactor.addSystemEventTrigger("before", "shutdown", cancel_asyncio_tasks)
    loop = asyncio.get_event_loop()  # the loop the reactor will run
    print(f"The reactor, {type(reactor).__name__}, runs on {type(loop).__name__}.")
    host, port = args.address
    try:
        task = asyncio.ensure_future(fetch_with_asyncio(host, port))
        first = await Deferred.fromFuture(task)
        print(f"Twisted: the Deferred gave me {len(first)} bytes from asyncio's fetch")

        task = asyncio.ensure_future(asyncio_awaits_twisted(reactor, host, port))
        second = await Deferred.fromFuture(task)
        print(f"The same poem both ways: {first == second}")

        twisted_timer = deferLater(reactor, 0.2, print,
                                   "Twisted: deferLater(0.2) is over")
        asyncio_timer = Deferred.fromFuture(asyncio.ensure_future(asyncio.sleep(0.1)))
        asyncio_timer.addCallback(lambda _: print("asyncio: sleep(0.1) is over"))
        await asyncio_timer
        await twisted_timer
    except OSError as error:  # errno None: one of our own, with a message
        reason = os.strerror(error.errno) if error.errno else str(error)
        sys.exit(f"Cannot get poetry from {host}:{port}: {reason}")
    except asyncio.CancelledError:  # by cancel_asyncio_tasks(): Ctrl-C
        sys.exit(130)


def main() -> None:
    args = parse_args()
    # Send out each line as soon as it is printed, even into a file or a pipe.
    sys.stdout.reconfigure(line_buffering=True)
    asyncioreactor.install()  # before anything imports twisted.internet.reactor
    react(fetch_twice, [args])


if __name__ == "__main__":
    main()
