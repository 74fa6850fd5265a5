"""The Chinese edition cannot drift from the English one.

The translation is Sphinx's gettext catalogs in ``book/locale/zh_CN/LC_MESSAGES``, one
per page (and ``sphinx.po`` for the labels the book's extension writes). Three ways it
could drift, one test each:

* a page has no catalog at all, so the whole page is English in the Chinese edition;
* a catalog is behind the English sources: a paragraph changed and nobody ran
  ``make update-po``, so the catalog still translates the old text and the new one
  shows in English. The test extracts the messages afresh (``sphinx-build -b
  gettext``) and compares them with the catalogs;
* a message is untranslated, or fuzzy (``make update-po`` marks a translation fuzzy
  when its English changed; Sphinx does not use a fuzzy translation).

The catalogs are read with Babel's reader, the one Sphinx itself uses.
"""

import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
CATALOGS = BOOK / "locale" / "zh_CN" / "LC_MESSAGES"
# Not pages: the sources' README, and the fragment hooks.md includes.
NOT_PAGES = {"README", "hooks-timeline"}
EXTRACT_TIMEOUT = 120
SHOWN_PER_CATALOG = 10


def read_catalog(path: Path) -> Catalog:
    with path.open("rb") as po:
        return read_po(po, locale="zh_CN")


def messages(catalog: Catalog) -> list[Message]:
    """Every message but the header (whose id is empty); obsolete ones are apart."""
    return [message for message in catalog if message.id]


def text_of(message: Message) -> str:
    msgid = message.id if isinstance(message.id, str) else message.id[0]
    return msgid if len(msgid) <= 70 else msgid[:67] + "..."


def where(path: Path, message: Message) -> str:
    line = f":{message.lineno}" if message.lineno else ""
    return f"{path.relative_to(ROOT)}{line}: {text_of(message)!r}"


def pages() -> list[str]:
    return sorted(p.stem for p in BOOK.glob("*.md") if p.stem not in NOT_PAGES)


def catalog_files() -> list[Path]:
    return sorted(CATALOGS.glob("*.po"))


def test_every_page_has_a_catalog() -> None:
    missing = [page for page in pages() if not (CATALOGS / f"{page}.po").exists()]
    assert not missing, f"pages without a catalog (run `make update-po`): {missing}"


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The English messages as the sources have them now, as ``make gettext`` makes."""
    out = tmp_path_factory.mktemp("gettext")
    sphinx = [sys.executable, "-m", "sphinx", "-b", "gettext", "-E", "-q"]
    sphinx += ["-t", "every_edition"]  # as make gettext: every edition's text
    subprocess.run(
        [*sphinx, "-W", "-n", "-c", ".", "book", str(out)],
        cwd=ROOT,
        check=True,
        timeout=EXTRACT_TIMEOUT,
    )
    pybabel = [sys.executable, "-m", "babel.messages.frontend", "--quiet", "extract"]
    subprocess.run(
        [*pybabel, "-o", str(out / "sphinx.pot"), "book/_ext"],
        cwd=ROOT,
        check=True,
        timeout=EXTRACT_TIMEOUT,
    )
    return out


def ids(catalog: Catalog) -> set[str]:
    return {str(message.id) for message in messages(catalog)}


@pytest.mark.timeout(EXTRACT_TIMEOUT + 30)
def test_catalogs_hold_the_english_sources_messages(extracted: Path) -> None:
    """Every message the sources have now is in its catalog, and no other."""
    behind = []
    for template in sorted(extracted.glob("*.pot")):
        po = CATALOGS / f"{template.stem}.po"
        if not po.exists():
            behind.append(f"{po.relative_to(ROOT)}: missing")
            continue
        wanted, held = ids(read_catalog(template)), ids(read_catalog(po))
        name = po.relative_to(ROOT)
        behind += [f"{name}: new in English: {m[:70]!r}" for m in wanted - held]
        behind += [f"{name}: gone from English: {m[:70]!r}" for m in held - wanted]
    report = "\n".join(behind)
    assert not behind, f"catalogs behind the sources (run `make update-po`):\n{report}"


@pytest.mark.parametrize("po", catalog_files(), ids=lambda path: path.stem)
def test_catalog_is_complete(po: Path) -> None:
    """No untranslated and no fuzzy message; the failure names them."""
    catalog = read_catalog(po)
    untranslated = [m for m in messages(catalog) if not m.string]
    fuzzy = [m for m in messages(catalog) if m.string and m.fuzzy]
    report = [f"untranslated {where(po, m)}" for m in untranslated]
    report += [f"fuzzy {where(po, m)}" for m in fuzzy]
    shown = report[:SHOWN_PER_CATALOG]
    if len(report) > len(shown):
        shown.append(f"... and {len(report) - len(shown)} more")
    assert not report, (
        f"{po.name}: {len(untranslated)} untranslated, {len(fuzzy)} fuzzy "
        f"of {len(messages(catalog))} messages:\n" + "\n".join(shown)
    )
