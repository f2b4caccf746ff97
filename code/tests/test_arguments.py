"""Every program refuses impossible arguments the way argparse does.

A port outside 0-65535, a timeout that is not a positive number of
seconds, a chunk of no bytes: each program given one of these must stop
at once with exit status 2, print nothing on standard output, and end its
standard error with argparse's one line naming the argument and saying
what is wrong with it (after argparse's usage lines).  Never a traceback,
a hang, or a run that quietly means something else.

The table lists, for every program in code/ that takes arguments, the
arguments it needs to get as far as the one under test, and each
impossible value of each argument it accepts.

Each program's first impossible value is given to the program run as a
process, as a reader would run it.  Starting Python and Twisted takes a
third of a second, and the table holds some nine hundred values, so the
others go to the same program's parse_args(), called in this process with
the same command line: the same parser, the same exit status, the same
two streams.
"""

from __future__ import annotations

import contextlib
import io
import re
import sys

from twisted.trial import unittest

from .programs import CODE, load_program, run

POEM = "code/poetry/science.txt"

BAD_PORT = ("99999", "-1", "65536")
"""Not a port a server can listen on (0 asks the system to pick one)."""

BAD_ADDRESS = ("99999", "127.0.0.1:99999", "0", "localhost:70000")
"""Not a [host:]port a client can connect to."""

BAD_SECONDS = ("-1", "0", "nan", "inf", "-inf")
"""Not a positive, finite number of seconds."""

BAD_PAUSE = ("-1", "nan", "inf")
"""Not a pause: a pause may be 0 seconds, but not less, and not forever."""

BAD_COUNT = ("0", "-5")
"""Not a positive whole number."""

BAD_NUMBERS = ("0", "-1", "3,,5", "x")
"""Not a list of datagram numbers (chapter 25's relay): each is 1 or more."""

BAD_POEM_URL = ("10001", "70000/science", "0/science", "10001/")
"""Not a poem's [host:]port/name (chapter 23): no name, or no port a server can have."""


Case = tuple[str, tuple[str, ...], tuple[str, ...]]
"""(argument, impossible values, command line with {} where the value goes)"""


def option(name: str, values: tuple[str, ...], *rest: str) -> Case:
    """An option given as --name=VALUE (so that -1 cannot pass for an option)."""
    return name, values, (f"{name}={{}}", *rest)


def server(*more: Case, rest: tuple[str, ...] = (POEM,)) -> list[Case]:
    """A server's cases: --port, and the others it takes."""
    return [option("--port", BAD_PORT, *rest), *more]


def client(*more: Case, timeout: bool = True) -> list[Case]:
    """A client's cases: its addresses and --timeout, and the others it takes."""
    cases = [("ADDRESS", BAD_ADDRESS, ("10001", "{}"))]
    if timeout:
        cases.append(option("--timeout", BAD_SECONDS, "10001"))
    return [*cases, *more]


def proxy(*more: Case) -> list[Case]:
    """A proxy's cases: --port, its upstream address, and the others it takes."""
    return [*server(rest=("10001",)), ("UPSTREAM", BAD_ADDRESS, ("{}",)), *more]


