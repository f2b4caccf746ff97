"""A UDP relay that loses, reorders and duplicates datagrams, by rule.

A solution to chapter 25's exercise 1: the chapter's relay, with one more
rule, --duplicate, for the copies a real network sometimes makes.

It sits between clients and a UDP server.  Each datagram a client sends
to the relay goes on to the server; each datagram the server answers
with goes back to that client, except as the rules say.  The rules count
the datagrams coming back from the server to each client, 1, 2, 3, ...:

    --drop 3,5    datagrams 3 and 5 are lost
    --swap 7      datagram 7 is held back and sent just after datagram 8
                  (if no datagram 8 ever comes, neither does 7)
    --duplicate 2 datagram 2 is sent twice

The relay gives each client a port of its own towards the server,
connected to the server's address, so the server's answers to that port
belong to that client and nobody else can slip datagrams into it.

Run a UDP poetry server, the relay in front of it, and the client against
the relay:

    python code/udp/poetry-server.py --port 10001 --size 64 code/poetry/science.txt
    python code/solutions/ch25-duplicate/relay.py --port 10002 --duplicate 2,4 10001
    python code/udp/get-poetry.py 10002
"""

import argparse
import socket
import sys

from twisted.internet import reactor
from twisted.internet.error import CannotListenError
from twisted.internet.protocol import DatagramProtocol


def describe(datagram: bytes) -> str:
    """A datagram in a few words: an answer's N/TOTAL, or the start of a request."""
    header, colon, _ = datagram.partition(b":")
    if colon and len(header) <= 12:
        return header.decode("ascii", "replace")
    return repr(datagram[:20].decode("ascii", "replace"))


class Upstream(DatagramProtocol):
    """One client's port towards the server: it applies the rules to the answers."""

    def __init__(self, relay: "Relay", client: tuple[str, int]) -> None:
        self.relay, self.client = relay, client
        self.count = 0  # the answers that have come back from the server so far
        self.held: bytes | None = None  # a datagram waiting to be swapped

    def startProtocol(self) -> None:
        self.transport.connect(*self.relay.server)

    def datagramReceived(self, datagram: bytes, addr: tuple[str, int]) -> None:
        self.count += 1
        number = self.count
        if number in self.relay.swap:
            print(f"Datagram {number} ({describe(datagram)}): held back.")
            previous, self.held = self.held, datagram
        elif number in self.relay.drop:
            print(f"Datagram {number} ({describe(datagram)}): dropped.")
            previous, self.held = self.held, None
        elif number in self.relay.duplicate:
            print(f"Datagram {number} ({describe(datagram)}): sent twice.")
            self.relay.transport.write(datagram, self.client)
            self.relay.transport.write(datagram, self.client)
            previous, self.held = self.held, None
        else:
            self.relay.transport.write(datagram, self.client)
            previous, self.held = self.held, None
        if previous is not None:  # the datagram held back before this one
            print(f"Datagram {number - 1} ({describe(previous)}): sent after {number}.")
            self.relay.transport.write(previous, self.client)

    def stopProtocol(self) -> None:
        # An ICMP "port unreachable" from the server's machine closes the
        # port on Linux's epoll reactor (the select reactor would call
        # connectionRefused() instead): forget it, the next request opens
        # another one.
        if reactor.running and self.relay.upstreams.get(self.client) is self:
            print(f"The server refused a datagram: nothing listens on"
                  f" {self.relay.server[0]}:{self.relay.server[1]}.")
            del self.relay.upstreams[self.client]

    def connectionRefused(self) -> None:
        self.stopProtocol()
        self.transport.stopListening()


