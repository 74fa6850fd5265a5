"""The book in two languages: what is translated, and a link to the other edition.

The Chinese edition is the English sources plus Sphinx's gettext catalogs in
``book/locale/zh_CN/LC_MESSAGES`` (``make update-po``, ``make html-zh``). This
extension holds the two rules the catalogs alone cannot express:

* The API appendix's docstrings are code documentation: they change with every
  commit to ``minigun/``, and a reader who wants the Chinese explanation has the
  chapters. So everything autodoc renders (signatures, and text whose source is a
  docstring) stays out of the catalogs and shows in English in both editions, like
  the listings.
* The words around the pages are the edition's language too: the book's title (the
  student's and the instructor's edition name themselves), the copyright line, and
  the labels furo and Sphinx print (Next, Previous, On this page, Back to top, ...).
  Sphinx's own Chinese catalog translates some of them; the rest are messages of
  the catalog of Sphinx's own messages, ``book/locale/zh_CN/LC_MESSAGES/sphinx.po``,
  which Sphinx reads before its own. :data:`THEME_LABELS` names them, so that
  ``make gettext`` extracts them from this file like the book's other labels.
* Every page of each edition links to the same page of the other one. The two
  builds sit side by side (``_build/html``, ``_build/html-zh``), so the link is
  relative: up to the build folder, across, and down the same page name. It works
  from the file system with no server, and on a site that serves both folders.
"""

from __future__ import annotations

from typing import Any

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.locale import _
from sphinx.transforms import SphinxTransform

# Each language: the folder its reader's edition is built into, and the name of the
# link that leads to it. The classroom editions add their tag to the folder: the
# Makefile's html, html-zh, html-student, html-zh-student, html-instructor and
# html-zh-instructor.
EDITIONS = {
    "en": {"folder": "html", "label": "English"},
    "zh_CN": {"folder": "html-zh", "label": "中文"},
}
OTHER_EDITION = {"en": "zh_CN", "zh_CN": "en"}
CLASSROOM_TAGS = ("student", "instructor")

# The book's title in each edition (conf.py's html_title is the English one).
TITLES = {
    None: _("minigun %(release)s"),
    "student": _("minigun %(release)s: student edition"),
    "instructor": _("minigun %(release)s: instructor edition"),
}
COPYRIGHT = _("%(year)s, the minigun authors")

# What furo's templates and Sphinx's HTML writer print that Sphinx's Chinese catalog
# (8.2) leaves in English. The msgids are the templates' own, spaces included;
# "Made with " is the footer's credit, which conf.py keeps to furo alone (its
# Sphinx part holds an English possessive no catalog can reach).
THEME_LABELS = (
    _("Next"),
    _("Previous"),
    _("Home"),
    _("On this page"),
    _("Back to top"),
    _("Skip to content"),
    _("Made with "),
    _("Copyright &#169; %(copyright)s"),
    _("Link to this heading"),
    _("Link to this code"),
    _("Link to this term"),
    _("Link to this definition"),
    _("Link to this table"),
    _("Link to this image"),
    _("Please activate JavaScript to enable the search functionality."),
)


def N_(message: str) -> str:  # gettext's name for it, which pybabel knows
    """Marks ``message`` for ``make gettext`` and returns it untranslated."""
    return message


# What furo writes as fixed English, not through gettext: the screen-reader labels of
# the sidebar toggles and the colour switch, and the titles of its icons. The page
# template (book/_templates/page.html) replaces each fragment with its translation.
FIXED_LABELS = {
    'aria-label="{}"': (
        N_("Toggle site navigation sidebar"),
        N_("Toggle table of contents sidebar"),
        N_("Toggle Light / Dark / Auto color theme"),
    ),
    "<title>{}</title>": (
        N_("Contents"),
        N_("Menu"),
        N_("Expand"),
        N_("Light mode"),
        N_("Dark mode"),
        N_("Auto light/dark, in light mode"),
        N_("Auto light/dark, in dark mode"),
    ),
}


class KeepAutodocInEnglish(SphinxTransform):
    """Mark what autodoc rendered as not translatable, before translation runs.

    Sphinx's Locale transform (priority 20) replaces translatable messages, and the
    gettext builder extracts the same ones; both skip a node whose
    ``translatable`` is False.
    """

    default_priority = 10

    def apply(self, **kwargs: Any) -> None:
        for node in self.document.findall(nodes.TextElement):
            if is_from_autodoc(node):
                node["translatable"] = False


def is_from_autodoc(node: nodes.Element) -> bool:
    """A signature, or text whose source is a docstring (a module's one too).

    autodoc names a docstring's source ``FILE:docstring of NAME``, and a ``#:``
    comment's, which has no file of its own, ``docstring of NAME``.
    """
    in_signature = any(isinstance(a, addnodes.desc_signature) for a in ancestors(node))
    source = node.source or ""
    return (
        in_signature or source.startswith("docstring of ") or ":docstring of " in source
    )


def ancestors(node: nodes.Node) -> list[nodes.Node]:
    found = []
    while node.parent is not None:
        node = node.parent
        found.append(node)
    return found


def other_edition_link(
    pagename: str, language: str, classroom_tag: str | None = None
) -> dict[str, str]:
    """The relative URL of the same page in the other language's same edition (the
    student's Chinese book links to the student's English one), and its label."""
    other = OTHER_EDITION.get(language, "zh_CN")
    to_build_folder = "../" * (pagename.count("/") + 1)
    folder = EDITIONS[other]["folder"]
    if classroom_tag:
        folder = f"{folder}-{classroom_tag}"
    return {
        "url": f"{to_build_folder}{folder}/{pagename}.html",
        "label": EDITIONS[other]["label"],
        "language": other.replace("_", "-"),
    }


def add_language_switch(
    app: Sphinx,
    pagename: str,
    templatename: str,
    context: dict[str, Any],
    doctree: nodes.document | None,
) -> None:
    tag = next((tag for tag in CLASSROOM_TAGS if app.tags.has(tag)), None)
    context["language_switch"] = other_edition_link(pagename, app.config.language, tag)
    context["fixed_labels"] = fixed_labels()


def fixed_labels() -> list[tuple[str, str]]:
    """Each of furo's fixed English fragments beside the same fragment translated
    (none in the English edition, where the two are the same)."""
    pairs = []
    for fragment, labels in FIXED_LABELS.items():
        for label in labels:
            translated = str(_(label))
            if translated != label:
                pairs.append((fragment.format(label), fragment.format(translated)))
    return pairs


def name_the_edition(app: Sphinx) -> None:
    """The title and the copyright line in the edition's language.

    Run once the builder exists: Sphinx has loaded the catalogs by then, and the
    HTML builder reads both values only when it starts writing.
    """
    tag = next((tag for tag in CLASSROOM_TAGS if app.tags.has(tag)), None)
    app.config.html_title = str(TITLES[tag]) % {"release": app.config.release}
    year = app.config.copyright.split(",")[0]
    app.config.copyright = str(COPYRIGHT) % {"year": year}


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_transform(KeepAutodocInEnglish)
    app.connect("builder-inited", name_the_edition)
    app.connect("html-page-context", add_language_switch)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
