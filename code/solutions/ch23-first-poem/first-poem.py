"""Ask several poetry web sites for a poem, and print the first copy to arrive.

A solution to chapter 23's exercise 2.  Each argument names one copy of
the poem, as in get-poems.py ([host:]port/name, or a URL).  race() fires
with the first fetch that succeeds, and cancels the others; it fails only
if every fetch fails.  The whole race has --timeout seconds.

    python code/http/slow-poetry-site.py --port 10001 --delay 0.5 code/poetry/*.txt
    python code/http/poetry-site.py --port 10002 code/poetry/*.txt
    python code/solutions/ch23-first-poem/first-poem.py 10001/science 10002/science
"""

import argparse
import math
import os
import sys
import time

import treq
from twisted.internet.defer import Deferred, FailureGroup, TimeoutError, race
from twisted.internet.error import ConnectError
from twisted.internet.interfaces import IReactorCore
from twisted.internet.task import react
from twisted.web.client import ResponseFailed


def poem_url(text: str) -> str:
    """Turn '[host:]port/name' into an http:// URL; an http(s):// URL stays as it is."""
    if text.startswith(("http://", "https://")):
        return text
    address, slash, name = text.partition("/")
    host, _, port = address.rpartition(":")
    if not slash or not name or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError(f"not a [host:]port/name address: {text!r}")
    return f"http://{host or '127.0.0.1'}:{port}/{name}"


def positive_seconds(text: str) -> float:
    """A number of seconds greater than 0, and finite."""
    seconds = float(text)
    if not 0 < seconds < math.inf:  # False for nan too
        raise argparse.ArgumentTypeError(f"not a positive number of seconds: {text!r}")
    return seconds


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("urls", metavar="POEM", nargs="+", type=poem_url,
                        help="a copy of the poem: [host:]port/name, or its URL")
    parser.add_argument("--timeout", type=positive_seconds, default=10.0,
                        help="seconds the race may take, all of it (default: 10)")
    return parser.parse_args()


class NoPoem(Exception):
    """The server answered, but not with a poem."""


async def get_poem(url: str) -> bytes:
    """Ask for the poem at url; return its bytes, or raise why there is none."""
    response = await treq.get(url, persistent=False)  # once the headers are in
    if response.code != 200:
        raise NoPoem(f"{response.code} {response.phrase.decode('ascii', 'replace')}")
    poem = await treq.content(response)  # once the whole body is in
    if not poem:
        raise NoPoem("the server sent an empty poem")
    return poem


def timed_out(result: object, timeout: float) -> None:
    """What a fetch that addTimeout() has canceled fails with."""
    raise TimeoutError(f"none within {timeout:g} seconds")


def describe(error: Exception) -> str:
    """Why a poem did not come, in a few words: the system's own, when it has some."""
    if isinstance(error, ConnectError) and error.osError:
        return os.strerror(error.osError)  # e.g. "Connection refused"
    if isinstance(error, ResponseFailed):  # the connection broke mid-answer
        return "the connection closed before the answer was complete"
    return str(error) or type(error).__name__


async def first_poem(reactor: IReactorCore, args: argparse.Namespace) -> None:
    started = time.monotonic()
    fetches = [Deferred.fromCoroutine(get_poem(url)) for url in args.urls]
    first = race(fetches)
    first.addTimeout(args.timeout, reactor, onTimeoutCancel=timed_out)
    try:
        index, poem = await first
    except TimeoutError as error:
        sys.exit(f"No poem: {error}")
    except FailureGroup as error:  # every fetch failed: say why, one by one
        for url, failure in zip(args.urls, error.failures, strict=True):
            print(f"{url}: {describe(failure.value)}", file=sys.stderr)
        sys.exit(f"No poem from any of {len(args.urls)} sites.")
    elapsed = time.monotonic() - started
    print(f"The first poem: {len(poem)} bytes from {args.urls[index]}"
          f" in {elapsed:.1f} seconds.", file=sys.stderr)
    print(poem.decode("utf-8", errors="replace"), end="")


def main() -> None:
    react(first_poem, [parse_args()])


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)  # Ctrl-C before the reactor runs: stop quietly, as it does