PROGRAMS: dict[str, list[Case]] = {
    # chapter 2
    "blocking-server/slowpoetry.py": server(option("--delay", BAD_PAUSE, POEM),
                                            option("--num-bytes", BAD_COUNT, POEM)),
    "blocking-client/get-poetry.py": client(),
    "async-client/get-poetry.py": client(),
    # chapter 3
    "basic-twisted/countdown.py": [option("--start", ("-1",)),
                                   option("--interval", BAD_SECONDS)],
    "basic-twisted/countdown-blocking.py": [option("--start", ("-1",)),
                                            option("--interval", BAD_SECONDS)],
    "solutions/ch03-countdowns/countdowns.py": [("N", ("-1",), ("3", "{}")),
                                                option("--interval", BAD_SECONDS, "3")],
    # chapters 4-9
    "twisted-client-1/get-poetry.py": client(),
    "twisted-client-1/get-poetry-blocking.py": client(),
    "solutions/ch04-connect-without-blocking/get-poetry.py": client(),
    "twisted-client-2/get-poetry.py": client(),
    "twisted-client-2/get-poetry-stack.py": client(),
    "solutions/ch05-retry/get-poetry.py": client(option("--retries", ("-1",), "10001"),
                                                 option("--retry-delay", BAD_PAUSE, "10001")),
    "twisted-client-3/get-poetry.py": client(),
    "twisted-client-3/get-poetry-hangs.py": client(timeout=False),
    "solutions/ch06-first-poem/get-poetry.py": client(),
    "twisted-client-4/get-poetry.py": client(),
    "twisted-client-4/get-poetry-stack.py": client(),
    "solutions/ch08-deadline/get-poetry.py": client(option("--deadline", BAD_SECONDS, "10001")),
    "twisted-client-5/get-poetry.py": client(),
    "solutions/ch09-placeholder/get-poetry.py": client(),
    # chapter 10
    "twisted-server-1/fastpoetry.py": server(),
    "twisted-server-1/fastpoetry-allowlist.py": [
        option("--port", BAD_PORT, "--allow=127.0.0.1", POEM),
        option("--allow", ("999.0.0.1", "localhost", "127.0.0.1:80"), POEM)],
    "solutions/ch10-anthology/anthology.py": server(),
    "solutions/ch10-max-connections/fastpoetry-limit.py": server(
        option("--max-connections", BAD_COUNT, POEM)),
    # chapter 11
    "twisted-server-2/transformedpoetry.py": server(rest=()),
    "solutions/ch11-deadline/transformedpoetry.py": server(option("--timeout", BAD_SECONDS),
                                                           rest=()),
    "twisted-client-6/get-poetry.py": client(("XFORM_ADDRESS", BAD_ADDRESS, ("{}", "10002"))),
    "solutions/ch11-pipeline/get-poetry.py": client(
        ("XFORM_ADDRESS", BAD_ADDRESS, ("{}", "10002"))),
    # chapter 12
    "twisted-server-3/poetry-proxy.py": proxy(),
    "solutions/ch12-expiring-cache/poetry-proxy.py": proxy(
        option("--max-age", BAD_PAUSE, "10001")),
    "solutions/ch12-shared-download/poetry-proxy.py": proxy(),
    # chapters 15-18
    "inline-callbacks/get-poetry.py": client(),
    "inline-callbacks/yield-in-a-loop.py": client(timeout=False),
    "solutions/ch15-first-poem/get-poetry.py": client(),
    "deferred-list/get-poetry.py": client(),
    "twisted-server-4/poetry-proxy.py": proxy(),
    "solutions/ch17-deadline/poetry-proxy.py": proxy(option("--deadline", BAD_SECONDS, "10001")),
    "async-await/get-poetry.py": client(),
    "async-await/get-poetry-react.py": client(),
    "async-await/asyncio-poetry.py": [("ADDRESS", BAD_ADDRESS, ("{}",))],
    "async-await/fastpoetry.py": server(),
    "solutions/ch18-listen/fastpoetry.py": server(),
    # chapter 19
    "bench/twisted-slowpoetry.py": server(option("--delay", BAD_PAUSE, POEM),
                                          option("--num-bytes", BAD_COUNT, POEM)),
    "bench/fastpoetry-twisted.py": server(),
    "bench/fastpoetry-asyncio.py": server(),
    "bench/fastpoetry-streams.py": server(),
    "bench/fastpoetry-trio.py": server(),
    "bench/load.py": [("ADDRESS", BAD_ADDRESS, ("--poem", POEM, "{}")),
                      option("--clients", BAD_COUNT, "--poem", POEM, "10001"),
                      option("--time-limit", BAD_SECONDS, "--poem", POEM, "10001")],
    # chapter 23
    "http/poetry-site.py": server(),
    "http/slow-poetry-site.py": server(option("--delay", BAD_PAUSE, POEM),
                                      option("--num-bytes", BAD_COUNT, POEM)),
    "http/get-poems.py": [("POEM", BAD_POEM_URL, ("{}",)),
                          option("--timeout", BAD_SECONDS, "10001/science")],
    "http/agent-get.py": [("POEM", BAD_POEM_URL, ("{}",)),
                          option("--timeout", BAD_SECONDS, "10001/science")],
    "solutions/ch23-lower/lower-poetry-site.py": server(),
    "solutions/ch23-first-poem/first-poem.py": [
        ("POEM", BAD_POEM_URL, ("{}",)), option("--timeout", BAD_SECONDS, "10001/science")],
    # chapter 20
    "threads/ticker.py": [option("--seconds", BAD_SECONDS), option("--where", ("nowhere",)),
                          option("--work", ("dance",))],
    "threads/gil.py": [option("--count", BAD_COUNT)],
    "threads/transformedpoetry.py": server(rest=()),
    "solutions/ch20-thread-pool/transformedpoetry.py": server(
        option("--threads", BAD_COUNT), rest=()),
    "solutions/ch20-deadline/transformedpoetry.py": server(
        option("--deadline", BAD_SECONDS), rest=()),
    # chapter 21
    "processes/spawn.py": [option("--time-limit", BAD_SECONDS, "--", "rev")],
    "processes/slowcaps.py": [option("--delay", BAD_SECONDS)],
    "processes/transformedpoetry.py": server(option("--time-limit", BAD_SECONDS), rest=()),
    "solutions/ch21-output-limit/transformedpoetry.py": server(
        option("--time-limit", BAD_SECONDS), option("--max-output", BAD_COUNT), rest=()),
    "stdio-client/print-blocks.py": [option("--lines", BAD_COUNT)],
    "stdio-client/get-poetry.py": [option("--timeout", BAD_SECONDS)],
    "solutions/ch21-at-most/get-poetry.py": [option("--timeout", BAD_SECONDS),
                                             option("--at-most", BAD_COUNT)],
    # chapter 22
    "backpressure/streampoetry.py": server(),
    "backpressure/filesender.py": server(),
    "backpressure/poetry-proxy.py": proxy(),
    "backpressure/stalled-client.py": [("ADDRESS", BAD_ADDRESS, ("{}",)),
                                       option("--num-bytes", BAD_COUNT, "10001")],
    "backpressure/memory.py": [("ADDRESS", BAD_ADDRESS, ("{}",))],
    "solutions/ch22-pull-producer/streampoetry-pull.py": server(),
    "solutions/ch22-rate-limit/streampoetry-rate.py": server(
        option("--rate", BAD_COUNT, POEM)),
    # chapter 24
    "tls/fastpoetry.py": server(rest=("--certificate=server.pem", POEM)),
    "tls/get-poetry.py": [("ADDRESS", BAD_ADDRESS, ("--ca=ca.pem", "10001", "{}")),
                          option("--timeout", BAD_SECONDS, "--ca=ca.pem", "10001")],
    "solutions/ch24-client-certificates/fastpoetry.py": server(
        rest=("--certificate=server.pem", "--ca=ca.pem", POEM)),
    "solutions/ch24-client-certificates/get-poetry.py": [
        ("ADDRESS", BAD_ADDRESS, ("--ca=ca.pem", "10001", "{}")),
        option("--timeout", BAD_SECONDS, "--ca=ca.pem", "10001")],
    "solutions/ch24-two-ports/fastpoetry.py": server(
        option("--tls-port", BAD_PORT, "--certificate=server.pem", POEM),
        rest=("--certificate=server.pem", POEM)),
    # chapter 25
    "udp/poetry-server.py": server(option("--size", ("0", "-1", "1401"), POEM)),
    "udp/get-poetry.py": client(option("--tries", BAD_COUNT, "10001")),
    "udp/relay.py": [option("--port", BAD_PORT, "10001"), ("SERVER", BAD_ADDRESS, ("{}",)),
                     option("--drop", BAD_NUMBERS, "10001"),
                     option("--swap", BAD_NUMBERS, "10001")],
    "solutions/ch25-duplicate/relay.py": [
        option("--port", BAD_PORT, "10001"), ("SERVER", BAD_ADDRESS, ("{}",)),
        option("--drop", BAD_NUMBERS, "10001"), option("--swap", BAD_NUMBERS, "10001"),
        option("--duplicate", BAD_NUMBERS, "10001")],
    "solutions/ch25-backoff/get-poetry.py": client(option("--tries", BAD_COUNT, "10001")),
    # chapter 26
    "other-ways/get-poetry-asyncio.py": client(),
    "other-ways/get-poetry-trio.py": client(),
    "solutions/ch26-max-connections/get-poetry-asyncio.py": client(
        option("--max-connections", BAD_COUNT, "10001")),
    "solutions/ch26-first-poem/get-poetry-trio.py": client(),
}


