"""Chapter 20: threads: the ticker, the GIL, the threaded transformation server."""

import re
import socket
import threading
import time

from twisted.internet import defer, reactor
from twisted.python.threadpool import ThreadPool
from twisted.trial import unittest

from tests.programs import (
    Program,
    load_program,
    run,
    wait_for_the_reactor,
)

TICKER = "threads/ticker.py"
GIL = "threads/gil.py"
FROM_THREADS = "threads/from-threads.py"
SERVER = "threads/transformedpoetry.py"
POOL = "solutions/ch20-thread-pool/transformedpoetry.py"
DEADLINE = "solutions/ch20-deadline/transformedpoetry.py"
TYGER = "Tyger Tyger, burning bright,\nIn the forests of the night;\n"


def latest(output: str) -> float:
    """The lateness of the latest tick, as the ticker's last line gives it."""
    match = re.search(r"The latest tick was (\d+\.\d+) s late\.", output)
    assert match, output
    return float(match.group(1))


class TickerTests(unittest.TestCase):
    """A blocking call in the reactor's thread stops the ticks; in a thread it does not.

    The call blocks for 0.5 s, starting at tick 2; tick 3 was due 0.2 s later,
    so with the call in the reactor's thread it is at least 0.3 s late, whatever
    the machine's load.  In a thread, the ticks are a few milliseconds late on
    an idle machine; 0.15 s leaves room for a busy one, and is still half of
    what the blocking call costs.
    """

    def test_inline_the_ticks_wait_for_the_call(self):
        status, out, err = run(TICKER, "--where", "reactor")
        self.assertEqual((status, err), (0, ""))
        self.assertGreaterEqual(latest(out), 0.299)
        lines = out.splitlines()
        self.assertEqual(lines[2:4], ["Tick 2 calls the blocking function.",
                                      "The blocking function has returned, after 0.5 s."])
        self.assertTrue(lines[4].startswith("Tick 3 is "))

    def test_in_a_thread_the_ticks_go_on(self):
        status, out, err = run(TICKER, "--where", "thread")
        self.assertEqual((status, err), (0, ""))
        # The reactor went on while the call ran: two ticks came between
        # the hand-over and the return.  (How late they were is measured in
        # the chapter, not asserted: a busy machine makes any tick late.)
        lines = out.splitlines()
        handed = lines.index("Tick 2 hands the blocking function to a thread.")
        returned = lines.index("The blocking function has returned, after 0.5 s.")
        between = lines[handed + 1:returned]
        self.assertEqual([line[:6] for line in between], ["Tick 3", "Tick 4"])

    def test_computing_inline_stops_the_ticks_too(self):
        status, out, _ = run(TICKER, "--where", "reactor", "--work", "compute")
        self.assertEqual(status, 0)
        self.assertGreaterEqual(latest(out), 0.299)

    def test_computing_in_a_thread_lets_the_reactor_tick(self):
        """The interpreter switches threads every 5 ms: the reactor gets its turns."""
        status, out, _ = run(TICKER, "--where", "thread", "--work", "compute")
        self.assertEqual(status, 0)
        lines = out.splitlines()
        handed = lines.index("Tick 2 hands the blocking function to a thread.")
        # Tick 3 is due 0.2 s after the hand-over, 0.3 s before the function
        # returns.  (On a quiet machine tick 4 comes before the return too;
        # on a busy one, sharing the interpreter lock, the computation may
        # outlast the last tick, and the program ends without saying it returned.)
        self.assertEqual(lines[handed + 1][:6], "Tick 3")

    def test_tenths_round_down_after_the_milliseconds(self):
        tenths = load_program(TICKER).tenths
        self.assertEqual(tenths(0.29999995), "0.3")
        self.assertEqual(tenths(0.399), "0.3")
        self.assertEqual(tenths(0.0004), "0.0")

    def test_ctrl_c_waits_for_the_thread_and_is_quiet(self):
        """At shutdown the reactor stops its pool, which waits for the running call."""
        ticker = Program(TICKER, "--where", "thread", "--seconds", "1")
        self.addCleanup(ticker.end)
        wait_for_the_reactor(ticker)
        for _ in range(3):
            ticker.readline()  # ticks 1 and 2, and the hand-over
        pressed = time.monotonic()
        ticker.interrupt()
        status, out, err = ticker.finish()
        self.assertEqual((status, err), (0, ""))
        self.assertNotIn("returned", out)  # its result never reached the reactor
        self.assertGreater(time.monotonic() - pressed, 0.3)  # but it ran to its end


class GilTests(unittest.TestCase):
    def test_threads_wait_together_but_compute_in_turn(self):
        status, out, err = run(GIL, "--count", "300000")
        self.assertEqual((status, err), (0, ""))
        found = re.findall(r": (\d+\.\d+) s, processor time (\d+\.\d+) s\.", out)
        (nap_serial, _), (nap_threads, _), _, (sum_wall, sum_cpu) = [
            (float(wall), float(cpu)) for wall, cpu in found]
        # Two naps at once overlap: they take less than two naps in turn,
        # however late a busy machine wakes each thread.
        self.assertLess(nap_threads, nap_serial)
        # Two threads computing at once never keep two processors busy.
        self.assertLessEqual(sum_cpu, 1.2 * sum_wall + 0.02)

    def test_add_up(self):
        self.assertEqual(load_program(GIL).add_up(101), 5050)


