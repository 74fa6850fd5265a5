"""The similarity report of ``make grade``: near-identical answers between submissions.

An answer is the code a student wrote in place of an exercise's hole: the body of the
function that holds the region, less what the starter already had around the
``raise`` (the code before and after the hole is the same for everyone). It is
compared as tokens of its normalised form: parsed and unparsed (layout, comments and
quotes gone), the docstring dropped, strings folded to ``STR``, and the function's
local names (parameters, assigned names, loop and ``except`` targets) renamed
``v1, v2...`` by first use, so renaming variables hides nothing; attribute names and
globals stay, since the chapter dictates them.

Every pair of submissions is compared, exercise by exercise, with
:class:`difflib.SequenceMatcher`; pairs at or above the threshold are flagged, and
so are answers that match the reference. ``alike`` counts the submissions whose answer
matches either side: an answer most of the class wrote is the natural one, a pair
alone with it is worth a look. Standard library only.
"""

import ast
import csv
import difflib
import io
import tokenize
from collections.abc import Iterable
from dataclasses import dataclass, replace
from itertools import combinations
from pathlib import Path
from typing import TYPE_CHECKING

from .catalogue import Exercise
from .layout import Layout
from .regions import (
    Function,
    cut,
    enclosing_function,
    functions,
    scan_package,
    strip_markers,
)

if TYPE_CHECKING:  # grade imports this module: only the type checker needs the name
    from .grade import Submission

REFERENCE = "(reference)"
MIN_TOKENS = 6  # shorter answers (``pass``, ``return x``) say nothing about copying
RAISE = ("raise", "NotImplementedError", "(", "STR", ")")
SKIPPED = {
    tokenize.COMMENT,
    tokenize.NL,
    tokenize.ENCODING,
    tokenize.ENDMARKER,
}
DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
STRUCTURE = {tokenize.NEWLINE: "\\n", tokenize.INDENT: "{", tokenize.DEDENT: "}"}


@dataclass(frozen=True)
class Shape:
    """Where every answer to one exercise sits: the function, the starter around it."""

    exercise: Exercise
    function: str
    fixed: frozenset[str]
    before: tuple[str, ...]
    after: tuple[str, ...]
    reference: tuple[str, ...]


@dataclass(frozen=True)
class Match:
    """A flagged pair: two students' answers, or one answer and the reference."""

    exercise: str
    student_a: str
    student_b: str
    similarity: float
    tokens: int
    alike: int


def find_function(text: str, qualname: str) -> Function | None:
    """The function ``qualname`` of a module's text; None if absent or unparsable."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return None
    found = [node for name, node in functions(tree) if name == qualname]
    return found[0] if found else None


@dataclass(frozen=True)
class Body:
    """A function body as tokens (strings folded, names kept) and the names it binds."""

    tokens: tuple[str, ...]
    bound: frozenset[str]


def body_of(text: str, qualname: str) -> Body | None:
    """The body of ``qualname`` in ``text``, its docstring dropped; None if absent."""
    function = find_function(text, qualname)
    if function is None:
        return None
    statements = list(function.body)
    if statements and is_docstring(statements[0]):
        statements = statements[1:]
    source = "\n".join(ast.unparse(statement) for statement in statements) + "\n"
    return Body(tuple(tokens_of(source)), frozenset(bound_names(function)))


def is_docstring(statement: ast.stmt) -> bool:
    return (
        isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Constant)
        and isinstance(statement.value.value, str)
    )


def bound_names(function: Function) -> set[str]:
    """The names the function binds itself: parameters, targets, inner definitions."""
    names = {node.arg for node in ast.walk(function.args) if isinstance(node, ast.arg)}
    for node in ast.walk(function):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            names.add(node.id)
        elif isinstance(node, (*DEFINITIONS, ast.ExceptHandler)) and node.name:
            names.add(node.name)
    names.discard(function.name)
    return names


def every_name(function: Function) -> frozenset[str]:
    """Every name in the starter's function: the code around the hole dictates them."""
    used = {node.id for node in ast.walk(function) if isinstance(node, ast.Name)}
    return frozenset(used | bound_names(function))


