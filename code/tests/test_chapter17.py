"""Chapter 17: canceling Deferreds, the proxy that cancels its downloads, and a solution."""

import io
import socket
import sys

from twisted.internet import reactor
from twisted.internet.address import IPv4Address
from twisted.internet.defer import (
    AlreadyCalledError,
    CancelledError,
    Deferred,
    inlineCallbacks,
    succeed,
)
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from twisted.internet.error import (
    ConnectionDone,
    ConnectionLost,
    ConnectionRefusedError,
)
from twisted.internet.protocol import Protocol, ServerFactory
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.internet.threads import deferToThread
from twisted.python.failure import Failure
from twisted.trial import unittest

from tests.programs import (
    POEMS,
    Program,
    load_program,
    run,
    start_server,
    unanswered_port,
)
from tests.test_chapter12 import (
    EMPTY,
    fetch_in_time,
    free_port,
    read_until,
    serving,
    sockets_soon,
)

FOLDER = "deferred-cancel"
PROGRAMS = {name: f"{FOLDER}/{name}.py"
            for name in ("cancel", "no-canceller", "canceller", "canceller-fires", "cancel-inner",
                         "cancel-generator")}
PROXY = "twisted-server-4/poetry-proxy.py"
OLD_PROXY = "twisted-server-3/poetry-proxy.py"
DEADLINE = "solutions/ch17-deadline/poetry-proxy.py"
POEM = POEMS["science"]
UPSTREAM = "127.0.0.1:10001"


def output_of(test, program, *args):
    """Run a program that must succeed silently on stderr; return its stdout lines."""
    status, out, err = run(program, *args)
    test.assertEqual((status, err), (0, ""), program)
    return out.splitlines()


class EveryProgramTests(unittest.TestCase):
    def test_help(self):
        for program in [*PROGRAMS.values(), PROXY, DEADLINE]:
            status, out, err = run(program, "--help")
            self.assertEqual((status, err), (0, ""), program)
            first_line = load_program(program).__doc__.split("\n\n")[0]
            self.assertIn("".join(first_line.split()), "".join(out.split()), program)


class SmallProgramTests(unittest.TestCase):
    """The output of each small program, line for line: the order of events."""

    def test_cancel(self):
        self.assertEqual(output_of(self, PROGRAMS["cancel"]), [
            "1. Canceling a Deferred that has not fired.",
            "Calling d.cancel().",
            "poem_failed got Failure CancelledError()",
            "d.cancel() has returned. d.called is True.",
            "2. Canceling a Deferred that has fired.",
            "got_poem got 'Tyger Tyger, burning bright,'",
            "Calling d.cancel().",
            "d.cancel() has returned, and nothing ran.",
        ])

    def test_no_canceller(self):
        self.assertEqual(output_of(self, PROGRAMS["no-canceller"]), [
            "The download has started.",
            "Calling d.cancel().",
            "poem_failed got Failure CancelledError()",
            "d.cancel() has returned.",
            "The download has ended. Calling d.callback('Tyger Tyger, burning bright,').",
            "d.callback() has returned: no error, and nothing ran.",
        ])

    def test_canceller(self):
        self.assertEqual(output_of(self, PROGRAMS["canceller"]), [
            "1. A Deferred with a canceller fires, then is canceled.",
            "Calling d.callback().",
            "got_poem got 'Tyger Tyger, burning bright,'",
            "Calling d.cancel().",
            "d.cancel() has returned.",
            "2. A Deferred with a canceller is canceled before it fires.",
            "Calling d.cancel().",
            "stop_download runs, and stops the download. d.called is False.",
            "poem_failed got Failure CancelledError()",
            "d.cancel() has returned.",
        ])

    def test_canceller_fires(self):
        self.assertEqual(output_of(self, PROGRAMS["canceller-fires"]), [
            "1. A canceller that fires d with a result.",
            "Calling d.cancel().",
            "keep_the_start runs, and fires d with what has come so far.",
            "got_poem got 'Tyger Tyger,'",
            "d.cancel() has returned.",
            "2. A canceller that fires d with an error.",
            "Calling d.cancel().",
            "give_a_reason runs, and fails d with an error of its own.",
            "poem_failed got Failure ConnectionAbortedError('stopped after 12 bytes')",
            "d.cancel() has returned.",
        ])

    def test_cancel_generator(self):
        self.assertEqual(output_of(self, PROGRAMS["cancel-generator"]), [
            "CancelledError is an Exception: True",
            "1. Canceling poem_or_placeholder() while it waits.",
            "stop_download, the download's canceller, runs.",
            "poem_or_placeholder caught CancelledError() at its yield.",
            "got_poem got '[no poem today]'",
            "2. Canceling poem_or_nothing() while it waits.",
            "stop_download, the download's canceller, runs.",
            "poem_or_nothing caught CancelledError() at its yield, and raises it.",
            "poem_failed got Failure CancelledError()",
        ])

    def test_a_coroutine_is_canceled_at_its_await_in_the_same_way(self):
        caught = []

        async def poem_or_placeholder(download):
            try:
                return await download
            except Exception as error:
                caught.append(error)
                return "[no poem today]"

        d = Deferred.fromCoroutine(poem_or_placeholder(Deferred()))
        d.cancel()
        self.assertEqual(self.successResultOf(d), "[no poem today]")
        [error] = caught
        self.assertIsInstance(error, CancelledError)

    def test_cancel_inner(self):
        self.assertEqual(output_of(self, PROGRAMS["cancel-inner"]), [
            "Calling outer.callback().",
            "fetch_the_rest got 'Tyger Tyger, burning bright,', returns inner",
            "outer.paused is 1: outer waits for inner.",
            "Calling outer.cancel().",
            "stop_inner, inner's canceller, runs.",
            "poem_failed got Failure CancelledError()",
            "outer.cancel() has returned. outer.paused is 0.",
        ])


