"""Chapter 15: generators, a home-made driver, @inlineCallbacks, and the client rewritten."""

import io
import re
import sys
import warnings
from types import SimpleNamespace

from twisted.internet import reactor
from twisted.internet.defer import Deferred, fail, inlineCallbacks, returnValue, succeed
from twisted.internet.error import (
    ConnectionRefusedError as TwistedConnectionRefusedError,
)
from twisted.python.failure import Failure
from twisted.trial import unittest

from tests.programs import (
    POEMS,
    Program,
    listener,
    load_program,
    refused_port,
    run,
    start_server,
    unanswered_port,
    wait_for_the_reactor,
)
from tests.test_chapter11 import ctrl_c_inside

FOLDER = "inline-callbacks"
GENERATORS = {name: f"{FOLDER}/{name}.py" for name in ("gen-1", "gen-2", "gen-3", "gen-4")}
INLINE = f"{FOLDER}/inline.py"
CLIENT = f"{FOLDER}/get-poetry.py"
LOOP = f"{FOLDER}/yield-in-a-loop.py"
CLIENT_5 = "twisted-client-5/get-poetry.py"
FIRST_POEM = "solutions/ch15-first-poem/get-poetry.py"

TYGER = "Tyger Tyger, burning bright,"
NO_POEM = "the server closed the connection without sending a poem"


def empty_poem(test, program: str, *args: str) -> tuple[int, int, str, str]:
    """Run a client against a server that closes without a byte; return (port, status, out, err)."""
    server, port = listener(test)
    client = Program(program, *args, str(port))
    connection, _ = server.accept()
    connection.close()  # not a byte
    return (port, *client.finish())


def output_of(test, program, *args):
    """Run a program that must succeed silently on stderr; return its stdout lines."""
    status, out, err = run(program, *args)
    test.assertEqual((status, err), (0, ""), program)
    return out.splitlines()


class EveryProgramTests(unittest.TestCase):
    def test_help(self):
        for program in [*GENERATORS.values(), INLINE, CLIENT, LOOP, FIRST_POEM]:
            status, out, err = run(program, "--help")
            self.assertEqual((status, err), (0, ""), program)
            first_line = load_program(program).__doc__.split("\n\n")[0]
            # argparse wraps the description, and may break it after a hyphen.
            self.assertIn("".join(first_line.split()), "".join(out.split()), program)

    def test_the_client_has_client_5s_options(self):
        def options(program):
            return re.findall(r"--\w+", run(program, "--help")[1])

        self.assertEqual(options(CLIENT), options(CLIENT_5))


class GeneratorProgramTests(unittest.TestCase):
    """The order of events, as each program prints it."""

    def test_gen_1_runs_a_stretch_per_next(self):
        self.assertEqual(output_of(self, GENERATORS["gen-1"]), [
            "main: poem_lines() returned a generator",
            "  generator: started",
            f"main: next() returned {TYGER!r}",
            "  generator: resumed after the first line",
            "main: next() returned 'In the forests of the night;'",
            "  generator: resumed after the second line, and finished",
            "main: next() raised StopIteration",
        ])

    def test_gen_2_send_and_the_return_value(self):
        self.assertEqual(output_of(self, GENERATORS["gen-2"]), [
            "  generator: asking for the poem on 10001",
            "main: the generator asks for 10001",
            f"  generator: got {TYGER!r}; asking for the poem on 10002",
            "main: the generator asks for 10002",
            "  generator: got 'My name is Ozymandias,'; returning both",
            f"main: StopIteration([{TYGER!r}, 'My name is Ozymandias,'])",
        ])

    def test_gen_3_throw_is_caught_at_the_yield(self):
        self.assertEqual(output_of(self, GENERATORS["gen-3"]), [
            "  generator: asking for the poem on 10001",
            "main: the generator asks for 10001",
            f"  generator: got {TYGER!r}; asking for the poem on 10002",
            "main: the generator asks for 10002",
            "  generator: caught ConnectionRefusedError('nobody listens on port 10002')",
            f"  generator: returning [{TYGER!r}, '[no poem]']",
            f"main: StopIteration([{TYGER!r}, '[no poem]'])",
        ])

    def test_gen_4_and_inline_print_the_same_generator_events(self):
        driven = output_of(self, GENERATORS["gen-4"])
        inline = output_of(self, INLINE)
        self.assertEqual(driven, [
            "drive: gen.send(None)",
            "  generator: asking for the poem on 10001",
            "main: drive() returned a Deferred; starting the reactor",
            f"drive: gen.send({TYGER!r})",
            f"  generator: got {TYGER!r}; asking for the poem on 10002",
            "drive: gen.throw(ConnectionRefusedError('nobody listens on port 10002'))",
            "  generator: caught ConnectionRefusedError('nobody listens on port 10002')",
            f"  generator: returning [{TYGER!r}, '[no poem]']",
            f"main: the Deferred fired with [{TYGER!r}, '[no poem]']",
        ])
        self.assertEqual(inline, [
            line.replace("drive()", "two_poems()") for line in driven
            if not line.startswith("drive: ")
        ])


