"""The book's recorded runs: ``{recorded-run} SCENARIO`` shows a real run of minigun.

A chapter writes::

    ```{recorded-run} hup
    ```

and the page shows what the build itself saw when it drove a real minigun through
that scenario (book/_ext/runs_recorder.py): the commands, the server's log with its
pids and times, what ``curl`` and ``ps`` printed, and under it the run's timeline
(book/_ext/runs_timeline.py), an SVG drawn from the same events.

Why the record is made at build time and never stored: a stored transcript drifts
(the arbiter chapter's old one hid its pids as ``[...]``), and a recorded one shows
what this version of minigun does. So the directive leaves a placeholder in the
doctree, and the record replaces it when the page is written: the pickled doctree of
an unchanged page cannot carry an old run into a new build. The pages that include a
run are read again by every build (``env-get-outdated``), so every ``make html*``
records afresh, all the scenarios a build needs at once (in parallel: a few seconds).

The record is a literal block: not translated, the same in every edition and both
languages. The caption and the note under the picture are the extension's own
strings, translated through the ``sphinx`` catalog like its other labels.
"""

from __future__ import annotations

import threading
from typing import Any

from docutils import nodes
from runs_recorder import SCENARIOS, Run, record_all
from runs_timeline import timeline_svg
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.locale import _
from sphinx.util.docutils import SphinxDirective

# Builders that only collect text (messages, links) need no run.
NO_RUN_BUILDERS = {"gettext", "linkcheck", "dummy", "doctest"}


class recorded_run(nodes.General, nodes.Element):  # lower case: docutils node style
    """Where a run goes; replaced by the record when the page is written."""


class RecordedRunDirective(SphinxDirective):
    """``{recorded-run} SCENARIO``: one of runs_recorder.SCENARIOS."""

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        scenario = self.arguments[0]
        if scenario not in SCENARIOS:
            known = ", ".join(sorted(SCENARIOS))
            raise self.error(f"no recorded run named {scenario!r} (known: {known})")
        run_pages(self.env).setdefault(self.env.docname, set()).add(scenario)
        return [recorded_run(scenario=scenario)]


def run_pages(env: BuildEnvironment) -> dict[str, set[str]]:
    """The scenarios each page shows, kept in the environment between builds."""
    if not hasattr(env, "minigun_run_pages"):
        env.minigun_run_pages = {}  # type: ignore[attr-defined]
    pages: dict[str, set[str]] = env.minigun_run_pages  # type: ignore[attr-defined]
    return pages


def forget_page(app: Sphinx, env: BuildEnvironment, docname: str) -> None:
    run_pages(env).pop(docname, None)


def merge_pages(
    app: Sphinx, env: BuildEnvironment, docnames: set[str], other: BuildEnvironment
) -> None:
    run_pages(env).update(run_pages(other))


def pages_to_record_again(
    app: Sphinx,
    env: BuildEnvironment,
    added: set[str],
    changed: set[str],
    removed: set[str],
) -> list[str]:
    """Every page with a run is read and written again: its run is recorded anew."""
    return sorted(set(run_pages(env)) - removed)


class Runs:
    """This build's runs, recorded together the first time a page needs one."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.runs: dict[str, Run] = {}

    def get(self, env: BuildEnvironment, scenario: str) -> Run:
        with self.lock:
            if not self.runs:
                needed = set().union(*run_pages(env).values()) | {scenario}
                self.runs = record_all(sorted(needed))
            if scenario not in self.runs:
                self.runs.update(record_all([scenario]))
            return self.runs[scenario]


RUNS = Runs()


def start_build(app: Sphinx) -> None:
    RUNS.runs = {}  # one record per build: a second build in one process runs anew


def record_block(run: Run) -> nodes.container:
    """The transcript as a literal block, with a caption that says whose it is."""
    caption = _(
        "Recorded by this build of the book: the server's output, and after $ the "
        "commands typed in a second terminal; pids, ports and times are this run's."
    )
    block = nodes.literal_block(run.transcript(), run.transcript())
    block["language"] = "text"
    block["classes"].append("minigun-recorded-run")
    container = nodes.container(
        "", literal_block=True, classes=["literal-block-wrapper"]
    )
    container["ids"].append(f"recorded-run-{run.scenario}")
    container += nodes.caption(str(caption), str(caption))
    container += block
    return container


def timeline_node(run: Run) -> nodes.container:
    """The SVG, inline in the page, and one line on how to read it."""
    title = _("Timeline of the recorded run '%s'") % run.scenario
    svg = timeline_svg(run, names=lambda word: str(_(word)), title=str(title))
    note = _(
        "The same run in time: a lane per process (seconds from the start); red "
        "arrows are the signals sent, purple diamonds the hooks, green bars the "
        "requests, dashed lines the forks."
    )
    figure = nodes.container("", classes=["minigun-timeline-figure"])
    figure += nodes.raw("", svg, format="html")
    figure += nodes.paragraph(str(note), str(note), classes=["minigun-timeline-note"])
    return figure


def fill_runs(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Replace each placeholder with this build's record and timeline."""
    for placeholder in list(doctree.findall(recorded_run)):
        if app.builder.name in NO_RUN_BUILDERS:
            placeholder.parent.remove(placeholder)
            continue
        run = RUNS.get(app.env, placeholder["scenario"])
        shown: list[nodes.Node] = [record_block(run)]
        if app.builder.format == "html":
            shown.append(timeline_node(run))
        placeholder.replace_self(shown)


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_node(recorded_run)
    app.add_directive("recorded-run", RecordedRunDirective)
    app.connect("builder-inited", start_build)
    app.connect("env-purge-doc", forget_page)
    app.connect("env-merge-info", merge_pages)
    app.connect("env-get-outdated", pages_to_record_again)
    app.connect("doctree-resolved", fill_runs)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
