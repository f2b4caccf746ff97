"""A callback that returns a Deferred: the outer chain waits for the inner one.

The outer Deferred's first callback, transform(), cannot transform the
poem itself; it starts the work and returns a second, inner Deferred
that has not fired.  The outer chain stops there, paused, and goes on
only when the inner Deferred fires, with the inner Deferred's result:
the next callback gets the transformed poem, never the inner Deferred.
No reactor is needed to see it: main() fires both Deferreds by hand, and
each function prints what happens, in the order it happens.  With
--fail, the inner Deferred fails, and the outer chain's errback gets
the failure.

    python code/twisted-deferred/deferred-in-callback.py
    python code/twisted-deferred/deferred-in-callback.py --fail
"""

import argparse

from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

inner: Deferred[str] = Deferred()  # stands for the answer of a transformation server


def transform(poem: str) -> Deferred[str]:
    print(f"transform got {poem!r}, and returns the inner Deferred")
    inner.addCallback(got_answer)  # the inner Deferred's own callbacks run first
    return inner


def got_answer(answer: str) -> str:
    print(f"got_answer got {answer!r}")
    return answer


def print_poem(poem: str) -> None:
    print(f"print_poem got {poem!r}")


def poem_failed(failure: Failure) -> None:
    print(f"poem_failed got Failure {failure.value!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fail", action="store_true",
                        help="fire the inner Deferred with an error, not an answer")
    args = parser.parse_args()

    outer: Deferred[str] = Deferred()
    outer.addCallback(transform)
    outer.addCallbacks(print_poem, poem_failed)

    print("main fires the outer Deferred")
    outer.callback("Whose woods these are")
    print(f"main: outer.callback() has returned; outer.paused is {outer.paused}")
    print("main fires the inner Deferred")
    if args.fail:
        inner.errback(ConnectionRefusedError("the transformation server is down"))
    else:
        inner.callback("whose woods these are")
    print(f"main: the inner Deferred has fired; outer.paused is {outer.paused}")


if __name__ == "__main__":
    main()
