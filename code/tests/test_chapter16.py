"""Chapter 16: DeferredList, gatherResults, race, and a client that waits with a DeferredList."""

import gc
import re
from functools import partial

from twisted.internet.defer import (
    CancelledError,
    Deferred,
    DeferredList,
    FailureGroup,
    FirstError,
    gatherResults,
    race,
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

FOLDER = "deferred-list"
PROGRAMS = {
    name: f"{FOLDER}/{name}.py"
    for name in ("list-order", "consume-errors", "fire-on-one", "gather", "get-poetry")
}
CLIENT = PROGRAMS["get-poetry"]
OWN_LIST = "solutions/ch16-deferred-list/list-order.py"
NO_POEM = "the server closed the connection without sending a poem"


def output_of(test, program, *args):
    """Run a program that must succeed silently on stderr; return its stdout lines."""
    status, out, err = run(program, *args)
    test.assertEqual((status, err), (0, ""))
    return out.splitlines()


class EveryProgramTests(unittest.TestCase):
    def test_help(self):
        for program in [*PROGRAMS.values(), OWN_LIST]:
            status, out, err = run(program, "--help")
            self.assertEqual((status, err), (0, ""), program)
            first_line = load_program(program).__doc__.split("\n\n")[0]
            # argparse wraps the description, and may break it after a hyphen.
            self.assertIn("".join(first_line.split()), "".join(out.split()), program)


class SmallProgramTests(unittest.TestCase):
    """The output of each small program, line for line."""

    def test_list_order(self):
        self.assertEqual(output_of(self, PROGRAMS["list-order"]), [
            "d3.callback('poem 3')",
            "d1.callback('poem 1')",
            "d2.callback('poem 2')",
            "  The DeferredList fired with:",
            "    (True, 'poem 1')",
            "    (True, 'poem 2')",
            "    (True, 'poem 3')",
            "All three have fired.",
        ])

    def test_an_unconsumed_failure_goes_on_and_is_logged(self):
        failure = "<twisted.python.failure.Failure builtins.ValueError: no poem 2>"
        self.assertEqual(output_of(self, PROGRAMS["consume-errors"]), [
            "d1.callback('poem 1')",
            "d2.errback(ValueError('no poem 2'))",
            "  The DeferredList fired with:",
            "    (True, 'poem 1')",
            f"    (False, {failure})",
            f"  d2's next stage got {failure}",
            "[twisted.internet.defer#critical] Unhandled error in Deferred:",
            "[twisted.internet.defer#critical]",
            "Traceback (most recent call last):",
            "Failure: builtins.ValueError: no poem 2",
            "The Deferreds are gone.",
        ])

    def test_a_consumed_failure_becomes_none(self):
        lines = output_of(self, PROGRAMS["consume-errors"], "--consume-errors")
        self.assertEqual(lines[4:], [
            "    (False, <twisted.python.failure.Failure builtins.ValueError: no poem 2>)",
            "  d2's next stage got None",
            "The Deferreds are gone.",
        ])

    def test_fire_on_one_callback(self):
        self.assertEqual(output_of(self, PROGRAMS["fire-on-one"]), [
            "d2.errback(ValueError('no poem 2'))",
            "d3.callback('poem 3')",
            "  The DeferredList fired with ('poem 3', 2)",
            "d1.callback('poem 1')",
        ])

    def test_fire_on_one_errback_when_all_succeed(self):
        ds = [Deferred(), Deferred()]
        dl = DeferredList(ds, fireOnOneErrback=True)
        ds[0].callback(1)
        ds[1].callback(2)
        self.assertEqual(fired(self, dl), [(True, 1), (True, 2)])

    def test_fire_on_one_errback(self):
        self.assertEqual(output_of(self, PROGRAMS["fire-on-one"], "--errback"), [
            "d2.errback(ValueError('no poem 2'))",
            "  The DeferredList failed with FirstError[#1, ValueError('no poem 2')]",
            "    value.index: 1",
            "    value.subFailure: "
            "<twisted.python.failure.Failure builtins.ValueError: no poem 2>",
            "d3.callback('poem 3')",
            "d1.callback('poem 1')",
        ])

    def test_gather(self):
        self.assertEqual(output_of(self, PROGRAMS["gather"]), [
            "d3.callback('poem 3')",
            "d1.callback('poem 1')",
            "d2.callback('poem 2')",
            "  gatherResults() fired with ['poem 1', 'poem 2', 'poem 3']",
        ])

    def test_gather_a_failure(self):
        self.assertEqual(output_of(self, PROGRAMS["gather"], "--fail"), [
            "d3.callback('poem 3')",
            "d1.errback(ValueError('no poem 1'))",
            "  gatherResults() failed with FirstError[#0, ValueError('no poem 1')]",
            "d2.callback('poem 2')",
        ])


def fired(test, d):
    """The result a Deferred has fired with (it must have fired), taken out of it."""
    results = []
    d.addBoth(results.append)
    test.assertEqual(len(results), 1, "the Deferred has not fired")
    return results[0]


class DeferredListTests(unittest.TestCase):
    """What the chapter says of DeferredList, and what the client relies on: no network."""

    def test_list_order_not_firing_order(self):
        ds = [Deferred() for _ in range(3)]
        dl = DeferredList(ds)
        for index in (2, 0, 1):
            ds[index].callback(f"poem {index + 1}")
        self.assertEqual(fired(self, dl),
                         [(True, "poem 1"), (True, "poem 2"), (True, "poem 3")])

    def test_fires_inside_the_call_that_fires_the_last(self):
        ds = [Deferred() for _ in range(3)]
        dl = DeferredList(ds)
        ds[2].callback(3)
        ds[0].callback(1)
        self.assertFalse(dl.called)
        ds[1].callback(2)
        self.assertTrue(dl.called)

    def test_a_failure_is_a_pair_and_the_list_does_not_fail(self):
        ds = [Deferred(), Deferred()]
        dl = DeferredList(ds, consumeErrors=True)
        ds[0].errback(ValueError("no poem"))
        ds[1].callback("a poem")
        [(ok_0, failure), (ok_1, poem)] = fired(self, dl)
        self.assertEqual((ok_0, ok_1, poem), (False, True, "a poem"))
        self.assertIsInstance(failure, Failure)
        self.assertTrue(failure.check(ValueError))

    def test_without_consume_errors_the_failure_goes_on(self):
        d = Deferred()
        DeferredList([d])
        d.errback(ValueError("no poem"))
        self.assertTrue(fired(self, d).check(ValueError))  # and fired() handled it

    def test_without_consume_errors_it_is_logged_as_unhandled(self):
        d = Deferred()
        dl = DeferredList([d])
        d.errback(ValueError("no poem"))
        del d, dl
        gc.collect()
        self.assertEqual(len(self.flushLoggedErrors(ValueError)), 1)

    def test_consume_errors_turns_the_failure_into_none(self):
        d = Deferred()
        DeferredList([d], consumeErrors=True)
        d.errback(ValueError("no poem"))
        self.assertIsNone(fired(self, d))

    def test_stages_added_before_decide_what_it_sees(self):
        """As in the client: got_poem() returns the poem, poem_failed() the failure."""
        def got_poem(task, poem):
            return poem

        def poem_failed(task, failure):
            return failure

        ds = []
        for task in (1, 2, 3):
            d = Deferred()
            d.addCallback(lambda poem: poem.lower())  # try_to_cummingsify's place
            d.addCallbacks(partial(got_poem, task), partial(poem_failed, task))
            ds.append(d)
        dl = DeferredList(ds, consumeErrors=True)
        ds[2].callback("POEM 3")
        ds[1].errback(ConnectionRefusedError())
        ds[0].callback("POEM 1")
        results = fired(self, dl)
        self.assertEqual([ok for ok, _ in results], [True, False, True])
        self.assertEqual([poem for ok, poem in results if ok], ["poem 1", "poem 3"])
        self.assertTrue(results[1][1].check(ConnectionRefusedError))
        self.assertEqual([fired(self, d) for d in ds], ["poem 1", None, "poem 3"])

    def test_empty(self):
        self.assertEqual(fired(self, DeferredList([])), [])
        self.assertFalse(DeferredList([], fireOnOneCallback=True).called)  # never fires

    def test_fire_on_one_callback(self):
        ds = [Deferred() for _ in range(3)]
        dl = DeferredList(ds, fireOnOneCallback=True, consumeErrors=True)
        ds[1].errback(ValueError())
        self.assertFalse(dl.called)
        ds[2].callback("poem 3")
        self.assertEqual(fired(self, dl), ("poem 3", 2))

    def test_fire_on_one_callback_when_all_fail(self):
        ds = [Deferred(), Deferred()]
        dl = DeferredList(ds, fireOnOneCallback=True, consumeErrors=True)
        ds[0].errback(ValueError())
        ds[1].errback(KeyError())
        self.assertEqual([ok for ok, _ in fired(self, dl)], [False, False])

    def test_fire_on_one_errback_when_all_succeed(self):
        ds = [Deferred(), Deferred()]
        dl = DeferredList(ds, fireOnOneErrback=True)
        ds[0].callback(1)
        ds[1].callback(2)
        self.assertEqual(fired(self, dl), [(True, 1), (True, 2)])

    def test_fire_on_one_errback(self):
        ds = [Deferred() for _ in range(3)]
        dl = DeferredList(ds, fireOnOneErrback=True, consumeErrors=True)
        ds[0].callback("poem 1")
        ds[1].errback(ValueError("no poem 2"))
        failure = fired(self, dl)
        self.assertIsInstance(failure.value, FirstError)
        self.assertEqual(failure.value.index, 1)
        self.assertTrue(failure.value.subFailure.check(ValueError))


class GatherAndRaceTests(unittest.TestCase):
    def test_gather_results_in_order(self):
        ds = [Deferred() for _ in range(3)]
        gathered = gatherResults(ds)
        for index in (2, 0, 1):
            ds[index].callback(index + 1)
        self.assertEqual(fired(self, gathered), [1, 2, 3])

    def test_gather_fails_on_the_first_failure(self):
        ds = [Deferred() for _ in range(3)]
        gathered = gatherResults(ds, consumeErrors=True)
        ds[2].callback(3)
        ds[0].errback(ValueError("no poem 1"))
        failure = fired(self, gathered)
        self.assertEqual((failure.value.index, repr(failure.value.subFailure.value)),
                         (0, "ValueError('no poem 1')"))
        self.assertIsNone(fired(self, ds[0]))  # consumed

    def test_gather_without_consume_errors_leaves_the_failure(self):
        d = Deferred()
        gatherResults([d]).addErrback(lambda failure: None)
        d.errback(ValueError())
        self.assertTrue(fired(self, d).check(ValueError))

    def test_gather_empty(self):
        self.assertEqual(fired(self, gatherResults([])), [])

    def test_race(self):
        ds = [Deferred() for _ in range(3)]
        first = race(ds)
        ds[1].callback("poem 2")
        self.assertEqual(fired(self, first), (1, "poem 2"))
        # The others were cancelled, and race() consumed their CancelledError.
        self.assertEqual([fired(self, ds[0]), fired(self, ds[2])], [None, None])

    def test_race_cancels_the_others(self):
        cancelled = []
        ds = [Deferred(lambda d, i=i: cancelled.append(i)) for i in range(3)]
        race(ds)
        ds[0].callback("poem 1")
        self.assertEqual(cancelled, [1, 2])

    def test_race_all_fail(self):
        ds = [Deferred(), Deferred()]
        first = race(ds)
        ds[1].errback(KeyError())
        ds[0].errback(ValueError())
        failure = fired(self, first)
        self.assertIsInstance(failure.value, FailureGroup)
        self.assertEqual([f.type for f in failure.value.failures], [ValueError, KeyError])

    def test_no_deprecation_warnings(self):
        for d in (DeferredList([]), gatherResults([]), race([Deferred()])):
            d.addErrback(lambda failure: failure.trap(CancelledError))
        ds = [Deferred(), Deferred()]
        DeferredList(ds, fireOnOneCallback=True, consumeErrors=True)
        DeferredList(ds, fireOnOneErrback=True, consumeErrors=True)
        ds[0].callback(1)
        ds[1].callback(2)
        self.assertEqual(self.flushWarnings(), [])


class OwnDeferredListTests(unittest.TestCase):
    """Exercise 2's deferred_list(): what DeferredList(ds, consumeErrors=True) does."""

    def setUp(self):
        self.deferred_list = load_program(OWN_LIST).deferred_list

    def test_same_output_as_list_order(self):
        self.assertEqual(output_of(self, OWN_LIST), output_of(self, PROGRAMS["list-order"]))

    def test_pairs_in_list_order(self):
        ds = [Deferred() for _ in range(3)]
        all_fired = self.deferred_list(ds)
        ds[2].callback("poem 3")
        ds[0].errback(ValueError("no poem 1"))
        self.assertFalse(all_fired.called)
        ds[1].callback("poem 2")
        results = fired(self, all_fired)
        self.assertEqual([ok for ok, _ in results], [False, True, True])
        self.assertEqual([r for _, r in results[1:]], ["poem 2", "poem 3"])
        self.assertTrue(results[0][1].check(ValueError))
        self.assertEqual([fired(self, d) for d in ds], [None, "poem 2", "poem 3"])

    def test_already_fired_and_empty(self):
        self.assertEqual(fired(self, self.deferred_list([])), [])
        d = Deferred()
        d.callback("poem")
        self.assertEqual(fired(self, self.deferred_list(iter([d]))), [(True, "poem")])

    def test_it_is_a_plain_deferred(self):
        self.assertIs(type(self.deferred_list([])), Deferred)


class ClientTests(unittest.TestCase):
    """The client as a process."""

    def test_all_poems_in_task_order(self):
        """The short poem of task 2 arrives first, and is still printed second."""
        ports = [start_server(self, "science", "--delay", "0.1"), start_server(self, "automne")]
        status, out, err = run(CLIENT, "--outcomes", "bug,bug", *map(str, ports))
        self.assertEqual(status, 0)
        self.assertEqual(out.encode(), POEMS["science"] + b"\n" + POEMS["automne"])
        lines = err.splitlines()
        got = [line for line in lines if " bytes of poetry from " in line]
        self.assertEqual(got, [
            f"Task 2: got 341 bytes of poetry from 127.0.0.1:{ports[1]}",
            f"Task 1: got 673 bytes of poetry from 127.0.0.1:{ports[0]}",
        ])
        self.assertRegex(lines[-1], r"^Got 2 of 2 poems in \d+\.\d seconds\.$")
        self.assertEqual(len(lines), 5)

    def test_chapter_9s_outcomes_and_a_server_down(self):
        ports = [start_server(self, name) for name in ("science", "ozymandias", "automne")]
        dead = refused_port(self)
        status, out, err = run(CLIENT, "--outcomes", "success,gibberish,bug",
                               *map(str, ports), str(dead))
        self.assertEqual(status, 1)
        self.assertEqual(out.encode(), POEMS["science"].decode().lower().encode()
                         + b"\n" + POEMS["automne"])
        lines = err.splitlines()
        self.assertEqual(sorted(lines[:5]), [
            f"Task 1: got 673 bytes of poetry from 127.0.0.1:{ports[0]}",
            f"Task 2: cummingsify() made gibberish of the poem from 127.0.0.1:{ports[1]}",
            "Task 3: cummingsify() failed (ValueError: a bug in cummingsify()); "
            "keeping the poem as it came",
            f"Task 3: got 341 bytes of poetry from 127.0.0.1:{ports[2]}",
            f"Task 4: cannot get poetry from 127.0.0.1:{dead}: Connection refused",
        ])
        self.assertRegex(lines[5], r"^Got 2 of 4 poems in \d+\.\d seconds\.$")
        self.assertEqual(len(lines), 6)

    def test_the_downloads_overlap(self):
        """Three downloads of half a second each take about half a second, not one and a half."""
        ports = [start_server(self, "automne", "--delay", "0.25") for _ in range(3)]
        status, out, err = run(CLIENT, "--outcomes", "bug,bug,bug", *map(str, ports))
        self.assertEqual(status, 0)
        seconds = float(re.search(r"^Got 3 of 3 poems in (\d+\.\d) seconds\.$", err, re.M)[1])
        self.assertGreaterEqual(seconds, 0.4)
        self.assertLess(seconds, 1.0)

    def test_only_a_dead_server(self):
        dead = refused_port(self)
        status, out, err = run(CLIENT, str(dead))
        self.assertEqual((status, out), (1, ""))
        self.assertEqual(err.splitlines()[0],
                         f"Task 1: cannot get poetry from 127.0.0.1:{dead}: Connection refused")
        self.assertRegex(err.splitlines()[1], r"^Got 0 of 1 poems in \d+\.\d seconds\.$")

    def test_an_empty_poem_is_a_failure(self):
        server, empty = listener(self)
        live = start_server(self, "tyger")
        client = Program(CLIENT, "--outcomes", "bug,bug", str(empty), str(live))
        connection, _ = server.accept()
        connection.close()  # not a byte
        status, out, err = client.finish()
        self.assertEqual((status, out), (1, POEMS["tyger"].decode()))
        self.assertIn(f"Task 1: cannot get poetry from 127.0.0.1:{empty}: {NO_POEM}\n", err)
        self.assertRegex(err.splitlines()[-1], r"^Got 1 of 2 poems in \d+\.\d seconds\.$")

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

    def test_ctrl_c_stops_it_quietly(self):
        _, silent = listener(self)
        program = Program(CLIENT, "--outcomes", "success", str(silent))
        self.addCleanup(program.end)
        wait_for_the_reactor(program)
        self.assertEqual(program.stop(), (130, "", ""))

    def test_ctrl_c_with_one_poem_in(self):
        port = start_server(self, "tyger")
        _, silent = listener(self)
        program = Program(CLIENT, "--outcomes", "bug,bug", str(port), str(silent))
        self.addCleanup(program.end)
        program.readline("stderr")  # the poem from the live server is in
        status, out, err = program.stop()
        self.assertEqual((status, out), (130, ""))
        self.assertEqual(err.splitlines()[-1],
                         f"Task 1: got {len(POEMS['tyger'])} bytes of poetry from "
                         f"127.0.0.1:{port}")

    def test_help(self):
        status, out, err = run(CLIENT, "--help")
        self.assertEqual((status, err), (0, ""))
        self.assertIn("--timeout TIMEOUT", out)
        self.assertIn("--outcomes OUTCOMES", out)
        self.assertIn("a poetry server's [host:]port", out)
