"""A transformation server that gives up on a blocking transformation after a deadline.

A request is one netstring, NAME.TEXT (cummingsify.Whose woods these
are); the answer is one netstring holding the transformed text, and then
the server closes the connection.  A request it cannot or will not
answer gets no answer at all: the server closes the connection and logs
one line that says why.

This is chapter 11's server (code/twisted-server-2) with one more
transformation, rhyme, which finds rhymes for the last word of each line
in a rhyme dictionary.  The dictionary stands in for a library whose
calls block: each look-up takes half a second, and the reactor would
serve nobody meanwhile.  So the factory runs it in the reactor's thread
pool with deferToThread, and every transformation's result now comes
back as a Deferred.

This version (a solution to chapter 20's exercise 2) gives a client no
answer if its look-up takes longer than --deadline seconds.  The thread
cannot be stopped: it runs on until the library returns, and the server
logs that its answer was dropped.

Run it, then send it a request by hand:

    python code/solutions/ch20-deadline/transformedpoetry.py --port 10001 --deadline 0.2
    printf '34:rhyme.Tyger Tyger, burning bright,' | nc 127.0.0.1 10001
"""

import argparse
import math
import re
import reprlib
import sys
import time
from collections.abc import Callable

from twisted.internet import reactor, threads
from twisted.internet.defer import Deferred, TimeoutError, fail, maybeDeferred
from twisted.internet.error import CannotListenError
from twisted.internet.protocol import ServerFactory
from twisted.protocols.basic import NetstringReceiver
from twisted.python.failure import Failure

# -- a stand-in for a blocking library ---------------------------------------

LOOK_UP_SECONDS = 0.5
RHYME_DICTIONARY = """bright night light sight flight delight
eye sky high fly lie why reply
symmetry poetry tree sea free
deeps sleeps keeps skies eyes rise wise
aspire fire desire higher entire""".split()


def look_up_rhymes(words: list[str]) -> dict[str, list[str]]:
    """Find rhymes for each word: a stand-in for a rhyme dictionary library.

    It blocks the thread that calls it for LOOK_UP_SECONDS, as a real
    library might while it reads a large file or asks a database through
    a driver that blocks.  Its idea of a rhyme is crude: the same last
    three letters.  Like a real library, it raises an exception for a
    question it cannot answer.
    """
    if not words:
        raise ValueError("no words to look up")
    time.sleep(LOOK_UP_SECONDS)  # the library at work: this thread waits
    return {word: [other for other in RHYME_DICTIONARY
                   if other != word and other[-3:] == word[-3:]]
            for word in words}


def last_word(line: str) -> str:
    """The last word of a line, in lower case; "" for a line without one."""
    words = re.findall(r"[a-z]+", line.lower())
    return words[-1] if words else ""


# -- the server ----------------------------------------------------------------

class TransformService:
    """The transformations themselves: text in, text out, no network in sight."""

    def cummingsify(self, poem: str) -> str:
        """The poem in lower case."""
        return poem.lower()

    def upper(self, poem: str) -> str:
        """The poem in capitals."""
        return poem.upper()

    def reverse(self, poem: str) -> str:
        """The poem's lines in reverse order, the last line first."""
        return "".join(reversed(poem.splitlines(keepends=True)))

    def rhyme(self, poem: str) -> str:
        """Each line, and after it the rhymes for its last word.  Blocks!"""
        lines = poem.splitlines()
        rhymes = look_up_rhymes([word for line in lines if (word := last_word(line))])
        answer = []
        for line in lines:
            found = rhymes.get(last_word(line))
            answer.append(f"{line} [{', '.join(found)}]\n" if found else f"{line}\n")
        return "".join(answer)


class NoAnswer(Exception):
    """The server will not answer this request, for the reason given."""


