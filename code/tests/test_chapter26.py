"""Chapter 26: the poetry client of chapter 18 written with asyncio and with Trio.

The clients run as processes, against the book's slow server and sockets
that misbehave on purpose, and must print what the Twisted client prints.
Then the claims the chapter makes about TaskGroup, nurseries, cancel
scopes and Deferreds, each checked on the pinned versions.
"""

import asyncio
import subprocess
import sys
from pathlib import Path

import trio
from twisted.internet.defer import (
    Deferred,
    DeferredList,
    FirstError,
    gatherResults,
)
from twisted.trial import unittest

from tests.programs import (
    CODE,
    POEMS,
    Program,
    environment,
    listener,
    refused_port,
    reset,
    run,
    start_server,
    unanswered_port,
    wait_until,
)

TWISTED = "async-await/get-poetry-react.py"
ASYNCIO = "other-ways/get-poetry-asyncio.py"
TRIO = "other-ways/get-poetry-trio.py"
CLIENTS = (ASYNCIO, TRIO)
MAX = "solutions/ch26-max-connections/get-poetry-asyncio.py"
FIRST = "solutions/ch26-first-poem/get-poetry-trio.py"
NO_POEM = "the server closed the connection without sending a poem"


def ctrl_c_inside(program: str, function: str, *args: str) -> tuple[int, str, str]:
    """Run a client with Ctrl-C pressed as one of its functions is called.

    ``function`` is a module-level function of the program; Ctrl-C (a real
    SIGINT) comes just before it runs.  Returns (status, out, err).
    """
    script = ("import os, signal, sys\n"
              "from tests.programs import load_program\n"
              f"module = load_program({program!r})\n"
              f"original = module.{function}\n"
              "def pressed(*args, **kwargs):\n"
              "    os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C, right now\n"
              "    return original(*args, **kwargs)\n"
              f"module.{function} = pressed\n"
              f"sys.argv = [{program!r}, *{list(args)!r}]\n"
              "try:\n"
              "    module.main()\n"
              "except KeyboardInterrupt:\n"
              "    sys.exit(130)\n")
    result = subprocess.run([sys.executable, "-c", script], cwd=CODE, env=environment(),
                            capture_output=True, text=True, timeout=10)
    return result.returncode, result.stdout, result.stderr


