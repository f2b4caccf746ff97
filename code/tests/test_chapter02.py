"""Chapter 2: the blocking server and the two blocking-socket clients."""

import socket
import time

from twisted.trial import unittest

from tests.programs import (
    POEMS,
    Program,
    listener,
    load_program,
    refused_port,
    run,
    unanswered_port,
)

SERVER = "blocking-server/slowpoetry.py"
BLOCKING = "blocking-client/get-poetry.py"
ASYNC = "async-client/get-poetry.py"


def start_server(test, poem="science", *options):
    server = Program(SERVER, "--delay", "0.01", *options, f"code/poetry/{poem}.txt")
    test.addCleanup(server.end)
    return server, server.port()


class ParseAddressTests(unittest.TestCase):
    def test_port_only(self):
        for program in (BLOCKING, ASYNC):
            self.assertEqual(load_program(program).parse_address("10001"),
                             ("127.0.0.1", 10001))

    def test_host_and_port(self):
        parse = load_program(ASYNC).parse_address
        self.assertEqual(parse("example.org:79"), ("example.org", 79))

    def test_not_an_address(self):
        import argparse
        parse = load_program(BLOCKING).parse_address
        self.assertRaises(argparse.ArgumentTypeError, parse, "localhost")


class BlockingServerTests(unittest.TestCase):
    def test_sends_the_whole_poem_then_closes(self):
        server, port = start_server(self, "science", "--num-bytes", "100")
        with socket.create_connection(("127.0.0.1", port)) as sock:
            received = b""
            while data := sock.recv(4096):
                received += data
        self.assertEqual(received, POEMS["science"])

    def test_keeps_serving_after_a_client_hangs_up_early(self):
        server, port = start_server(self, "science", "--num-bytes", "20")
        with socket.create_connection(("127.0.0.1", port)) as sock:
            self.assertEqual(sock.recv(20), POEMS["science"][:20])
        status, out, err = run(BLOCKING, str(port))
        self.assertEqual(status, 0)
        self.assertEqual(out.encode(), POEMS["science"])
        status, log, err = server.stop()
        self.assertIn("Connection 1: the client hung up early.", log)
        self.assertIn("Connection 2: sent 673 bytes.", log)
        self.assertEqual(err, "")

    def test_each_log_line_is_sent_at_once(self):
        """The log reaches a pipe line by line, while the server is still busy."""
        server, port = start_server(self, "science", "--num-bytes", "10")
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.recv(10)
            # The poem takes 68 chunks: the server is still sending it.
            self.assertEqual(server.readline(), "Connection 1 from 127.0.0.1.\n")

    def test_ctrl_c_stops_it_cleanly(self):
        server, port = start_server(self)
        status, out, err = server.stop()
        self.assertEqual((status, err), (0, ""))

    def test_a_missing_poem_is_a_clear_error(self):
        status, out, err = run(SERVER, "code/poetry/no-such-poem.txt")
        self.assertEqual(status, 1)
        self.assertEqual(err.splitlines(), [
            "Cannot read the poem: [Errno 2] No such file or directory:"
            " 'code/poetry/no-such-poem.txt'"])