def tokens_of(source: str) -> list[str]:
    """The tokens of unparsed code: layout as ``\\n { }``, every string as ``STR``."""
    tokens = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in SKIPPED:
            text = STRUCTURE.get(token.type, token.string)
            tokens.append("STR" if token.type == tokenize.STRING else text)
    return tokens


def fold(tokens: tuple[str, ...], free: frozenset[str]) -> tuple[str, ...]:
    """The answer with the names its author chose freely numbered ``v1, v2...``."""
    numbered: dict[str, str] = {}
    folded = []
    previous = ""
    for token in tokens:
        if token in free and previous != ".":
            folded.append(numbered.setdefault(token, f"v{len(numbered) + 1}"))
        else:
            folded.append(token)
        previous = token
    return tuple(folded)


def split_at_raise(
    tokens: tuple[str, ...],
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The starter's tokens before and after its ``raise NotImplementedError(...)``."""
    for index in range(len(tokens) - len(RAISE) + 1):
        if tokens[index : index + len(RAISE)] == RAISE:
            return tokens[:index], tokens[index + len(RAISE) :]
    return tokens, ()


def answer_of(
    tokens: tuple[str, ...], before: tuple[str, ...], after: tuple[str, ...]
) -> tuple[str, ...]:
    """What is left of a body once the starter's code before and after is taken off."""
    start = 0
    while start < min(len(before), len(tokens)) and tokens[start] == before[start]:
        start += 1
    end = len(tokens)
    taken = 0
    while taken < len(after) and end > start and tokens[end - 1] == after[-1 - taken]:
        end -= 1
        taken += 1
    return tokens[start:end]


def shapes(layout: Layout, exercises: list[Exercise]) -> list[Shape]:
    """Each exercise's function, the starter around its hole, the reference answer."""
    scan = scan_package(layout.package)
    found = []
    for exercise in exercises:
        regions = scan.named(exercise.region)
        if len(regions) == 1:
            marked = regions[0].path.read_text(encoding="utf-8")
            qualname = enclosing_function(ast.parse(marked), regions[0]) or ""
            shape = shape_of(exercise, qualname, marked)
            found += [shape] if shape else []
    return found


def shape_of(exercise: Exercise, qualname: str, marked: str) -> Shape | None:
    """The shape of one exercise, from the reference file with its markers."""
    starter_text = cut(marked, exercise.region, "x")
    starter_function = find_function(starter_text, qualname)
    starter = body_of(starter_text, qualname)
    reference = body_of(strip_markers(marked), qualname)
    if starter_function is None or starter is None or reference is None:
        return None
    before, after = split_at_raise(starter.tokens)
    shape = Shape(exercise, qualname, every_name(starter_function), before, after, ())
    return replace(shape, reference=answer(shape, reference) or ())


def answer(shape: Shape, body: Body) -> tuple[str, ...] | None:
    """The answer in a body, its free names folded; None while the hole is open."""
    tokens = answer_of(body.tokens, shape.before, shape.after)
    if tokens[: len(RAISE)] == RAISE:
        return None
    return fold(tokens, body.bound - shape.fixed)


def student_answer(package: Path, shape: Shape) -> tuple[str, ...] | None:
    """A student's answer; None when the function is gone, unreadable or not tried."""
    path = package.parent / shape.exercise.file
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    body = body_of(text, shape.function)
    return None if body is None else answer(shape, body)


def compare_class(
    layout: Layout,
    exercises: list[Exercise],
    submissions: list["Submission"],
    packages: list[Path],
    threshold: float,
) -> list[Match]:
    """Every flagged pair of answers, exercise by exercise, in catalogue order."""
    matches: list[Match] = []
    for shape in shapes(layout, exercises):
        answers = {
            submission.student: answer
            for submission, package in zip(submissions, packages, strict=True)
            if (answer := student_answer(package, shape)) is not None
            and len(answer) >= MIN_TOKENS
        }
        matches += compare_answers(
            shape.exercise.id, answers, shape.reference, threshold
        )
    return matches


def compare_answers(
    exercise: str,
    answers: dict[str, tuple[str, ...]],
    reference: tuple[str, ...],
    threshold: float,
) -> list[Match]:
    """Pairs of students at or above ``threshold``, then matches with the reference.

    Two answers that are both the reference's are listed once each, as matches with
    the reference, and not as a pair: what they share is the reference, not a copy.
    """
    close: dict[frozenset[str], float] = {}
    for a, b in combinations(sorted(answers), 2):
        ratio = similarity(answers[a], answers[b], threshold)
        if ratio is not None:
            close[frozenset((a, b))] = ratio
    like_reference = {
        student: ratio
        for student, answer in sorted(answers.items())
        if (ratio := similarity(answer, reference, threshold)) is not None
    }

    def alike(*students: str) -> int:
        return len(
            {s for pair in close for s in pair if pair & set(students)} | set(students)
        )

    found = [
        Match(exercise, a, b, round(ratio, 3), len(answers[a]), alike(a, b))
        for pair, ratio in close.items()
        if not pair <= like_reference.keys()
        for a, b in [sorted(pair)]
    ]
    found += [
        Match(exercise, s, REFERENCE, round(r, 3), len(answers[s]), alike(s))
        for s, r in like_reference.items()
    ]
    return sorted(
        found, key=lambda m: (m.student_b == REFERENCE, m.alike, -m.similarity)
    )


def similarity(
    a: tuple[str, ...], b: tuple[str, ...], threshold: float
) -> float | None:
    """The ratio of two token sequences when it reaches ``threshold``, else None."""
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    if matcher.real_quick_ratio() < threshold or matcher.quick_ratio() < threshold:
        return None
    ratio = matcher.ratio()
    return ratio if ratio >= threshold else None


def write_similarity(folder: Path, matches: list[Match], threshold: float) -> None:
    """``similarity.csv`` (one row per flagged pair) and ``similarity.md`` to read."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "similarity.csv").open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(
            ["exercise", "student", "other", "similarity", "tokens", "alike"]
        )
        writer.writerows(
            [
                m.exercise,
                m.student_a,
                m.student_b,
                f"{m.similarity:.3f}",
                m.tokens,
                m.alike,
            ]
            for m in matches
        )
    (folder / "similarity.md").write_text(report(matches, threshold), encoding="utf-8")


def report(matches: list[Match], threshold: float) -> str:
    """The report a teacher reads: pairs of students first, then each exercise."""
    pairs = [m for m in matches if m.student_b != REFERENCE]
    by_students: dict[tuple[str, str], list[str]] = {}
    for match in pairs:
        by_students.setdefault((match.student_a, match.student_b), []).append(
            match.exercise
        )
    lines = [
        "# Similarity of the answers",
        "",
        f"Answers compared as normalised tokens; flagged at {threshold:.2f} or above. "
        "`alike`: how many submissions wrote an answer this close (the pair included); "
        "an answer the whole class wrote is the natural one.",
        "",
        "## Pairs of students, by how many exercises they share",
        "",
        *table(
            ["students", "exercises"],
            (
                [f"{a}, {b}", f"{len(ids)}: {', '.join(ids)}"]
                for (a, b), ids in sorted(by_students.items(), key=lambda i: -len(i[1]))
            ),
        ),
        "",
        "## Near-identical answers, by exercise",
        "",
        *table(
            ["exercise", "students", "similarity", "tokens", "alike"],
            (
                [
                    m.exercise,
                    f"{m.student_a}, {m.student_b}",
                    f"{m.similarity:.2f}",
                    str(m.tokens),
                    str(m.alike),
                ]
                for m in pairs
            ),
        ),
        "",
        "## Answers that match the reference",
        "",
        *table(
            ["exercise", "student", "similarity", "tokens", "alike"],
            (
                [
                    m.exercise,
                    m.student_a,
                    f"{m.similarity:.2f}",
                    str(m.tokens),
                    str(m.alike),
                ]
                for m in matches
                if m.student_b == REFERENCE
            ),
        ),
    ]
    return "\n".join(lines) + "\n"


def table(header: list[str], rows: Iterable[list[str]]) -> list[str]:
    """A Markdown table, or a line that says there is nothing to show."""
    body = [f"| {' | '.join(row)} |" for row in rows]
    if not body:
        return ["None."]
    return [f"| {' | '.join(header)} |", f"|{'---|' * len(header)}", *body]
