"""Test the HTML book the way a reader uses it: in a real, headless Chromium.

    python tools/browser_test.py [--screenshots DIR]

It serves _build/html on a port the system picks, opens every page, and
checks:

* no console errors, no failed requests, no image, figure or stylesheet
  that did not load;
* every link of the table of contents leads to a page, and to the section
  its #anchor names;
* the search page finds a word that occurs in one chapter, and links to it;
* a copy button copies a program's text exactly as it is in code/, and a
  terminal session's copy button copies its commands without the "$ ";
* each program's download link serves the very file from code/;
* the dark theme renders dark;
* no code block scrolls sideways in a window 1280 pixels wide;
* accessibility: axe-core (from the npm registry, installed by make into
  node_modules/) finds no violation of WCAG 2.1 A and AA on any page, in
  the light and the dark theme, at 1280 pixels and at a phone's 390;
* the keyboard: from the top of a chapter, Tab reaches the skip link, the
  search, the navigation, every copy button and every download link, in
  reading order, each with a visible focus ring.

It saves a screenshot of two chapters, one light and one dark, for the
README.  Chromium comes from the operating system (Debian's ``chromium``);
Playwright, from requirements.txt, drives it.  The last line says how many
checks passed and failed.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import shutil
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
SEARCH_WORD, SEARCH_CHAPTER = "stopwatch", "02-slow-poetry.html"
KEYBOARD_CHAPTER = "02-slow-poetry.html"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WCAG = "runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}"
AXE_ALL = f"{{{WCAG}, resultTypes: ['violations']}}"
AXE_BUT_CONTRAST = f"{{{WCAG}, rules: {{'color-contrast': {{enabled: false}}}}, resultTypes: ['violations']}}"
AXE_CONTRAST = "{runOnly: {type: 'rule', values: ['color-contrast']}, resultTypes: ['violations']}"
COPY_CHAPTER, COPY_PROGRAM = "02-slow-poetry.html", "code/blocking-server/slowpoetry.py"


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    return None


class Checks:
    """Counts checks; prints each failure as it happens."""

    def __init__(self) -> None:
        self.passed = self.failed = 0

    def check(self, ok: bool, what: str) -> bool:
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            print(f"FAILED: {what}", flush=True)
        return ok


def serve(folder: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    """Serve a folder over HTTP on 127.0.0.1 and a port the system picks."""
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def open_page(page: Page, url: str, problems: list[str]) -> None:
    problems.clear()
    page.goto(url, wait_until="load")


def watch(page: Page, problems: list[str]) -> None:
    """Record every console error, page error and failed request of a page."""
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    # A request the next navigation cancels is not a failure of the book:
    # the browser fetches the favicon in the background, and a test that
    # goes on to the next page at once aborts it.
    page.on("requestfailed", lambda r: r.failure != "net::ERR_ABORTED"
            and problems.append(f"request failed: {r.url} ({r.failure})"))
    page.on("response", lambda r: r.status >= 400 and not r.url.endswith("/favicon.ico")
            and problems.append(f"{r.status}: {r.url}"))
    # The browser asks every site for /favicon.ico, and logs the book's 404 for it.
    page.on("console", lambda m: m.type == "error" and "favicon" not in m.location["url"]
            and problems.append(f"console: {m.text}"))


MISSING_RESOURCES = """() => {
  const missing = [];
  for (const img of document.images)
    if (!img.complete || img.naturalWidth === 0) missing.push("image " + img.src);
  for (const link of document.querySelectorAll('link[rel="stylesheet"]'))
    if (!link.sheet) missing.push("stylesheet " + link.href);
  for (const figure of document.querySelectorAll("figure, div.figure, div.graphviz"))
    if (!figure.querySelector("img, object, svg")) missing.push("empty figure");
  return missing;
}"""


def check_pages(page: Page, base: str, checks: Checks, problems: list[str]) -> int:
    """Every page: resources, console, and the download link of each program."""
    pages = sorted(p.name for p in HTML.glob("*.html"))
    downloads = 0
    for name in pages:
        open_page(page, base + name, problems)
        missing = page.evaluate(MISSING_RESOURCES)
        checks.check(not problems and not missing,
                     f"{name}: {'; '.join(problems + missing)}")
        downloads += check_downloads(page, base + name, checks)
    checks.check(downloads > 0, "the book has program download links")
    return len(pages)


def check_toc(page: Page, base: str, checks: Checks, problems: list[str]) -> None:
    """Every link of the table of contents: its page opens, and has the #anchor.

    The links are grouped by page, and each page is opened once for all of
    its anchors.
    """
    open_page(page, base + "index.html", problems)
    hrefs = page.eval_on_selector_all(".toctree-wrapper a.reference.internal",
                                      "links => links.map(a => a.href)")
    checks.check(len(hrefs) > 0, "the table of contents has links")
    by_page: dict[str, list[str]] = {}
    for href in hrefs:
        by_page.setdefault(href.partition("#")[0], []).append(href)
    for url, links in by_page.items():
        open_page(page, url, problems)
        loaded = not problems and page.title() != ""
        for href in links:
            anchor = href.partition("#")[2]
            ok = loaded and (not anchor or page.locator(
                f'[id="{urllib.parse.unquote(anchor)}"]').count() == 1)
            checks.check(ok, f"table of contents link {href}: {'; '.join(problems)}")


def check_search(page: Page, base: str, checks: Checks, problems: list[str]) -> None:
    open_page(page, f"{base}search.html?q={SEARCH_WORD}", problems)
    results = page.locator("#search-results ul.search li a")
    try:
        results.first.wait_for(timeout=10_000)
    except Exception:  # no result within the time: the check below fails
        pass
    hrefs = [results.nth(i).get_attribute("href") or "" for i in range(results.count())]
    checks.check(any(h.split("?")[0].split("#")[0] == SEARCH_CHAPTER for h in hrefs),
                 f"search for {SEARCH_WORD!r} links to {SEARCH_CHAPTER}: got {hrefs}")


def clipboard_after_click(page: Page, button) -> str:
    page.evaluate("navigator.clipboard.writeText('')")
    button.click()
    for _ in range(50):
        text = page.evaluate("navigator.clipboard.readText()")
        if text:
            return text
        time.sleep(0.1)
    return ""


def check_copy_buttons(page: Page, base: str, checks: Checks, problems: list[str]) -> None:
    open_page(page, base + COPY_CHAPTER, problems)
    listing = page.locator("div.literal-block-wrapper", has_text=COPY_PROGRAM).first
    listing.hover()
    copied = clipboard_after_click(page, listing.locator("button.copybtn"))
    expected = (ROOT / COPY_PROGRAM).read_text()
    checks.check(copied.rstrip("\n") == expected.rstrip("\n"),
                 f"the copy button of {COPY_PROGRAM} copies the program exactly")
    session = page.locator("div.highlight-console", has_text="$ nc -d 127.0.0.1 10001").first
    session.hover()
    copied = clipboard_after_click(page, session.locator("button.copybtn"))
    checks.check(copied.splitlines()[-1:] == ["nc -d 127.0.0.1 10001"] and "$" not in copied,
                 f"a terminal session's copy button copies only its commands: {copied!r}")


def check_downloads(page: Page, url: str, checks: Checks) -> int:
    """Each program's download link serves the file the caption names."""
    count = 0
    for listing in page.locator("div.literal-block-wrapper").all():
        download = listing.locator("a.program-download")
        if not download.count():
            continue
        href = urllib.parse.urljoin(url, download.get_attribute("href"))
        name = href.rsplit("/", 1)[-1]
        named = [text for text in listing.locator(".caption-text code").all_inner_texts()
                 if text.startswith("code/") and text.endswith("/" + name)]
        with urllib.request.urlopen(href) as response:
            served = response.read()
        count += 1
        checks.check(len(named) == 1 and served == (ROOT / named[0]).read_bytes(),
                     f"{url}: the download link {name} serves the file its caption names "
                     f"({named})")
    return count


