"""Canceling a Deferred does not, by itself, stop the work behind it.

start_download() stands for a download: it returns a Deferred, and the
reactor fires that Deferred with a poem a tenth of a second later.  The
Deferred has no canceller, so nothing tells the download to stop.
cancel() fails the Deferred with CancelledError at once; the download
goes on regardless; and when it ends and fires the Deferred, the poem
is thrown away without a word.  Run it:

    python code/deferred-cancel/no-canceller.py
"""

import argparse

from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

POEM = "Tyger Tyger, burning bright,"


def got_poem(poem: str) -> None:
    print(f"got_poem got {poem!r}")


def poem_failed(failure: Failure) -> None:
    print(f"poem_failed got Failure {failure.value!r}")


def start_download() -> Deferred[str]:
    """Return a Deferred that the reactor fires with the poem 0.1 seconds from now."""
    d: Deferred[str] = Deferred()  # no canceller: cancel() cannot reach the download
    reactor.callLater(0.1, finish_download, d)
    print("The download has started.")
    return d


def finish_download(d: Deferred[str]) -> None:
    print(f"The download has ended. Calling d.callback({POEM!r}).")
    d.callback(POEM)
    print("d.callback() has returned: no error, and nothing ran.")
    reactor.stop()


def main() -> None:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()
    d = start_download()
    d.addCallbacks(got_poem, poem_failed)
    print("Calling d.cancel().")
    d.cancel()
    print("d.cancel() has returned.")
    reactor.run()


if __name__ == "__main__":
    main()
