"""The kit's GitHub Classroom autograding, generated from the catalogue.

``python -m exercises.tool.autograding`` writes, in the kit's template folder
``kit/.github/`` (copied into every student kit):

- ``workflows/classroom.yml``: the workflow GitHub Classroom generates today, one
  ``classroom-resources/autograding-command-grader`` step per exercise with its
  points as ``max-score``, and the reporter that sends the score to Classroom;
- ``classroom/autograding.json``: the same tests in the older format that Classroom's
  first autograding action reads (``tests``: name, setup, run, timeout in minutes,
  points).

Each test runs one exercise's tests in the student's own repository: a quick score on
every push, which a student could rig by editing their tests. The grade that counts
is ``make grade SUBMISSIONS=DIR``, with the instructor's tests.
``tests/test_autograding.py`` fails when the files and the catalogue disagree.
"""

import json
import re
import shlex
import sys
import tomllib
from pathlib import Path

from .catalogue import Exercise, load_catalogue
from .layout import Layout

FOLDER = Path("kit") / ".github"
WORKFLOW = FOLDER / "workflows" / "classroom.yml"
LEGACY = FOLDER / "classroom" / "autograding.json"
TEST_TOOLS = ("pytest", "pytest-timeout")  # from the test extra: what the tests need
TIMEOUT_MINUTES = 2
TEST_TIMEOUT = 20  # seconds for one test, as the grader allows


def setup_command(layout: Layout) -> str:
    """pip installs the package's own dependencies and the test tools, as pyproject
    names them, so a dependency added there reaches the autograding too."""
    project = tomllib.loads((layout.root / "pyproject.toml").read_text("utf-8"))
    needs = list(project["project"]["dependencies"])
    needs += [
        requirement
        for requirement in project["project"]["optional-dependencies"]["test"]
        if re.split(r"[<>=!~\[ ]", requirement, maxsplit=1)[0] in TEST_TOOLS
    ]
    return "python -m pip install --quiet " + " ".join(map(shlex.quote, needs))


def command(exercise: Exercise) -> str:
    """The shell command that passes when the exercise's tests pass."""
    return (
        "python -m pytest -q -p no:cacheprovider "
        f"--timeout={TEST_TIMEOUT} exercises/{exercise.folder_name}"
    )


def legacy_json(exercises: list[Exercise], setup: str) -> str:
    tests = [
        {
            "name": f"{exercise.folder_name}: {exercise.title}",
            "setup": setup,
            "run": command(exercise),
            "input": "",
            "output": "",
            "comparison": "included",
            "timeout": TIMEOUT_MINUTES,
            "points": exercise.points,
        }
        for exercise in exercises
    ]
    return json.dumps({"tests": tests}, indent=2, ensure_ascii=False) + "\n"


def workflow_yaml(exercises: list[Exercise], setup: str) -> str:
    """The workflow, written out by hand: every value is plain, quoting is ours."""
    total = sum(exercise.points for exercise in exercises)
    lines = [
        "# Written by `python -m exercises.tool.autograding` from the catalogue",
        f"# of the instructor's repository: {len(exercises)} exercises, {total} points",
        "# GitHub Classroom reads it as the assignment's autograding; the grade that",
        "# counts is the teacher's `make grade`, run with the instructor's own tests.",
        "name: Autograding Tests",
        "'on':",
        "- push",
        "- repository_dispatch",
        "permissions:",
        "  checks: write",
        "  actions: read",
        "  contents: read",
        "jobs:",
        "  run-autograding-tests:",
        "    runs-on: ubuntu-latest",
        "    if: github.actor != 'github-classroom[bot]'",
        "    steps:",
        "    - name: Checkout code",
        "      uses: actions/checkout@v4",
        "    - name: Set up Python",
        "      uses: actions/setup-python@v5",
        "      with:",
        "        python-version: '3.12'",
        "    - name: Install the test tools",
        f"      run: {setup}",
    ]
    for exercise in exercises:
        lines += [
            f"    - name: {exercise.folder_name}",
            f"      id: {exercise.id}",
            "      uses: classroom-resources/autograding-command-grader@v1",
            "      with:",
            f"        test-name: {exercise.folder_name}",
            f"        command: {command(exercise)}",
            f"        timeout: {TIMEOUT_MINUTES}",
            f"        max-score: {exercise.points}",
        ]
    lines += [
        "    - name: Autograding Reporter",
        "      uses: classroom-resources/autograding-grading-reporter@v1",
        "      env:",
        *(
            f"        {exercise.id.upper()}_RESULTS: "
            f'"${{{{steps.{exercise.id}.outputs.result}}}}"'
            for exercise in exercises
        ),
        "      with:",
        f"        runners: {','.join(exercise.id for exercise in exercises)}",
    ]
    return "\n".join(lines) + "\n"


def expected_files(layout: Layout) -> dict[Path, str]:
    """Each file's path under the root and the text it must hold."""
    exercises = load_catalogue(layout.catalogue)
    setup = setup_command(layout)
    return {
        WORKFLOW: workflow_yaml(exercises, setup),
        LEGACY: legacy_json(exercises, setup),
    }


def main() -> int:
    layout = Layout(Path(__file__).resolve().parents[2])
    for path, text in expected_files(layout).items():
        (layout.root / path).parent.mkdir(parents=True, exist_ok=True)
        (layout.root / path).write_text(text, encoding="utf-8")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
