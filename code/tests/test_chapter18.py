"""Chapter 18: async/await over Deferreds, task.react(), endpoints, and the asyncio reactor.

The tests run on trial's own reactor, Twisted's default one.  The asyncio
reactor is only ever installed in a program that runs as a process of
its own: installing it here would change the reactor under every other
test.
"""

import argparse
import asyncio
import inspect
import io
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

from twisted.internet import reactor
from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.defer import (
    CancelledError,
    Deferred,
    NotACoroutineError,
    TimeoutError,
    ensureDeferred,
    fail,
    inlineCallbacks,
    succeed,
)
from twisted.internet.endpoints import HostnameEndpoint
from twisted.internet.error import ConnectionDone, ConnectionRefusedError
from twisted.internet.interfaces import (
    IHostnameResolver,
    IHostResolution,
    IReactorPluggableNameResolver,
)
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.task import Clock
from twisted.internet.testing import MemoryReactorClock
from twisted.python.failure import Failure
from twisted.trial import unittest
from zope.interface import implementer

from tests.programs import (
    POEMS,
    ROOT,
    Program,
    environment,
    listener,
    load_program,
    refused_port,
    run,
    start_server,
    unanswered_port,
    wait_for_the_reactor,
)
from tests.test_chapter11 import ctrl_c_inside

INLINE = "inline-callbacks/get-poetry.py"
CLIENT = "async-await/get-poetry.py"
REACT = "async-await/get-poetry-react.py"
SERVER = "async-await/fastpoetry.py"
BOTH = "async-await/asyncio-poetry.py"
LISTEN = "solutions/ch18-listen/fastpoetry.py"
CLIENT_5 = "twisted-client-5/get-poetry.py"
NO_POEM = "the server closed the connection without sending a poem"


def python(script: str, timeout: float = 10) -> subprocess.CompletedProcess:
    """Run a few lines of Python as a process, as the doctests run the examples.

    That is in the strict environment, with Python's development mode on.
    """
    return subprocess.run([sys.executable, "-c", script], cwd=ROOT,
                          env={**environment(), "PYTHONDEVMODE": "1"},
                          capture_output=True, text=True, timeout=timeout)


def start(test, program: str, *args: str) -> tuple[Program, int]:
    """Start a server program for one test (Ctrl-C after it); return it and its port."""
    server = Program(program, *args)
    test.addCleanup(server.end)
    return server, server.port()


def fetch(port: int) -> bytes:
    """Fetch a poem as nc would: read until the server closes the connection."""
    with socket.create_connection(("127.0.0.1", port), 10) as sock:
        received = b""
        while data := sock.recv(65536):
            received += data
    return received


class CoroutineTests(unittest.TestCase):
    """Coroutines awaiting Deferreds that have fired already: no network, no reactor."""

    def test_nothing_runs_until_from_coroutine_drives_it(self):
        steps = []

        async def shout(d):
            steps.append("started")
            poem = await d
            steps.append("resumed")
            return poem.upper()

        coro = shout(succeed("tyger tyger"))
        self.assertEqual(steps, [])
        d = Deferred.fromCoroutine(coro)
        self.assertEqual(steps, ["started", "resumed"])  # inside fromCoroutine(), at once
        self.assertEqual(self.successResultOf(d), "TYGER TYGER")

    def test_it_waits_at_a_deferred_that_has_not_fired(self):
        waiting = Deferred()

        async def shout():
            return (await waiting).upper()

        d = Deferred.fromCoroutine(shout())
        self.assertNoResult(d)
        waiting.callback("burning bright")
        self.assertEqual(self.successResultOf(d), "BURNING BRIGHT")

    def test_a_failed_deferred_raises_at_the_await(self):
        async def careful():
            try:
                return await fail(ConnectionRefusedError("nobody on 10003"))
            except ConnectionRefusedError as error:
                return f"[no poem: {error}]"

        self.assertEqual(self.successResultOf(Deferred.fromCoroutine(careful())),
                         "[no poem: Connection was refused by other side: nobody on 10003.]")

    def test_an_exception_it_does_not_catch_fails_its_deferred(self):
        async def buggy():
            await succeed(None)
            raise ValueError("a bug")

        failure = self.failureResultOf(Deferred.fromCoroutine(buggy()), ValueError)
        self.assertEqual(str(failure.value), "a bug")

    def test_ensure_deferred_takes_either_from_coroutine_only_a_coroutine(self):
        d = succeed("a poem")
        self.assertIs(ensureDeferred(d), d)
        self.assertRaises(NotACoroutineError, Deferred.fromCoroutine, d)
        self.assertTrue(issubclass(NotACoroutineError, TypeError))

        async def poem():
            return "a poem"

        self.assertEqual(self.successResultOf(ensureDeferred(poem())), "a poem")

    def test_neither_warns(self):
        """ensureDeferred() is not deprecated: it runs under PYTHONWARNINGS=error."""
        result = python("from twisted.internet.defer import ensureDeferred\n"
                        "async def poem():\n"
                        "    return 'a poem'\n"
                        "print(ensureDeferred(poem()).result)\n")
        self.assertEqual((result.returncode, result.stdout, result.stderr), (0, "a poem\n", ""))

    def test_a_coroutine_never_driven_warns_when_it_is_destroyed(self):
        result = python("async def poem():\n"
                        "    return 'a poem'\n"
                        "forgotten = poem()\n"
                        "del forgotten\n")
        # An error here, but raised in a destructor: reported, and the program goes on.
        self.assertEqual(result.returncode, 0)
        self.assertIn("RuntimeWarning: coroutine 'poem' was never awaited", result.stderr)


