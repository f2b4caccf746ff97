"""An exception in a callback is logged, and the reactor goes on.

The first callback fails; the reactor logs the failure with its
traceback, and still calls the second callback, 0.1 seconds later.
Twisted's log goes to standard output, without time stamps and with
file names shortened, so that it reads the same on every machine.  Run it:

    python code/basic-twisted/exception.py
"""

import argparse
import re
import sys

from twisted.internet import reactor
from twisted.logger import FileLogObserver, eventAsText, globalLogBeginner


def short_text(event: dict) -> str | None:
    """A log event as text, like Twisted's own log files, minus time and directories."""
    text = eventAsText(event, includeTimestamp=False)
    if not text:
        return None
    return re.sub(r'File "[^"]*[/\\]', 'File "', text).rstrip() + "\n"


def fail() -> None:
    print("This callback is about to fail.")
    raise ValueError("a bug in a callback")


def carry_on() -> None:
    print("The reactor still calls later callbacks. Stopping it.")
    reactor.stop()


def main() -> None:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()
    observer = FileLogObserver(sys.stdout, short_text)
    globalLogBeginner.beginLoggingTo([observer], redirectStandardIO=False)
    reactor.callLater(0, fail)
    reactor.callLater(0.1, carry_on)
    reactor.run()


if __name__ == "__main__":
    main()
