"""Fixes: what a rule proposes to change, and the text edits that make the change.

A rule describes a fix as operations on the document's values (set a scalar, remove a list item,
append one); this module turns them into edits of the source text at the exact spans the reader
recorded. Nothing else is rewritten, so every other byte stays as it was: comments, quoting,
key order, flow or block style, indentation, blank lines, in YAML and JSON alike. An operation
that would remove a comment, or that the text does not allow to place safely, makes the whole
fix inapplicable: the finding stays.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from cptlint.diagnostics import Span
from cptlint.loader import Document, LineMap


class SetScalar(NamedTuple):
    """Write text in place of the scalar at parts (its quotes, if any, are kept)."""

    parts: tuple
    text: str


class RemoveItem(NamedTuple):
    """Remove the list item at parts, with its separator or its line."""

    parts: tuple


class MoveItem(NamedTuple):
    """Move the list item at parts, as written, to the end of the list at to."""

    parts: tuple
    to: tuple


class ReplaceText(NamedTuple):
    """Write text in place of the source text at span (a comment, which no value holds)."""

    span: Span
    text: str


class Fix(NamedTuple):
    description: str
    operations: tuple


class Edit(NamedTuple):
    start: int
    end: int
    text: str


class Unfixable(Exception):
    """The text does not let this fix be made without touching something else."""


_COMMENT = re.compile(r"(^|\s)#")


def edits_for(doc: Document, fix: Fix) -> list[Edit] | None:
    """The text edits that make fix in doc, or None when it cannot be made safely."""
    text = Text(doc)
    try:
        edits = [edit for op in fix.operations for edit in text.edits(op)]
    except Unfixable:
        return None
    return None if any(overlaps([a], [b]) for i, a in enumerate(edits) for b in edits[i + 1 :]) else edits


def apply(text: str, edits: list[Edit]) -> str:
    for edit in sorted(edits, key=lambda e: e.start, reverse=True):
        text = text[: edit.start] + edit.text + text[edit.end :]
    return text


def overlaps(a: list[Edit], b: list[Edit]) -> bool:
    return any(x.start < y.end and y.start < x.end or x.start == y.start for x in a for y in b)


class Text:
    """Offsets in a document's text for the spans its reader recorded."""

    def __init__(self, doc: Document):
        self.doc = doc
        self.source = doc.text
        self.starts = LineMap(doc.text).starts

    def offset(self, line: int, column: int) -> int:
        return self.starts[line - 1] + column - 1

    def span(self, span: Span) -> tuple[int, int]:
        return self.offset(span.line, span.column), self.offset(span.end_line, span.end_column)

    def value(self, parts: tuple) -> tuple[int, int]:
        entry = self.doc.entry(parts)
        if entry is None:
            raise Unfixable(parts)
        return self.span(entry[1])

    def edits(self, op) -> list[Edit]:
        if isinstance(op, ReplaceText):
            return [Edit(*self.span(op.span), op.text)]
        if isinstance(op, SetScalar):
            return [self._set(op)]
        if isinstance(op, RemoveItem):
            return [self._remove(op.parts)]
        start, end = self.value(op.parts)
        return [self._remove(op.parts), self._append(op.to, self.source[start:end])]

    # -- operations

    def _set(self, op: SetScalar) -> Edit:
        start, end = self.value(op.parts)
        written = self.source[start:end]
        if written[:1] in "\"'":
            if len(written) < 2 or written[-1] != written[0]:
                raise Unfixable(op.parts)
            start, end = start + 1, end - 1
        elif any(c in written for c in "[]{}\n"):
            raise Unfixable(op.parts)
        return Edit(start, end, op.text)

    def _remove(self, parts: tuple) -> Edit:
        *list_parts, index = parts
        list_parts = tuple(list_parts)
        list_start, list_end = self.value(list_parts)
        start, end = self.value(parts)
        if self.source[list_start] == "-":  # a YAML block sequence: the item's whole lines
            line_start = self.source.rfind("\n", 0, start) + 1
            if self.source[line_start:start].strip() != "-":
                raise Unfixable(parts)
            above = self.source[self.source.rfind("\n", 0, max(line_start - 1, 0)) + 1 : line_start]
            if above.strip().startswith("#"):
                raise Unfixable("a comment above the item speaks of it")
            following = self.doc.entry(list_parts + (index + 1,))
            if following is not None:
                stop = self.source.rfind("\n", 0, self.span(following[1])[0]) + 1
            elif end > 0 and self.source[end - 1] == "\n":  # a block mapping ends where the next line starts
                stop = end
            else:
                newline = self.source.find("\n", end)
                stop = len(self.source) if newline < 0 else newline + 1
            while stop > line_start:  # blank lines after the item stay where they are
                previous = max(self.source.rfind("\n", line_start, stop - 1) + 1, line_start)
                if self.source[previous:stop].strip():
                    break
                stop = previous
            return self._cut(line_start, stop)
        # a flow sequence or a JSON array: the item and one separator
        following = self.doc.entry(list_parts + (index + 1,))
        if following is not None:
            return self._cut(start, self.span(following[1])[0])
        if index > 0:
            previous_end = self.value(list_parts + (index - 1,))[1]
            return self._cut(previous_end, end)
        return self._cut(start, end)

    def _append(self, parts: tuple, item: str) -> Edit:
        list_start, list_end = self.value(parts)
        count = 0
        while self.doc.entry(parts + (count,)) is not None:
            count += 1
        if count == 0:
            if self.source[list_start:list_end].replace(" ", "") != "[]":
                raise Unfixable(parts)
            return Edit(list_start + 1, list_end - 1, item)
        last_start, last_end = self.value(parts + (count - 1,))
        if self.source[list_start] == "-":
            line_start = self.source.rfind("\n", 0, last_start) + 1
            indent = self.source[line_start:last_start]
            if indent.strip() != "-" or "\n" in self.source[last_start:last_end]:
                raise Unfixable(parts)
            newline = self.source.find("\n", last_end)
            if newline < 0:
                return Edit(len(self.source), len(self.source), "\n" + indent + item)
            return Edit(newline + 1, newline + 1, indent + item + "\n")
        if "\n" in self.source[last_end:list_end]:  # items on lines of their own: one more such line
            line_start = self.source.rfind("\n", 0, last_start) + 1
            indent = self.source[line_start:last_start]
            if indent.strip():
                raise Unfixable(parts)
            return Edit(last_end, last_end, ",\n" + indent + item)
        return Edit(last_end, last_end, ", " + item)

    def _cut(self, start: int, end: int) -> Edit:
        if _COMMENT.search(self.source[start:end]):
            raise Unfixable("a comment would go")
        return Edit(start, end, "")
