"""Every sentence the runner says to a student, in English and in Chinese.

The class is taught in both languages, so the runner speaks the student's: Chinese when
the locale is Chinese (``LANG=zh_CN.UTF-8``), English otherwise. The language is read
the way gettext reads it (``LANGUAGE``, ``LC_ALL``, ``LC_MESSAGES``, ``LANG``), each
time a message is made, so a test can switch it with the environment.

A table rather than gettext catalogs: the runner says about fifty short sentences, and
a reader sees each one beside its translation here, with nothing to compile. What the
tests themselves say (assertion messages, tracebacks) stays as written, in English.
"""

import os
from collections.abc import Mapping

ENGLISH, CHINESE = "en", "zh_CN"
LOCALE_VARIABLES = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")


def language(environ: Mapping[str, str] = os.environ) -> str:
    """``zh_CN`` when the first locale variable that is set names Chinese, else ``en``.

    ``LANGUAGE`` may list several languages (``zh_CN:en``); its first one counts.
    """
    for variable in LOCALE_VARIABLES:
        value = environ.get(variable, "")
        if value:
            first = value.split(":")[0]
            return CHINESE if first.lower().startswith("zh") else ENGLISH
    return ENGLISH


def is_chinese() -> bool:
    return language() == CHINESE


def say(key: str, **fields: object) -> str:
    """The message ``key`` in the student's language, with ``fields`` filled in."""
    english, chinese = MESSAGES[key]
    return (chinese if is_chinese() else english).format(**fields)


