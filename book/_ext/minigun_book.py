"""The book's own Sphinx extension: solution dropdowns and the settings reference.

Two directives, each small enough to read in one sitting:

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
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, ClassVar

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.locale import _
from sphinx.util.docutils import SphinxDirective


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
        title = self.arguments[0] if self.arguments else "Show the solution"
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
        region = entry["region"]
        return "\n".join(
            [
                f"### Exercise {number}: {entry['title']}",
                "",
                task,
                "",
                f"Files: `exercises/{folder}/` (run `make exercise EX={entry['id']}`).",
                "",
                "````{solution} Show the reference solution",
                "```{literalinclude} ../" + entry["file"],
                ":language: python",
                f':start-after: "# exercise: {region}"',
                f':end-before: "# end-exercise: {region}"',
                f":caption: {entry['file']}: the region that exercise {number} cuts",
                ":lineno-match:",
                "```",
                "````",
            ]
        )


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
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
