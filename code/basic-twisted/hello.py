"""callWhenRunning: the reactor calls our function once it is running.

The function is registered before reactor.run(), and runs after it: the
reactor calls it.  When it returns, the reactor goes back to waiting.
Run it, and press Ctrl-C to stop it:

    python code/basic-twisted/hello.py
"""

import argparse
import sys

from twisted.internet import reactor


def hello(name: str) -> None:
    print(f"Hello, {name}, from inside the reactor.")


def main() -> None:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()
    # Send out each line as soon as it is printed, even into a file or a pipe.
    sys.stdout.reconfigure(line_buffering=True)
    reactor.callWhenRunning(hello, "reader")
    print("Starting the reactor.")
    reactor.run()


if __name__ == "__main__":
    main()