class ClientTests(unittest.TestCase):
    """Both clients as processes: chapter 18's command line, output and statuses."""

    def test_the_same_output_as_the_twisted_client(self):
        ports = [str(start_server(self, name)) for name in ("science", "ozymandias", "automne")]
        dead = str(refused_port(self))
        results = {}
        for program in (TWISTED, *CLIENTS):
            status, out, err = run(program, "--outcomes", "success,gibberish,bug", *ports, dead)
            lines = sorted(err.splitlines())
            self.assertRegex(lines[0], r"^Got 2 of 4 poems in \d+\.\d seconds\.$")
            results[program] = (status, out, lines[1:])
        self.assertEqual(results[ASYNCIO], results[TWISTED])
        self.assertEqual(results[TRIO], results[TWISTED])
        status, out, lines = results[TRIO]
        self.assertEqual(status, 1)
        self.assertEqual(out.encode(), POEMS["science"].decode().lower().encode()
                         + b"\n" + POEMS["automne"])
        self.assertIn(f"Task 4: cannot get poetry from 127.0.0.1:{dead}: Connection refused",
                      lines)

    def test_every_server_answers(self):
        ports = [str(start_server(self, name)) for name in ("tyger", "science")]
        for program in CLIENTS:
            status, out, err = run(program, "--outcomes", "success,bug", *ports)
            self.assertEqual((status, out),
                             (0, POEMS["tyger"].decode().lower() + "\n"
                              + POEMS["science"].decode()), program)
            self.assertRegex(err.splitlines()[-1], r"^Got 2 of 2 poems in ")

    def test_a_server_down_is_status_1(self):
        dead = refused_port(self)
        for program in CLIENTS:
            status, out, err = run(program, str(dead))
            self.assertEqual((status, out), (1, ""), program)
            self.assertEqual(err.splitlines(), [
                f"Task 1: cannot get poetry from 127.0.0.1:{dead}: Connection refused",
                "Got 0 of 1 poems in 0.0 seconds."], program)

    def test_a_silent_server_times_out(self):
        _, silent = listener(self)
        for program in CLIENTS:
            status, out, err = run(program, "--timeout", "0.2", str(silent))
            self.assertEqual((status, out), (1, ""), program)
            self.assertEqual(err.splitlines()[0], f"Task 1: cannot get poetry from "
                             f"127.0.0.1:{silent}: the server said nothing for 0.2 seconds")

    def test_the_timeout_starts_again_whenever_the_server_speaks(self):
        """A poem that takes 1 s in all, a chunk every 0.1 s, with --timeout 0.5."""
        port = str(start_server(self, "science", "--delay", "0.1", "--num-bytes", "80"))
        for program in CLIENTS:
            status, out, err = run(program, "--timeout", "0.5", "--outcomes", "bug", port)
            self.assertEqual((status, out), (0, POEMS["science"].decode()), err)

    def test_a_server_that_never_answers(self):
        stuck = unanswered_port(self)
        for program in CLIENTS:
            status, out, err = run(program, "--timeout", "0.5", str(stuck))
            self.assertEqual((status, out), (1, ""), program)
            self.assertEqual(err.splitlines()[0], f"Task 1: cannot get poetry from 127.0.0.1:"
                                                  f"{stuck}: no answer within 0.5 seconds")

    def test_an_empty_poem_is_a_failure(self):
        for program in CLIENTS:
            server, port = listener(self)
            client = Program(program, str(port))
            self.addCleanup(client.end)
            connection, _ = server.accept()
            connection.close()  # not a byte
            status, out, err = client.finish()
            self.assertEqual((status, out), (1, ""), program)
            self.assertEqual(err.splitlines()[0],
                             f"Task 1: cannot get poetry from 127.0.0.1:{port}: {NO_POEM}")

    def test_a_reset_is_a_failure(self):
        for program in CLIENTS:
            server, port = listener(self)
            client = Program(program, str(port))
            self.addCleanup(client.end)
            connection, _ = server.accept()
            connection.sendall(b"Half a line")
            reset(connection)
            status, out, err = client.finish()
            self.assertEqual((status, out), (1, ""), program)
            self.assertEqual(err.splitlines()[0], f"Task 1: cannot get poetry from "
                                                  f"127.0.0.1:{port}: Connection reset by peer")

    def test_ctrl_c_is_status_130_and_quiet(self):
        _, silent = listener(self)
        live = str(start_server(self, "tyger"))
        for program_path in CLIENTS:
            program = Program(program_path, "--outcomes", "success,success", live, str(silent))
            self.addCleanup(program.end)
            self.assertIn("Task 1: got 813 bytes", program.readline("stderr"))
            self.assertEqual(program.stop(), (130, "", ""), program_path)

    def test_ctrl_c_inside_a_task_is_status_130_and_quiet(self):
        """Ctrl-C while a download's own code runs, not while it waits."""
        port = str(start_server(self, "tyger"))
        for program in CLIENTS:
            status, out, err = ctrl_c_inside(program, "cummingsify", "--outcomes", "success",
                                             port)
            self.assertEqual((status, out), (130, ""), err)
            self.assertNotIn("Traceback", err)
            self.assertNotIn("Got", err)  # no summary: the run was interrupted

    def test_help(self):
        for program in CLIENTS:
            status, out, err = run(program, "--help")
            self.assertEqual((status, err), (0, ""))
            self.assertIn("a poetry server's [host:]port", out)
            self.assertIn("--timeout TIMEOUT", out)
            self.assertIn("--outcomes OUTCOMES", out)

    def test_impossible_arguments(self):
        for program in CLIENTS:
            for args in (["0"], ["65536"], ["--timeout", "0", "1"], ["--timeout", "nan", "1"],
                         ["--outcomes", "maybe", "1"], []):
                status, out, err = run(program, *args)
                self.assertEqual((status, out), (2, ""), (program, args))
                self.assertIn("error:", err)


