"""Every shell command the book gives is checked, so a wrong flag fails the suite.

What "checked" means depends on what the page claims:

* A fenced ``console`` block claims its output: each ``$ command`` is **run** from the
  repository root, with the virtualenv's ``bin`` first on ``PATH``, and what it prints
  is compared with the lines that follow it on the page. ``...`` in the expected text
  matches anything, as in doctest, for process ids, ports and timestamps. A command
  that talks to ``127.0.0.1:8000`` gets a real minigun serving ``examples.hello:app``
  on a free port instead, started for the test and stopped by its pid afterwards.
* A fenced ``shell``, ``bash`` or ``sh`` block shows commands without claiming their
  output, and an inline code span in the prose that starts with a program the table
  below knows (``minigun --pid app.pid``, ``make html``, ``kill -USR2 ...``) gives a
  command too; a span that starts with ``-`` is a minigun option. Each is checked
  without side effects, by its program:

  - ``minigun`` (and ``python -m minigun``), and an option span: the arguments are
    **parsed by minigun's own argument parser** (``Config.parser``), so an unknown
    flag or a value of the wrong type fails. A few spans are another program's
    options, named in :data:`OTHER_PROGRAMS_OPTIONS` with the program, whose own
    ``--help`` must list them where the program is here to ask.
  - ``kill -SIGNAL``: the signal must be in the master's signal table
    (``Arbiter.signal_table``), or be ``KILL``, which no process can handle. Lines of
    the diagrams (``kill -HUP <pid>``) are checked the same way.
  - ``make TARGET [VAR=value]``: ``make -n`` (a dry run: make reads the Makefile and
    prints what it would do, running nothing) must know the target, in the
    repository or in the student kit (``kit/Makefile``), whose commands the
    student's pages and the classroom chapters give.
  - ``python SCRIPT args`` (``.venv/bin/python`` too): the script exists; one with
    options is run with ``--help`` appended, so argparse checks each value as it
    reads it and stops before doing anything, and every flag given must be one the
    help lists.
  - ``pip install 'minigun[extra]'``: the extra is in pyproject.toml.
  - ``systemctl VERB UNIT``: the unit is one of ``examples/systemd``'s files.

  A command in a fenced shell block whose program has no check fails the test: a new
  kind of command needs a check written first.
* The recorded runs (``{recorded-run}``) are run by the book's build itself
  (book/_ext/runs_recorder.py; tests/test_book_runs.py).
"""

import contextlib
import doctest
import http.client
import importlib.util
import io
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from exercises.tool.book import Book

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
BIN = Path(sys.executable).parent
FENCE = re.compile(r"^(`{3,})console\s*\n(.*?)^\1\s*$", re.MULTILINE | re.DOTALL)
BOOK_PORT = "127.0.0.1:8000"
COMMAND_TIMEOUT = 30
BOOT_TIMEOUT = 20


@dataclass(frozen=True)
class Session:
    """One ``$ command`` and the output the page claims for it."""

    where: str
    command: str
    expected: str


def sessions_in(page: Path) -> Iterator[Session]:
    text = page.read_text()
    for fence in FENCE.finditer(text):
        first_line = text.count("\n", 0, fence.start(2)) + 1
        yield from split_block(str(page.relative_to(ROOT)), first_line, fence.group(2))


def split_block(page: str, first_line: int, block: str) -> Iterator[Session]:
    """Each ``$ `` line starts a session; the lines up to the next are its output."""
    where, command, expected = "", None, []
    for number, line in enumerate(block.splitlines(), first_line):
        if line.startswith("$ "):
            if command is not None:
                yield Session(where, command, "\n".join(expected))
            where, command, expected = f"{page}:{number}", line[2:], []
        else:
            expected.append(line)
    if command is not None:
        yield Session(where, command, "\n".join(expected))


def all_sessions() -> list[Session]:
    return [s for page in sorted(BOOK.rglob("*.md")) for s in sessions_in(page)]


