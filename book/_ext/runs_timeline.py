"""The timeline of a recorded run, drawn as SVG from the run's own events.

One lane per process, in the order the processes first spoke, under a lane for the
commands typed in the second terminal. Time runs left to right, in seconds from the
moment the server was started. On a process's lane: its life (from its first log
line to its last), what it logged that the chapters talk about (boot, exit, reload,
promotion, each hook), and the requests it served (a bar from the ``curl`` to the
answer, on the lane of the worker the answer names). A signal is an arrow from the
``kill`` down to the process it reached.

Nothing here is drawn by hand: every mark is an event of the record
(:mod:`runs_recorder`), so the picture and the transcript beside it come from the same
run. Plain SVG text, no script, no font, nothing fetched: the page draws it offline,
and its colours follow the page's (``currentColor``) in the dark theme too.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape

from runs_recorder import Event, Run

WIDTH = 800
LEFT = 150  # the lanes' names
RIGHT = 24
TOP = 8
LANE = 22  # a lane without labels below its line
ROW = 13  # one row of labels
CHAR = 6.6  # the width of one character at FONT_SIZE, monospace
FONT_SIZE = 11
AXIS = 30
BAR = 7  # the height of one row of request bars
SIGNAL_COLOUR = "#c0392b"
HOOK_COLOUR = "#8e44ad"
REQUEST_COLOUR = "#27ae60"


def N_(label: str) -> str:
    """Mark a label for the catalog (pybabel extracts ``N_``). It is translated
    where the timeline is drawn, in the page's language (``names``), not here."""
    return label


# What a log line means on the timeline: the label its mark gets.
MILESTONES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"Starting minigun"), N_("start")),
    (re.compile(r"Booting worker|Child accepting"), N_("boot")),
    (re.compile(r"Worker exiting|Shutting down"), N_("exit")),
    (re.compile(r"Master has been promoted"), N_("promoted")),
    (re.compile(r"Hang up"), N_("reload")),
    (re.compile(r"Autorestarting worker"), N_("max_requests reached")),
    (re.compile(r"Accepted (\d+) queued"), N_("drained %s queued")),
    (re.compile(r"TTOU ignored"), N_("TTOU ignored")),
    (re.compile(r"Child (\d+) exited"), N_("reaped %s")),
]
HOOK = re.compile(r"\bhook (\w+)")
SERVED_BY = re.compile(r"(?:worker|in|child) (\d+)$")
# minigun's master says it starts; the tiny server of the prefork chapter only
# says where it listens (minigun's master says that too).
MASTER_LINE = re.compile(r"Starting minigun|Listening at: ")


@dataclass
class Lane:
    """One row of the picture: a process, or the commands."""

    name: str
    pid: int | None = None
    first: float | None = None
    master: bool = False
    last: float | None = None
    marks: list[tuple[float, str, str]] = field(default_factory=list)  # t, label, kind
    bars: list[tuple[float, float, str]] = field(default_factory=list)  # from, to
    rows: list[float] = field(default_factory=list)  # where each label row is free
    placed: list[tuple[float, int, str, str]] = field(default_factory=list)
    top: float = 0.0

    def place(self, x: float, label: str, kind: str) -> None:
        """Put a label in the first row where it does not overlap the one before;
        near the right edge it ends at its mark instead of starting there."""
        width = label_width(label) + 8
        left = x - width if x + width > WIDTH else x
        for row, free_from in enumerate(self.rows):
            if left >= free_from:
                self.rows[row] = left + width
                self.placed.append((x, row, label, kind))
                return
        self.rows.append(left + width)
        self.placed.append((x, len(self.rows) - 1, label, kind))

    def bar_rows(self) -> list[int]:
        """Overlapping requests (one in flight, one queued) stack above the line."""
        ends: list[float] = []
        rows = []
        for begin, end, _kind in self.bars:
            row = next((i for i, e in enumerate(ends) if begin >= e), len(ends))
            if row == len(ends):
                ends.append(end)
            ends[row] = end
            rows.append(row)
        return rows

    @property
    def height(self) -> float:
        return (
            LANE + ROW * max(len(self.rows), 1) + BAR * max(self.bar_rows(), default=0)
        )

    @property
    def line_y(self) -> float:
        return self.top + 10 + BAR * max(self.bar_rows(), default=0)


def milestone(text: str, names: Callable[[str], str] = str) -> str | None:
    """The label of a log line the timeline marks, in the page's language (``names``
    translates the label, its ``%s`` filled with what the line says)."""
    for pattern, label in MILESTONES:
        found = pattern.search(text)
        if found:
            return names(label) % found.groups() if found.groups() else names(label)
    return None


