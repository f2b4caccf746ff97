"""Chapter 5: twisted-client-2, its stack-printing twin, and the retry solution."""

import io
import socket
import sys
import time

from twisted.internet import reactor
from twisted.internet.address import IPv4Address
from twisted.internet.error import (
    ConnectionAborted,
    ConnectionDone,
    ConnectionLost,
    ConnectionRefusedError,
    DNSLookupError,
    TimeoutError,
)
from twisted.internet.interfaces import IProtocol
from twisted.internet.testing import StringTransport
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

CLIENT = "twisted-client-2/get-poetry.py"
STACK = "twisted-client-2/get-poetry-stack.py"
RETRY = "solutions/ch05-retry/get-poetry.py"
SERVER = "blocking-server/slowpoetry.py"
ADDRESS = IPv4Address("TCP", "127.0.0.1", 10001)
NO_POEM = "the server closed the connection without sending a poem"


class ProtocolTests(unittest.TestCase):
    """PoetryProtocol and PoetryClientFactory, on a StringTransport: no sockets."""

    def setUp(self):
        self.module = load_program(CLIENT)
        self.results = []
        self.stderr = io.StringIO()
        self.patch(sys, "stderr", self.stderr)
        self.factory = self.module.PoetryClientFactory(
            3, "127.0.0.1:10001", 10.0, lambda task, poem: self.results.append((task, poem)))
        self.protocol = self.factory.buildProtocol(ADDRESS)
        self.transport = StringTransport()
        self.protocol.makeConnection(self.transport)
        self.addCleanup(self.stop_timer)

    def stop_timer(self):
        if self.protocol.timer.active():
            self.protocol.timer.cancel()

    def lose(self, exception, running=True):
        """Tell the protocol its connection is gone, as the transport would."""
        self.patch(reactor, "running", running)
        self.protocol.connectionLost(Failure(exception))

    def test_the_factory_builds_connected_protocols(self):
        self.assertIsInstance(self.protocol, self.module.PoetryProtocol)
        self.assertIs(self.protocol.factory, self.factory)
        self.assertIs(self.protocol.transport, self.transport)
        self.assertTrue(verifyObject(IProtocol, self.protocol))
        self.assertIsNot(self.factory.buildProtocol(ADDRESS), self.protocol)

    def test_connection_made_starts_the_timer(self):
        self.assertTrue(self.protocol.timer.active())
        self.assertEqual(self.protocol.chunks, [])

    def test_a_poem_one_byte_at_a_time(self):
        poem = POEMS["automne"]  # "cœur": a character in two bytes
        for i in range(len(poem)):
            self.protocol.dataReceived(poem[i:i + 1])
        self.lose(ConnectionDone())
        self.assertEqual(self.results, [(3, poem)])
        self.assertFalse(self.protocol.timer.active())
        lines = self.stderr.getvalue().splitlines()
        self.assertEqual(lines[0], "Task 3: got 1 bytes of poetry from 127.0.0.1:10001")
        self.assertEqual(lines[-1], "Task 3: finished")
        self.assertEqual(len(lines), len(poem) + 1)

    def test_data_restarts_the_timer(self):
        due = self.protocol.timer.getTime()
        time.sleep(0.02)
        self.protocol.dataReceived(b"x")
        self.assertGreater(self.protocol.timer.getTime(), due)

    def test_silence_aborts_the_connection(self):
        self.protocol.silence()
        self.assertTrue(self.transport.disconnected)
        self.lose(ConnectionAborted())
        self.assertEqual(self.results, [(3, None)])
        self.assertEqual(self.stderr.getvalue(),
                         "Task 3: 127.0.0.1:10001 said nothing for 10 seconds\n")

    def test_an_empty_poem_is_no_poem(self):
        self.lose(ConnectionDone())  # a clean close, and not a byte before it
        self.assertEqual(self.results, [(3, None)])
        self.assertEqual(self.stderr.getvalue(),
                         f"Task 3: cannot get poetry from 127.0.0.1:10001: {NO_POEM}\n")

    def test_a_broken_connection_is_no_poem(self):
        self.protocol.dataReceived(b"half a poem")
        self.lose(ConnectionLost())
        self.assertEqual(self.results, [(3, None)])
        self.assertIn("Task 3: lost 127.0.0.1:10001: Connection to the other side was lost "
                      "in a non-clean fashion.\n", self.stderr.getvalue())

    def test_shutting_down_is_not_reported(self):
        self.protocol.dataReceived(b"half a poem")
        self.lose(ConnectionLost(), running=False)
        self.assertEqual(self.results, [])
        self.assertFalse(self.protocol.timer.active())

    def test_a_failed_connection(self):
        self.patch(reactor, "running", True)
        reason = Failure(ConnectionRefusedError(111, "Connection refused"))
        self.factory.clientConnectionFailed(None, reason)
        self.assertEqual(self.results, [(3, None)])
        self.assertEqual(self.stderr.getvalue(),
                         "Task 3: cannot get poetry from 127.0.0.1:10001: Connection refused\n")

    def test_a_connection_that_takes_too_long(self):
        """Twisted's "User timeout caused connection failure." is said in the book's words."""
        self.patch(reactor, "running", True)
        self.factory.clientConnectionFailed(None, Failure(TimeoutError()))
        self.assertEqual(self.results, [(3, None)])
        self.assertEqual(self.stderr.getvalue(), "Task 3: cannot get poetry from 127.0.0.1:10001: "
                                                 "no answer within 10 seconds\n")

    def test_describe_keeps_it_short(self):
        describe = self.module.describe
        self.assertEqual(describe(Failure(ConnectionRefusedError(111, "Connection refused"))),
                         "Connection refused")
        self.assertEqual(describe(Failure(DNSLookupError("nowhere.invalid"))),
                         "DNS lookup failed: nowhere.invalid.")


