"""`--fix` and `--diff`: the fixes findings propose, applied in rounds until nothing changes.

A file is changed only when the fixed text reads as well as before (no new SCH finding); the
edits are the exact spans the reader recorded (fixes.py), so every other byte stays. A file that
is not UTF-8 is not fixed (its SCH001 says why), and no fix is offered in an NDJSON file or a
claim file (837P, FHIR): a record is one line of an export and a claim what a billing system
wrote, and those are the places to correct them.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from cptlint import formats
from cptlint import fixes as fixes_module
from cptlint.diagnostics import Diagnostic
from cptlint.engine import BOM, Source
from cptlint.runner import Runner
from cptlint.store import Run

MAX_FIX_ROUNDS = 10


@dataclass
class Editable:
    """A file being fixed: its text now, and what it was."""

    path: str
    kind: str | None
    original: str
    text: str
    bom: bool

    @classmethod
    def read(cls, source: Source) -> Editable | None:
        """The file as text, or None when it is not UTF-8 (its SCH001 says so; nothing is fixed)."""
        content = source.content()
        bom = content.startswith(BOM)
        try:
            text = content[len(BOM) if bom else 0 :].decode("utf-8")
        except UnicodeDecodeError:
            return None
        return cls(source.path, source.kind, text, text, bom)

    def source(self) -> Source:
        return Source(self.path, lambda: self.text.encode("utf-8", "surrogatepass"), self.kind)

    @property
    def changed(self) -> bool:
        return self.text != self.original

    def content(self) -> bytes:
        return (BOM if self.bom else b"") + self.text.encode("utf-8", "surrogatepass")


@dataclass
class Fixed:
    run: Run  # what remains
    files: dict[str, Editable]  # the files the fixes changed
    count: int
    # (path, format title) of the files with findings a fix would touch elsewhere, in a format
    # no fix is written into (NDJSON, the claim formats)
    not_offered: list[tuple[str, str]]


def fix(linter_for, sources, unsafe: bool = False) -> Fixed:
    """Apply fixes until nothing more changes (at most MAX_FIX_ROUNDS rounds). linter_for(path):
    the file's Linter, made with fixes on."""
    runner = Runner(linter_for)
    sources = list(sources)
    files: dict[str, Editable] = {}
    for source in sources:
        if linter_for(source.path).refusal(source) is not None:
            continue  # not read, so not fixed: the run below says why
        try:
            editable = Editable.read(source)
        except OSError:
            continue
        if editable is not None:
            files[source.path] = editable
    as_they_are = [s for s in sources if s.path not in files]
    count = 0
    not_offered: list[tuple[str, str]] = []
    for round_ in range(MAX_FIX_ROUNDS):
        results = runner.results([f.source() for f in files.values()], keep_documents=True)
        if round_ == 0:
            for r in results:  # a file read a line or a part at a time keeps no document
                written = formats.of_kind(r.doc.kind) if r.doc is not None else formats.of_file(r.path, files[r.path].text)
                if not written.writes_fixes and _would_fix(linter_for(r.path), r, unsafe):
                    not_offered.append((r.path, written.title))
        planned: dict[str, list] = {}
        fixed_here: dict[str, int] = defaultdict(int)
        for result in results:
            linter = linter_for(result.path)
            for diagnostic in result.diagnostics:
                if diagnostic.fix is None or not linter.may_fix(diagnostic.code, unsafe) or result.doc is None:
                    continue
                edits = fixes_module.edits_for(result.doc, diagnostic.fix)
                if edits and not fixes_module.overlaps(edits, planned.get(result.path, [])):
                    planned.setdefault(result.path, []).extend(edits)
                    fixed_here[result.path] += 1
        changed = False
        by_path = {r.path: r for r in results}
        for path, edits in planned.items():
            candidate = fixes_module.apply(files[path].text, edits)
            if _reads_as_well(linter_for(path), files[path], by_path[path], candidate):
                files[path].text = candidate
                count += fixed_here[path]
                changed = True
        if not changed:
            break
    run = runner.run([*as_they_are, *(f.source() for f in files.values())])
    return Fixed(run, {p: f for p, f in files.items() if f.changed}, count, not_offered)


def _would_fix(linter, result, unsafe: bool) -> bool:
    """Whether a file fixes are not written into has findings of rules whose fix is wanted."""
    return any(linter.may_fix(d.code, unsafe) for d in result.diagnostics)


def _reads_as_well(linter, file: Editable, now, candidate: str) -> bool:
    """No SCH finding the file does not have now (the round's own lint of it)."""

    def input_findings(found: list[Diagnostic]) -> Counter:
        return Counter(d.code for d in found if d.code.startswith("SCH"))

    after = linter.lint_file(file.path, candidate.encode("utf-8", "surrogatepass"), file.kind).diagnostics
    return not (input_findings(after) - input_findings(now.diagnostics))
