"""What each format of the book needs beyond Sphinx's defaults.

The PDF: the shape of a book.

* Front matter, main matter, parts and appendices: the preface is in the
  front matter (roman page numbers, no chapter number), ``\\mainmatter``
  starts at the first chapter, each document named in ``book_parts``
  opens a part, and the documents in ``book_appendices`` are lettered
  appendices, as in a printed book.
* A code block that fits on a page is not split across two: before each
  block of at most ``book_keep_whole_lines`` lines, the LaTeX asks for
  that much room on the page (``\\Needspace``), and starts a new page if
  there is less.

The fonts, page size and title pages are in ``book/_latex/``, which
conf.py reads into ``latex_elements``.

The web book and the EPUB:

* Captions read "Listing 2.4: what it shows", with a colon.
* Graphviz figures are ``<img>`` elements whose ``alt`` text is the
  figure's description, so that screen readers and e-readers have it; in
  the web book a figure is a link to itself, to open it full size.
* The EPUB's SVG pictures have no document type declaration (EPUB 3
  forbids the external DTD that Graphviz and Matplotlib name).
"""

from __future__ import annotations

import re
from pathlib import Path

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.builders.epub3 import Epub3Builder
from sphinx.ext.graphviz import GraphvizError, graphviz, render_dot
from sphinx.util import logging
from sphinx.writers.html5 import HTML5Translator
from sphinx.writers.latex import LaTeXTranslator

logger = logging.getLogger(__name__)


class BookTranslator(LaTeXTranslator):
    """Sphinx's LaTeX translator, with the divisions of a book."""

    def visit_start_of_file(self, node: nodes.Element) -> None:
        super().visit_start_of_file(node)
        config = self.config
        docname = node["docname"]
        first_chapter = next(iter(config.book_parts), None)
        if docname == first_chapter:
            self.body.append("\n\\mainmatter\n")
        if docname in config.book_parts:
            self.body.append(f"\n\\part{{{self.encode(config.book_parts[docname])}}}\n")
        if config.book_appendices and docname == config.book_appendices[0]:
            self.body.append("\n\\appendix\n")

    def visit_literal_block(self, node: nodes.Element) -> None:
        lines = node.astext().count("\n") + 1
        if lines <= self.config.book_keep_whole_lines and not self.in_footnote:
            # The lines, and room for the caption and the frame.
            self.body.append(f"\n\\Needspace*{{\\dimexpr {lines}\\codeleading"
                             f" + 3\\baselineskip\\relax}}\n")
        super().visit_literal_block(node)


# -- HTML and EPUB ------------------------------------------------------------


class BookHTMLTranslator(HTML5Translator):
    """Sphinx's HTML translator, with two corrections.

    "Listing 2.4: " before a caption, with its colon; and the caption of a
    table of contents ("Chapters") is a heading with a level, as ARIA asks
    of every element whose role is "heading".
    """

    def visit_title(self, node: nodes.title) -> None:
        parent = node.parent
        if isinstance(parent, addnodes.compact_paragraph) and parent.get("toctree"):
            self.body.append(self.starttag(node, "p", "", CLASS="caption", ROLE="heading",
                                           **{"aria-level": "2"}))
            self.body.append('<span class="caption-text">')
            self.context.append("</span></p>\n")
        else:
            super().visit_title(node)

    def add_fignumber(self, node: nodes.Element) -> None:
        start = len(self.body)
        super().add_fignumber(node)
        if len(self.body) == start + 3:  # <span ...>, "Listing 2.4 ", </span>
            self.body[start + 1] = self.body[start + 1].rstrip() + ": "


def html_visit_graphviz(self: HTML5Translator, node: graphviz) -> None:
    """A Graphviz figure as an ``<img>`` whose ``alt`` is the figure's text.

    Sphinx puts an SVG figure in an ``<object>``, which has no accessible
    name and which e-readers may not show.  An ``<img>`` has both; in the
    web book it is also a link to the picture itself, to see it full size.
    """
    try:
        filename, _ = render_dot(self, node["code"], node["options"], "svg", "graphviz")
    except GraphvizError as error:
        logger.warning("dot code %r: %s", node["code"], error, location=node)
        raise nodes.SkipNode from error
    src = filename.as_posix()
    if "alt" not in node:
        logger.warning("a figure needs an :alt: text, for readers who cannot see it",
                       location=node)
    alt = self.attval(node.get("alt", ""))
    image = f'<img src="{src}" alt="{alt}" class="graphviz" />'
    if not self.builder.name.startswith("epub"):
        image = f'<a class="full-size" href="{src}" title="The figure, full size">{image}</a>'
    self.body.append(f'<div class="graphviz">{image}</div>\n')
    raise nodes.SkipNode


DOWNLOADS = (("PDF", "twisted-poetry.pdf"), ("EPUB", "TwistedPoetry.epub"))


def html_page_context(app: Sphinx, pagename: str, templatename: str,
                      context: dict, doctree: nodes.document | None) -> None:
    """Every page: the book's description, and the files to download, if made."""
    description = app.config.book_description.replace('"', "&quot;")
    context["metatags"] = (context.get("metatags", "")
                           + f'\n<meta name="description" content="{description}" />')
    folder = Path(app.outdir, "downloads")
    extra = [Path(path) / "downloads" for path in app.config.html_extra_path]
    context["book_downloads"] = [
        (label, name) for label, name in DOWNLOADS
        if (folder / name).exists() or any((path / name).exists() for path in extra)
    ]


_DOCTYPE = re.compile(rb"<!DOCTYPE[^>]*>\s*", re.IGNORECASE)


class BookEpubBuilder(Epub3Builder):
    """Sphinx's EPUB 3 builder, with pictures that EPUB readers accept.

    Graphviz and Matplotlib write SVG files that begin with a document type
    declaration naming an external DTD, which EPUB 3 forbids: it goes.
    """

    def get_toc(self) -> None:
        """The table of contents, without the web book's link to the index.

        The EPUB builder adds the index to the book itself; the link in the
        table of contents would put it in the reading order twice.
        """
        super().get_toc()
        self.refnodes = [node for node in self.refnodes
                         if not node["refuri"].startswith("genindex")]

    def copy_image_files(self) -> None:
        super().copy_image_files()
        for svg in Path(self.outdir, self.imagedir).glob("*.svg"):
            svg.write_bytes(_DOCTYPE.sub(b"", svg.read_bytes(), count=1))


def no_index_page_in_print(app: Sphinx, docname: str, source: list[str]) -> None:
    """Leave the index page out of the table of contents where there is no such page.

    The HTML and EPUB books have a page "genindex", which the toctree names;
    the PDF makes its index itself, at the end, and Sphinx would warn that
    the toctree names a document that does not exist.
    """
    if docname == "index" and app.builder.format != "html":
        source[0] = source[0].replace("\ngenindex\n", "\n")


def setup(app: Sphinx) -> dict[str, object]:
    app.add_config_value("book_parts", {}, "env", dict)
    app.add_config_value("book_appendices", [], "env", list)
    app.add_config_value("book_keep_whole_lines", 40, "env", int)
    app.set_translator("latex", BookTranslator, override=True)
    for builder in ("html", "dirhtml", "epub"):
        app.set_translator(builder, BookHTMLTranslator, override=True)
    app.add_node(graphviz, override=True, html=(html_visit_graphviz, None))
    app.add_builder(BookEpubBuilder, override=True)
    app.add_config_value("book_description", "", "html", str)
    app.connect("html-page-context", html_page_context)
    app.connect("source-read", no_index_page_in_print)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