class GeneratorTests(unittest.TestCase):
    """gen-3's generator, driven by hand, as the chapter's doctests drive theirs."""

    def setUp(self):
        self.module = load_program(GENERATORS["gen-3"])
        self.patch(sys, "stdout", io.StringIO())

    def test_a_return_value_rides_on_stop_iteration(self):
        gen = self.module.two_poems()
        self.assertEqual(next(gen), "10001")
        self.assertEqual(gen.send("a"), "10002")
        stop = self.assertRaises(StopIteration, gen.send, "b")
        self.assertEqual(stop.value, ["a", "b"])

    def test_an_exception_it_does_not_catch_comes_out_of_throw(self):
        gen = self.module.two_poems()
        next(gen)
        self.assertRaises(KeyError, gen.throw, KeyError("10001"))
        self.assertRaises(StopIteration, next, gen)  # and it is finished

    def test_a_just_started_generator_takes_only_none(self):
        self.assertRaises(TypeError, self.module.two_poems().send, "too early")


class DriveTests(unittest.TestCase):
    """gen-4's drive(), with Deferreds fired by hand: no reactor, no network."""

    def setUp(self):
        self.module = load_program(GENERATORS["gen-4"])
        self.stdout = io.StringIO()
        self.patch(sys, "stdout", self.stdout)

    def test_each_deferred_resumes_the_generator_with_its_result(self):
        first, second = Deferred(), Deferred()
        asked = iter([first, second])
        self.patch(self.module, "poem_later", lambda address: next(asked))
        finished = self.module.drive(self.module.two_poems())
        self.assertNoResult(finished)
        first.callback("a poem")
        self.assertNoResult(finished)
        second.errback(ConnectionRefusedError("nobody"))
        self.assertEqual(self.successResultOf(finished), ["a poem", "[no poem]"])
        self.assertIn("drive: gen.throw(ConnectionRefusedError('nobody'))",
                      self.stdout.getvalue())

    def test_an_uncaught_exception_fails_the_deferred(self):
        self.patch(self.module, "poem_later",
                   lambda address: fail(ConnectionRefusedError(f"nobody at {address}")))
        finished = self.module.drive(self.module.two_poems())
        failure = self.failureResultOf(finished, ConnectionRefusedError)
        self.assertEqual(str(failure.value), "nobody at 10001")

    def test_fired_deferreds_in_a_row(self):
        """Exercise 2: a few are fine; inlineCallbacks takes thousands, in a loop."""

        def many(count):
            total = 0
            for _ in range(count):
                total += yield succeed(1)
            return total

        self.assertEqual(self.successResultOf(self.module.drive(many(50))), 50)
        self.assertEqual(self.successResultOf(inlineCallbacks(many)(5000)), 5000)