class CancelClaimsTests(unittest.TestCase):
    """What the chapter says about cancel(), checked against the installed Twisted."""

    def test_a_late_result_is_ignored_once_then_it_is_an_error(self):
        d = Deferred()
        failures = []
        d.addErrback(failures.append)
        d.cancel()
        self.assertTrue(failures[0].check(CancelledError))
        d.callback("the poem")  # ignored: the Deferred has no canceller
        self.assertIsNone(d.result)
        self.assertRaises(AlreadyCalledError, d.callback, "the poem, again")

    def test_a_late_error_is_ignored_too(self):
        d = Deferred()
        d.addErrback(lambda failure: None)
        d.cancel()
        d.errback(ConnectionRefusedError())  # ignored, and never logged as unhandled
        self.assertIsNone(d.result)

    def test_with_a_canceller_that_does_not_fire_a_late_result_is_an_error(self):
        d = Deferred(canceller=lambda d: None)
        d.addErrback(lambda failure: None)
        d.cancel()
        self.assertRaises(AlreadyCalledError, d.callback, "the poem")

    def test_canceling_a_fired_deferred_changes_nothing(self):
        calls = []
        d = Deferred(canceller=calls.append)
        d.callback("the poem")
        d.cancel()
        d.cancel()
        self.assertEqual((calls, self.successResultOf(d)), ([], "the poem"))

    def test_the_canceller_runs_once_and_before_the_errbacks(self):
        events = []
        d = Deferred(canceller=lambda d: events.append(("canceller", d.called)))
        d.addErrback(lambda failure: events.append(("errback", failure.type)))
        d.cancel()
        d.cancel()
        self.assertEqual(events, [("canceller", False), ("errback", CancelledError)])

    def test_canceling_outer_cancels_inner_not_outers_canceller(self):
        events = []
        inner = Deferred(canceller=lambda d: events.append("inner"))
        outer = Deferred(canceller=lambda d: events.append("outer"))
        outer.addCallback(lambda result: inner)
        outer.callback(None)
        self.assertIs(outer.result, inner)  # what cancel() looks at
        outer.cancel()
        self.assertEqual(events, ["inner"])
        self.failureResultOf(outer, CancelledError)

    def test_canceling_outer_before_it_fires_is_its_own_business(self):
        events = []
        outer = Deferred(canceller=lambda d: events.append("outer"))
        outer.addCallback(lambda result: events.append("callback"))
        outer.cancel()
        self.assertEqual(events, ["outer"])
        self.failureResultOf(outer, CancelledError)


