"""What a check reports: a finding, placed in a file by line, column and JSON Pointer."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import NamedTuple


class Severity(enum.IntEnum):
    INFO = 1
    WARNING = 2
    ERROR = 3

    @classmethod
    def parse(cls, text: str) -> "Severity":
        try:
            return cls[text.upper()]
        except KeyError:
            raise ValueError(f"unknown severity {text!r}: use error, warning or info") from None

    def __str__(self) -> str:
        return self.name.lower()


class Span(NamedTuple):
    """1-based start and end of a piece of source text; the end is exclusive. (A named tuple:
    a file has one for every key and value, and tuples are the cheapest to make.)"""

    line: int
    column: int
    end_line: int
    end_column: int


@dataclass(slots=True)
class Diagnostic:
    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    code: str
    severity: Severity
    message: str
    pointer: str
    encounter: str | None = None
    fixable: str | None = None  # "safe" or "unsafe" when the rule's fix applies here
    fix: object = field(default=None, repr=False, compare=False)  # a fixes.Fix, for --fix

    def sort_key(self):
        return (self.path, self.line, self.column, self.code, self.pointer, self.message)

    def __reduce__(self):
        # Findings cross processes (--jobs) and the disk store by the hundred thousand: made
        # again from their fields, they pickle in half the time the slots protocol takes.
        fields = (self.path, self.line, self.column, self.end_line, self.end_column, self.code)
        return Diagnostic, (*fields, self.severity, self.message, self.pointer, self.encounter, self.fixable, self.fix)

    def as_dict(self) -> dict:
        return {
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "code": self.code,
            "severity": str(self.severity),
            "message": self.message,
            "pointer": self.pointer,
            "encounter": self.encounter,
        }


def pointer_of(parts) -> str:
    """JSON Pointer (RFC 6901) for a sequence of keys and indexes."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)
