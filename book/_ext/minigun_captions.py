"""Captions that name a dunder keep their underscores: ``minigun/__init__.py``.

A listing's caption is parsed as Markdown, where ``__init__`` is strong emphasis, so
``:caption: minigun/__init__.py`` rendered as "minigun/**init**.py" (bold, the
underscores gone) and ``Arbiter.__init__`` as "Arbiter.**init**". The book's captions
name files and objects, never emphasis: a caption whose source holds ``__`` and no
other markup is put back as the plain text it was written as. This runs after the
translation transform (priority 20), so the Chinese captions are mended too.
"""

from __future__ import annotations

from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.transforms import SphinxTransform

OTHER_MARKUP = ("**", "`", "[", "*_")


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


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_transform(DunderCaptions)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