class Relay(DatagramProtocol):
    """The port the clients talk to: it passes their requests on to the server."""

    def __init__(self, server: tuple[str, int], drop: set[int], swap: set[int],
                 duplicate: set[int]) -> None:
        self.server, self.drop, self.swap = server, drop, swap
        self.duplicate = duplicate
        self.upstreams: dict[tuple[str, int], Upstream] = {}
        self.requests = 0

    def datagramReceived(self, datagram: bytes, addr: tuple[str, int]) -> None:
        self.requests += 1
        print(f"Request {self.requests} from {addr[0]}: {describe(datagram)}.")
        upstream = self.upstreams.get(addr)
        if upstream is None:
            upstream = self.upstreams[addr] = Upstream(self, addr)
            reactor.listenUDP(0, upstream)
        upstream.transport.write(datagram)


def port_number(text: str) -> int:
    """A port to listen on, from 0 to 65535; 0 lets the system pick one."""
    port = int(text)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"not a port number from 0 to 65535: {text!r}")
    return port


def parse_address(text: str) -> tuple[str, int]:
    """Turn '[host:]port' into a (host, port) pair; the host defaults to 127.0.0.1."""
    host, _, port = text.rpartition(":")
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError(f"not a [host:]port address: {text!r}")
    return host or "127.0.0.1", int(port)


def datagram_numbers(text: str) -> set[int]:
    """Turn '3,5' into {3, 5}: numbers of datagrams, counted from 1."""
    numbers = set()
    for field in text.split(","):
        if not field.isdigit() or int(field) < 1:
            raise argparse.ArgumentTypeError(
                f"not datagram numbers (1 or more, separated by commas): {text!r}")
        numbers.add(int(field))
    return numbers


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("server", metavar="SERVER", type=parse_address,
                        help="the UDP server's [host:]port")
    parser.add_argument("--port", type=port_number, default=0,
                        help="UDP port to listen on (default: 0, the system picks one)")
    parser.add_argument("--iface", default="127.0.0.1",
                        help="interface to listen on (default: 127.0.0.1)")
    parser.add_argument("--drop", type=datagram_numbers, default=set(), metavar="N,N",
                        help="the answers to lose, counted from 1 for each client")
    parser.add_argument("--swap", type=datagram_numbers, default=set(), metavar="N,N",
                        help="the answers to send just after the next one")
    parser.add_argument("--duplicate", type=datagram_numbers, default=set(),
                        metavar="N,N", help="the answers to send twice")
    args = parser.parse_args()
    for one, other, name in ((args.drop, args.swap, "dropped and swapped"),
                             (args.drop, args.duplicate, "dropped and duplicated"),
                             (args.swap, args.duplicate, "swapped and duplicated")):
        if one & other:
            parser.error(f"a datagram cannot be both {name}: {min(one & other)}")
    return args


def rules(drop: set[int], swap: set[int], duplicate: set[int]) -> str:
    """The rules in words: "dropping 3, 5; swapping 7 and 8; duplicating 2"."""
    said = []
    if drop:
        said.append("dropping " + ", ".join(map(str, sorted(drop))))
    if duplicate:
        said.append("duplicating " + ", ".join(map(str, sorted(duplicate))))
    said += [f"swapping {n} and {n + 1}" for n in sorted(swap)]
    return "; ".join(said) or "passing everything"


def main() -> None:
    args = parse_args()
    # Send out each line as soon as it is printed, even into a file or a pipe.
    sys.stdout.reconfigure(line_buffering=True)
    host, server_port = args.server
    try:
        server = socket.gethostbyname(host), server_port  # connect() wants an IP
    except OSError as error:
        sys.exit(f"Cannot find the server's host {host}: {error}")
    relay = Relay(server, args.drop, args.swap, args.duplicate)
    try:
        port = reactor.listenUDP(args.port, relay, interface=args.iface)
    except CannotListenError as error:
        sys.exit(f"Cannot listen on {args.iface}:{args.port}:"
                 f" {error.socketError.strerror}")
    address = port.getHost()
    print(f"Relaying {address.host}:{address.port} to {server[0]}:{server[1]}"
          f" (UDP), {rules(args.drop, args.swap, args.duplicate)}.")
    reactor.run()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)  # Ctrl-C before the reactor runs: stop quietly, as it does
