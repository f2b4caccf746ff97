"""Canceling an inlineCallbacks generator: the CancelledError arrives at its yield.

Each part starts a generator that waits for a download, and cancels the
generator's Deferred.  That cancels the download the generator is
waiting for, whose canceller runs, and the download's CancelledError is
raised inside the generator, at its yield.  The first generator catches
Exception there, as code that reports a failed download often does, and
so it catches the cancellation too and returns a placeholder: its
Deferred succeeds, and whoever canceled it never hears of the
cancellation.  The second lets CancelledError through.  Run it:

    python code/deferred-cancel/cancel-generator.py
"""

import argparse
from collections.abc import Generator

from twisted.internet.defer import CancelledError, Deferred, inlineCallbacks
from twisted.python.failure import Failure


def got_poem(poem: str) -> None:
    print(f"got_poem got {poem!r}")


def poem_failed(failure: Failure) -> None:
    print(f"poem_failed got Failure {failure.value!r}")


def stop_download(d: Deferred[str]) -> None:
    print("stop_download, the download's canceller, runs.")


@inlineCallbacks
def poem_or_placeholder(download: Deferred[str]) -> Generator[Deferred[str], str, str]:
    try:
        poem = yield download
    except Exception as error:  # meant for a download that failed
        print(f"poem_or_placeholder caught {error!r} at its yield.")
        return "[no poem today]"
    return poem


@inlineCallbacks
def poem_or_nothing(download: Deferred[str]) -> Generator[Deferred[str], str, str]:
    try:
        poem = yield download
    except CancelledError:
        print("poem_or_nothing caught CancelledError() at its yield, and raises it.")
        raise  # not a failure to report: whoever canceled must hear of it
    except Exception as error:
        print(f"poem_or_nothing caught {error!r} at its yield.")
        return "[no poem today]"
    return poem


def main() -> None:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()
    print(f"CancelledError is an Exception: {issubclass(CancelledError, Exception)}")
    for number, generator in enumerate([poem_or_placeholder, poem_or_nothing], start=1):
        print(f"{number}. Canceling {generator.__name__}() while it waits.")
        d = generator(Deferred(canceller=stop_download))
        d.addCallbacks(got_poem, poem_failed)
        d.cancel()


if __name__ == "__main__":
    main()