def check_dark_theme(page: Page, base: str, checks: Checks, problems: list[str],
                     screenshots: Path) -> None:
    open_page(page, base + "02-slow-poetry.html", problems)
    page.screenshot(path=str(screenshots / "chapter-2-light.png"))
    page.evaluate("localStorage.setItem('theme', 'dark')")
    open_page(page, base + "05-transports-protocols-factories.html", problems)
    theme = page.evaluate("document.body.dataset.theme")
    background = page.evaluate(
        "getComputedStyle(document.body).backgroundColor.match(/\\d+/g).slice(0, 3).map(Number)")
    checks.check(theme == "dark" and sum(background) < 150 and not problems,
                 f"the dark theme renders dark: theme {theme}, background {background}")
    page.screenshot(path=str(screenshots / "chapter-5-dark.png"))
    page.evaluate("localStorage.removeItem('theme')")


SIDEWAYS = """() => Array.from(document.querySelectorAll("div.highlight pre"))
    .filter(pre => pre.scrollWidth > pre.clientWidth + 1)
    .map(pre => (pre.closest(".literal-block-wrapper, div[class^=highlight-]") || pre)
                .textContent.trim().split("\\n")[0].slice(0, 60))"""


def check_sideways(page: Page, base: str, checks: Checks, problems: list[str]) -> None:
    """At 1280 pixels, every code block fits: nothing to scroll sideways."""
    wide = []
    for name in sorted(p.name for p in HTML.glob("*.html")):
        open_page(page, base + name, problems)
        wide += [f"{name}: {first}" for first in page.evaluate(SIDEWAYS)]
    checks.check(not wide, f"{len(wide)} code blocks scroll sideways at 1280 px: {wide[:5]}")