class FakeUpstream:
    """A get_poetry() for a ProxyService: the test fires each download, or sees it canceled."""

    def __init__(self):
        self.downloads: list[Deferred] = []
        self.canceled: list[Deferred] = []

    def __call__(self, host, port):
        assert (host, port) == ("127.0.0.1", 10001)
        d = Deferred(canceller=self.canceled.append)
        self.downloads.append(d)
        return d


def quietly(function, *args):
    """Call function(*args); return (its result, what it printed)."""
    output = io.StringIO()
    old, sys.stdout = sys.stdout, output
    try:
        result = function(*args)
    finally:
        sys.stdout = old
    return result, output.getvalue().splitlines()


def connect(factory):
    """Connect a protocol from the factory to a StringTransport; return both and the log."""
    address = IPv4Address("TCP", "127.0.0.1", 50000)
    protocol = factory.buildProtocol(address)
    transport = StringTransport(peerAddress=address)
    _, printed = quietly(protocol.makeConnection, transport)
    return protocol, transport, printed


class ProxyProtocolTests(unittest.TestCase):
    """Server-4's protocol and service, on StringTransports, with the fake upstream."""

    def setUp(self):
        serving(self)
        self.module = load_program(PROXY)
        self.upstream = FakeUpstream()
        self.service = self.module.ProxyService("127.0.0.1", 10001, self.upstream)
        self.factory = self.module.PoetryProxyFactory(self.service)

    def test_a_client_that_hangs_up_cancels_its_download(self):
        protocol, transport, _ = connect(self.factory)
        _, printed = quietly(protocol.connectionLost, Failure(ConnectionDone()))
        self.assertEqual(printed, ["Request 1: the client hung up before the poem came.",
                                   f"Canceled the download from {UPSTREAM}."])
        self.assertEqual(self.upstream.canceled, self.upstream.downloads)
        self.assertIsNone(self.successResultOf(protocol.deferred))  # no_poem() took the failure
        self.assertIsNone(self.service.poem)
        _, _, printed = connect(self.factory)
        self.assertEqual(printed[1], f"Cache miss: fetching the poem from {UPSTREAM}.")

    def test_each_client_has_its_own_download(self):
        leaving, _, _ = connect(self.factory)
        staying, transport, _ = connect(self.factory)
        quietly(leaving.connectionLost, Failure(ConnectionDone()))
        self.assertEqual(self.upstream.canceled, [self.upstream.downloads[0]])
        _, printed = quietly(self.upstream.downloads[1].callback, POEM)
        self.assertEqual(printed, [f"Cached 673 bytes from {UPSTREAM}.",
                                   "Request 2: sending 673 bytes."])
        self.assertEqual(transport.value(), POEM)

    def test_a_hang_up_after_the_poem_cancels_nothing(self):
        protocol, _, _ = connect(self.factory)
        quietly(self.upstream.downloads[0].callback, POEM)
        _, printed = quietly(protocol.connectionLost, Failure(ConnectionDone()))
        self.assertEqual((printed, self.upstream.canceled), ([], []))

    def test_a_cache_hit_has_nothing_to_cancel(self):
        self.service.poem = POEM
        protocol, transport, _ = connect(self.factory)
        self.assertEqual(transport.value(), POEM)
        _, printed = quietly(protocol.connectionLost, Failure(ConnectionDone()))
        self.assertEqual(printed, [])

    def test_a_failure_upstream_is_still_reported(self):
        _, transport, _ = connect(self.factory)
        _, printed = quietly(self.upstream.downloads[0].errback,
                             Failure(ConnectionRefusedError(111)))
        self.assertEqual(printed, [f"No poem from {UPSTREAM}: Connection refused"])
        self.assertTrue(transport.disconnecting)

    def test_ctrl_c_cancels_nothing_and_logs_nothing(self):
        """The reactor closes the client's connection at Ctrl-C: nobody hung up."""
        protocol, _, _ = connect(self.factory)
        self.patch(reactor, "running", False)
        _, printed = quietly(protocol.connectionLost, Failure(ConnectionLost()))
        self.assertEqual((printed, self.upstream.canceled), ([], []))
        # The reactor closes the download too, and that is no failure to report.
        _, printed = quietly(self.upstream.downloads[0].errback, Failure(ConnectionLost()))
        self.assertEqual(printed, [])


