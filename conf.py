"""Sphinx configuration for the minigun book, in its three editions.

The configuration lives at the repository root and the chapters in ``book/``:
``sphinx-build -b html -W -n --keep-going -c . book _build/html``. Sphinx resolves
static and template paths against this folder, so they are written as ``book/...``;
using the root itself as the source folder would drag every Markdown file of the
repository (README, CONTRIBUTING, exercises) into the build.

The edition is a Sphinx tag (``tags`` is given to this file by Sphinx): no tag is the
reader's edition, ``-t student`` the student's (no solution, no source a solution
could be read from), ``-t instructor`` the instructor's (notes and the syllabus).
See book/_ext/minigun_book.py for what the extension does in each.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).parent
# The package for autodoc and the settings page; book/_ext for the book's extension;
# the root also makes ``tests`` importable as a package for the included listings.
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "book" / "_ext"))

import minigun  # noqa: E402  (needs the sys.path above)

project = "minigun"
author = "the minigun authors"
copyright = "2026, the minigun authors"
release = minigun.__version__
version = release

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
    "sphinx.ext.doctest",
    "sphinx_copybutton",
    "sphinxcontrib.svgbob",
    "minigun_book",
    "minigun_i18n",
    "minigun_terms",
    "minigun_states",
    "minigun_diagrams",
    "minigun_runs",
    "minigun_render",
]

# No intersphinx: it downloads inventories at build time, and the book builds offline.

source_suffix = {".md": "markdown"}
root_doc = "index"
# hooks-timeline.md is a fragment that hooks.md includes, not a page of its own.
# instructor/ holds the notes each chapter includes in its {only} instructor block.
exclude_patterns = ["_build", "_ext", "README.md", "hooks-timeline.md", "instructor"]
language = "en"

# Translations (the Chinese edition): Sphinx's own gettext catalogs, one per page, at
# book/locale/zh_CN/LC_MESSAGES/<page>.po. `make update-po` extracts the English
# messages (`-b gettext`) and merges them into the catalogs with sphinx-intl, so a
# changed English paragraph becomes a fuzzy message instead of silently drifting;
# `make html-zh` builds with `-D language=zh_CN`. Listings, line numbers and diagrams
# stay shared: literal blocks, doctest blocks and images are left out of the messages
# (the default already extracts only prose, titles, captions, admonitions and index
# entries); a fuzzy translation is never used, the English shows instead.
locale_dirs = ["locale/"]  # relative to the source folder (book/), unlike paths above
gettext_compact = False
gettext_uuid = False
gettext_location = True
gettext_additional_targets: list[str] = []
gettext_allow_fuzzy_translations = False
# Search in the Chinese edition: Sphinx splits Chinese text into words with jieba
# (a dependency of the docs extra; without it no Chinese word reaches the index).
# jieba's own dictionary does not know the book's terms (主进程, 工作进程, 优雅关闭):
# this word list, one term and its weight a line, keeps each of them one word
# (tests/test_terms.py fails when a Chinese term of terms.toml is missing from it or
# jieba still cuts it). The English edition's search ignores the option.
html_search_options = {
    "dict": str(ROOT / "book" / "locale" / "zh_CN" / "search-words.txt")
}
# The link to the other edition on every page: a sidebar block after furo's brand.
templates_path = ["book/_templates"]
html_sidebars = {
    "**": [
        "sidebar/brand.html",
        "sidebar/language-switch.html",
        "sidebar/search.html",
        "sidebar/scroll-start.html",
        "sidebar/navigation.html",
        "sidebar/scroll-end.html",
    ]
}

# MyST: ```{svgbob} fences become diagrams; the rest are ordinary MyST.
myst_enable_extensions = ["colon_fence", "deflist", "substitution"]
myst_fence_as_directive = ["svgbob"]
myst_heading_anchors = 3
myst_substitutions = {"version": release}

# Strict build: -n makes every {py:...} role that misses an object an error. The book
# has no pages for the standard library or third-party names that type hints mention
# (no intersphinx, see above), so those are let through; every name under minigun.
# must resolve.
nitpicky = True
nitpick_ignore_regex = [(r"py:.*", r"(?!~?minigun\.).*")]

# autodoc: members in source order, because source order is reading order.
autodoc_member_order = "bysource"
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_typehints = "description"
autodoc_typehints_format = "short"
napoleon_google_docstring = True
napoleon_numpy_docstring = False

# Theme: furo. It ships its fonts and scripts inside the package (the pages work
# offline from _build/html, no CDN), it has a good search box and a dark mode, and
# its wide, quiet layout suits long listings with line numbers. sphinx-book-theme's
# margin notes would be nice, but it is not installed and furo reads well.
html_theme = "furo"
html_title = f"minigun {release}"
html_static_path = ["book/_static"]
html_css_files = ["minigun.css"]
html_theme_options = {"navigation_with_keys": True}
html_last_updated_fmt = None
html_show_sourcelink = False
# The footer's credit names furo alone: its Sphinx part ("Sphinx and @pradyunsg's")
# holds an English possessive that the Chinese edition's catalog cannot translate.
html_show_sphinx = False

# Copy buttons copy the command, not the prompt or the output.
copybutton_prompt_text = r"\$ |>>> |\.\.\. "
copybutton_prompt_is_regexp = True
copybutton_only_copy_prompt_lines = True

# The editions (tags: set by sphinx-build -t, provided to this file by Sphinx).
STUDENT_EDITION = tags.has("student")  # type: ignore[name-defined]  # noqa: F821
INSTRUCTOR_EDITION = tags.has("instructor")  # type: ignore[name-defined]  # noqa: F821
if STUDENT_EDITION and INSTRUCTOR_EDITION:
    raise ValueError("build one edition at a time: -t student or -t instructor")
EVERY_EDITION = tags.has("every_edition")  # type: ignore[name-defined]  # noqa: F821
if not (INSTRUCTOR_EDITION or EVERY_EDITION):  # make gettext extracts every edition
    # Only the instructor's toctree lists them.
    exclude_patterns += ["syllabus.md", "classroom.md"]
if STUDENT_EDITION:
    # Nothing a solution could be read from: no highlighted module source (viewcode),
    # no copy of the page sources, so the only code is the listings, holes cut.
    extensions.remove("sphinx.ext.viewcode")
    html_copy_source = False
    html_title = f"minigun {release}: student edition"  # translated: minigun_i18n
elif INSTRUCTOR_EDITION:
    html_title = f"minigun {release}: instructor edition"

# The doctest builder runs {doctest} blocks against the real package.
doctest_global_setup = "import minigun"
