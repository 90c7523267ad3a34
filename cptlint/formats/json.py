"""JSON encounter files, read by the standard library; positions are found only when a finding
needs one, by a small scanner over the text (JsonIndex)."""

from __future__ import annotations

import json
import re

from cptlint.diagnostics import Span
from cptlint.loader import MAX_DEPTH, Document, LineMap, Problem


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


def parse_text(text: str, line_offset: int = 0):
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


def read(doc: Document) -> None:
    value, index, problems = parse_text(doc.text)
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


_SPACE = " \t\r\n"


def past_space(text: str, pos: int) -> int:
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
            listing = self._children[start] = [{} if text[start] == "{" else [], past_space(text, start + 1), False]
        members = listing[0]
        in_object = isinstance(members, dict)
        if in_object != isinstance(part, str) or (not in_object and part < 0):
            return None
        while (part not in members) if in_object else (part >= len(members)):
            pos = listing[1]
            if listing[2]:  # past the value last listed, and its comma
                pos = past_space(text, _SCAN_VALUE(text, pos)[1])
                if text[pos] == ",":
                    pos = past_space(text, pos + 1)
            if text[pos] in "}]":
                listing[1], listing[2] = pos, False
                return None
            if in_object:
                name, key_end = _SCAN_STRING(text, pos + 1)
                value = past_space(text, past_space(text, key_end) + 1)  # past the colon
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