class ClientTests(unittest.TestCase):
    """twisted-client-2 as a process, against real servers."""

    def test_gets_the_poems_in_task_order(self):
        ports = [start_server(self, name) for name in ("automne", "science", "ozymandias")]
        status, out, err = run(CLIENT, *map(str, ports))
        self.assertEqual(status, 0, err)
        self.assertEqual(out.encode(), b"\n".join(
            POEMS[name] for name in ("automne", "science", "ozymandias")))
        self.assertIn("Got 3 of 3 poems in", err)

    def test_a_dead_server_is_one_line_and_status_1(self):
        live, dead = start_server(self), refused_port(self)
        status, out, err = run(CLIENT, str(dead), str(live))
        self.assertEqual(status, 1)
        self.assertEqual(out.encode(), POEMS["science"])
        self.assertIn(f"Task 1: cannot get poetry from 127.0.0.1:{dead}: Connection refused\n", err)
        self.assertEqual(err.count("cannot get poetry"), 1)
        self.assertNotIn("Traceback", err)

    def test_an_unknown_host(self):
        status, out, err = run(CLIENT, "nowhere.invalid:10001")
        self.assertEqual(status, 1)
        self.assertTrue(err.startswith("Task 1: cannot get poetry from nowhere.invalid:10001: "),
                        err)

    def test_a_silent_server_times_out(self):
        _, silent = listener(self)
        status, out, err = run(CLIENT, "--timeout", "0.3", str(silent))
        self.assertEqual(status, 1)
        self.assertIn(f"Task 1: 127.0.0.1:{silent} said nothing for 0.3 seconds\n", err)

    def test_a_connection_that_is_never_made_times_out(self):
        stuck, live = unanswered_port(self), start_server(self)
        status, out, err = run(CLIENT, "--timeout", "0.5", str(stuck), str(live))
        self.assertEqual(status, 1)
        self.assertEqual(out.encode(), POEMS["science"])
        self.assertIn(f"Task 1: cannot get poetry from 127.0.0.1:{stuck}: "
                      "no answer within 0.5 seconds\n", err)

    def test_an_empty_poem_is_a_failure(self):
        for program in (CLIENT, STACK, RETRY):
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
        self.assertIn(f"Task 1: lost 127.0.0.1:{port}: Connection to the other side was lost "
                      "in a non-clean fashion.\n", err)

    def test_ctrl_c_while_reading(self):
        port = start_server(self, "science", "--delay", "1")
        program = Program(CLIENT, str(port))
        self.addCleanup(program.end)
        first = program.readline("stderr")  # the reactor is running
        status, out, err = program.stop()
        self.assertEqual((status, out, err), (130, "", ""))
        self.assertTrue(first.startswith("Task 1: got 200 bytes"))

    def test_ctrl_c_while_connecting(self):
        stuck, live = unanswered_port(self), start_server(self, "science", "--delay", "1")
        program = Program(CLIENT, str(stuck), str(live))
        self.addCleanup(program.end)
        program.readline("stderr")  # the reactor is running
        status, out, err = program.stop()
        self.assertEqual((status, out, err), (130, "", ""))

    def test_help(self):
        for program in (CLIENT, STACK, RETRY):
            status, out, err = run(program, "--help")
            self.assertEqual((status, err), (0, ""))
            self.assertIn("a poetry server's [host:]port", out)
            self.assertIn("--timeout", out)


