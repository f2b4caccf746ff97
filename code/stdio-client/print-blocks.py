"""print() is a blocking call: a slow reader of standard output stops the reactor.

A ticker ticks every twentieth of a second and notes the longest
silence between two ticks.  At the third tick the program writes about
150 kilobytes to its standard output, with print(), or, with --stdio,
through a StandardIO transport, whose writes the reactor makes when the
reader is ready.  Its report goes to standard error.  Run it with a
reader slower than it, such as slow-reader.py:

    python code/stdio-client/print-blocks.py | python code/stdio-client/slow-reader.py
    python code/stdio-client/print-blocks.py --stdio | \\
        python code/stdio-client/slow-reader.py
"""

import argparse
import sys
import time

from twisted.internet import reactor, stdio
from twisted.internet.interfaces import IHalfCloseableProtocol
from twisted.internet.protocol import Protocol
from twisted.internet.task import LoopingCall
from twisted.python.failure import Failure
from zope.interface import implementer

TICK = 0.05  # seconds between two ticks
LINE = "Tyger Tyger, burning bright, in the forests of the night;\n"


def positive_count(text: str) -> int:
    """A whole number, 1 or more."""
    number = int(text)
    if number < 1:
        raise argparse.ArgumentTypeError(f"not a whole number, 1 or more: {text!r}")
    return number


def report(*words: object) -> None:
    print(*words, file=sys.stderr)  # the terminal: it keeps up


class Ticker:
    """Ticks every TICK seconds, and remembers the longest time between two ticks."""

    def __init__(self) -> None:
        self.ticks = 0
        self.last = time.monotonic()
        self.longest = 0.0
        self.loop = LoopingCall(self.tick)
        self.on_tick: dict[int, object] = {}  # something to do at tick N

    def tick(self) -> None:
        now = time.monotonic()
        self.longest = max(self.longest, now - self.last)
        self.last = now
        self.ticks += 1
        if self.ticks in self.on_tick:
            self.on_tick.pop(self.ticks)()


@implementer(IHalfCloseableProtocol)
class Output(Protocol):
    """Standard output as a transport; stops the reactor once it is all written."""

    def readConnectionLost(self) -> None:
        pass  # the end of standard input: we only write, so go on

    def writeConnectionLost(self) -> None:
        pass

    def connectionLost(self, reason: Failure) -> None:
        if reactor.running:
            reactor.stop()


def write_with_print(text: str) -> None:
    report(f"Writing {len(text)} bytes with print() at tick 3.")
    started = time.monotonic()
    print(text, end="", flush=True)
    report(f"print() returned after {time.monotonic() - started:.2f} seconds.")
    reactor.callLater(2 * TICK, reactor.stop)  # a tick or two more, then stop


def write_with_transport(output: Output, text: str) -> None:
    report(f"Writing {len(text)} bytes with transport.write() at tick 3.")
    started = time.monotonic()
    output.transport.write(text.encode("utf-8"))
    report(f"transport.write() returned after {time.monotonic() - started:.2f}"
           " seconds.")
    output.transport.loseConnection()  # once all is written; then connectionLost()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stdio", action="store_true",
                        help="write with a StandardIO transport instead of print()")
    parser.add_argument("--lines", type=positive_count, default=2600,
                        help="how many lines of 58 bytes to write (default: 2600)")
    args = parser.parse_args()
    text = LINE * args.lines
    ticker = Ticker()
    if args.stdio:
        output = Output()
        stdio.StandardIO(output)
        ticker.on_tick[3] = lambda: write_with_transport(output, text)
    else:
        ticker.on_tick[3] = lambda: write_with_print(text)
    ticker.loop.start(TICK, now=False)
    reactor.run()
    report(f"The ticker ticks every {TICK} seconds;"
           f" its longest silence was {ticker.longest:.2f} seconds.")


if __name__ == "__main__":
    main()
