"""Chapter 14: the fast poetry server as a twistd service, .tac and plugin, and a solution."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from twisted.application import service, strports
from twisted.application.service import IServiceMaker
from twisted.internet import reactor
from twisted.internet.address import IPv4Address
from twisted.internet.defer import Deferred, inlineCallbacks
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from twisted.internet.error import ConnectionLost, ConnectionRefusedError
from twisted.internet.protocol import Protocol
from twisted.internet.testing import StringTransport
from twisted.logger import formatEvent, globalLogPublisher
from twisted.plugin import IPlugin
from twisted.python import usage
from twisted.python.failure import Failure
from twisted.trial import unittest
from zope.interface.verify import verifyObject

from tests.programs import CODE, ROOT, environment, load_program

DAEMON = CODE / "twisted-server-daemon"
TAC = DAEMON / "fastpoetry.tac"
PLUGIN = "twisted-server-daemon/twisted/plugins/fastpoetry_plugin.py"
SOLUTION = CODE / "solutions" / "ch14-several-poems"
SOLUTION_PLUGIN = "solutions/ch14-several-poems/twisted/plugins/poems_plugin.py"
TWISTD = str(Path(sys.executable).with_name("twistd"))
ADDRESS = IPv4Address("TCP", "127.0.0.1", 50000)
SCIENCE = Path("code/poetry/science.txt")  # relative to ROOT, as the chapter types it
POEMS = {name: (CODE / "poetry" / f"{name}.txt").read_bytes()
         for name in ("science", "tyger", "ozymandias")}

# The .tac and the plugins import `fastpoetry`, as PYTHONPATH lets them in the chapter.
if str(DAEMON) not in sys.path:
    sys.path.append(str(DAEMON))
import fastpoetry  # noqa: E402


class Collect(Protocol):
    """A poetry client: collect the bytes, fire `done` with them at the end."""

    def __init__(self) -> None:
        self.received = b""
        self.done: Deferred[bytes] = Deferred()

    def dataReceived(self, data: bytes) -> None:
        self.received += data

    def connectionLost(self, reason) -> None:
        self.done.callback(self.received)


@inlineCallbacks
def get_poem(port: int):
    """Fetch a poem with Twisted, in the test's own reactor."""
    protocol = yield connectProtocol(TCP4ClientEndpoint(reactor, "127.0.0.1", port), Collect())
    poem = yield protocol.done
    return poem


def fetch(port: int, timeout: float = 10) -> bytes:
    """Fetch a poem with a blocking socket, from a server in another process."""
    with socket.create_connection(("127.0.0.1", port), timeout) as sock:
        received = b""
        while data := sock.recv(65536):
            received += data
    return received


def capture_log(test) -> list[str]:
    """Collect the text of every log event until the test ends."""
    lines: list[str] = []

    def observer(event):
        lines.append(formatEvent(event))

    globalLogPublisher.addObserver(observer)
    test.addCleanup(globalLogPublisher.removeObserver, observer)
    return lines


class PoetryServiceTests(unittest.TestCase):
    """The service on a real port 0, in trial's reactor."""

    @inlineCallbacks
    def test_start_listens_and_logs_the_address_stop_closes_the_port(self):
        log = capture_log(self)
        poetry = fastpoetry.PoetryService(CODE / "poetry" / "science.txt")
        self.assertFalse(poetry.running)
        poetry.startService()
        self.addCleanup(poetry.stopService)
        self.assertTrue(poetry.running)
        address = poetry.listening.getHost()
        self.assertEqual(address.host, "127.0.0.1")
        self.assertIn(f"Serving {CODE / 'poetry' / 'science.txt'} on 127.0.0.1:{address.port}.",
                      log)
        poem = yield get_poem(address.port)
        self.assertEqual(poem, POEMS["science"])
        self.assertIn("Connection 1 from 127.0.0.1.", log)

        stopped = poetry.stopService()
        self.assertIsInstance(stopped, Deferred)
        yield stopped
        self.assertFalse(poetry.running)
        self.assertIsNone(poetry.listening)
        with self.assertRaises(ConnectionRefusedError):
            yield get_poem(address.port)

    def test_a_missing_poem_stops_the_start(self):
        poetry = fastpoetry.PoetryService(CODE / "poetry" / "no-such-poem.txt")
        self.assertRaises(FileNotFoundError, poetry.startService)
        self.assertFalse(poetry.running)
        self.assertIsNone(poetry.listening)
        self.assertIsNone(poetry.stopService())  # nothing to stop

    @inlineCallbacks
    def test_started_and_stopped_by_its_parent(self):
        application = service.Application("fastpoetry")
        poetry = fastpoetry.PoetryService(CODE / "poetry" / "tyger.txt")
        poetry.setName("poetry")
        poetry.setServiceParent(application)
        top = service.IServiceCollection(application)
        self.assertIs(top.getServiceNamed("poetry"), poetry)
        self.assertEqual(service.IService(application).name, "fastpoetry")
        service.IService(application).startService()
        self.assertTrue(poetry.running)
        poem = yield get_poem(poetry.listening.getHost().port)
        self.assertEqual(poem, POEMS["tyger"])
        yield service.IService(application).stopService()
        self.assertFalse(poetry.running)
        self.assertIsNone(poetry.listening)


