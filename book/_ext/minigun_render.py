"""Pages that render right: two mends to what Markdown and the listings produce.

**Captions that name a dunder keep their underscores** (``minigun/__init__.py``). A
listing's caption is parsed as Markdown, where ``__init__`` is strong emphasis, so
``:caption: minigun/__init__.py`` rendered as "minigun/**init**.py" (bold, the
underscores gone) and ``Arbiter.__init__`` as "Arbiter.**init**". The book's captions
name files and objects, never emphasis: a caption whose source holds ``__`` and no
other markup is put back as the plain text it was written as. This runs after the
translation transform (priority 20), so the Chinese captions are mended too.

**No exercise markers in the reader's listings.** The source marks each exercise's
region with ``# exercise: ID`` and ``# end-exercise: ID`` comments, which the
exercise tool cuts on (exercises/tool/regions.py). In the student's edition they
frame the hole, and the instructor wants to see the regions; in the reader's they
are noise in the middle of a method. There a marker line is emptied, not removed,
so that every line number of the listing stays the source's.
"""

from __future__ import annotations

import re
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.transforms import SphinxTransform

OTHER_MARKUP = ("**", "`", "[", "*_")
EXERCISE_MARKER = re.compile(r"^[ \t]*# (?:end-)?exercise: [\w-]+[ \t]*$", re.MULTILINE)


class DunderCaptions(SphinxTransform):
    """Undo the emphasis Markdown made of a caption's dunder names."""

    default_priority = 900

    def apply(self, **kwargs: Any) -> None:
        for caption in self.document.findall(nodes.caption):
            source = caption.rawsource
            if not source or "__" not in source:
                continue
            if any(mark in source for mark in OTHER_MARKUP):
                continue
            if any(isinstance(child, nodes.strong) for child in caption.children):
                caption.children = []
                caption.append(nodes.Text(source))


class HideExerciseMarkers(SphinxTransform):
    """Empty the marker lines of the reader's edition's listings."""

    default_priority = 900

    def apply(self, **kwargs: Any) -> None:
        if self.app.tags.has("student") or self.app.tags.has("instructor"):
            return
        for block in self.document.findall(nodes.literal_block):
            text = block.astext()
            if not EXERCISE_MARKER.search(text):
                continue
            emptied = EXERCISE_MARKER.sub("", text)
            block.rawsource = emptied  # equal to the text, or Sphinx will not highlight
            block.children = []
            block.append(nodes.Text(emptied))


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_transform(DunderCaptions)
    app.add_transform(HideExerciseMarkers)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
