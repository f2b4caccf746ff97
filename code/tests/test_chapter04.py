"""Chapter 4: twisted-client-1, its blocking twin, and the connect-without-blocking solution."""

import io
import select
import sys
import time

from twisted.internet import reactor
from twisted.internet.error import ConnectionDone, ConnectionLost
from twisted.internet.interfaces import IReadDescriptor, IWriteDescriptor
from twisted.internet.main import CONNECTION_DONE
from twisted.python.failure import Failure
from twisted.trial import unittest
from zope.interface.verify import verifyObject

from tests.programs import (
    POEMS,
    Program,
    listener,
    load_program,
    refused_port,
    reset,
    run,
    start_server,
    unanswered_port,
    wait_until_read,
)

CLIENT = "twisted-client-1/get-poetry.py"
BLOCKING = "twisted-client-1/get-poetry-blocking.py"
SOLUTION = "solutions/ch04-connect-without-blocking/get-poetry.py"
NO_POEM = "the server closed the connection without sending a poem"


class PoetrySocketTests(unittest.TestCase):
    """The PoetrySocket of twisted-client-1, driven by hand instead of by the reactor."""

    def setUp(self):
        self.module = load_program(CLIENT)
        self.server, port = listener(self)
        self.results = []
        self.stderr = io.StringIO()
        self.patch(sys, "stderr", self.stderr)
        self.download = self.module.PoetrySocket(
            1, "127.0.0.1", port, 10.0, lambda task, poem: self.results.append((task, poem)))
        self.addCleanup(self.forget)
        self.connection, _ = self.server.accept()
        self.addCleanup(self.connection.close)

    def forget(self):
        """Take the download off the reactor, as connectionLost() or silence() would."""
        if self.download in reactor.getReaders():
            reactor.removeReader(self.download)
        if self.download.timer.active():
            self.download.timer.cancel()
        self.download.sock.close()

    def wait_readable(self):
        ready, _, _ = select.select([self.download.sock], [], [], 5)
        self.assertTrue(ready, "the socket never became readable")

    def test_provides_the_interfaces_it_claims(self):
        self.assertTrue(verifyObject(IReadDescriptor, self.download))

    def test_registers_with_the_reactor(self):
        self.assertIn(self.download, reactor.getReaders())
        self.assertEqual(self.download.fileno(), self.download.sock.fileno())
        self.assertEqual(self.download.logPrefix(), "Task 1")

    def test_do_read_reads_what_is_there_and_keeps_watching(self):
        self.connection.sendall(b"Tyger Tyger, ")
        self.wait_readable()
        self.assertIsNone(self.download.doRead())
        self.assertEqual(self.download.chunks, [b"Tyger Tyger, "])
        self.assertEqual(self.stderr.getvalue(),
                         f"Task 1: got 13 bytes of poetry from {self.download.address}\n")

    def test_do_read_says_connection_done_when_the_server_closes(self):
        self.connection.sendall(b"burning bright")
        self.connection.close()
        self.wait_readable()
        self.assertIs(self.download.doRead(), CONNECTION_DONE)
        self.assertEqual(self.download.chunks, [b"burning bright"])

    def test_do_read_returns_a_failure_when_the_connection_breaks(self):
        self.connection.sendall(b"In the forests")
        self.wait_readable()
        self.download.doRead()
        reset(self.connection)
        self.wait_readable()
        failure = self.download.doRead()
        self.assertIsInstance(failure, Failure)
        self.assertTrue(failure.check(ConnectionResetError))

    def test_the_server_speaking_restarts_the_timer(self):
        due = self.download.timer.getTime()
        time.sleep(0.05)
        self.connection.sendall(b"x")
        self.wait_readable()
        self.download.doRead()
        self.assertGreater(self.download.timer.getTime(), due)

    def test_connection_done_hands_back_the_poem(self):
        reactor.removeReader(self.download)  # as the reactor does before connectionLost()
        self.download.chunks = [b"Tyger Tyger, ", b"burning bright"]
        self.patch(reactor, "running", True)
        self.download.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(self.results, [(1, b"Tyger Tyger, burning bright")])
        self.assertEqual(self.stderr.getvalue(), "Task 1: finished\n")
        self.assertEqual(self.download.fileno(), -1)
        self.assertFalse(self.download.timer.active())

    def test_an_empty_poem_hands_back_nothing(self):
        reactor.removeReader(self.download)
        self.patch(reactor, "running", True)
        self.download.connectionLost(Failure(ConnectionDone()))  # and not a byte before it
        self.assertEqual(self.results, [(1, None)])
        self.assertEqual(self.stderr.getvalue(),
                         f"Task 1: cannot get poetry from {self.download.address}: {NO_POEM}\n")

    def test_a_lost_connection_hands_back_nothing(self):
        reactor.removeReader(self.download)
        self.patch(reactor, "running", True)
        self.download.connectionLost(Failure(ConnectionResetError(104, "Connection reset")))
        self.assertEqual(self.results, [(1, None)])
        self.assertEqual(self.stderr.getvalue(), f"Task 1: lost {self.download.address}: "
                                                 "[Errno 104] Connection reset\n")

    def test_a_reactor_shutting_down_is_not_reported(self):
        reactor.removeReader(self.download)
        self.patch(reactor, "running", False)  # as when Ctrl-C stops the reactor
        self.download.connectionLost(Failure(ConnectionLost()))
        self.assertEqual((self.results, self.stderr.getvalue()), ([], ""))
        self.assertEqual(self.download.fileno(), -1)

    def test_silence_gives_up(self):
        self.download.timer.cancel()
        self.download.silence()
        self.assertEqual(self.results, [(1, None)])
        self.assertNotIn(self.download, reactor.getReaders())
        self.assertEqual(self.stderr.getvalue(),
                         f"Task 1: {self.download.address} said nothing for 10 seconds\n")


