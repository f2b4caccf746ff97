"""throw() answers a generator with an exception, raised at its yield.

main() plays the part of a poetry client for the generator two_poems():
it answers each address the generator yields with send(poem), or, when
nobody listens there, with throw(error).  The exception is raised inside
the generator, at the yield, where a try statement can catch it.  Run it:

    python code/inline-callbacks/gen-3.py
"""

import argparse
from collections.abc import Generator

POEMS = {
    "10001": "Tyger Tyger, burning bright,",
}


def two_poems() -> Generator[str, str, list[str]]:
    print("  generator: asking for the poem on 10001")
    first = yield "10001"
    print(f"  generator: got {first!r}; asking for the poem on 10002")
    try:
        second = yield "10002"
    except ConnectionRefusedError as error:
        print(f"  generator: caught {error!r}")
        second = "[no poem]"
    print(f"  generator: returning {[first, second]!r}")
    return [first, second]


def main() -> None:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()
    gen = two_poems()
    address = next(gen)
    while True:
        print(f"main: the generator asks for {address}")
        try:
            if address in POEMS:
                address = gen.send(POEMS[address])
            else:
                error = ConnectionRefusedError(f"nobody listens on port {address}")
                address = gen.throw(error)
        except StopIteration as stop:
            print(f"main: StopIteration({stop.value!r})")
            break


if __name__ == "__main__":
    main()
