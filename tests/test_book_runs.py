"""The book's recorded runs: real processes, a timeline drawn from them, rebuilt by
every build.

``book/_ext/runs_recorder.py`` drives a real minigun through each scenario and
``book/_ext/minigun_runs.py`` puts the record and its timeline in the page. These
tests read the records from outside (what the log, ``curl`` and ``ps`` printed, with
which pids), check that the picture has a mark for every event it claims to draw,
and build a small book twice to see that each build records its own run.
"""

from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "book" / "_ext"))

from runs_recorder import SCENARIOS, Run, is_alive, record_all  # noqa: E402
from runs_timeline import milestone, timeline_svg  # noqa: E402

SVG = "{http://www.w3.org/2000/svg}"
# The chapters about the running server, each with its run (issue 28).
CHAPTERS_WITH_RUNS = {
    "prefork": "tiny-prefork",
    "arbiter": "start",
    "worker": "worker-retires",
    "shutdown": "term-in-flight",
    "signals": "hup",
    "hooks": "hooks",
    "upgrade": "usr2-upgrade",
    "deploy": "socket-activation",
}
BUILD_TIMEOUT = 240


@pytest.fixture(scope="module")
def runs() -> dict[str, Run]:
    """Every scenario, recorded once, all at the same time as a build does."""
    return record_all(list(SCENARIOS))


def pids_logging(run: Run, pattern: str) -> list[int]:
    return [e.pid for e in run.logs(pattern) if e.pid is not None]


def booted(run: Run) -> list[int]:
    return [int(m) for m in re.findall(r"Booting worker with pid: (\d+)", log(run))]


def log(run: Run) -> str:
    return "\n".join(e.text for e in run.events if e.kind == "log")


def outputs(run: Run) -> list[str]:
    return [e.text for e in run.events if e.kind == "output"]


def ps_rows(run: Run) -> list[tuple[int, int, str]]:
    rows = (re.match(r"^\s*(\d+)\s+(\d+)\s+(.*)$", line) for line in outputs(run))
    return [(int(r[1]), int(r[2]), r[3]) for r in rows if r]


def signals_sent(run: Run) -> list[tuple[str, int | None]]:
    return [(e.signal, e.pid) for e in run.commands() if e.signal]


@pytest.mark.timeout(120)
def test_every_scenario_stops_every_process_it_started(runs: dict[str, Run]) -> None:
    for name, run in runs.items():
        pids = {e.pid for e in run.events if e.kind == "log" and e.pid}
        assert pids, f"{name}: no log line with a pid"
        assert not [pid for pid in pids if is_alive(pid)], f"{name} left processes"
        assert run.seconds < 30, f"{name} took {run.seconds} s"


@pytest.mark.timeout(120)
def test_start_shows_the_master_its_workers_a_request_and_term(
    runs: dict[str, Run],
) -> None:
    run = runs["start"]
    (master,) = pids_logging(run, "Starting minigun")
    workers = booted(run)
    assert len(workers) == 2 and master not in workers
    assert pids_logging(run, "Booting worker") == workers  # each worker logs itself
    assert any(f"Hello from minigun worker {pid}" in outputs(run) for pid in workers)
    assert sorted((pid, ppid) for pid, ppid, _ in ps_rows(run))[1:] == sorted(
        (pid, master) for pid in workers
    )
    assert signals_sent(run) == [("TERM", master)]
    assert sorted(pids_logging(run, "Worker exiting")) == sorted(workers)
    assert run.events[-1].text == f"(minigun {master} exited with status 0)"


@pytest.mark.timeout(120)
def test_the_tiny_server_loses_a_child_and_outlives_its_master(
    runs: dict[str, Run],
) -> None:
    """The prefork chapter's baseline: what the rest of the book adds is missing."""
    run = runs["tiny-prefork"]
    (master,) = pids_logging(run, "Listening at")
    children = pids_logging(run, "Child accepting")
    assert len(children) == 3 and master not in children
    victim, *orphans = children
    assert signals_sent(run) == [
        ("KILL", victim),
        ("TERM", master),
        *(("TERM", pid) for pid in orphans),
    ]
    assert pids_logging(run, f"Child {victim} exited with status -9") == [master]
    assert len(pids_logging(run, "Child accepting")) == 3  # never a replacement
    exited = run.transcript().index(f"(python {master} exited with status -15)")
    after_term = run.transcript()[exited:]
    assert re.search(r"^Hello from child \d+$", after_term, re.MULTILINE)
    orphan_rows = [(pid, ppid) for pid, ppid, _ in ps_rows(run) if pid in orphans]
    assert {pid for pid, ppid in orphan_rows if ppid != master} == set(orphans)


