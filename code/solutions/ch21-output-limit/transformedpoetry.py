"""A transformation server with a limit on a program's output: a solution to chapter 21.

It is chapter 21's server, with --max-output BYTES: a program that
writes more than that many bytes, to its standard output and its
standard error together, is killed at once, and the client gets no
answer, as for a program that fails.  The server never holds more than
about that much of a program's output, however much the program writes.
The protocol that counts the bytes kills its own process, and fails the
Deferred itself: a cancel() would say that the client has gone.

Run it, then send it a request whose answer is too long, and one that
is not:

    python code/solutions/ch21-output-limit/transformedpoetry.py --port 10001 \
        --max-output 10
    printf '16:rev.hello, world,' | nc 127.0.0.1 10001
    printf '9:rev.hello,' | nc 127.0.0.1 10001
"""

import argparse
import math
import os
import reprlib
import sys
from collections.abc import Callable
from pathlib import Path

from twisted.internet import reactor
from twisted.internet.defer import (
    CancelledError,
    Deferred,
    TimeoutError,
    fail,
    maybeDeferred,
)
from twisted.internet.error import CannotListenError, ProcessDone, ProcessExitedAlready
from twisted.internet.protocol import ProcessProtocol, ServerFactory
from twisted.protocols.basic import NetstringReceiver
from twisted.python.failure import Failure

SLOWCAPS = str(Path(__file__).parents[2] / "processes" / "slowcaps.py")


class ProgramFailed(Exception):
    """An external program ended without an answer: how, and what it wrote to stderr."""

    def __init__(self, how: str, errors: str) -> None:
        super().__init__(how)
        self.errors = errors


class TooMuchOutput(Exception):
    """An external program wrote more than it may, and was killed."""


class ProgramProtocol(ProcessProtocol):
    """Feeds one text to a child process, and fires a Deferred with its output."""

    def __init__(self, text: bytes, deferred: Deferred[bytes], max_output: int) -> None:
        self.text = text
        self.deferred: Deferred[bytes] | None = deferred
        self.max_output = max_output
        self.received = 0  # bytes of output and errors so far
        self.out: list[bytes] = []
        self.err: list[bytes] = []

    def connectionMade(self) -> None:
        self.transport.write(self.text)  # buffered: the reactor feeds the child
        self.transport.closeStdin()  # written once the buffer is empty: end of file

    def outReceived(self, data: bytes) -> None:
        if self.within_limit(data):
            self.out.append(data)

    def errReceived(self, data: bytes) -> None:
        if self.within_limit(data):
            self.err.append(data)

    def within_limit(self, data: bytes) -> bool:
        """Count data; past the limit, kill the program and fail the Deferred."""
        if self.deferred is None:
            return False  # failed or canceled already: what comes now is nobody's
        self.received += len(data)
        if self.received <= self.max_output:
            return True
        d, self.deferred = self.deferred, None  # processEnded() must not fire d
        self.out.clear()  # let go of what we kept
        self.err.clear()
        try:
            self.transport.signalProcess("KILL")  # the protocol's own process
        except ProcessExitedAlready:  # it ended, and processEnded() is on its way
            pass
        d.errback(TooMuchOutput(f"more than {self.max_output} bytes of output"))
        return False

    def processEnded(self, reason: Failure) -> None:
        if self.deferred is None:
            return  # canceled: nobody waits for this process any more
        d, self.deferred = self.deferred, None
        if reason.check(ProcessDone):  # exit status 0
            d.callback(b"".join(self.out))
            return
        ended = reason.value  # a ProcessTerminated
        how = (f"signal {ended.signal}" if ended.signal is not None
               else f"exit status {ended.exitCode}")
        errors = b"".join(self.err).decode("utf-8", "replace")
        d.errback(ProgramFailed(how, errors))


def run_program(path: str, argv: list[str], text: bytes,
                max_output: int) -> Deferred[bytes]:
    """Run the program at path, with text on its standard input; fire with its output.

    argv is its command line, the name it sees as its own first.
    Canceling the Deferred kills the program; so does more output, or
    errors, than max_output bytes, and the Deferred fails with TooMuchOutput.
    """
    def kill(d: Deferred[bytes]) -> None:
        protocol.deferred = None  # processEnded() must not fire d: cancel() does
        try:
            process.signalProcess("KILL")
        except ProcessExitedAlready:  # it ended, and processEnded() is on its way
            pass

    d: Deferred[bytes] = Deferred(kill)
    protocol = ProgramProtocol(text, d, max_output)
    # The child gets exactly this environment: the default, {}, is an empty
    # one, in which rev, for one, takes UTF-8 for a foreign tongue.
    env = {"PATH": os.environ.get("PATH", os.defpath), "LANG": "C.UTF-8"}
    process = reactor.spawnProcess(protocol, path, argv, env=env)
    return d