def label_width(label: str) -> float:
    """The label's width in the picture: a Chinese character takes two columns."""
    columns = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in label)
    return columns * CHAR


def process_lanes(run: Run, names: Callable[[str], str]) -> dict[int, Lane]:
    """A lane per pid that logged, masters named so, in the order they spoke."""
    lanes: dict[int, Lane] = {}
    masters = {
        e.pid for e in run.events if e.kind == "log" and MASTER_LINE.search(e.text)
    }
    for event in run.events:
        if event.kind != "log" or event.pid is None:
            continue
        if event.pid not in lanes:
            master = event.pid in masters
            role = names(N_("master")) if master else names(N_("worker"))
            lanes[event.pid] = Lane(f"{role} {event.pid}", event.pid, event.t, master)
        lane = lanes[event.pid]
        lane.last = event.t
        hook = HOOK.search(event.text)
        label = milestone(event.text, names)
        if hook:
            lane.marks.append((event.t, hook[1], "hook"))
        elif label:
            lane.marks.append((event.t, label, "milestone"))
    for event in run.events:  # a master's life ends when it exits, after its last line
        exited = re.match(r"\(\w+ (\d+) exited", event.text)
        if event.kind == "exit" and exited and int(exited[1]) in lanes:
            lanes[int(exited[1])].last = event.t
    return lanes


def answer_of(run: Run, command: Event) -> Event | None:
    """The first line a command printed (for a background one: when it ended)."""
    index = run.events.index(command)
    for event in run.events[index + 1 :]:
        if event.kind == "command" and not command.background:
            return None
        if event.kind == "output" and (
            not command.background or event.t >= (command.ends or 0)
        ):
            return event
    return None


def command_lane(run: Run, lanes: dict[int, Lane], names: Callable[[str], str]) -> Lane:
    """The commands typed; each request's bar goes on the lane of who answered it."""
    lane = Lane(names(N_("commands")))
    for event in run.events:
        if event.kind != "command":
            continue
        word = event.text.split()[0]
        if event.signal:
            lane.marks.append((event.t, event.signal, "signal"))
        elif word == "curl":
            answer = answer_of(run, event)
            served = SERVED_BY.search(answer.text) if answer else None
            end = event.ends or (answer.t if answer else event.t)
            target = lanes.get(int(served[1])) if served else None
            (target or lane).bars.append((event.t, end, "request"))
            lane.marks.append((event.t, "curl", "command"))
        elif event.background:
            lane.bars.append((event.t, event.ends or run.seconds, "load"))
            lane.marks.append((event.t, "curl loop", "command"))
        elif event.t > 0:
            lane.marks.append((event.t, word, "command"))
    return lane