@pytest.mark.timeout(120)
def test_kill_worker_the_master_replaces_the_dead_one(runs: dict[str, Run]) -> None:
    run = runs["kill-worker"]
    (master,) = pids_logging(run, "Starting minigun")
    victim = signals_sent(run)[0][1]
    assert signals_sent(run)[0] == ("KILL", victim) and victim in booted(run)[:2]
    assert f"Worker (pid:{victim}) was sent SIGKILL!" in log(run)
    assert len(booted(run)) == 3
    last_answer = [line for line in outputs(run) if line.startswith("Hello")][-1]
    assert str(victim) not in last_answer
    assert pids_logging(run, "was sent SIGKILL") == [master]


@pytest.mark.timeout(120)
def test_worker_retires_after_max_requests(runs: dict[str, Run]) -> None:
    run = runs["worker-retires"]
    first, second = booted(run)
    answers = [line for line in outputs(run) if line.startswith("Hello")]
    assert answers == [
        f"Hello from minigun worker {pid}" for pid in (first, first, second)
    ]
    assert pids_logging(run, "Autorestarting worker") == [first]


@pytest.mark.timeout(120)
def test_ttin_adds_one_ttou_retires_down_to_one(runs: dict[str, Run]) -> None:
    run = runs["ttin-ttou"]
    (master,) = pids_logging(run, "Starting minigun")
    names = [name for name, _ in signals_sent(run)]
    assert names == ["TTIN", "TTOU", "TTOU", "TTOU", "TERM"]
    assert len(booted(run)) == 3
    assert "TTOU ignored: already at one worker" in log(run)
    last_ps = run.transcript().rsplit("$ ps", 1)[1].split("$ kill")[0]
    assert last_ps.count("minigun: worker") == 1 and f"{master}" in last_ps


@pytest.mark.timeout(120)
def test_hup_under_load_answers_every_request_from_both_generations(
    runs: dict[str, Run],
) -> None:
    run = runs["hup"]
    workers = booted(run)
    old, new = set(workers[:2]), set(workers[2:])
    counts = {
        int(m[2]): int(m[1])
        for line in outputs(run)
        if (m := re.match(r"^\s*(\d+) Hello from minigun worker (\d+)$", line))
    }
    assert sum(counts.values()) == 40
    assert set(counts) & old and set(counts) & new
    assert not [line for line in outputs(run) if "curl:" in line]
    hup = next(e for e in run.commands() if e.signal == "HUP")
    assert all(e.t > hup.t for e in run.logs("Booting worker")[2:])


@pytest.mark.timeout(120)
def test_term_lets_the_request_in_flight_finish(runs: dict[str, Run]) -> None:
    run = runs["term-in-flight"]
    term = next(e for e in run.commands() if e.signal == "TERM")
    slow = next(e for e in run.events if e.text.startswith("slept 2.0 in "))
    queued = next(e for e in run.events if e.text.startswith("slept 0.0 in "))
    (worker,) = booted(run)
    assert slow.t > term.t and queued.t > term.t
    assert slow.text.endswith(str(worker)) and queued.text.endswith(str(worker))
    assert pids_logging(run, "Accepted 1 queued connection") == [worker]


@pytest.mark.timeout(120)
def test_usr2_starts_a_new_master_that_is_promoted(runs: dict[str, Run]) -> None:
    run = runs["usr2-upgrade"]
    old, new = pids_logging(run, "Starting minigun")
    assert [name for name, _ in signals_sent(run)] == ["USR2", "TERM", "TERM"]
    assert signals_sent(run)[1] == ("TERM", old)
    assert signals_sent(run)[2] == ("TERM", new)
    assert (new, old) in {(pid, ppid) for pid, ppid, _ in ps_rows(run)}
    assert pids_logging(run, "Master has been promoted") == [new]
    cat_app_pid = run.transcript().split("$ cat app.pid\n", 1)[1].splitlines()[0]
    assert cat_app_pid == str(new)


@pytest.mark.timeout(120)
def test_hooks_run_in_the_process_the_chapter_says(runs: dict[str, Run]) -> None:
    run = runs["hooks"]
    (master,) = pids_logging(run, "Starting minigun")
    workers = set(booted(run))
    ran_in = {}
    for event in run.logs(r"hook \w+"):
        hook = re.search(r"hook (\w+)", event.text)[1]  # type: ignore[index]
        ran_in.setdefault(hook, set()).add(event.pid)
    for hook in ("on_starting", "when_ready", "pre_fork", "worker_ready", "on_exit"):
        assert ran_in[hook] == {master}, hook
    for hook in ("post_fork", "post_worker_init", "worker_exit"):
        assert ran_in[hook] == workers, hook
    assert len(ran_in["pre_request"]) == 1 and ran_in["pre_request"] <= workers
    order = [re.search(r"hook (\w+)", e.text)[1] for e in run.logs(r"hook \w+")]  # type: ignore[index]
    assert order[:3] == ["nworkers_changed", "on_starting", "when_ready"]
    assert order[-1] == "on_exit"


