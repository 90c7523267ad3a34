"""A fast yes-or-no check of a value against a JSON Schema, for the keywords cptlint's schemas use.

Most files are valid, and for them only the answer matters. This compiles a schema once into
nested Python closures, which answer many times faster than a general validator; when the answer
is no, schema.py asks jsonschema for the full list of errors and their places. The schema stays the
one source of truth: a keyword this module does not know is refused at compile time, so a schema
change cannot silently make the fast answer wrong (tests compare both validators too).
"""

from __future__ import annotations

import datetime
import re
from typing import Callable

Check = Callable[[object], bool]

ANNOTATIONS = {"$schema", "$id", "$defs", "title", "description", "default", "examples", "$comment"}

_TYPES: dict[str, Check] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)


def _is_date(value: str) -> bool:
    if not _DATE.match(value):
        return False
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        return False
    return True


_FORMATS: dict[str, Callable[[str], bool]] = {"date": _is_date}


def compile_schema(root: dict, schema: dict | None = None) -> Check:
    """A check for schema (default: root), resolving `#/...` references against root."""
    compiled: dict[str, Check] = {}
    resolving: set[str] = set()

    def reference(ref: str) -> Check:
        if ref not in compiled:
            if ref in resolving:
                raise ValueError(f"the fast validator does not follow recursive references ({ref})")
            resolving.add(ref)
            node = root
            for part in ref.lstrip("#").split("/")[1:]:
                node = node[part]
            compiled[ref] = build(node)
        return compiled[ref]

    def build(node: dict) -> Check:
        if node is True or node == {}:
            return lambda v: True
        if node is False:
            return lambda v: False
        checks: list[Check] = []
        if any(k in node for k in OBJECT_KEYWORDS):
            checks.append(_object(node, build))
        for keyword, argument in node.items():
            if keyword in ANNOTATIONS or keyword in OBJECT_KEYWORDS or keyword.startswith("x-"):
                continue
            maker = KEYWORDS.get(keyword)
            if maker is None:
                raise ValueError(f"the fast validator does not know the keyword {keyword!r}")
            check = maker(argument, node, build, reference)
            if check is not None:
                checks.append(check)
        if len(checks) == 1:
            return checks[0]

        def every(v):
            for check in checks:
                if not check(v):
                    return False
            return True

        return every

    return build(root if schema is None else schema)


def _type(argument, node, build, reference):
    kinds = [argument] if isinstance(argument, str) else list(argument)
    tests = [_TYPES[k] for k in kinds]
    if len(tests) == 1:
        return tests[0]
    return lambda v: any(t(v) for t in tests)


OBJECT_KEYWORDS = ("properties", "additionalProperties", "patternProperties", "required")


def _object(node: dict, build) -> Check:
    """properties, patternProperties, additionalProperties and required, in one pass over the
    mapping's own keys (a mapping has far fewer keys than its schema names)."""
    named = {name: build(sub) for name, sub in node.get("properties", {}).items()}
    patterns = [(re.compile(p).search, build(sub)) for p, sub in node.get("patternProperties", {}).items()]
    other = node.get("additionalProperties", True)
    rest = build(other) if isinstance(other, dict) else (lambda v: other)
    required = tuple(node.get("required", ()))

    def check(v):
        if not isinstance(v, dict):
            return True
        for name in required:
            if name not in v:
                return False
        for key, item in v.items():
            sub = named.get(key)
            if sub is not None:
                if not sub(item):
                    return False
                continue
            matched = False
            for search, pattern_check in patterns:
                if search(key):
                    matched = True
                    if not pattern_check(item):
                        return False
            if not matched and not rest(item):
                return False
        return True

    return check


def _property_names(argument, node, build, reference):
    check = build(argument)
    return lambda v: not isinstance(v, dict) or all(check(k) for k in v)


def _items(argument, node, build, reference):
    check = build(argument)

    def every_item(v):
        if isinstance(v, list):
            for item in v:
                if not check(item):
                    return False
        return True

    return every_item


def _enum(argument, node, build, reference):
    options = list(argument)
    return lambda v: any(v == o and type(v) is type(o) for o in options)


def _pattern(argument, node, build, reference):
    search = re.compile(argument).search
    return lambda v: not isinstance(v, str) or search(v) is not None


def _format(argument, node, build, reference):
    test = _FORMATS.get(argument)
    if test is None:
        raise ValueError(f"the fast validator does not know the format {argument!r}")
    return lambda v: not isinstance(v, str) or test(v)


def _bound(compare):
    def maker(argument, node, build, reference):
        numeric = _TYPES["number"]
        return lambda v: not numeric(v) or compare(v, argument)

    return maker


def _size(kind, compare):
    def maker(argument, node, build, reference):
        return lambda v: not isinstance(v, kind) or compare(len(v), argument)

    return maker


def _ref(argument, node, build, reference):
    target = reference(argument)
    return lambda v: target(v)


def _if(argument, node, build, reference):
    condition = build(argument)
    then = build(node.get("then", {}))
    otherwise = build(node.get("else", {}))
    return lambda v: then(v) if condition(v) else otherwise(v)


KEYWORDS = {
    "type": _type,
    "propertyNames": _property_names,
    "items": _items,
    "enum": _enum,
    "pattern": _pattern,
    "format": _format,
    "minimum": _bound(lambda v, b: v >= b),
    "maximum": _bound(lambda v, b: v <= b),
    "minItems": _size(list, lambda n, b: n >= b),
    "maxItems": _size(list, lambda n, b: n <= b),
    "minLength": _size(str, lambda n, b: n >= b),
    "$ref": _ref,
    "if": _if,
    "then": lambda *a: None,  # read by "if"
    "else": lambda *a: None,
}
