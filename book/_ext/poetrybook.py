"""The small Sphinx extension the book needs.

* ``LINES_ANY_ORDER``, a doctest option for ``{testoutput}``: the output
  must have exactly the lines shown, in any order.  Concurrent clients
  print progress lines in the order their data arrives, which no test can
  fix in advance; every line is still checked, and so is how often it
  occurs.
* A ``{testoutput}`` block is a terminal session, so it is highlighted as
  one (``console``): the ``$ `` prompts stand out, and the copy button
  copies the commands without them.
* ``literalinclude``'s ``:diff:`` names the two files by their paths in the
  repository, not by the absolute paths of the machine that built the book.
* Every captioned listing from ``code/`` (but a ``:diff:``) gets a link in
  its caption that downloads the whole program, so a reader can save the
  file as it is.
"""

from __future__ import annotations

import doctest
import os
from difflib import unified_diff
from pathlib import Path

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.directives.code import LiteralIncludeReader

ROOT = Path(__file__).resolve().parents[2]

LINES_ANY_ORDER = doctest.register_optionflag("LINES_ANY_ORDER")

_check_output = doctest.OutputChecker.check_output


def _check_output_any_order(self, want: str, got: str, optionflags: int) -> bool:
    if optionflags & LINES_ANY_ORDER:
        want = "".join(sorted(want.splitlines(keepends=True)))
        got = "".join(sorted(got.splitlines(keepends=True)))
    return _check_output(self, want, got, optionflags)


def _relative(path: str | Path) -> str:
    path = Path(path).resolve()
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return path.name


def _show_diff(self, location=None) -> list[str]:
    new_lines = self.read_file(self.filename)
    old_filename = self.options["diff"]
    old_lines = self.read_file(old_filename)
    return list(
        unified_diff(old_lines, new_lines, _relative(old_filename), _relative(self.filename))
    )


def _terminal_sessions(app: Sphinx, doctree: nodes.document) -> None:
    for node in doctree.findall(nodes.literal_block):
        if node.get("testnodetype") == "testoutput" and node.astext().startswith("$ "):
            node["language"] = "console"


def _download_links(app: Sphinx, doctree: nodes.document) -> None:
    """Put a link to download the program in the caption of each listing from code/."""
    code = ROOT / "code"
    for block in list(doctree.findall(nodes.literal_block)):
        source = block.get("source")
        if not source or block.get("testnodetype") or block.get("language") == "udiff":
            continue
        path = Path(source).resolve()
        if code not in path.parents:
            continue
        wrapper = block.parent
        if not isinstance(wrapper, nodes.container) or not wrapper.get("literal_block"):
            continue
        caption = wrapper.children[0]
        if not isinstance(caption, nodes.caption):
            continue
        docdir = (Path(app.srcdir) / app.env.docname).parent
        link = addnodes.download_reference(
            "", "", nodes.literal("", "download"),
            reftarget=str(Path(os.path.relpath(path, docdir))), refdoc=app.env.docname,
            reftype="download", refexplicit=True, refwarn=False,
            classes=["program-download"],
        )
        caption += [nodes.Text(" "), link]


def setup(app: Sphinx) -> dict[str, object]:
    doctest.OutputChecker.check_output = _check_output_any_order
    LiteralIncludeReader.show_diff = _show_diff
    app.connect("doctree-read", _terminal_sessions)
    # Before Sphinx's own doctree-read handler (priority 500) collects downloads.
    app.connect("doctree-read", _download_links, priority=400)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