def axe_violations(page: Page, options: str, where: str = "document") -> list[str]:
    """Run axe-core on the page (or part of it); its violations, one line each."""
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    found = page.evaluate(f"""async () => {{
        const result = await axe.run({where}, {options});
        return result.violations.map(v => v.id + " (" + v.impact + "): " + v.nodes.length
            + " element(s), e.g. " + v.nodes[0].target.join(" "));
    }}""")
    return found


CODE_COLOURS = """() => Array.from(document.querySelectorAll("div.highlight"))
    .flatMap(block => {
        const kind = (block.closest("div[class^=highlight-]") || block).className.split(" ")[0];
        const tokens = Array.from(block.querySelectorAll("pre span[class]"), s => s.className);
        return [kind, ...tokens.map(token => kind + " " + token)];
    })"""


def covering_pages(colours: dict[str, set[str]]) -> list[str]:
    """Few pages whose code blocks, together, show every kind of token the book has.

    A token's colour, and so its contrast, depends only on its class and
    the kind of block it is in (a program, a session, a diff), never on
    the page: so checking each (kind, class) once, in each theme, checks
    the code of every page.  Greedy: the page with most unchecked kinds first.
    """
    left = set().union(*colours.values())
    chosen = []
    while left:
        best = max(sorted(colours), key=lambda name: len(colours[name] & left))
        chosen.append(best)
        left -= colours[best]
    return chosen


def check_accessibility(browser, base: str, checks: Checks) -> None:
    """axe-core on every page: light and dark, 1280 and 390 pixels wide.

    Every page is checked in all four, each time with the rules whose
    result can differ there, so that no rule's answer is computed twice:

    * the rules about structure (names, roles, landmarks, headings,
      focusable scrolling regions) depend on the width, which changes
      the layout, but not on the theme, which changes only colours: they
      run at both widths, in the light theme;
    * colour contrast depends on the theme: it runs in both, at 1280
      pixels on the whole page, and at 390 on what the phone layout adds
      (the page's frame: header, drawer, footer), since the chapter's own
      colours do not change with the width;
    * the contrast of the code blocks' coloured tokens is the same on
      every page: it is checked on the few pages that together hold every
      kind of token the book has (covering_pages), and elsewhere the code
      blocks are hidden while contrast is checked.
    """
    if not AXE.exists():
        checks.check(False, "axe-core is not installed: run npm ci (make does)")
        return
    pages = sorted(p.name for p in HTML.glob("*.html"))
    code_pages: list[str] = []
    hide_code = "div.highlight { display: none !important; }"
    for scheme, width in (("light", 1280), ("dark", 1280), ("light", 390), ("dark", 390)):
        context = browser.new_context(viewport={"width": width, "height": 900},
                                      color_scheme=scheme)
        page = context.new_page()
        colours = {}
        for name in pages:
            page.goto(base + name, wait_until="load")
            found = []
            if not code_pages:
                colours[name] = set(page.evaluate(CODE_COLOURS))
            if scheme == "light":
                found += axe_violations(page, AXE_BUT_CONTRAST)
            if name not in code_pages:
                page.add_style_tag(content=hide_code)
            where = "document" if width == 1280 else "{exclude: [['article']]}"
            found += axe_violations(page, AXE_CONTRAST, where)
            checks.check(not found, f"axe, {scheme} theme, {width} px, {name}: {found}")
        if not code_pages:
            code_pages = covering_pages(colours)
            print(f"browser test: code-block contrast on {len(code_pages)} pages "
                  f"that show all {len(set().union(*colours.values()))} kinds of token: "
                  f"{', '.join(code_pages)}")
            # This first pass hid every code block: check those pages' now.
            for name in code_pages:
                page.goto(base + name, wait_until="load")
                found = axe_violations(page, AXE_CONTRAST)
                checks.check(not found, f"axe, code contrast, {scheme}, {name}: {found}")
        context.close()


