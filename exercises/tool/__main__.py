"""``python -m exercises.tool COMMAND [EXERCISE]``: the command line behind ``make``.

Commands: ``exercise``, ``hint``, ``watch``, ``reset``, ``solution`` for the student
and ``check`` for the teacher. EXERCISE is an id (``reap-workers``), a number (``5``)
or a folder name (``05-reap-workers``); ``make`` passes it as ``EX=...``.
"""

import argparse
import sys
from pathlib import Path

from .catalogue import CatalogueError
from .check import check
from .commands import reset, show_exercise, show_hint, show_solution, watch
from .layout import Layout

STUDENT_COMMANDS = {
    "exercise": show_exercise,
    "hint": show_hint,
    "watch": watch,
    "reset": reset,
    "solution": show_solution,
}
USAGE_ERROR = 2


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m exercises.tool")
    parser.add_argument("command", choices=[*STUDENT_COMMANDS, "check"])
    parser.add_argument("exercise", nargs="?", help="id, number or folder name")
    parser.add_argument("--jobs", type=int, help="parallel test runs for check")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    arguments = parse_arguments(argv)
    layout = Layout(Path(__file__).resolve().parents[2])
    try:
        if arguments.command == "check":
            return check(layout, sys.stdout, arguments.jobs)
        command = STUDENT_COMMANDS[arguments.command]
        return command(layout, arguments.exercise or None, sys.stdout)
    except CatalogueError as error:
        print(error, file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
