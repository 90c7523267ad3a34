"""Read an encounter file into plain values plus the source position of every key and value.

YAML is read from parser events (libyaml through ruamel.yaml.clib when present), never through
a constructor: scalars keep the text that was written, so `code: 97140` or `npi: 0123456789` are
not turned into numbers behind the user's back (schema.py decides, field by field, what a plain
scalar means). Building the tree from events also keeps hostile input bounded: nesting depth and
alias expansion are counted as the events arrive, and nothing is walked recursively.

JSON is read by the standard library; positions are found only when a finding needs one, by a
small scanner over the text (see JsonIndex).
"""

from __future__ import annotations

import bisect
import gc
import json
import re
from contextlib import contextmanager
from dataclasses import dataclass, field

from cptlint import formats
from cptlint.diagnostics import Span

MAX_DEPTH = 64
ALIAS_BUDGET = 100_000


class Plain(str):
    """A plain (unquoted) YAML scalar: text whose type the schema decides."""

    __slots__ = ()


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
    index: "PositionIndex | JsonIndex | None" = None
    compacted: bool = False  # values and positions let go of; the text can give them again

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
        if self.is_readable and self.kind != "record":
            self.root, self.index, self.compacted = None, None, True

    def __getstate__(self):
        # Values and positions stay behind (--jobs, the cache): the text gives them again.
        state = dict(self.__dict__)
        if self.is_readable and self.kind != "record":
            state.update(root=None, index=None, compacted=True)
        return state

    @property
    def is_readable(self) -> bool:
        return not self.problems or not any(p.code == "SCH001" for p in self.problems)


# Line breaks as YAML 1.2 and JSON have them: LF, CRLF and CR. (libyaml, a YAML 1.1 reader, also
# breaks lines at U+0085, U+2028 and U+2029; its positions are mapped to these: _remap.)
_NEWLINE = re.compile("\r\n|\r|\n")
_YAML11_NEWLINE = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


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
        line, column = LineMap(good).position(len(good))
        message = f"not UTF-8 text: byte 0x{data[err.start]:02x} cannot be read"
        return None, Problem("SCH001", message, span=Span(line, column, line, column + 1))


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
    still frees them."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


def kind_of(path: str) -> str:
    return formats.of_path(path).name


def sniff_kind(text: str) -> str:
    """For stdin without a file name: the format its content says, else YAML."""
    return formats.sniffed(text).name


# ---------------------------------------------------------------------------------------- YAML

_CORE_TAGS = {
    "tag:yaml.org,2002:str": "str",
    "tag:yaml.org,2002:int": "int",
    "tag:yaml.org,2002:float": "float",
    "tag:yaml.org,2002:bool": "bool",
    "tag:yaml.org,2002:null": "null",
    "tag:yaml.org,2002:map": "map",
    "tag:yaml.org,2002:seq": "seq",
    "!": "str",
}


class _Halt(Exception):
    def __init__(self, message: str, span: Span):
        super().__init__(message)
        self.problem = Problem("SCH001", message, span=span)


class _Open:
    """A mapping or sequence whose end event has not come yet."""

    __slots__ = ("value", "parts", "span", "anchor", "size", "height", "key", "key_span", "merges")

    def __init__(self, value, parts, span, anchor):
        self.value = value
        self.span = span
        self.parts = parts  # None: not indexed (inside a duplicate's value or a merge source)
        self.anchor = anchor
        self.size = 1
        self.height = 1  # levels of nesting, itself included, aliases expanded
        self.key = None  # the pending key of a mapping, until its value arrives
        self.key_span = None
        self.merges = []


def _span(event) -> Span:
    s, e = event.start_mark, event.end_mark
    return Span(s.line + 1, s.column + 1, e.line + 1, e.column + 1)