@pytest.mark.timeout(120)
def test_socket_activation_hands_minigun_the_socket(runs: dict[str, Run]) -> None:
    run = runs["socket-activation"]
    assert run.events[1].text.endswith("as 3.")  # systemd-socket-activate bound it
    curl = next(e for e in run.commands() if e.text.startswith("curl"))
    (starting,) = run.logs("Starting minigun")
    assert starting.t > curl.t  # minigun started for the first connection
    assert any(line.startswith("Hello from minigun worker") for line in outputs(run))


@pytest.mark.timeout(120)
def test_the_timeline_draws_every_process_signal_and_hook(runs: dict[str, Run]) -> None:
    for name, run in runs.items():
        svg = ET.fromstring(timeline_svg(run))
        texts = [t.text for t in svg.iter(f"{SVG}text")]
        for pid in {e.pid for e in run.events if e.kind == "log"}:
            assert any(t and t.endswith(f" {pid}") for t in texts), f"{name}: {pid}"
        arrows = [line for line in svg.iter(f"{SVG}line") if line.get("marker-end")]
        assert len(arrows) == len(signals_sent(run)), name
        diamonds = [p for p in svg.iter(f"{SVG}path") if p.get("d", "").startswith("M")]
        hooks = len(run.logs(r"\bhook \w+"))
        assert len(diamonds) == hooks + 1, name  # and the arrow head in <defs>


def build(source: Path, out: Path, *options: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", "html", "-W", "-n", *options,
         str(source), str(out)],
        capture_output=True, text=True, timeout=BUILD_TIMEOUT, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return (out / "index.html").read_text()


def small_book(folder: Path) -> Path:
    """A one-page book with one recorded run, the extension and the book's catalogs."""
    source = folder / "src"
    source.mkdir()
    (source / "conf.py").write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(ROOT / 'book' / '_ext')!r})\n"
        "extensions = ['myst_parser', 'minigun_runs']\n"
        f"locale_dirs = [{str(ROOT / 'book' / 'locale')!r}]\n"
    )
    (source / "index.md").write_text("# Runs\n\n```{recorded-run} start\n```\n")
    return source


@pytest.mark.timeout(BUILD_TIMEOUT * 3)
def test_every_build_records_its_own_run(tmp_path: Path) -> None:
    source = small_book(tmp_path)
    out = tmp_path / "html"
    first = build(source, out)
    second = build(source, out)  # nothing changed in the source
    masters = []
    for page in (first, second):
        assert '<svg class="minigun-timeline"' in page
        assert 'id="recorded-run-start"' in page
        assert "Recorded by this build of the book" in page
        masters.append(re.search(r"Listening at: \S+ \((\d+)\)", page)[1])  # type: ignore[index]
    assert masters[0] != masters[1], "the second build showed the first build's run"
    chinese = build(source, tmp_path / "html-zh", "-D", "language=zh_CN")
    assert "由本书的这次构建录制" in chinese
    assert "Starting minigun" in chinese  # the record itself is not translated


def test_each_chapter_about_the_running_server_shows_its_run() -> None:
    for chapter, scenario in CHAPTERS_WITH_RUNS.items():
        page = (ROOT / "book" / f"{chapter}.md").read_text()
        assert f"```{{recorded-run}} {scenario}\n```" in page, chapter
    book = "".join(page.read_text() for page in (ROOT / "book").glob("*.md"))
    for scenario in SCENARIOS:
        assert f"```{{recorded-run}} {scenario}\n```" in book, (
            f"{scenario}: shown nowhere"
        )


def test_a_milestone_label_is_in_the_pages_language() -> None:
    """The timeline's labels go through the page's catalog, numbers filled in after."""
    chinese = {"drained %s queued": "处理完排队的 %s 个", "boot": "启动工作进程"}.get
    assert milestone("[INFO] Accepted 3 queued connections", str) == "drained 3 queued"
    translated = milestone(
        "[INFO] Accepted 3 queued connections", lambda w: chinese(w, w)
    )
    assert translated == "处理完排队的 3 个"
    assert (
        milestone("Booting worker with pid: 12", lambda w: chinese(w, w))
        == "启动工作进程"
    )
    assert milestone("nothing the timeline marks", str) is None
