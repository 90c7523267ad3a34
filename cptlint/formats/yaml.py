"""YAML encounter files, read from parser events (libyaml through ruamel.yaml.clib when present),
never through a constructor: scalars keep the text that was written, so `code: 97140` or
`npi: 0123456789` are not turned into numbers behind the user's back (schema.py decides, field by
field, what a plain scalar means). Building the tree from events also keeps hostile input
bounded: nesting depth and alias expansion are counted as the events arrive, and nothing is
walked recursively.
"""

from __future__ import annotations

import re

from cptlint.diagnostics import Span
from cptlint.loader import ALIAS_BUDGET, MAX_DEPTH, Document, LineMap, PositionIndex, Problem

# libyaml, a YAML 1.1 reader, also breaks lines at U+0085, U+2028 and U+2029 (see _remap)
_YAML11_NEWLINE = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


class Plain(str):
    """A plain (unquoted) YAML scalar: text whose type the schema decides."""

    __slots__ = ()


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


def read(doc: Document) -> None:
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