class UpstreamProtocol(Protocol):
    """One connection to the test's upstream server: it says nothing until told to."""

    def connectionMade(self):
        self.factory.changed(self, +1)

    def connectionLost(self, reason):
        self.factory.changed(self, -1)


class Upstream(ServerFactory):
    """A poetry server in the test's process that counts its open connections."""

    protocol = UpstreamProtocol

    def __init__(self):
        self.open: list[UpstreamProtocol] = []
        self.connections = 0  # ever made
        self.waiting: list[tuple[int, Deferred]] = []

    def changed(self, protocol, step):
        if step > 0:
            self.open.append(protocol)
            self.connections += 1
        else:
            self.open.remove(protocol)
        for entry in list(self.waiting):
            if entry[0] == len(self.open):
                self.waiting.remove(entry)
                entry[1].callback(None)

    def until_open(self, count: int) -> Deferred:
        """A Deferred that fires once exactly count connections are open."""
        if len(self.open) == count:
            return succeed(None)
        d = Deferred()
        self.waiting.append((count, d))
        return d


class Collect(Protocol):
    """A client of the proxy: it keeps what comes, and fires done when the proxy hangs up."""

    def __init__(self):
        self.received = b""
        self.done = Deferred()

    def dataReceived(self, data):
        self.received += data

    def connectionLost(self, reason):
        self.done.callback(self.received)