class FromThreadsTests(unittest.TestCase):
    def test_the_three_scenes(self):
        status, out, err = run(FROM_THREADS)
        self.assertEqual((status, err), (0, ""))
        lines = out.splitlines()
        self.assertIn("report_count runs in the reactor's thread, with the count: 10.",
                      lines)
        self.assertIn("title_in_a_while runs in the reactor's thread;"
                      " it returns a Deferred.", lines)
        self.assertEqual(lines[-5:], [
            "main calls d.cancel() at once.",
            "The errback runs in the reactor's thread: CancelledError.",
            "d.cancel() has returned.",
            "look_up runs on in a pool thread, and returns its answer after all.",
            "The pool's thread is free again; look_up's answer was dropped.",
        ])


class RhymeTests(unittest.TestCase):
    def setUp(self):
        self.module = load_program(SERVER)
        self.patch(self.module, "LOOK_UP_SECONDS", 0)

    def test_rhyme(self):
        self.assertEqual(self.module.TransformService().rhyme(TYGER),
                         "Tyger Tyger, burning bright, [night, light, sight, flight,"
                         " delight]\nIn the forests of the night; [bright, light,"
                         " sight, flight, delight]\n")

    def test_a_line_without_rhymes_or_words(self):
        self.assertEqual(self.module.TransformService().rhyme("Go, team\n...\n"),
                         "Go, team\n...\n")

    def test_the_library_refuses_no_words(self):
        with self.assertRaises(ValueError):
            self.module.TransformService().rhyme("...")

    @defer.inlineCallbacks
    def test_rhyme_runs_in_a_thread(self):
        ran_in = []
        service = self.module.TransformService()
        rhyme = service.rhyme

        def watched(poem):
            ran_in.append(which_thread())
            return rhyme(poem)

        service.rhyme = watched
        factory = self.module.TransformFactory(service)
        answer = yield factory.transform("rhyme", "bright")
        self.assertEqual(answer, "bright [night, light, sight, flight, delight]\n")
        self.assertEqual(ran_in, ["pool"])

    @defer.inlineCallbacks
    def test_an_exception_in_the_thread_becomes_no_answer(self):
        factory = self.module.TransformFactory(self.module.TransformService())
        with self.assertRaises(self.module.NoAnswer) as caught:
            yield factory.transform("rhyme", "")
        self.assertEqual(str(caught.exception),
                         "rhyme failed: ValueError: no words to look up")


def which_thread() -> str:
    return "main" if threading.current_thread() is threading.main_thread() else "pool"


def request(port: int, data: bytes) -> socket.socket:
    connection = socket.create_connection(("127.0.0.1", port), timeout=10)
    connection.sendall(b"%d:%s," % (len(data), data))
    return connection


def answer(connection: socket.socket) -> bytes:
    received = b""
    with connection:
        while data := connection.recv(65536):
            received += data
    return received


class ServerTests(unittest.TestCase):
    """The server as a process: others are served while a look-up blocks a thread."""

    def start(self, program: str = SERVER, *args: str) -> tuple[Program, int]:
        server = Program(program, *args)
        self.addCleanup(server.end)
        return server, server.port()

    def test_cummingsify_is_answered_while_rhyme_waits(self):
        server, port = self.start()
        slow = request(port, b"rhyme.Tyger Tyger, burning bright")
        self.assertEqual(server.readline(),
                         "Connection 1 from 127.0.0.1: rhyme: running in a thread.\n")
        self.assertEqual(answer(request(port, b"cummingsify.WHOSE WOODS")),
                         b"11:whose woods,")
        self.assertEqual(answer(slow), b"67:Tyger Tyger, burning bright"
                         b" [night, light, sight, flight, delight]\n,")
        self.assertEqual(server.readline(),
                         "Connection 2 from 127.0.0.1: cummingsify: answered with 11 bytes.\n")
        self.assertEqual(server.readline(),
                         "Connection 1 from 127.0.0.1: rhyme: answered with 67 bytes.\n")

    def test_a_client_that_hangs_up_during_the_look_up(self):
        server, port = self.start()
        request(port, b"rhyme.bright").close()
        self.assertIn("running in a thread", server.readline())
        self.assertEqual(server.readline(), "Connection 1 from 127.0.0.1: the client hung"
                         " up before its answer was ready.\n")
        self.assertEqual(answer(request(port, b"upper.x")), b"1:X,")
        self.assertEqual(server.readline(),
                         "Connection 2 from 127.0.0.1: upper: answered with 1 bytes.\n")
        status, out, err = server.stop()
        self.assertEqual((status, out, err), (0, "", ""))  # no answer for nobody

    def test_a_look_up_that_raises(self):
        server, port = self.start()
        self.assertEqual(answer(request(port, b"rhyme.")), b"")
        server.readline()
        self.assertEqual(server.readline(), "Connection 1 from 127.0.0.1: no answer:"
                         " rhyme failed: ValueError: no words to look up.\n")
        self.assertEqual(answer(request(port, b"reverse.a\nb\n")), b"4:b\na\n,")

    def test_unknown_names_and_bad_netstrings_as_before(self):
        server, port = self.start()
        self.assertEqual(answer(request(port, b"shout.hi")), b"")
        self.assertEqual(server.readline(), "Connection 1 from 127.0.0.1: no answer:"
                         " no transformation named 'shout'.\n")
        with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
            connection.sendall(b"hello\n")
            self.assertEqual(connection.recv(100), b"")
        self.assertIn("not a netstring", server.readline())

    def test_ctrl_c_during_a_look_up_is_quiet(self):
        server, port = self.start()
        wait_for_the_reactor(server)
        slow = request(port, b"rhyme.bright")
        self.addCleanup(slow.close)
        server.readline()
        status, out, err = server.stop()
        self.assertEqual((status, out, err), (0, "", ""))


