"""Fetch one poem with twisted.web's Agent: what treq does underneath.

Agent.request() sends the request and fires with an IResponse once the
status and headers are in; the body comes later, delivered to a protocol,
and readBody() collects it into bytes.  The method, the URL and the
headers are bytes, and a 404 is an answer like any other, which the
caller must look at.  --timeout limits the wait for the answer's status
and headers, not for its body (the chapter says why).

Run it against a poetry web site, with the poem as [host:]port/name:

    python code/http/poetry-site.py --port 10001 code/poetry/*.txt
    python code/http/agent-get.py 10001/science
"""

import argparse
import math
import os
import sys
import warnings

from twisted.internet.defer import TimeoutError
from twisted.internet.error import ConnectError, DNSLookupError
from twisted.internet.interfaces import IReactorCore
from twisted.internet.task import react
from twisted.web.client import Agent, ResponseFailed, readBody


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
    parser.add_argument("url", metavar="POEM", type=poem_url,
                        help="a poem's [host:]port/name, or its URL")
    parser.add_argument("--timeout", type=positive_seconds, default=10.0,
                        help="seconds to wait for the answer's headers (default: 10)")
    return parser.parse_args()


def timed_out(result: object, timeout: float) -> None:
    """What a request that addTimeout() has canceled fails with."""
    raise TimeoutError(f"no answer within {timeout:g} seconds")


async def get_poem(reactor: IReactorCore, args: argparse.Namespace) -> None:
    agent = Agent(reactor)
    try:
        d = agent.request(b"GET", args.url.encode("ascii"))
        d.addTimeout(args.timeout, reactor, onTimeoutCancel=timed_out)
        response = await d  # the status and the headers are in
        body = await readBody(response)  # and now the body
    except ConnectError as error:
        sys.exit(f"Cannot get {args.url}: {os.strerror(error.osError or 0)}")
    except (DNSLookupError, TimeoutError) as error:
        sys.exit(f"Cannot get {args.url}: {error}")
    except ResponseFailed:
        sys.exit(f"Cannot get {args.url}: the connection closed mid-answer")
    content_type = response.headers.getRawHeaders(b"Content-Type", [b"none"])[0]
    print(f"{response.code} {response.phrase.decode('ascii', 'replace')},"
          f" {content_type.decode('ascii', 'replace')}, {len(body)} bytes",
          file=sys.stderr)
    if response.code != 200:
        sys.exit(1)
    print(body.decode("utf-8"), end="")


def main() -> None:
    # readBody() warns about the transport Agent itself gives it (Twisted #8227):
    warnings.filterwarnings("ignore", "Using readBody with a transport",
                            DeprecationWarning)
    react(get_poem, [parse_args()])


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)  # Ctrl-C before the reactor runs: stop quietly
