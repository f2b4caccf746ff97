"""Chapter 12: the caching poetry proxy, Deferreds that have fired already, and solutions."""

import errno
import inspect
import io
import os
import socket
import sys
import time
from contextlib import redirect_stdout

from twisted.application.service import MultiService, Service
from twisted.internet import reactor
from twisted.internet.address import IPv4Address
from twisted.internet.defer import Deferred, fail, maybeDeferred, succeed
from twisted.internet.error import (
    ConnectionDone,
    ConnectionLost,
    ConnectionRefusedError,
)
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure, NoCurrentExceptionError
from twisted.trial import unittest

from tests.programs import (
    POEMS,
    SLOW_SERVER,
    Program,
    load_program,
    run,
    start_server,
)

PROXY = "twisted-server-3/poetry-proxy.py"
FAST_SERVER = "twisted-server-1/fastpoetry.py"
CLIENT_4 = "twisted-client-4/get-poetry.py"
FIRED = "twisted-deferred/fired-deferred.py"
MAYBE = "twisted-deferred/maybe-deferred.py"
PAUSE = "twisted-deferred/pause-unpause.py"
EXPIRING = "solutions/ch12-expiring-cache/poetry-proxy.py"
SHARED = "solutions/ch12-shared-download/poetry-proxy.py"
POEM = POEMS["science"]
UPSTREAM = "127.0.0.1:10001"
EMPTY = "the server closed the connection without sending a poem"
PROXIES = (PROXY, EXPIRING, SHARED)


def serving(test) -> None:
    """Play a running reactor for one test, as the reactor is while the proxy serves.

    Trial runs a synchronous test with its reactor stopped, and the proxy
    logs nothing about a connection or a download that ends while the
    reactor is not running: it takes that for Ctrl-C.
    """
    test.patch(reactor, "running", True)


def quietly(function, *args):
    """Call function(*args); return (its result, what it printed)."""
    output = io.StringIO()
    with redirect_stdout(output):
        result = function(*args)
    return result, output.getvalue().splitlines()


class FakeUpstream:
    """A get_poetry() for a ProxyService that downloads nothing: the test fires each download."""

    def __init__(self):
        self.downloads: list[Deferred] = []

    def __call__(self, host, port):
        assert (host, port) == ("127.0.0.1", 10001)
        d = Deferred()
        self.downloads.append(d)
        return d

    def finish(self, poem=POEM):
        return quietly(self.downloads[-1].callback, poem)[1]

    def fail(self, error=None):
        error = error or ConnectionRefusedError(errno.ECONNREFUSED)  # as connectTCP reports it
        return quietly(self.downloads[-1].errback, Failure(error))[1]


def connect(factory):
    """Connect a protocol from the factory to a StringTransport, as the listening port would.

    Returns the protocol, its transport, and what it printed.
    """
    address = IPv4Address("TCP", "127.0.0.1", 50000)
    protocol = factory.buildProtocol(address)
    transport = StringTransport(peerAddress=address)
    _, printed = quietly(protocol.makeConnection, transport)
    return protocol, transport, printed


def fetch(port: int, timeout: float = 10) -> bytes:
    """Fetch a poem as nc would: read until the server closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout) as sock:
        received = b""
        while data := sock.recv(65536):
            received += data
    return received


def read_until(program: Program, text: str) -> list[str]:
    """Read a server's output, line by line, up to the first line that contains text."""
    lines = []
    while True:
        line = program.readline()
        if not line:
            raise AssertionError(f"the program ended without printing {text!r}: {lines}")
        lines.append(line.rstrip("\n"))
        if text in line:
            return lines


def start_proxy(test, upstream_port: int, program: str = PROXY, *options: str):
    proxy = Program(program, *options, str(upstream_port))
    test.addCleanup(proxy.end)
    first_line = proxy.first_line()
    port = int(first_line.split(":")[1].split()[0])
    test.assertEqual(first_line, f"Proxy on 127.0.0.1:{port} for 127.0.0.1:{upstream_port}.\n")
    return proxy, port


