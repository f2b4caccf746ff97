"""The simplest Twisted program: start the reactor, and let it wait.

Nothing is ever asked of the reactor, so it waits for nothing, forever.
It prints which reactor it is, then runs until you press Ctrl-C:

    python code/basic-twisted/simple.py
"""

import argparse
import sys

from twisted.internet import reactor


def main() -> None:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()
    # Send out each line as soon as it is printed, even into a file or a pipe.
    sys.stdout.reconfigure(line_buffering=True)
    print(f"Running the {type(reactor).__name__}. Press Ctrl-C to stop it.")
    reactor.run()


if __name__ == "__main__":
    main()
