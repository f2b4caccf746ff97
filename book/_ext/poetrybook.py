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
* ``{api}`twisted.internet.defer.Deferred``` links a name to its page in
  Twisted's published API reference, offline: the name is looked up in the
  installed Twisted (a name that does not exist is a build warning), and
  a function or method links to its anchor on its module's or class's page.
* ``{try-it} N`` renders chapter N's "Try it yourself" box from the table
  of ``tools/try_example.py``, the launcher behind ``make try``: the
  terminals to open by hand, and the one command that does it all.
* Every captioned listing from ``code/`` (but a ``:diff:``) gets a link in
  its caption that downloads the whole program, so a reader can save the
  file as it is.
* Under each chapter's title, a line says how many of its examples ran,
  when, with which Python and Twisted, and whether all passed.  It is made
  from ``_build/doctest/results.json``, which ``tools/run_doctests.py`` writes,
  and only when the chapter and the programs are the ones that ran: a
  chapter changed since its last doctest run gets no line.
"""

from __future__ import annotations

import doctest
import hashlib
import importlib
import importlib.util
import inspect
import json
import os
from difflib import unified_diff
from pathlib import Path

from docutils import nodes, utils
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.builders.dummy import DummyBuilder
from sphinx.directives.code import LiteralIncludeReader
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import split_explicit_title
from terminal import typed
from zope.interface.interface import InterfaceClass

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


def _drop_download_links(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """A book on paper or in an e-reader has nothing to download: drop the links.

    (The caption names the program's path in the repository.)
    """
    if app.builder.format == "html" and not app.builder.name.startswith("epub"):
        return
    for link in list(doctree.findall(addnodes.download_reference)):
        if "program-download" in link.get("classes", []):
            parent = link.parent
            index = parent.index(link)
            if index and isinstance(parent[index - 1], nodes.Text):
                parent.remove(parent[index - 1])
            parent.remove(link)


API_URL = "https://docs.twisted.org/en/stable/api/"


def _api_target(name: str) -> str | None:
    """The API page and anchor of a dotted name, or None if Twisted has no such name."""
    parts = name.split(".")
    page, obj = 0, None
    for i in range(1, len(parts) + 1):
        dotted = ".".join(parts[:i])
        try:
            obj = importlib.import_module(dotted)
        except ImportError:
            if isinstance(obj, InterfaceClass) and parts[i - 1] in obj:
                obj = obj[parts[i - 1]]  # a method or attribute of an interface
            elif obj is not None and hasattr(obj, parts[i - 1]):
                obj = getattr(obj, parts[i - 1])
            else:
                return None
        if isinstance(obj, type | InterfaceClass) or inspect.ismodule(obj):
            page = i  # pydoctor writes a page per module, class and interface
    anchor = ".".join(parts[page:])
    return API_URL + ".".join(parts[:page]) + ".html" + (f"#{anchor}" if anchor else "")


def _api_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    """A link to Twisted's API page for the name, and an entry in the book's index.

    ``{api}`name``` shows the name; ``{api}`text <name>``` shows the text.

    The entry is the name's last part, with where it lives:
    "Deferred (twisted.internet.defer)".
    """
    _, title, name = split_explicit_title(utils.unescape(text))
    target = _api_target(name)
    if target is None:
        message = inliner.reporter.warning(f"no such name in Twisted: {name}", line=lineno)
        return [nodes.literal(rawtext, title)], [message]
    env = inliner.document.settings.env
    anchor = f"index-{env.new_serialno('index')}"
    where, _, last = name.rpartition(".")
    entry = f"{last} ({where})" if where else last
    index = addnodes.index(entries=[("single", entry, anchor, "", None)])
    link = nodes.reference(rawtext, "", nodes.literal(title, title), refuri=target)
    return [index, nodes.target("", "", ids=[anchor]), link], []


def _launcher():
    """tools/try_example.py, imported by its path."""
    path = ROOT / "tools" / "try_example.py"
    spec = importlib.util.spec_from_file_location("try_example", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class TryIt(SphinxDirective):
    """``{try-it} N``: how to run chapter N's example, by hand and in one command."""

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        launcher = _launcher()
        self.env.note_dependency(str(ROOT / "tools" / "try_example.py"))
        chapter = int(self.arguments[0])
        example = launcher.EXAMPLES[chapter]
        fence = "`" * 3
        lines = []
        if example.before:
            lines += ["First:", "", f"{fence}{{code-block}} console"]
            lines += [typed(command) for command in example.before]
            lines += [fence, ""]
        lines += ["Start each server in a terminal of its own (Ctrl-C stops it):", "",
                  f"{fence}{{code-block}} console"]
        lines += [typed(command) for command in example.servers]
        lines += [fence, ""]
        if example.down:
            ports = ", ".join(str(port) for port in example.down)
            lines += [f"Leave port {ports} alone: that server is down.", ""]
        lines += ["Then, in one more terminal:", "", f"{fence}{{code-block}} console"]
        lines += [typed(command) for command in example.commands]
        lines += [fence, "", "Or let the launcher do all of it, servers and clean-up included:",
                  "", f"{fence}{{code-block}} console", f"$ make try CHAPTER={chapter}",
                  fence, "", "It ends with the client's exit status, and what it means here."]
        box = nodes.admonition(classes=["try-it"])
        box += nodes.title("", "Try it yourself")
        box += self.parse_text_to_nodes("\n".join(lines))
        return [box]


RESULTS = ROOT / "_build" / "doctest" / "results.json"


def fingerprint(paths: list[Path]) -> str:
    """A hash of the files' names and contents (tools/run_doctests.py uses it too)."""
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def programs_fingerprint() -> str:
    """The fingerprint of everything the examples run: the programs and the helper."""
    files = [p for p in (ROOT / "code").rglob("*")
             if p.is_file() and "__pycache__" not in p.parts]
    return fingerprint([*files, ROOT / "book" / "_ext" / "terminal.py"])


def _load_results(app: Sphinx) -> None:
    """Read the last doctest run's results, if they are for these programs."""
    app.env.book_results = {}
    if RESULTS.exists():
        results = json.loads(RESULTS.read_text())
        if results.get("programs") == programs_fingerprint():
            app.env.book_results = results


def verified_line(results: dict, chapter: dict) -> str:
    """What a chapter says about its examples' last run."""
    count, failed = chapter["examples"], chapter["failed"]
    examples = "The one example" if count == 1 else f"The {count} examples"
    outcome = ("it passed" if count == 1 else "all passed") if not failed else (
        "it failed" if count == 1 else f"{failed} failed")
    return (f"{examples} in this chapter ran on {chapter['date']} with Python "
            f"{results['python']} and Twisted {results['twisted']}; {outcome}.")


def _verified_text(app: Sphinx, docname: str) -> str:
    """The chapter's line, or "" if it has no examples or changed since they ran."""
    results = getattr(app.env, "book_results", {})
    chapter = results.get("chapters", {}).get(docname)
    if not docname[:2].isdigit() or not chapter or not chapter["examples"]:
        return ""  # only a chapter says it
    if chapter["source"] != fingerprint([Path(app.env.doc2path(docname))]):
        return ""  # the chapter changed since it was tested
    return verified_line(results, chapter)


def _stamps_changed(app: Sphinx, env, added, changed, removed) -> list[str]:
    """Chapters whose line differs from the one they were last built with."""
    shown = getattr(env, "book_verified", {})
    stale = [name for name in env.found_docs
             if name[:2].isdigit() and shown.get(name, "") != _verified_text(app, name)]
    env.book_verified = {name: _verified_text(app, name) for name in env.found_docs}
    return stale


def _verified(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    text = _verified_text(app, docname)
    section = next(doctree.findall(nodes.section), None)
    if text and section is not None:
        line = nodes.paragraph("", "", nodes.emphasis("", text), classes=["verified"])
        section.insert(1, line)  # right after the title


class ReadOnlyBuilder(DummyBuilder):
    """Reads the book into the environment and its doctrees, and writes nothing.

    tools/run_doctests.py reads the sources once with it; the doctest
    builders then start from copies of what it read.  The dummy builder
    would also resolve every cross-reference of every page, which takes
    seconds and which no doctest needs (the HTML build checks them).
    """

    name = "read"

    def write(self, *args: object, **kwargs: object) -> None:
        pass


def setup(app: Sphinx) -> dict[str, object]:
    app.add_builder(ReadOnlyBuilder)
    doctest.OutputChecker.check_output = _check_output_any_order
    LiteralIncludeReader.show_diff = _show_diff
    app.add_directive("try-it", TryIt)
    app.add_role("api", _api_role)
    app.connect("doctree-read", _terminal_sessions)
    # Before Sphinx's own doctree-read handler (priority 500) collects downloads.
    app.connect("doctree-read", _download_links, priority=400)
    app.connect("doctree-resolved", _drop_download_links)
    app.connect("builder-inited", _load_results)
    app.connect("env-get-outdated", _stamps_changed)
    app.connect("doctree-resolved", _verified)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
