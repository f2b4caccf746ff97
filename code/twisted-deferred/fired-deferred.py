"""Callbacks added to a Deferred that has already fired run at once.

defer.succeed(result) returns a Deferred that has already fired with
result, and defer.fail(error) one that has already failed with error.
Nothing is left to wait for, so addCallback() and addErrback() run the
function they are given right away, before they return.  Its return
value becomes the Deferred's result, for whatever is added next.  Run it:

    python code/twisted-deferred/fired-deferred.py
"""

import argparse

from twisted.internet.defer import Deferred, fail, succeed
from twisted.python.failure import Failure

POEM = "Tyger Tyger, burning bright,"


def got_poem(poem: str | None) -> None:
    print(f"got_poem got {poem!r}")


def poem_failed(failure: Failure) -> None:
    print(f"poem_failed got Failure {failure.value!r}")


def main() -> None:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()

    print("1. A Deferred that has not fired: addCallback() only adds.")
    d: Deferred[str] = Deferred()
    d.addCallback(got_poem)
    print("addCallback() has returned. Calling d.callback().")
    d.callback(POEM)
    print("d.callback() has returned.")

    print("2. A Deferred from succeed(), fired already: addCallback() runs it.")
    d = succeed(POEM)
    d.addCallback(got_poem)
    print("addCallback() has returned. Adding got_poem once more.")
    d.addCallback(got_poem)  # gets what the first got_poem returned: None

    print("3. A Deferred from fail(), failed already: addErrback() runs it.")
    d = fail(ConnectionRefusedError("nobody listens on port 10001"))
    d.addErrback(poem_failed)
    print("addErrback() has returned.")


if __name__ == "__main__":
    main()