class InlineCallbacksTests(unittest.TestCase):
    """inline.py's two_poems(), with Deferreds that have fired, failed, or not yet."""

    def setUp(self):
        self.module = load_program(INLINE)
        self.patch(sys, "stdout", io.StringIO())

    def use(self, *deferreds):
        asked = iter(deferreds)
        self.patch(self.module, "poem_later", lambda address: next(asked))

    def test_fired_deferreds_run_it_to_the_end_inside_the_call(self):
        self.use(succeed("a"), succeed("b"))
        self.assertEqual(self.successResultOf(self.module.two_poems()), ["a", "b"])

    def test_a_failed_deferred_is_thrown_in_and_caught(self):
        self.use(succeed("a"), fail(ConnectionRefusedError("nobody")))
        self.assertEqual(self.successResultOf(self.module.two_poems()), ["a", "[no poem]"])

    def test_an_error_it_does_not_catch_fails_its_deferred(self):
        self.use(fail(ConnectionRefusedError("nobody")))
        self.failureResultOf(self.module.two_poems(), ConnectionRefusedError)
        self.use(succeed("a"), fail(ValueError("not a refusal")))
        self.failureResultOf(self.module.two_poems(), ValueError)

    def test_it_waits_for_a_deferred_that_has_not_fired(self):
        first = Deferred()
        self.use(first, succeed("b"))
        d = self.module.two_poems()
        self.assertNoResult(d)
        first.callback("a")
        self.assertEqual(self.successResultOf(d), ["a", "b"])

    def test_a_plain_value_comes_straight_back(self):
        @inlineCallbacks
        def plain():
            value = yield "a plain value"
            return value

        self.assertEqual(self.successResultOf(plain()), "a plain value")

    def test_return_value_is_deprecated(self):
        @inlineCallbacks
        def old_style():
            yield succeed(None)
            returnValue("a poem")

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            d = old_style()
        self.assertEqual(self.successResultOf(d), "a poem")
        self.assertEqual([w.category for w in caught], [DeprecationWarning])
        self.assertIn("returnValue was deprecated", str(caught[0].message))