class CancellationInsideTests(unittest.TestCase):
    """What cancel() does inside a coroutine, or a generator run by inlineCallbacks."""

    def test_twisteds_cancelled_error_is_an_exception_asyncios_is_not(self):
        self.assertTrue(issubclass(CancelledError, Exception))
        self.assertFalse(issubclass(asyncio.CancelledError, Exception))

    def test_it_is_raised_at_the_await(self):
        waiting = Deferred()
        seen = []

        async def fetch():
            try:
                return await waiting
            except BaseException as error:
                seen.append(type(error))
                raise

        d = Deferred.fromCoroutine(fetch())
        d.cancel()
        self.assertEqual(seen, [CancelledError])  # the awaited Deferred was canceled
        self.failureResultOf(d, CancelledError)

    def test_and_at_the_yield_of_inline_callbacks(self):
        seen = []

        @inlineCallbacks
        def fetch():
            try:
                return (yield Deferred())
            except CancelledError as error:
                seen.append(type(error))
                raise

        d = fetch()
        d.cancel()
        self.assertEqual(seen, [CancelledError])
        self.failureResultOf(d, CancelledError)

    def test_except_exception_swallows_it_and_the_deferred_succeeds(self):
        async def poem_or_placeholder(poem_d):
            try:
                return await poem_d
            except Exception as error:
                return f"[no poem: {error!r}]"

        clock = Clock()
        d = Deferred.fromCoroutine(poem_or_placeholder(Deferred())).addTimeout(10, clock)
        clock.advance(10)
        self.assertEqual(self.successResultOf(d), "[no poem: CancelledError()]")

    def test_raised_again_the_timeout_gets_through(self):
        async def poem_or_placeholder(poem_d):
            try:
                return await poem_d
            except CancelledError:
                raise
            except Exception as error:
                return f"[no poem: {error!r}]"

        clock = Clock()
        d = Deferred.fromCoroutine(poem_or_placeholder(Deferred())).addTimeout(10, clock)
        clock.advance(10)
        self.failureResultOf(d, TimeoutError)


class CancellationAcrossTests(unittest.TestCase):
    """Cancellation across Deferred.asFuture() and Deferred.fromFuture(), on a loop."""

    def setUp(self):
        self.loop = asyncio.new_event_loop()
        self.addCleanup(self.loop.close)

    def turn(self):
        """One turn of the loop: it runs the done callbacks it has been given."""
        self.loop.run_until_complete(asyncio.sleep(0))

    def test_canceling_the_deferred_fails_the_future_without_canceling_it(self):
        d = Deferred()
        future = d.asFuture(self.loop)
        d.cancel()
        self.assertTrue(future.done())
        self.assertFalse(future.cancelled())
        self.assertIsInstance(future.exception(), CancelledError)
        self.assertNotIsInstance(future.exception(), asyncio.CancelledError)

    def test_canceling_the_future_cancels_the_deferred_a_turn_later(self):
        d = Deferred()
        future = d.asFuture(self.loop)
        future.cancel()
        self.assertFalse(d.called)
        self.turn()
        self.assertIsNone(self.successResultOf(d))  # asFuture() took the failure

    def test_canceling_from_future_cancels_the_future_with_asyncios_error(self):
        future = self.loop.create_future()
        d = Deferred.fromFuture(future)
        d.cancel()
        self.assertTrue(future.cancelled())
        self.turn()
        failure = self.failureResultOf(d, asyncio.CancelledError)
        self.assertIsNone(failure.check(CancelledError))
        self.assertRaises(asyncio.CancelledError, failure.trap, CancelledError)


