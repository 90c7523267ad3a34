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
        for keyword, argument in node.items():
            if keyword in ANNOTATIONS or keyword.startswith("x-"):
                continue
            maker = KEYWORDS.get(keyword)
            if maker is None:
                raise ValueError(f"the fast validator does not know the keyword {keyword!r}")
            check = maker(argument, node, build, reference)
            if check is not None:
                checks.append(check)
        if len(checks) == 1:
            return checks[0]
        return lambda v: all(check(v) for check in checks)

    return build(root if schema is None else schema)


def _type(argument, node, build, reference):
    kinds = [argument] if isinstance(argument, str) else list(argument)
    tests = [_TYPES[k] for k in kinds]
    return lambda v: any(t(v) for t in tests)


def _properties(argument, node, build, reference):
    subs = {name: build(sub) for name, sub in argument.items()}
    return lambda v: not isinstance(v, dict) or all(check(v[k]) for k, check in subs.items() if k in v)


def _additional(argument, node, build, reference):
    named = set(node.get("properties", {}))
    patterns = [re.compile(p) for p in node.get("patternProperties", {})]
    rest = build(argument) if isinstance(argument, dict) else (lambda v: argument)

    def check(v):
        if not isinstance(v, dict):
            return True
        return all(rest(item) for k, item in v.items() if k not in named and not any(p.search(k) for p in patterns))

    return check


def _pattern_properties(argument, node, build, reference):
    subs = [(re.compile(p), build(sub)) for p, sub in argument.items()]
    return lambda v: not isinstance(v, dict) or all(
        check(item) for k, item in v.items() for p, check in subs if p.search(k)
    )


def _required(argument, node, build, reference):
    return lambda v: not isinstance(v, dict) or all(name in v for name in argument)


def _property_names(argument, node, build, reference):
    check = build(argument)
    return lambda v: not isinstance(v, dict) or all(check(k) for k in v)


def _items(argument, node, build, reference):
    check = build(argument)
    return lambda v: not isinstance(v, list) or all(check(item) for item in v)


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
    "properties": _properties,
    "additionalProperties": _additional,
    "patternProperties": _pattern_properties,
    "required": _required,
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