class Drawing:
    """The scale and the SVG elements, written top to bottom."""

    def __init__(self, seconds: float) -> None:
        self.seconds = max(seconds, 0.5)
        self.parts: list[str] = []

    def x(self, t: float) -> float:
        return round(LEFT + (WIDTH - LEFT - RIGHT) * t / self.seconds, 1)

    def text(
        self, x: float, y: float, label: str, colour: str = "currentColor"
    ) -> None:
        """A label from ``x``; one that would cross the right edge ends at ``x``."""
        anchor = ""
        if x + label_width(label) > WIDTH:
            x, anchor = x - 4, ' text-anchor="end"'
        self.parts.append(
            f'<text x="{x}" y="{y}" fill="{colour}"{anchor}>{escape(label)}</text>'
        )

    def line(self, x1: float, y1: float, x2: float, y2: float, style: str) -> None:
        self.parts.append(f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" {style}/>')


def draw_lane(drawing: Drawing, lane: Lane) -> None:
    y = lane.line_y
    drawing.text(4, y + 4, lane.name)
    if lane.first is not None and lane.last is not None:
        start, end = (
            drawing.x(lane.first),
            max(drawing.x(lane.last), drawing.x(lane.first) + 2),
        )
        drawing.line(
            start,
            y,
            end,
            y,
            'stroke="currentColor" stroke-opacity="0.45" stroke-width="3"',
        )
    for (begin, end, _kind), row in zip(lane.bars, lane.bar_rows(), strict=True):
        x1, x2 = drawing.x(begin), max(drawing.x(end), drawing.x(begin) + 3)
        drawing.parts.append(
            f'<rect x="{x1}" y="{y - 3 - BAR * row}" width="{round(x2 - x1, 1)}" '
            f'height="{BAR - 1}" fill="{REQUEST_COLOUR}" fill-opacity="0.7"/>'
        )
    for x, row, label, kind in lane.placed:
        colour = {"hook": HOOK_COLOUR, "signal": SIGNAL_COLOUR}.get(
            kind, "currentColor"
        )
        label_y = y + ROW * (row + 1) + 2
        if kind == "hook":
            drawing.parts.append(
                f'<path d="M{x} {y - 4} l4 4 l-4 4 l-4 -4 z" fill="{HOOK_COLOUR}"/>'
            )
        else:
            drawing.parts.append(f'<circle cx="{x}" cy="{y}" r="3" fill="{colour}"/>')
        drawing.line(
            x, y + 3, x, label_y - 9, f'stroke="{colour}" stroke-opacity="0.4"'
        )
        drawing.text(x + 2, label_y, label, colour)


def draw_signals(
    drawing: Drawing, run: Run, commands: Lane, lanes: dict[int, Lane]
) -> None:
    for event in run.events:
        if event.signal and event.pid in lanes:
            x = drawing.x(event.t)
            target = lanes[event.pid].line_y - 5
            style = (
                f'stroke="{SIGNAL_COLOUR}" stroke-width="1.5" '
                f'marker-end="url(#arrow-{run.scenario})"'
            )
            drawing.line(x, commands.line_y + 4, x, target, style)


PS_ROW = re.compile(r"^\s*(\d+)\s+(\d+)\s")


def parents(run: Run, lanes: dict[int, Lane]) -> dict[int, int]:
    """Who forked whom: ``ps`` said so where it ran; otherwise a worker's parent is
    the last master that started before it."""
    known = {
        int(row[1]): int(row[2])
        for e in run.events
        if e.kind == "output" and (row := PS_ROW.match(e.text))
    }
    masters = [lane for lane in lanes.values() if lane.master]
    found = {}
    for pid, lane in lanes.items():
        if pid in known and known[pid] in lanes:
            found[pid] = known[pid]
        elif not lane.master:
            earlier = [m for m in masters if (m.first or 0) <= (lane.first or 0)]
            if earlier:
                found[pid] = earlier[-1].pid or 0
    return found


def draw_forks(drawing: Drawing, run: Run, lanes: dict[int, Lane]) -> None:
    """A dashed line from a parent's lane down to the child's first moment."""
    for child, parent in parents(run, lanes).items():
        x = drawing.x(lanes[child].first or 0)
        drawing.line(
            x, lanes[parent].line_y, x, lanes[child].line_y,
            'stroke="currentColor" stroke-opacity="0.35" stroke-dasharray="3 3"',
        )  # fmt: skip


def draw_axis(drawing: Drawing, y: float) -> None:
    step = 0.5 if drawing.seconds <= 4 else 1.0
    drawing.line(
        LEFT, y, WIDTH - RIGHT, y, 'stroke="currentColor" stroke-opacity="0.6"'
    )
    tick = 0.0
    while tick <= drawing.seconds + 1e-9:
        x = drawing.x(tick)
        drawing.line(x, y, x, y + 4, 'stroke="currentColor" stroke-opacity="0.6"')
        drawing.text(x - 8, y + 16, f"{tick:g} s")
        tick += step


def timeline_svg(run: Run, names: Callable[[str], str] = str, title: str = "") -> str:
    """The run's timeline as an SVG element, ready to sit inline in a page."""
    drawing = Drawing(run.seconds)
    lanes = process_lanes(run, names)
    commands = command_lane(run, lanes, names)
    every_lane = [commands, *lanes.values()]
    top = float(TOP)
    for lane in every_lane:
        for t, label, kind in sorted(lane.marks):
            lane.place(drawing.x(t), label, kind)
        lane.top = top
        top += lane.height
    for lane in every_lane:
        draw_lane(drawing, lane)
    draw_forks(drawing, run, lanes)
    draw_signals(drawing, run, commands, lanes)
    draw_axis(drawing, top + 4)
    height = round(top + AXIS, 1)
    marker = (
        f'<defs><marker id="arrow-{run.scenario}" viewBox="0 0 8 8" refX="7" refY="4" '
        'markerWidth="7" markerHeight="7" orient="auto">'
        f'<path d="M0 0 L8 4 L0 8 z" fill="{SIGNAL_COLOUR}"/></marker></defs>'
    )
    return (
        f'<svg class="minigun-timeline" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
        f'font-family="monospace" font-size="{FONT_SIZE}" '
        f'data-scenario="{escape(run.scenario)}">'
        f"<title>{escape(title or run.scenario)}</title>{marker}"
        + "".join(drawing.parts)
        + "</svg>"
    )
