"""Inline suppressions, `# cptlint: disable=CODE[,CODE]` at the end of a YAML line and
`# cptlint: disable-file` on a line of its own, and the checks made of them: a code that names
no rule (SUP001) and a suppression that silenced nothing (SUP002, as ruff's RUF100), with a
fix that takes it away. The `expect:` lists of fixtures are checked for unknown codes too."""

from __future__ import annotations

import re
from typing import NamedTuple

from cptlint.diagnostics import Span
from cptlint.fixes import Fix, ReplaceText

_DISABLE_LINE = re.compile(r"(\s*)#\s*cptlint:\s*disable=([A-Za-z0-9]+(?:\s*,\s*[A-Za-z0-9]+)*)\s*$")
_DISABLE_FILE = re.compile(r"^\s*#\s*cptlint:\s*disable-file\s*$")
_CODE = re.compile(r"[A-Za-z0-9]+")


def directive_on(line: str) -> bool:
    """Whether the line ends in a `# cptlint: disable=` comment."""
    return _DISABLE_LINE.search(line) is not None


class Directive(NamedTuple):
    """One `disable=` comment: its line, the columns of the space before it, of its `#` and of
    its end, and its codes with the column each starts at (1-based)."""

    line: int
    before: int
    start: int
    end: int
    codes: tuple[tuple[str, int], ...]


class Suppressions(NamedTuple):
    whole_file: bool
    by_line: dict[int, Directive]

    @classmethod
    def parse(cls, text: str) -> Suppressions:
        if "cptlint:" not in text:
            return NO_SUPPRESSIONS
        whole_file, by_line = False, {}
        from cptlint.loader import split_lines

        for number, line in enumerate(split_lines(text), start=1):
            if "cptlint:" not in line:
                continue
            if _DISABLE_FILE.match(line):
                whole_file = True
            match = _DISABLE_LINE.search(line)
            if match:
                listed = match.group(2)
                codes = tuple((m.group().upper(), match.start(2) + m.start() + 1) for m in _CODE.finditer(listed))
                by_line[number] = Directive(number, match.start(1) + 1, match.end(1) + 1, len(line.rstrip()) + 1, codes)
        return cls(whole_file, by_line)

    def hiding(self, line: int, code: str) -> str | None:
        """The selector on line that silences code, if one does."""
        from cptlint.config import matches

        directive = self.by_line.get(line)
        if directive is None:
            return None
        return next((selector for selector, _ in directive.codes if matches(code, selector)), None)


NO_SUPPRESSIONS = Suppressions(False, {})  # shared by the many files without a directive; never changed


def _names_a_rule(selector: str) -> bool:
    from cptlint.checks import REGISTRY

    return selector == "ALL" or any(code.startswith(selector) for code in REGISTRY)


def directive_problems(suppressions: Suppressions, used: set, unused_too: bool) -> list:
    """SUP001 for each code of a directive that names no rule; SUP002 (with its fix) for each
    that silenced nothing, when unused_too (a file whose days may be judged again with other
    files' cannot know yet)."""
    from cptlint.loader import Problem

    problems = []
    for line, directive in suppressions.by_line.items():
        unused = []
        for selector, column in directive.codes:
            span = Span(line, column, line, column + len(selector))
            if not _names_a_rule(selector):
                problems.append(Problem("SUP001", f'"{selector}" in a cptlint: disable comment is not a rule code', span=span))
            elif (line, selector) not in used:
                unused.append((selector, span))
        if not unused_too or not unused:
            continue
        kept = [selector for selector, _ in directive.codes if selector not in {s for s, _ in unused}]
        if kept:
            fix = Fix(f"remove {', '.join(s for s, _ in unused)} from the comment",
                      (ReplaceText(Span(line, directive.start, line, directive.end), "# cptlint: disable=" + ",".join(kept)),))
        else:
            fix = Fix("remove the comment", (ReplaceText(Span(line, directive.before, line, directive.end), ""),))
        for selector, span in unused:
            problems.append(Problem("SUP002", f"cptlint: disable={selector} silences nothing on this line", span=span, fix=fix))
    return problems


def expectation_problems(root, parts: tuple) -> list:
    """SUP001 for each `expect:` entry of the mapping at parts whose code is not a rule code."""
    from cptlint.checks import REGISTRY
    from cptlint.loader import Problem

    listed = root.get("expect") if isinstance(root, dict) else None
    if not isinstance(listed, list):
        return []
    problems = []
    for index, entry in enumerate(listed):
        code = entry.partition("@")[0] if isinstance(entry, str) else None
        if code is not None and code not in REGISTRY:
            problems.append(Problem("SUP001", f'"{code}" in expect: is not a rule code', parts + ("expect", index)))
    return problems
