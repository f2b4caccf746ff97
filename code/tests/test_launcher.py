"""The launcher behind `make try`: a chapter's example in one command."""

from twisted.trial import unittest

from tests.programs import POEMS, run

LAUNCHER = "../tools/try_example.py"


class LauncherTests(unittest.TestCase):
    def test_chapter_2_fetches_three_poems_from_three_slow_servers(self):
        status, out, err = run(LAUNCHER, "2", timeout=30)
        self.assertEqual((status, err), (0, ""))
        self.assertIn("$ python code/async-client/get-poetry.py 10001 10002 10003\n", out)
        self.assertIn("Got 3 of 3 poems in", out)
        for poem in ("science", "ozymandias", "automne"):
            self.assertIn(POEMS[poem].decode(), out)

    def test_chapter_6_reports_the_server_that_is_down(self):
        status, out, err = run(LAUNCHER, "6", timeout=30)
        self.assertEqual((status, err), (0, ""))  # the example behaved as the chapter says
        self.assertIn("Task 3: cannot get poetry from 127.0.0.1:10003: Connection refused\n",
                      out)
        self.assertIn("Got 2 of 3 poems in", out)
        self.assertTrue(out.endswith("# Exit status 1: two poems arrived, and the client said"
                                     " why the third did not: nothing listens on port 10003.\n"))

    def test_chapter_9_says_what_its_status_means(self):
        status, out, err = run(LAUNCHER, "9", timeout=30)
        self.assertEqual((status, err), (0, ""))
        self.assertRegex(out, r"# Exit status [01]: cummingsify\(\) made gibberish of .*\n$")

    def test_chapter_10_fetches_from_two_fast_servers(self):
        status, out, err = run(LAUNCHER, "10", timeout=30)
        self.assertEqual((status, err), (0, ""))
        self.assertIn("Serving code/poetry/tyger.txt on 127.0.0.1:10002.\n", out)
        self.assertIn(POEMS["tyger"].decode(), out)
        self.assertTrue(out.endswith("# Exit status 0: every poem arrived.\n"))

    def test_without_a_chapter_it_lists_them(self):
        status, out, err = run(LAUNCHER)
        self.assertEqual(status, 0)
        self.assertIn("  2  the asynchronous client against three slow servers\n", out)