class TransformService:
    """The transformations themselves: text in, text out, no network in sight."""

    def __init__(self, max_output: int) -> None:
        self.max_output = max_output  # bytes a program may write

    def cummingsify(self, poem: str) -> str:
        """The poem in lower case."""
        return poem.lower()

    def upper(self, poem: str) -> str:
        """The poem in capitals."""
        return poem.upper()

    def reverse(self, poem: str) -> str:
        """The poem's lines in reverse order, the last line first."""
        return "".join(reversed(poem.splitlines(keepends=True)))

    def rev(self, poem: str) -> Deferred[str]:
        """Each line backwards, by rev."""
        return self.external("/usr/bin/rev", ["rev"], poem)

    def ascii(self, poem: str) -> Deferred[str]:
        """The poem as ASCII, by iconv, which fails on any other character."""
        return self.external("/usr/bin/iconv", ["iconv", "-f", "UTF-8", "-t", "ASCII"],
                             poem)

    def slowcaps(self, poem: str) -> Deferred[str]:
        """The poem in capitals, by a slow program: a tenth of a second a line."""
        return self.external(sys.executable, ["python", SLOWCAPS, "--delay", "0.1"],
                             poem)

    def external(self, path: str, argv: list[str], poem: str) -> Deferred[str]:
        d = run_program(path, argv, poem.encode("utf-8"), self.max_output)
        d.addCallback(lambda output: output.decode("utf-8"))
        return d


class NoAnswer(Exception):
    """The server will not answer this request, for the reason given."""

    def __init__(self, reason: str, errors: str = "") -> None:
        super().__init__(reason)
        self.errors = errors  # what the program that failed wrote to stderr


class TransformProtocol(NetstringReceiver):
    """One connection: read one request, answer it or not, and hang up."""

    MAX_LENGTH = 100_000  # bytes in a request; the length alone rules a longer one out
    factory: "TransformFactory"

    def connectionMade(self) -> None:
        self.factory.connections += 1
        self.number = self.factory.connections
        self.handled = False  # set once the request has been dealt with
        self.pending: Deferred[str] | None = None  # the transformation under way

    def stringReceived(self, request: bytes) -> None:
        if self.handled:
            return  # a second netstring, read in the same chunk: we are hanging up
        self.handled = True
        try:
            name, text = parse(request)
        except NoAnswer as reason:
            self.no_answer(Failure(reason))
            return
        self.name = name
        self.pending = self.factory.transform(name, text)
        self.pending.addCallbacks(self.answer, self.no_answer, callbackArgs=(name,))
        if self.pending is not None:  # not done yet: a program is running
            self.log(f"{name}: started")

    def answer(self, text: str, name: str) -> None:
        self.pending = None
        answer = text.encode("utf-8")
        self.sendString(answer)
        self.log(f"{name}: answered with {len(answer)} bytes")
        self.transport.loseConnection()

    def no_answer(self, reason: Failure) -> None:
        self.pending = None
        if reason.check(CancelledError):
            return  # connectionLost() canceled it, and has said so
        reason.trap(NoAnswer)  # anything else is a bug here: let it be logged
        self.log(f"no answer: {reason.value}")
        for line in reason.value.errors.splitlines():  # what a program said, if any
            self.log(f"{self.name} wrote: {line}")
        self.transport.loseConnection()

    def connectionLost(self, reason: Failure) -> None:
        if self.pending is not None:  # in the middle of a transformation
            if reactor.running:  # not Ctrl-C: the client hung up
                self.log(f"the client hung up before the answer; stopping {self.name}")
            self.pending.cancel()  # which kills its program, if it has one
        elif self.handled or not reactor.running:
            return  # answer() or no_answer() has logged it; or Ctrl-C: nobody hung up
        elif self.brokenPeer:  # NetstringReceiver found a bad netstring and hung up
            self.log(f"no answer: not a netstring of at most {self.MAX_LENGTH} bytes")
        else:
            self.log("no answer: the client hung up before its request was whole")

    def log(self, message: str) -> None:
        peer = self.transport.getPeer().host
        print(f"Connection {self.number} from {peer}: {message}.")


