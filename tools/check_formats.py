"""Measure what a reader sees in the PDF, the EPUB and the web book.

    .venv/bin/python tools/check_formats.py          # build the PDF and EPUB, then measure
    .venv/bin/python tools/check_formats.py --no-build   # measure what _build holds

A publisher's checklist, each item measured and compared with its goal:

* code lines too wide for the page: a line of a listing, diff or terminal
  session longer than the CODE_COLUMNS that the PDF's code font fits in
  the text width (the web book's code font is sized to fit as many);
* code hyphenated in the PDF's running text: a line that ends in the
  monospace font with "-" and goes on in it on the next line;
* blank pages that still carry a running head or a page number;
* lines of text that stick out into the margin (an unbreakable piece of
  inline code, usually);
* figures whose smallest label prints below 8 pt once the figure is
  scaled to the text width;
* epubcheck's errors and warnings;
* index entries and glossary terms.

Sideways-scrolling code in the web book is measured in a browser, by
tools/browser_test.py.  The last line says how many measures met their goal
and how many did not, in the form make test reads: "N passed, N failed".
"""

from __future__ import annotations

import argparse
import pickle
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from docutils import nodes

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "_build"
PDF = BUILD / "latex" / "twisted-poetry.pdf"
EPUB = BUILD / "epub" / "TwistedPoetry.epub"
DOCTREES = BUILD / "formats-doctrees"
"""The PDF and EPUB builds' own doctrees, so that this check can run while
make test builds the HTML book into _build/doctrees."""
BIN = Path(sys.executable).parent

CODE_COLUMNS = 89
"""Characters of code that fit in the PDF's text width (150 mm of DejaVu Sans Mono).

A program's lines are at most 88 (ruff's line length), and so are a
terminal session's (the doctests' terminal is 88 columns wide); a diff
puts one more character, +, - or a space, in front of each line.
"""
TEXT_WIDTH_PT = 150 / 25.4 * 72
"""The PDF's text width, in points."""
SMALLEST_LABEL_PT = 8.0
EPUBCHECK = Path("/usr/share/java/epubcheck.jar")


def too_wide_lines() -> list[str]:
    """Lines of code blocks, in every chapter, longer than CODE_COLUMNS."""
    found = []
    for path in sorted(DOCTREES.glob("*.doctree")):
        doctree = pickle.loads(path.read_bytes())
        for block in doctree.findall(nodes.literal_block):
            for line in block.astext().expandtabs().splitlines():
                if len(line) > CODE_COLUMNS:
                    found.append(f"{path.stem}: {line[:60]}... ({len(line)})")
    return found


def pdf_pages() -> list[ET.Element]:
    xml = subprocess.run(["pdftohtml", "-xml", "-i", "-stdout", "-q", str(PDF)],
                         capture_output=True, text=True, check=True).stdout
    return ET.fromstring(xml.encode()).findall("page")


def hyphenated_code(pages: list[ET.Element]) -> list[str]:
    """Inline code broken across two lines with a hyphen."""
    found = []
    for page in pages:
        mono = {f.get("id") for f in page.iter("fontspec") if "Mono" in f.get("family", "")}
        lines = [t for t in page.iter("text") if t.get("font") in mono]
        texts = page.findall("text")
        for i, text in enumerate(texts[:-1]):
            words = "".join(text.itertext())
            # A word broken by a hyphen (a diff's lone "-" is not one).
            if text in lines and re.search(r"\w-$", words) and texts[i + 1] in lines:
                found.append(f"page {page.get('number')}: {words}")
    return found


def blank_pages_with_heads(pages: list[ET.Element]) -> list[str]:
    """Pages whose only text is in the top or bottom margin: a head on a blank page."""
    found = []
    for page in pages:
        height = float(page.get("height"))
        texts = ["".join(t.itertext()).strip() for t in page.findall("text")]
        tops = [float(t.get("top")) for t in page.findall("text")]
        if texts and all(top < 0.09 * height or top > 0.9 * height for top in tops):
            found.append(f"page {page.get('number')}: {' '.join(texts)}")
    return found