class YieldInALoopTests(unittest.TestCase):
    """one_by_one() starts each download after the last; all_at_once() starts them all."""

    def setUp(self):
        self.module = load_program(LOOP)
        self.patch(sys, "stdout", io.StringIO())
        self.started = {}
        self.patch(self.module, "get_poetry", self.get_poetry)

    def get_poetry(self, host, port):
        self.started[port] = Deferred()
        return self.started[port]

    def test_one_by_one_waits_before_it_starts_the_next(self):
        d = self.module.one_by_one([("127.0.0.1", 1), ("127.0.0.1", 2)])
        self.assertEqual(list(self.started), [1])
        self.started[1].callback(b"first")
        self.assertEqual(list(self.started), [1, 2])
        self.started[2].callback(b"second")
        self.assertEqual(self.successResultOf(d), [b"first", b"second"])

    def test_all_at_once_starts_everything_first(self):
        d = self.module.all_at_once([("127.0.0.1", 1), ("127.0.0.1", 2)])
        self.assertEqual(list(self.started), [1, 2])
        self.started[2].callback(b"second")  # the later poem comes first
        self.assertNoResult(d)
        self.started[1].callback(b"first")
        self.assertEqual(self.successResultOf(d), [b"first", b"second"])

    def test_as_a_process_one_by_one_takes_the_sum_of_the_pauses(self):
        # 0.1 s after each chunk of 200 bytes: 4 + 4 + 2 pauses, 1.0 s in all.
        ports = [str(start_server(self, name, "--delay", "0.1"))
                 for name in ("science", "ozymandias", "automne")]
        times = {}
        for option in ([], ["--all-at-once"]):
            lines = output_of(self, LOOP, *option, *ports)
            self.assertEqual([line for line in lines if "got" in line], [
                "Task 1: got 673 bytes", "Task 2: got 676 bytes", "Task 3: got 341 bytes"])
            times[bool(option)] = float(re.fullmatch(r"Got 3 poems in (\d+\.\d) seconds\.",
                                                     lines[-1]).group(1))
        self.assertGreaterEqual(times[False], 1.0)
        self.assertLess(times[True], 0.7)

    def test_a_server_down(self):
        status, out, err = run(LOOP, "--all-at-once", str(refused_port(self)))
        self.assertEqual((status, err), (1, ""))
        self.assertIn("No poems: Connection was refused", out)

    def test_an_empty_poem(self):
        port, status, out, err = empty_poem(self, LOOP)
        self.assertEqual((status, err), (1, ""))
        self.assertEqual(out, f"Task 1: fetching from 127.0.0.1:{port}\nNo poems: {NO_POEM}\n")

    def test_a_server_that_never_answers(self):
        """connectTCP() gives up after its timeout (30 seconds unless told): in the book's words."""
        stuck = unanswered_port(self)
        d = Deferred()
        reactor.connectTCP("127.0.0.1", stuck, self.module.PoetryClientFactory(d), timeout=0.5)
        d = self.assertFailure(d, TimeoutError)  # Python's, not Twisted's
        return d.addCallback(lambda error: self.assertEqual(str(error),
                                                            "no answer within 0.5 seconds"))

    def test_each_line_as_it_happens(self):
        """Even into a pipe, the line that says a download has started comes when it starts."""
        _, silent = listener(self)
        program = Program(LOOP, str(silent))
        self.addCleanup(program.end)
        self.assertEqual(program.readline(), f"Task 1: fetching from 127.0.0.1:{silent}\n")
        wait_for_the_reactor(program)  # before the clean-up's Ctrl-C

    def test_ctrl_c_as_the_last_poem_comes_in(self):
        """The client's stop and Ctrl-C's in one turn of the loop: no ReactorNotRunning."""
        port = start_server(self, "tyger")
        status, out, err = ctrl_c_inside(LOOP, "PoetryProtocol.connectionLost", str(port))
        self.assertEqual((status, err), (0, ""))
        self.assertEqual(out.splitlines()[-1][:14], "Got 1 poems in")

    def test_ctrl_c_stops_it_quietly(self):
        _, silent = listener(self)
        for option in ([], ["--all-at-once"]):
            program = Program(LOOP, *option, str(silent), str(silent))
            self.addCleanup(program.end)
            wait_for_the_reactor(program)
            status, out, err = program.stop()
            self.assertEqual((status, err), (130, ""))
            self.assertNotIn("Got", out)

    def test_ctrl_c_while_still_connecting_is_quiet_too(self):
        """The reactor fails a connection it is still making as it stops: not a failed poem."""
        unanswered = str(unanswered_port(self))
        for option in ([], ["--all-at-once"]):
            program = Program(LOOP, *option, unanswered)
            self.addCleanup(program.end)
            self.assertEqual(program.readline(), f"Task 1: fetching from 127.0.0.1:{unanswered}\n")
            wait_for_the_reactor(program)
            status, out, err = program.stop()
            self.assertEqual((status, out, err), (130, "", ""))