class ClientTests(unittest.TestCase):
    """The programs, run as processes against real servers."""

    def test_gets_the_poems_in_task_order(self):
        ports = [start_server(self, "science"), start_server(self, "automne")]
        status, out, err = run(CLIENT, *map(str, ports))
        self.assertEqual(status, 0, err)
        self.assertEqual(out.encode(), POEMS["science"] + b"\n" + POEMS["automne"])
        self.assertIn(f"Task 1: got 200 bytes of poetry from 127.0.0.1:{ports[0]}\n", err)
        self.assertIn("Task 2: finished\n", err)
        self.assertIn("Got 2 of 2 poems in", err)

    def test_a_dead_server_is_one_line_and_status_1(self):
        live, dead = start_server(self), refused_port(self)
        status, out, err = run(CLIENT, str(live), str(dead))
        self.assertEqual(status, 1)
        self.assertEqual(out.encode(), POEMS["science"])
        self.assertIn(f"Task 2: cannot get poetry from 127.0.0.1:{dead}: Connection refused\n", err)
        self.assertIn("Got 1 of 2 poems in", err)
        self.assertNotIn("Traceback", err)

    def test_nobody_listening_anywhere(self):
        dead = refused_port(self)
        status, out, err = run(CLIENT, str(dead))
        self.assertEqual(status, 1)
        self.assertTrue(err.startswith(f"Task 1: cannot get poetry from 127.0.0.1:{dead}: "))
        self.assertIn("Got 0 of 1 poems in", err)

    def test_a_silent_server_times_out(self):
        _, silent = listener(self)
        live = start_server(self)
        status, out, err = run(CLIENT, "--timeout", "0.3", str(silent), str(live))
        self.assertEqual(status, 1)
        self.assertEqual(out.encode(), POEMS["science"])
        self.assertIn(f"Task 1: 127.0.0.1:{silent} said nothing for 0.3 seconds\n", err)

    def test_an_empty_poem_is_a_failure(self):
        for program in (CLIENT, BLOCKING, SOLUTION):
            server, port = listener(self)
            client = Program(program, str(port))
            connection, _ = server.accept()
            connection.close()  # not a byte
            status, out, err = client.finish()
            self.assertEqual((status, out), (1, ""), program)
            self.assertEqual(err.splitlines()[0],
                             f"Task 1: cannot get poetry from 127.0.0.1:{port}: {NO_POEM}", program)
            self.assertIn("Got 0 of 1 poems in", err)

    def test_a_reset_connection_is_reported(self):
        server, port = listener(self)
        program = Program(CLIENT, str(port))
        connection, _ = server.accept()
        connection.sendall(b"Tyger Tyger")
        wait_until_read(connection)
        reset(connection)
        status, out, err = program.finish()
        self.assertEqual(status, 1)
        self.assertIn(f"Task 1: lost 127.0.0.1:{port}: [Errno 104] Connection reset by peer\n",
                      err)

    def test_ctrl_c_stops_it_quietly(self):
        port = start_server(self, "science", "--delay", "1")
        program = Program(CLIENT, str(port))
        self.addCleanup(program.end)
        first = program.readline("stderr")  # the reactor is running
        status, out, err = program.stop()
        self.assertEqual((status, out, err), (130, "", ""))
        self.assertEqual(first, f"Task 1: got 200 bytes of poetry from 127.0.0.1:{port}\n")

    def test_help(self):
        for program in (CLIENT, BLOCKING, SOLUTION):
            status, out, err = run(program, "--help")
            self.assertEqual((status, err), (0, ""))
            self.assertIn("a poetry server's [host:]port", out)
            self.assertIn("--timeout", out)


