"""An asynchronous poetry client: one thread, all servers at once, with select.

The sockets are non-blocking, from the moment they start to connect.  A
loop asks select() which of them have connected or have bytes waiting,
reads what is there without ever waiting for more, and goes back to
select().  The total time is about the time of the slowest server.
The poems go to standard output; what the client is doing goes to
standard error.

Run it against one or more poetry servers, given as [host:]port:

    python code/async-client/get-poetry.py 10001 10002 10003
"""

import argparse
import errno
import math
import os
import select
import socket
import sys
import time
from dataclasses import dataclass, field


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


@dataclass
class Download:
    """What we know about one poem on its way: the task's state."""

    task: int
    address: str
    deadline: float  # when we give up on the server, unless it says something first
    connected: bool = False
    chunks: list[bytes] = field(default_factory=list)


def connect(host: str, port: int) -> socket.socket:
    """Start connecting to a server, and return the socket without waiting."""
    # Looking up a host's name still waits, but not for an address like 127.0.0.1.
    addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    family, kind, proto, _, address = addresses[0]
    sock = socket.socket(family, kind, proto)
    sock.setblocking(False)
    error = sock.connect_ex(address)
    if error not in (0, errno.EINPROGRESS):  # EINPROGRESS: select() will say the rest
        sock.close()
        raise OSError(error, os.strerror(error))
    return sock


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


def report(download: Download, news: str) -> None:
    """Say on standard error how a task is going."""
    print(f"Task {download.task}: {news}", file=sys.stderr)


def main() -> None:
    args = parse_args()
    started = time.monotonic()
    downloads: dict[socket.socket, Download] = {}
    poems: dict[int, bytes] = {}

    for task, (host, port) in enumerate(args.addresses, start=1):
        try:
            sock = connect(host, port)
        except OSError as error:
            print(f"Task {task}: cannot get poetry from {host}:{port}: "
                  f"{error.strerror}", file=sys.stderr)
            continue
        deadline = time.monotonic() + args.timeout
        downloads[sock] = Download(task, f"{host}:{port}", deadline)

    while downloads:
        # Wait until a socket has connected or has something to read, or
        # until the first deadline: apart from looking up names in
        # connect(), the only place where this program waits for the network.
        connecting = [sock for sock, download in downloads.items()
                      if not download.connected]
        reading = [sock for sock, download in downloads.items() if download.connected]
        deadline = min(download.deadline for download in downloads.values())
        wait = max(0, deadline - time.monotonic())
        readable, writable, _ = select.select(reading, connecting, [], wait)
        now = time.monotonic()
        done = []
        for sock in writable:  # connecting is over: it worked, or it failed
            download = downloads[sock]
            error = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if error:
                report(download, f"cannot get poetry from {download.address}: "
                                 f"{os.strerror(error)}")
                done.append(sock)
            else:
                download.connected = True
                download.deadline = now + args.timeout
        for sock in readable:
            download = downloads[sock]
            try:
                data, closed = read_available(sock)
            except OSError as error:
                report(download, f"lost {download.address}: {error.strerror}")
                done.append(sock)
                continue
            if data:
                report(download,
                       f"got {len(data)} bytes of poetry from {download.address}")
                download.chunks.append(data)
                download.deadline = now + args.timeout
            if closed:
                if download.chunks:
                    report(download, "finished")
                    poems[download.task] = b"".join(download.chunks)
                else:  # not even one byte: that is no poem
                    report(download, f"cannot get poetry from {download.address}: "
                                     "the server closed the connection "
                                     "without sending a poem")
                done.append(sock)
        for sock, download in downloads.items():
            if download.deadline <= now and sock not in done:  # time is up
                if download.connected:
                    report(download, f"{download.address} said nothing "
                                     f"for {args.timeout:g} seconds")
                else:
                    report(download, f"cannot get poetry from {download.address}: "
                                     f"no answer within {args.timeout:g} seconds")
                done.append(sock)
        for sock in done:
            del downloads[sock]
            sock.close()

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
        sys.exit(130)  # Ctrl-C: stop quietly, with the shell's usual status
