"""A diagram's labels in another language: found in the drawing, rewritten in place.

book/_ext/minigun_diagrams.py finds the words of an ASCII drawing, makes them messages
of the page's catalog, and writes their translations back into the same columns. The
build proves every label of the book fits (a misfit fails the strict build); these
tests pin what a label is and what "fits" means, on small drawings.
"""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "book" / "_ext"))

from minigun_diagrams import LabelDoesNotFit, display_width, labels, translate

BOX = """\
 +----------------------+      +-----------+
 | sleep: select on the +----->| "spawn()" |
 | wake-up pipe         |      | TERM      |
 +----------------------+      +-----------+
   "fork() x N, before any client"
"""


def test_a_label_is_a_boxs_paragraph_and_code_is_not_one() -> None:
    found = [label.message for label in labels(BOX)]
    assert found == [
        "sleep: select on the wake-up pipe",
        '"fork() x N, before any client"',
    ], found


def test_a_translation_keeps_every_wall_in_its_column() -> None:
    drawn = translate(
        BOX, {"sleep: select on the wake-up pipe": "sleep：在唤醒管道上\nselect"}
    )
    for before, after in zip(BOX.splitlines(), drawn.splitlines(), strict=True):
        walls = [i for i, char in enumerate(before) if char in "|+"]
        columns = [
            display_width(after[:i]) for i, char in enumerate(after) if char in "|+"
        ]
        assert columns == walls, (before, after)
    assert "| sleep：在唤醒管道上" in drawn and "| select " in drawn, drawn


def test_a_translation_wider_than_its_room_is_refused() -> None:
    with pytest.raises(LabelDoesNotFit, match="24 columns, room for 20"):
        translate(
            BOX, {"sleep: select on the wake-up pipe": "在唤醒管道上调用一次选择"}
        )
    with pytest.raises(LabelDoesNotFit, match="quote only ASCII"):
        translate(BOX, {"sleep: select on the wake-up pipe": '"休眠"'})
    with pytest.raises(LabelDoesNotFit, match="lines, too many"):
        translate(BOX, {"sleep: select on the wake-up pipe": "一\n二\n三"})


def test_an_untranslated_label_leaves_the_drawing_as_it_was() -> None:
    assert translate(BOX, {}) == BOX.rstrip("\n")
