r"""A TLS poetry server that serves only clients with a certificate it trusts.

It is code/tls/fastpoetry.py (chapter 24, exercise 1) with an
SSL4ServerEndpoint instead of an ssl: description, because a
description cannot say whom to ask for certificates: the
CertificateOptions come from PrivateCertificate.options(), given the
certificate authority (--ca) that must have signed each client's
certificate.  A client with none, or with one from anybody else, fails
the handshake and gets no poem.

    python code/solutions/ch24-client-certificates/make-certificates.py /tmp/mutual-tls
    python code/solutions/ch24-client-certificates/fastpoetry.py --port 10001 \
        --certificate /tmp/mutual-tls/server.pem --ca /tmp/mutual-tls/ca.pem \
        code/poetry/science.txt
    python code/solutions/ch24-client-certificates/get-poetry.py \
        --ca /tmp/mutual-tls/ca.pem --certificate /tmp/mutual-tls/client.pem 10001
"""

import argparse
import sys
import warnings
from pathlib import Path

from OpenSSL.crypto import Error as OpenSSLError
from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.endpoints import SSL4ServerEndpoint
from twisted.internet.error import CannotListenError, ConnectionDone
from twisted.internet.interfaces import IReactorCore
from twisted.internet.protocol import Protocol, ServerFactory
from twisted.internet.ssl import Certificate, PrivateCertificate
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
    parser.add_argument("--ca", type=Path, required=True,
                        help="a PEM file: the authority of the clients' certificates")
    return parser.parse_args()


async def serve(reactor: IReactorCore, args: argparse.Namespace) -> None:
    # Send out each line as soon as it is printed, even into a file or a pipe.
    sys.stdout.reconfigure(line_buffering=True)
    try:
        poem = args.poem.read_bytes()
    except OSError as error:
        sys.exit(f"Cannot read the poem: {error}")
    factory = PoetryFactory(poem)
    try:
        server = PrivateCertificate.loadPEM(args.certificate.read_bytes())
        clients_ca = Certificate.loadPEM(args.ca.read_bytes())
    except OSError as error:
        sys.exit(f"Cannot read a certificate: {error}")
    except OpenSSLError:
        sys.exit(f"Cannot use {args.certificate} and {args.ca}: not PEM certificates")
    # Our certificate and key; and every client must show one that clients_ca signed.
    options = server.options(clients_ca)
    endpoint = SSL4ServerEndpoint(reactor, args.port, options, interface=args.iface)
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
