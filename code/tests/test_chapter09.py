"""Chapter 9: cummingsify() in the chain, and where each of its outcomes goes."""

import io
import random
import sys
from functools import partial

from twisted.internet.defer import Deferred
from twisted.internet.error import ConnectionRefusedError
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

CLIENT = "twisted-client-5/get-poetry.py"
PLACEHOLDER = "solutions/ch09-placeholder/get-poetry.py"
NO_POEM = "the server closed the connection without sending a poem"


class CummingsifyTests(unittest.TestCase):
    def setUp(self):
        self.module = load_program(CLIENT)

    def test_success_puts_the_poem_in_lower_case(self):
        poem = POEMS["automne"]
        self.assertEqual(self.module.cummingsify(poem, "success"),
                         poem.decode("utf-8").lower().encode("utf-8"))
        self.assertIn("blessent mon cœur".encode(), self.module.cummingsify(poem, "success"))

    def test_gibberish(self):
        self.assertRaises(self.module.GibberishError,
                          self.module.cummingsify, POEMS["tyger"], "gibberish")

    def test_bug(self):
        error = self.assertRaises(ValueError, self.module.cummingsify, POEMS["tyger"], "bug")
        self.assertNotIsInstance(error, self.module.GibberishError)

    def test_random_by_default(self):
        """Without an outcome, every outcome happens sooner or later."""
        self.patch(self.module, "random", random.Random(9))
        seen = set()
        for _ in range(60):
            try:
                self.module.cummingsify(b"A POEM")
                seen.add("success")
            except self.module.GibberishError:
                seen.add("gibberish")
            except ValueError:
                seen.add("bug")
        self.assertEqual(seen, {"success", "gibberish", "bug"})


class CheckByNameTests(unittest.TestCase):
    """Failure.check() compares class names, which is not quite isinstance()."""

    def test_a_base_class_derived_from_exception_matches(self):
        failure = Failure(ValueError("not a poem"))
        self.assertIs(failure.check(KeyError, Exception), Exception)
        self.assertIsNone(failure.check(KeyError))

    def test_base_exception_does_not_match_an_exception(self):
        failure = Failure(ValueError("not a poem"))
        self.assertIsInstance(failure.value, BaseException)
        self.assertIsNone(failure.check(BaseException))

    def test_a_class_not_derived_from_exception_matches_only_itself(self):
        failure = Failure(KeyboardInterrupt())
        self.assertIs(failure.check(KeyboardInterrupt), KeyboardInterrupt)
        self.assertIsNone(failure.check(BaseException))

    def test_a_name_matches_like_its_class(self):
        failure = Failure(ValueError("not a poem"))
        self.assertEqual(failure.check("builtins.ValueError"), "builtins.ValueError")
        self.assertEqual(failure.check("builtins.Exception"), "builtins.Exception")

    def test_two_classes_of_one_name_are_one_class(self):
        def define_an_error():
            class SpoiltPoem(Exception):
                pass
            return SpoiltPoem

        first, second = define_an_error(), define_an_error()
        failure = Failure(first("spoilt"))
        self.assertNotIsInstance(failure.value, second)
        self.assertIs(failure.check(second), second)
        self.assertIs(failure.trap(second), second)  # trap() asks check()


class ChainTests(unittest.TestCase):
    """The stages of client-5's chain, fired by hand: no network, no reactor."""

    def setUp(self):
        self.module = load_program(CLIENT)
        self.stderr = io.StringIO()
        self.patch(sys, "stderr", self.stderr)
        self.routes = []

    def chain(self, outcome):
        """try_to_cummingsify(), then a recording got_poem/poem_failed stage, as main() has it."""
        d = Deferred()
        d.addCallback(partial(self.module.try_to_cummingsify, 1, outcome))
        d.addCallbacks(lambda poem: self.routes.append(("got_poem", poem)),
                       lambda failure: self.routes.append(("poem_failed", failure)))
        return d

    def test_success_goes_to_got_poem_in_lower_case(self):
        self.chain("success").callback(b"Tyger Tyger")
        self.assertEqual(self.routes, [("got_poem", b"tyger tyger")])
        self.assertEqual(self.stderr.getvalue(), "")

    def test_gibberish_goes_to_poem_failed(self):
        self.chain("gibberish").callback(b"Tyger Tyger")
        [(route, failure)] = self.routes
        self.assertEqual(route, "poem_failed")
        self.assertTrue(failure.check(self.module.GibberishError))
        self.assertEqual(self.stderr.getvalue(), "")

    def test_a_bug_goes_to_got_poem_with_the_poem_as_it_came(self):
        self.chain("bug").callback(b"Tyger Tyger")
        self.assertEqual(self.routes, [("got_poem", b"Tyger Tyger")])
        self.assertEqual(self.stderr.getvalue(),
                         "Task 1: cummingsify() failed (ValueError: a bug in cummingsify()); "
                         "keeping the poem as it came\n")

    def test_a_failed_download_goes_past_cummingsify(self):
        for outcome in ("success", "gibberish", "bug"):
            self.routes.clear()
            reason = Failure(ConnectionRefusedError())
            self.chain(outcome).errback(reason)
            self.assertEqual(self.routes, [("poem_failed", reason)])
        self.assertEqual(self.stderr.getvalue(), "")

    def test_the_placeholder_errback_traps_only_gibberish(self):
        """Exercise 1's errback: gibberish becomes a placeholder; other failures pass on."""
        module = load_program(PLACEHOLDER)
        results = []
        gibberish = Deferred().addErrback(module.instead_of_gibberish)
        gibberish.addBoth(results.append)
        gibberish.errback(module.GibberishError())
        refused = Deferred().addErrback(module.instead_of_gibberish)
        refused.addBoth(results.append)
        refused.errback(ConnectionRefusedError())
        self.assertEqual(results[0], module.PLACEHOLDER)
        self.assertIsInstance(results[1], Failure)
        self.assertTrue(results[1].check(ConnectionRefusedError))