def free_port() -> int:
    """A port that nothing listens on, just now: the system picks it, and we let it go."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def open_sockets(pid: int) -> int:
    """How many sockets a process holds open, from its file descriptors in /proc."""
    folder = f"/proc/{pid}/fd"
    links = []
    for fd in os.listdir(folder):
        try:
            links.append(os.readlink(f"{folder}/{fd}"))
        except FileNotFoundError:  # closed while we looked
            pass
    return sum(link.startswith("socket:") for link in links)


def sockets_soon(pid: int, expected: int, seconds: float = 5) -> int:
    """The sockets a process holds, once they are as many as expected, or after seconds.

    A client sees the end of the stream when the server shuts its socket
    down, a moment before the server closes it: so wait, a little.
    """
    deadline = time.monotonic() + seconds
    while (count := open_sockets(pid)) != expected and time.monotonic() < deadline:
        time.sleep(0.01)
    return count


def fetch_in_time(test, port: int, seconds: float = 5) -> bytes:
    """Fetch through the proxy, and fail unless the answer comes within seconds."""
    started = time.monotonic()
    received = fetch(port, timeout=seconds)
    test.assertLess(time.monotonic() - started, seconds)
    return received


class ProxyServiceTests(unittest.TestCase):
    """The cache, with a fake get_poetry(): no network, no reactor."""

    def setUp(self):
        serving(self)
        self.module = load_program(PROXY)
        self.upstream = FakeUpstream()
        self.service = self.module.ProxyService("127.0.0.1", 10001, self.upstream)

    def test_the_first_request_waits_for_the_download(self):
        d, printed = quietly(self.service.get_poem)
        self.assertEqual(printed, [f"Cache miss: fetching the poem from {UPSTREAM}."])
        self.assertNoResult(d)  # asynchronous: nothing until the upstream answers
        self.assertEqual(self.upstream.finish(), [f"Cached 673 bytes from {UPSTREAM}."])
        self.assertEqual(self.successResultOf(d), POEM)
        self.assertEqual(self.service.poem, POEM)

    def test_a_later_request_gets_a_deferred_that_has_fired(self):
        quietly(self.service.get_poem)
        self.upstream.finish()
        d, printed = quietly(self.service.get_poem)
        self.assertEqual(printed, ["Cache hit: 673 bytes."])
        self.assertTrue(d.called)  # synchronous: fired before get_poem() returned
        self.assertEqual(self.successResultOf(d), POEM)
        self.assertEqual(len(self.upstream.downloads), 1)

    def test_every_request_gets_a_deferred_of_its_own(self):
        quietly(self.service.get_poem)
        self.upstream.finish()
        first, _ = quietly(self.service.get_poem)
        second, _ = quietly(self.service.get_poem)
        self.assertIsNot(first, second)
        first.addCallback(lambda poem: None)  # what one caller does to its result...
        self.assertEqual(self.successResultOf(second), POEM)  # ...is not the other's business

    def test_a_failed_download_is_not_cached(self):
        d, _ = quietly(self.service.get_poem)
        self.assertEqual(self.upstream.fail(),
                         [f"No poem from {UPSTREAM}: Connection refused"])
        self.failureResultOf(d, ConnectionRefusedError)
        self.assertIsNone(self.service.poem)
        d, printed = quietly(self.service.get_poem)
        self.assertEqual(printed, [f"Cache miss: fetching the poem from {UPSTREAM}."])
        self.assertEqual(len(self.upstream.downloads), 2)
        self.upstream.finish()
        self.assertEqual(self.successResultOf(d), POEM)

    def test_an_empty_poem_is_a_failed_download(self):
        d, _ = quietly(self.service.get_poem)
        self.assertEqual(self.upstream.fail(ConnectionError(EMPTY)),
                         [f"No poem from {UPSTREAM}: {EMPTY}"])
        self.failureResultOf(d, ConnectionError)
        self.assertIsNone(self.service.poem)

    def test_a_download_closed_at_shutdown_is_not_reported(self):
        d, _ = quietly(self.service.get_poem)
        self.patch(reactor, "running", False)  # Ctrl-C: the reactor closes the download
        self.assertEqual(self.upstream.fail(ConnectionLost()), [])
        self.failureResultOf(d, ConnectionLost)  # the protocol that asked still hears of it
        self.assertIsNone(self.service.poem)

    def test_requests_during_a_download_each_start_one(self):
        """The limitation that exercise 3 removes."""
        quietly(self.service.get_poem)
        quietly(self.service.get_poem)
        self.assertEqual(len(self.upstream.downloads), 2)


class ProxyProtocolTests(unittest.TestCase):
    """The protocol and the factory on a StringTransport, with the fake upstream."""

    def setUp(self):
        serving(self)
        self.module = load_program(PROXY)
        self.upstream = FakeUpstream()
        self.service = self.module.ProxyService("127.0.0.1", 10001, self.upstream)
        self.factory = self.module.PoetryProxyFactory(self.service)

    def test_the_factory_holds_the_service_and_counts_requests(self):
        self.assertIs(self.factory.service, self.service)
        first, _, _ = connect(self.factory)
        second, _, printed = connect(self.factory)
        self.assertIs(first.factory, second.factory)
        self.assertEqual((first.number, second.number, self.factory.requests), (1, 2, 2))
        self.assertEqual(printed[0], "Request 2 from 127.0.0.1.")

    def test_a_downloaded_poem_is_written_when_it_arrives(self):
        _, transport, printed = connect(self.factory)
        self.assertEqual(printed, ["Request 1 from 127.0.0.1.",
                                   f"Cache miss: fetching the poem from {UPSTREAM}."])
        self.assertEqual(transport.value(), b"")
        self.assertFalse(transport.disconnecting)
        self.assertEqual(self.upstream.finish(), [f"Cached 673 bytes from {UPSTREAM}.",
                                                  "Request 1: sending 673 bytes."])
        self.assertEqual(transport.value(), POEM)
        self.assertTrue(transport.disconnecting)

    def test_a_cached_poem_is_written_inside_connectionMade(self):
        connect(self.factory)
        self.upstream.finish()
        _, transport, printed = connect(self.factory)
        self.assertEqual(printed, ["Request 2 from 127.0.0.1.", "Cache hit: 673 bytes.",
                                   "Request 2: sending 673 bytes."])
        self.assertEqual(transport.value(), POEM)
        self.assertTrue(transport.disconnecting)

    def test_no_poem_upstream_closes_the_connection_and_caches_nothing(self):
        protocol, transport, _ = connect(self.factory)
        self.assertEqual(self.upstream.fail(),
                         [f"No poem from {UPSTREAM}: Connection refused"])
        self.assertEqual(transport.value(), b"")
        self.assertTrue(transport.disconnecting)
        self.assertIsNone(self.service.poem)
        self.assertEqual(quietly(protocol.connectionLost, Failure(ConnectionDone()))[1], [])

    def test_a_client_that_hangs_up_early_does_not_stop_the_caching(self):
        protocol, transport, _ = connect(self.factory)
        _, printed = quietly(protocol.connectionLost, Failure(ConnectionDone()))
        self.assertEqual(printed, ["Request 1: the client hung up before the poem came."])
        self.assertEqual(self.upstream.finish(), [f"Cached 673 bytes from {UPSTREAM}."])
        self.assertEqual(transport.value(), b"")  # nobody to send it to
        self.assertEqual(self.service.poem, POEM)
        _, transport, _ = connect(self.factory)
        self.assertEqual(transport.value(), POEM)

    def test_an_upstream_failure_after_the_client_hung_up(self):
        protocol, transport, _ = connect(self.factory)
        quietly(protocol.connectionLost, Failure(ConnectionDone()))
        self.upstream.fail()
        self.assertEqual(transport.value(), b"")

    def test_nothing_is_logged_when_the_reactor_shuts_down(self):
        """Ctrl-C closes the client's connection and the download: nobody hung up."""
        protocol, transport, _ = connect(self.factory)
        self.patch(reactor, "running", False)
        self.assertEqual(quietly(protocol.connectionLost, Failure(ConnectionLost()))[1], [])
        self.assertEqual(self.upstream.fail(ConnectionLost()), [])
        self.assertEqual(transport.value(), b"")


