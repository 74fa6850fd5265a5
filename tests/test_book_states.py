"""The HTTP chapter's state diagram is drawn from the exchange's own table."""

import enum
import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "book" / "_ext"))

from minigun_states import state_diagram
from sphinx.errors import ExtensionError

from minigun.http.exchange import TRANSITIONS, Event, State


def test_every_state_and_event_of_the_table_is_in_the_picture() -> None:
    picture = state_diagram(TRANSITIONS)  # type: ignore[arg-type]
    for state in State:
        assert re.search(rf"\|\s+{state.value}\s+\|", picture), state
    for event in Event:
        assert event.value in picture


class Light(enum.Enum):
    RED = "red"
    GREEN = "green"
    AMBER = "amber"
    OFF = "off"


class Change(enum.Enum):
    GO = "go"
    SKIP = "skip"
    BREAK = "break"


def test_a_table_the_layout_cannot_draw_fails_the_build() -> None:
    jumping = {
        Light.RED: {Change.GO: Light.GREEN, Change.SKIP: Light.AMBER},
        Light.GREEN: {Change.GO: Light.AMBER},
        Light.AMBER: {Change.BREAK: Light.OFF},
        Light.OFF: {},
    }
    with pytest.raises(ExtensionError, match="RED --SKIP--> AMBER"):
        state_diagram(jumping)  # type: ignore[arg-type]


def test_a_change_in_the_table_changes_the_picture() -> None:
    loop = {
        Light.RED: {Change.GO: Light.GREEN},
        Light.GREEN: {Change.GO: Light.RED, Change.BREAK: Light.OFF},
        Light.OFF: {},
    }
    picture = state_diagram(loop)  # type: ignore[arg-type]
    assert "amber" not in picture
    assert " go " in picture  # the loop back, above the row
    assert "break" in picture
