"""The poetry client of chapter 18, written with Trio instead of Twisted.

get_poetry() reads the poem from a trio.SocketStream, with a cancel scope
for a server that says nothing; get_poems() starts one child a download in
a nursery, and trio.run() runs the loop until it ends.  The command line,
the lines it prints and its exit statuses are those of
code/async-await/get-poetry-react.py.

Run it against one or more poetry servers, given as [host:]port:

    python code/other-ways/get-poetry-trio.py 10001 10002 10003
    python code/other-ways/get-poetry-trio.py --outcomes bug,gibberish 10001 10002
"""

import argparse
import math
import os
import random
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


OUTCOMES = ("success", "gibberish", "bug")


def parse_outcomes(text: str) -> list[str]:
    """Turn 'success,gibberish,bug' into a list, one outcome a task."""
    outcomes = text.split(",")
    for outcome in outcomes:
        if outcome not in OUTCOMES:
            raise argparse.ArgumentTypeError(
                f"not one of {', '.join(OUTCOMES)}: {outcome!r}")
    return outcomes


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("addresses", metavar="ADDRESS", nargs="+", type=parse_address,
                        help="a poetry server's [host:]port")
    parser.add_argument("--timeout", type=positive_seconds, default=10.0,
                        help="seconds to wait when a server says nothing (default: 10)")
    parser.add_argument("--outcomes", type=parse_outcomes, default=[],
                        help="what cummingsify() does for task 1, 2, ... in turn: "
                             "success, gibberish or bug, separated by commas "
                             "(default: each at random)")
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


class GibberishError(Exception):
    """cummingsify() has made gibberish of a poem."""


def cummingsify(poem: bytes, outcome: str | None = None) -> bytes:
    """Return the poem in lower case, or fail: with GibberishError, or with a bug.

    Which of the three happens is chosen at random, unless outcome says:
    "success", "gibberish" or "bug".
    """
    if outcome is None:
        outcome = random.choice(OUTCOMES)
    if outcome == "gibberish":
        raise GibberishError("cummingsify() made gibberish of it")
    if outcome == "bug":
        raise ValueError("a bug in cummingsify()")  # stands in for any bug at all
    return poem.decode("utf-8").lower().encode("utf-8")


def try_to_cummingsify(task: int, outcome: str | None, poem: bytes) -> bytes:
    """cummingsify() the poem; if cummingsify() has a bug, keep the poem as it came."""
    try:
        return cummingsify(poem, outcome)
    except GibberishError:
        raise  # a failure: fetch_and_report() has an except clause for it
    except Exception as error:
        print(f"Task {task}: cummingsify() failed ({type(error).__name__}: {error}); "
              "keeping the poem as it came", file=sys.stderr)
        return poem


async def get_poems(args: argparse.Namespace) -> int:
    started = time.monotonic()
    poems: dict[int, bytes] = {}

    async def fetch_and_report(task: int, address: str, host: str, port: int,
                               outcome: str | None) -> None:
        try:
            poem = await get_poetry(host, port, args.timeout)
            poem = try_to_cummingsify(task, outcome, poem)
        except GibberishError:
            print(f"Task {task}: cummingsify() made gibberish of the poem "
                  f"from {address}", file=sys.stderr)
        except Exception as error:  # not trio.Cancelled: that is a BaseException
            print(f"Task {task}: cannot get poetry "
                  f"from {address}: {describe(error)}", file=sys.stderr)
        else:
            print(f"Task {task}: got {len(poem)} bytes of poetry from {address}",
                  file=sys.stderr)
            poems[task] = poem

    async with trio.open_nursery() as downloads:
        for task, (host, port) in enumerate(args.addresses, start=1):
            address = f"{host}:{port}"
            outcome = args.outcomes[task - 1] if task <= len(args.outcomes) else None
            downloads.start_soon(fetch_and_report, task, address, host, port, outcome)
    # Here every download has ended: the block waits for every child started in it.

    elapsed = time.monotonic() - started
    print(f"Got {len(poems)} of {len(args.addresses)} poems in {elapsed:.1f} seconds.",
          file=sys.stderr)
    # Decode each poem only once it is whole: a character that takes several
    # bytes may have been split between two reads.
    texts = [poems[task].decode("utf-8", errors="replace") for task in sorted(poems)]
    print("\n".join(texts), end="")
    return 1 if len(poems) < len(args.addresses) else 0


def main() -> None:
    args = parse_args()
    try:
        status = trio.run(get_poems, args)
    except* KeyboardInterrupt:  # Ctrl-C: raised in a task, and grouped by its nursery
        status = 130
    sys.exit(status)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)  # Ctrl-C before trio.run() starts