class SameDownloadCodeTests(unittest.TestCase):
    def test_the_upstream_download_is_twisted_client_4s(self):
        proxy, client = load_program(PROXY), load_program(CLIENT_4)
        for name in ("parse_address", "describe", "PoetryProtocol", "PoetryClientFactory",
                     "get_poetry"):
            self.assertEqual(inspect.getsource(getattr(proxy, name)),
                             inspect.getsource(getattr(client, name)), name)


class ProxyProcessTests(unittest.TestCase):
    """The proxy as a process, between real sockets."""

    def test_two_fetches_one_upstream_connection(self):
        upstream = Program(SLOW_SERVER, "--delay", "0.01", "--num-bytes", "200",
                           "code/poetry/science.txt")
        self.addCleanup(upstream.end)
        upstream_port = upstream.port()
        proxy, port = start_proxy(self, upstream_port)
        self.assertEqual(fetch(port), POEM)
        self.assertEqual(fetch(port), POEM)
        status, log, err = proxy.stop()
        self.assertEqual((status, err), (0, ""))
        upstream_address = f"127.0.0.1:{upstream_port}"
        self.assertEqual(log.splitlines(), [
            "Request 1 from 127.0.0.1.",
            f"Cache miss: fetching the poem from {upstream_address}.",
            f"Cached 673 bytes from {upstream_address}.",
            "Request 1: sending 673 bytes.",
            "Request 2 from 127.0.0.1.",
            "Cache hit: 673 bytes.",
            "Request 2: sending 673 bytes.",
        ])
        status, upstream_log, err = upstream.stop()
        self.assertEqual(upstream_log.splitlines(), [
            "Connection 1 from 127.0.0.1.", "Connection 1: sent 673 bytes."])

    def test_the_upstream_down_then_back(self):
        reserved = socket.socket()
        reserved.bind(("127.0.0.1", 0))  # bound, not listening: connections are refused
        self.addCleanup(reserved.close)
        upstream_port = reserved.getsockname()[1]
        proxy, port = start_proxy(self, upstream_port)
        self.assertEqual(fetch(port), b"")  # closed without a poem
        self.assertEqual(read_until(proxy, "No poem from")[-1],
                         f"No poem from 127.0.0.1:{upstream_port}:"
                         " Connection refused")
        reserved.close()
        upstream = Program(SLOW_SERVER, "--port", str(upstream_port), "--delay", "0.01",
                           "--num-bytes", "200", "code/poetry/science.txt")
        self.addCleanup(upstream.end)
        self.assertEqual(upstream.port(), upstream_port)
        self.assertEqual(fetch(port), POEM)  # nothing was cached: it fetches again
        self.assertEqual(fetch(port), POEM)
        status, log, err = proxy.stop()
        self.assertEqual((status, err), (0, ""))
        self.assertEqual(log.count("Cache miss"), 1)
        self.assertEqual(log.count("Cache hit"), 1)

    def test_a_client_that_hangs_up_early(self):
        upstream_port = start_server(self, "science", "--delay", "0.1")
        proxy, port = start_proxy(self, upstream_port)
        with socket.create_connection(("127.0.0.1", port)):
            pass  # connect, and hang up at once
        self.assertEqual(read_until(proxy, "Cached")[1:], [
            f"Cache miss: fetching the poem from 127.0.0.1:{upstream_port}.",
            "Request 1: the client hung up before the poem came.",
            f"Cached 673 bytes from 127.0.0.1:{upstream_port}.",
        ])
        self.assertEqual(fetch(port), POEM)
        status, log, err = proxy.stop()
        self.assertEqual((status, err), (0, ""))
        self.assertEqual(log.splitlines(), ["Request 2 from 127.0.0.1.",
                                            "Cache hit: 673 bytes.",
                                            "Request 2: sending 673 bytes."])

    def test_ctrl_c_in_the_middle_of_a_download(self):
        upstream = Program(SLOW_SERVER, "--delay", "1", "--num-bytes", "200",
                           "code/poetry/science.txt")
        self.addCleanup(upstream.end)
        proxy, port = start_proxy(self, upstream.port())
        client = socket.create_connection(("127.0.0.1", port))
        self.addCleanup(client.close)
        read_until(proxy, "Cache miss")
        read_until(upstream, "Connection 1 from")
        status, log, err = proxy.stop()
        self.assertEqual((status, err), (0, ""))
        # The download and the client's connection end with the reactor, and
        # neither is a failure or a client hanging up: the log says nothing.
        self.assertEqual(log, "")

    def test_an_empty_poem_is_a_failure_and_never_cached(self):
        for program in PROXIES:
            upstream = Program(FAST_SERVER, "/dev/null")  # a server of empty poems
            self.addCleanup(upstream.end)
            upstream_port = upstream.port()
            proxy, port = start_proxy(self, upstream_port, program)
            self.assertEqual(fetch(port), b"")  # closed without a poem
            self.assertEqual(fetch(port), b"")  # nothing cached: it asks upstream again
            status, log, err = proxy.stop()
            self.assertEqual((status, err), (0, ""), program)
            failed = f"No poem from 127.0.0.1:{upstream_port}: {EMPTY}"
            self.assertEqual(log.count(failed), 2, f"{program}:\n{log}")
            self.assertEqual(log.count("Cache miss"), 2, f"{program}:\n{log}")
            self.assertNotIn("Cached", log, program)
            self.assertIn("Connection 2: sent 0 bytes.", upstream.stop()[1])

    def test_a_proxy_that_is_its_own_upstream(self):
        for program in PROXIES:
            port = free_port()
            proxy = Program(program, "--port", str(port), str(port))
            self.addCleanup(proxy.end)
            self.assertEqual(proxy.first_line(),
                             f"Proxy on 127.0.0.1:{port} for 127.0.0.1:{port}.\n")
            for request in (1, 2):
                # A failure, at once: not an empty poem, and not a loop of
                # requests to itself until the proxy runs out of file descriptors.
                self.assertEqual(fetch_in_time(self, port), b"", program)
                self.assertEqual(read_until(proxy, "No poem from"), [
                    f"Request {request} from 127.0.0.1.",
                    f"Cache miss: fetching the poem from 127.0.0.1:{port}.",
                    "Refused 127.0.0.1: a request from this proxy itself.",
                    f"No poem from 127.0.0.1:{port}: {EMPTY}",
                ], program)
                # Every connection is closed again: the listening socket is all it holds.
                self.assertEqual(sockets_soon(proxy.popen.pid, 1), 1, program)
            status, log, err = proxy.stop()
            self.assertEqual((status, log, err), (0, "", ""), program)

    def test_a_port_in_use_is_a_clear_error(self):
        taken = socket.socket()
        self.addCleanup(taken.close)
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        status, out, err = run(PROXY, "--port", str(port), "10001")
        self.assertEqual(status, 1)
        # (In development mode, Python may also report the spare file
        # descriptor that Twisted's listenTCP reserves and never closes.)
        self.assertEqual(err.splitlines()[0],
                         f"Cannot listen on 127.0.0.1:{port}: Address already in use")

    def test_a_bad_upstream_address(self):
        status, out, err = run(PROXY, "127.0.0.1:poetry")
        self.assertEqual(status, 2)
        self.assertIn("not a [host:]port address: '127.0.0.1:poetry'", err)

    def test_help(self):
        for program in (PROXY, EXPIRING, SHARED, FIRED, MAYBE, PAUSE):
            status, out, err = run(program, "--help")
            self.assertEqual((status, err), (0, ""), program)
            first_line = load_program(program).__doc__.split("\n\n")[0]
            # argparse wraps the description, and may break it after a hyphen.
            self.assertIn("".join(first_line.split()), "".join(out.split()), program)
        out = run(PROXY, "--help")[1]
        for option in ("UPSTREAM", "--port PORT", "--iface IFACE"):
            self.assertIn(option, out)


