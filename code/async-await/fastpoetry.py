"""A fast poetry server that listens on an endpoint.

It is chapter 10's fast poetry server with a new main(): a coroutine,
run by task.react(), that turns --port and --iface into an endpoint
description (tcp:PORT:interface=IFACE), makes an endpoint of it with
serverFromString(), and listens on that.  The protocol and the factory
have not changed.

Run it, then fetch the poem with netcat or any poetry client:

    python code/async-await/fastpoetry.py --port 10001 code/poetry/science.txt
    nc -d 127.0.0.1 10001
"""

import argparse
import sys
import warnings
from pathlib import Path

from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.endpoints import serverFromString
from twisted.internet.error import CannotListenError, ConnectionDone
from twisted.internet.interfaces import IReactorCore
from twisted.internet.protocol import Protocol, ServerFactory
from twisted.internet.task import react
from twisted.python.failure import Failure


class PoetryProtocol(Protocol):
    """One connection: send the poem, then hang up."""

    factory: "PoetryFactory"

    def connectionMade(self) -> None:
        self.factory.connections += 1
        self.number = self.factory.connections  # this connection's own number
        peer = self.transport.getPeer()
        print(f"Connection {self.number} from {peer.host}.")
        self.transport.write(self.factory.poem)  # buffered: returns at once
        self.transport.loseConnection()  # once the buffer has been written

    def connectionLost(self, reason: Failure) -> None:
        if not reactor.running:
            return  # Ctrl-C: the server is shutting down, no client hung up
        if reason.check(ConnectionDone):
            print(f"Connection {self.number}: sent {len(self.factory.poem)} bytes.")
        else:
            print(f"Connection {self.number}: lost: {reason.getErrorMessage()}")


class PoetryFactory(ServerFactory):
    """What all the connections share: the poem, and a count of connections."""

    protocol = PoetryProtocol

    def __init__(self, poem: bytes) -> None:
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


async def serve(reactor: IReactorCore, args: argparse.Namespace) -> None:
    # Send out each line as soon as it is printed, even into a file or a pipe.
    sys.stdout.reconfigure(line_buffering=True)
    try:
        poem = args.poem.read_bytes()
    except OSError as error:
        sys.exit(f"Cannot read the poem: {error}")
    factory = PoetryFactory(poem)
    interface = args.iface.replace(":", r"\:")  # a colon ends a description's field
    endpoint = serverFromString(reactor, f"tcp:{args.port}:interface={interface}")
    try:
        port = await endpoint.listen(factory)
    except CannotListenError as error:
        sys.exit(f"Cannot listen on {args.iface}:{args.port}:"
                 f" {error.socketError.strerror}")
    address = port.getHost()
    print(f"Serving {args.poem} on {address.host}:{address.port}.")
    await Deferred()  # one that never fires: serve until Ctrl-C stops the reactor


def main() -> None:
    # Twisted's spare descriptor on /dev/null, open for good, is not a leak:
    warnings.filterwarnings("ignore", "unclosed file .*'/dev/null'", ResourceWarning)
    react(serve, [parse_args()])


if __name__ == "__main__":
    main()
