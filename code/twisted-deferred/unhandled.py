"""An error at the end of a chain is logged when its Deferred is garbage-collected.

callback_1 raises, and no errback comes after it: the chain ends with a
Failure that nobody handled.  Twisted logs "Unhandled error in Deferred:"
only when the Deferred is garbage-collected; the program collects it
itself, with gc.collect().  Twisted's log goes to standard output,
without time stamps and with directories cut from file names, so that
it reads the same on every machine.  Run it:

    python code/twisted-deferred/unhandled.py
"""

import argparse
import gc
import re
import sys

from twisted.internet.defer import Deferred
from twisted.logger import FileLogObserver, LogEvent, eventAsText, globalLogBeginner


def as_text(event: LogEvent) -> str:
    """A log event as text, like Twisted's own log files, minus time and directories."""
    text = eventAsText(event, includeTimestamp=False)
    text = re.sub(r'File "[^"]*[/\\]', 'File "', text)
    return "".join(line.rstrip() + "\n" for line in text.splitlines())


def callback_1(poem: str) -> str:
    print(f"callback_1 got {poem!r}")
    raise ValueError("this poem does not scan")


def main() -> None:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()
    globalLogBeginner.beginLoggingTo([FileLogObserver(sys.stdout, as_text)],
                                     redirectStandardIO=False)
    d = Deferred()
    d.addCallback(callback_1)
    d.callback("a poem")
    print("The chain has run to its end, with a Failure as its result.")
    del d
    print("del d: the program has no name for the Deferred any more.")
    gc.collect()
    print("gc.collect(): done.")


if __name__ == "__main__":
    main()