def output_of(test, program):
    status, out, err = run(program)
    test.assertEqual((status, err), (0, ""))
    return out.splitlines()


class DeferredProgramTests(unittest.TestCase):
    def test_fired_deferred(self):
        self.assertEqual(output_of(self, FIRED), [
            "1. A Deferred that has not fired: addCallback() only adds.",
            "addCallback() has returned. Calling d.callback().",
            "got_poem got 'Tyger Tyger, burning bright,'",
            "d.callback() has returned.",
            "2. A Deferred from succeed(), fired already: addCallback() runs it.",
            "got_poem got 'Tyger Tyger, burning bright,'",
            "addCallback() has returned. Adding got_poem once more.",
            "got_poem got None",
            "3. A Deferred from fail(), failed already: addErrback() runs it.",
            "poem_failed got Failure ConnectionRefusedError('nobody listens on port 10001')",
            "addErrback() has returned.",
        ])

    def test_maybe_deferred(self):
        self.assertEqual(output_of(self, MAYBE), [
            "maybeDeferred(get_poem, 'tyger')",
            "got_poem got 'Tyger Tyger, burning bright,'",
            "maybeDeferred(get_poem, 'ozymandias')",
            "maybeDeferred(get_poem, 'jabberwocky')",
            "poem_failed got Failure KeyError('jabberwocky')",
            "The download of 'ozymandias' is done.",
            "got_poem got 'I met a traveller from an antique land,'",
        ])

    def test_pause_unpause(self):
        self.assertEqual(output_of(self, PAUSE), [
            "1. Pausing d by hand, then firing it.",
            "d.called is True, d.paused is 1: no callback has run.",
            "Unpausing d.",
            "callback_1 got 'a poem'",
            "callback_2 got 'a poem'",
            "2. A callback returns a Deferred that has not fired.",
            "fetch_the_rest got 'the first line', returns inner",
            "outer.paused is 1: outer waits for inner. Firing inner.",
            "callback_2 got 'the whole poem'",
            "outer.paused is 0.",
            "3. A callback returns a Deferred that has fired already.",
            "from_the_cache got 'the first line', returns succeed(...)",
            "callback_2 got 'the poem, from a cache'",
            "outer.paused is 0: outer never waited.",
        ])