def args(addresses, outcomes=(), timeout=10.0):
    return argparse.Namespace(addresses=list(addresses), outcomes=list(outcomes),
                              timeout=timeout)


class FakeReactor(Clock):
    """All get_poems() asks of the reactor: is it running, a trigger for its shutdown, a timer."""

    def __init__(self, running=True):
        super().__init__()
        self.running = running
        self.triggers = []

    def addSystemEventTrigger(self, phase, event, f, *args):
        self.triggers.append((phase, event, f, args))


class GetPoemsTests(unittest.TestCase):
    """The react client's get_poems(), with a get_poetry() that returns fired Deferreds."""

    def setUp(self):
        self.module = load_program(REACT)
        self.stdout, self.stderr = io.StringIO(), io.StringIO()
        self.patch(sys, "stdout", self.stdout)
        self.patch(sys, "stderr", self.stderr)
        self.answers = {}
        self.patch(self.module, "get_poetry",
                   lambda host, port, timeout: self.answers[port])

    def exit_status(self, running=True, **kwargs):
        """Run get_poems() to its end; return the status it asked react() to exit with."""
        fake_reactor = FakeReactor(running)
        d = Deferred.fromCoroutine(self.module.get_poems(fake_reactor, args(**kwargs)))
        fake_reactor.advance(0)  # the timed call it ends in
        return self.failureResultOf(d, SystemExit).value.code

    def test_every_poem(self):
        self.answers = {1: succeed(b"Tyger"), 2: succeed(b"Ozymandias")}
        status = self.exit_status(addresses=[("a", 1), ("b", 2)], outcomes=["bug", "success"])
        self.assertEqual(status, 0)
        self.assertEqual(self.stdout.getvalue(), "Tyger\nozymandias")  # in task order
        self.assertEqual(self.stderr.getvalue().splitlines(), [
            "Task 1: cummingsify() failed (ValueError: a bug in cummingsify()); "
            "keeping the poem as it came",
            "Task 1: got 5 bytes of poetry from a:1",
            "Task 2: got 10 bytes of poetry from b:2",
            "Got 2 of 2 poems in 0.0 seconds.",
        ])

    def test_a_poem_missing_is_status_1(self):
        self.answers = {1: fail(ConnectionRefusedError(osError=111)), 2: succeed(b"Tyger"),
                        3: succeed(b"Ozymandias")}
        status = self.exit_status(addresses=[("a", 1), ("b", 2), ("c", 3)],
                                  outcomes=["success", "success", "gibberish"])
        self.assertEqual(status, 1)
        self.assertEqual(self.stdout.getvalue(), "tyger")
        self.assertEqual(self.stderr.getvalue().splitlines(), [
            "Task 1: cannot get poetry from a:1: Connection refused",
            "Task 2: got 5 bytes of poetry from b:2",
            "Task 3: cummingsify() made gibberish of the poem from c:3",
            "Got 1 of 3 poems in 0.0 seconds.",
        ])

    def test_downloads_that_end_because_the_reactor_stops_are_status_130(self):
        self.answers = {1: fail(ConnectionRefusedError()), 2: fail(ConnectionRefusedError())}
        status = self.exit_status(running=False, addresses=[("a", 1), ("b", 2)])
        self.assertEqual((status, self.stdout.getvalue(), self.stderr.getvalue()), (130, "", ""))

    def test_it_waits_for_every_download(self):
        self.answers = {1: succeed(b"Tyger"), 2: Deferred()}
        fake_reactor = FakeReactor()
        d = Deferred.fromCoroutine(self.module.get_poems(
            fake_reactor, args([("a", 1), ("b", 2)], ["success"] * 2)))
        self.assertNoResult(d)
        self.answers[2].callback(b"Ozymandias")
        self.assertEqual(self.stdout.getvalue(), "")
        self.assertNoResult(d)  # not inside the last download's callback: in a timed call
        fake_reactor.advance(0)
        self.assertEqual(self.failureResultOf(d, SystemExit).value.code, 0)

    def test_on_ctrl_c_it_gives_up_on_downloads_the_reactor_could_not_end(self):
        """A download that is not a connection yet, say: the shutdown trigger cancels it."""
        self.answers = {1: succeed(b"Tyger"), 2: Deferred()}
        fake_reactor = FakeReactor()
        d = Deferred.fromCoroutine(self.module.get_poems(
            fake_reactor, args([("a", 1), ("b", 2)], ["success"] * 2)))
        [(phase, event, cancel, _)] = fake_reactor.triggers
        self.assertEqual((phase, event), ("during", "shutdown"))
        fake_reactor.running = False  # Ctrl-C: the reactor is shutting down
        cancel()
        self.assertEqual(self.failureResultOf(d, SystemExit).value.code, 130)
        self.assertEqual(self.stderr.getvalue(), "Task 1: got 5 bytes of poetry from a:1\n")