class _YamlBuilder:
    """Builds plain values and their positions from parser events, iteratively."""

    def __init__(self, doc: Document):
        self.doc = doc
        self.index = PositionIndex()
        self.anchors: dict[str, tuple[object, int]] = {}
        self.stack: list[_Open] = []
        self.expanded = 0
        self.documents = 0

    def run(self, events) -> None:
        # By class name: the C parser keeps the event classes of its first import, which a
        # re-imported ruamel.yaml.events (pytester's in-process runs do that) would not match.
        handlers = {
            "ScalarEvent": self.scalar,
            "MappingStartEvent": self.start,
            "SequenceStartEvent": self.start,
            "MappingEndEvent": self.end,
            "SequenceEndEvent": self.end,
            "AliasEvent": self.alias,
            "DocumentStartEvent": self.document,
        }
        for event in events:
            handler = handlers.get(type(event).__name__)
            if handler is not None:
                handler(event)

    # -- events

    def document(self, event) -> None:
        self.documents += 1
        if self.documents > 1:
            raise _Halt("more than one YAML document in the file: list them under `encounters:`", _span(event))

    def scalar(self, event) -> None:
        value = _scalar_value(event)
        if event.anchor:
            self.anchors[event.anchor] = (value, 1, 0)
        self.attach(value, _span(event), 1)

    def start(self, event) -> None:
        span = _span(event)
        if len(self.stack) >= MAX_DEPTH:
            raise _Halt(f"nested deeper than {MAX_DEPTH} levels", span)
        is_map = type(event).__name__ == "MappingStartEvent"
        _check_tag(event, "map" if is_map else "seq", span)
        container = {} if is_map else []
        parts = self.attach(container, span, 0)
        self.stack.append(_Open(container, parts, span, event.anchor))

    def end(self, event) -> None:
        node = self.stack.pop()
        if isinstance(node.value, dict):
            if node.key is not None:  # pragma: no cover - the parser never ends a map mid-entry
                raise _Halt("a mapping key has no value", _span(event))
            self.merge(node)
        if node.parts is not None:
            end = event.end_mark
            start = node.span
            key_span = self.index.entries[node.parts][0]
            self.index.entries[node.parts] = (key_span, Span(start.line, start.column, end.line + 1, end.column + 1))
        if node.anchor:
            self.anchors[node.anchor] = (node.value, node.size, node.height)
        if self.stack:
            self.stack[-1].size += node.size
            self.stack[-1].height = max(self.stack[-1].height, node.height + 1)

    def alias(self, event) -> None:
        span = _span(event)
        if event.anchor not in self.anchors:
            raise _Halt(f'alias "*{event.anchor}" refers to no anchor before it', span)
        value, size, height = self.anchors[event.anchor]
        self.expanded += size
        if self.expanded > ALIAS_BUDGET:
            raise _Halt(f"aliases expand to more than {ALIAS_BUDGET:,} values (an alias bomb?)", span)
        if len(self.stack) + height > MAX_DEPTH:  # each alias nested in the last: deep without deep text
            raise _Halt(f"nested deeper than {MAX_DEPTH} levels (through aliases)", span)
        if self.stack:
            self.stack[-1].height = max(self.stack[-1].height, height + 1)
        self.attach(value, span, size)

    # -- building

    def attach(self, value, span: Span, size: int):
        """Put value into the open container; return the path it is indexed under, or None."""
        if not self.stack:
            self.doc.root = value
            self.index.entries[()] = (None, span)
            return ()
        top = self.stack[-1]
        top.size += size
        if isinstance(top.value, list):
            parts = None if top.parts is None else top.parts + (len(top.value),)
            top.value.append(value)
        elif top.key is None:
            if not isinstance(value, str):
                raise _Halt("a mapping key must be a single value, not a list or mapping", span)
            top.key, top.key_span = value, span
            return None
        else:
            key, key_span = top.key, top.key_span
            top.key = top.key_span = None
            if key == "<<" and isinstance(key, Plain):
                top.merges.append((value, key_span, span))
                return None
            key = str(key)
            if key in top.value:
                if top.parts is not None:
                    self.doc.problems.append(
                        Problem(
                            "SCH002",
                            f'duplicate key "{key}": only its first value is read',
                            top.parts + (key,),
                            key_span,
                            key=True,
                        )
                    )
                return None
            top.value[key] = value
            parts = None if top.parts is None else top.parts + (key,)
            if parts is not None:
                self.index.entries[parts] = (key_span, span)
            return parts
        if parts is not None:
            self.index.entries[parts] = (None, span)
        return parts

    def merge(self, node: _Open) -> None:
        """YAML merge keys (`<<: *defaults`): keys written in the mapping win over merged ones."""
        for source, key_span, span in node.merges:
            sources = source if isinstance(source, list) else [source]
            for mapping in sources:
                if not isinstance(mapping, dict):
                    raise _Halt("a merge key (<<) takes a mapping or a list of mappings", span)
                for key, value in mapping.items():
                    if key not in node.value:
                        node.value[key] = value
                        if node.parts is not None:
                            self.index.entries[node.parts + (key,)] = (key_span, span)