class TwistedFactsTests(unittest.TestCase):
    """What the chapter says about the installed Twisted, checked against it.

    If a new Twisted changes any of this, the chapter's text must change too.
    """

    def test_maybe_deferred_gives_a_deferred_for_every_outcome(self):
        self.assertEqual(self.successResultOf(maybeDeferred(lambda: "poem")), "poem")
        d = Deferred()
        self.assertIs(maybeDeferred(lambda: d), d)
        self.failureResultOf(maybeDeferred(lambda: {}["poem"]), KeyError)
        self.failureResultOf(maybeDeferred(lambda: Failure(ValueError())), ValueError)

    def test_fail_with_no_argument_needs_an_exception_being_handled(self):
        self.assertRaises(NoCurrentExceptionError, fail)
        try:
            raise KeyError("poem")
        except KeyError:
            d = fail()
        self.failureResultOf(d, KeyError)

    def test_multiservice_stops_its_children_through_maybe_deferred(self):
        stopped = []

        class Quick(Service):
            def stopService(self):
                stopped.append("quick")  # returns None

        class Slow(Service):
            def stopService(self):
                self.done = Deferred()
                return self.done

        parent, quick, slow = MultiService(), Quick(), Slow()
        quick.setServiceParent(parent)
        slow.setServiceParent(parent)
        d = parent.stopService()
        self.assertEqual(stopped, ["quick"])
        self.assertNoResult(d)
        slow.done.callback(None)
        self.assertEqual(self.successResultOf(d), [(True, None), (True, None)])

    def test_a_callback_added_to_a_fired_deferred_runs_inside_addCallback(self):
        got = []
        succeed("poem").addCallback(got.append)
        self.assertEqual(got, ["poem"])

    def test_waiting_for_an_inner_deferred_pauses_and_does_not_call_unpause(self):
        calls = []
        original_pause, original_unpause = Deferred.pause, Deferred.unpause

        def pause(d):
            calls.append(("pause", d))
            original_pause(d)

        def unpause(d):
            calls.append(("unpause", d))
            original_unpause(d)

        self.patch(Deferred, "pause", pause)
        self.patch(Deferred, "unpause", unpause)
        inner, outer = Deferred(), Deferred()
        outer.addCallback(lambda _: inner)
        outer.callback(None)
        self.assertEqual((calls, outer.paused), ([("pause", outer)], 1))
        inner.callback("poem")
        self.assertEqual((calls, outer.paused), ([("pause", outer)], 0))  # no unpause()
        self.assertEqual(self.successResultOf(outer), "poem")

    def test_a_fired_inner_deferred_is_taken_at_once_without_pausing(self):
        inner, outer = succeed("poem"), Deferred()
        outer.addCallback(lambda _: inner)
        outer.callback(None)
        self.assertEqual(outer.paused, 0)
        self.assertEqual(self.successResultOf(outer), "poem")
        self.assertIsNone(inner.result)  # the outer Deferred took its result

    def test_a_long_chain_of_waiting_deferreds_resumes_without_recursion(self):
        ds = [Deferred() for _ in range(5 * sys.getrecursionlimit())]
        for outer, inner in zip(ds, ds[1:], strict=False):
            outer.addCallback(lambda _, inner=inner: inner)
        for outer in ds[:-1]:
            outer.callback(None)  # each one now waits, paused, for the next
        ds[-1].callback("poem")
        self.assertEqual(self.successResultOf(ds[0]), "poem")