class ThreadPoolSolutionTests(unittest.TestCase):
    """Exercise 1: a pool of the server's own, of --threads threads."""

    def start(self, *args: str) -> tuple[Program, int]:
        server = Program(POOL, *args)
        self.addCleanup(server.end)
        return server, server.port()

    def two_rhymes(self, threads: str) -> float:
        server, port = self.start("--threads", threads)
        started = time.monotonic()
        first = request(port, b"rhyme.bright")
        second = request(port, b"rhyme.night")
        self.assertIn(b"light", answer(first))
        self.assertIn(b"light", answer(second))
        return time.monotonic() - started

    def test_one_thread_looks_up_one_at_a_time(self):
        self.assertGreaterEqual(self.two_rhymes("1"), 1.0)

    def test_two_threads_look_up_together(self):
        self.assertLess(self.two_rhymes("2"), 0.9)

    def test_others_are_served_while_the_pool_is_busy(self):
        server, port = self.start("--threads", "1")
        slow = [request(port, b"rhyme.bright") for _ in range(2)]
        self.assertEqual(answer(request(port, b"upper.x")), b"1:X,")
        for connection in slow:
            self.assertIn(b"light", answer(connection))
        # upper was answered before either look-up, though it came after both.
        answered = [line for line in (server.readline() for _ in range(5))
                    if "answered" in line]
        self.assertIn("upper: answered", answered[0])

    @defer.inlineCallbacks
    def test_the_look_ups_run_in_the_pool_given(self):
        module = load_program(POOL)
        self.patch(module, "LOOK_UP_SECONDS", 0)
        pool = ThreadPool(0, 1, name="test")
        pool.start()
        self.addCleanup(pool.stop)
        factory = module.TransformFactory(module.TransformService(), pool)
        names = []
        service_rhyme = factory.transforms["rhyme"]

        def watched(poem):
            names.append(threading.current_thread().name)
            return service_rhyme(poem)

        factory.transforms["rhyme"] = watched
        answer = yield factory.transform("rhyme", "bright")
        self.assertIn("light", answer)
        self.assertEqual(names, ["PoolThread-test-0"])
        self.assertIsNot(pool, reactor.getThreadPool())

    def test_ctrl_c_stops_the_pool_quietly(self):
        server, port = self.start("--threads", "1")
        wait_for_the_reactor(server)
        slow = request(port, b"rhyme.bright")
        self.addCleanup(slow.close)
        server.readline()
        self.assertEqual(server.stop(), (0, "", ""))


class DeadlineSolutionTests(unittest.TestCase):
    """Exercise 2: a look-up that takes longer than --deadline is given up."""

    def start(self, *args: str) -> tuple[Program, int]:
        server = Program(DEADLINE, *args)
        self.addCleanup(server.end)
        return server, server.port()

    def test_a_late_look_up_gets_no_answer_and_the_thread_runs_on(self):
        server, port = self.start("--deadline", "0.2")
        self.assertEqual(answer(request(port, b"rhyme.bright")), b"")
        self.assertIn("running in a thread", server.readline())
        self.assertEqual(server.readline(), "Connection 1 from 127.0.0.1: no answer:"
                         " rhyme took longer than 0.2 s.\n")
        self.assertEqual(server.readline(), "A rhyme look-up has ended, after"
                         " its deadline: its answer is dropped.\n")
        status, out, err = server.stop()
        self.assertEqual((status, out, err), (0, "", ""))  # no AlreadyCalledError

    def test_a_look_up_in_time_is_answered(self):
        server, port = self.start("--deadline", "2")
        self.assertIn(b"light", answer(request(port, b"rhyme.bright")))
        server.readline()
        self.assertIn("rhyme: answered with", server.readline())

    def test_fast_transformations_have_no_deadline_to_meet(self):
        server, port = self.start("--deadline", "0.01")
        self.assertEqual(answer(request(port, b"upper.x")), b"1:X,")

