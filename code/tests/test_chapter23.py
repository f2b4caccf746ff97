"""Chapter 23: the poetry web site, its slow twin, and the treq and Agent clients."""

import http.client
import io
import socket
import sys
import time

from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.protocol import ClientCreator, Protocol
from twisted.internet.task import deferLater
from twisted.trial import unittest

from tests.programs import (
    POEMS,
    Program,
    listener,
    load_program,
    refused_port,
    run,
    wait_for_the_reactor,
)

SITE = "http/poetry-site.py"
SLOW_SITE = "http/slow-poetry-site.py"
CLIENT = "http/get-poems.py"
AGENT = "http/agent-get.py"
ALL_POEMS = sorted(f"code/poetry/{name}.txt" for name in POEMS)


def start(test, program: str, *args: str) -> tuple[Program, int]:
    server = Program(program, *args)
    test.addCleanup(server.end)
    return server, server.port()


def ask(port: int, method: str, path: str) -> tuple[int, dict[str, str], bytes]:
    """One request with http.client, the path sent as it is; (status, headers, body)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        connection.endheaders()
        response = connection.getresponse()
        body = response.read()
        return response.status, dict(response.getheaders()), body
    finally:
        connection.close()


def raw(port: int, request: bytes) -> bytes:
    """Send bytes, read until the server closes the connection."""
    with socket.create_connection(("127.0.0.1", port), 10) as sock:
        sock.sendall(request)
        received = b""
        while data := sock.recv(65536):
            received += data
    return received


class SiteTests(unittest.TestCase):
    """poetry-site.py as a process, asked over HTTP."""

    def setUp(self):
        self.server, self.port = start(self, SITE, *ALL_POEMS)

    def test_a_poem_is_plain_text_with_its_length(self):
        status, headers, body = ask(self.port, "GET", "/science")
        self.assertEqual((status, body), (200, POEMS["science"]))
        self.assertEqual(headers["Content-Type"], "text/plain; charset=utf-8")
        self.assertEqual(headers["Content-Length"], str(len(POEMS["science"])))
        self.assertEqual(self.server.readline(), "127.0.0.1 GET /science: 200, 673 bytes\n")

    def test_the_index_links_every_poem(self):
        status, headers, body = ask(self.port, "GET", "/")
        self.assertEqual(status, 200)
        self.assertEqual(headers["Content-Type"], "text/html; charset=utf-8")
        self.assertEqual(headers["Content-Length"], str(len(body)))
        for name in POEMS:
            self.assertIn(f'<a href="{name}">'.encode(), body)
        self.assertIn(b"Chanson d&#x27;automne", body)  # escaped

    def test_head_has_the_headers_and_no_body(self):
        answer = raw(self.port, b"HEAD /tyger HTTP/1.0\r\n\r\n")
        head, _, body = answer.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.0 200 OK\r\n"))
        self.assertIn(b"\r\nContent-Length: 813", head + b"\r\n")
        self.assertEqual(body, b"")

    def test_unknown_paths_are_404(self):
        for path in ("/nosuch", "/science/x", "/../etc/passwd", "/%2e%2e/etc/passwd",
                     "//", "/science/", "/tyger?x=1/../.."):
            with self.subTest(path=path):
                status, headers, body = ask(self.port, "GET", path)
                if path.startswith("/tyger?"):  # the query is not part of the path
                    self.assertEqual(status, 200)
                    continue
                self.assertEqual(status, 404)
                self.assertIn(b"No such poem", body)
                self.assertNotIn(b"root:", body)

    def test_garbage_and_absurd_requests_and_the_server_goes_on(self):
        self.assertTrue(raw(self.port, b"\x00\xffhello there\r\n\r\n")
                        .startswith(b"HTTP/1.1 400 Bad Request"))
        too_long = b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
        self.assertEqual(raw(self.port, too_long), b"")  # closed, no answer
        long_path = "/" + "a" * 5000
        self.assertEqual(ask(self.port, "GET", long_path)[0], 404)
        self.assertEqual(ask(self.port, "GET", "/science")[2], POEMS["science"])
        lines = [self.server.readline() for _ in range(2)]
        self.assertEqual(lines[0], "127.0.0.1 GET /" + "a" * 56 + "...: 404, 149 bytes\n")
        self.assertEqual(lines[1], "127.0.0.1 GET /science: 200, 673 bytes\n")

    def test_ctrl_c_is_quiet(self):
        ask(self.port, "GET", "/")
        wait_for_the_reactor(self.server)
        self.server.interrupt()
        status, out, err = self.server.finish()
        self.assertEqual((status, out, err), (0, "127.0.0.1 GET /: 200, 289 bytes\n", ""))


class BadPoemTests(unittest.TestCase):
    def test_a_missing_poem(self):
        status, out, err = run(SITE, "code/poetry/science.txt", "code/poetry/missing.txt")
        self.assertEqual(status, 1)
        self.assertEqual(err, "Cannot read the poem code/poetry/missing.txt: [Errno 2]"
                         " No such file or directory: 'code/poetry/missing.txt'\n")

    def test_an_empty_poem(self):
        status, _, err = run(SITE, "/dev/null")
        self.assertEqual((status, err),
                         (1, "Cannot serve /dev/null: an empty poem is no poem\n"))


class SlowSiteTests(unittest.TestCase):
    def test_the_poem_comes_in_chunks_and_whole(self):
        server, port = start(self, SLOW_SITE, "--delay", "0.1", "--num-bytes", "300",
                             *ALL_POEMS)
        started = time.monotonic()
        status, headers, body = ask(port, "GET", "/tyger")
        self.assertGreater(time.monotonic() - started, 0.2)  # two pauses: 300+300+213
        self.assertEqual((status, body), (200, POEMS["tyger"]))
        self.assertEqual(headers["Content-Length"], "813")
        self.assertNotIn("Transfer-Encoding", headers)
        self.assertEqual(server.readline(), "127.0.0.1 GET /tyger: 200, 813 bytes\n")

    def test_head_does_not_wait_for_a_recitation(self):
        server, port = start(self, SLOW_SITE, "--delay", "30", *ALL_POEMS)
        started = time.monotonic()
        status, headers, body = ask(port, "HEAD", "/tyger")
        self.assertLess(time.monotonic() - started, 5)
        self.assertEqual((status, headers["Content-Length"], body), (200, "813", b""))

    def test_a_client_that_leaves_is_logged_and_others_are_served(self):
        server, port = start(self, SLOW_SITE, "--delay", "30", "--num-bytes", "100",
                             *ALL_POEMS)
        with socket.create_connection(("127.0.0.1", port), 10) as sock:
            sock.sendall(b"GET /tyger HTTP/1.1\r\nHost: x\r\n\r\n")
            received = b""
            while not received.endswith(POEMS["tyger"][:100]):
                received += sock.recv(65536)
        self.assertEqual(server.readline(), "127.0.0.1 GET /tyger: the client left"
                         " after 100 of 813 bytes\n")
        self.assertEqual(ask(port, "HEAD", "/science")[0], 200)

    def test_ctrl_c_mid_poem_is_quiet(self):
        server, port = start(self, SLOW_SITE, "--delay", "30", *ALL_POEMS)
        with socket.create_connection(("127.0.0.1", port), 10) as sock:
            sock.sendall(b"GET /tyger HTTP/1.1\r\nHost: x\r\n\r\n")
            sock.recv(65536)
            wait_for_the_reactor(server)
            server.interrupt()
            self.assertEqual(server.finish(), (0, "", ""))


class LeavingClient(Protocol):
    """Asks for a poem, and hangs up as soon as the first bytes of it arrive."""

    def __init__(self, path: bytes) -> None:
        self.path = path
        self.received = b""

    def connectionMade(self) -> None:
        self.transport.write(b"GET " + self.path + b" HTTP/1.1\r\nHost: x\r\n\r\n")

    def dataReceived(self, data: bytes) -> None:
        self.received += data
        if b"\r\n\r\n" in self.received and not self.received.endswith(b"\r\n\r\n"):
            self.transport.abortConnection()


class RecitationTests(unittest.TestCase):
    """The slow site in this process: what happens when the client goes away."""

    timeout = 10

    def test_no_write_after_the_client_left_and_no_timer_left(self):
        module = load_program(SLOW_SITE)
        events: list[str] = []
        left: Deferred[None] = Deferred()
        send_next, client_left = module.Recitation.send_next, module.Recitation.client_left

        def watched_send_next(recitation):
            events.append("write")
            send_next(recitation)

        def watched_client_left(recitation, reason):
            events.append("left")
            client_left(recitation, reason)
            self.assertIsNone(recitation.timer)
            left.callback(None)

        self.patch(module.Recitation, "send_next", watched_send_next)
        self.patch(module.Recitation, "client_left", watched_client_left)
        self.patch(sys, "stdout", io.StringIO())
        site = module.make_site({"tyger": POEMS["tyger"]}, num_bytes=10, delay=0.01)
        port = reactor.listenTCP(0, site, interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        ClientCreator(reactor, LeavingClient, b"/tyger").connectTCP(
            "127.0.0.1", port.getHost().port)

        async def check():
            await left
            await deferLater(reactor, 0.1)  # ten more delays: no write comes
            self.assertEqual(events[-1], "left")
            self.assertIn("write", events)
            self.assertIn("the client left after", sys.stdout.getvalue())
            pending = [call for call in reactor.getDelayedCalls()
                       if call.func is watched_send_next
                       or getattr(call.func, "__func__", None) is watched_send_next]
            self.assertEqual(pending, [])
            # Trial fails the test if a timer or a socket is left behind.

        return Deferred.fromCoroutine(check())


class ClientTests(unittest.TestCase):
    def setUp(self):
        self.server, self.port = start(self, SITE, *ALL_POEMS)

    def test_poems_from_several_servers(self):
        _, other = start(self, SLOW_SITE, "--delay", "0.01", *ALL_POEMS)
        status, out, err = run(CLIENT, f"{self.port}/science",
                               f"http://127.0.0.1:{other}/tyger")
        self.assertEqual(status, 0)
        self.assertEqual(out, POEMS["science"].decode() + "\n" + POEMS["tyger"].decode())
        lines = err.splitlines()
        self.assertEqual(sorted(lines[:2]), [
            f"Task 1: got 673 bytes of poetry from http://127.0.0.1:{self.port}/science",
            f"Task 2: got 813 bytes of poetry from http://127.0.0.1:{other}/tyger"])
        self.assertRegex(lines[2], r"^Got 2 of 2 poems in \d+\.\d seconds\.$")

    def test_a_404_and_a_dead_server_are_one_line_each(self):
        dead = refused_port(self)
        status, out, err = run(CLIENT, f"{self.port}/nosuch", f"{dead}/science",
                               f"{self.port}/tyger")
        self.assertEqual(status, 1)
        self.assertEqual(out, POEMS["tyger"].decode())
        self.assertIn(f"Task 1: cannot get poetry from http://127.0.0.1:{self.port}/nosuch:"
                      " 404 Not Found\n", err)
        self.assertIn(f"Task 2: cannot get poetry from http://127.0.0.1:{dead}/science:"
                      " Connection refused\n", err)
        self.assertNotIn("Traceback", err)

    def test_a_silent_server_times_out(self):
        _, silent = listener(self)
        started = time.monotonic()
        status, out, err = run(CLIENT, "--timeout", "0.5", f"{silent}/science")
        self.assertLess(time.monotonic() - started, 8)
        self.assertEqual((status, out), (1, ""))
        self.assertIn(f"Task 1: cannot get poetry from http://127.0.0.1:{silent}/science:"
                      " timed out after 0.5 seconds\n", err)

    def test_a_slow_body_times_out(self):
        _, slow = start(self, SLOW_SITE, "--delay", "30", *ALL_POEMS)
        status, _, err = run(CLIENT, "--timeout", "0.5", f"{slow}/tyger")
        self.assertEqual(status, 1)
        self.assertIn("timed out after 0.5 seconds\n", err)
        self.assertNotIn("Traceback", err)

    def test_ctrl_c_is_quiet(self):
        _, slow = start(self, SLOW_SITE, "--delay", "30", *ALL_POEMS)
        client = Program(CLIENT, f"{slow}/tyger")
        self.addCleanup(client.end)
        wait_for_the_reactor(client)
        client.interrupt()
        self.assertEqual(client.finish(), (130, "", ""))

    def test_impossible_arguments(self):
        for args in (["10001"], ["0/x"], ["70000/x"], ["10001/"], ["--timeout", "0", "1/x"]):
            with self.subTest(args=args):
                self.assertEqual(run(CLIENT, *args)[0], 2)


class AgentTests(unittest.TestCase):
    def setUp(self):
        self.server, self.port = start(self, SITE, *ALL_POEMS)

    def test_a_poem(self):
        status, out, err = run(AGENT, f"{self.port}/automne")
        self.assertEqual((status, out), (0, POEMS["automne"].decode()))
        self.assertEqual(err, "200 OK, text/plain; charset=utf-8, 341 bytes\n")

    def test_a_404(self):
        status, out, err = run(AGENT, f"{self.port}/nosuch")
        self.assertEqual((status, out), (1, ""))
        self.assertEqual(err, "404 Not Found, text/html; charset=utf-8, 149 bytes\n")

    def test_a_dead_and_a_silent_server(self):
        dead = refused_port(self)
        self.assertEqual(run(AGENT, f"{dead}/x"), (
            1, "", f"Cannot get http://127.0.0.1:{dead}/x: Connection refused\n"))
        _, silent = listener(self)
        self.assertEqual(run(AGENT, "--timeout", "0.5", f"{silent}/x"), (
            1, "", f"Cannot get http://127.0.0.1:{silent}/x: no answer within 0.5 seconds\n"))


LOWER = "solutions/ch23-lower/lower-poetry-site.py"
FIRST = "solutions/ch23-first-poem/first-poem.py"


class LowerSolutionTests(unittest.TestCase):
    def setUp(self):
        self.server, self.port = start(self, LOWER, *ALL_POEMS)

    def test_both_trees(self):
        self.assertEqual(ask(self.port, "GET", "/tyger")[2], POEMS["tyger"])
        status, headers, body = ask(self.port, "GET", "/lower/tyger")
        self.assertEqual((status, body), (200, POEMS["tyger"].decode().lower().encode()))
        self.assertEqual(headers["Content-Type"], "text/plain; charset=utf-8")
        status, _, index = ask(self.port, "GET", "/lower/")
        self.assertEqual(status, 200)
        self.assertIn(b'<a href="tyger">tyger</a>: the tyger', index)
        for path in ("/lower/nosuch", "/lower/tyger/x", "/lower/../tyger"):
            with self.subTest(path=path):
                self.assertEqual(ask(self.port, "GET", path)[0], 404)


class FirstPoemSolutionTests(unittest.TestCase):
    def test_the_fast_copy_wins(self):
        _, slow = start(self, SLOW_SITE, "--delay", "30", *ALL_POEMS)
        _, fast = start(self, SITE, *ALL_POEMS)
        status, out, err = run(FIRST, f"{slow}/science", f"{fast}/science")
        self.assertEqual((status, out), (0, POEMS["science"].decode()))
        self.assertRegex(err, rf"^The first poem: 673 bytes from "
                              rf"http://127.0.0.1:{fast}/science in \d+\.\d seconds\.\n$")

    def test_every_copy_fails(self):
        _, fast = start(self, SITE, *ALL_POEMS)
        dead = refused_port(self)
        status, out, err = run(FIRST, f"{dead}/x", f"{fast}/nosuch")
        self.assertEqual((status, out), (1, ""))
        self.assertEqual(err, f"http://127.0.0.1:{dead}/x: Connection refused\n"
                              f"http://127.0.0.1:{fast}/nosuch: 404 Not Found\n"
                              "No poem from any of 2 sites.\n")

    def test_the_race_has_a_deadline(self):
        _, slow = start(self, SLOW_SITE, "--delay", "30", *ALL_POEMS)
        self.assertEqual(run(FIRST, "--timeout", "0.3", f"{slow}/science"),
                         (1, "", "No poem: none within 0.3 seconds\n"))