def _check_tag(event, expected: str, span: Span) -> None:
    tag = event.tag
    if tag and _CORE_TAGS.get(tag) != expected:
        raise _Halt(f"unsupported YAML tag {tag}", span)


def _scalar_value(event):
    """The scalar as written: plain scalars stay text (Plain) until the schema types them."""
    tag = event.tag
    if not tag:
        return Plain(event.value) if not event.style else event.value
    kind = _CORE_TAGS.get(tag)
    if kind == "str":
        return event.value
    if kind in ("int", "float", "bool", "null"):
        value = resolve_plain(event.value)
        wanted = {"int": int, "float": (int, float), "bool": bool, "null": type(None)}[kind]
        if isinstance(value, wanted) and not (kind == "int" and isinstance(value, bool)):
            return float(value) if kind == "float" else value
        raise _Halt(f"{event.value!r} is not a valid !!{kind}", _span(event))
    raise _Halt(f"unsupported YAML tag {tag}", _span(event))


_INT = re.compile(r"[-+]?[0-9]+\Z")
_OCT = re.compile(r"0o[0-7]+\Z")
_HEX = re.compile(r"0x[0-9a-fA-F]+\Z")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\Z")
_INF = re.compile(r"[-+]?\.(inf|Inf|INF)\Z")
_NAN = re.compile(r"\.(nan|NaN|NAN)\Z")


NULLS = frozenset(("", "~", "null", "Null", "NULL"))
MAX_INT_DIGITS = 4000  # below Python's 4,300-digit limit on reading a whole number from text


def resolve_plain(text: str):
    """What a plain scalar means under the YAML 1.2 core schema (no yes/no booleans, no 0777
    octal). Two readings the core schema allows are refused, so that the schema reports them
    rather than a value other than the one written is used: a whole number with a leading zero
    (`012`, which YAML 1.1 readers take for octal 10) and one too long to be a number of
    anything (it stays the text written)."""
    if text in NULLS:
        return None
    if text in ("true", "True", "TRUE"):
        return True
    if text in ("false", "False", "FALSE"):
        return False
    if _INT.match(text):
        digits = text.lstrip("+-")
        if (len(digits) > 1 and digits[0] == "0") or len(digits) > MAX_INT_DIGITS:
            return str(text)
        return int(text)
    if (_OCT.match(text) or _HEX.match(text)) and len(text) > MAX_INT_DIGITS:
        return str(text)
    if _OCT.match(text):
        return int(text[2:], 8)
    if _HEX.match(text):
        return int(text[2:], 16)
    if _FLOAT.match(text):
        return float(text)
    if _INF.match(text):
        return float("-inf") if text.startswith("-") else float("inf")
    if _NAN.match(text):
        return float("nan")
    return str(text)


def _yaml_events(text: str):
    """libyaml's events through ruamel.yaml.clib, called directly (twice as fast as YAML.parse);
    without the C extension, ruamel's pure parser gives the same events."""
    try:
        from _ruamel_yaml import CParser
    except ImportError:  # pragma: no cover
        from ruamel.yaml import YAML

        yield from YAML(typ="safe", pure=True).parse(text)
        return
    parser = CParser(text)
    try:
        while True:
            event = parser.get_event()
            yield event
            if type(event).__name__ == "StreamEndEvent":
                return
    finally:
        parser.dispose()


def load_yaml(doc: Document) -> None:
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    builder = _YamlBuilder(doc)
    doc.index = builder.index
    try:
        try:
            builder.run(_yaml_events(doc.text))
            return
        finally:
            if "\x85" in doc.text or "\u2028" in doc.text or "\u2029" in doc.text:
                _remap(doc, builder.index)
    except _Halt as halt:
        problem = halt.problem
    except MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        what = err.problem or "unreadable"
        if err.context:
            what = f"{what} ({err.context})"
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = Problem("SCH001", f"not valid YAML: {what}", span=Span(line, column, line, column + 1))
    except YAMLError as err:  # the reader: control characters such as NUL
        line, column = LineMap(doc.text, _YAML11_NEWLINE).position(getattr(err, "position", 0) or 0)
        reason = getattr(err, "reason", None) or str(err).splitlines()[0]
        problem = Problem("SCH001", f"not valid YAML: {reason}", span=Span(line, column, line, column + 1))
    if "\x85" in doc.text or "\u2028" in doc.text or "\u2029" in doc.text:
        problem.span = _remapped(problem.span, LineMap(doc.text, _YAML11_NEWLINE), LineMap(doc.text)) if problem.span else None
    doc.problems.append(problem)
    doc.root = None


