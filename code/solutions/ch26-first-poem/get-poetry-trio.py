"""Fetch a poem from several servers at once, keep the first, and cancel the rest.

A solution to chapter 26's exercise 2, with Trio.  Each download is a
child of one nursery; the first that brings a whole poem cancels the
nursery's cancel scope, which cancels every other download wherever it
waits, and closes its connection.  A server that fails is reported and
the others go on; if every one fails, the exit status is 1.

    python code/solutions/ch26-first-poem/get-poetry-trio.py 10001 10002 10003
"""

import argparse
import math
import os
import sys
import time

import trio


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


def describe(error: Exception) -> str:
    """Why a download failed, in a few words: the system's own, when it has some."""
    if isinstance(error, OSError) and error.errno:
        return os.strerror(error.errno)  # e.g. "Connection refused"
    if isinstance(error.__cause__, ExceptionGroup):  # one error for each address tried
        return "; ".join(dict.fromkeys(describe(e) for e in error.__cause__.exceptions))
    if isinstance(error.__cause__, OSError):  # a broken stream, and the socket's error
        return describe(error.__cause__)
    return str(error)


async def get_poetry(host: str, port: int, timeout: float = 10.0) -> bytes:
    """Fetch a poem from host:port: the bytes the server sends until it closes.

    Raises an exception that says why when there is no poem.
    """
    try:
        with trio.fail_after(timeout):
            stream = await trio.open_tcp_stream(host, port, happy_eyeballs_delay=0.3)
    except trio.TooSlowError:
        raise TimeoutError(f"no answer within {timeout:g} seconds") from None
    chunks: list[bytes] = []
    async with stream:
        with trio.move_on_after(timeout) as silence:
            while data := await stream.receive_some(65536):
                chunks.append(data)
                # The server spoke: wait again from now.
                silence.deadline = trio.current_time() + timeout
    if silence.cancelled_caught:
        raise TimeoutError(f"the server said nothing for {timeout:g} seconds")
    if not chunks:  # closed before a single byte: no poem
        raise ConnectionError("the server closed the connection without sending a poem")
    return b"".join(chunks)


async def get_first_poem(args: argparse.Namespace) -> int:
    started = time.monotonic()
    first: list[tuple[str, bytes]] = []  # (address, poem), once one has come

    async def fetch(task: int, address: str, host: str, port: int) -> None:
        try:
            poem = await get_poetry(host, port, args.timeout)
        except Exception as error:  # not trio.Cancelled: that is a BaseException
            print(f"Task {task}: cannot get poetry "
                  f"from {address}: {describe(error)}", file=sys.stderr)
            return
        print(f"Task {task}: got {len(poem)} bytes of poetry from {address}",
              file=sys.stderr)
        if not first:  # two may finish in one turn of the loop: keep the first
            first.append((address, poem))
            downloads.cancel_scope.cancel()  # every other child, wherever it waits

    async with trio.open_nursery() as downloads:
        for task, (host, port) in enumerate(args.addresses, start=1):
            downloads.start_soon(fetch, task, f"{host}:{port}", host, port)

    elapsed = time.monotonic() - started
    if not first:
        print(f"No poem from any of {len(args.addresses)} servers "
              f"in {elapsed:.1f} seconds.", file=sys.stderr)
        return 1
    address, poem = first[0]
    print(f"The first poem came from {address} in {elapsed:.1f} seconds.",
          file=sys.stderr)
    print(poem.decode("utf-8", errors="replace"), end="")
    return 0


def main() -> None:
    args = parse_args()
    try:
        status = trio.run(get_first_poem, args)
    except* KeyboardInterrupt:  # Ctrl-C: raised in a task, and grouped by its nursery
        status = 130
    sys.exit(status)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)  # Ctrl-C before trio.run() starts
