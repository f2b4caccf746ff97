"""send() answers a generator: the value sent is what its yield returns.

The generator two_poems() yields the address of a poetry server, and
main() answers by sending it a poem: send() resumes the generator, and
inside it the yield expression returns the poem.  When the generator
ends with `return value`, send() raises StopIteration, which carries the
value as its .value.  Run it:

    python code/inline-callbacks/gen-2.py
"""

import argparse
from collections.abc import Generator

POEMS = {
    "10001": "Tyger Tyger, burning bright,",
    "10002": "My name is Ozymandias,",
}


def two_poems() -> Generator[str, str, list[str]]:
    print("  generator: asking for the poem on 10001")
    first = yield "10001"
    print(f"  generator: got {first!r}; asking for the poem on 10002")
    second = yield "10002"
    print(f"  generator: got {second!r}; returning both")
    return [first, second]


def main() -> None:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()
    gen = two_poems()
    address = next(gen)  # run the body up to its first yield
    print(f"main: the generator asks for {address}")
    address = gen.send(POEMS[address])
    print(f"main: the generator asks for {address}")
    try:
        gen.send(POEMS[address])
    except StopIteration as stop:
        print(f"main: StopIteration({stop.value!r})")


if __name__ == "__main__":
    main()