FOCUSED = """() => {
    const e = document.activeElement;
    const style = getComputedStyle(e);
    const ring = (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0)
        || (style.boxShadow && style.boxShadow !== "none");
    const all = Array.from(document.querySelectorAll("*"));
    return {order: all.indexOf(e), tag: e.tagName, cls: e.className || "",
            text: (e.getAttribute("aria-label") || e.textContent || e.value || "").trim().slice(0, 40),
            ring: ring, visible: parseFloat(style.opacity) > 0 && e.getClientRects().length > 0};
}"""


def check_keyboard(page: Page, base: str, checks: Checks, problems: list[str]) -> None:
    """Tab from the top of a chapter: what it reaches, in what order, and how it shows."""
    open_page(page, base + KEYBOARD_CHAPTER, problems)
    wanted = page.evaluate("""() => {
        const all = Array.from(document.querySelectorAll("*"));
        const article = document.querySelector("article");
        const ids = (selector) => Array.from(article.querySelectorAll(selector))
            .map(e => all.indexOf(e));
        return {copy: ids("button.copybtn"), downloads: ids("a.program-download")};
    }""")
    reached = []
    for _ in range(3000):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if focused["tag"] == "BODY" or (reached and focused["order"] == reached[0]["order"]):
            break  # past the last element, or round to the first again
        reached.append(focused)
    orders = [f["order"] for f in reached]
    first = reached[0] if reached else {}
    checks.check("skip-to-content" in first.get("cls", ""),
                 f"keyboard: the first Tab reaches the skip link (got {first})")
    search = next((i for i, f in enumerate(reached) if f["tag"] == "INPUT"), None)
    navigation = next((i for i, f in enumerate(reached)
                       if "reference" in f["cls"] and f["tag"] == "A"), None)
    checks.check(search is not None and navigation is not None and search < navigation,
                 "keyboard: the search comes before the navigation")
    checks.check(orders == sorted(orders), "keyboard: Tab follows the reading order")
    missing = [i for i in wanted["copy"] + wanted["downloads"] if i not in orders]
    checks.check(not missing and wanted["copy"] and wanted["downloads"],
                 f"keyboard: every copy button and download link is reached "
                 f"({len(wanted['copy'])} + {len(wanted['downloads'])}, {len(missing)} missed)")
    unseen = [f for f in reached if not (f["ring"] and f["visible"])]
    checks.check(not unseen, f"keyboard: every element shows a focus ring when it has the "
                             f"focus ({len(unseen)} do not, e.g. {unseen[:3]})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--screenshots", type=Path, default=ROOT / "_build" / "screenshots",
                        help="where to save the screenshots (default: _build/screenshots)")
    args = parser.parse_args()
    chromium = find_chromium()
    if chromium is None:
        print("browser test: no Chromium installed (Debian: apt-get install chromium); "
              "not run")
        print("0 passed, 0 failed, 1 skipped")
        return 0
    if not (HTML / "index.html").exists():
        sys.exit("Build the book first: make html")
    args.screenshots.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    server, base = serve(HTML)
    checks, problems = Checks(), []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            context = browser.new_context(viewport={"width": 1200, "height": 900},
                                          permissions=["clipboard-read", "clipboard-write"])
            page = context.new_page()
            watch(page, problems)
            pages = check_pages(page, base, checks, problems)
            check_toc(page, base, checks, problems)
            check_search(page, base, checks, problems)
            check_copy_buttons(page, base, checks, problems)
            check_dark_theme(page, base, checks, problems, args.screenshots)
            page.set_viewport_size({"width": 1280, "height": 900})
            check_sideways(page, base, checks, problems)
            check_keyboard(page, base, checks, problems)
            context.close()
            axe_started = time.monotonic()
            check_accessibility(browser, base, checks)
            print(f"browser test: axe-core took {time.monotonic() - axe_started:.1f} s")
            browser.close()
    finally:
        server.shutdown()
    print(f"browser test: {pages} pages in {time.monotonic() - started:.1f} s; "
          f"screenshots in {args.screenshots.relative_to(ROOT)}")
    print(f"{checks.passed} passed, {checks.failed} failed")
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
