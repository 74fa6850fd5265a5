"""The book's own Sphinx extension: exercises, editions and the settings reference.

The book is built in three editions from one source, chosen by a Sphinx tag:

* the reader's (no tag, ``make html``): every listing is the real code, an
  exercise's reference solution is folded at the end of its chapter;
* the student's (``-t student``, ``make html-student``): every listing of the
  package shows it as the student kit's ``minigun/`` has it, every exercise's hole
  cut at once (line numbers included), and no solution is rendered at all;
* the instructor's (``-t instructor``, ``make html-instructor``): the reader's book
  plus the instructor notes (``{only} instructor`` blocks) and the syllabus.

The holes are cut by the exercise tool's own code (``exercises/tool/regions.py``), so
the student's book and the student's package cannot disagree.

The directives, each small enough to read in one sitting:

* ``solution``: a block that stays folded until the reader opens it, rendered as an
  HTML ``<details>`` element, so it needs no JavaScript and no extra package. An
  exercise's reference code goes inside it as an ordinary ``literalinclude``.
* ``minigun-settings``: the settings reference, rendered at build time from
  ``minigun.config.SETTINGS``, grouped by section. A new setting appears in the book
  the moment it is added to the registry, without being written twice.
* ``minigun-exercises``: a chapter's exercises, read from ``exercises/catalogue.toml``:
  each one's task (its README), and the reference solution, folded, included from the
  real source between its ``# exercise: ID`` markers. A chapter that asks for its
  exercises and has none is a build error, so the catalogue and the book cannot drift.
* ``literalinclude`` (replacing Sphinx's own): in the student edition, a listing of a
  package file is read from a copy of the package with every region cut.
* ``instructor-toctree``: a ``toctree`` that exists in the instructor edition only
  (the syllabus), so the other editions have no page that points nowhere.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import tomllib
from pathlib import Path
from typing import Any, ClassVar

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.directives.code import LiteralInclude
from sphinx.directives.other import TocTree
from sphinx.locale import _
from sphinx.util.docutils import SphinxDirective
from sphinx.util.tags import Tags

from exercises.tool.catalogue import find_exercise, load_catalogue
from exercises.tool.layout import Layout
from exercises.tool.regions import Scan, cut_regions, scan_package
from exercises.tool.workcopy import region_function, starter_message

STUDENT = "student"
INSTRUCTOR = "instructor"


def reference_scan(app: Sphinx, layout: Layout) -> Scan:
    """The reference package's regions, scanned once per build: a scan parses and
    checks every module, and the student edition asks where each exercise's hole is."""
    scan: Scan | None = getattr(app, "minigun_reference_scan", None)
    if scan is None:
        scan = app.minigun_reference_scan = scan_package(layout.package)
    return scan


def is_student_edition(directive: SphinxDirective) -> bool:
    return directive.env.app.tags.has(STUDENT)


class details(nodes.General, nodes.Element):  # lower case: docutils node style
    """A folded block: ``<details>`` in HTML."""


class summary(nodes.TextElement, nodes.General):
    """The always-visible line of a :class:`details` block."""


def visit_details(translator: Any, node: details) -> None:
    translator.body.append(translator.starttag(node, "details", CLASS="solution"))


def depart_details(translator: Any, node: details) -> None:
    translator.body.append("</details>\n")


def visit_summary(translator: Any, node: summary) -> None:
    translator.body.append(translator.starttag(node, "summary", ""))


def depart_summary(translator: Any, node: summary) -> None:
    translator.body.append("</summary>\n")


def skip_node(translator: Any, node: nodes.Node) -> None:
    """Builders other than HTML show the content without the fold."""


class SolutionDirective(SphinxDirective):
    """A folded solution: ``{solution} Title`` followed by the content to hide."""

    has_content = True
    optional_arguments = 1
    final_argument_whitespace = True

    def run(self) -> list[nodes.Node]:
        if is_student_edition(self):
            return []  # the student's book holds no solution, not even folded
        title = self.arguments[0] if self.arguments else str(_("Show the solution"))
        block = details()
        heading = summary()
        heading += nodes.Text(title)
        block += heading
        block += self.parse_content_to_nodes()
        return [block]


