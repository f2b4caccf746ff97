"""A poetry server over UDP: the poem goes out as numbered datagrams.

There are no connections.  A client sends a request datagram, and the
server answers it with datagrams of the poem, each holding one piece:

    request:  GET          every piece of the poem
              GET 3,5      pieces 3 and 5 only
    answer:   N/TOTAL:     then at most --size bytes of the poem, piece N

Pieces are numbered from 1; TOTAL is how many pieces the poem makes.  The
server keeps nothing about its clients between datagrams: each request is
answered on its own, from the request alone, so asking again for a lost
piece is just another request.  A datagram that is not a request gets no
answer, and the server goes on serving.

Run it, then fetch the poem with this chapter's client:

    python code/udp/poetry-server.py --port 10001 --size 64 code/poetry/science.txt
    python code/udp/get-poetry.py 10001
"""

import argparse
import sys
from pathlib import Path

from twisted.internet import reactor
from twisted.internet.error import CannotListenError
from twisted.internet.protocol import DatagramProtocol

MAX_REQUEST = 512
"""The longest request the server reads, in bytes; a longer one is garbage."""


def pieces_of(poem: bytes, size: int) -> list[bytes]:
    """The poem cut into pieces of `size` bytes (the last may be shorter)."""
    return [poem[start:start + size] for start in range(0, len(poem), size)]


def parse_request(datagram: bytes, total: int) -> list[int]:
    """The numbers of the pieces a request asks for, in the order it asks.

    Raises ValueError, saying why, for a datagram that is not a request.
    """
    if len(datagram) > MAX_REQUEST:
        raise ValueError(f"{len(datagram)} bytes is too long for a request")
    if datagram == b"GET":
        return list(range(1, total + 1))
    if not datagram.startswith(b"GET "):
        raise ValueError("not a request")
    numbers = []
    for field in datagram[4:].split(b","):
        if not field.isdigit() or not 1 <= int(field) <= total:
            shown = field[:10].decode("ascii", "replace")
            raise ValueError(f"no piece {shown!r} in a poem of {total}")
        if int(field) not in numbers:
            numbers.append(int(field))
    return numbers


class PoetryDatagramProtocol(DatagramProtocol):
    """Answers each request datagram with the pieces it asks for."""

    def __init__(self, poem: bytes, size: int) -> None:
        self.pieces = pieces_of(poem, size)

    def datagramReceived(self, datagram: bytes, addr: tuple[str, int]) -> None:
        host, port = addr
        total = len(self.pieces)
        try:
            numbers = parse_request(datagram, total)
        except ValueError as error:
            print(f"Ignored a datagram from {host}: {error}.")
            return  # no answer: the client will ask again, or give up
        if len(numbers) == total:
            print(f"Request from {host}: all {total} pieces.")
        else:
            print(f"Request from {host}: pieces {', '.join(map(str, numbers))}.")
        for number in numbers:
            header = b"%d/%d:" % (number, total)
            self.transport.write(header + self.pieces[number - 1], addr)


def port_number(text: str) -> int:
    """A port to listen on, from 0 to 65535; 0 lets the system pick one."""
    port = int(text)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"not a port number from 0 to 65535: {text!r}")
    return port


def piece_size(text: str) -> int:
    """Bytes of poem in one datagram: from 1 to 1400, so that it fits any network."""
    size = int(text)
    if not 1 <= size <= 1400:
        raise argparse.ArgumentTypeError(f"not a piece size from 1 to 1400: {text!r}")
    return size


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("poem", type=Path, help="the file holding the poem")
    parser.add_argument("--port", type=port_number, default=0,
                        help="UDP port to listen on (default: 0, the system picks one)")
    parser.add_argument("--iface", default="127.0.0.1",
                        help="interface to listen on (default: 127.0.0.1)")
    parser.add_argument("--size", type=piece_size, default=512,
                        help="bytes of poem in each datagram (default: 512)")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    # Send out each line as soon as it is printed, even into a file or a pipe.
    sys.stdout.reconfigure(line_buffering=True)
    try:
        poem = args.poem.read_bytes()
    except OSError as error:
        sys.exit(f"Cannot read the poem: {error}")
    if not poem:
        sys.exit(f"Cannot serve {args.poem}: the file is empty.")
    protocol = PoetryDatagramProtocol(poem, args.size)
    try:
        port = reactor.listenUDP(args.port, protocol, interface=args.iface)
    except CannotListenError as error:
        sys.exit(f"Cannot listen on {args.iface}:{args.port}:"
                 f" {error.socketError.strerror}")
    address = port.getHost()
    print(f"Serving {args.poem} on {address.host}:{address.port} (UDP),"
          f" in {len(protocol.pieces)} pieces.")
    reactor.run()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)  # Ctrl-C before the reactor runs: stop quietly, as it does
