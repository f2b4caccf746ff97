"""An asynchronous poetry client: one thread, all servers at once, with select.

The sockets are non-blocking.  A loop asks select() which of them have
bytes waiting, reads what is there without ever waiting for more, and goes
back to select().  The total time is about the time of the slowest server.
The poems go to standard output; what the client is doing goes to
standard error.

Run it against one or more poetry servers, given as [host:]port:

    python code/async-client/get-poetry.py 10001 10002 10003
"""

import argparse
import select
import socket
import sys
import time
from dataclasses import dataclass, field


def parse_address(text: str) -> tuple[str, int]:
    """Turn '[host:]port' into a (host, port) pair; the host defaults to 127.0.0.1."""
    host, _, port = text.rpartition(":")
    if not port.isdigit():
        raise argparse.ArgumentTypeError(f"not a [host:]port address: {text!r}")
    return host or "127.0.0.1", int(port)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("addresses", metavar="ADDRESS", nargs="+", type=parse_address,
                        help="a poetry server's [host:]port")
    parser.add_argument("--timeout", type=float, default=10.0,
                        help="seconds to wait when no server says anything (default: 10)")
    return parser.parse_args()


@dataclass
class Download:
    """What we know about one poem on its way: the task's state."""

    task: int
    address: str
    chunks: list[bytes] = field(default_factory=list)


def connect(host: str, port: int) -> socket.socket:
    """Connect to a server, then make the socket non-blocking."""
    sock = socket.create_connection((host, port))
    sock.setblocking(False)
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


def main() -> None:
    args = parse_args()
    started = time.monotonic()
    downloads: dict[socket.socket, Download] = {}
    poems: dict[int, bytes] = {}
    failures = 0

    for task, (host, port) in enumerate(args.addresses, start=1):
        try:
            sock = connect(host, port)
        except OSError as error:
            print(f"Task {task}: cannot get poetry from {host}:{port}: {error.strerror}",
                  file=sys.stderr)
            failures += 1
            continue
        downloads[sock] = Download(task, f"{host}:{port}")

    while downloads:
        # Wait until at least one socket has something to read: the only
        # place where this program ever waits.
        readable, _, _ = select.select(list(downloads), [], [], args.timeout)
        if not readable:
            for sock, download in downloads.items():
                print(f"Task {download.task}: {download.address} said nothing "
                      f"for {args.timeout:g} seconds", file=sys.stderr)
                sock.close()
                failures += 1
            break
        for sock in readable:
            download = downloads[sock]
            try:
                data, closed = read_available(sock)
            except OSError as error:
                print(f"Task {download.task}: lost {download.address}: {error.strerror}",
                      file=sys.stderr)
                data, closed = b"", True
                failures += 1
            else:
                if data:
                    print(f"Task {download.task}: got {len(data)} bytes of poetry "
                          f"from {download.address}", file=sys.stderr)
                    download.chunks.append(data)
                if closed:
                    print(f"Task {download.task}: finished", file=sys.stderr)
                    poems[download.task] = b"".join(download.chunks)
            if closed:
                del downloads[sock]
                sock.close()

    elapsed = time.monotonic() - started
    print(f"Got {len(poems)} of {len(args.addresses)} poems in {elapsed:.1f} seconds.",
          file=sys.stderr)
    # Decode each poem only once it is whole: a character that takes several
    # bytes may have been split between two reads.
    texts = [poems[task].decode("utf-8", errors="replace") for task in sorted(poems)]
    print("\n".join(texts), end="")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)  # Ctrl-C: stop quietly, with the shell's usual status
