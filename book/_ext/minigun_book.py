"""The book's own Sphinx extension: solution dropdowns and the settings reference.

Two directives, each small enough to read in one sitting:

* ``solution``: a block that stays folded until the reader opens it, rendered as an
  HTML ``<details>`` element, so it needs no JavaScript and no extra package. An
  exercise's reference code goes inside it as an ordinary ``literalinclude``.
* ``minigun-settings``: the settings reference, rendered at build time from
  ``minigun.config.SETTINGS``, grouped by section. A new setting appears in the book
  the moment it is added to the registry, without being written twice.
"""

from __future__ import annotations

from typing import Any, ClassVar

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
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
        from minigun.config import SETTINGS  # noqa: PLC0415  (import at build time)

        groups: dict[str, list[Any]] = {}
        for setting in SETTINGS:
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
        fields = nodes.field_list()
        if setting.cli:
            flags = ", ".join(setting.cli)
            fields += field("Command line", nodes.literal(text=flags))
        default = setting.default_text()
        if "\n" not in default:
            fields += field("Default", nodes.literal(text=default))
        entry += fields
        if "\n" in default:  # a hook: its default is a function, shown as code
            entry += nodes.literal_block(default, default, language="python")
        entry += nodes.paragraph(text=setting.short)
        entry += self.parse_text_to_nodes(setting.desc) if setting.desc else []
        return entry

    def new_section(self, title: str, anchor: str) -> nodes.section:
        section = nodes.section(ids=[anchor], names=[nodes.fully_normalize_name(title)])
        section += nodes.title(text=title)
        self.state.document.note_implicit_target(section, section)
        return section


def field(name: str, body: nodes.Node) -> nodes.field:
    paragraph = nodes.paragraph("", "", body)
    return nodes.field("", nodes.field_name(text=name), nodes.field_body("", paragraph))


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
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
