"""A slow filter: copies its standard input to its standard output in capitals.

It takes --delay seconds over each line, as a program that thinks hard
about every line would: a stand-in for a slow external transformation.
It is not a Twisted program; the transformation server runs it.

    printf 'Whose woods\\nthese are\\n' | python code/processes/slowcaps.py --delay 0.1
"""

import argparse
import math
import sys
import time


def positive_seconds(text: str) -> float:
    """A number of seconds greater than 0, and finite."""
    seconds = float(text)
    if not 0 < seconds < math.inf:  # False for nan too
        raise argparse.ArgumentTypeError(f"not a positive number of seconds: {text!r}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--delay", type=positive_seconds, default=0.1,
                        help="seconds to take over each line (default: 0.1)")
    args = parser.parse_args()
    try:
        for line in sys.stdin:
            time.sleep(args.delay)
            sys.stdout.write(line.upper())
            sys.stdout.flush()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