class SettingsDirective(SphinxDirective):
    """Render ``minigun.config.SETTINGS`` as one section per settings group."""

    has_content = False
    option_spec: ClassVar[dict[str, Any]] = {"section": directives.unchanged}

    def run(self) -> list[nodes.Node]:
        from minigun import config  # noqa: PLC0415  (import at build time)

        self.env.note_dependency(config.__file__)  # rebuild when the registry changes
        groups: dict[str, list[Any]] = {}
        for setting in config.SETTINGS:
            groups.setdefault(setting.section, []).append(setting)
        return [self.render_group(name, items) for name, items in groups.items()]

    def render_group(self, name: str, settings: list[Any]) -> nodes.section:
        group = self.new_section(name, f"settings-{nodes.make_id(name)}")
        for setting in settings:
            group += self.render_setting(setting)
        return group

    def render_setting(self, setting: Any) -> nodes.section:
        entry = self.new_section(setting.name, setting.name.replace("_", "-"))
        entry["ids"].append(f"setting-{setting.name}")
        entry += self.summary_line(setting)
        default = setting.default_text()
        if "\n" in default:  # a hook: its default is a function, shown as code
            entry += nodes.literal_block(default, default, language="python")
        short = nodes.paragraph(text=setting.short)
        self.set_source_info(short)  # a message of the page's translation catalog
        entry += short
        entry += self.parse_text_to_nodes(setting.desc) if setting.desc else []
        return entry

    @staticmethod
    def summary_line(setting: Any) -> nodes.paragraph:
        """One line: the flags and the default (a hook's default follows as code)."""
        line = nodes.paragraph(classes=["setting-summary"])
        if setting.cli:
            line += nodes.strong(text=_("Command line: "))
            line += nodes.literal(text=", ".join(setting.cli))
            line += nodes.Text(" \u00b7 ")
        default = setting.default_text()
        line += nodes.strong(text=_("Default: "))
        if "\n" in default:
            line += nodes.Text(_("the function below"))
        else:
            line += nodes.literal(text=default)
        return line

    def new_section(self, title: str, anchor: str) -> nodes.section:
        section = nodes.section(ids=[anchor], names=[nodes.fully_normalize_name(title)])
        section += nodes.title(text=title)
        self.state.document.note_implicit_target(section, section)
        return section


