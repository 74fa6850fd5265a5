"""The kit's Classroom autograding (kit/.github/): every exercise, with its points."""

import json
import re
import shlex
from pathlib import Path

import pytest
import yaml

from exercises.tool.autograding import LEGACY, WORKFLOW, expected_files
from exercises.tool.catalogue import load_catalogue
from exercises.tool.layout import Layout

ROOT = Path(__file__).resolve().parents[1]
LAYOUT = Layout(ROOT)
EXERCISES = load_catalogue(LAYOUT.catalogue)

pytestmark = pytest.mark.timeout(30)


def test_the_committed_files_are_what_the_catalogue_generates():
    for path, text in expected_files(LAYOUT).items():
        assert (ROOT / path).read_text(encoding="utf-8") == text, (
            f"{path} is stale: run `python -m exercises.tool.autograding`"
        )


def test_the_workflow_has_a_graded_step_per_exercise_and_reports_them_all():
    workflow = yaml.safe_load((ROOT / WORKFLOW).read_text(encoding="utf-8"))
    assert workflow["on"] == ["push", "repository_dispatch"], workflow["on"]
    steps = workflow["jobs"]["run-autograding-tests"]["steps"]
    graders = [s for s in steps if "autograding-command-grader" in s.get("uses", "")]
    assert [s["id"] for s in graders] == [e.id for e in EXERCISES]
    for step, exercise in zip(graders, EXERCISES, strict=True):
        arguments = step["with"]
        assert arguments["max-score"] == exercise.points, step
        run = shlex.split(arguments["command"])
        assert run[-1] == f"exercises/{exercise.folder_name}", step
        assert (ROOT / run[-1]).is_dir(), run
    reporter = steps[-1]
    assert reporter["uses"].startswith(
        "classroom-resources/autograding-grading-reporter"
    )
    assert reporter["with"]["runners"].split(",") == [e.id for e in EXERCISES]
    for exercise in EXERCISES:
        value = reporter["env"][f"{exercise.id.upper()}_RESULTS"]
        assert value == f"${{{{steps.{exercise.id}.outputs.result}}}}", value


def test_the_setup_installs_the_dependencies_and_the_test_tools():
    steps = yaml.safe_load((ROOT / WORKFLOW).read_text(encoding="utf-8"))["jobs"][
        "run-autograding-tests"
    ]["steps"]
    install = shlex.split(next(s["run"] for s in steps if "run" in s))
    assert install[:4] == ["python", "-m", "pip", "install"], install
    names = {re.split(r"[<>=]", requirement)[0] for requirement in install[5:]}
    assert names == {"setproctitle", "pytest", "pytest-timeout"}, install


def test_the_classic_autograding_json_lists_every_exercise_with_its_points():
    tests = json.loads((ROOT / LEGACY).read_text(encoding="utf-8"))["tests"]
    assert [t["points"] for t in tests] == [e.points for e in EXERCISES]
    assert [t["run"].split()[-1] for t in tests] == [
        f"exercises/{e.folder_name}" for e in EXERCISES
    ]
    assert all(t["timeout"] > 0 and t["name"] for t in tests), tests
    assert sum(t["points"] for t in tests) == sum(e.points for e in EXERCISES)
