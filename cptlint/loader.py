"""Read a file into plain values plus the source position of every key and value: what every
format shares (the document, its problems, positions), and the dispatch to the format that
reads it (cptlint/formats: one module a format)."""

from __future__ import annotations

import bisect
import gc
import re
from contextlib import contextmanager
from dataclasses import dataclass, field

from cptlint import formats
from cptlint.diagnostics import Span

MAX_DEPTH = 64
ALIAS_BUDGET = 100_000


@dataclass
class Problem:
    """A finding before it is placed: the reader's and the schema's, and the rules' (with the
    fix a rule proposes, if any)."""

    code: str
    message: str
    parts: tuple = ()
    span: Span | None = None
    key: bool = False
    fix: object = None
    severity: object = None  # a Severity the finding sets, else the rule's


@dataclass
class Document:
    """One file: its root value, where each piece of it is written, and what was wrong with it."""

    path: str
    kind: str  # a format's name (cptlint/formats), or "record": one line of an NDJSON file
    text: str
    root: object = None
    problems: list[Problem] = field(default_factory=list)
    index: object = None  # PositionIndex, or the format's own (formats.json.JsonIndex, ...)
    compacted: bool = False  # values and positions let go of; the text can give them again
    # a part of a file read a part at a time (formats.Format.parts): the number in the file of
    # its first encounter
    first: int | None = None

    def span(self, parts: tuple, key: bool = False) -> Span:
        """Where parts is written; a missing key or index falls back to its closest ancestor."""
        index = self.positions()
        found = index.closest(parts, key) if index is not None else None
        return found if found is not None else Span(1, 1, 1, 1)

    def entry(self, parts: tuple):
        """(key span, value span) of exactly parts, or None: what a fix edits."""
        index = self.positions()
        return index.exact(tuple(parts)) if index is not None else None

    def positions(self):
        """The position index; a compacted document reads its text again for it."""
        if self.index is None and self.compacted:
            self.index = load(self.path, self.text.encode("utf-8"), self.kind).index
        return self.index

    def compact(self) -> None:
        """Let go of values and positions once the file is checked: on a large run they are
        most of the memory, and the text gives them again if a later finding needs a place."""
        if self.is_readable and self.kind != formats.RECORD.name:
            self.root, self.index, self.compacted = None, None, True

    def __getstate__(self):
        # Values and positions stay behind (--jobs, the cache): the text gives them again.
        state = dict(self.__dict__)
        if self.is_readable and self.kind != formats.RECORD.name:
            state.update(root=None, index=None, compacted=True)
        return state

    @property
    def is_readable(self) -> bool:
        return not self.problems or not any(p.code == "SCH001" for p in self.problems)


# Line breaks as YAML 1.2 and JSON have them: LF, CRLF and CR. (libyaml, a YAML 1.1 reader, also
# breaks lines at U+0085, U+2028 and U+2029; its positions are mapped to these: formats/yaml.py, _remap.)
_NEWLINE = re.compile("\r\n|\r|\n")


def split_lines(text: str) -> list[str]:
    """text's lines, broken where positions count a new line (never at U+2028)."""
    return _NEWLINE.split(text)


class LineMap:
    """Turns character offsets into 1-based line and column."""

    def __init__(self, text: str, breaks: re.Pattern = _NEWLINE):
        # an NDJSON record is one line: nothing to find
        if "\n" in text or "\r" in text or breaks is not _NEWLINE:
            self.starts = [0, *[m.end() for m in breaks.finditer(text)]]
        else:
            self.starts = [0]

    def position(self, offset: int) -> tuple[int, int]:
        row = bisect.bisect_right(self.starts, offset) - 1
        return row + 1, offset - self.starts[row] + 1

    def offset(self, line: int, column: int) -> int:
        return self.starts[min(line, len(self.starts)) - 1] + column - 1


class PositionIndex:
    """Key and value spans by path (a tuple of keys and indexes)."""

    def __init__(self):
        self.entries: dict[tuple, tuple[Span | None, Span]] = {}

    def exact(self, parts: tuple):
        return self.entries.get(parts)

    def closest(self, parts: tuple, key: bool) -> Span | None:
        parts = tuple(parts)
        while True:
            entry = self.entries.get(parts)
            if entry is not None:
                key_span, value_span = entry
                return key_span if key and key_span is not None else value_span
            if not parts:
                return None
            parts, key = parts[:-1], False


# --------------------------------------------------------------------------------------- bytes


def decode(data: bytes) -> tuple[str | None, Problem | None]:
    """UTF-8 text without a byte order mark, or a problem placed at the first bad byte."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as err:
        good = data[: err.start].decode("utf-8")
        return None, not_utf8(data[err.start], *LineMap(good).position(len(good)))


def not_utf8(byte: int, line: int, column: int) -> Problem:
    """SCH001 at a byte that is not UTF-8, where it stands."""
    return Problem("SCH001", f"not UTF-8 text: byte 0x{byte:02x} cannot be read", span=Span(line, column, line, column + 1))


def load(path: str, data: bytes, kind: str | None = None) -> Document:
    """kind: a format's name (cptlint/formats); by default from the file name, and from the
    content where the name says none (a claim file named `.txt` that begins with ISA)."""
    text, problem = decode(data)
    found = formats.named(kind, path) if kind is not None or text is None else formats.of_file(path, text)
    doc = Document(path=path, kind=found.name, text=text or "")
    if problem is not None:
        doc.problems.append(problem)
        return doc
    with _collector_paused():
        found.read(doc)
    return doc


@contextmanager
def _collector_paused():
    """Reading builds trees without cycles, of many small objects: the cycle collector would
    walk them again and again for nothing (half the time of reading a 10,000-claim 837P), and
    again once reading is done. They are frozen out of its reach instead; reference counting
    still frees them (a cycle a read leaves, such as a caught exception's traceback, stays: a
    long-lived process can gc.unfreeze() now and then)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()
