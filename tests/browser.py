"""A built page as a reader meets it: Debian's Chromium, headless, runs its scripts.

Sphinx's search runs in the browser: ``search.html?q=...`` loads the index and the
language's word splitter and stemmer, then writes its results into the page. A broken
script (Sphinx 9.0's ``Stemmer is not defined`` in the Chinese edition) leaves the HTML
files intact and every query empty, so only a real browser shows it. Chromium is a
real part of the test, as nginx is: without it these tests fail, they never skip
(``.ci/run`` installs it).
"""

import html
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

BROWSER_TIMEOUT = 60
# Virtual time lets the page's scripts run to the end (the index loads
# asynchronously) without the test waiting in real time.
SCRIPT_BUDGET_MS = "10000"
RESULT_ITEM = re.compile(r'<li class="[^"]*kind-[^"]*"')


def chromium() -> str:
    """The browser's path; fails (never skips) when it is missing."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    assert path, "the browser tests need Debian's chromium (.ci/run installs it)"
    return path


def rendered_dom(page: Path, query: str = "") -> str:
    """The page's DOM after its scripts ran, as headless Chromium serialises it."""
    url = page.resolve().as_uri() + query
    command = [
        chromium(),
        "--headless",
        "--no-sandbox",  # tests run as root in CI
        "--disable-gpu",
        f"--virtual-time-budget={SCRIPT_BUDGET_MS}",
        "--dump-dom",
        url,
    ]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=BROWSER_TIMEOUT, check=True
    )
    return done.stdout


def search_results(edition: Path, words: str) -> list[str]:
    """What the edition's search page lists for ``words``: one string per result."""
    dom = rendered_dom(edition / "search.html", "?q=" + quote(words))
    return RESULT_ITEM.findall(dom)


def measured_each(pages: list[Path], width: int, expression: str) -> list[Any]:
    """A JavaScript expression's value in each of ``pages``, laid out ``width``
    pixels wide, in the order given.

    Layout questions (does a listing overflow its box, does a drawing fit the
    column) need the real layout, at a real width. One Chromium lays out every page
    at once, each in a frame exactly ``width`` wide (a frame is the page's viewport,
    as a window that wide would be); a script in the frames' parent waits until
    every frame has loaded, evaluates the expression in each, and writes the JSON
    list into the document, which Chromium's dumped DOM carries back. Starting
    Chromium costs more than laying out a page: one start for the whole book, not
    one per page and width, made this check ten times cheaper with the same values.
    ``--allow-file-access-from-files`` lets the parent read its frames' documents.
    """
    frames = "".join(
        f'<iframe src="{page.resolve().as_uri()}" width="{width}" height="900" '
        'style="border: 0; display: block"></iframe>'
        for page in pages
    )
    script = (
        "<script>window.addEventListener('load', () => {"
        "const out = document.createElement('pre'); out.id = 'minigun-measure';"
        "const frames = Array.from(document.querySelectorAll('iframe'));"
        f"const expression = {json.dumps(expression)};"
        "const measure = (frame) => frame.contentWindow.eval(expression);"
        "out.textContent = JSON.stringify(frames.map(measure));"
        "document.body.appendChild(out); });</script>"
    )
    with tempfile.TemporaryDirectory(prefix="minigun-measure-") as folder:
        probe = Path(folder) / f"measure-{width}.html"
        body = f"<body style='margin: 0'>{frames}{script}</body>"
        probe.write_text(f"<!DOCTYPE html><html>{body}</html>")
        command = [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--allow-file-access-from-files",
            f"--window-size={width + 40},900",
            f"--virtual-time-budget={SCRIPT_BUDGET_MS}",
            "--dump-dom",
            probe.resolve().as_uri(),
        ]
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=BROWSER_TIMEOUT, check=True
        )
    found = re.search(r'<pre id="minigun-measure">(.*?)</pre>', done.stdout, re.DOTALL)
    assert found, f"the measuring script did not run over {len(pages)} pages"
    values = json.loads(html.unescape(found.group(1)))
    assert len(values) == len(pages), values
    return values
