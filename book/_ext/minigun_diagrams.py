"""The diagrams' labels in the edition's language: one drawing, its words translated.

A diagram is ASCII art (an ``{svgbob}`` fence, or a state diagram drawn from a table)
that svgbob turns into SVG. Its words are part of the page, so the Chinese edition
must show them in Chinese; the drawing itself (boxes, arrows, columns) stays the one
in the source. So the words are messages of the page's catalog like its sentences, and
the Chinese drawing is the English one with each label's columns rewritten:

* **What a label is.** On one line of the drawing, a run of words separated by single
  spaces (a quoted string, which svgbob prints as it is, counts as one word); lines,
  corners and arrows end a run, and so do two spaces. Runs that start in the same
  column on consecutive lines are one label, a box's paragraph: its message is the
  lines joined by spaces (as Sphinx joins a paragraph's lines), and its translation
  breaks its lines with newlines, at most as many as the label has. A label whose
  every line is code (``"spawn_worker()"``, ``TERM``) is not a message.
* **Where a translation may go.** Each line of a label may use its own columns and the
  blank ones after it, up to one column short of the next mark on that line (a box's
  wall, an arrow): a Chinese character takes two columns, which svgbob knows. A
  translation that does not fit is a build error naming the label, so a diagram is
  never drawn with a word over its wall: shorten the translation or widen the box.
  Chinese stays out of double quotes: svgbob counts a quoted wide character as one
  column and draws the rest of that line too far left (also a build error).
* **When.** Before svgbob renders the drawing (its transform runs at priority 10), with
  the catalog of the page that holds it, the one Sphinx's own translation uses. The
  gettext builder instead adds each label to the page's messages (``make update-po``),
  so an untranslated or changed label shows up in the catalog as any sentence does.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.locale import init as init_locale
from sphinx.transforms import SphinxTransform
from sphinx.util import logging
from sphinx.util.i18n import docname_to_domain
from sphinxcontrib.svgbob.node import svgbob

logger = logging.getLogger(__name__)

# A word of a drawing: a quoted string (spaces and all), or a run of other marks.
WORD = re.compile(r'"[^"\n]*"|[^\s"]+')
# Marks that draw: a word made only of these is part of the picture, not of a label.
DRAWING = re.compile(r"^[-+|<>^v.'=*~`/\\:_#X]+$")
QUOTED = re.compile(r'"[^"\n]*"')
# A drawing's marks glued to a word's ends (``|"run()"``, ``request,-->``).
EDGE = re.compile(r"^[-+|<>=.']*(?P<word>.*?)[-+|<>=.']*$")
# Code and names that read the same in every language.
IDENTIFIER = re.compile(r"^[\w.]*[\w)]$|^[\w.]+\(.*\)[:,]?$|^[\w.]+:$")
SIGNAL_OR_CONSTANT = re.compile(r"^[A-Z][A-Z0-9_*]+[,:]?$")
CAMEL_CASE = re.compile(r"^[A-Z][a-z]+[A-Z]\w*$")  # a class: SocketUnreader


@dataclass
class Run:
    """Words on one line of the drawing: where they start and end (columns)."""

    row: int
    start: int
    end: int
    text: str

    @property
    def is_code(self) -> bool:
        words = WORD.findall(self.text)
        return all(is_code(word) for word in words)


@dataclass
class Label:
    """Runs that start in one column on consecutive lines: one message."""

    runs: list[Run]

    @property
    def message(self) -> str:
        """The lines joined by spaces, as Sphinx's gettext builder joins a paragraph's
        lines; the translation breaks its lines with newlines."""
        return " ".join(run.text for run in self.runs)


def is_code(word: str) -> bool:
    """A name, a call, a signal or a number: the same in every language."""
    bare = word.strip('"').strip()
    if not re.search(r"[A-Za-z]{2}", bare):
        return True  # a number, a mark, a single letter
    if SIGNAL_OR_CONSTANT.match(bare) or CAMEL_CASE.match(bare):
        return True
    if any(mark in bare for mark in "_().:=[]<>*/") and IDENTIFIER.match(bare):
        return True
    if " " in bare:
        return all(is_code(part) for part in bare.split())
    return False


def line_runs(row: int, line: str) -> list[Run]:
    """The runs of words on one line, the drawing's marks left out."""
    runs: list[Run] = []
    for found in WORD.finditer(line):
        word, start = found.group(), found.start()
        if not word.startswith('"'):
            edged = EDGE.match(word)
            assert edged is not None  # the pattern matches any word
            inner = edged["word"]
            if not inner or DRAWING.match(inner):
                continue
            start += word.index(inner)
            word = inner
        end = start + len(word)
        if runs and runs[-1].end + 1 == start and line[runs[-1].end] == " ":
            runs[-1].end, runs[-1].text = end, runs[-1].text + " " + word
        else:
            runs.append(Run(row, start, end, word))
    return runs