def _remap(doc: Document, index: PositionIndex) -> None:
    """libyaml's lines and columns in a text with U+0085, U+2028 or U+2029, which it takes for
    line breaks, as lines and columns of the text's real lines (LF, CRLF, CR): a fix must land
    on the line its finding names."""
    theirs, ours = LineMap(doc.text, _YAML11_NEWLINE), LineMap(doc.text)
    for parts, (key_span, value_span) in index.entries.items():
        index.entries[parts] = (key_span and _remapped(key_span, theirs, ours), _remapped(value_span, theirs, ours))
    for problem in doc.problems:
        if problem.span is not None:
            problem.span = _remapped(problem.span, theirs, ours)


def _remapped(span: Span, theirs: LineMap, ours: LineMap) -> Span:
    start = ours.position(theirs.offset(span.line, span.column))
    end = ours.position(theirs.offset(span.end_line, span.end_column))
    return Span(*start, *end)


# ---------------------------------------------------------------------------------------- JSON


class _Duplicates(Exception):
    pass


def _mapping_of_distinct_keys(pairs):
    """An object's mapping; a repeated key sends the text to JsonIndex.build, where the first wins."""
    value = dict(pairs)
    if len(value) < len(pairs):
        raise _Duplicates()
    return value


def _reject_constant(name):
    raise ValueError(f"{name} is not a JSON value")


_DECODER = json.JSONDecoder(object_pairs_hook=_mapping_of_distinct_keys, parse_constant=_reject_constant)


_LENIENT_DECODER = json.JSONDecoder(parse_constant=_reject_constant)  # duplicates allowed: is the rest JSON?


def _parse_json_text(text: str, line_offset: int = 0):
    """(value, index or None, problems); the index is built at once only when duplicates need it."""
    try:
        return _DECODER.decode(text), None, []
    except _Duplicates:
        try:
            _LENIENT_DECODER.decode(text)  # a syntax error after the duplicate is the problem to report
        except (ValueError, RecursionError):
            return _parse_json_text_without_duplicates(text, line_offset)
        index = JsonIndex(text, line_offset)
        value = index.build()
        problems = [
            Problem("SCH002", f'duplicate key "{parts[-1]}": only its first value is read', parts, span, key=True)
            for parts, span in index.duplicates
        ]
        return value, index, problems
    except (json.JSONDecodeError, ValueError, RecursionError):
        return _parse_json_text_without_duplicates(text, line_offset)


def _parse_json_text_without_duplicates(text: str, line_offset: int):
    """The problem of a text that is not JSON, duplicates aside."""
    try:
        _LENIENT_DECODER.decode(text)
    except json.JSONDecodeError as err:
        line, column = err.lineno + line_offset, err.colno
        return None, None, [Problem("SCH001", f"not valid JSON: {err.msg}", span=Span(line, column, line, column + 1))]
    except ValueError as err:
        span = JsonIndex(text, line_offset).first_bad_token()
        return None, None, [Problem("SCH001", f"not valid JSON: {err}", span=span)]
    except RecursionError:
        span = JsonIndex(text, line_offset).first_too_deep()
        return None, None, [Problem("SCH001", f"not valid JSON: nested deeper than {MAX_DEPTH} levels", span=span)]
    return None, None, [Problem("SCH001", "not valid JSON", span=Span(1 + line_offset, 1, 1 + line_offset, 2))]


def load_json(doc: Document) -> None:
    value, index, problems = _parse_json_text(doc.text)
    doc.problems.extend(problems)
    if any(p.code == "SCH001" for p in problems):
        return
    doc.root = value
    doc.index = index if index is not None else JsonIndex(doc.text)
    depth_span = _too_deep(value, doc)
    if depth_span is not None:
        doc.problems.append(Problem("SCH001", f"nested deeper than {MAX_DEPTH} levels", span=depth_span))
        doc.root = None