class ReadyMadeServiceTests(unittest.TestCase):
    @inlineCallbacks
    def test_its_port_logs_the_number_the_system_picked(self):
        """strports.service() on port 0: the log names the real port, not 0."""
        lines = capture_log(self)
        factory = fastpoetry.PoetryFactory(POEMS["tyger"])
        listening = strports.service("tcp:0:interface=127.0.0.1", factory)
        listening.startService()
        [line] = [line for line in lines if " starting on " in line]
        port = int(line.rpartition(" ")[2])
        self.assertEqual(line, f"PoetryFactory starting on {port}")
        self.assertNotEqual(port, 0)
        poem = yield get_poem(port)
        self.assertEqual(poem, POEMS["tyger"])
        yield listening.stopService()


class ShutdownTests(unittest.TestCase):
    """The protocol logs a client that leaves, and nothing while the reactor stops."""

    def connection(self):
        factory = fastpoetry.PoetryFactory(POEMS["science"])
        protocol = factory.buildProtocol(None)
        protocol.makeConnection(StringTransport(peerAddress=ADDRESS))
        return protocol

    def test_a_client_that_leaves_is_logged(self):
        self.patch(reactor, "running", True)  # as while the server serves
        log = capture_log(self)
        self.connection().connectionLost(Failure(ConnectionLost()))
        self.assertEqual(log[-1], "Connection 1: lost: Connection to the other side"
                                  " was lost in a non-clean fashion.")

    def test_nothing_is_logged_while_the_reactor_stops(self):
        self.assertFalse(reactor.running)  # trial runs this test with its reactor stopped
        protocol = self.connection()
        log = capture_log(self)
        protocol.connectionLost(Failure(ConnectionLost()))
        self.assertEqual(log, [])


class TacTests(unittest.TestCase):
    """The .tac, loaded as twistd loads it."""

    def load(self, **variables: str):
        env = {k: v for k, v in os.environ.items() if not k.startswith("POETRY_")}
        self.patch(os, "environ", {**env, **variables})
        return service.loadApplication(str(TAC), "python")

    def test_defaults(self):
        application = self.load()
        self.assertEqual(service.IService(application).name, "fastpoetry")
        poetry = service.IServiceCollection(application).getServiceNamed("poetry")
        self.assertIsInstance(poetry, fastpoetry.PoetryService)
        self.assertEqual((poetry.poem, poetry.port, poetry.iface), (SCIENCE, 0, "127.0.0.1"))
        self.assertFalse(poetry.running)  # loading starts nothing

    def test_settings_from_the_environment(self):
        application = self.load(POETRY_FILE="code/poetry/tyger.txt", POETRY_PORT="10001")
        poetry = service.IServiceCollection(application).getServiceNamed("poetry")
        self.assertEqual((poetry.poem, poetry.port), (Path("code/poetry/tyger.txt"), 10001))


