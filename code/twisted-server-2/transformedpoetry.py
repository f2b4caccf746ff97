"""A transformation server: a client names a transformation and sends a text.

A request is one netstring, NAME.TEXT (cummingsify.Whose woods these
are); the answer is one netstring holding the transformed text, and then
the server closes the connection.  A request it cannot or will not
answer gets no answer at all: the server closes the connection and logs
one line that says why.

Three objects share the work: TransformService does the transformations
and knows nothing of networks, TransformProtocol speaks netstrings, and
TransformFactory stands between them, with the allow-list of the names a
client may ask for.

Run it, then send it a request by hand:

    python code/twisted-server-2/transformedpoetry.py --port 10001
    printf '11:upper.hello,' | nc 127.0.0.1 10001
"""

import argparse
import reprlib
import sys
from collections.abc import Callable

from twisted.internet import reactor
from twisted.internet.error import CannotListenError
from twisted.internet.protocol import ServerFactory
from twisted.protocols.basic import NetstringReceiver
from twisted.python.failure import Failure


class TransformService:
    """The transformations themselves: text in, text out, no network in sight."""

    def cummingsify(self, poem: str) -> str:
        """The poem in lower case."""
        return poem.lower()

    def upper(self, poem: str) -> str:
        """The poem in capitals."""
        return poem.upper()

    def reverse(self, poem: str) -> str:
        """The poem's lines in reverse order, the last line first."""
        return "".join(reversed(poem.splitlines(keepends=True)))


class NoAnswer(Exception):
    """The server will not answer this request, for the reason given."""


class TransformProtocol(NetstringReceiver):
    """One connection: read one request, answer it or not, and hang up."""

    MAX_LENGTH = 100_000  # bytes in a request; the length alone rules a longer one out
    factory: "TransformFactory"

    def connectionMade(self) -> None:
        self.factory.connections += 1
        self.number = self.factory.connections
        self.handled = False  # set once the request has been dealt with

    def stringReceived(self, request: bytes) -> None:
        if self.handled:
            return  # a second netstring, read in the same chunk: we are hanging up
        self.handled = True
        try:
            name, text = parse(request)
            answer = self.factory.transform(name, text).encode("utf-8")
        except NoAnswer as reason:
            self.log(f"no answer: {reason}")
        else:
            self.sendString(answer)
            self.log(f"{name}: answered with {len(answer)} bytes")
        self.transport.loseConnection()

    def connectionLost(self, reason: Failure) -> None:
        if self.handled:
            return  # stringReceived() has logged this connection
        if not reactor.running:
            return  # Ctrl-C: the server is shutting down, no client hung up
        if self.brokenPeer:  # NetstringReceiver found a bad netstring and hung up
            self.log(f"no answer: not a netstring of at most {self.MAX_LENGTH} bytes")
        else:
            self.log("no answer: the client hung up before its request was whole")

    def log(self, message: str) -> None:
        peer = self.transport.getPeer().host
        print(f"Connection {self.number} from {peer}: {message}.")


def parse(request: bytes) -> tuple[str, str]:
    """Split a request, NAME.TEXT, into its name and its text."""
    try:
        name, dot, text = request.decode("utf-8").partition(".")
    except UnicodeDecodeError:
        raise NoAnswer("the request is not UTF-8") from None
    if not dot:
        raise NoAnswer("no '.' between a name and a text")
    return name, text


class TransformFactory(ServerFactory):
    """Between protocols and service: the allow-list, and a count of connections."""

    protocol = TransformProtocol

    def __init__(self, service: TransformService) -> None:
        self.connections = 0
        # The allow-list: each name a client may send, and the method it runs.
        # A client's string is only ever looked up here, never used as an
        # attribute name, so nothing else of the service can be reached.
        self.transforms: dict[str, Callable[[str], str]] = {
            "cummingsify": service.cummingsify,
            "upper": service.upper,
            "reverse": service.reverse,
        }

    def transform(self, name: str, text: str) -> str:
        """Run the transformation called name, if the allow-list has it."""
        try:
            method = self.transforms[name]
        except KeyError:
            raise NoAnswer(f"no transformation named {reprlib.repr(name)}") from None
        try:
            return method(text)
        except Exception as error:  # a bug in the service fails this request only
            raise NoAnswer(f"{name} failed: {type(error).__name__}: {error}") from error


def port_number(text: str) -> int:
    """A port to listen on, from 0 to 65535; 0 lets the system pick one."""
    port = int(text)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"not a port number from 0 to 65535: {text!r}")
    return port


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=port_number, default=0,
                        help="port to listen on (default: 0, the system picks one)")
    parser.add_argument("--iface", default="127.0.0.1",
                        help="interface to listen on (default: 127.0.0.1)")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    # Send out each line as soon as it is printed, even into a file or a pipe.
    sys.stdout.reconfigure(line_buffering=True)
    factory = TransformFactory(TransformService())
    try:
        port = reactor.listenTCP(args.port, factory, interface=args.iface)
    except CannotListenError as error:
        sys.exit(f"Cannot listen on {args.iface}:{args.port}:"
                 f" {error.socketError.strerror}")
    address = port.getHost()
    print(f"Serving transformations on {address.host}:{address.port}.")
    reactor.run()


if __name__ == "__main__":
    main()