class ExpiringCacheTests(unittest.TestCase):
    """Exercise 2: a cache that expires, on a task.Clock."""

    def setUp(self):
        serving(self)
        self.module = load_program(EXPIRING)
        self.upstream = FakeUpstream()
        self.clock = Clock()
        self.service = self.module.ProxyService("127.0.0.1", 10001, 60, self.upstream,
                                                self.clock)

    def test_a_fresh_poem_comes_from_the_cache(self):
        quietly(self.service.get_poem)
        self.clock.advance(5)  # the download takes five seconds
        self.upstream.finish()
        self.clock.advance(59.5)
        d, printed = quietly(self.service.get_poem)
        self.assertEqual(printed, ["Cache hit: 673 bytes, 59.5 seconds old."])
        self.assertEqual(self.successResultOf(d), POEM)
        self.assertEqual(len(self.upstream.downloads), 1)

    def test_an_old_poem_is_fetched_again(self):
        quietly(self.service.get_poem)
        self.upstream.finish()
        self.clock.advance(60)
        d, printed = quietly(self.service.get_poem)
        self.assertEqual(printed, ["Cache expired: the poem is 60.0 seconds old.",
                                   f"Cache miss: fetching the poem from {UPSTREAM}."])
        self.assertNoResult(d)
        self.upstream.finish(POEMS["tyger"])
        self.assertEqual(self.successResultOf(d), POEMS["tyger"])
        self.clock.advance(1)
        d, printed = quietly(self.service.get_poem)
        self.assertEqual(self.successResultOf(d), POEMS["tyger"])
        self.assertEqual(printed, ["Cache hit: 813 bytes, 1.0 seconds old."])

    def test_the_program(self):
        upstream_port = start_server(self, "science")
        proxy, port = start_proxy(self, upstream_port, EXPIRING, "--max-age", "0")
        self.assertEqual(fetch(port), POEM)
        self.assertEqual(fetch(port), POEM)
        status, log, err = proxy.stop()
        self.assertEqual((status, err), (0, ""))
        self.assertEqual(log.count("Cache miss"), 2)
        self.assertEqual(log.count("Cache expired"), 1)


