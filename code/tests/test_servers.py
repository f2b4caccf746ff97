"""Every server logs each line as it happens, and tells the truth at Ctrl-C.

A reader may send a server's log to a file and watch it with ``tail -f``:
each line must reach the file when it is printed, not when the server
exits.  And Ctrl-C is the server shutting down, not a client hanging up:
a server stopped with connections still open must not log anything about
them.  Both are checked here, for every server in code/, with a client
in the middle of its work when Ctrl-C comes:

* a slow server is half way through sending its poem;
* a fast server has a big poem waiting for a client that does not read;
* the transformation server holds a request that is not yet whole;
* a proxy is downloading the poem from a slow upstream server.
"""

from __future__ import annotations

import re
import socket
import time
from pathlib import Path

from twisted.trial import unittest

from .programs import Program

POEM = "code/poetry/science.txt"
WAIT = 10.0
"""Seconds to wait for a line the server must log."""


class LogFile:
    """A server's standard output, sent to a file as a reader may send it."""

    def __init__(self, test: unittest.TestCase, program: str, *args: str) -> None:
        self.path = Path(test.mktemp())
        self.file = self.path.open("w")
        test.addCleanup(self.file.close)
        self.program = Program(program, *args, stdout=self.file)
        test.addCleanup(self.program.stop)

    def text(self) -> str:
        return self.path.read_text()

    def wait_for(self, pattern: str) -> str:
        """Wait until the file holds a line that matches; fail if none comes.

        The server must still be running: a line that reaches the file only
        when the server exits is a line that ``tail -f`` shows too late.
        """
        deadline = time.monotonic() + WAIT
        while not re.search(pattern, self.text(), re.M):
            if self.program.popen.poll() is not None:
                raise AssertionError(f"the server exited before logging {pattern!r}:\n"
                                     f"{self.text()}{self.program.finish()[2]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no line matching {pattern!r} reached the file "
                                     f"within {WAIT} s:\n{self.text()}")
            time.sleep(0.02)  # poll the file, as tail -f does
        return self.text()

    def port(self) -> int:
        return int(re.search(r"127\.0\.0\.1:(\d+)", self.wait_for(r"127\.0\.0\.1:\d+")).group(1))


def connect(test: unittest.TestCase, port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
    test.addCleanup(sock.close)
    return sock


def slow_client(test, port: int) -> None:
    """A client that has some of the poem, and waits for the rest."""
    sock = connect(test, port)
    sock.recv(1)


def stalled_client(test, port: int) -> None:
    """A client that connects and never reads: the server's poem waits in its buffer."""
    connect(test, port)


def unfinished_request(test, port: int) -> None:
    """A client that has sent half a netstring, and a second that has sent a whole one.

    The server logs nothing until a request is whole; it accepts the two
    connections in turn, so once it has logged the second, the first is open.
    """
    connect(test, port).sendall(b"11:upp")
    connect(test, port).sendall(b"11:upper.hello,")


class ServerTests(unittest.TestCase):
    """One test a server: its log reaches a file line by line, and Ctrl-C is quiet."""

    def big_poem(self) -> str:
        """A poem of 8 MB: more than the kernel buffers for a client that does not read."""
        path = Path(self.mktemp())
        path.write_bytes(b"So much depends upon a red wheel barrow.\n" * 200_000)
        return str(path.resolve())

    def check(self, program: str, args: list[str], client, logged: str,
              upstream: Program | None = None) -> None:
        log = LogFile(self, program, *args)
        port = log.port()
        client(self, port)
        if upstream is not None:  # the proxy has started its download
            self.assertIn("Connection 1 from", upstream.readline())
        before = log.wait_for(logged)
        status, out, err = log.program.stop()
        self.assertEqual((status, err), (0, ""), program)
        self.assertEqual(log.text(), before,
                         f"{program} logged this at Ctrl-C:\n{log.text()[len(before):]}")

    def check_proxy(self, program: str, *options: str) -> None:
        upstream = Program("blocking-server/slowpoetry.py", "--delay", "1", "--num-bytes",
                           "10", POEM)
        self.addCleanup(upstream.end)
        upstream_port = upstream.port()
        self.check(program, [*options, str(upstream_port)], connect,
                   r"^Request 1 from 127\.0\.0\.1", upstream)

    # -- slow servers -----------------------------------------------------

    def test_blocking_slowpoetry(self) -> None:
        self.check("blocking-server/slowpoetry.py", ["--delay", "1", "--num-bytes", "10", POEM],
                   slow_client, r"^Connection 1 from 127\.0\.0\.1\.$")

    def test_bench_twisted_slowpoetry(self) -> None:
        self.check("bench/twisted-slowpoetry.py", ["--delay", "1", "--num-bytes", "10", POEM],
                   slow_client, r"^Connection 1 from 127\.0\.0\.1\.$")

    # -- fast servers -----------------------------------------------------

    def test_fastpoetry(self) -> None:
        self.check("twisted-server-1/fastpoetry.py", [self.big_poem()], stalled_client,
                   r"^Connection 1 from 127\.0\.0\.1\.$")

    def test_fastpoetry_allowlist(self) -> None:
        self.check("twisted-server-1/fastpoetry-allowlist.py",
                   ["--allow", "127.0.0.1", self.big_poem()], stalled_client,
                   r"^Connection 1 from 127\.0\.0\.1\.$")

    def test_anthology(self) -> None:
        self.check("solutions/ch10-anthology/anthology.py", [self.big_poem()], stalled_client,
                   r"^Connection 1 from 127\.0\.0\.1\.$")

    def test_fastpoetry_limit(self) -> None:
        self.check("solutions/ch10-max-connections/fastpoetry-limit.py", [self.big_poem()],
                   stalled_client, r"^Connection 1 from 127\.0\.0\.1\.$")

    def test_async_await_fastpoetry(self) -> None:
        self.check("async-await/fastpoetry.py", [self.big_poem()], stalled_client,
                   r"^Connection 1 from 127\.0\.0\.1\.$")

    def test_listen_fastpoetry(self) -> None:
        self.check("solutions/ch18-listen/fastpoetry.py", [self.big_poem()], stalled_client,
                   r"^Connection 1 from 127\.0\.0\.1\.$")

    # -- transformation servers -------------------------------------------

    def test_transformedpoetry(self) -> None:
        self.check("twisted-server-2/transformedpoetry.py", [], unfinished_request,
                   r"^Connection 2 from 127\.0\.0\.1: upper")

    def test_transformedpoetry_deadline(self) -> None:
        self.check("solutions/ch11-deadline/transformedpoetry.py", ["--timeout", "30"],
                   unfinished_request, r"^Connection 2 from 127\.0\.0\.1: upper")

    # -- proxies ----------------------------------------------------------

    def test_poetry_proxy(self) -> None:
        self.check_proxy("twisted-server-3/poetry-proxy.py")

    def test_poetry_proxy_cancels(self) -> None:
        self.check_proxy("twisted-server-4/poetry-proxy.py")

    def test_poetry_proxy_expiring_cache(self) -> None:
        self.check_proxy("solutions/ch12-expiring-cache/poetry-proxy.py")

    def test_poetry_proxy_shared_download(self) -> None:
        self.check_proxy("solutions/ch12-shared-download/poetry-proxy.py")

    def test_poetry_proxy_deadline(self) -> None:
        self.check_proxy("solutions/ch17-deadline/poetry-proxy.py", "--deadline", "30")

