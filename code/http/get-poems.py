"""Fetch poems from poetry web sites, all at once, with treq.

Each argument names one poem, as [host:]port/name (the host defaults to
127.0.0.1) or as a whole http:// or https:// URL.  One coroutine per poem
asks for it with treq.get() and reads the body with treq.content();
gatherResults() waits for all of them.  A poem that does not come (the
server is down, answers 404, or takes longer than --timeout seconds
from the request to the last byte) gets one line, and the exit status
is 1.  Poems go to standard output, everything else to standard error.

Run it against one or more poetry web sites:

    python code/http/poetry-site.py --port 10001 code/poetry/*.txt
    python code/http/get-poems.py 10001/science 10001/tyger
"""

import argparse
import math
import os
import sys
import time

import treq
from twisted.internet.defer import (
    CancelledError,
    Deferred,
    TimeoutError,
    gatherResults,
)
from twisted.internet.error import ConnectError
from twisted.internet.interfaces import IReactorCore
from twisted.internet.task import deferLater, react
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
                        help="a poem's [host:]port/name, or its URL")
    parser.add_argument("--timeout", type=positive_seconds, default=10.0,
                        help="seconds a poem may take, all of it (default: 10)")
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
    raise TimeoutError(f"timed out after {timeout:g} seconds")


def describe(error: Exception) -> str:
    """Why a poem did not come, in a few words: the system's own, when it has some."""
    if isinstance(error, ConnectError) and error.osError:
        return os.strerror(error.osError)  # e.g. "Connection refused"
    if isinstance(error, ResponseFailed):  # the connection broke mid-answer
        return "the connection closed before the answer was complete"
    return str(error) or type(error).__name__


async def get_poems(reactor: IReactorCore, args: argparse.Namespace) -> None:
    started = time.monotonic()
    poems: dict[int, bytes] = {}

    async def fetch_and_report(task: int, url: str) -> None:
        fetch = Deferred.fromCoroutine(get_poem(url))
        # Cancel the fetch if it is late; then it fails, however it fails, with
        # the TimeoutError of timed_out() instead.
        fetch.addTimeout(args.timeout, reactor, onTimeoutCancel=timed_out)
        try:
            poem = await fetch
        except CancelledError:
            pass  # Ctrl-C: main() gave up on every download
        except Exception as error:
            if reactor.running:  # not Ctrl-C, when the reactor disconnects everybody
                print(f"Task {task}: cannot get poetry from {url}:"
                      f" {describe(error)}", file=sys.stderr)
        else:
            print(f"Task {task}: got {len(poem)} bytes of poetry from {url}",
                  file=sys.stderr)
            poems[task] = poem

    downloads = [Deferred.fromCoroutine(fetch_and_report(task, url))
                 for task, url in enumerate(args.urls, start=1)]
    finished = gatherResults(downloads, consumeErrors=True)
    # Ctrl-C: once the reactor has disconnected everybody, give up on whatever is left.
    reactor.addSystemEventTrigger("during", "shutdown", finished.cancel)
    await finished  # every download has ended
    if not reactor.running:  # they ended because Ctrl-C stopped the reactor
        sys.exit(130)
    # Go on in a timed call, not in the last download's callback, so that a stop
    # queued by Ctrl-C meanwhile runs before react() stops the reactor.
    await deferLater(reactor, 0)

    elapsed = time.monotonic() - started
    print(f"Got {len(poems)} of {len(args.urls)} poems in {elapsed:.1f} seconds.",
          file=sys.stderr)
    # Decode each poem only once it is whole, as its server says: UTF-8.
    texts = [poems[task].decode("utf-8", errors="replace") for task in sorted(poems)]
    print("\n".join(texts), end="")
    sys.exit(1 if len(poems) < len(args.urls) else 0)


def main() -> None:
    react(get_poems, [parse_args()])  # runs the reactor until get_poems() ends


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)  # Ctrl-C before the reactor runs: stop quietly, as it does
