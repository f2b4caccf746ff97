"""The simplest Twisted program again, with the poll() reactor instead of the default.

A reactor is chosen by installing it, and it must be installed before
anything imports twisted.internet.reactor.  Run it, and press Ctrl-C to
stop it:

    python code/basic-twisted/simple-poll.py
"""

import argparse
import sys

from twisted.internet import pollreactor

pollreactor.install()

from twisted.internet import reactor  # noqa: E402  (only after install())


def main() -> None:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()
    # Send out each line as soon as it is printed, even into a file or a pipe.
    sys.stdout.reconfigure(line_buffering=True)
    print(f"Running the {type(reactor).__name__}. Press Ctrl-C to stop it.")
    reactor.run()


if __name__ == "__main__":
    main()
