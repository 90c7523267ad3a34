"""Fixture expectations: the `expect:` list of an encounter file, and how findings meet it.

An entry is a rule code (`UNT001`) or a code pinned to a place (`UNT001@/services/0/units`).
A file meets its expectations when every finding is expected and every expectation found:
pinned entries match code and JSON Pointer, plain ones match the code anywhere in the file.

A claim file (X12 837P, FHIR) has no place of its own for them: they sit in a sidecar file
beside it, its name and `.expect` (`visit.837.expect`), one entry a line, `#` for comments.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cptlint import formats, loader
from cptlint.diagnostics import Diagnostic, pointer_of


@dataclass(frozen=True)
class Expectation:
    code: str
    pointer: str | None = None

    @classmethod
    def parse(cls, text: str, prefix: tuple = ()) -> "Expectation":
        code, _, pointer = text.partition("@")
        if not pointer:
            return cls(code)
        return cls(code, pointer_of(prefix) + pointer)

    def __str__(self) -> str:
        return self.code if self.pointer is None else f"{self.code}@{self.pointer}"


_COMMENT = re.compile(r"^#\s*expect:\s*\[([^\]]*)\]\s*$", re.M)


SIDECAR = ".expect"


def sidecar_of(path: str) -> str:
    return path + SIDECAR


def read_sidecar(content: bytes) -> list[Expectation]:
    lines = (line.partition("#")[0].strip() for line in content.decode("utf-8", "replace").splitlines())
    return [Expectation.parse(line) for line in lines if line]


def read_expectations(path: str, content: bytes, sidecar: bytes | None = None) -> list[Expectation] | None:
    """The file's expectations, or None when it states none (no `expect:` key anywhere, or, for
    a claim file, no sidecar: sidecar is that file's content).

    A file that cannot be read (the SCH001 fixtures) states them in a comment line of its own,
    `# expect: [SCH001]`.
    """
    if not formats.of_head(path, content).states_expectations:  # a claim file: not read for them
        return None if sidecar is None else read_sidecar(sidecar)
    doc = loader.load(path, content)
    if not doc.is_readable:
        match = _COMMENT.search(content.decode("utf-8", "replace"))
        return [Expectation.parse(e.strip()) for e in match.group(1).split(",") if e.strip()] if match else None
    roots = [((i,), record) for i, record in enumerate(doc.root)] if formats.of_kind(doc.kind).streamed else [((), doc.root)]
    found: list[Expectation] | None = None
    for prefix, root in roots:
        if isinstance(root, dict) and isinstance(root.get("expect"), list):
            found = (found or []) + [Expectation.parse(str(entry), prefix) for entry in root["expect"]]
    return found


def compare(expected: list[Expectation], diagnostics: list[Diagnostic]):
    """(missing expectations, unexpected findings)."""
    left = list(diagnostics)
    missing = []
    for expectation in sorted(expected, key=lambda e: e.pointer is None):  # pinned ones first
        match = next(
            (d for d in left if d.code == expectation.code and expectation.pointer in (None, d.pointer)), None
        )
        if match is None:
            missing.append(expectation)
        else:
            left.remove(match)
    return missing, left
