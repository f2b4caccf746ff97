"""The fast poetry server for the benchmark, written with asyncio and a Protocol.

Every client gets the whole poem at once, and then the server closes the
connection.  It is the Twisted server of fastpoetry-twisted.py written
with asyncio's own protocols and transports: loop.create_server() plays
listenTCP(), and asyncio calls the protocol's connection_made() as the
reactor calls connectionMade().  Like the other three servers of the
benchmark, it logs nothing per connection, asks for the longest listen
queue the system allows, and raises its limit of open files.

    python code/bench/fastpoetry-asyncio.py --port 10001 code/poetry/science.txt
    nc -d 127.0.0.1 10001
"""

import argparse
import asyncio
import os
import resource
import socket
import sys
from pathlib import Path

BACKLOG = socket.SOMAXCONN
"""How many connections the kernel may hold for us until we accept them.

The same in the four servers: SOMAXCONN, 4096 on Linux, which the kernel
caps at net.core.somaxconn.  create_server() would ask for 100.
"""


class PoetryProtocol(asyncio.Protocol):
    """One connection: send the poem, then hang up."""

    def __init__(self, poem: bytes) -> None:
        self.poem = poem

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        transport.write(self.poem)  # buffered: returns at once
        transport.close()  # once the buffer has been written


async def serve(poem_name: Path, poem: bytes, iface: str, port: int) -> None:
    """Listen, say where, and serve until cancelled (Ctrl-C)."""
    loop = asyncio.get_running_loop()
    try:
        server = await loop.create_server(lambda: PoetryProtocol(poem), iface, port,
                                          backlog=BACKLOG)
    except OSError as error:
        message = f"Cannot listen on {iface}:{port}: {reason(error)}"
        raise CannotListen(message) from None
    host, chosen = server.sockets[0].getsockname()[:2]
    print(f"Serving {poem_name} on {host}:{chosen}.")
    async with server:
        await server.serve_forever()


class CannotListen(Exception):
    """The server could not listen: the one line that says why."""


def reason(error: OSError) -> str:
    """What went wrong, as the system says it ("Address already in use")."""
    if isinstance(error, socket.gaierror):  # a host name that does not resolve
        return str(error.strerror)
    return os.strerror(error.errno) if error.errno else str(error)


def raise_file_limit() -> int:
    """Allow this process as many open files as the hard limit allows.

    Every connection is a file descriptor, and the usual soft limit (often
    1024) would turn clients away long before the loop is busy.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 65536 if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        except (ValueError, OSError):  # e.g. macOS caps it lower: keep what we have
            return soft
        return wanted
    return soft


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


def main() -> None:
    args = parse_args()
    # Send out each line as soon as it is printed, even into a file or a pipe.
    sys.stdout.reconfigure(line_buffering=True)
    try:
        poem = args.poem.read_bytes()
    except OSError as error:
        sys.exit(f"Cannot read the poem: {error}")
    raise_file_limit()
    try:
        asyncio.run(serve(args.poem, poem, args.iface, args.port))
    except CannotListen as error:
        sys.exit(str(error))
    except KeyboardInterrupt:  # Ctrl-C: asyncio.run() has closed the server
        pass


if __name__ == "__main__":
    main()
