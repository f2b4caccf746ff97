"""A generator runs only when asked: one stretch of its body at a time.

Calling a generator function runs none of its body; it returns a
generator.  Each next() runs the body up to the next yield and hands
back the value yielded; when the body ends, next() raises StopIteration.
Every line printed says who is running.  Run it:

    python code/inline-callbacks/gen-1.py
"""

import argparse
from collections.abc import Iterator


def poem_lines() -> Iterator[str]:
    print("  generator: started")
    yield "Tyger Tyger, burning bright,"
    print("  generator: resumed after the first line")
    yield "In the forests of the night;"
    print("  generator: resumed after the second line, and finished")


def main() -> None:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()
    gen = poem_lines()
    print(f"main: poem_lines() returned a {type(gen).__name__}")
    print(f"main: next() returned {next(gen)!r}")
    print(f"main: next() returned {next(gen)!r}")
    try:
        next(gen)
    except StopIteration:
        print("main: next() raised StopIteration")


if __name__ == "__main__":
    main()
