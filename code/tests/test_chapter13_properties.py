"""Chapter 13: properties of chapter 11's transformation server, tested with Hypothesis.

Hypothesis makes up the requests, and the places where TCP splits them
into chunks, and checks two properties of the real protocol and factory:
any good request, however it is split, gets the answer it gets in one
piece; any malformed request gets no answer and a closed connection, and
the next connection is served as usual.
"""

import io
from contextlib import redirect_stdout

from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.internet import reactor
from twisted.internet.address import IPv4Address
from twisted.internet.error import ConnectionDone
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure
from twisted.trial import unittest

from tests.programs import load_program

server = load_program("twisted-server-2/transformedpoetry.py")
CLIENT = IPv4Address("TCP", "127.0.0.1", 50000)  # only a name: no socket uses it
NAMES = ["cummingsify", "upper", "reverse"]


def netstring(data: bytes) -> bytes:
    return b"%d:%s," % (len(data), data)


def talk(factory, request: bytes, cuts: list[int]) -> tuple[bytes, bool, list[str]]:
    """One connection that sends the request in chunks, cut at the given places.

    Return what the server sent, whether it hung up, and what it logged.
    """
    protocol = factory.buildProtocol(CLIENT)
    transport = StringTransport(peerAddress=CLIENT)
    places = sorted({cut % (len(request) + 1) for cut in cuts})
    bounds = [0, *places, len(request)]
    with redirect_stdout(io.StringIO()) as log:
        protocol.makeConnection(transport)
        for start, end in zip(bounds, bounds[1:], strict=False):
            if transport.disconnecting:
                break  # the server has hung up: a real transport reads no more
            protocol.dataReceived(request[start:end])
        hung_up = transport.disconnecting
        protocol.connectionLost(Failure(ConnectionDone()))  # as the reactor reports it
    return transport.value(), hung_up, log.getvalue().splitlines()


cuts = st.lists(st.integers(min_value=0), max_size=8)  # anywhere in the request
names = st.sampled_from(NAMES)
texts = st.text(max_size=100)  # any Unicode text that UTF-8 can encode

not_requests = st.one_of(  # netstrings, but not NAME.TEXT with a NAME on the list
    texts.filter(lambda text: "." not in text).map(str.encode),
    st.tuples(texts.filter(lambda name: "." not in name and name not in NAMES), texts)
      .map(lambda pair: f"{pair[0]}.{pair[1]}".encode()),
    st.tuples(names, st.binary(max_size=20), st.binary(max_size=20))
      .map(lambda t: f"{t[0]}.".encode() + t[1] + b"\xff" + t[2]),  # never UTF-8
).map(netstring)

not_netstrings = st.one_of(
    st.binary(min_size=1).filter(lambda data: not data[:1].isdigit()),
    st.tuples(st.integers(0, 100_000),
              st.integers(0, 255).filter(lambda byte: byte not in b"0123456789:\n"))
      .map(lambda t: b"%d%c" % t),  # a length, then a byte that cannot follow it
    st.integers(100_001, 10**12).map(lambda length: b"%d:" % length),  # too long
    st.tuples(st.binary(max_size=50), st.binary(min_size=1, max_size=1))
      .filter(lambda t: t[1] != b",")
      .map(lambda t: b"%d:%s%s" % (len(t[0]), t[0], t[1])),  # no ',' at the end
)


# The same 300 examples on every run (derandomize), no file of past failures
# (database), and no time limit per example, which a busy machine could miss.
book = settings(database=None, deadline=None, derandomize=True, max_examples=300)


class TransformProperties(unittest.TestCase):
    """Made-up requests, in made-up chunks, through the real protocol and factory."""

    def setUp(self):
        self.patch(reactor, "running", True)  # the server logs nothing at Ctrl-C
        self.factory = server.TransformFactory(server.TransformService())

    @book
    @given(name=names, text=texts, cuts=cuts)
    def test_any_chunks_get_the_same_answer(self, name, text, cuts):
        request = netstring(f"{name}.{text}".encode())
        answer = netstring(self.factory.transforms[name](text).encode())
        self.assertEqual(talk(self.factory, request, [])[:2], (answer, True))
        self.assertEqual(talk(self.factory, request, cuts)[:2], (answer, True))

    @book
    @given(request=st.one_of(not_requests, not_netstrings), cuts=cuts)
    def test_a_malformed_request_gets_no_answer(self, request, cuts):
        sent, hung_up, log = talk(self.factory, request, cuts)
        self.assertEqual((sent, hung_up), (b"", True))
        [line] = log
        self.assertIn(": no answer: ", line)
        # And the server goes on serving.
        self.assertEqual(talk(self.factory, netstring(b"upper.ok"), [])[:2],
                         (b"2:OK,", True))

    def test_a_length_and_a_newline_look_unfinished(self):
        """What Hypothesis found: Twisted takes b"0\\n" for a length still coming."""
        self.assertEqual(talk(self.factory, b"0\n", [])[:2], (b"", False))
        self.assertEqual(talk(self.factory, b"0\r", [])[:2], (b"", True))
        self.assertEqual(talk(self.factory, b"0\nx", [])[:2], (b"", True))