class ReactTests(unittest.TestCase):
    """What task.react() does with the coroutine it runs, and with Ctrl-C."""

    def react(self, body: str) -> Program:
        script = ("import sys\n"
                  "from twisted.internet.defer import Deferred\n"
                  "from twisted.internet.task import react\n"
                  "async def main(reactor):\n"
                  "    print('running', flush=True)\n"
                  f"    {body}\n"
                  "react(main)\n")
        program = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, env=environment(),
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   start_new_session=True)
        self.addCleanup(self.end, program)
        self.assertEqual(program.stdout.readline(), "running\n")
        return program

    def end(self, program: subprocess.Popen) -> None:
        """Kill the program if it still runs, wait for it, and close its pipes."""
        if program.poll() is None:
            program.kill()
        program.wait()
        program.stdout.close()
        program.stderr.close()

    def test_a_return_is_status_0(self):
        program = self.react("return 'ignored'")
        self.assertEqual(program.wait(10), 0)

    def test_system_exit_gives_its_code(self):
        self.assertEqual(self.react("sys.exit(130)").wait(10), 130)

    def test_an_exception_is_logged_and_status_1(self):
        program = self.react("raise ValueError('a bug')")
        self.assertEqual(program.wait(10), 1)
        err = program.stderr.read()
        self.assertIn("main function encountered error", err)
        self.assertIn("builtins.ValueError: a bug", err)

    def test_ctrl_c_before_main_ends_is_status_0(self):
        program = self.react("from twisted.internet.task import deferLater\n"
                             "    await deferLater(reactor, 0, print, 'reactor running', "
                             "flush=True)\n"
                             "    await Deferred()")
        # main() starts before the reactor does; Ctrl-C once the reactor handles it.
        self.assertEqual(program.stdout.readline(), "reactor running\n")
        os.killpg(program.pid, signal.SIGINT)
        self.assertEqual(program.wait(10), 0)
        self.assertEqual(program.stderr.read(), "")


    def ctrl_c_as_main_ends(self, last_step: str) -> str:
        """Press Ctrl-C in the network callback that lets main() end; return stderr.

        The Ctrl-C queues the reactor's stop for the next turn of its loop; in
        this one, main() ends with last_step, and react() stops the reactor.
        """
        script = ("import os, signal\n"
                  "from twisted.internet.defer import Deferred\n"
                  "from twisted.internet.endpoints import TCP4ClientEndpoint, "
                  "TCP4ServerEndpoint, connectProtocol\n"
                  "from twisted.internet.protocol import Factory, Protocol\n"
                  "from twisted.internet.task import deferLater, react\n"
                  "class Hello(Protocol):\n"
                  "    def connectionMade(self):\n"
                  "        self.transport.write(b'hello')\n"
                  "class Listen(Protocol):\n"
                  "    def __init__(self):\n"
                  "        self.heard = Deferred()\n"
                  "    def dataReceived(self, data):\n"
                  "        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C, right now\n"
                  "        self.heard.callback(data)\n"
                  "async def main(reactor):\n"
                  "    server = TCP4ServerEndpoint(reactor, 0, interface='127.0.0.1')\n"
                  "    port = await server.listen(Factory.forProtocol(Hello))\n"
                  "    client = TCP4ClientEndpoint(reactor, '127.0.0.1', port.getHost().port)\n"
                  "    listen = await connectProtocol(client, Listen())\n"
                  "    await listen.heard\n"
                  f"    {last_step}\n"
                  "react(main)\n")
        result = python(script)
        self.assertEqual(result.returncode, 0, result.stderr)
        return result.stderr

    def test_ctrl_c_as_main_ends_in_a_network_callback_is_a_second_stop(self):
        """react() catches ReactorNotRunning from its own stop, not from Ctrl-C's."""
        err = self.ctrl_c_as_main_ends("pass")
        self.assertIn("while calling from thread", err)
        self.assertIn("ReactorNotRunning", err)

    def test_ctrl_c_as_main_ends_in_a_timed_call_is_quiet(self):
        """Ctrl-C's stop runs before the timed call, and react() catches its own."""
        self.assertEqual(self.ctrl_c_as_main_ends("await deferLater(reactor, 0)"), "")


