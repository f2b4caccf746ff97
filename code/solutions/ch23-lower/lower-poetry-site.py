"""A poetry web site with a second tree: every poem in lower case under /lower/.

A solution to chapter 23's exercise 1.  It is poetry-site.py with one more
subtree: a Page hung on the root at "lower", with an index of its own and
a child per poem, which serves the poem in lower case.  No class changes:
make_site() builds the same kinds of pages twice.

Run it, then ask it with curl (or a browser):

    python code/solutions/ch23-lower/lower-poetry-site.py --port 10001 code/poetry/*.txt
    curl -s http://127.0.0.1:10001/lower/
    curl -s http://127.0.0.1:10001/lower/science
"""

import argparse
import html
import string
import sys
from pathlib import Path
from urllib.parse import quote

from twisted.internet import reactor
from twisted.internet.error import CannotListenError
from twisted.web.pages import notFound
from twisted.web.resource import Resource
from twisted.web.server import Request, Site

NOT_FOUND = notFound("No such poem", "There is no poem at this address.")


class Page(Resource):
    """A resource whose only children are the ones put there: any other is 404."""

    def getChild(self, name: bytes, request: Request) -> Resource:
        return NOT_FOUND


class PoemPage(Page):
    """One poem, as plain text."""

    def __init__(self, poem: bytes) -> None:
        super().__init__()
        self.poem = poem

    def render_GET(self, request: Request) -> bytes:
        request.setHeader("Content-Type", "text/plain; charset=utf-8")
        return self.poem  # Site adds Content-Length, and sends no body for HEAD


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


def make_tree(poems: dict[str, bytes]) -> Page:
    """A tree: an index at its empty segment, and each poem by its name."""
    tree = Page()
    tree.putChild(b"", IndexPage(poems))
    for name, poem in poems.items():
        tree.putChild(name.encode("utf-8"), PoemPage(poem))
    return tree


def make_site(poems: dict[str, bytes]) -> Site:
    """The poems at "/<name>", and in lower case at "/lower/<name>"."""
    root = make_tree(poems)
    lower = {name: poem.decode("utf-8").lower().encode("utf-8")
             for name, poem in poems.items()}
    root.putChild(b"lower", make_tree(lower))
    return PoetrySite(root)


def port_number(text: str) -> int:
    """A port to listen on, from 0 to 65535; 0 lets the system pick one."""
    port = int(text)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"not a port number from 0 to 65535: {text!r}")
    return port


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("poems", metavar="POEM", type=Path, nargs="+",
                        help="a file holding a poem, served at /<name without .txt>")
    parser.add_argument("--port", type=port_number, default=0,
                        help="port to listen on (default: 0, the system picks one)")
    parser.add_argument("--iface", default="127.0.0.1",
                        help="interface to listen on (default: 127.0.0.1)")
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
        site = make_site(poems)
        port = reactor.listenTCP(args.port, site, interface=args.iface)
    except CannotListenError as error:
        sys.exit(f"Cannot listen on {args.iface}:{args.port}:"
                 f" {error.socketError.strerror}")
    address = port.getHost()
    print(f"Serving {len(poems)} poems on http://{address.host}:{address.port}/.")
    reactor.run()


if __name__ == "__main__":
    main()
