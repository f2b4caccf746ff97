r"""A fast poetry server that serves its poem over TLS.

It is chapter 18's endpoint server with an ssl: endpoint instead of a
tcp: one: the description names the file that holds the server's
certificate and private key (--certificate), and the endpoint does the
TLS handshake, encryption and decryption.  The protocol and the factory
have not changed.

Make the certificates, run it, then fetch the poem with the TLS client:

    python code/tls/make-certificates.py /tmp/poetry-tls
    python code/tls/fastpoetry.py --port 10001 \
        --certificate /tmp/poetry-tls/server.pem code/poetry/science.txt
    python code/tls/get-poetry.py --ca /tmp/poetry-tls/ca.pem 10001
"""

import argparse
import sys
import warnings
from pathlib import Path

from OpenSSL.crypto import Error as OpenSSLError
from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.endpoints import quoteStringArgument, serverFromString
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
    parser.add_argument("--certificate", type=Path, required=True,
                        help="a PEM file: the server's certificate and private key")
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
    certificate = quoteStringArgument(str(args.certificate))  # so does a path's
    try:  # the endpoint reads the certificate and the key now
        endpoint = serverFromString(
            reactor, f"ssl:{args.port}:interface={interface}:privateKey={certificate}")
    except OSError as error:
        sys.exit(f"Cannot read the certificate: {error}")
    except OpenSSLError:
        sys.exit(f"Cannot use {args.certificate}: no certificate and key in PEM in it")
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
    # Twisted 26.10 hands pyOpenSSL its own certificate and key objects, which
    # pyOpenSSL 26 deprecates (Twisted issue 12664): Twisted's to change, not ours.
    warnings.filterwarnings("ignore", "Passing pyOpenSSL (X509|PKey) objects",
                            DeprecationWarning)
    react(serve, [parse_args()])


if __name__ == "__main__":
    main()