class TransformProtocol(NetstringReceiver):
    """One connection: read one request, answer it or not, and hang up."""

    MAX_LENGTH = 100_000  # bytes in a request; the length alone rules a longer one out
    factory: "TransformFactory"

    def connectionMade(self) -> None:
        self.factory.connections += 1
        self.number = self.factory.connections
        self.handled = False  # set once the request has been dealt with
        self.waiting = False  # true while the transformation runs

    def stringReceived(self, request: bytes) -> None:
        if self.handled:
            return  # a second netstring, read in the same chunk: we are hanging up
        self.handled = True
        try:
            name, text = parse(request)
        except NoAnswer as reason:
            self.log(f"no answer: {reason}")
            self.transport.loseConnection()
            return
        if name in self.factory.blocking:
            self.log(f"{name}: running in a thread")
        self.waiting = True
        d = self.factory.transform(name, text)
        d.addCallbacks(self.send_answer, self.no_answer, callbackArgs=(name,))

    def send_answer(self, text: str, name: str) -> None:
        if not self.waiting:
            return  # the client has hung up, and connectionLost() has said so
        self.waiting = False
        answer = text.encode("utf-8")
        self.sendString(answer)
        self.log(f"{name}: answered with {len(answer)} bytes")
        self.transport.loseConnection()

    def no_answer(self, reason: Failure) -> None:
        reason.trap(NoAnswer)
        if not self.waiting:
            return  # the client has hung up, and connectionLost() has said so
        self.waiting = False
        self.log(f"no answer: {reason.value}")
        self.transport.loseConnection()

    def connectionLost(self, reason: Failure) -> None:
        if self.waiting:  # the transformation goes on, but nobody waits for it
            self.waiting = False
            if reactor.running:  # not Ctrl-C
                self.log("the client hung up before its answer was ready")
        if self.handled:
            return  # stringReceived() has logged this connection
        if not reactor.running:
            return  # Ctrl-C: the server is shutting down, no client hung up
        if self.brokenPeer:  # NetstringReceiver found a bad netstring and hung up
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

    def __init__(self, service: TransformService, deadline: float) -> None:
        self.deadline = deadline  # seconds a blocking transformation may take
        self.connections = 0
        # The allow-list: each name a client may send, and the method it runs.
        # A client's string is only ever looked up here, never used as an
        # attribute name, so nothing else of the service can be reached.
        self.transforms: dict[str, Callable[[str], str]] = {
            "cummingsify": service.cummingsify,
            "upper": service.upper,
            "reverse": service.reverse,
            "rhyme": service.rhyme,
        }
        # The transformations that block, and so must run in a thread.
        self.blocking = {"rhyme"}

    def transform(self, name: str, text: str) -> Deferred[str]:
        """Run the transformation called name, if the allow-list has it.

        The result comes as a Deferred: one that has fired already for a
        transformation that runs here, in the reactor's thread, and one
        that fires later, in the reactor's thread too, for a
        transformation that blocks and runs in the thread pool.
        """
        try:
            method = self.transforms[name]
        except KeyError:
            return fail(NoAnswer(f"no transformation named {reprlib.repr(name)}"))
        if name in self.blocking:
            d = self.with_deadline(threads.deferToThread(method, text), name)
        else:
            d = maybeDeferred(method, text)
        d.addErrback(self.failed, name)
        return d

    def with_deadline(self, in_thread: Deferred[str], name: str) -> Deferred[str]:
        """A Deferred for the thread's result, that gives up after the deadline.

        Canceling the deferToThread Deferred itself would make it fail at
        once, and drop the thread's result without a word when it came.
        We want a word, so the thread's Deferred is never canceled: a
        second Deferred passes its result on, and is the one that times out.
        """
        answer: Deferred[str] = Deferred()

        def relay(result: str | Failure) -> None:
            if answer.called:  # given up on: the thread has ended too late
                print(f"A {name} look-up has ended, after its deadline:"
                      " its answer is dropped.")
            elif isinstance(result, Failure):
                answer.errback(result)
            else:
                answer.callback(result)

        in_thread.addBoth(relay)
        answer.addTimeout(self.deadline, reactor)
        return answer

    def failed(self, reason: Failure, name: str) -> None:
        """A transformation raised: a bug, or a question the library refused."""
        if reason.check(TimeoutError):
            raise NoAnswer(f"{name} took longer than {self.deadline:g} s")
        error = reason.value  # a bug in the service fails this request only
        raise NoAnswer(f"{name} failed: {type(error).__name__}: {error}") from error


def port_number(text: str) -> int:
    """A port to listen on, from 0 to 65535; 0 lets the system pick one."""
    port = int(text)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"not a port number from 0 to 65535: {text!r}")
    return port


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
    parser.add_argument("--deadline", type=positive_seconds, default=10.0,
                        help="seconds a look-up may take (default: 10)")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    # Send out each line as soon as it is printed, even into a file or a pipe.
    sys.stdout.reconfigure(line_buffering=True)
    factory = TransformFactory(TransformService(), args.deadline)
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
