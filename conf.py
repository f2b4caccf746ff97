"""Sphinx configuration for Twisted Poetry.  The chapters live in book/."""

import importlib.metadata
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "book" / "_ext"))

project = "Twisted Poetry"
author = "The Twisted Poetry authors"
copyright = "2026, the Twisted Poetry authors"
release = "2026.11"
version = release

extensions = [
    "myst_parser",
    "sphinx.ext.doctest",
    "sphinx.ext.graphviz",
    "sphinx_copybutton",
    "poetrybook",
    "formats",
]
try:  # the spelling checker needs the enchant C library; only `make spelling` needs it
    import sphinxcontrib.spelling  # noqa: F401

    extensions.append("sphinxcontrib.spelling")
except ImportError:
    pass

root_doc = "index"
exclude_patterns = ["_build", "_ext", "_latex", "_templates", "spelling_wordlist.txt"]
templates_path = ["book/_templates"]
language = "en"

myst_enable_extensions = ["colon_fence", "deflist", "attrs_block", "attrs_inline"]
myst_heading_anchors = 3

numfig = True
numfig_format = {"figure": "Figure %s", "code-block": "Listing %s", "table": "Table %s"}
highlight_language = "python"

# Twisted's API reference is linked with the {api} role of book/_ext/poetrybook.py,
# without fetching anything at build time: {api}`twisted.internet.defer.Deferred`

# Doctests run the example programs through book/_ext/terminal.py.
doctest_global_setup = "from terminal import Terminal"
doctest_global_cleanup = "Terminal.close_all()"
doctest_default_flags = 0  # no ELLIPSIS unless an example asks for it, and says why
doctest_test_doctest_blocks = ""

# The copy button copies the commands of a terminal session without "$ ".
copybutton_prompt_text = "$ "
copybutton_only_copy_prompt_lines = True
copybutton_line_continuation_character = "\\"  # a long command, folded over lines

graphviz_output_format = "svg"
graphviz_dot_args = ["-Gfontname=Helvetica", "-Nfontname=Helvetica", "-Efontname=Helvetica"]

html_theme = "furo"
html_title = "Twisted Poetry"
html_static_path = ["book/_static"]
html_css_files = ["book.css"]
html_js_files = ["book.js"]
html_favicon = "book/_static/favicon.svg"
# Code at 75 % of the text: 88 columns fit the page at 1280 px.
_code = {"code-font-size": "var(--font-size--small--3)"}
html_theme_options = {"light_css_variables": _code, "dark_css_variables": _code}
html_sidebars = {"**": [
    "sidebar/brand.html", "sidebar/search.html", "sidebar/scroll-start.html",
    "sidebar/navigation.html", "sidebar/downloads.html", "sidebar/scroll-end.html",
]}
# The publishing build (make publish) puts the PDF and the EPUB in
# _build/extra/downloads, and the web book links to them from every page.
_extra = ROOT / "_build" / "extra"
html_extra_path = [str(_extra)] if (_extra / "downloads").is_dir() else []
book_description = ("A book that teaches asynchronous programming in Python through "
                    "Twisted, with every example program run and checked.")

latex_engine = "xelatex"
latex_documents = [("index", "twisted-poetry.tex", project, author, "manual")]
latex_docclass = {"manual": "book"}  # front matter, main matter, parts
_latex = ROOT / "book" / "_latex"
latex_elements = {
    "papersize": "a4paper",
    "pointsize": "11pt",
    "geometry": r"\usepackage[a4paper,textwidth=150mm,top=27mm,bottom=32mm,"
                r"headsep=9mm,footskip=14mm]{geometry}",
    # TeX Gyre Pagella for the text, Heros for headings, DejaVu Sans Mono for
    # code: no hyphens in code, its x-height matched to the text's.
    "fontpkg": r"""
\setmainfont{TeX Gyre Pagella}
\setsansfont{TeX Gyre Heros}
\setmonofont{DejaVu Sans Mono}[Scale=MatchLowercase, HyphenChar=None]
""",
    "fncychap": "",
    "fvset": r"\fvset{fontsize=\codesize}",
    "figure_align": "H",
    "preamble": (_latex / "preamble.tex").read_text(),
    "maketitle": (_latex / "titlepages.tex").read_text()
    .replace("{author}", author)
    .replace("{release}", release)
    .replace("{date}", time.strftime("%Y-%m-%d"))
    .replace("{year}", time.strftime("%Y"))
    .replace("{python}", platform.python_version())
    .replace("{twisted}", importlib.metadata.version("twisted"))
    .replace("{sphinx}", importlib.metadata.version("sphinx")),
    "tableofcontents": r"\frontmatter\tableofcontents",
    "sphinxsetup": "TitleColor={RGB}{40,40,40}, InnerLinkColor={RGB}{30,70,140},"
                   " OuterLinkColor={RGB}{30,70,140}",
}
book_parts = {"01-models": "From the ground up", "20-threads": "Twisted at work"}
book_appendices = ["appendix-testing", "appendix-solutions", "glossary"]

epub_title = project
epub_author = author
epub_publisher = author
epub_copyright = f"{copyright}; text CC BY-SA 4.0, programs MIT"
epub_description = book_description
epub_language = "en"
epub_contributor = author
# One identifier, fixed for this book, in the OPF and the NCX alike (an XML name).
epub_uid = epub_identifier = "TwistedPoetry-89d2bd1a-ac81-44db-b878-f00957b1a28c"
epub_cover = ("_static/cover.png", "")  # drawn by tools/make_cover.py
epub_show_urls = "no"
# `make bench` writes its CSV files and plots into book/_static/bench.  The EPUB
# takes the plots from _images like every figure, and has no media type for CSV
# or PDF files: leave the folder out of it.
epub_exclude_files = sorted(
    [f"_static/bench/{path.name}" for path in (ROOT / "book" / "_static" / "bench").glob("*")]
    + ["_static/favicon.svg", "_static/book.js", ".buildinfo.bak"]  # .bak: old build info
)

spelling_lang = "en_US"
spelling_word_list_filename = str(ROOT / "book" / "spelling_wordlist.txt")
spelling_show_suggestions = False
spelling_warning = True
spelling_ignore_contributor_names = False  # needs no git history