class StructuredConcurrencyTests(unittest.TestCase):
    """What the chapter says of TaskGroup, nurseries and Deferreds, on the pinned versions."""

    def test_a_taskgroup_cancels_the_others_and_raises_a_group(self):
        seen = []

        async def slow():
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                seen.append("slow canceled")
                raise

        async def broken():
            await asyncio.sleep(0)
            raise ConnectionResetError("the server hung up")

        async def main():
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(slow()), group.create_task(broken())]
            return tasks

        with self.assertRaises(ExceptionGroup) as caught:
            asyncio.run(main())
        self.assertEqual(seen, ["slow canceled"])
        self.assertEqual([type(e) for e in caught.exception.exceptions],
                         [ConnectionResetError])
        self.assertTrue(issubclass(asyncio.CancelledError, BaseException))
        self.assertFalse(issubclass(asyncio.CancelledError, Exception))

    def test_no_task_outlives_the_block(self):
        async def main():
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(asyncio.sleep(0.01 * n)) for n in range(3)]
            return [task.done() for task in tasks]

        self.assertEqual(asyncio.run(main()), [True, True, True])

    def test_a_nursery_cancels_the_others_and_raises_a_group(self):
        seen = []

        async def slow():
            try:
                await trio.sleep(10)
            except trio.Cancelled:
                seen.append("slow canceled")
                raise

        async def broken():
            await trio.sleep(0)
            raise ConnectionResetError("the server hung up")

        async def main():
            async with trio.open_nursery() as nursery:
                nursery.start_soon(slow)
                nursery.start_soon(broken)

        with self.assertRaises(ExceptionGroup) as caught:
            trio.run(main)
        self.assertEqual(seen, ["slow canceled"])
        self.assertEqual([type(e) for e in caught.exception.exceptions],
                         [ConnectionResetError])
        self.assertFalse(issubclass(trio.Cancelled, Exception))

    def test_asyncio_cancellation_is_edge_triggered(self):
        seen = []

        async def stubborn():
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                seen.append("canceled")
            await asyncio.sleep(0)
            seen.append("the second sleep ran")

        async def main():
            task = asyncio.create_task(stubborn())
            await asyncio.sleep(0)
            task.cancel()
            await task
            return task.cancelled()

        self.assertFalse(asyncio.run(main()))
        self.assertEqual(seen, ["canceled", "the second sleep ran"])

    def test_trio_cancellation_is_level_triggered(self):
        seen = []

        async def stubborn():
            with trio.CancelScope() as scope:
                scope.cancel()
                try:
                    await trio.sleep(10)
                except trio.Cancelled:
                    seen.append("canceled")
                await trio.sleep(0)
                seen.append("not reached")
            return scope.cancelled_caught

        self.assertTrue(trio.run(stubborn))
        self.assertEqual(seen, ["canceled"])

    def test_a_deferred_list_cancels_nothing(self):
        slow, broken = Deferred(), Deferred()
        both = DeferredList([slow, broken], consumeErrors=True)
        broken.errback(ConnectionResetError("the server hung up"))
        self.assertFalse(both.called)  # it waits for slow
        self.assertFalse(slow.called)  # and nobody canceled slow
        slow.callback("a poem")
        self.assertEqual(self.successResultOf(both)[0], (True, "a poem"))

    def test_gather_results_fails_at_once_and_leaves_the_others_running(self):
        slow, broken = Deferred(), Deferred()
        gathered = gatherResults([slow, broken], consumeErrors=True)
        broken.errback(ConnectionResetError("the server hung up"))
        failure = self.failureResultOf(gathered, FirstError)
        self.assertIsInstance(failure.value.subFailure.value, ConnectionResetError)
        self.assertFalse(slow.called)  # still pending: it outlives the gathering
        slow.callback("a poem nobody waits for")  # and it can still fire, unheard