class SettingsMapDirective(SphinxDirective):
    """The two lists that differ from gunicorn, computed from the registry."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        from minigun.config import (  # noqa: PLC0415  (import at build time)
            GUNICORN_ONLY_SETTINGS,
            SETTINGS,
        )

        extensions = [s.name for s in SETTINGS if "minigun extension" in s.desc]
        return [
            nodes.paragraph(text="Settings minigun adds (not in gunicorn):"),
            literal_list(extensions),
            nodes.paragraph(
                text="gunicorn settings minigun does not implement (a config file "
                "that sets one gets a warning and the value is ignored):"
            ),
            literal_list(sorted(GUNICORN_ONLY_SETTINGS)),
        ]


def literal_list(names: list[str]) -> nodes.bullet_list:
    items = nodes.bullet_list()
    for name in names:
        items += nodes.list_item("", nodes.paragraph("", "", nodes.literal(text=name)))
    return items


ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "exercises" / "catalogue.toml"


class ExercisesDirective(SphinxDirective):
    """The exercises whose ``chapter`` in the catalogue is the current page."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        self.env.note_dependency(str(CATALOGUE))
        chapter = Path(self.env.docname).name
        entries = [
            (number, entry)
            for number, entry in enumerate(read_catalogue(), 1)
            if entry["chapter"] == chapter
        ]
        if not entries:
            raise self.error(f"the exercise catalogue has no exercise for {chapter!r}")
        text = "\n\n".join(self.exercise_markup(n, entry) for n, entry in entries)
        return self.parse_text_to_nodes(text, allow_section_headings=True)

    def exercise_markup(self, number: int, entry: dict[str, Any]) -> str:
        """MyST for one exercise: heading, task, how to run it, folded solution."""
        folder = f"{number:02d}-{entry['id']}"
        readme = ROOT / "exercises" / folder / "README.md"
        self.env.note_dependency(str(readme))
        task = task_text(readme)
        return "\n".join(
            [
                f"### Exercise {number}: {entry['title']}",
                "",
                task,
                "",
                f"Files: `exercises/{folder}/` (run `make exercise EX={entry['id']}`).",
                "",
                *self.answer_markup(number, entry),
            ]
        )

    def answer_markup(self, number: int, entry: dict[str, Any]) -> list[str]:
        """The student edition shows the hole to fill; the others, the answer."""
        if is_student_edition(self):
            return self.hole_markup(number, entry)
        return self.solution_markup(number, entry)

    def hole_markup(self, number: int, entry: dict[str, Any]) -> list[str]:
        """The function holding the region, as the kit's package has it (a hole)."""
        layout = Layout(ROOT)
        exercise = find_exercise(load_catalogue(layout.catalogue), entry["id"])
        scan = reference_scan(self.env.app, layout)
        return [
            "```{literalinclude} ../" + entry["file"],
            ":language: python",
            f":pyobject: {region_function(scan, exercise)}",
            ":caption: "
            + str(_("%(file)s: what exercise %(number)d asks you to fill in"))
            % {"file": entry["file"], "number": number},
            ":lineno-match:",
            "```",
        ]

    @staticmethod
    def solution_markup(number: int, entry: dict[str, Any]) -> list[str]:
        """The folded reference: the real code between the region's markers."""
        region = entry["region"]
        return [
            "````{solution} " + str(_("Show the reference solution")),
            "```{literalinclude} ../" + entry["file"],
            ":language: python",
            f':start-after: "# exercise: {region}"',
            f':end-before: "# end-exercise: {region}"',
            f":caption: {entry['file']}: the region that exercise {number} cuts",
            ":lineno-match:",
            "```",
            "````",
        ]


def read_catalogue() -> list[dict[str, Any]]:
    if not CATALOGUE.exists():
        return []
    catalogue = tomllib.loads(CATALOGUE.read_text(encoding="utf-8"))
    return list(catalogue.get("exercise", []))


def task_text(readme: Path) -> str:
    """The README without its title line (the book writes its own heading)."""
    if not readme.exists():
        return ""
    lines = readme.read_text(encoding="utf-8").splitlines()
    if lines and lines[0].startswith("# "):
        lines = lines[1:]
    return "\n".join(lines).strip()


class StudentLiteralInclude(LiteralInclude):
    """``literalinclude``, which in the student edition shows the kit's package.

    A listing of a file of the package is read from one copy of the whole package
    with every exercise region cut at once, as the student kit's ``minigun/`` is
    cut: the listing is then line for line (line numbers included) the file the
    student has open, whichever exercise they are on. Other files are read as usual.
    """

    def run(self) -> list[nodes.Node]:
        if is_student_edition(self):
            _, filename = self.env.relfn2path(self.arguments[0])
            listed = Path(filename).resolve()
            self.name_the_file(listed)
            if listed.is_relative_to(PACKAGE):
                self.read_from_kit_copy(listed)
        return super().run()

    def name_the_file(self, listed: Path) -> None:
        """An HTML class naming the listed file, by which a test finds the file."""
        if listed.is_relative_to(ROOT):
            mark = listing_class(listed.relative_to(ROOT).as_posix())
            self.options["class"] = [*self.options.get("class", []), mark]

    def read_from_kit_copy(self, listed: Path) -> None:
        self.env.note_dependency(str(listed))  # the copy is rewritten on every build
        copy = kit_package() / listed.relative_to(ROOT)
        docdir = Path(self.env.srcdir, self.env.docname).parent
        self.arguments[0] = os.path.relpath(copy, docdir)


