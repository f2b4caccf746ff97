"""Try a chapter's example in one command: servers, client, and clean-up.

    make try CHAPTER=2             # or: .venv/bin/python tools/try_example.py 2
    make try                       # lists the chapters

Running a chapter's example by hand takes a terminal for each server and
one more for the client.  This starts the servers the chapter's example
needs, on ports the system picks, runs the example against them, prints
the whole session, and stops everything it started, even on Ctrl-C.  The
commands it prints are the ones you would type in those terminals (with
the chapter's ports 10001, 10002, ... standing for the real ones).

The table below is also what each chapter's "Try it yourself" box shows
(book/_ext/poetrybook.py renders it), so the box and the launcher cannot
disagree.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "book" / "_ext"))
from terminal import Terminal  # noqa: E402


class Example(NamedTuple):
    """A chapter's example: servers to start, ports that are down, commands to run.

    ``before`` are commands to run before the servers start (chapter 24
    makes its certificates).  ``outcomes`` says what each exit status of the last command means in
    this example: a client that fails on purpose (a server is down) exits
    1, and that is the example working.
    """

    title: str
    servers: tuple[str, ...]
    commands: tuple[str, ...]
    down: tuple[int, ...] = ()
    outcomes: dict[int, str] = {0: "every poem arrived."}
    before: tuple[str, ...] = ()


def slow(port: int, poem: str) -> str:
    """Chapter 2's slow server, quick enough for a demonstration."""
    return (f"python code/blocking-server/slowpoetry.py --port {port} --delay 0.1"
            f" --num-bytes 50 code/poetry/{poem}.txt")


THREE_SLOW = (slow(10001, "science"), slow(10002, "ozymandias"), slow(10003, "automne"))

