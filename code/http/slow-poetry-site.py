"""A slow poetry web site: each poem recited a few bytes at a time.

It is poetry-site.py with a poem page that streams.  render_GET() sets
the headers, starts a Recitation and returns NOT_DONE_YET: the answer is
not done when the method returns.  The recitation writes --num-bytes
bytes of the poem every --delay seconds, on a timer, with
request.write(), and calls request.finish() after the last.  A client
that goes away mid-poem fires the request's notifyFinish() Deferred with
a failure: the recitation stops its timer and logs it.  HEAD gets the
headers at once, without waiting for a recitation.

Run it, then watch a poem arrive with curl:

    python code/http/slow-poetry-site.py --port 10001 code/poetry/*.txt
    curl -s http://127.0.0.1:10001/science
"""

import argparse
import html
import math
import string
import sys
from pathlib import Path
from urllib.parse import quote

from twisted.internet import reactor
from twisted.internet.error import CannotListenError
from twisted.internet.interfaces import IDelayedCall
from twisted.python.failure import Failure
from twisted.web.pages import notFound
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Request, Site

NOT_FOUND = notFound("No such poem", "There is no poem at this address.")


class Page(Resource):
    """A resource whose only children are the ones put there: any other is 404."""

    def getChild(self, name: bytes, request: Request) -> Resource:
        return NOT_FOUND


class PoemPage(Page):
    """One poem, as plain text, recited num_bytes at a time, delay seconds apart."""

    def __init__(self, poem: bytes, num_bytes: int, delay: float) -> None:
        super().__init__()
        self.poem = poem
        self.num_bytes = num_bytes
        self.delay = delay

    def set_headers(self, request: Request) -> None:
        request.setHeader("Content-Type", "text/plain; charset=utf-8")
        request.setHeader("Content-Length", str(len(self.poem)))  # known in advance

    def render_HEAD(self, request: Request) -> bytes:
        self.set_headers(request)
        return b""  # the headers only, now: no recitation

    def render_GET(self, request: Request) -> object:
        self.set_headers(request)
        Recitation(request, self.poem, self.num_bytes, self.delay).send_next()
        return NOT_DONE_YET  # the recitation writes the body, and finishes it


class Recitation:
    """One request's poem, sent a chunk at a time on a timer."""

    def __init__(self, request: Request, poem: bytes, num_bytes: int,
                 delay: float) -> None:
        self.request = request
        self.poem = poem
        self.num_bytes = num_bytes
        self.delay = delay
        self.sent = 0
        self.timer: IDelayedCall | None = None
        request.notifyFinish().addErrback(self.client_left)

    def send_next(self) -> None:
        self.timer = None
        chunk = self.poem[self.sent:self.sent + self.num_bytes]
        self.request.write(chunk)
        self.sent += len(chunk)
        if self.sent < len(self.poem):
            self.timer = reactor.callLater(self.delay, self.send_next)
        else:
            self.request.finish()  # Site logs the request

    def client_left(self, reason: Failure) -> None:
        """The connection closed before finish(): stop, and say so."""
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if not reactor.running:
            return  # Ctrl-C: the server is shutting down, no client left
        request = self.request
        print(f"{request.getClientAddress().host} GET {loggable(request.uri)}:"
              f" the client left after {self.sent} of {len(self.poem)} bytes")


class IndexPage(Page):
    """The list of poems, as HTML, with a link to each."""

    def __init__(self, poems: dict[str, bytes]) -> None:
        super().__init__()
        items = []
        for name, poem in poems.items():
            title = poem.decode("utf-8").partition("\n")[0]
            items.append(f'<li><a href="{name}">{name}</a>: {html.escape(title)}</li>')
        self.page = "\n".join([
            "<!DOCTYPE html>",
            "<title>Poems</title>",
            "<h1>Poems</h1>",
            "<ul>", *items, "</ul>", "",
        ]).encode("utf-8")

    def render_GET(self, request: Request) -> bytes:
        request.setHeader("Content-Type", "text/html; charset=utf-8")
        return self.page


class PoetrySite(Site):
    """A Site that logs one line for each request it has answered."""

    def log(self, request: Request) -> None:
        method = request.method.decode("ascii", "replace")
        print(f"{request.getClientAddress().host} {method} {loggable(request.uri)}:"
              f" {request.code}, {request.sentLength} bytes")


def loggable(uri: bytes) -> str:
    """The URI as a log line may show it: printable ASCII, and not too long."""
    text = quote(uri, safe=string.punctuation)  # anything else becomes %XX
    return text if len(text) <= 60 else text[:57] + "..."


def make_site(poems: dict[str, bytes], num_bytes: int, delay: float) -> Site:
    """The resource tree: the index at "/", each poem at "/<name>"."""
    root = Page()
    root.putChild(b"", IndexPage(poems))
    for name, poem in poems.items():
        root.putChild(name.encode("utf-8"), PoemPage(poem, num_bytes, delay))
    return PoetrySite(root)


def port_number(text: str) -> int:
    """A port to listen on, from 0 to 65535; 0 lets the system pick one."""
    port = int(text)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"not a port number from 0 to 65535: {text!r}")
    return port


def delay_seconds(text: str) -> float:
    """A number of seconds to wait: 0 or more, and finite."""
    seconds = float(text)
    if not 0 <= seconds < math.inf:  # False for nan too
        raise argparse.ArgumentTypeError(
            f"not a number of seconds, 0 or more: {text!r}")
    return seconds


def positive_count(text: str) -> int:
    """A whole number, 1 or more."""
    number = int(text)
    if number < 1:
        raise argparse.ArgumentTypeError(f"not a whole number, 1 or more: {text!r}")
    return number


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("poems", metavar="POEM", type=Path, nargs="+",
                        help="a file holding a poem, served at /<name without .txt>")
    parser.add_argument("--port", type=port_number, default=0,
                        help="port to listen on (default: 0, the system picks one)")
    parser.add_argument("--iface", default="127.0.0.1",
                        help="interface to listen on (default: 127.0.0.1)")
    parser.add_argument("--delay", type=delay_seconds, default=0.5,
                        help="seconds to wait after each chunk (default: 0.5)")
    parser.add_argument("--num-bytes", type=positive_count, default=100,
                        help="bytes in each chunk (default: 100)")
    return parser.parse_args()


def read_poems(paths: list[Path]) -> dict[str, bytes]:
    """Each poem by its name (the file name without .txt); exit if one fails."""
    poems = {}
    for path in paths:
        try:
            poem = path.read_bytes()
            poem.decode("utf-8")
        except (OSError, UnicodeDecodeError) as error:
            sys.exit(f"Cannot read the poem {path}: {error}")
        if not poem:
            sys.exit(f"Cannot serve {path}: an empty poem is no poem")
        poems[path.stem] = poem
    return poems


def main() -> None:
    args = parse_args()
    # Send out each line as soon as it is printed, even into a file or a pipe.
    sys.stdout.reconfigure(line_buffering=True)
    poems = read_poems(args.poems)
    try:
        site = make_site(poems, args.num_bytes, args.delay)
        port = reactor.listenTCP(args.port, site, interface=args.iface)
    except CannotListenError as error:
        sys.exit(f"Cannot listen on {args.iface}:{args.port}:"
                 f" {error.socketError.strerror}")
    address = port.getHost()
    print(f"Serving {len(poems)} poems on http://{address.host}:{address.port}/.")
    reactor.run()


if __name__ == "__main__":
    main()
