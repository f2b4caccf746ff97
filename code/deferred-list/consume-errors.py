"""A failure in a DeferredList: a (False, Failure) pair; unconsumed, an unhandled error.

d1 fires with a poem and d2 with an error.  The DeferredList reports
both, as pairs.  But its stage on d2 hands the Failure on, so the next
stage of d2's own chain gets it too, and once d2 is garbage Twisted
logs it as an unhandled error.  With --consume-errors, the DeferredList's
stage returns None instead.  Twisted's log goes to standard output,
without time stamps, as in chapter 7.  Run it both ways:

    python code/deferred-list/consume-errors.py
    python code/deferred-list/consume-errors.py --consume-errors
"""

import argparse
import gc
import sys

from twisted.internet.defer import Deferred, DeferredList
from twisted.logger import FileLogObserver, LogEvent, eventAsText, globalLogBeginner
from twisted.python.failure import Failure


def as_text(event: LogEvent) -> str:
    """A log event as text, without a time stamp, and without trailing blanks."""
    text = eventAsText(event, includeTimestamp=False)
    return "".join(line.rstrip() + "\n" for line in text.splitlines())


def all_fired(results: list[tuple[bool, str | Failure]]) -> None:
    print("  The DeferredList fired with:")
    for pair in results:
        print(f"    {pair!r}")


def next_stage(result: str | Failure | None) -> str | Failure | None:
    print(f"  d2's next stage got {result!r}")
    return result  # a Failure stays unhandled


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--consume-errors", action="store_true",
                        help="create the DeferredList with consumeErrors=True")
    args = parser.parse_args()
    globalLogBeginner.beginLoggingTo([FileLogObserver(sys.stdout, as_text)],
                                     redirectStandardIO=False)

    d1: Deferred[str] = Deferred()
    d2: Deferred[str] = Deferred()
    dl = DeferredList([d1, d2], consumeErrors=args.consume_errors)
    dl.addCallback(all_fired)
    d2.addBoth(next_stage)  # added after the DeferredList's own stage

    print("d1.callback('poem 1')")
    d1.callback("poem 1")
    print("d2.errback(ValueError('no poem 2'))")
    d2.errback(ValueError("no poem 2"))
    del d1, d2, dl
    gc.collect()
    print("The Deferreds are gone.")


if __name__ == "__main__":
    main()