class ProxyProcessTests(unittest.TestCase):
    """Server-4 as a process, between a real client and an upstream server in this process."""

    timeout = 10

    def setUp(self):
        self.upstream = Upstream()
        listening = reactor.listenTCP(0, self.upstream, interface="127.0.0.1")
        self.addCleanup(listening.stopListening)
        self.upstream_port = listening.getHost().port

    def start_proxy(self, program=PROXY, *options):
        proxy = Program(program, *options, str(self.upstream_port))
        self.addCleanup(proxy.end)
        port = proxy.port()
        return proxy, port

    def client(self, port):
        return connectProtocol(TCP4ClientEndpoint(reactor, "127.0.0.1", port), Collect())

    @inlineCallbacks
    def test_a_client_that_hangs_up_closes_the_upstream_connection(self):
        proxy, port = self.start_proxy()
        self.assertEqual(len(self.upstream.open), 0)
        client = yield self.client(port)
        yield self.upstream.until_open(1)
        client.transport.loseConnection()
        yield self.upstream.until_open(0)  # the proxy hung up on the upstream server
        status, log, err = proxy.stop()
        self.assertEqual((status, err), (0, ""))
        upstream = f"127.0.0.1:{self.upstream_port}"
        self.assertEqual(log.splitlines(), [
            "Request 1 from 127.0.0.1.",
            f"Cache miss: fetching the poem from {upstream}.",
            "Request 1: the client hung up before the poem came.",
            f"Canceled the download from {upstream}.",
        ])

    @inlineCallbacks
    def test_the_old_proxy_keeps_downloading(self):
        """The difference: server-3 leaves the upstream connection open."""
        proxy, port = self.start_proxy(OLD_PROXY)
        client = yield self.client(port)
        yield self.upstream.until_open(1)
        client.transport.loseConnection()
        yield client.done
        yield self.until_printed(proxy, "the client hung up")
        self.assertEqual(len(self.upstream.open), 1)
        self.upstream.open[0].transport.write(POEM)
        self.upstream.open[0].transport.loseConnection()
        yield self.upstream.until_open(0)

    def until_printed(self, proxy, text):
        """Read the proxy's output, in a thread, up to a line with text."""

        def read():
            while line := proxy.readline():
                if text in line:
                    return line
            raise AssertionError(f"the proxy never printed {text!r}")
        return deferToThread(read)

    @inlineCallbacks
    def test_a_client_that_stays_gets_the_poem_and_it_is_cached(self):
        proxy, port = self.start_proxy()
        leaving = yield self.client(port)
        yield self.upstream.until_open(1)
        staying = yield self.client(port)
        yield self.upstream.until_open(2)  # one download for each request
        leaving.transport.loseConnection()
        yield self.upstream.until_open(1)
        (survivor,) = self.upstream.open
        survivor.transport.write(POEM)
        survivor.transport.loseConnection()
        self.assertEqual((yield staying.done), POEM)
        later = yield self.client(port)
        self.assertEqual((yield later.done), POEM)
        self.assertEqual(self.upstream.connections, 2)  # the third was a cache hit
        status, log, err = proxy.stop()
        self.assertEqual((status, err), (0, ""))
        self.assertEqual(log.count("Canceled the download"), 1)
        self.assertEqual(log.count("Cached 673 bytes"), 1)
        self.assertIn("Request 3: sending 673 bytes.", log)

    @inlineCallbacks
    def test_canceling_while_still_connecting(self):
        """get_poetry()'s canceller stops a connection attempt, too."""
        module = load_program(PROXY)
        d = module.get_poetry("127.0.0.1", unanswered_port(self))
        yield self.pause(0.05)
        d.cancel()
        self.failureResultOf(d, CancelledError)
        yield self.pause(0.05)  # the connection attempt ends, and fires nothing more

    def pause(self, seconds):
        d = Deferred()
        reactor.callLater(seconds, d.callback, None)
        return d

    @inlineCallbacks
    def test_get_poetry_canceled_after_some_bytes(self):
        module = load_program(PROXY)
        d = module.get_poetry("127.0.0.1", self.upstream_port)
        yield self.upstream.until_open(1)
        self.upstream.open[0].transport.write(POEM[:100])
        yield self.pause(0.05)
        d.cancel()
        self.failureResultOf(d, CancelledError)
        yield self.upstream.until_open(0)  # and no AlreadyCalledError when it closes

    @inlineCallbacks
    def test_ctrl_c_in_the_middle_of_a_download(self):
        proxy, port = self.start_proxy()
        client = socket.create_connection(("127.0.0.1", port))
        self.addCleanup(client.close)
        self.assertIn("Request 1", proxy.readline())
        self.assertIn("Cache miss", proxy.readline())
        yield self.upstream.until_open(1)
        status, log, err = proxy.stop()
        self.assertEqual((status, err), (0, ""))
        # The reactor closes both connections as it stops: the client did not
        # hang up, and no download was canceled or failed.  Nothing to log.
        self.assertEqual(log, "")
        yield self.upstream.until_open(0)  # and the upstream server's connection is gone

    @inlineCallbacks
    def test_an_empty_poem_is_a_failure_and_never_cached(self):
        proxy, port = self.start_proxy()
        for connections in (1, 2):
            client = yield self.client(port)
            yield self.upstream.until_open(1)
            self.upstream.open[0].transport.loseConnection()  # not a byte of poetry
            self.assertEqual((yield client.done), b"")
            self.assertEqual(self.upstream.connections, connections)  # it asked again
        status, log, err = proxy.stop()
        self.assertEqual((status, err), (0, ""))
        failed = f"No poem from 127.0.0.1:{self.upstream_port}: {EMPTY}"
        self.assertEqual(log.count(failed), 2, log)
        self.assertNotIn("Cached", log)