class ClientTests(unittest.TestCase):
    """The inline client as a process: client-5's command line and client-5's output."""

    def test_all_three_outcomes(self):
        ports = [str(start_server(self, name)) for name in ("science", "ozymandias", "automne")]
        status, out, err = run(CLIENT, "--outcomes", "success,gibberish,bug", *ports)
        self.assertEqual(status, 1)
        self.assertEqual(out.encode(), POEMS["science"].decode().lower().encode()
                         + b"\n" + POEMS["automne"])
        lines = err.splitlines()
        self.assertEqual(sorted(lines[:4]), [
            f"Task 1: got 673 bytes of poetry from 127.0.0.1:{ports[0]}",
            f"Task 2: cummingsify() made gibberish of the poem from 127.0.0.1:{ports[1]}",
            "Task 3: cummingsify() failed (ValueError: a bug in cummingsify()); "
            "keeping the poem as it came",
            f"Task 3: got 341 bytes of poetry from 127.0.0.1:{ports[2]}",
        ])
        self.assertRegex(lines[4], r"^Got 2 of 3 poems in \d+\.\d seconds\.$")
        self.assertEqual(len(lines), 5)

    def test_the_same_output_as_client_5(self):
        dead = str(refused_port(self))
        ports = [str(start_server(self, name)) for name in ("tyger", "automne")]
        args = ["--outcomes", "bug,success,gibberish", *ports, dead]
        inline, client_5 = run(CLIENT, *args), run(CLIENT_5, *args)
        self.assertEqual(inline[:2], client_5[:2])  # status and poems
        without_time = re.compile(r"in \d+\.\d seconds")
        self.assertEqual(sorted(without_time.sub("", inline[2]).splitlines()),
                         sorted(without_time.sub("", client_5[2]).splitlines()))

    def test_a_server_down(self):
        dead, live = refused_port(self), start_server(self, "tyger")
        status, out, err = run(CLIENT, "--outcomes", "success,success", str(dead), str(live))
        self.assertEqual(status, 1)
        self.assertEqual(out.encode(), POEMS["tyger"].decode().lower().encode())
        self.assertIn(f"Task 1: cannot get poetry from 127.0.0.1:{dead}: Connection refused\n",
                      err)
        self.assertEqual(len(err.splitlines()), 3)

    def test_every_server_answers(self):
        ports = [str(start_server(self, "tyger")) for _ in range(2)]
        status, out, err = run(CLIENT, "--outcomes", "success,bug", *ports)
        self.assertEqual(status, 0)
        self.assertEqual(out, POEMS["tyger"].decode().lower() + "\n" + POEMS["tyger"].decode())

    def test_a_silent_server_times_out(self):
        _, silent = listener(self)
        status, out, err = run(CLIENT, "--timeout", "0.3", str(silent))
        self.assertEqual((status, out), (1, ""))
        self.assertIn(f"Task 1: cannot get poetry from 127.0.0.1:{silent}: "
                      "the server said nothing for 0.3 seconds\n", err)

    def test_ctrl_c_stops_it_quietly(self):
        _, silent = listener(self)
        live = start_server(self, "tyger")
        program = Program(CLIENT, "--outcomes", "success,success", str(live), str(silent))
        self.addCleanup(program.end)
        self.assertEqual(program.readline("stderr"),
                         f"Task 1: got 813 bytes of poetry from 127.0.0.1:{live}\n")
        self.assertEqual(program.stop(), (130, "", ""))  # the reactor printed that line

    def test_an_empty_poem(self):
        port, status, out, err = empty_poem(self, CLIENT)
        self.assertEqual((status, out), (1, ""))
        self.assertEqual(err.splitlines()[0], f"Task 1: cannot get poetry from 127.0.0.1:{port}: "
                                              f"{NO_POEM}")

    def test_a_server_that_never_answers(self):
        stuck = unanswered_port(self)
        status, out, err = run(CLIENT, "--timeout", "0.5", str(stuck))
        self.assertEqual((status, out), (1, ""))
        self.assertEqual(err.splitlines()[0], f"Task 1: cannot get poetry from 127.0.0.1:{stuck}: "
                                              "no answer within 0.5 seconds")

    def test_ctrl_c_as_the_last_poem_comes_in(self):
        """The client's stop and Ctrl-C's in one turn of the loop: no ReactorNotRunning."""
        port = start_server(self, "tyger")
        status, out, err = ctrl_c_inside(CLIENT, "PoetryClientFactory.poem_finished",
                                         "--outcomes", "success", str(port))
        self.assertNotIn("ReactorNotRunning", err)
        self.assertEqual((status, out), (0, POEMS["tyger"].decode().lower()), err)

    def test_describe_takes_an_exception(self):
        describe = load_program(CLIENT).describe
        self.assertEqual(describe(TwistedConnectionRefusedError(osError=111)),
                         "Connection refused")
        self.assertEqual(describe(TimeoutError("no word for 10 seconds")),
                         "no word for 10 seconds")


