"""``python -m exercises.tool COMMAND [EXERCISE]``: the command line behind ``make``.

Commands: ``exercise``, ``hint``, ``watch``, ``reset``, ``solution``, ``list`` for the
student; ``check`` (every exercise fails as shipped, passes with the reference) for the
teacher, who grades a class with ``python -m exercises.tool.grade`` (``make grade``).
EXERCISE is an id (``reap-workers``), a number (``9``) or a folder name
(``09-reap-workers``); ``make`` passes it as ``EX=...``.
"""

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from .catalogue import CatalogueError
from .check import check
from .commands import (
    list_exercises,
    reset,
    show_exercise,
    show_hint,
    show_solution,
    watch,
)
from .layout import Layout

STUDENT_COMMANDS = {
    "exercise": show_exercise,
    "hint": show_hint,
    "watch": watch,
    "reset": reset,
    "solution": show_solution,
    "list": list_exercises,
}
USAGE_ERROR = 2


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m exercises.tool")
    parser.add_argument("command", choices=[*STUDENT_COMMANDS, "check"])
    parser.add_argument("exercise", nargs="?", help="id, number or folder name")
    parser.add_argument("--jobs", type=int, help="parallel test runs for check")
    parser.add_argument("--yes", action="store_true", help="reset without asking")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    arguments = parse_arguments(argv)
    layout = Layout(Path(__file__).resolve().parents[2])
    try:
        if arguments.command == "check":
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
