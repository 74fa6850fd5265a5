"""``python -m exercises.tool COMMAND [EXERCISE]``: the command line behind ``make``.

The student's commands, in the kit: ``exercise``, ``hint``, ``watch``, ``reset``,
``list`` and ``holes`` (which exercises are still open; ``make run`` asks it first).
The teacher's, in the instructor's repository only (the kit ships without their
modules): ``check`` (every exercise fails as shipped, passes with the reference); the
teacher grades a class with ``python -m exercises.tool.grade`` (``make grade``).
EXERCISE is an id (``reap-workers``), a number (``9``) or a folder name
(``09-reap-workers``); ``make`` passes it as ``EX=...``.
"""

import argparse
import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path

from .catalogue import CatalogueError
from .commands import (
    list_exercises,
    reset,
    show_exercise,
    show_hint,
    show_open_holes,
    watch,
)
from .layout import Layout

STUDENT_COMMANDS = {
    "exercise": show_exercise,
    "hint": show_hint,
    "watch": watch,
    "reset": reset,
    "list": list_exercises,
    "holes": show_open_holes,
}
# The teacher's commands and their modules, which the student kit does not hold.
TEACHER_COMMANDS = {"check": "check"}
USAGE_ERROR = 2


def teacher_commands() -> list[str]:
    """The teacher's commands whose modules are here (none of them in the kit)."""
    return [
        command
        for command, module in TEACHER_COMMANDS.items()
        if importlib.util.find_spec(f"{__package__}.{module}") is not None
    ]


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m exercises.tool")
    parser.add_argument("command", choices=[*STUDENT_COMMANDS, *teacher_commands()])
    parser.add_argument("exercise", nargs="?", help="id, number or folder name")
    parser.add_argument("--jobs", type=int, help="parallel test runs for check")
    parser.add_argument("--yes", action="store_true", help="reset without asking")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    arguments = parse_arguments(argv)
    layout = Layout(Path(__file__).resolve().parents[2])
    try:
        if arguments.command == "check":
            from .check import check

            return check(layout, sys.stdout, arguments.jobs, arguments.exercise)
        if arguments.command == "reset":
            return reset(layout, arguments.exercise, sys.stdout, answer_for(arguments))
        if arguments.command == "watch":
            sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
        command = STUDENT_COMMANDS[arguments.command]
        return command(layout, arguments.exercise or None, sys.stdout)
    except CatalogueError as error:
        print(error, file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:
        return 0


def answer_for(arguments: argparse.Namespace) -> Callable[[str], str] | None:
    """How reset asks: ``--yes`` answers for the student; a terminal asks them."""
    if arguments.yes:
        return lambda question: "yes"
    if sys.stdin.isatty():
        return input
    return None


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
