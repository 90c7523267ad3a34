"""NDJSON / JSON Lines: an encounter a line. The engine streams a file a line at a time (each
line a document of its own, kind "record"); read() serves callers that want the values whole."""

from __future__ import annotations

from cptlint.diagnostics import Span
from cptlint.formats import RECORD
from cptlint.formats.json import JsonIndex, past_space, parse_text
from cptlint.loader import Document


def read(doc: Document) -> None:
    """NDJSON / JSON Lines read whole: each line a record of its own (load_record), the pointer
    of the k-th record /k. The engine streams instead; this serves callers that want the values."""
    records: list = []
    indexes: dict[int, _Record] = {}
    for number, line in enumerate(doc.text.split("\n"), start=1):
        if not line.strip():
            continue
        one = load_record(doc.path, line, number, len(records))
        indexes[len(records)] = one.index
        records.append(one.root)
        doc.problems.extend(one.problems)
    doc.root = records
    doc.index = _Records(indexes)


def load_record(path: str, text: str, number: int, record: int) -> Document:
    """One NDJSON line as a document of its own: placed at its line number, its pointers under
    /record. Streaming a long file a line at a time keeps its memory flat."""
    value, index, problems = parse_text(text, line_offset=number - 1)
    for problem in problems:
        problem.parts = (record,) + problem.parts
    doc = Document(path, RECORD.name, text, value, problems)  # by position: made for every record
    doc.index = _Record(record, text, number, index)
    return doc


def record_document(path: str, text: str, number: int, record: int, root_keys: frozenset = frozenset()) -> Document:
    """A clean NDJSON line read elsewhere (records.py): its text, to place a finding by.
    root_keys: the keys only its root object can hold (see _Record.closest)."""
    doc = Document(path, RECORD.name, text)
    doc.index = _Record(record, text, number, root_keys=root_keys)
    return doc


class _Record:
    """Positions of one NDJSON record, addressed with its /record prefix; its text is indexed
    when a finding first asks (most records have none)."""

    def __init__(self, record: int, text: str, number: int, inner=None, root_keys: frozenset = frozenset()):
        self.record, self.text, self.number, self._inner = record, text, number, inner
        self.root_keys = root_keys

    @property
    def inner(self):
        if self._inner is None:
            self._inner = JsonIndex(self.text, self.number - 1)
        return self._inner

    @property
    def whole(self) -> Span:
        return Span(self.number, 1, self.number, len(self.text) + 1)

    def excerpt(self, span: Span) -> str:
        return self.text

    def closest(self, parts: tuple, key: bool) -> Span | None:
        if not parts or parts[0] != self.record:
            return self.whole
        if len(parts) > 1 and parts[1] in self.root_keys:
            origin = self._root_member(parts[1])
            if origin is not None:
                return self.inner.closest(parts[2:], key, origin)
        return self.inner.closest(parts[1:], key) or self.whole

    def _root_member(self, name: str) -> tuple[int, tuple[int, int]] | None:
        """(the value's offset, the key's range) of a key only the root object can hold, found by
        searching the text instead of walking the members before it. Given only for a record the
        reader vouched for (records.py): there, every `":` ends a key, no key is repeated, and a
        key is one of its object's fields. None for a key written with escapes."""
        start = self.text.find(f'"{name}":')
        if start < 0:
            return None
        end = start + len(name) + 2
        return past_space(self.text, end + 1), (start, end)

    def exact(self, parts: tuple):
        return self.inner.exact(parts[1:]) if parts and parts[0] == self.record else None


class _Records:
    """Positions of a whole NDJSON file: each record's own index, chosen by the first part."""

    def __init__(self, records: dict[int, _Record]):
        self.records = records

    def closest(self, parts: tuple, key: bool) -> Span | None:
        record = self.records.get(parts[0]) if parts else None
        return Span(1, 1, 1, 1) if record is None else record.closest(parts, key)

    def exact(self, parts: tuple):
        record = self.records.get(parts[0]) if parts else None
        return None if record is None else record.exact(parts)
