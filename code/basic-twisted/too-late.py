"""Installing a reactor after the reactor was imported: an error.

The first import of twisted.internet.reactor installs the default reactor,
and there is only ever one.  Installing another one after that fails with
ReactorAlreadyInstalledError.  Run it:

    python code/basic-twisted/too-late.py
"""

import argparse

from twisted.internet import pollreactor, reactor


def main() -> None:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()
    print(f"The reactor is the {type(reactor).__name__}. Installing the PollReactor...")
    pollreactor.install()  # too late: raises ReactorAlreadyInstalledError
    reactor.run()  # not reached


if __name__ == "__main__":
    main()
