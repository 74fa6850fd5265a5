"""A state diagram drawn, at build time, from a state machine's own table.

``{minigun-state-diagram} minigun.http.exchange`` imports the module, reads its
``TRANSITIONS`` (state -> {event: next state}) and draws it as ASCII art that
sphinxcontrib-svgbob renders to SVG, so the diagram in the book cannot drift from the
code: change the table and the picture changes with it.

The layout fits the shape of a connection's life, and says so when a table no longer
fits it (the build fails, rather than drawing a wrong picture): the states with
events, in the table's order, stand in one row, each event leading to the next one
drawn as an arrow to the right; one final state (no events) spans the row beneath,
and the events that lead there drop down to it; an event that leads back to an
earlier state is drawn as a loop above the row.
"""

from __future__ import annotations

import enum
import importlib
from dataclasses import dataclass
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.util.docutils import SphinxDirective
from sphinxcontrib.svgbob.node import svgbob

Table = dict[enum.Enum, dict[enum.Enum, enum.Enum]]
BOX_PADDING = 2  # spaces either side of a state's name inside its box
MIN_GAP = 6  # the shortest arrow between two boxes
LABEL_MARGIN = 2  # spaces between a label and a line or a box


@dataclass
class Layout:
    """Where each state of the row stands: its box's left column and width."""

    row: list[enum.Enum]
    final: enum.Enum
    left: dict[enum.Enum, int]
    width: dict[enum.Enum, int]

    def centre(self, state: enum.Enum) -> int:
        return self.left[state] + self.width[state] // 2

    def right(self, state: enum.Enum) -> int:
        return self.left[state] + self.width[state]

    @property
    def total_width(self) -> int:
        return self.right(self.row[-1])


class Canvas:
    """Lines of characters that grow as they are written to."""

    def __init__(self) -> None:
        self.lines: list[list[str]] = []

    def put(self, row: int, column: int, text: str) -> None:
        while len(self.lines) <= row:
            self.lines.append([])
        line = self.lines[row]
        line.extend(" " * (column + len(text) - len(line)))
        line[column : column + len(text)] = text

    def text(self) -> str:
        return "\n".join("".join(line).rstrip() for line in self.lines)


def labels(events: list[enum.Enum]) -> str:
    return ", ".join(str(event.value) for event in events)


def edges_to(table: Table, source: enum.Enum, target: enum.Enum) -> list[enum.Enum]:
    return [event for event, to in table[source].items() if to is target]


def lay_out(table: Table) -> Layout:
    """The row of states and each one's place, wide enough for every label."""
    row = [state for state, events in table.items() if events]
    finals = [state for state, events in table.items() if not events]
    if len(finals) != 1:
        raise ExtensionError(f"state diagram: one final state expected, not {finals}")
    left: dict[enum.Enum, int] = {}
    width: dict[enum.Enum, int] = {}
    column = 0
    for index, state in enumerate(row):
        left[state] = column
        width[state] = len(str(state.value)) + 2 * BOX_PADDING + 2
        after = row[index + 1] if index + 1 < len(row) else None
        forward = labels(edges_to(table, state, after)) if after else ""
        down = labels(edges_to(table, state, finals[0]))
        gap = max(MIN_GAP, len(forward) + 2 * LABEL_MARGIN)
        gap = max(gap, len(down) + LABEL_MARGIN - width[state] // 2 + LABEL_MARGIN)
        column += width[state] + gap
    return Layout(row, finals[0], left, width)


def check_fits(table: Table, layout: Layout) -> None:
    """Every event must be drawable: forward one step, down, or back."""
    for index, state in enumerate(layout.row):
        for event, target in table[state].items():
            ahead = index + 1 < len(layout.row) and target is layout.row[index + 1]
            back = target in layout.row[:index]
            if not (ahead or back or target is layout.final):
                raise ExtensionError(
                    f"state diagram: {state.name} --{event.name}--> {target.name} "
                    "is neither one step ahead, back, nor to the final state"
                )


def draw_loops(canvas: Canvas, table: Table, layout: Layout) -> int:
    """The events that lead back, as loops above the row; the first row below them."""
    loops = [
        (state, target)
        for index, state in enumerate(layout.row)
        for target in layout.row[:index]
        if edges_to(table, state, target)
    ]
    top = len(loops) * 3  # each loop: its line, a row of rails, a row of arrows
    for level, (source, target) in enumerate(reversed(loops)):
        row = level * 3
        start, end = layout.centre(target), layout.centre(source)
        text = f" {labels(edges_to(table, source, target))} "
        line = "." + "-" * (end - start - 1) + "."
        middle = start + (end - start - len(text)) // 2
        canvas.put(row, start, line)
        canvas.put(row, middle, text)
        for below in range(row + 1, top):
            canvas.put(below, start, "|")
            canvas.put(below, end, "|")
        canvas.put(top - 1, start, "v")
    return top


def draw_row(canvas: Canvas, table: Table, layout: Layout, top: int) -> None:
    """The boxes of the row and the arrows between neighbours."""
    for index, state in enumerate(layout.row):
        left, width = layout.left[state], layout.width[state]
        border = "+" + "-" * (width - 2) + "+"
        canvas.put(top, left, border)
        canvas.put(top + 1, left, "|" + str(state.value).center(width - 2) + "|")
        canvas.put(top + 2, left, border)
        if index + 1 == len(layout.row):
            continue
        after = layout.row[index + 1]
        start, end = layout.right(state), layout.left[after]
        canvas.put(top + 1, start, "-" * (end - start - 1) + ">")
        canvas.put(top, start + LABEL_MARGIN, labels(edges_to(table, state, after)))


def draw_final(canvas: Canvas, table: Table, layout: Layout, top: int) -> None:
    """The drops to the final state, and its box across the whole row."""
    width = layout.total_width
    for state in layout.row:
        events = edges_to(table, state, layout.final)
        if not events:
            continue
        column = layout.centre(state)
        canvas.put(top + 3, column, "|")
        canvas.put(top + 4, column, "|")
        canvas.put(top + 4, column + LABEL_MARGIN, labels(events))
        canvas.put(top + 5, column, "v")
        width = max(width, column + LABEL_MARGIN + len(labels(events)) + 1)
    bottom = top + 6
    border = "+" + "-" * (width - 2) + "+"
    canvas.put(bottom, 0, border)
    canvas.put(bottom + 1, 0, "|" + str(layout.final.value).center(width - 2) + "|")
    canvas.put(bottom + 2, 0, border)


def state_diagram(table: Table) -> str:
    """The whole table as svgbob ASCII art."""
    layout = lay_out(table)
    check_fits(table, layout)
    canvas = Canvas()
    top = draw_loops(canvas, table, layout)
    draw_row(canvas, table, layout, top)
    draw_final(canvas, table, layout, top)
    return canvas.text()


class StateDiagramDirective(SphinxDirective):
    """``{minigun-state-diagram} MODULE``: draw ``MODULE.TRANSITIONS``."""

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        module = importlib.import_module(self.arguments[0])
        self.env.note_dependency(module.__file__ or "")
        node = svgbob()
        node["code"] = state_diagram(module.TRANSITIONS)
        node["options"] = {}
        node["classes"] = ["svgbob", "state-diagram"]
        return [node]


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("minigun-state-diagram", StateDiagramDirective)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
