"""A blocking poetry client: it fetches poems one server after another.

Each download blocks the whole program until its poem is complete, so the
total time is the sum of the times of every server.  The poems go to
standard output; what the client is doing goes to standard error.

Run it against one or more poetry servers, given as [host:]port:

    python code/blocking-client/get-poetry.py 10001 10002 10003
"""

import argparse
import math
import socket
import sys
import time


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


def get_poetry(address: tuple[str, int], timeout: float) -> bytes:
    """Download a whole poem from one server, blocking until it is complete."""
    try:
        sock = socket.create_connection(address, timeout=timeout)
    except TimeoutError:  # nobody answered the connection request
        raise ConnectionError(f"no answer within {timeout:g} seconds") from None
    with sock:
        chunks = []
        while True:
            data = sock.recv(1024)
            if not data:  # the server closed the connection: the poem is complete
                break
            chunks.append(data)
    if not chunks:
        raise ConnectionError("the server closed the connection without sending a poem")
    return b"".join(chunks)


def main() -> None:
    args = parse_args()
    started = time.monotonic()
    poems, failures = [], 0
    for task, (host, port) in enumerate(args.addresses, start=1):
        print(f"Task {task}: get poetry from {host}:{port}", file=sys.stderr)
        try:
            poem = get_poetry((host, port), args.timeout)
        except TimeoutError:
            print(f"Task {task}: {host}:{port} said nothing "
                  f"for {args.timeout:g} seconds", file=sys.stderr)
            failures += 1
            continue
        except OSError as error:
            print(f"Task {task}: cannot get poetry from {host}:{port}: "
                  f"{error.strerror or error}", file=sys.stderr)
            failures += 1
            continue
        print(f"Task {task}: got {len(poem)} bytes of poetry from {host}:{port}",
              file=sys.stderr)
        poems.append(poem)
    elapsed = time.monotonic() - started
    print(f"Got {len(poems)} of {len(args.addresses)} poems in {elapsed:.1f} seconds.",
          file=sys.stderr)
    # Decode each poem only once it is whole: a character that takes several
    # bytes may have been split between two reads.
    texts = [poem.decode("utf-8", errors="replace") for poem in poems]
    print("\n".join(texts), end="")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)  # Ctrl-C: stop quietly, with the shell's usual status
