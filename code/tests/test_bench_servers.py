"""The benchmark's four fast poetry servers, and how run.py counts and plots them.

The same server is written with Twisted, with an asyncio Protocol, with
asyncio's streams and with Trio (code/bench/fastpoetry-*.py).  Each one
must serve the whole poem to clients that come at once, keep serving
after a client that resets, refuse a port that cannot be, say why it
cannot listen, and stop quietly at Ctrl-C.  The measurements themselves
run only on `make bench`; here run.py's arithmetic and plot.py's drawing
get a tiny run made up by hand.
"""

import socket
import struct
import tempfile
from pathlib import Path

from twisted.trial import unittest

from tests.programs import POEMS, Program, load_program, run, wait_for_the_reactor

POEM = POEMS["science"]
SERVERS = {
    "Twisted": "bench/fastpoetry-twisted.py",
    "asyncio Protocol": "bench/fastpoetry-asyncio.py",
    "asyncio Streams": "bench/fastpoetry-streams.py",
    "Trio": "bench/fastpoetry-trio.py",
}


def fetch_all(sockets: list[socket.socket]) -> list[bytes]:
    """Read each socket to its end, as nc does."""
    poems = []
    for sock in sockets:
        with sock:
            received = b""
            while data := sock.recv(4096):
                received += data
            poems.append(received)
    return poems


class ServerTests:
    """The tests every server must pass; each subclass names its program."""

    program: str

    def start(self) -> tuple[Program, int]:
        server = Program(self.program, "code/poetry/science.txt")
        self.addCleanup(server.end)
        port = server.port()
        if "twisted" in self.program:
            wait_for_the_reactor(server)  # its Ctrl-C handler is in place
        return server, port

    def connect(self, port: int) -> socket.socket:
        return socket.create_connection(("127.0.0.1", port), timeout=10)

    def test_first_line_names_the_address(self):
        server, port = self.start()
        status, out, err = server.stop()
        self.assertEqual((status, out, err), (0, "", ""))  # quiet at Ctrl-C
        self.assertGreater(port, 0)

    def test_serves_the_whole_poem_to_clients_at_once(self):
        server, port = self.start()
        sockets = [self.connect(port) for _ in range(20)]  # all connected first
        self.assertEqual(fetch_all(sockets), [POEM] * 20)
        status, out, err = server.stop()
        self.assertEqual((status, out, err), (0, "", ""))  # nothing per connection

    def test_keeps_serving_after_a_client_resets(self):
        server, port = self.start()
        rude = self.connect(port)
        # Linger on, for 0 seconds: close() sends a reset, not a goodbye.
        rude.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        rude.close()
        self.assertEqual(fetch_all([self.connect(port) for _ in range(3)]), [POEM] * 3)
        status, out, err = server.stop()
        self.assertEqual((status, out, err), (0, "", ""))

    def test_refuses_an_impossible_port(self):
        for port in ("70000", "-1"):
            status, out, err = run(self.program, f"--port={port}",
                                   "code/poetry/science.txt")
            self.assertEqual((status, out), (2, ""))
            self.assertTrue(err.rstrip("\n").endswith(
                f"argument --port: not a port number from 0 to 65535: '{port}'"), err)

    def test_says_why_it_cannot_listen(self):
        _, port = self.start()
        status, out, err = run(self.program, "--port", str(port),
                               "code/poetry/science.txt")
        self.assertEqual((status, out), (1, ""))
        # (Python may also report the spare file descriptor that Twisted's
        # listenTCP reserves and never closes, as chapter 10's test says.)
        self.assertEqual(err.splitlines()[0],
                         f"Cannot listen on 127.0.0.1:{port}: Address already in use")


class TwistedServerTests(ServerTests, unittest.TestCase):
    program = SERVERS["Twisted"]


class AsyncioProtocolServerTests(ServerTests, unittest.TestCase):
    program = SERVERS["asyncio Protocol"]


