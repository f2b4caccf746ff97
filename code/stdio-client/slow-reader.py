"""A slow reader: reads standard input 4 KiB at a time, a hundredth of a second apart.

It stands for a slow terminal, or a program busy with other things, at
the other end of a pipe.  It throws away what it reads, and says
nothing.  It is not a Twisted program.

    python code/stdio-client/print-blocks.py | python code/stdio-client/slow-reader.py
"""

import argparse
import sys
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.parse_args()
    try:
        while sys.stdin.buffer.read1(4096):
            time.sleep(0.01)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