@implementer(IHostResolution)
class Resolution:
    def __init__(self, name):
        self.name = name

    def cancel(self):
        pass


@implementer(IHostnameResolver)
class FakeResolver:
    """Resolves names from a dictionary, and records what each caller asked for."""

    def __init__(self, hosts):
        self.hosts = hosts
        self.asked = []

    def resolveHostName(self, receiver, hostName, portNumber=0, addressTypes=None,
                        transportSemantics="TCP"):
        self.asked.append(addressTypes)
        receiver.resolutionBegan(Resolution(hostName))
        for ip in self.hosts.get(hostName, []):
            address = (IPv6Address("TCP", ip, portNumber) if ":" in ip
                       else IPv4Address("TCP", ip, portNumber))
            if addressTypes is None or type(address) in addressTypes:
                receiver.addressResolved(address)
        receiver.resolutionComplete()
        return receiver


@implementer(IHostnameResolver)
class SlowResolver:
    """Reports the addresses, and the end of the lookup, only when a test says so."""

    receiver = None

    def resolveHostName(self, receiver, hostName, portNumber=0, addressTypes=None,
                        transportSemantics="TCP"):
        self.receiver = receiver
        receiver.resolutionBegan(Resolution(hostName))
        return receiver


@implementer(IReactorPluggableNameResolver)
class ResolvingMemoryReactor(MemoryReactorClock):
    def __init__(self, resolver):
        super().__init__()
        self.nameResolver = resolver

    def installNameResolver(self, resolver):
        self.nameResolver, old = resolver, self.nameResolver
        return old


class HostnameEndpointTests(unittest.TestCase):
    def test_it_asks_for_every_address_and_tries_one_every_0_3_seconds(self):
        resolver = FakeResolver({"poetry.test": ["::1", "127.0.0.1"]})
        clock = ResolvingMemoryReactor(resolver)
        d = HostnameEndpoint(clock, "poetry.test", 10001).connect(Factory.forProtocol(Protocol))
        self.assertEqual(resolver.asked, [None])  # no filter: IPv4 and IPv6 alike
        self.assertEqual([c[:2] for c in clock.tcpClients], [("::1", 10001)])
        clock.advance(0.29)
        self.assertEqual(len(clock.tcpClients), 1)
        clock.advance(0.01)  # the first attempt is still pending: start the next
        self.assertEqual([c[:2] for c in clock.tcpClients],
                         [("::1", 10001), ("127.0.0.1", 10001)])
        d.cancel()
        self.failureResultOf(d)

    def test_no_attempt_until_the_lookup_is_complete(self):
        resolver = SlowResolver()
        clock = ResolvingMemoryReactor(resolver)
        d = HostnameEndpoint(clock, "poetry.test", 10001).connect(Factory.forProtocol(Protocol))
        resolver.receiver.addressResolved(IPv6Address("TCP", "::1", 10001))
        clock.advance(1)
        self.assertEqual(clock.tcpClients, [])  # an address is known, but not all of them
        resolver.receiver.addressResolved(IPv4Address("TCP", "127.0.0.1", 10001))
        resolver.receiver.resolutionComplete()
        self.assertEqual([c[:2] for c in clock.tcpClients], [("::1", 10001)])
        d.cancel()
        self.failureResultOf(d)

    def test_in_the_order_they_came_families_not_interleaved(self):
        resolver = FakeResolver({"poetry.test": ["::1", "::2", "127.0.0.1"]})
        clock = ResolvingMemoryReactor(resolver)
        d = HostnameEndpoint(clock, "poetry.test", 10001).connect(Factory.forProtocol(Protocol))
        clock.advance(0.3)
        clock.advance(0.3)
        self.assertEqual([c[0] for c in clock.tcpClients], ["::1", "::2", "127.0.0.1"])
        d.cancel()
        self.failureResultOf(d)

    def test_a_refused_attempt_does_not_bring_the_next_forward(self):
        resolver = FakeResolver({"poetry.test": ["::1", "127.0.0.1"]})
        clock = ResolvingMemoryReactor(resolver)
        d = HostnameEndpoint(clock, "poetry.test", 10001).connect(Factory.forProtocol(Protocol))
        factory = clock.tcpClients[0][2]
        factory.clientConnectionFailed(None, Failure(ConnectionRefusedError()))
        clock.advance(0.29)
        self.assertEqual(len(clock.tcpClients), 1)  # still waiting for the timer
        clock.advance(0.01)
        self.assertEqual([c[0] for c in clock.tcpClients], ["::1", "127.0.0.1"])
        d.cancel()
        self.failureResultOf(d)

    def use_resolver(self, hosts):
        resolver = FakeResolver(hosts)
        self.addCleanup(reactor.installNameResolver, reactor.installNameResolver(resolver))
        return resolver

    async def test_connect_tcp_takes_one_ipv4_address_the_endpoint_tries_them_all(self):
        """Against a name with two addresses, where only the second one has a server."""
        server, port = start(self, SERVER, "code/poetry/tyger.txt")
        # Everything on 127.0.0.0/8 is this machine; nobody listens on 127.0.0.2.
        resolver = self.use_resolver({"poetry.test": ["127.0.0.2", "127.0.0.1"]})
        refused = load_program(CLIENT).get_poetry("poetry.test", port, 5)
        with self.assertRaises(ConnectionRefusedError):
            await refused
        started = time.monotonic()
        poem = await load_program(REACT).get_poetry("poetry.test", port, 5)
        self.assertEqual(poem, POEMS["tyger"])
        self.assertGreaterEqual(time.monotonic() - started, 0.29)  # the second try, 0.3 s on
        self.assertEqual(resolver.asked, [[IPv4Address], None])