class AsyncioStreamsServerTests(ServerTests, unittest.TestCase):
    program = SERVERS["asyncio Streams"]


class TrioServerTests(ServerTests, unittest.TestCase):
    program = SERVERS["Trio"]


def load_rows(outcomes: list[str], received: list[int], ended: list[float]) -> list[dict]:
    """Rows as load.py writes them with --times, for a made-up run."""
    return [{"client": str(n), "connected": "0.0100", "first_byte": "0.0200",
             "ended": f"{end:.4f}", "bytes": str(size), "outcome": outcome}
            for n, (outcome, size, end) in enumerate(zip(outcomes, received, ended,
                                                         strict=True), start=1)]


class BenchArithmeticTests(unittest.TestCase):
    """run.py's numbers and plot.py's plot, from a tiny run made up by hand."""

    def setUp(self):
        self.bench = load_program("bench/run.py")

    def test_the_servers_run_are_the_four_programs(self):
        self.assertEqual(self.bench.FAST_SERVERS, SERVERS)
        for settings in (self.bench.FULL, self.bench.QUICK):
            self.assertGreaterEqual(settings.fast_repeats, 1)
        self.assertEqual(self.bench.FULL.fast_loads, [100, 1000, 5000])

    def test_one_run(self):
        rows = load_rows(["complete", "complete", "an incomplete poem"],
                         [673, 673, 100], [0.5, 1.25, 0.75])
        result = self.bench.fast_run("Trio", 3, 1, rows, idle_kib=1000, peak_kib=1030,
                                     cpu=0.25, overflows=0)
        self.assertEqual(result["poems complete"], 2)
        self.assertEqual(result["bytes received"], 673 + 673 + 100)
        self.assertEqual(result["seconds"], "1.250")  # the last client's end
        self.assertEqual(result["KiB per connection"], "10.00")  # (1030 - 1000) / 3

    def runs(self) -> list[dict]:
        """Two servers, two loads, three runs each: medians that are easy to check."""
        runs = []
        for run_number, seconds in enumerate([0.3, 0.1, 0.2], start=1):
            for clients in (2, 4):
                for server in ("Twisted", "Trio"):
                    rows = load_rows(["complete"] * clients, [673] * clients,
                                     [seconds * clients] * clients)
                    peak = 2000 + run_number * clients * (2 if server == "Trio" else 1)
                    runs.append(self.bench.fast_run(server, clients, run_number, rows,
                                                    2000, peak, seconds, 0))
        return runs

    def test_the_table_has_totals_and_medians(self):
        table = self.bench.summarize_fast(self.runs(), 673)
        self.assertEqual([(r["server"], r["clients"]) for r in table],
                         [("Twisted", 2), ("Trio", 2), ("Twisted", 4), ("Trio", 4)])
        trio = table[3]
        self.assertEqual(trio["every poem whole"], "yes")  # 12 of 12, every byte
        self.assertEqual(trio["time (s)"], "0.80")  # 0.2 × 4
        self.assertEqual(trio["CPU (s)"], "0.20")
        self.assertEqual(trio["per connection (KiB)"], "4.0")  # run 2: 2 × 2

    def test_writes_the_csv_files_and_the_plot(self):
        plot = load_program("bench/plot.py")
        with tempfile.TemporaryDirectory() as folder:
            output = Path(folder)
            self.bench.write_fast_servers(output, self.runs())
            self.assertEqual(len((output / "servers-runs.csv").read_text().splitlines()),
                             1 + 12)
            header = (output / "servers.csv").read_text().splitlines()[0]
            self.assertTrue(header.startswith("server,clients,every poem whole,"))
            plot.plot_servers(output)
            svg = (output / "servers.svg").read_text()
            self.assertTrue((output / "servers.pdf").read_bytes().startswith(b"%PDF"))
        # The text stays text (svg.fonttype none), so it prints sharp and is found.
        for label in ("Twisted", "Trio", "clients at once, C",
                      "memory per connection (KiB)"):
            self.assertIn(f">{label}<", svg)