def overfull_lines() -> list[str]:
    """Lines of the PDF's text that stick out into the margin by more than 2 pt."""
    log = (BUILD / "latex" / "twisted-poetry.log").read_text(errors="replace")
    return [f"{width} pt at {where}" for width, where in
            re.findall(r"^Overfull \\hbox \(([\d.]+)pt too wide\) in paragraph at (lines [\d-]+)",
                       log, re.M) if float(width) > 2]


def small_figures() -> list[str]:
    """Figures whose smallest label, scaled to the text width, is below 8 pt."""
    found = []
    pages = "".join(page.read_text() for page in (BUILD / "epub").glob("*.xhtml"))
    for svg in sorted((BUILD / "epub" / "_images").glob("*.svg")):
        if svg.name not in pages:
            continue  # left from an earlier build
        text = svg.read_text()
        width = re.search(r'<svg[^>]*\bwidth="([\d.]+)pt"', text)
        sizes = [float(s) for s in re.findall(r'font-size="([\d.]+)"', text)]
        sizes += [float(s) for s in re.findall(r"font-size:\s*([\d.]+)px", text)]
        if not width or not sizes:
            continue
        scale = min(1.0, TEXT_WIDTH_PT / float(width.group(1)))
        if min(sizes) * scale < SMALLEST_LABEL_PT:
            found.append(f"{svg.name}: {min(sizes) * scale:.1f} pt")
    return found


def epubcheck() -> list[str]:
    if not EPUBCHECK.exists():
        return ["epubcheck is not installed (Debian: apt-get install epubcheck)"]
    result = subprocess.run(["java", "-jar", str(EPUBCHECK), str(EPUB)],
                            capture_output=True, text=True)
    return [line for line in (result.stdout + result.stderr).splitlines()
            if line.startswith(("ERROR", "WARNING", "FATAL"))]


def index_entries() -> int:
    index = (BUILD / "epub" / "genindex.xhtml").read_text()
    body = index.split('<table class="indextable', 1)[-1]
    return len(re.findall(r"<a href=", body))


def glossary_terms() -> int:
    glossary = BUILD / "epub" / "glossary.xhtml"
    if not glossary.exists():
        return 0
    return len(re.findall(r'<dt id="term-', glossary.read_text()))


def build() -> None:
    """The EPUB and the PDF, as make epub and make pdf build them."""
    for builder in ("latex", "epub"):
        subprocess.run([str(BIN / "sphinx-build"), "-b", builder, "-d", str(DOCTREES),
                        "book", str(BUILD / builder), "-c", ".", "-W", "--keep-going",
                        "-n", "-q"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["make", "-C", str(BUILD / "latex"), "all-pdf"], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-build", action="store_true",
                        help="measure the books in _build as they are")
    args = parser.parse_args()
    if not shutil.which("pdftohtml"):
        print("check_formats: pdftohtml is missing (Debian: apt-get install poppler-utils)")
        return 1
    if not args.no_build:
        build()
    pages = pdf_pages()
    measures = [
        ("code lines wider than the page", too_wide_lines(), 0),
        ("code hyphenated in the PDF's text", hyphenated_code(pages), 0),
        ("blank pages with a head or a page number", blank_pages_with_heads(pages), 0),
        ("lines of text sticking out into the margin", overfull_lines(), 0),
        (f"figures with labels under {SMALLEST_LABEL_PT:g} pt in print", small_figures(), 0),
        ("epubcheck errors and warnings", epubcheck(), 0),
    ]
    passed = failed = 0
    print(f"{'measure':52} {'now':>6} {'goal':>6}")
    for title, problems, goal in measures:
        ok = len(problems) <= goal
        passed, failed = passed + ok, failed + (not ok)
        print(f"{title:52} {len(problems):>6} {goal:>6}{'' if ok else '   <- past the goal'}")
        for problem in problems[:10] if not ok else []:
            print(f"    {problem}")
    for title, count, goal in (("index entries", index_entries(), 150),
                               ("glossary terms", glossary_terms(), 25)):
        ok = count >= goal
        passed, failed = passed + ok, failed + (not ok)
        print(f"{title:52} {count:>6} {'>= ' + str(goal):>6}{'' if ok else '   <- short'}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