def _too_deep(value, doc: Document) -> Span | None:
    """JSON within Python's own limit can still be deeper than any encounter should be."""
    stack = [(value, 0, ())]
    while stack:
        item, depth, parts = stack.pop()
        if depth > MAX_DEPTH:
            return doc.span(parts)
        if isinstance(item, dict):
            stack.extend((v, depth + 1, parts + (k,)) for k, v in item.items() if isinstance(v, (dict, list)))
        elif isinstance(item, list):
            stack.extend((v, depth + 1, parts + (i,)) for i, v in enumerate(item) if isinstance(v, (dict, list)))
    return None


def load_lines(doc: Document) -> None:
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
    value, index, problems = _parse_json_text(text, line_offset=number - 1)
    for problem in problems:
        problem.parts = (record,) + problem.parts
    doc = Document(path, "record", text, value, problems)  # by position: made for every record
    doc.index = _Record(record, text, number, index)
    return doc


def record_document(path: str, text: str, number: int, record: int, root_keys: frozenset = frozenset()) -> Document:
    """A clean NDJSON line read elsewhere (records.py): its text, to place a finding by.
    root_keys: the keys only its root object can hold (see _Record.closest)."""
    doc = Document(path, "record", text)
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
        return _past_space(self.text, end + 1), (start, end)

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


_SPACE = " \t\r\n"


def _past_space(text: str, pos: int) -> int:
    """The first offset from pos that is not JSON white space, stepped a character at a time:
    JSON text has little of it, and a regular expression call costs more."""
    while text[pos] in _SPACE:
        pos += 1
    return pos


_WS = re.compile(r"[ \t\r\n]*")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_ATOM = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?|true|false|null")
_SCAN_VALUE = json.JSONDecoder().scan_once  # the C scanner: (value, end) of the JSON value at an offset
_SCAN_STRING = json.decoder.scanstring  # (text, end) of the string whose opening quote is just before