PACKAGE = ROOT / "minigun"


def listing_class(path: str) -> str:
    """The HTML class that names a listing's file (``listing-minigun-arbiter-py``)."""
    return "listing-" + nodes.make_id(path)


def kit_package() -> Path:
    """The folder holding the package with every region cut, written on first use.

    It is outside the book and outside the built pages, in a temporary folder of
    this build process: the pages show its files, they never copy them.
    """
    global _kit_copy  # noqa: PLW0603  (one copy per process, made on first use)
    if _kit_copy is None:
        _kit_copy = tempfile.TemporaryDirectory(prefix="minigun-student-listings-")
        write_every_hole_cut(Path(_kit_copy.name) / PACKAGE.name)
    return Path(_kit_copy.name)


_kit_copy: tempfile.TemporaryDirectory[str] | None = None


def write_every_hole_cut(dest: Path) -> None:
    """The package as the kit ships it: each region replaced by its starter's raise."""
    messages = every_region_message()
    shutil.copytree(PACKAGE, dest, ignore=shutil.ignore_patterns("__pycache__"))
    for path in dest.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        path.write_text(cut_regions(text, messages), encoding="utf-8")


def every_region_message() -> dict[str, str]:
    """Each region's name, to the message its starter's ``NotImplementedError`` says."""
    layout = Layout(ROOT)
    return {
        exercise.region: starter_message(layout, exercise)
        for exercise in load_catalogue(layout.catalogue)
    }


EDITION_TAGS = (STUDENT, INSTRUCTOR)


def extracting_messages(app: Sphinx) -> bool:
    """The gettext builder is running: the catalogs hold every edition's text, for
    the Chinese student and instructor editions too. (It replaces ``app.tags`` with
    tags that have nothing, so the edition's tag cannot say so; conf.py includes the
    syllabus on ``-t every_edition``.)"""
    return app.builder.name == "gettext"


def prune_other_editions(app: Sphinx, doctree: nodes.document) -> None:
    """Drop, as the page is read, the ``{only}`` blocks of editions not being built.

    Sphinx keeps every ``only`` block until the page is written, and a page's
    search index would otherwise hold words of another edition (an instructor note
    in the student's search). A block that names no edition tag (an ``only`` for
    one output format) is left to Sphinx. ``make gettext`` keeps them all.
    """
    if extracting_messages(app):
        return
    # Plain Tags, not app.tags: the gettext builder's tags say yes to every block.
    tags = Tags([tag for tag in EDITION_TAGS if app.tags.has(tag)])
    for block in list(doctree.findall(addnodes.only)):
        names_an_edition = any(tag in block["expr"] for tag in EDITION_TAGS)
        if names_an_edition and not tags.eval_condition(block["expr"]):
            block.parent.remove(block)


class InstructorTocTree(TocTree):
    """A ``toctree`` in the instructor edition; nothing in the other two."""

    def run(self) -> list[nodes.Node]:
        app = self.env.app
        if not (app.tags.has(INSTRUCTOR) or extracting_messages(app)):
            return []
        return super().run()


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_node(
        details,
        html=(visit_details, depart_details),
        text=(skip_node, skip_node),
    )
    app.add_node(
        summary,
        html=(visit_summary, depart_summary),
        text=(skip_node, skip_node),
    )
    app.add_directive("solution", SolutionDirective)
    app.add_directive("minigun-settings", SettingsDirective)
    app.add_directive("minigun-exercises", ExercisesDirective)
    app.add_directive("minigun-settings-map", SettingsMapDirective)
    app.add_directive("literalinclude", StudentLiteralInclude, override=True)
    app.add_directive("instructor-toctree", InstructorTocTree)
    app.connect("doctree-read", prune_other_editions)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
