"""Chapter 7, exercise 3: recovery.py's chain, written as a try statement.

The same functions, called one after another in a try statement:
callback_1 to callback_3 in the try block, errback_4 in the except
clause, callback_5 and finish after it.  It prints what recovery.py
prints.  Run it:

    python code/solutions/ch07-try-statement/recovery-sync.py
"""

import argparse

from twisted.python.failure import Failure


def callback_1(poem: str) -> str:
    print(f"callback_1 got {poem!r}")
    return poem.strip()


def callback_2(poem: str) -> str:
    print(f"callback_2 got {poem!r}")
    raise ValueError("this poem does not scan")


def callback_3(poem: str) -> str:
    print(f"callback_3 got {poem!r}")
    return poem


def errback_4(failure: Failure) -> str:
    print(f"errback_4 got Failure {failure.value!r}")
    return "a stand-in poem"


def callback_5(poem: str) -> str:
    print(f"callback_5 got {poem!r}")
    return poem.title()


def finish(result: str | Failure) -> None:
    print(f"finish got {result!r}")


def main() -> None:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()
    result = "  a poem  "
    try:
        result = callback_1(result)
        result = callback_2(result)
        result = callback_3(result)
    except Exception:
        result = errback_4(Failure())  # Failure() wraps the exception being handled
    result = callback_5(result)
    finish(result)


if __name__ == "__main__":
    main()