def matches(expected: str, actual: str) -> bool:
    checker = doctest.OutputChecker()
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    return checker.check_output(expected.strip() + "\n", actual.strip() + "\n", flags)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_serving(port: int, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + BOOT_TIMEOUT
    while time.monotonic() < deadline:
        assert server.poll() is None, f"minigun exited early with {server.returncode}"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"minigun did not listen on port {port} in {BOOT_TIMEOUT}s")


@contextlib.contextmanager
def running_minigun(*args: str) -> Iterator[str]:
    """A real minigun on a free port of 127.0.0.1, stopped by its pid afterwards."""
    port = free_port()
    server = subprocess.Popen(
        [str(BIN / "minigun"), "--bind", f"127.0.0.1:{port}", *args],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_serving(port, server)
        yield f"127.0.0.1:{port}"
    finally:
        os.kill(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=BOOT_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.kill(server.pid, signal.SIGKILL)
            server.wait()


@pytest.fixture(scope="module")
def hello_server() -> Iterator[str]:
    """A real minigun serving the hello example; yields its ``host:port``."""
    with running_minigun("examples.hello:app") as address:
        yield address


def run_in_shell(command: str) -> str:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(
        ["bash", "-c", command],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,  # interleaved as a terminal shows them
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )
    return done.stdout


SESSIONS = all_sessions()


def test_the_book_claims_some_output() -> None:
    """Guard: if the fence pattern stopped matching, every check below would vanish."""
    assert len(SESSIONS) >= 1, "no ```console block found in book/"


@pytest.mark.parametrize("session", SESSIONS, ids=[s.where for s in SESSIONS])
def test_console_session_prints_what_the_book_says(
    session: Session, request: pytest.FixtureRequest
) -> None:
    command = session.command
    if BOOK_PORT in command:
        command = command.replace(BOOK_PORT, request.getfixturevalue("hello_server"))
    actual = run_in_shell(command)
    assert matches(session.expected, actual), (
        f"{session.where}: `$ {session.command}` printed\n{actual}\n"
        f"but the book says\n{session.expected}"
    )


# The commands the book gives without claiming their output, and their checks.

SHELL_FENCE = re.compile(
    r"^(`{3,})(?:shell|bash|sh)\s*\n(.*?)^\1\s*$", re.MULTILINE | re.DOTALL
)
ANY_FENCE = re.compile(r"^(`{3,}).*?\n.*?^\1\s*$", re.MULTILINE | re.DOTALL)
# A code span may wrap onto the next line, never across a blank one.
INLINE_CODE = re.compile(r"(?<![`\w])`((?:[^`\n]|\n(?!\s*\n))+)`(?!`)")
OPTION = re.compile(r"^--?[A-Za-z]")
KILL = re.compile(r"\bkill -([A-Z0-9]+)\b")
# Option spans in the prose that belong to another program, which the sentence names:
# the program's own --help must list them where it is here to ask; gunicorn and wrk
# are not (the sentence says the option is theirs).
OTHER_PROGRAMS_OPTIONS: dict[str, list[str] | str] = {
    "--spew": "gunicorn's, which minigun does not implement (the sentence says so)",
    "--timeout 2s": "wrk's (the benchmark's load generator)",
    "-W -n --keep-going": ["sphinx-build"],
    "--jobs": [sys.executable, "-m", "exercises.tool.grade"],
    "--threshold": [sys.executable, "-m", "exercises.tool.grade"],
}
# The student kit's commands (make exercise, make list) are the kit's Makefile's.
MAKEFILES = (ROOT, ROOT / "kit")


@dataclass(frozen=True)
class Command:
    """One shell command the book gives, and where."""

    where: str
    text: str


def line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def joined_lines(block: str) -> Iterator[tuple[int, str]]:
    """The block's commands: continuation lines joined, comments and blanks dropped."""
    pending, first = "", 0
    for number, line in enumerate(block.splitlines()):
        if not pending:
            first = number
        pending += line.rstrip("\\").rstrip() + " " if line.endswith("\\") else line
        if line.endswith("\\"):
            continue
        command = re.sub(r"(^|\s)#.*$", "", pending).strip()
        pending = ""
        if command:
            yield first, command


def fenced_commands(page: Path) -> Iterator[Command]:
    text, name = page.read_text(), str(page.relative_to(ROOT))
    for fence in SHELL_FENCE.finditer(text):
        first = line_of(text, fence.start(2))
        for offset, command in joined_lines(fence.group(2)):
            yield Command(f"{name}:{first + offset}", command)


def prose_of(text: str) -> str:
    """The page without its fenced blocks (same line numbers), for inline spans."""
    return ANY_FENCE.sub(lambda block: "\n" * block.group(0).count("\n"), text)


def inline_commands(page: Path) -> Iterator[Command]:
    text, name = page.read_text(), str(page.relative_to(ROOT))
    prose = prose_of(text)
    for span in INLINE_CODE.finditer(prose):
        words = span.group(1).split()
        if OPTION.match(words[0]) or (words[0] in CHECKS and len(words) > 1):
            where = f"{name}:{line_of(prose, span.start())}"
            yield Command(where, " ".join(words))


def diagram_kills(page: Path) -> Iterator[Command]:
    """``kill -SIGNAL`` written in any fenced block (diagrams too)."""
    text, name = page.read_text(), str(page.relative_to(ROOT))
    for fence in ANY_FENCE.finditer(text):
        for found in KILL.finditer(fence.group(0)):
            where = f"{name}:{line_of(text, fence.start() + found.start())}"
            yield Command(where, found.group(0))


def book_pages() -> list[Path]:
    """The chapters, the instructor's notes, and the exercises' tasks, which the
    chapters include (``{minigun-exercises}``)."""
    return sorted(BOOK.rglob("*.md")) + sorted(ROOT.glob("exercises/*/README.md"))


def all_commands() -> list[Command]:
    found = []
    for page in book_pages():
        found += [*fenced_commands(page), *inline_commands(page), *diagram_kills(page)]
    return found


def parse_with_minigun(args: list[str]) -> str | None:
    """minigun's own parser on ``args``, then each value set as the command sets it
    (the settings' validators): None if minigun accepts them, else its message."""
    from minigun.config import Config

    config = Config(prog="minigun")
    errors, ignored = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stderr(errors), contextlib.redirect_stdout(ignored):
            parsed = config.parser().parse_args(args)
    except SystemExit as stop:
        if stop.code in (0, None):  # --help and --version exit 0
            return None
        return errors.getvalue().strip().splitlines()[-1]
    try:
        for name, value in vars(parsed).items():
            if name != "args" and value is not None:
                config.set(name, value)
    except Exception as error:  # any setting's own error message
        return f"minigun rejects the value: {error}"
    return None


def master_signals() -> set[str]:
    """The names in the master's signal table, read from the real table."""
    from minigun.arbiter import Arbiter

    class AnyHandler:
        def __getattr__(self, name: str) -> None:
            return None

    table = Arbiter.signal_table(AnyHandler())  # type: ignore[arg-type]
    return {sig.name.removeprefix("SIG") for sig in table}


def check_kill(args: list[str]) -> str | None:
    if not args or not args[0].startswith("-"):
        return None  # `kill PID`: TERM, the default
    name = args[0][1:].removeprefix("SIG")
    if name in master_signals() | {"KILL"}:
        return None
    return f"the master has no {name} in its signal table: {sorted(master_signals())}"


def check_make(args: list[str]) -> str | None:
    errors = []
    for folder in MAKEFILES:
        done = subprocess.run(
            ["make", "-n", *args], cwd=folder, capture_output=True, text=True,
            timeout=COMMAND_TIMEOUT, check=False,
        )  # fmt: skip
        if done.returncode == 0:
            return None
        errors.append(f"{folder.relative_to(ROOT.parent)}: {done.stderr.strip()}")
    return "; ".join(errors)


def parse_with_sphinx_build(args: list[str]) -> str | None:
    """sphinx-build's own parser (Sphinx 8 hides --keep-going from its help)."""
    from sphinx.cmd.build import get_parser

    errors = io.StringIO()
    try:
        with contextlib.redirect_stderr(errors):
            get_parser().parse_args([*args, "book", "_build/html"])
    except SystemExit:
        return errors.getvalue().strip().splitlines()[-1]
    return None


def check_other_program_option(span: str) -> str | None:
    """An option the sentence gives to another program: that program accepts it."""
    program = OTHER_PROGRAMS_OPTIONS[span]
    if isinstance(program, str):
        return None  # not here to ask; the entry says whose it is
    if program == ["sphinx-build"]:
        return parse_with_sphinx_build(span.split())
    done = subprocess.run(
        [*program, "--help"], cwd=ROOT, capture_output=True, text=True,
        timeout=COMMAND_TIMEOUT, check=False,
    )  # fmt: skip
    missing = [flag for flag in span.split() if flag not in done.stdout]
    return f"{' '.join(program)} --help lists no {missing}" if missing else None


def check_python_module(args: list[str]) -> str | None:
    """``python -m MODULE args``; a bare ``-m`` is the switch named in a sentence."""
    if not args:
        return None
    if args[0] == "minigun":
        return parse_with_minigun(args[1:])
    return None if importlib.util.find_spec(args[0]) else f"no module {args[0]}"


def check_python(args: list[str]) -> str | None:
    if args[:1] == ["-m"]:
        return check_python_module(args[1:])
    script = ROOT / args[0]
    if not script.is_file():
        return f"no file {args[0]}"
    flags = [arg.split("=")[0] for arg in args[1:] if arg.startswith("--")]
    if not flags:
        return None
    done = subprocess.run(
        [sys.executable, str(script), *args[1:], "--help"], cwd=ROOT,
        capture_output=True, text=True, timeout=COMMAND_TIMEOUT, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        return done.stderr.strip()
    unknown = [flag for flag in flags if flag not in done.stdout]
    return f"{args[0]} --help lists no {unknown}" if unknown else None


def check_pip(args: list[str]) -> str | None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    wanted = [re.fullmatch(r"minigun\[(\w+)\]", arg) for arg in args[1:]]
    missing = [m[1] for m in wanted if m and m[1] not in extras]
    if args[:1] != ["install"] or not all(wanted):
        return "the book installs only minigun's own extras"
    return f"pyproject.toml has no extra {missing}" if missing else None


SYSTEMCTL_VERBS = {"start", "stop", "restart", "reload", "enable", "status"}


def check_systemctl(args: list[str]) -> str | None:
    verb, *rest = args
    units = [arg for arg in rest if not arg.startswith("-")]
    if verb not in SYSTEMCTL_VERBS:
        return f"systemctl {verb}: not a verb the book's units are used with"
    shipped = {p.name for p in (ROOT / "examples" / "systemd").iterdir()}
    unknown = [u for u in units if u not in shipped and f"{u}.service" not in shipped]
    return f"no unit {unknown} in examples/systemd" if unknown else None


def is_placeholder(value: str) -> bool:
    """``FILE``, ``PROFILE_STATS=...``: a value the prose leaves to the reader."""
    return value.isupper() or value.endswith("...")


def check_option_span(words: list[str]) -> str | None:
    """An option in a sentence: minigun must have it; a value given must be valid.
    Alone (``--user``), an option that takes a value is named, not used."""
    from minigun.config import Config

    flag = words[0].split("=")[0]
    known = Config(prog="minigun").parser()._option_string_actions
    if flag not in known:
        return f"minigun has no option {flag}"
    if len(words) == 1 or any(is_placeholder(value) for value in words[1:]):
        return None
    return parse_with_minigun(words)


CHECKS = {
    "minigun": parse_with_minigun,
    "kill": check_kill,
    "make": check_make,
    "python": check_python,
    ".venv/bin/python": check_python,
    "pip": check_pip,
    "systemctl": check_systemctl,
}


def check_command(command: Command) -> str | None:
    """None if the command is right, else what is wrong with it."""
    words = shlex.split(command.text.replace("$(", "").replace(")", ""))
    if words[0].startswith("-"):
        if command.text in OTHER_PROGRAMS_OPTIONS:
            return check_other_program_option(command.text)
        return check_option_span(words)
    check = CHECKS.get(words[0])
    if check is None:
        return f"no check for `{words[0]}` commands: add one to CHECKS"
    return check(words[1:])


COMMANDS = all_commands()


def test_the_book_gives_commands_of_every_kind() -> None:
    """Guard: if a pattern stopped matching, the checks below would vanish."""
    programs = {shlex.split(c.text)[0] for c in COMMANDS}
    assert {"minigun", "kill", "make", ".venv/bin/python", "--pid"} <= programs


@pytest.mark.parametrize("command", COMMANDS, ids=[c.where for c in COMMANDS])
def test_every_shell_command_in_the_book_is_right(command: Command) -> None:
    problem = check_command(command)
    assert problem is None, f"{command.where}: `{command.text}`: {problem}"


def test_a_wrong_flag_is_caught() -> None:
    """The check that would have caught the upgrade chapter's ``--pidfile``."""
    wrong = Command("upgrade.md", "--pidfile app.pid")
    assert check_command(wrong) == "minigun has no option --pidfile"
    assert "unrecognized arguments: --pidfile" in (
        check_command(Command("x", "minigun --pidfile app.pid app:app")) or ""
    )
    assert check_command(Command("x", "kill -USR3 1")) is not None
    assert check_command(Command("x", "make no-such-target")) is not None
    assert check_command(Command("x", "minigun --workers two app:app")) is not None


# svgbob draws some characters as strokes: an underscore is a line under the text and
# a hyphen in a word a dash, so `REQUEST_LINE` came out as "REQUEST" and "LINE" with
# a stroke between, and `kill -HUP` as "kill", a line, "HUP". Quoted text is drawn as
# text, so such words go in double quotes.
SVGBOB_FENCE = re.compile(r"^```\{svgbob\}\n(.*?)^```", re.MULTILINE | re.DOTALL)
STROKED_WORD = re.compile(
    r"[A-Za-z0-9]+(?:[_-][A-Za-z0-9]+)+|(?<=\s)-[A-Za-z][A-Za-z0-9]*"
)
QUOTED = re.compile(r'"[^"]*"')


def stroked_words(page: Path) -> Iterator[tuple[str, str]]:
    """Words of the page's diagrams that svgbob would draw partly as strokes."""
    text = page.read_text()
    for block in SVGBOB_FENCE.finditer(text):
        first = line_of(text, block.start(1))
        for number, line in enumerate(block.group(1).splitlines(), first):
            bare = QUOTED.sub(lambda quoted: " " * len(quoted.group(0)), line)
            for word in STROKED_WORD.findall(bare):
                yield f"{page.relative_to(ROOT)}:{number}", word


def test_diagrams_quote_the_words_svgbob_would_draw_as_strokes() -> None:
    found = [
        f"{where}: {word}"
        for page in book_pages()
        for where, word in stroked_words(page)
    ]
    assert not found, "quote these in their diagrams:\n" + "\n".join(found)


def svgbob_words() -> set[str]:
    """Every quoted word with an underscore or a hyphen in the book's diagrams: the
    rendered SVGs must show each intact (tests/test_book_zh.py)."""
    words = set()
    for page in book_pages():
        for block in SVGBOB_FENCE.finditer(page.read_text()):
            for quoted in QUOTED.findall(block.group(1)):
                words |= set(STROKED_WORD.findall(" " + quoted.strip('"')))
    return words


def folders_built_by(target: str) -> set[str]:
    """The ``_build`` folders ``make TARGET`` writes, read from its dry run."""
    done = subprocess.run(
        ["make", "-n", target], cwd=ROOT, capture_output=True, text=True,
        timeout=COMMAND_TIMEOUT, check=True,
    )  # fmt: skip
    commands = done.stdout.replace("\\\n", " ")  # recipe lines continued with \\
    return set(re.findall(r"sphinx-build .* _build/([\w-]+)$", commands, re.MULTILINE))


@pytest.mark.parametrize("target", ["html", "html-student", "html-instructor"])
def test_an_edition_is_built_with_the_edition_its_pages_link_to(target: str) -> None:
    """Every page links to the same page in the other language: the reader's `make
    html` once built English only, and that link led nowhere (a 404)."""
    sys.path.insert(0, str(BOOK / "_ext"))
    from minigun_i18n import other_edition_link

    built = folders_built_by(target)
    assert target in built, f"make {target} does not build _build/{target}: {built}"
    tag = target.removeprefix("html").removeprefix("-") or None
    for language in ("en", "zh_CN"):
        link = other_edition_link("index", language, tag)["url"]
        assert link.split("/")[1] in built, f"make {target}: {link} is not built"


def catalogue_chapters() -> set[str]:
    catalogue = tomllib.loads((ROOT / "exercises" / "catalogue.toml").read_text())
    return {entry["chapter"] for entry in catalogue.get("exercise", [])}


def test_every_chapter_with_exercises_shows_them() -> None:
    """The build fails on a chapter that asks for missing exercises; this is the
    other direction: a chapter the catalogue names must exist and list them."""
    chapters = catalogue_chapters()
    assert chapters, "the exercise catalogue names no chapter"
    for chapter in sorted(chapters):
        page = BOOK / f"{chapter}.md"
        assert page.exists(), f"the catalogue names chapter {chapter!r}: no {page}"
        assert "{minigun-exercises}" in page.read_text(), (
            f"{page} has exercises in the catalogue but no {{minigun-exercises}} block"
        )


def story_chapters() -> list[str]:
    """The chapters of the numbered toctree ("The story") in ``index.md``, in order."""
    index = (BOOK / "index.md").read_text()
    block = re.search(r"```\{toctree\}\n((?::[^\n]*\n)*)(.*?)```", index, re.DOTALL)
    assert block and ":numbered:" in block[1], "the story's toctree is not numbered"
    return [line.strip() for line in block[2].splitlines() if line.strip()]


def test_every_story_chapter_has_exercises_and_instructor_notes() -> None:
    chapters = story_chapters()
    assert len(chapters) == 18, f"the story lists {len(chapters)} chapters: {chapters}"
    named = catalogue_chapters()
    for chapter in chapters:
        assert chapter in named, f"chapter {chapter!r} has no exercise in the catalogue"
        page = (BOOK / f"{chapter}.md").read_text()
        include = f":::{{only}} instructor\n```{{include}} instructor/{chapter}.md\n```"
        assert page.rstrip().endswith(include + "\n:::"), (
            f"book/{chapter}.md does not end with its instructor notes block"
        )
        assert (BOOK / "instructor" / f"{chapter}.md").is_file(), (
            f"book/instructor/{chapter}.md is missing"
        )


def test_the_runner_numbers_chapters_as_the_table_of_contents_does() -> None:
    book = Book(BOOK)
    for number, chapter in enumerate(story_chapters(), 1):
        assert book.number(chapter) == number, (
            f"the runner calls {chapter!r} chapter {book.number(chapter)}; the "
            f"numbered table of contents makes it chapter {number}"
        )


def package_modules() -> list[str]:
    """Every module of the package, as ``minigun/app/base.py`` paths."""
    package = ROOT / "minigun"
    return sorted(str(p.relative_to(ROOT)) for p in package.rglob("*.py"))


def test_every_module_is_in_the_api_appendix_and_the_gunicorn_map() -> None:
    """A new module must be documented (autodoc) and placed beside gunicorn's."""
    api = (BOOK / "api.md").read_text()
    gunicorn_map = (BOOK / "gunicorn-map.md").read_text()
    for path in package_modules():
        dotted = path.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
        assert f"`{path}`" in gunicorn_map, f"{path} is missing from gunicorn-map.md"
        if not path.endswith("__main__.py"):
            assert f"automodule:: {dotted}\n" in api, f"{dotted} is missing from api.md"


def test_the_books_worker_class_serves_requests() -> None:
    """The worker class written in the custom-worker chapter serves real requests."""
    worker_class = "book._examples.blocking_worker.BlockingWorker"
    with running_minigun("--worker-class", worker_class, "examples.hello:app") as at:
        host, port = at.split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        connection.request("GET", "/")
        response = connection.getresponse()
        body = response.read()
        connection.close()
    assert response.status == 200
    assert body.startswith(b"Hello from minigun worker ")