class ClientTests(unittest.TestCase):
    def test_both_clients_get_poems_in_order(self):
        _, port1 = start_server(self, "science", "--num-bytes", "300")
        _, port2 = start_server(self, "automne", "--num-bytes", "53")
        for client in (BLOCKING, ASYNC):
            status, out, err = run(client, str(port1), str(port2))
            self.assertEqual(status, 0, err)
            expected = POEMS["science"] + b"\n" + POEMS["automne"]
            self.assertEqual(out.encode(), expected)
            self.assertIn("Got 2 of 2 poems in", err)

    def test_a_dead_server_is_one_line_and_a_non_zero_status(self):
        port = refused_port(self)
        for client in (BLOCKING, ASYNC):
            status, out, err = run(client, str(port))
            self.assertEqual(status, 1)
            self.assertEqual(out, "")
            self.assertIn(f"Task 1: cannot get poetry from 127.0.0.1:{port}: Connection refused\n",
                          err)

    def test_a_silent_server_times_out(self):
        _, port = listener(self)
        for client in (BLOCKING, ASYNC):
            status, out, err = run(client, "--timeout", "0.2", str(port))
            self.assertEqual(status, 1)
            self.assertIn(f"Task 1: 127.0.0.1:{port} said nothing for 0.2 seconds\n", err)

    def test_a_connection_that_never_completes_times_out(self):
        port = unanswered_port(self)
        for client in (BLOCKING, ASYNC):
            started = time.monotonic()
            status, out, err = Program(client, "--timeout", "1", str(port)).finish(timeout=5)
            self.assertEqual(status, 1, client)
            self.assertEqual(out, "")
            self.assertIn(f"Task 1: cannot get poetry from 127.0.0.1:{port}:"
                          " no answer within 1 seconds\n", err)
            self.assertGreaterEqual(time.monotonic() - started, 1, client)

    def test_the_async_client_connects_without_blocking(self):
        """A connection that never completes holds up no other download."""
        dead = unanswered_port(self)
        _, live = start_server(self, "science", "--num-bytes", "300")
        status, out, err = run(ASYNC, "--timeout", "2", str(dead), str(live))
        self.assertEqual(status, 1)
        self.assertEqual(out.encode(), POEMS["science"])
        lines = err.splitlines()
        self.assertLess(lines.index("Task 2: finished"),
                        lines.index(f"Task 1: cannot get poetry from 127.0.0.1:{dead}:"
                                    " no answer within 2 seconds"))

    def test_each_server_has_its_own_deadline(self):
        """A silent server times out while another one is still sending."""
        _, silent = listener(self)
        _, slow = start_server(self, "science", "--num-bytes", "50", "--delay", "0.2")
        status, out, err = run(ASYNC, "--timeout", "0.5", str(silent), str(slow))
        self.assertEqual(status, 1)
        self.assertEqual(out.encode(), POEMS["science"])
        lines = err.splitlines()
        self.assertLess(lines.index(f"Task 1: 127.0.0.1:{silent} said nothing for 0.5 seconds"),
                        lines.index("Task 2: finished"))

    def test_an_empty_poem_is_a_failure(self):
        server, port = listener(self)
        for client in (BLOCKING, ASYNC):
            program = Program(client, str(port))
            connection, _ = server.accept()
            connection.close()  # not a single byte
            status, out, err = program.finish()
            self.assertEqual(status, 1, client)
            self.assertEqual(out, "")
            self.assertIn(f"Task 1: cannot get poetry from 127.0.0.1:{port}: the server closed"
                          " the connection without sending a poem\n", err)
            self.assertIn("Got 0 of 1 poems in", err)

    def test_ctrl_c_stops_a_waiting_client_cleanly(self):
        silent, port = listener(self)
        for client in (BLOCKING, ASYNC):
            program = Program(client, str(port))
            connection, _ = silent.accept()  # the client is connected, and waits
            self.addCleanup(connection.close)
            status, out, err = program.stop()
            self.assertEqual(status, 130)
            self.assertNotIn("Traceback", err)

    def test_help_explains_the_arguments(self):
        for client in (BLOCKING, ASYNC):
            status, out, err = run(client, "--help")
            self.assertEqual(status, 0)
            self.assertIn("a poetry server's [host:]port", out)
            self.assertIn("--timeout", out)

    def test_an_address_that_is_not_one(self):
        status, out, err = run(ASYNC, "nowhere")
        self.assertEqual(status, 2)
        self.assertIn("not a [host:]port address: 'nowhere'", err)


class ReadAvailableTests(unittest.TestCase):
    def test_reads_what_is_there_without_waiting(self):
        read_available = load_program(ASYNC).read_available
        ours, theirs = socket.socketpair()
        self.addCleanup(ours.close)
        self.addCleanup(theirs.close)
        ours.setblocking(False)
        self.assertEqual(read_available(ours), (b"", False))
        theirs.sendall(b"Tyger Tyger")
        self.assertEqual(read_available(ours), (b"Tyger Tyger", False))
        theirs.sendall(b", burning bright")
        theirs.close()
        self.assertEqual(read_available(ours), (b", burning bright", True))
