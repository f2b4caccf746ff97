"""The reactor can fire a Deferred, like any other code.

reactor.callWhenRunning(d.callback, poem) asks the running reactor to
fire the Deferred; the chain's last stage, added with addBoth, stops the
reactor whether the poem came or not.  Run it with a poem, then with an
error:

    python code/twisted-deferred/reactor-fires.py
    python code/twisted-deferred/reactor-fires.py --fail
"""

import argparse

from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.python.failure import Failure


def got_poem(poem: str) -> None:
    print(f"got_poem got {poem!r}")


def poem_failed(failure: Failure) -> None:
    print(f"poem_failed got Failure {failure.value!r}")


def stop(result: None) -> None:
    print("Stopping the reactor.")
    reactor.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fail", action="store_true",
                        help="fire the Deferred with an error instead of a poem")
    args = parser.parse_args()

    d = Deferred()
    d.addCallbacks(got_poem, poem_failed)
    d.addBoth(stop)
    if args.fail:
        error = ConnectionRefusedError("nobody listens on port 10001")
        reactor.callWhenRunning(d.errback, error)
    else:
        reactor.callWhenRunning(d.callback, "Tyger Tyger, burning bright,")
    print("Starting the reactor.")
    reactor.run()
    print("The reactor has stopped.")


if __name__ == "__main__":
    main()
