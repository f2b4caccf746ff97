"""An errback always gets a Failure, even when the Deferred was given an exception.

The program fires a Deferred with d.errback(ValueError(...)); the errback
shows what it was called with, the exception inside it, and what
Failure.check answers.  Run it:

    python code/twisted-deferred/failure.py
"""

import argparse

from twisted.internet.defer import Deferred
from twisted.python.failure import Failure


def poem_failed(failure: Failure) -> None:
    print(f"type(failure): {type(failure)}")
    print(f"failure.value: {failure.value!r}")
    print(f"failure.check(KeyError): {failure.check(KeyError)}")
    print(f"failure.check(KeyError, ValueError): {failure.check(KeyError, ValueError)}")
    print(f"failure.check(Exception): {failure.check(Exception)}")


def main() -> None:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()
    d = Deferred()
    d.addErrback(poem_failed)
    d.errback(ValueError("not a poem"))


if __name__ == "__main__":
    main()