class BlockingTests(unittest.TestCase):
    """What the blocking doRead of get-poetry-blocking.py does to everybody."""

    def test_each_poem_is_read_in_one_go(self):
        ports = [start_server(self, name) for name in ("science", "ozymandias")]
        status, out, err = run(BLOCKING, *map(str, ports))
        self.assertEqual(status, 0, err)
        self.assertEqual(out.encode(), POEMS["science"] + b"\n" + POEMS["ozymandias"])
        got = [line for line in err.splitlines() if " got " in line]
        self.assertEqual(sorted(got), [
            f"Task 1: got 673 bytes of poetry from 127.0.0.1:{ports[0]}",
            f"Task 2: got 676 bytes of poetry from 127.0.0.1:{ports[1]}",
        ])

    def test_a_blocked_reactor_cannot_run_its_timer(self):
        port = start_server(self, "science", "--delay", "0.5", "--num-bytes", "400")
        started = time.monotonic()
        status, out, err = run(BLOCKING, "--timeout", "0.2", str(port))
        elapsed = time.monotonic() - started
        self.assertEqual(status, 0, err)
        self.assertNotIn("said nothing", err)
        self.assertGreater(elapsed, 0.9)

    def test_ctrl_c_while_blocked_in_do_read(self):
        """Ctrl-C's stop waits for doRead(); the client's own stop then comes second, quietly."""
        server, port = listener(self)
        program = Program(BLOCKING, str(port))
        self.addCleanup(program.end)
        connection, (_, client_port) = server.accept()
        self.addCleanup(connection.close)
        half = len(POEMS["tyger"]) // 2
        connection.sendall(POEMS["tyger"][:half])
        wait_until_read(connection)  # the reactor is running, and doRead() waits for more
        program.interrupt()  # Ctrl-C: the reactor can only take note, and stop later
        connection.sendall(POEMS["tyger"][half:])
        connection.close()  # the poem is whole: doRead() returns, and the client stops too
        status, out, err = program.finish()
        self.assertNotIn("ReactorNotRunning", err)
        self.assertNotIn("Traceback", err)
        self.assertEqual((status, out.encode()), (0, POEMS["tyger"]), err)
        self.assertEqual(err.splitlines()[:2], [
            f"Task 1: got {len(POEMS['tyger'])} bytes of poetry from 127.0.0.1:{port}",
            "Task 1: finished",
        ])

    def test_the_non_blocking_client_keeps_its_timeout(self):
        port = start_server(self, "science", "--delay", "0.5", "--num-bytes", "400")
        status, out, err = run(CLIENT, "--timeout", "0.2", str(port))
        self.assertEqual(status, 1)
        self.assertEqual(err.splitlines()[:2], [
            f"Task 1: got 400 bytes of poetry from 127.0.0.1:{port}",
            f"Task 1: 127.0.0.1:{port} said nothing for 0.2 seconds",
        ])


class ConnectWithoutBlockingTests(unittest.TestCase):
    """The solution to exercise 4: connecting through addWriter() and doWrite()."""

    def test_provides_both_interfaces(self):
        module = load_program(SOLUTION)
        _, port = listener(self)
        self.patch(sys, "stderr", io.StringIO())
        download = module.PoetrySocket(1, "127.0.0.1", port, 10.0, lambda task, poem: None)
        self.addCleanup(download.sock.close)
        self.addCleanup(download.timer.cancel)
        self.addCleanup(reactor.removeWriter, download)
        self.assertTrue(verifyObject(IReadDescriptor, download))
        self.assertTrue(verifyObject(IWriteDescriptor, download))
        self.assertIn(download, reactor.getWriters())

    def test_gets_poems(self):
        ports = [start_server(self, "science"), start_server(self, "automne")]
        status, out, err = run(SOLUTION, *map(str, ports))
        self.assertEqual(status, 0, err)
        self.assertEqual(out.encode(), POEMS["science"] + b"\n" + POEMS["automne"])

    def test_a_refused_connection(self):
        dead = refused_port(self)
        status, out, err = run(SOLUTION, str(dead))
        self.assertEqual(status, 1)
        self.assertIn(f"Task 1: cannot get poetry from 127.0.0.1:{dead}: Connection refused\n",
                      err)

    def test_a_connection_that_never_completes_holds_up_nobody(self):
        stuck, live = unanswered_port(self), start_server(self)
        status, out, err = run(SOLUTION, "--timeout", "0.5", str(stuck), str(live))
        self.assertEqual(status, 1)
        self.assertEqual(out.encode(), POEMS["science"])
        self.assertIn(f"Task 1: cannot get poetry from 127.0.0.1:{stuck}: "
                      "no answer within 0.5 seconds\n", err)
        self.assertLess(err.index("Task 2: finished"), err.index("Task 1: cannot get poetry"))