class SharedDownloadTests(unittest.TestCase):
    """Exercise 3: requests that arrive during a download wait for it."""

    def setUp(self):
        serving(self)
        self.module = load_program(SHARED)
        self.upstream = FakeUpstream()
        self.service = self.module.ProxyService("127.0.0.1", 10001, self.upstream)

    def test_one_download_for_all_who_ask_while_it_comes(self):
        first, _ = quietly(self.service.get_poem)
        second, printed = quietly(self.service.get_poem)
        self.assertEqual(printed, [f"Waiting for the download from {UPSTREAM} under way."])
        self.assertEqual(len(self.upstream.downloads), 1)
        self.assertIsNot(first, second)
        first.addCallback(lambda poem: None)  # one caller's callbacks do not touch the other's
        self.upstream.finish()
        self.assertIsNone(self.successResultOf(first))
        self.assertEqual(self.successResultOf(second), POEM)
        third, printed = quietly(self.service.get_poem)
        self.assertEqual(printed, ["Cache hit: 673 bytes."])
        self.assertEqual(self.successResultOf(third), POEM)

    def test_a_failure_reaches_everyone_waiting_and_is_not_cached(self):
        first, _ = quietly(self.service.get_poem)
        second, _ = quietly(self.service.get_poem)
        self.upstream.fail()
        self.failureResultOf(first, ConnectionRefusedError)
        self.failureResultOf(second, ConnectionRefusedError)
        quietly(self.service.get_poem)
        self.assertEqual(len(self.upstream.downloads), 2)

    def test_the_program_with_two_clients_at_once(self):
        upstream_port = start_server(self, "science", "--delay", "0.1")
        proxy, port = start_proxy(self, upstream_port, SHARED)
        first = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.addCleanup(first.close)
        read_until(proxy, "Cache miss")
        self.assertEqual(fetch(port), POEM)
        received = b""
        while data := first.recv(65536):
            received += data
        self.assertEqual(received, POEM)
        status, log, err = proxy.stop()
        self.assertEqual((status, err), (0, ""))
        self.assertIn("Waiting for the download", log)
        self.assertNotIn("Cache miss", log)  # (read above: there was one, the first)