class PluginTests(unittest.TestCase):
    """The plugin's options and makeService, without twistd."""

    def setUp(self):
        self.plugin = load_program(PLUGIN)

    def parse(self, *args: str):
        options = self.plugin.Options()
        options.parseOptions(list(args))
        return options

    def test_the_same_command_line_as_chapter_10(self):
        options = self.parse("--port", "10001", "code/poetry/science.txt")
        self.assertEqual(options["port"], 10001)
        self.assertEqual(options["iface"], "127.0.0.1")
        self.assertEqual(options["poem"], SCIENCE)
        self.assertEqual(self.parse("code/poetry/science.txt")["port"], 0)

    def test_usage_errors(self):
        for args in ([], ["a.txt", "b.txt"], ["--port", "ten", "a.txt"]):
            self.assertRaises(usage.UsageError, self.parse, *args)

    def test_an_impossible_port_is_a_usage_error(self):
        for port in ("99999", "-1", "65536"):
            error = self.assertRaises(usage.UsageError, self.parse, "--port", port, "a.txt")
            self.assertEqual(str(error), "Parameter type enforcement failed:"
                                         f" not a port number from 0 to 65535: '{port}'")
        self.assertEqual(self.parse("--port", "65535", "a.txt")["port"], 65535)

    def test_make_service(self):
        maker = self.plugin.serviceMaker
        self.assertTrue(verifyObject(IServiceMaker, maker))
        self.assertTrue(IPlugin.providedBy(maker))
        self.assertEqual(maker.tapname, "fastpoetry")
        options = self.parse("--port", "10002", "--iface", "127.0.0.2", "code/poetry/tyger.txt")
        poetry = maker.makeService(options)
        self.assertIsInstance(poetry, fastpoetry.PoetryService)
        self.assertEqual(poetry.name, "poetry")
        self.assertEqual((poetry.poem, poetry.port, poetry.iface),
                         (Path("code/poetry/tyger.txt"), 10002, "127.0.0.2"))
        self.assertFalse(poetry.running)


# -- twistd itself, as a process ---------------------------------------------


def twistd(*args: str, path: Path | str = DAEMON, extra_env: dict[str, str] | None = None,
           **popen) -> subprocess.Popen:
    """Run twistd from the repository's top folder, with `path` on PYTHONPATH."""
    env = {**environment(), "PYTHONPATH": str(path), **(extra_env or {})}
    return subprocess.Popen([TWISTD, *args], cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, **popen)