class ServerTests(unittest.TestCase):
    """The fast poetry server, on an endpoint, as a process."""

    def test_it_serves_and_stops_cleanly_on_ctrl_c(self):
        server = Program(SERVER, "code/poetry/science.txt")
        port = server.port()
        self.assertEqual(fetch(port), POEMS["science"])
        self.assertEqual(fetch(port), POEMS["science"])
        self.assertEqual(server.stop(), (0, "Connection 1 from 127.0.0.1.\n"
                                            "Connection 1: sent 673 bytes.\n"
                                            "Connection 2 from 127.0.0.1.\n"
                                            "Connection 2: sent 673 bytes.\n", ""))

    def test_a_port_in_use(self):
        sock, port = listener(self)
        status, out, err = run(SERVER, "--port", str(port), "code/poetry/tyger.txt")
        self.assertEqual((status, out, err),
                         (1, "", f"Cannot listen on 127.0.0.1:{port}: Address already in use\n"))

    def test_no_poem(self):
        status, out, err = run(SERVER, "code/poetry/no-such-poem.txt")
        self.assertEqual((status, out), (1, ""))
        self.assertEqual(err, "Cannot read the poem: [Errno 2] No such file or directory: "
                              "'code/poetry/no-such-poem.txt'\n")

    def test_the_protocol_and_factory_are_chapter_10s(self):
        old, new = load_program("twisted-server-1/fastpoetry.py"), load_program(SERVER)
        for name in ("PoetryProtocol", "PoetryFactory", "parse_args"):
            self.assertEqual(inspect.getsource(getattr(old, name)),
                             inspect.getsource(getattr(new, name)))