class ImpossibleArgumentsTests(unittest.TestCase):
    """The table, one test a program: every impossible value of every argument."""


def parse_in_process(program: str, command: list[str]) -> tuple[int, str, str]:
    """Call the program's parse_args() with this command line: (status, out, err)."""
    module = load_program(program)
    out, err = io.StringIO(), io.StringIO()
    argv = [program.rpartition("/")[2], *command]
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        old_argv, sys.argv = sys.argv, argv
        try:
            module.parse_args()
        except SystemExit as end:
            status = end.code
        else:
            status = 0
        finally:
            sys.argv = old_argv
    return status, out.getvalue(), err.getvalue()


def _make_test(program: str, cases: list[Case]):
    def test(self: ImpossibleArgumentsTests) -> None:
        name = program.rpartition("/")[2]
        in_process = "def parse_args(" in (CODE / program).read_text()
        first = True
        for argument, values, template in cases:
            for value in values:
                command = [part.format(value) for part in template]
                where = f"{program} {' '.join(command)}"
                if first or not in_process:
                    first = False
                    # A program that took the value would run, or hang: the
                    # timeout makes that a failure rather than a stuck suite.
                    status, out, err = run(program, *command, timeout=10)
                else:
                    status, out, err = parse_in_process(program, command)
                self.assertEqual(status, 2, f"{where}: exit status\n{err}")
                self.assertEqual(out, "", f"{where}: printed on standard output")
                self.assertNotIn("Traceback", err, where)
                usage, *wrapped, error = err.splitlines()
                self.assertTrue(usage.startswith("usage: "), f"{where}:\n{err}")
                self.assertTrue(all(line.startswith(" ") for line in wrapped),
                                f"{where}: more than argparse's usage and error:\n{err}")
                self.assertRegex(error, rf"^{re.escape(name)}: error: argument "
                                        rf"{re.escape(argument)}: \S", where)
    test.__doc__ = f"{program} refuses every impossible value of every argument it takes."
    return test


