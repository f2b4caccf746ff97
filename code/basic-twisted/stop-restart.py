"""reactor.stop() ends reactor.run(), and a stopped reactor cannot run again.

A callback stops the reactor; reactor.run() returns; the second
reactor.run() raises ReactorNotRestartable.  Run it:

    python code/basic-twisted/stop-restart.py
"""

import argparse

from twisted.internet import reactor
from twisted.internet.error import ReactorNotRestartable


def stop() -> None:
    print("Calling reactor.stop().")
    reactor.stop()
    print("reactor.stop() has returned, and this callback goes on to its end.")


def main() -> None:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()
    reactor.callWhenRunning(stop)
    print("Running the reactor.")
    reactor.run()
    print("reactor.run() has returned. Running it again...")
    try:
        reactor.run()
    except ReactorNotRestartable as error:
        print(f"The second reactor.run() raised {error!r}.")


if __name__ == "__main__":
    main()