class ClientTests(unittest.TestCase):
    """Both async/await clients as processes: client-5's command line and output."""

    def test_the_same_output_as_client_5_and_the_inline_callbacks_client(self):
        ports = [str(start_server(self, name)) for name in ("science", "ozymandias", "automne")]
        dead = str(refused_port(self))
        results = {}
        for program in (CLIENT_5, INLINE, CLIENT, REACT):
            status, out, err = run(program, "--outcomes", "success,gibberish,bug", *ports, dead)
            lines = sorted(err.splitlines())
            self.assertRegex(lines[0], r"^Got 2 of 4 poems in \d+\.\d seconds\.$")
            results[program] = (status, out, lines[1:])
        self.assertEqual(results[CLIENT], results[CLIENT_5])
        self.assertEqual(results[REACT], results[CLIENT_5])
        self.assertEqual(results[INLINE], results[CLIENT_5])
        status, out, lines = results[REACT]
        self.assertEqual(status, 1)
        self.assertEqual(out.encode(), POEMS["science"].decode().lower().encode()
                         + b"\n" + POEMS["automne"])
        self.assertIn(f"Task 4: cannot get poetry from 127.0.0.1:{dead}: Connection refused",
                      lines)

    def test_every_server_answers(self):
        port = str(start_server(self, "tyger"))
        for program in (CLIENT, REACT):
            status, out, err = run(program, "--outcomes", "success", port)
            self.assertEqual((status, out), (0, POEMS["tyger"].decode().lower()))

    def test_a_server_down_is_status_1(self):
        dead = refused_port(self)
        for program in (CLIENT, REACT):
            status, out, err = run(program, str(dead))
            self.assertEqual((status, out), (1, ""))
            self.assertEqual(err.splitlines()[0],
                             f"Task 1: cannot get poetry from 127.0.0.1:{dead}: Connection refused")

    def test_a_silent_server_times_out(self):
        _, silent = listener(self)
        status, out, err = run(REACT, "--timeout", "0.2", str(silent))
        self.assertEqual((status, out), (1, ""))
        self.assertIn("the server said nothing for 0.2 seconds", err)

    def test_ctrl_c_is_status_130(self):
        _, silent = listener(self)
        live = str(start_server(self, "tyger"))
        for program_path in (CLIENT, REACT):
            program = Program(program_path, "--outcomes", "success,success", live, str(silent))
            self.addCleanup(program.end)
            assert program.popen.stderr is not None
            self.assertIn("Task 1: got 813 bytes", program.readline("stderr"))
            self.assertEqual(program.stop(), (130, "", ""))

    def test_an_empty_poem_is_a_failure(self):
        for program in (CLIENT, REACT):
            server, port = listener(self)
            client = Program(program, str(port))
            connection, _ = server.accept()
            connection.close()  # not a byte
            status, out, err = client.finish()
            self.assertEqual((status, out), (1, ""), program)
            self.assertEqual(err.splitlines()[0],
                             f"Task 1: cannot get poetry from 127.0.0.1:{port}: {NO_POEM}", program)

    def test_a_server_that_never_answers(self):
        """The endpoint gives up with the same TimeoutError as connectTCP(): the same words."""
        stuck = unanswered_port(self)
        for program in (CLIENT, REACT):
            status, out, err = run(program, "--timeout", "0.5", str(stuck))
            self.assertEqual((status, out), (1, ""), program)
            self.assertEqual(err.splitlines()[0], f"Task 1: cannot get poetry from 127.0.0.1:"
                                                  f"{stuck}: no answer within 0.5 seconds", program)

    def test_ctrl_c_as_the_last_poem_comes_in(self):
        """The client's stop and Ctrl-C's in one turn of the loop: no ReactorNotRunning."""
        port = str(start_server(self, "tyger"))
        for program in (CLIENT, REACT):
            status, out, err = ctrl_c_inside(program, "PoetryClientFactory.poem_finished",
                                             "--outcomes", "success", port)
            self.assertNotIn("ReactorNotRunning", err, program)
            self.assertEqual((status, out), (0, POEMS["tyger"].decode().lower()), err)

    def test_help(self):
        for program in (CLIENT, REACT):
            status, out, err = run(program, "--help")
            self.assertEqual((status, err), (0, ""))
            self.assertIn("a poetry server's [host:]port", out)
            self.assertIn("--timeout TIMEOUT", out)
            self.assertIn("--outcomes OUTCOMES", out)