def labels(drawing: str) -> list[Label]:
    """The drawing's labels in reading order, the ones that are all code left out."""
    found: list[Label] = []
    open_labels: dict[
        int, Label
    ] = {}  # start column -> the label that ended a row above
    for row, line in enumerate(drawing.splitlines()):
        still_open: dict[int, Label] = {}
        for run in line_runs(row, line):
            label = open_labels.get(run.start)
            if label is not None and label.runs[-1].row == row - 1:
                label.runs.append(run)
            else:
                label = Label([run])
                found.append(label)
            still_open[run.start] = label
        open_labels = still_open
    return [label for label in found if not all(run.is_code for run in label.runs)]


def display_width(text: str) -> int:
    """Columns in the drawing: two for a wide (East Asian) character, as svgbob."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def room(line: str, run: Run) -> int:
    """The columns a translation of ``run`` may take on its line."""
    rest = line[run.end :]
    gap = len(rest) - len(rest.lstrip(" "))
    if not rest.strip():
        return 10_000  # nothing after it on this line
    return run.end - run.start + max(gap - 1, 0)


class LabelDoesNotFit(ValueError):
    """A translated line is wider than the room its label has."""


def translate(drawing: str, translated: dict[str, str]) -> str:
    """``drawing`` with each label whose message ``translated`` holds rewritten."""
    lines = [list(line) for line in drawing.splitlines()]
    for label in labels(drawing):
        text = translated.get(label.message)
        if not text or text == label.message:
            continue
        new_lines = text.split("\n")
        if len(new_lines) > len(label.runs):
            raise LabelDoesNotFit(
                f"{label.message!r}: {len(new_lines)} lines, too many"
            )
        blank = [""] * (len(label.runs) - len(new_lines))
        for run, new in zip(label.runs, new_lines + blank, strict=True):
            write_line(lines[run.row], run, new)
    return "\n".join("".join(line).rstrip() for line in lines)


def write_line(line: list[str], run: Run, new: str) -> None:
    """Put ``new`` in the run's columns (a wide character fills two of them)."""
    width = display_width(new)
    for quoted in QUOTED.findall(new):
        if display_width(quoted) != len(quoted):
            raise LabelDoesNotFit(
                f"{run.text!r} -> {new!r}: svgbob counts a wide character in quotes "
                f"as one column and shifts the rest of the line; quote only ASCII"
            )
    available = room("".join(cell or " " for cell in line), run)
    if width > available:
        raise LabelDoesNotFit(
            f"{run.text!r} -> {new!r}: {width} columns, room for {available}"
        )
    span = max(run.end - run.start, width)
    # One cell per column: a wide character, then an empty cell for its second column,
    # so that the columns of the labels further right keep their places.
    cells = [
        cell for char in new for cell in [char, *([""] * (display_width(char) - 1))]
    ]
    line[run.start : run.start + span] = cells + [" "] * (span - width)


class TranslateDiagramLabels(SphinxTransform):
    """Before svgbob renders them: every drawing of the page, in its language."""

    default_priority = 5

    def apply(self, **kwargs: Any) -> None:
        drawings = list(self.document.findall(svgbob))
        if not drawings:
            return
        if self.app.builder.name == "gettext":
            for drawing in drawings:
                self.add_messages(drawing)
            return
        if self.config.language in (None, "en"):
            return
        catalog = self.page_catalog()
        for drawing in drawings:
            messages = {
                label.message: catalog.gettext(label.message)
                for label in labels(drawing["code"])
            }
            try:
                drawing["code"] = translate(drawing["code"], messages)
            except LabelDoesNotFit as error:
                logger.warning("diagram label: %s", error, location=drawing)

    def page_catalog(self) -> Any:
        """The gettext catalog of this page (fuzzy messages left out, as Sphinx's)."""
        domain = docname_to_domain(self.env.docname, self.config.gettext_compact)
        folders = [self.env.srcdir / folder for folder in self.config.locale_dirs]
        catalog, _ = init_locale(folders, self.config.language, domain)
        return catalog

    def add_messages(self, drawing: svgbob) -> None:
        """The labels as paragraphs the gettext builder extracts (never rendered)."""
        source = drawing.source or self.document["source"]
        line = drawing.line or find_line(drawing)
        place = drawing.parent.index(drawing) + 1
        for label in reversed(labels(drawing["code"])):
            message = nodes.paragraph(label.message, label.message)
            message.source, message.line = source, line
            drawing.parent.insert(place, message)


def find_line(node: nodes.Node) -> int:
    """The nearest line number above ``node`` (a fence's diagram node has none)."""
    while node is not None:
        if node.line:
            return int(node.line)
        node = node.parent
    return 1


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_transform(TranslateDiagramLabels)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