for _program, _cases in PROGRAMS.items():
    _name = "test_" + re.sub(r"\W", "_", _program.removesuffix(".py"))
    setattr(ImpossibleArgumentsTests, _name, _make_test(_program, _cases))


NOT_ARGPARSE = {
    "bench/run.py": "reads no number itself; it passes --port 0 to the servers it runs",
    "twisted-server-daemon/fastpoetry.py": "a module for twistd; its docstring names --port",
    "twisted-server-daemon/twisted/plugins/fastpoetry_plugin.py":
        "twistd's options, not argparse: test_chapter14 tests its refusals",
}
"""Programs that mention --port but take no argparse arguments of their own."""


class TableTests(unittest.TestCase):
    """The table leaves out no program that reads a number or an address."""

    def test_every_program_with_numbers_is_in_the_table(self) -> None:
        missing = []
        for path in sorted(CODE.rglob("*.py")):
            relative = str(path.relative_to(CODE))
            if (relative.startswith(("tests/", "poetry/")) or relative in PROGRAMS
                    or relative in NOT_ARGPARSE):
                continue
            text = path.read_text()
            if re.search(r"type=(int|float|parse_address)\b", text) or "--port" in text:
                missing.append(relative)
        self.assertEqual(missing, [], "programs that read numbers but are not in the table")