class MaxConnectionsTests(unittest.TestCase):
    """Exercise 1's solution: an asyncio.Semaphore limits the connections open at once."""

    def test_one_at_a_time(self):
        first, first_port = listener(self)
        second, second_port = listener(self)
        client = Program(MAX, "--max-connections", "1", "--outcomes", "success,success",
                         str(first_port), str(second_port))
        self.addCleanup(client.end)
        connection, _ = first.accept()
        second.settimeout(0.5)  # the client must not connect while the first is open
        self.assertRaises(TimeoutError, second.accept)
        connection.sendall(b"First Poem\n")
        connection.close()
        second.settimeout(10)
        connection, _ = second.accept()  # now it does
        connection.sendall(b"Second Poem\n")
        connection.close()
        status, out, err = client.finish()
        self.assertEqual((status, out), (0, "first poem\n\nsecond poem\n"), err)

    def test_without_the_option_it_is_the_chapters_client(self):
        ports = [str(start_server(self, name)) for name in ("science", "ozymandias")]
        dead = str(refused_port(self))
        results = []
        for program in (ASYNCIO, MAX):
            status, out, err = run(program, "--outcomes", "success,bug", *ports, dead)
            results.append((status, out, sorted(err.splitlines())[1:]))
        self.assertEqual(results[0], results[1])

    def test_impossible_limits(self):
        for value in ("0", "-1", "two"):
            status, out, err = run(MAX, "--max-connections", value, "10001")
            self.assertEqual((status, out), (2, ""), value)
            self.assertIn("--max-connections", err)


class FirstPoemTests(unittest.TestCase):
    """Exercise 2's solution: the first poem wins, and the others are canceled."""

    def test_the_first_poem_cancels_a_server_that_says_nothing(self):
        silent, silent_port = listener(self)
        live = str(start_server(self, "tyger"))
        client = Program(FIRST, "--timeout", "30", str(silent_port), live)
        self.addCleanup(client.end)
        connection, _ = silent.accept()
        self.addCleanup(connection.close)
        status, out, err = client.finish(timeout=10)  # long before the 30 s timeout
        self.assertEqual((status, out), (0, POEMS["tyger"].decode()), err)
        self.assertEqual(err.splitlines()[0], f"Task 2: got 813 bytes of poetry from "
                                              f"127.0.0.1:{live}")
        self.assertRegex(err.splitlines()[1],
                         rf"^The first poem came from 127.0.0.1:{live} in \d+\.\d seconds\.$")
        connection.settimeout(10)
        self.assertEqual(connection.recv(100), b"")  # the client closed its connection

    def test_a_failure_is_reported_and_the_others_go_on(self):
        dead = refused_port(self)
        live = str(start_server(self, "science"))
        status, out, err = run(FIRST, str(dead), live)
        self.assertEqual((status, out), (0, POEMS["science"].decode()))
        self.assertIn(f"Task 1: cannot get poetry from 127.0.0.1:{dead}: Connection refused",
                      err.splitlines())

    def test_every_server_fails(self):
        dead = [str(refused_port(self)) for _ in range(2)]
        status, out, err = run(FIRST, *dead)
        self.assertEqual((status, out), (1, ""))
        self.assertRegex(err.splitlines()[-1], r"^No poem from any of 2 servers in ")

    def test_ctrl_c(self):
        _, silent = listener(self)
        client = Program(FIRST, str(silent))
        self.addCleanup(client.end)
        wait_until(lambda: connected_to(silent), "the client to connect")
        self.assertEqual(client.stop(), (130, "", ""))


def connected_to(port: int) -> bool:
    """Whether a connection to 127.0.0.1:port is established (from /proc/net/tcp)."""
    remote = f"0100007F:{port:04X}"
    return any(line.split()[2] == remote and line.split()[3] == "01"
               for line in Path("/proc/net/tcp").read_text().splitlines()[1:])
