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


def measured(page: Path, width: int, expression: str) -> Any:
    """A JavaScript expression's value in ``page`` laid out ``width`` pixels wide.

    The page is copied beside itself (so its style sheets and images resolve) with a
    script that, once the page has loaded, writes the expression's JSON value into
    the document; Chromium's dumped DOM carries it back. Layout questions (does a
    listing overflow its box, does a drawing fit the column) need the real layout,
    at a real width.
    """
    probe = page.with_name(f"_measure-{width}-{page.name}")
    script = (
        "<script>window.addEventListener('load', () => {"
        "const out = document.createElement('pre'); out.id = 'minigun-measure';"
        f"out.textContent = JSON.stringify(({expression}));"
        "document.body.appendChild(out); });</script>"
    )
    probe.write_text(
        page.read_text(encoding="utf-8").replace("</body>", f"{script}</body>")
    )
    command = [
        chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        f"--window-size={width},900",
        f"--virtual-time-budget={SCRIPT_BUDGET_MS}",
        "--dump-dom",
        probe.resolve().as_uri(),
    ]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=BROWSER_TIMEOUT, check=True
        )
    finally:
        probe.unlink()
    found = re.search(r'<pre id="minigun-measure">(.*?)</pre>', done.stdout, re.DOTALL)
    assert found, f"the measuring script did not run in {page}"
    return json.loads(html.unescape(found.group(1)))