class FirstPoemTests(unittest.TestCase):
    """The solution to exercise 1: get_poetry_from_any(), with a for loop."""

    def test_the_first_server_that_has_a_poem(self):
        dead_1, dead_2 = refused_port(self), refused_port(self)
        live, unused = start_server(self, "automne"), start_server(self, "tyger")
        status, out, err = run(FIRST_POEM, *map(str, (dead_1, dead_2, live, unused)))
        self.assertEqual(status, 0)
        self.assertEqual(out, POEMS["automne"].decode())
        lines = err.splitlines()
        self.assertEqual(lines[:2], [
            f"Cannot get poetry from 127.0.0.1:{dead_1}: Connection refused",
            f"Cannot get poetry from 127.0.0.1:{dead_2}: Connection refused",
        ])
        self.assertRegex(lines[2], rf"^Got a poem from 127\.0\.0\.1:{live} in \d+\.\d seconds\.$")
        self.assertEqual(len(lines), 3)

    def test_no_server_has_a_poem(self):
        dead = [str(refused_port(self)) for _ in range(2)]
        status, out, err = run(FIRST_POEM, *dead)
        self.assertEqual((status, out), (1, ""))
        self.assertEqual(err.splitlines()[-1], "No server had a poem.")
        self.assertEqual(len(err.splitlines()), 3)

    def test_an_empty_poem_is_no_poem(self):
        """A server that sends nothing has no poem to give: the next one is asked."""
        server, empty = listener(self)
        live = start_server(self, "tyger")
        client = Program(FIRST_POEM, str(empty), str(live))
        connection, _ = server.accept()
        connection.close()  # not a byte
        status, out, err = client.finish()
        self.assertEqual((status, out), (0, POEMS["tyger"].decode()))
        self.assertEqual(err.splitlines()[0],
                         f"Cannot get poetry from 127.0.0.1:{empty}: {NO_POEM}")

    def test_a_server_that_never_answers(self):
        stuck, live = unanswered_port(self), start_server(self, "tyger")
        status, out, err = run(FIRST_POEM, "--timeout", "0.5", str(stuck), str(live))
        self.assertEqual((status, out), (0, POEMS["tyger"].decode()))
        self.assertEqual(err.splitlines()[0],
                         f"Cannot get poetry from 127.0.0.1:{stuck}: no answer within 0.5 seconds")

    def test_ctrl_c_as_the_poem_comes_in(self):
        """The client's stop and Ctrl-C's in one turn of the loop: no ReactorNotRunning."""
        port = start_server(self, "tyger")
        status, out, err = ctrl_c_inside(FIRST_POEM, "PoetryClientFactory.poem_finished",
                                         str(port))
        self.assertNotIn("ReactorNotRunning", err)
        self.assertEqual((status, out), (0, POEMS["tyger"].decode()), err)

    def test_it_asks_the_next_server_only_after_a_failure(self):
        module = load_program(FIRST_POEM)
        self.patch(sys, "stderr", io.StringIO())
        started = {}

        def get_poetry(host, port, timeout):
            started[port] = Deferred()
            return started[port]

        self.patch(module, "get_poetry", get_poetry)
        self.patch(module, "reactor", SimpleNamespace(running=True))  # not Ctrl-C
        d = module.get_poetry_from_any([("127.0.0.1", 1), ("127.0.0.1", 2), ("127.0.0.1", 3)])
        self.assertEqual(list(started), [1])
        started[1].errback(Failure(TwistedConnectionRefusedError(osError=111)))
        self.assertEqual(list(started), [1, 2])
        started[2].callback(b"a poem")
        self.assertEqual(self.successResultOf(d), (b"a poem", "127.0.0.1:2"))
        self.assertEqual(list(started), [1, 2])  # server 3 was never asked

    def test_ctrl_c_stops_it_quietly(self):
        _, silent = listener(self)
        program = Program(FIRST_POEM, str(silent))
        self.addCleanup(program.end)
        wait_for_the_reactor(program)
        self.assertEqual(program.stop(), (130, "", ""))
