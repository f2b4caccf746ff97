"""Chapter 7, exercise 2: an errback that handles one kind of error, passes on the rest.

only_refused() recovers from ConnectionRefusedError with a message in
place of the poem; any other failure it returns unchanged, so that it
goes on down the errback chain, as an exception that an except clause
does not name goes on up the stack.  Run it:

    python code/solutions/ch07-only-refused/only-refused.py
"""

import argparse

from twisted.internet.defer import Deferred
from twisted.python.failure import Failure


def only_refused(failure: Failure) -> str | Failure:
    if failure.check(ConnectionRefusedError):
        print(f"only_refused handles Failure {failure.value!r}")
        return "[no poem: the server refused the connection]"
    print(f"only_refused passes on Failure {failure.value!r}")
    return failure


def got_poem(poem: str) -> None:
    print(f"got_poem got {poem!r}")


def poem_failed(failure: Failure) -> None:
    print(f"poem_failed got Failure {failure.value!r}")


def main() -> None:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()
    for error in (ConnectionRefusedError("nobody listens on port 10001"),
                  ValueError("not a poem")):
        d = Deferred()
        d.addErrback(only_refused)
        d.addCallbacks(got_poem, poem_failed)
        d.errback(error)


if __name__ == "__main__":
    main()