def parse(request: bytes) -> tuple[str, str]:
    """Split a request, NAME.TEXT, into its name and its text."""
    try:
        name, dot, text = request.decode("utf-8").partition(".")
    except UnicodeDecodeError:
        raise NoAnswer("the request is not UTF-8") from None
    if not dot:
        raise NoAnswer("no '.' between a name and a text")
    return name, text


class TransformFactory(ServerFactory):
    """Between protocols and service: the allow-list, and a count of connections."""

    protocol = TransformProtocol

    def __init__(self, service: TransformService, time_limit: float) -> None:
        self.connections = 0
        self.time_limit = time_limit
        # The allow-list: each name a client may send, and the method it runs.
        # A client's string is only ever looked up here, never used as an
        # attribute name, so nothing else of the service can be reached.
        self.transforms: dict[str, Callable[[str], str | Deferred[str]]] = {
            "cummingsify": service.cummingsify,
            "upper": service.upper,
            "reverse": service.reverse,
            "rev": service.rev,
            "ascii": service.ascii,
            "slowcaps": service.slowcaps,
        }

    def transform(self, name: str, text: str) -> Deferred[str]:
        """Run the transformation called name, if the allow-list has it.

        The Deferred fails with NoAnswer if it cannot be done in time, and
        canceling it stops the transformation.
        """
        try:
            method = self.transforms[name]
        except KeyError:
            return fail(NoAnswer(f"no transformation named {reprlib.repr(name)}"))
        d = maybeDeferred(method, text)  # a str at once, or a Deferred for one
        d.addTimeout(self.time_limit, reactor)  # too late: cancel it, TimeoutError
        d.addErrback(self.failed, name)
        return d

    def failed(self, reason: Failure, name: str) -> Failure:
        if reason.check(CancelledError):
            return reason  # the client hung up: there is nobody to answer
        if reason.check(TimeoutError):
            raise NoAnswer(f"{name} ran past the time limit of {self.time_limit:g} s")
        if reason.check(TooMuchOutput):
            raise NoAnswer(f"{name} wrote {reason.value}, and was killed")
        if reason.check(ProgramFailed):
            raise NoAnswer(f"{name} ended with {reason.value}", reason.value.errors)
        # A bug in the service, or a program that could not start: this
        # request fails, and no other.
        raise NoAnswer(f"{name} failed: {type(reason.value).__name__}: {reason.value}")


def port_number(text: str) -> int:
    """A port to listen on, from 0 to 65535; 0 lets the system pick one."""
    port = int(text)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"not a port number from 0 to 65535: {text!r}")
    return port


def positive_count(text: str) -> int:
    """A whole number, 1 or more."""
    number = int(text)
    if number < 1:
        raise argparse.ArgumentTypeError(f"not a whole number, 1 or more: {text!r}")
    return number


def positive_seconds(text: str) -> float:
    """A number of seconds greater than 0, and finite."""
    seconds = float(text)
    if not 0 < seconds < math.inf:  # False for nan too
        raise argparse.ArgumentTypeError(f"not a positive number of seconds: {text!r}")
    return seconds


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=port_number, default=0,
                        help="port to listen on (default: 0, the system picks one)")
    parser.add_argument("--iface", default="127.0.0.1",
                        help="interface to listen on (default: 127.0.0.1)")
    parser.add_argument("--time-limit", type=positive_seconds, default=5.0,
                        help="seconds a transformation may take (default: 5)")
    parser.add_argument("--max-output", type=positive_count, default=1_000_000,
                        help="bytes a program may write (default: 1000000)")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    # Send out each line as soon as it is printed, even into a file or a pipe.
    sys.stdout.reconfigure(line_buffering=True)
    factory = TransformFactory(TransformService(args.max_output), args.time_limit)
    try:
        port = reactor.listenTCP(args.port, factory, interface=args.iface)
    except CannotListenError as error:
        sys.exit(f"Cannot listen on {args.iface}:{args.port}:"
                 f" {error.socketError.strerror}")
    address = port.getHost()
    print(f"Serving transformations on {address.host}:{address.port}.")
    reactor.run()


if __name__ == "__main__":
    main()