class JsonIndex:
    """Where keys and values are written in valid JSON text, found when a finding asks.

    A lookup walks down from the root, reading each container it passes through as far as the
    member it needs (keys and items with their offsets; the values in between are stepped over
    by the standard library's C scanner), and no further than any lookup before it read. A
    finding costs the members before it on its path, not the whole text. A duplicated key
    resolves to its first value, as the reader does.
    """

    def __init__(self, text: str, line_offset: int = 0):
        self.text = text
        self.line_offset = line_offset
        self.duplicates: list[tuple[tuple, Span]] = []
        self._lines: LineMap | None = None
        self._children: dict[int, list] = {}  # container offset -> its members read so far (see _member)
        self._root: tuple[int, int] | None = None

    def span(self, start: int, end: int) -> Span:
        if self._lines is None:
            self._lines = LineMap(self.text)
        line, column = self._lines.position(start)
        end_line, end_column = self._lines.position(end)
        return Span(line + self.line_offset, column, end_line + self.line_offset, end_column)

    def closest(self, parts: tuple, key: bool, origin=None) -> Span:
        found, key_range, (start, end) = self._locate(parts, origin)
        if found and key and key_range is not None:
            return self.span(*key_range)
        return self.span(start, end)

    def exact(self, parts: tuple):
        found, key_range, value_range = self._locate(parts)
        if not found:
            return None
        return (self.span(*key_range) if key_range else None), self.span(*value_range)

    def _locate(self, parts: tuple, origin=None) -> tuple[bool, tuple[int, int] | None, tuple[int, int]]:
        """(whether all of parts exists, its key's range, the value range of parts or of the
        deepest container on its way that exists). origin: (the offset of a value found another
        way, its key's range), when parts lie below it rather than below the root."""
        if origin is not None:
            (start, key_range), end = origin, None
        else:
            if self._root is None:  # valid JSON: the root value is the text less its white space
                start = _WS.match(self.text).end()
                self._root = (start, len(self.text.rstrip(_SPACE)))
            (start, end), key_range = self._root, None
        found = True
        for part in parts:
            member = self._member(start, part)
            if member is None:
                key_range, found = None, False
                break
            key_range, start = member
            end = None  # read when asked: a container on the way needs only its start
        if end is None:
            end = _SCAN_VALUE(self.text, start)[1]
        return found, key_range, (start, end)

    def _member(self, start: int, part) -> tuple[tuple[int, int] | None, int] | None:
        """(the key range, or None in an array, and the value's offset) of member part of the
        container at start; None where it has no such member. A container is read only as far as
        the member asked for, and what was read is kept for the next finding: a finding on an
        early key does not pay for the values after it."""
        text = self.text
        listing = self._children.get(start)
        if listing is None:
            if text[start] not in "{[":
                return None  # a scalar has no members
            # [an object's {key: (key range, value offset)} (first key wins) or an array's
            # [value offset], where reading resumes, whether that is a value still to step over]
            listing = self._children[start] = [{} if text[start] == "{" else [], _past_space(text, start + 1), False]
        members = listing[0]
        in_object = isinstance(members, dict)
        if in_object != isinstance(part, str) or (not in_object and part < 0):
            return None
        while (part not in members) if in_object else (part >= len(members)):
            pos = listing[1]
            if listing[2]:  # past the value last listed, and its comma
                pos = _past_space(text, _SCAN_VALUE(text, pos)[1])
                if text[pos] == ",":
                    pos = _past_space(text, pos + 1)
            if text[pos] in "}]":
                listing[1], listing[2] = pos, False
                return None
            if in_object:
                name, key_end = _SCAN_STRING(text, pos + 1)
                value = _past_space(text, _past_space(text, key_end) + 1)  # past the colon
                members.setdefault(name, ((pos, key_end), value))
            else:
                value = pos
                members.append(value)
            listing[1], listing[2] = value, True
        return members[part] if in_object else (None, members[part])

    def build(self):
        """Scan valid JSON that repeats a key; return its value (the first of each key wins)
        and note where each repeated key is written."""
        text = self.text
        ws = lambda at: _WS.match(text, at).end()  # noqa: E731
        stack: list[list] = []  # [container, parts, pending key, key span]
        root = None
        pos = ws(0)
        while True:
            start, char = pos, text[pos]
            if char in "{[":
                container = {} if char == "{" else []
                parts = self._attach(stack, container)
                if not stack:
                    root = container
                stack.append([container, parts, None, None])
                pos = ws(pos + 1)
                if text[pos] not in "}]":
                    if char == "{":
                        pos = self._key(stack[-1], pos)
                    continue
            else:
                end = (_STRING if char == '"' else _ATOM).match(text, pos).end()
                value = json.loads(text[start:end])
                self._attach(stack, value)
                if not stack:
                    return value
                pos = ws(end)
            while True:  # after a value: a comma, or the ends of containers
                frame = stack[-1]
                if text[pos] == ",":
                    pos = ws(pos + 1)
                    if isinstance(frame[0], dict):
                        pos = self._key(frame, pos)
                    break
                pos += 1
                stack.pop()
                if not stack:
                    return root
                pos = ws(pos)

    def _key(self, frame: list, pos: int) -> int:
        frame[2], end = _SCAN_STRING(self.text, pos + 1)
        frame[3] = self.span(pos, end)
        colon = _WS.match(self.text, end).end()
        return _WS.match(self.text, colon + 1).end()

    def _attach(self, stack: list, value):
        """Put value in the open container; its path, or None inside a repeated key's value."""
        if not stack:
            return ()
        container, parent = stack[-1][0], stack[-1][1]
        if isinstance(container, list):
            container.append(value)
            return None if parent is None else parent + (len(container) - 1,)
        key, key_span = stack[-1][2], stack[-1][3]
        if key in container:
            if parent is not None:
                self.duplicates.append((parent + (key,), key_span))
            return None
        container[key] = value
        return None if parent is None else parent + (key,)

    def first_bad_token(self) -> Span:
        match = re.search(r"-?\b(?:NaN|Infinity)\b", self.text)
        start = match.start() if match else 0
        return self.span(start, start + (len(match.group()) if match else 1))

    def first_too_deep(self) -> Span:
        depth = 0
        in_string = False
        escaped = False
        for offset, char in enumerate(self.text):
            if in_string:
                if escaped:
                    escaped = False
                elif char == "\\":
                    escaped = True
                elif char == '"':
                    in_string = False
            elif char == '"':
                in_string = True
            elif char in "[{":
                depth += 1
                if depth > MAX_DEPTH:
                    return self.span(offset, offset + 1)
            elif char in "]}":
                depth -= 1
        return self.span(0, 1)