class OwnUpstreamTests(unittest.TestCase):
    """A proxy given its own address as its upstream server."""

    def test_a_failure_at_once_and_no_connection_left(self):
        for program, options in ((PROXY, ()), (DEADLINE, ("--deadline", "30"))):
            port = free_port()
            proxy = Program(program, *options, "--port", str(port), str(port))
            self.addCleanup(proxy.end)
            self.assertEqual(proxy.first_line(),
                             f"Proxy on 127.0.0.1:{port} for 127.0.0.1:{port}.\n")
            for request in (1, 2):
                self.assertEqual(fetch_in_time(self, port), b"", program)
                self.assertEqual(read_until(proxy, "No poem from"), [
                    f"Request {request} from 127.0.0.1.",
                    f"Cache miss: fetching the poem from 127.0.0.1:{port}.",
                    "Refused 127.0.0.1: a request from this proxy itself.",
                    f"No poem from 127.0.0.1:{port}: {EMPTY}",
                ], program)
                self.assertEqual(sockets_soon(proxy.popen.pid, 1), 1, program)
            status, log, err = proxy.stop()
            self.assertEqual((status, log, err), (0, "", ""), program)


class SlowServerTests(unittest.TestCase):
    """Server-4 in front of chapter 2's slow server, as the chapter runs it."""

    def test_the_upstream_server_sees_the_hang_up(self):
        upstream = Program("blocking-server/slowpoetry.py", "--delay", "0.05",
                           "--num-bytes", "50", "code/poetry/science.txt")
        self.addCleanup(upstream.end)
        upstream_port = upstream.port()
        proxy = Program(PROXY, str(upstream_port))
        self.addCleanup(proxy.end)
        port = proxy.port()
        client = socket.create_connection(("127.0.0.1", port))
        self.assertIn("Connection 1 from", upstream.readline())
        client.close()
        self.assertEqual(upstream.readline(),
                         "Connection 1: the client hung up early.\n")


class DeadlineTests(unittest.TestCase):
    """Exercise 1: a deadline for the upstream download, with addTimeout()."""

    def setUp(self):
        serving(self)
        self.module = load_program(DEADLINE)
        self.upstream = FakeUpstream()
        self.clock = Clock()
        self.service = self.module.ProxyService("127.0.0.1", 10001, 5, self.upstream,
                                                self.clock)

    def test_a_download_past_its_deadline_is_canceled(self):
        d, _ = quietly(self.service.get_poem)
        self.clock.advance(4.9)
        self.assertNoResult(d)
        _, printed = quietly(self.clock.advance, 0.1)
        self.assertEqual(printed, [f"Canceled the download from {UPSTREAM}:"
                                   " no poem after 5 seconds."])
        self.assertEqual(self.upstream.canceled, self.upstream.downloads)
        self.failureResultOf(d, self.module.defer.TimeoutError)
        self.assertIsNone(self.service.poem)

    def test_a_download_in_time_is_cached_and_the_timer_stopped(self):
        d, _ = quietly(self.service.get_poem)
        self.clock.advance(4)
        quietly(self.upstream.downloads[0].callback, POEM)
        self.assertEqual(self.successResultOf(d), POEM)
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_a_client_hang_up_is_still_a_plain_cancellation(self):
        factory = self.module.PoetryProxyFactory(self.service)
        protocol, _, _ = connect(factory)
        _, printed = quietly(protocol.connectionLost, Failure(ConnectionDone()))
        self.assertEqual(printed[-1], f"Canceled the download from {UPSTREAM}.")
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_the_program_closes_the_upstream_connection(self):
        upstream_port = start_server(self, "science", "--delay", "0.1")
        proxy = Program(DEADLINE, "--deadline", "0.2", str(upstream_port))
        self.addCleanup(proxy.end)
        port = proxy.port()
        with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
            self.assertEqual(client.recv(1024), b"")  # closed without a poem
        status, log, err = proxy.stop()
        self.assertEqual((status, err), (0, ""))
        self.assertIn(f"Canceled the download from 127.0.0.1:{upstream_port}:"
                      " no poem after 0.2 seconds.", log)