class AsyncioProgramTests(unittest.TestCase):
    """asyncio-poetry.py, which installs the asyncio reactor: always as a process."""

    def test_the_order_of_events(self):
        server, port = start(self, SERVER, "code/poetry/science.txt")
        status, out, err = run(BOTH, str(port))
        self.assertEqual((status, err), (0, ""))
        self.assertEqual(out.splitlines(), [
            "The reactor, AsyncioSelectorReactor, runs on _UnixSelectorEventLoop.",
            "Twisted: the Deferred gave me 673 bytes from asyncio's fetch",
            "asyncio: the Future gave me 673 bytes from Twisted's fetch",
            "The same poem both ways: True",
            "asyncio: sleep(0.1) is over",
            "Twisted: deferLater(0.2) is over",
        ])

    def test_a_server_down(self):
        dead = refused_port(self)
        status, out, err = run(BOTH, str(dead))
        self.assertEqual(status, 1)
        self.assertEqual(err, f"Cannot get poetry from 127.0.0.1:{dead}: Connection refused\n")

    def test_an_empty_poem(self):
        server, port = listener(self)
        program = Program(BOTH, str(port))
        connection, _ = server.accept()
        connection.close()  # not a byte
        status, out, err = program.finish()
        self.assertEqual((status, out), (1, "The reactor, AsyncioSelectorReactor, runs on "
                                            "_UnixSelectorEventLoop.\n"))
        self.assertEqual(err, f"Cannot get poetry from 127.0.0.1:{port}: {NO_POEM}\n")

    def test_on_twisteds_side_too_an_empty_poem_is_a_failure(self):
        """PoemProtocol alone: loading the program does not install its reactor."""
        protocol = load_program(BOTH).PoemProtocol()
        protocol.connectionLost(Failure(ConnectionDone()))  # and not a byte before it
        failure = self.failureResultOf(protocol.poem, ConnectionError)
        self.assertEqual(failure.getErrorMessage(), NO_POEM)

    def test_ctrl_c_while_asyncio_waits(self):
        _, silent = listener(self)
        program = Program(BOTH, str(silent))
        self.addCleanup(program.end)
        self.assertIn("AsyncioSelectorReactor", program.first_line())
        wait_for_the_reactor(program)  # that line comes before the reactor runs
        self.assertEqual(program.stop(), (130, "", ""))

    def test_help(self):
        status, out, err = run(BOTH, "--help")
        self.assertEqual((status, err), (0, ""))
        self.assertIn("a poetry server's [host:]port", out)

    def test_each_side_needs_its_bridge(self):
        """A Future awaited in Twisted's coroutine, a Deferred in asyncio's: both refused."""
        result = python("import asyncio\n"
                        "from twisted.internet import asyncioreactor\n"
                        "asyncioreactor.install()\n"
                        "from twisted.internet.defer import Deferred, succeed\n"
                        "from twisted.internet.task import react\n"
                        "async def asyncio_side():\n"
                        "    await Deferred()\n"
                        "async def main(reactor):\n"
                        "    for attempt in (asyncio.ensure_future(asyncio.sleep(0)),\n"
                        "                    Deferred.fromFuture(asyncio.ensure_future(\n"
                        "                        asyncio_side()))):\n"
                        "        try:\n"
                        "            await attempt\n"
                        "        except RuntimeError as error:\n"
                        "            print(error)\n"
                        "react(main)\n")
        self.assertEqual(result.returncode, 0, result.stderr)
        lines = result.stdout.splitlines()
        self.assertEqual(lines[0], "await wasn't used with future")
        self.assertRegex(lines[1], r"^Task got bad yield: <Deferred at 0x[0-9a-f]+>$")

    def test_install_makes_a_loop_and_sets_it_as_current(self):
        result = python("import asyncio\n"
                        "from twisted.internet import asyncioreactor\n"
                        "asyncioreactor.install()\n"
                        "from twisted.internet import reactor\n"
                        "loop = asyncio.get_event_loop()\n"
                        "print(loop is reactor._asyncioEventloop, loop.is_running(),\n"
                        "      loop.get_debug())\n")
        self.assertEqual((result.stdout, result.stderr), ("True False True\n", ""))


class ListenSolutionTests(unittest.TestCase):
    """Exercise 1's solution: --listen takes any server endpoint description."""

    def test_a_unix_socket(self):
        directory = tempfile.mkdtemp()  # a short path: a Unix socket's must be short
        self.addCleanup(shutil.rmtree, directory)
        path = os.path.join(directory, "poetry.sock")
        server = Program(LISTEN, "--listen", f"unix:{path}", "code/poetry/automne.txt")
        self.addCleanup(server.end)
        self.assertEqual(server.first_line(), f"Serving code/poetry/automne.txt on {path}.\n")
        with socket.socket(socket.AF_UNIX) as sock:
            sock.connect(path)
            received = b""
            while data := sock.recv(65536):
                received += data
        self.assertEqual(received, POEMS["automne"])
        self.assertEqual(server.stop(), (0, "Connection 1 from a Unix socket.\n"
                                            "Connection 1: sent 341 bytes.\n", ""))
        self.assertFalse(os.path.exists(path))

    def test_tcp_as_before(self):
        server, port = start(self, LISTEN, "code/poetry/tyger.txt")
        self.assertEqual(fetch(port), POEMS["tyger"])

    def test_a_description_twisted_does_not_know(self):
        status, out, err = run(LISTEN, "--listen", "carrier-pigeon:10001",
                               "code/poetry/tyger.txt")
        self.assertEqual((status, out, err), (
            1, "", "Cannot listen on carrier-pigeon:10001: "
                   "Unknown endpoint type: 'carrier-pigeon'\n"))

    def test_help(self):
        status, out, err = run(LISTEN, "--help")
        self.assertEqual((status, err), (0, ""))
        self.assertIn("--listen DESCRIPTION", out)