EXAMPLES: dict[int, Example] = {
    2: Example("the asynchronous client against three slow servers", THREE_SLOW,
               ("python code/async-client/get-poetry.py 10001 10002 10003",)),
    4: Example("the client built on the reactor by hand", THREE_SLOW,
               ("python code/twisted-client-1/get-poetry.py 10001 10002 10003",)),
    5: Example("the client made of a protocol and a factory", THREE_SLOW,
               ("python code/twisted-client-2/get-poetry.py 10001 10002 10003",)),
    6: Example("the client with callbacks and errbacks, one server down", THREE_SLOW[:2],
               ("python code/twisted-client-3/get-poetry.py 10001 10002 10003",),
               down=(10003,),
               outcomes={1: "two poems arrived, and the client said why the third did not:"
                            " nothing listens on port 10003."}),
    8: Example("the client with Deferreds", THREE_SLOW,
               ("python code/twisted-client-4/get-poetry.py 10001 10002 10003",)),
    9: Example("the client with a transformation that may fail", THREE_SLOW,
               ("python code/twisted-client-5/get-poetry.py 10001 10002 10003",),
               outcomes={0: "cummingsify() made gibberish of no poem this time.",
                         1: "cummingsify() made gibberish of at least one poem, which"
                            " counts as a failure; run it again for another throw of"
                            " the dice."}),
    10: Example("the fast Twisted server, fetched with chapter 2's client",
                ("python code/twisted-server-1/fastpoetry.py --port 10001"
                 " code/poetry/science.txt",
                 "python code/twisted-server-1/fastpoetry.py --port 10002"
                 " code/poetry/tyger.txt"),
                ("python code/async-client/get-poetry.py 10001 10002",)),
    11: Example("poems fetched, then transformed by the transformation server",
                ("python code/twisted-server-2/transformedpoetry.py --port 10001",
                 slow(10002, "science"), slow(10003, "ozymandias")),
                ("python code/twisted-client-6/get-poetry.py 10001 10002 10003",)),
    12: Example("the caching proxy: the second request is answered from its cache",
                (slow(10001, "science"),
                 "python code/twisted-server-3/poetry-proxy.py --port 10002 10001"),
                ("python code/twisted-client-4/get-poetry.py 10002",
                 "python code/twisted-client-4/get-poetry.py 10002")),
    14: Example("the poetry server as a twistd plugin, in the foreground",
                ("PYTHONPATH=code/twisted-server-daemon twistd -n fastpoetry --port 10001"
                 " code/poetry/science.txt",),
                ("python code/async-client/get-poetry.py 10001",)),
    15: Example("the client written with inline callbacks", THREE_SLOW,
                ("python code/inline-callbacks/get-poetry.py 10001 10002 10003",)),
    16: Example("the client that waits for all its downloads with a DeferredList",
                THREE_SLOW,
                ("python code/deferred-list/get-poetry.py 10001 10002 10003",)),
    17: Example("the proxy that cancels the download of a client who hangs up",
                (slow(10001, "science"),
                 "python code/twisted-server-4/poetry-proxy.py --port 10002 10001"),
                ("nc -z 127.0.0.1 10002",
                 "python code/twisted-client-4/get-poetry.py 10002")),
    18: Example("the async/await client, against slow servers and an endpoint server",
                (slow(10001, "science"), slow(10002, "ozymandias"),
                 "python code/async-await/fastpoetry.py --port 10003 code/poetry/tyger.txt"),
                ("python code/async-await/get-poetry-react.py --outcomes success,success,success"
                 " 10001 10002 10003",)),
    19: Example("a thousand clients at once on one Twisted slow server",
                ("python code/bench/twisted-slowpoetry.py --port 10001 --delay 0.1"
                 " --num-bytes 50 code/poetry/science.txt",),
                ("python code/bench/load.py --clients 1000 --poem code/poetry/science.txt"
                 " 10001",)),
    20: Example("a blocking transformation in a thread, and a fast one answered meanwhile",
                ("python code/threads/transformedpoetry.py --port 10001",),
                ("printf '33:rhyme.Tyger Tyger, burning bright,' | nc 127.0.0.1 10001; echo",
                 "printf '26:cummingsify.BURNING BRIGHT,' | nc 127.0.0.1 10001; echo")),
    21: Example("the transformation server running rev, a program, for client 6",
                ("python code/processes/transformedpoetry.py --port 10001",
                 slow(10002, "science")),
                ("python code/twisted-client-6/get-poetry.py --transform rev 10001 10002",)),
    22: Example("the streaming proxy in front of the streaming server",
                ("python code/backpressure/streampoetry.py --port 10001"
                 " code/poetry/science.txt",
                 "python code/backpressure/poetry-proxy.py --port 10002 10001"),
                ("python code/async-client/get-poetry.py 10002",)),
    23: Example("poems over HTTP: the index with curl, two poems with treq",
                ("python code/http/poetry-site.py --port 10001 code/poetry/science.txt"
                 " code/poetry/tyger.txt",),
                ("curl -s http://127.0.0.1:10001/",
                 "python code/http/get-poems.py 10001/science 10001/tyger")),
    24: Example("the poetry server and client over TLS, with certificates made at run time",
                ("python code/tls/fastpoetry.py --port 10001"
                 " --certificate /tmp/poetry-tls/server.pem code/poetry/science.txt",),
                ("python code/tls/get-poetry.py --ca /tmp/poetry-tls/ca.pem"
                 " 10001 localhost:10001",),
                before=("python code/tls/make-certificates.py /tmp/poetry-tls",)),
    25: Example("the UDP poetry server behind a relay that drops 3 and 5 and swaps 7",
                ("python code/udp/poetry-server.py --port 10001 --size 64"
                 " code/poetry/science.txt",
                 "python code/udp/relay.py --port 10002 --drop 3,5 --swap 7 10001"),
                ("python code/udp/get-poetry.py --timeout 0.5 10002",)),
    26: Example("chapter 18's client written with asyncio and with Trio",
                (slow(10001, "science"), slow(10002, "ozymandias")),
                ("python code/other-ways/get-poetry-asyncio.py --outcomes success,success"
                 " 10001 10002",
                 "python code/other-ways/get-poetry-trio.py --outcomes success,success"
                 " 10001 10002")),
}


def run(chapter: int) -> int:
    """Run one chapter's example; 0 if it behaved as the chapter says, else 1.

    The last command's exit status is reported with what it means here.
    """
    example = EXAMPLES[chapter]
    print(f"# Chapter {chapter}: {example.title}", flush=True)
    with Terminal() as terminal:
        for command in example.before:
            terminal.run(command)
        for command in example.servers:
            terminal.server(command)
        for port in example.down:
            terminal.nobody(port)  # a port where nothing listens, for sure
        for command in example.commands:
            terminal.run(command)
        status = terminal.last_status
    if status in example.outcomes:
        print(f"# Exit status {status}: {example.outcomes[status]}")
        return 0
    print(f"# Exit status {status}: not what chapter {chapter} shows; something is wrong.")
    return 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("chapter", nargs="?", type=int, choices=sorted(EXAMPLES),
                        metavar="CHAPTER", help="the chapter whose example to run")
    parser.add_argument("--list", action="store_true", help="list the chapters and stop")
    args = parser.parse_args()
    if args.list or args.chapter is None:
        for chapter, example in EXAMPLES.items():
            print(f"{chapter:3}  {example.title}")
        return 0
    try:
        return run(args.chapter)
    except KeyboardInterrupt:  # the with block has stopped every server
        return 130


if __name__ == "__main__":
    sys.exit(main())