# key: (English, Chinese). Placeholders are str.format fields, the same in both.
MESSAGES: dict[str, tuple[str, str]] = {
    # make exercise
    "all_solved": (
        "All {total} exercises are solved. Well done!",
        "全部 {total} 道练习都已完成，干得好！",
    ),
    "passed": (
        "PASSED exercise {number} ({title}): all {passed} tests pass.",
        "通过 练习 {number}（{title}）：{passed} 个测试全部通过。",
    ),
    "next": (
        "Next: exercise {number}, {title} (`make exercise EX={id}`)",
        "下一道：练习 {number}，{title}（`make exercise EX={id}`）",
    ),
    "nothing_next": (
        "Next: nothing left after this one.",
        "下一道：这是最后一道了。",
    ),
    "heading": (
        "Exercise {number}/{total}: {title} ({chapter})",
        "练习 {number}/{total}：{title}（{chapter}）",
    ),
    "chapter_number": ("chapter {number}", "第 {number} 章"),
    "read": ("  read  {page}, {title!r}", "  阅读  {page}，《{title}》"),
    "task": ("  task  {path}, or {page}", "  任务  {path}，或 {page}"),
    "edit": (
        "  edit  {path}:{line}, in {function}",
        "  修改  {path}:{line}，在 {function} 中",
    ),
    "did_not_run": ("The tests did not run: {meaning}.", "测试没有运行：{meaning}。"),
    "could_not_start": (
        "ERROR: the tests could not start ({meaning}):",
        "错误：测试无法启动（{meaning}）：",
    ),
    "failed": (
        "FAILED {test} ({failing} of {count} fail)",
        "未通过 {test}（{count} 个测试中有 {failing} 个失败）",
    ),
    "next_hint": (
        "  (`make hint EX={id}` for the next one)",
        "  （`make hint EX={id}` 查看下一条提示）",
    ),
    "hole_error": (
        "exercise {id}: see {chapter}, {title}",
        "练习 {id}（{title}）的空缺还没有填：先读{chapter}",
    ),
    "progress": (
        "Progress [{bar}] {solved}/{total} solved",
        "进度 [{bar}] 已完成 {solved}/{total}",
    ),
    # make hint
    "no_hint_needed": (
        "Every exercise is solved: no hint needed.",
        "所有练习都已完成，不需要提示了。",
    ),
    "hint_heading": ("Exercise {number}: {title}", "练习 {number}：{title}"),
    "hint": ("Hint {number}/{total}: {text}", "提示 {number}/{total}：{text}"),
    "every_hint_shown": (
        "Every hint has been shown; here they are again:",
        "所有提示都已显示过，再列一遍：",
    ),
    "list_separator": (", ", "、"),
    "no_such_exercise": (
        "no exercise {asked!r}; known: {known}",
        "没有叫 {asked!r} 的练习；已有的练习：{known}",
    ),
    # make reset
    "reset_which": (
        "Say which exercise to reset: make reset EX=<id or number>",
        "请指明要重置哪道练习：make reset EX=<id 或编号>",
    ),
    "reset_question": (
        "Put {function} in {path} back as the kit shipped it, with its hole? "
        "Your version is kept in {backup}. [y/N] ",
        "要把 {path} 中的 {function} 恢复成练习包发布时的样子（留着空缺）吗？"
        "你的版本会保存在 {backup}。[y/N] ",
    ),
    "nothing_changed": ("Nothing was changed.", "什么都没有改动。"),
    "work_saved": ("Your work is saved in {backup}", "你的修改已保存在 {backup}"),
    "fresh_starter": (
        "Exercise {number} ({id}): {function} in {path} is back as shipped; "
        "the rest of the file is as you left it.",
        "练习 {number}（{id}）：{path} 中的 {function} 已恢复成发布时的样子；"
        "文件的其余部分保持不变。",
    ),
    "reset_already": (
        "Exercise {number} ({id}) is already as shipped: nothing to reset.",
        "练习 {number}（{id}）还是发布时的样子，不需要重置。",
    ),
    "reset_unparsable": (
        "{file} does not parse (line {line}), so its functions cannot be found: "
        "fix that line first.",
        "{file} 无法解析（第 {line} 行），找不到其中的函数：请先修好那一行。",
    ),
    "reset_no_function": (
        "{function} is no longer in {file}: rename it back first.",
        "{file} 中已经没有 {function} 了：请先把名字改回来。",
    ),
    "not_a_kit": (
        "{path} is missing: the student's commands run in the student kit, which "
        "`make student-kit` builds in the instructor's repository.",
        "缺少 {path}：学生命令要在学生练习包里运行，练习包由教师仓库中的 "
        "`make student-kit` 生成。",
    ),
    # make run
    "holes_open": (
        "{count} exercise(s) still open; `make run` serves once every hole is filled:",
        "还有 {count} 道练习没有完成；所有空缺都填好之后 `make run` 才能运行服务器：",
    ),
    "open_hole": (
        "  exercise {number} ({id}): {place}",
        "  练习 {number}（{id}）：{place}",
    ),
    "no_holes_open": ("Every hole is filled.", "所有空缺都已填好。"),
    # make list
    "chapter_short": ("ch. {number} {chapter}", "第 {number} 章《{chapter}》"),
    "not_started": ("not started", "未开始"),
    "solved": ("solved", "已完成"),
    "not_running": ("not running ({meaning})", "无法运行（{meaning}）"),
    "failing": (
        "failing ({passed} of {count} pass)",
        "未通过（{count} 个中通过 {passed} 个）",
    ),
    # make watch
    "file_changed": (
        "--- {time}: a file changed, running the tests again",
        "--- {time}：有文件改动，重新运行测试",
    ),
    "watching": (
        "Watching for saves (Ctrl-C to stop)...",
        "正在等待保存（按 Ctrl-C 停止）……",
    ),
    # what a pytest exit status means (results.EXIT_MEANINGS)
    "exit_0": ("all tests passed", "所有测试都通过了"),
    "exit_1": ("some tests failed", "有测试没有通过"),
    "exit_2": (
        "interrupted, usually by an error while collecting the tests",
        "被中断了，通常是收集测试时出了错",
    ),
    "exit_3": ("pytest's own internal error", "pytest 自身的内部错误"),
    "exit_4": (
        "a usage error, such as a missing package",
        "用法错误，比如缺少要测试的包",
    ),
    "exit_5": ("no tests were collected", "没有收集到任何测试"),
    "exit_timed_out": (
        "pytest did not finish within {seconds} s",
        "pytest 没有在 {seconds} 秒内结束",
    ),
    "exit_other": ("pytest exit code {code}", "pytest 退出码 {code}"),
}