def wait_until(condition, timeout: float = 10, what: str = "the condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


class TwistdTests(unittest.TestCase):
    """The .tac and the plugin run by twistd: foreground, daemon, errors."""

    def setUp(self):
        self.folder = Path(self.mktemp()).resolve()
        self.folder.mkdir()
        self.pidfile = self.folder / "twistd.pid"
        self.logfile = self.folder / "twistd.log"
        self.addCleanup(self.kill_daemon)

    def kill_daemon(self):
        """Whatever happened, leave no daemon behind."""
        try:
            pid = int(self.pidfile.read_text())
        except (OSError, ValueError):
            return
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def log(self) -> str:
        return self.logfile.read_text() if self.logfile.exists() else ""

    def port_in_log(self) -> int:
        wait_until(lambda: "Serving" in self.log(), what="the address in the log")
        return int(re.search(r"127\.0\.0\.1:(\d+)", self.log()).group(1))

    def start_daemon(self, *args: str, path: Path = DAEMON, env: dict | None = None):
        process = twistd("--pidfile", str(self.pidfile), "--logfile", str(self.logfile),
                         *args, path=path)
        out, err = process.communicate(timeout=20)
        return process.returncode, out, err

    def stop_daemon(self) -> list[str]:
        """SIGTERM, as `kill $(cat twistd.pid)`; return the log's messages.

        A client sees the end of the poem as soon as the server closes the
        connection, a moment before the server logs that it did: wait for
        that line first, or it could come after "Received SIGTERM".
        """
        wait_until(lambda: ": sent " in self.log().splitlines()[-1], what="the last send")
        os.kill(int(self.pidfile.read_text()), signal.SIGTERM)
        wait_until(lambda: not self.pidfile.exists() and "Server Shut Down." in self.log(),
                   what="the daemon to stop and remove its pid file")
        return [line.split(" ", 2)[2] for line in self.log().splitlines()]

    def test_the_tac_as_a_daemon(self):
        status, out, err = self.start_daemon("-y", str(TAC.relative_to(ROOT)))
        # twistd's first process returns once the daemon has started its services.
        self.assertEqual((status, out, err), (0, "", ""))
        pid = int(self.pidfile.read_text())
        os.kill(pid, 0)  # it is running
        port = self.port_in_log()
        self.assertEqual(fetch(port), POEMS["science"])
        messages = self.stop_daemon()
        self.assertNotIn("Traceback", self.log())
        self.assertEqual(messages[:2], ["Loading code/twisted-server-daemon/fastpoetry.tac...",
                                        "Loaded."])
        self.assertEqual(messages[4:], [
            f"PoetryFactory starting on {port}",
            f"Serving code/poetry/science.txt on 127.0.0.1:{port}.",
            "Connection 1 from 127.0.0.1.",
            "Connection 1: sent 673 bytes.",
            "Received SIGTERM, shutting down.",
            f"(TCP Port {port} Closed)",
            "Main loop terminated.",
            "Server Shut Down.",
        ])

    def test_the_plugin_as_a_daemon(self):
        status, out, err = self.start_daemon("fastpoetry", "code/poetry/ozymandias.txt")
        self.assertEqual((status, out, err), (0, "", ""))
        port = self.port_in_log()
        self.assertEqual(fetch(port), POEMS["ozymandias"])
        self.assertEqual(fetch(port), POEMS["ozymandias"])
        messages = self.stop_daemon()
        self.assertIn("Connection 2: sent 676 bytes.", messages)
        self.assertNotIn("Traceback", self.log())

    def test_a_daemon_that_cannot_start_says_so(self):
        status, out, err = self.start_daemon("fastpoetry", "code/poetry/no-such-poem.txt")
        self.assertEqual((status, out), (1, ""))
        self.assertEqual(err.splitlines(), [
            "An error has occurred: b\"FileNotFoundError: [Errno 2] No such file or directory:"
            " 'code/poetry/no-such-poem.txt'\"",
            "Please look at log file for more information.",
        ])
        # The first process reports as soon as the daemon says it failed; the
        # daemon then removes its pid file and logs the traceback.
        wait_until(lambda: not self.pidfile.exists(), what="the pid file to go")
        wait_until(lambda: "FileNotFoundError" in self.log(), what="the traceback in the log")

    def test_the_plugin_in_the_foreground_stops_on_ctrl_c(self):
        process = twistd("-n", "-l", "-", "--pidfile", str(self.pidfile),
                         "fastpoetry", "code/poetry/science.txt")
        self.addCleanup(lambda: process.poll() is None and os.killpg(process.pid, 9))
        lines = []
        while "Serving" not in (line := process.stdout.readline()):
            self.assertTrue(line, f"no address in: {lines}")
            lines.append(line)
        port = int(re.search(r"127\.0\.0\.1:(\d+)", line).group(1))
        self.assertEqual(fetch(port), POEMS["science"])
        self.assertTrue(self.pidfile.exists())  # -n writes a pid file too
        while "Connection 1: sent" not in (line := process.stdout.readline()):
            self.assertTrue(line, "the connection was never logged")
        os.killpg(process.pid, signal.SIGINT)
        out, err = process.communicate(timeout=10)
        # twistd stops cleanly, then ends itself with the signal it got, as
        # a program killed by Ctrl-C would.
        self.assertEqual(process.returncode, -signal.SIGINT)
        self.assertEqual(err, "")
        self.assertNotIn("Traceback", out)
        # Twisted's own "Received SIGINT, shutting down." is not checked: on a
        # loaded machine, with the log on a pipe, twistd lost that one line in
        # about one run of fifty (the lines after it were all there).
        self.assertTrue(out.endswith("Server Shut Down.\n"), out)
        self.assertFalse(self.pidfile.exists())

    def test_an_impossible_port_is_refused_with_the_usage(self):
        for port in ("99999", "-1"):
            process = twistd("-n", "--pidfile", str(self.pidfile), "fastpoetry", "--port", port,
                             "code/poetry/science.txt")
            out, err = process.communicate(timeout=20)
            # twistd prints the usage and the error on standard output, and exits with 1.
            self.assertEqual((process.returncode, err), (1, ""))
            self.assertNotIn("Traceback", out)
            lines = out.splitlines()
            self.assertEqual(lines[0], "Usage: twistd [options]")
            self.assertIn("      --port=    Port to listen on; 0 lets the system pick one."
                          " [default: 0]", lines)
            self.assertEqual(lines[-1], f"{TWISTD} -n: Parameter type enforcement failed:"
                                        f" not a port number from 0 to 65535: '{port}'")
            self.assertFalse(self.pidfile.exists())  # it never started

    def test_an_impossible_port_in_the_tac_is_one_line(self):
        for port in ("99999", "-1", "http"):
            process = twistd("-n", "--pidfile", str(self.pidfile), "-y", str(TAC),
                             extra_env={"POETRY_PORT": port})
            out, err = process.communicate(timeout=20)
            self.assertEqual((process.returncode, out), (1, ""))
            self.assertEqual(err, f"POETRY_PORT: not a port number from 0 to 65535: '{port}'\n")
            self.assertFalse(self.pidfile.exists())  # it never started

    def test_stopping_with_a_client_connected_logs_nothing_about_it(self):
        big = Path(self.mktemp()).resolve()
        big.write_bytes(b"So much depends upon a red wheel barrow.\n" * 200_000)
        process = twistd("-n", "-l", str(self.logfile), "--pidfile", str(self.pidfile),
                         "fastpoetry", str(big))
        self.addCleanup(lambda: process.poll() is None and os.killpg(process.pid, 9))
        stalled = socket.create_connection(("127.0.0.1", self.port_in_log()))  # reads nothing
        self.addCleanup(stalled.close)
        wait_until(lambda: "Connection 1 from 127.0.0.1." in self.log(), what="the connection")
        os.kill(process.pid, signal.SIGTERM)
        out, err = process.communicate(timeout=10)
        self.assertEqual((out, err), ("", ""))
        log = self.log()
        self.assertIn("Received SIGTERM, shutting down.", log)
        self.assertNotIn("Connection 1:", log)  # neither "sent" nor "lost"
        self.assertTrue(log.endswith("Server Shut Down.\n"), log)

    def test_a_rotated_log_is_the_daemons_alone(self):
        """The first log file is made with the shell's umask, its successors with 077."""
        process = twistd("--pidfile", str(self.pidfile), "--logfile", str(self.logfile),
                         "fastpoetry", "code/poetry/science.txt", umask=0o022)
        self.assertEqual(process.communicate(timeout=20), ("", ""))
        self.port_in_log()
        self.assertEqual(self.logfile.stat().st_mode & 0o777, 0o644)
        self.assertEqual(self.pidfile.stat().st_mode & 0o777, 0o600)
        os.kill(int(self.pidfile.read_text()), signal.SIGUSR1)  # rotate the log
        rotated = self.folder / "twistd.log.1"
        wait_until(rotated.exists, what="the log to be rotated")
        self.assertEqual(rotated.stat().st_mode & 0o777, 0o644)  # the old file, renamed
        self.assertEqual(self.logfile.stat().st_mode & 0o777, 0o600)  # the new one

    def test_the_plugin_is_found_on_the_python_path(self):
        process = twistd("--help")
        out, err = process.communicate(timeout=20)
        self.assertEqual((process.returncode, err), (0, ""))
        self.assertRegex(out, r"\n +fastpoetry +A fast poetry server\.\n")
        process = twistd("--help", path=CODE)  # a folder without twisted/plugins
        out, err = process.communicate(timeout=20)
        self.assertNotIn("fastpoetry", out)


class SeveralPoemsTests(unittest.TestCase):
    """Exercise 1: several poems from one twistd, one port and one named service each."""

    def setUp(self):
        self.plugin = load_program(SOLUTION_PLUGIN)

    def parse(self, *args: str):
        options = self.plugin.Options()
        options.parseOptions(list(args))
        return options

    def test_options(self):
        options = self.parse("code/poetry/science.txt", "code/poetry/tyger.txt")
        self.assertEqual(options["poems"], [SCIENCE, Path("code/poetry/tyger.txt")])
        self.assertRaises(usage.UsageError, self.parse)
        self.assertRaises(usage.UsageError, self.parse, "a/science.txt", "b/science.txt")

    @inlineCallbacks
    def test_one_named_service_per_poem(self):
        self.assertTrue(verifyObject(IServiceMaker, self.plugin.serviceMaker))
        options = self.parse(str(CODE / "poetry" / "science.txt"),
                             str(CODE / "poetry" / "tyger.txt"))
        poems = self.plugin.serviceMaker.makeService(options)
        self.assertIsInstance(poems, service.MultiService)
        self.assertEqual([child.name for child in poems], ["science", "tyger"])
        poems.startService()
        self.addCleanup(poems.stopService)
        for name in ("science", "tyger"):
            child = poems.getServiceNamed(name)
            self.assertTrue(child.running)
            poem = yield get_poem(child.listening.getHost().port)
            self.assertEqual(poem, POEMS[name])
        yield poems.stopService()
        self.assertFalse(any(child.running for child in poems))

    def test_the_plugin_in_twistd(self):
        process = twistd("-n", "-l", "-", "--pidfile", "", "poems",
                         "code/poetry/science.txt", "code/poetry/ozymandias.txt",
                         path=f"{DAEMON}{os.pathsep}{SOLUTION}")
        self.addCleanup(lambda: process.poll() is None and os.killpg(process.pid, 9))
        ports = []
        while len(ports) < 2:
            line = process.stdout.readline()
            self.assertTrue(line, "twistd ended before serving both poems")
            if "Serving" in line:
                ports.append(int(re.search(r"127\.0\.0\.1:(\d+)", line).group(1)))
        self.assertEqual([fetch(port) for port in ports],
                         [POEMS["science"], POEMS["ozymandias"]])
        os.killpg(process.pid, signal.SIGINT)
        out, err = process.communicate(timeout=10)
        self.assertEqual(err, "")
        self.assertNotIn("Traceback", out)
        self.assertIn("Server Shut Down.", out)


NOISY_PLUGIN = """\
from twisted.application.service import IServiceMaker, Service
from twisted.plugin import IPlugin
from twisted.python import usage
from zope.interface import implementer

print("importing noisy_plugin")
{imports}

@implementer(IServiceMaker, IPlugin)
class NoisyServiceMaker:
    tapname = "noisy"
    description = "Says so when it is imported."
    options = usage.Options

    def makeService(self, options):
        return Service()


serviceMaker = NoisyServiceMaker()
"""


class PluginLoadingTests(unittest.TestCase):
    """When twistd imports a plugin module: on every run that lists the subcommands."""

    def plugin_folder(self, imports: str = "") -> Path:
        folder = Path(self.mktemp()).resolve()
        (folder / "twisted" / "plugins").mkdir(parents=True)
        (folder / "twisted" / "plugins" / "noisy_plugin.py").write_text(
            NOISY_PLUGIN.format(imports=imports))
        return folder

    def run_twistd(self, folder: Path, *args: str) -> tuple[int, str]:
        process = twistd(*args, path=folder)
        out, err = process.communicate(timeout=20)
        return process.returncode, out + err

    def test_every_help_imports_every_plugin_module(self):
        folder = self.plugin_folder()
        for run in range(3):
            status, out = self.run_twistd(folder, "--help")
            self.assertEqual(status, 0, out)
            self.assertEqual(out.count("importing noisy_plugin\n"), 1, f"run {run}")
            self.assertIn("noisy", out)
            self.assertTrue((folder / "twisted" / "plugins" / "dropin.cache").exists())

    def test_a_run_with_a_subcommand_imports_it_too(self):
        folder = self.plugin_folder()
        self.run_twistd(folder, "--help")  # the cache is up to date from now on
        status, out = self.run_twistd(folder, "noisy", "--help")
        self.assertEqual(status, 0, out)
        self.assertIn("importing noisy_plugin\n", out)

    def test_a_plugin_that_imports_the_reactor_breaks_reactor_when_its_cache_is_old(self):
        folder = self.plugin_folder(imports="from twisted.internet import reactor")
        status, out = self.run_twistd(folder, "--reactor=poll", "--help")
        self.assertEqual(status, 1, out)  # the cache was rebuilt before poll was installed
        self.assertIn("The specified reactor cannot be used, failed with error: "
                      "reactor already installed.", out)
        status, out = self.run_twistd(folder, "--reactor=poll", "--help")
        self.assertEqual(status, 0, out)  # the cache is up to date: the import comes later