class OptionTests(unittest.TestCase):
    def test_outcomes(self):
        parse = load_program(CLIENT).parse_outcomes
        self.assertEqual(parse("success,gibberish,bug"), ["success", "gibberish", "bug"])

    def test_a_wrong_outcome_is_a_usage_error(self):
        status, out, err = run(CLIENT, "--outcomes", "success,nonsense", "10001")
        self.assertEqual((status, out), (2, ""))
        self.assertIn("argument --outcomes: not one of success, gibberish, bug: 'nonsense'", err)

    def test_help(self):
        for program in (CLIENT, PLACEHOLDER):
            status, out, err = run(program, "--help")
            self.assertEqual((status, err), (0, ""))
            self.assertIn("a poetry server's [host:]port", out)
            self.assertIn("--outcomes OUTCOMES", out)


class ClientTests(unittest.TestCase):
    """twisted-client-5 as a process."""

    def test_all_three_outcomes(self):
        ports = [start_server(self, name) for name in ("science", "ozymandias", "automne")]
        status, out, err = run(CLIENT, "--outcomes", "success,gibberish,bug", *map(str, ports))
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

    def test_a_server_down(self):
        dead, live = refused_port(self), start_server(self, "tyger")
        status, out, err = run(CLIENT, "--outcomes", "success,success", str(dead), str(live))
        self.assertEqual(status, 1)
        self.assertEqual(out.encode(), POEMS["tyger"].decode().lower().encode())
        self.assertIn(f"Task 1: cannot get poetry from 127.0.0.1:{dead}: Connection refused\n",
                      err)
        self.assertEqual(len(err.splitlines()), 3)

    def test_an_empty_poem_is_a_failure_that_is_not_cummingsified(self):
        for program in (CLIENT, PLACEHOLDER):
            server, port = listener(self)
            client = Program(program, "--outcomes", "bug", str(port))
            connection, _ = server.accept()
            connection.close()  # not a byte
            status, out, err = client.finish()
            self.assertEqual((status, out), (1, ""), program)
            self.assertEqual(err.splitlines()[0],
                             f"Task 1: cannot get poetry from 127.0.0.1:{port}: {NO_POEM}", program)
            self.assertNotIn("cummingsify", err)

    def test_a_connection_that_is_never_made(self):
        stuck = unanswered_port(self)
        status, out, err = run(CLIENT, "--timeout", "0.3", str(stuck))
        self.assertEqual((status, out), (1, ""))
        self.assertEqual(err.splitlines()[0], f"Task 1: cannot get poetry from 127.0.0.1:{stuck}: "
                                              "no answer within 0.3 seconds")

    def test_without_outcomes_every_poem_ends_somewhere(self):
        """At random: each task ends as a poem (either case) or as gibberish, never hangs."""
        ports = [start_server(self, "tyger") for _ in range(4)]
        status, out, err = run(CLIENT, *map(str, ports))
        self.assertIn(status, (0, 1))
        got = err.count(" bytes of poetry from ")
        gibberish = err.count("made gibberish of the poem")
        self.assertEqual((got + gibberish, status), (4, 1 if gibberish else 0))

    def test_ctrl_c_stops_it_quietly(self):
        _, silent = listener(self)
        program = Program(CLIENT, str(silent))
        self.addCleanup(program.end)
        wait_for_the_reactor(program)
        self.assertEqual(program.stop(), (130, "", ""))


class PlaceholderTests(unittest.TestCase):
    """The solution to exercise 1, as a process."""

    def test_gibberish_becomes_a_placeholder(self):
        dead = refused_port(self)
        ports = [start_server(self, "tyger"), start_server(self, "automne")]
        status, out, err = run(PLACEHOLDER, "--outcomes", "gibberish,success,gibberish",
                               *map(str, ports), str(dead))
        self.assertEqual(status, 1)  # task 3's server was down: no placeholder for that
        self.assertEqual(out, "[a poem that came out as gibberish]\n\n"
                         + POEMS["automne"].decode().lower())
        self.assertIn(f"Task 3: cannot get poetry from 127.0.0.1:{dead}: Connection refused\n",
                      err)
        self.assertNotIn("gibberish", err)