class StackTests(unittest.TestCase):
    def test_prints_who_calls_data_received_once(self):
        port = start_server(self, "science", "--num-bytes", "100")
        status, out, err = run(STACK, str(port))
        self.assertEqual(status, 0, err)
        lines = err.splitlines()
        calls = lines[:lines.index("__main__.PoetryProtocol.dataReceived") + 1]
        self.assertEqual(calls[:4], [
            "__main__.<module>",
            "__main__.main",
            "twisted.internet.base.ReactorBase.run",
            "twisted.internet.base.ReactorBase.mainLoop",
        ])
        self.assertEqual(calls[-3:], [
            "twisted.internet.tcp.Connection.doRead",
            "twisted.internet.tcp.Connection._dataReceived",
            "__main__.PoetryProtocol.dataReceived",
        ])
        self.assertEqual(err.count("__main__.main"), 1)
        self.assertEqual(out.encode(), POEMS["science"])


class RetryTests(unittest.TestCase):
    """The solution to exercise 1: connector.connect() from clientConnectionFailed()."""

    def test_gives_up_after_the_retries(self):
        dead = refused_port(self)
        status, out, err = run(RETRY, "--retries", "2", "--retry-delay", "0.1", str(dead))
        self.assertEqual(status, 1)
        self.assertEqual(err.splitlines()[:3], [
            f"Task 1: cannot connect to 127.0.0.1:{dead}: Connection refused; "
            "trying again in 0.1 seconds",
            f"Task 1: cannot connect to 127.0.0.1:{dead}: Connection refused; "
            "trying again in 0.1 seconds",
            f"Task 1: cannot get poetry from 127.0.0.1:{dead}: Connection refused",
        ])

    def test_a_connection_that_is_never_made_is_tried_again(self):
        stuck = unanswered_port(self)
        status, out, err = run(RETRY, "--timeout", "0.2", "--retries", "1", "--retry-delay", "0",
                               str(stuck))
        self.assertEqual((status, out), (1, ""))
        self.assertEqual(err.splitlines()[:2], [
            f"Task 1: cannot connect to 127.0.0.1:{stuck}: no answer within 0.2 seconds; "
            "trying again in 0 seconds",
            f"Task 1: cannot get poetry from 127.0.0.1:{stuck}: no answer within 0.2 seconds",
        ])

    def test_gets_the_poem_from_a_server_that_starts_late(self):
        placeholder = socket.socket()
        placeholder.bind(("127.0.0.1", 0))
        port = placeholder.getsockname()[1]
        client = Program(RETRY, "--retries", "20", "--retry-delay", "0.2", str(port))
        self.addCleanup(client.end)
        self.assertIn("trying again", client.readline("stderr"))
        placeholder.close()
        server = Program(SERVER, "--port", str(port), "--delay", "0.01",
                         "code/poetry/science.txt")
        self.addCleanup(server.end)
        status, out, err = client.finish()
        self.assertEqual(status, 0, err)
        self.assertEqual(out.encode(), POEMS["science"])
