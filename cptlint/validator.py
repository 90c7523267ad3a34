"""A fast yes-or-no check of a value against a JSON Schema, for the keywords cptlint's schemas use.

Most files are valid, and for them only the answer matters. This translates a schema once into
the source of a Python function (each `$ref` and `if` a function of its own), so that checking a
record runs straight-line tests rather than a tree of calls; when the answer is no, schema.py
asks jsonschema for the full list of errors and their places. The schema stays the one source of
truth: a keyword this module does not know is refused at compile time, so a schema change cannot
silently make the fast answer wrong (tests compare both validators too).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable

from cptlint.memo import Verdicts

Check = Callable[[object], bool]

ANNOTATIONS = {"$schema", "$id", "$defs", "title", "description", "default", "examples", "$comment"}
OBJECT_KEYWORDS = ("properties", "additionalProperties", "patternProperties", "required")
READ_BY_IF = ("then", "else")


def is_annotation(keyword: str) -> bool:
    """Whether a schema keyword has no bearing on validity: an annotation, or an `x-` keyword
    of cptlint's own (such as the messages schema.py reads)."""
    return keyword in ANNOTATIONS or keyword.startswith("x-")


# Exact types: the readers make plain dicts, lists, strings and ints, and an exact test is the
# cheapest. A subclass (which no reader makes) gets a no, and jsonschema then answers in full.
_TYPES = {
    "object": "type({v}) is dict",
    "array": "type({v}) is list",
    "string": "type({v}) is str",
    "integer": "type({v}) is int",
    "number": "(isinstance({v}, (int, float)) and not isinstance({v}, bool))",
    "boolean": "isinstance({v}, bool)",
    "null": "{v} is None",
}
_NUMBER = _TYPES["number"]

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)


def _is_date(value: str) -> bool:
    if not _DATE.match(value):
        return False
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        return False
    return True


FORMATS: dict[str, Callable[[str], bool]] = {"date": _is_date}


def _in_enum(value, options) -> bool:
    return any(value == option and type(value) is type(option) for option in options)


def compile_schema(root: dict, schema: dict | None = None) -> Check:
    """A check for schema (default: root), resolving `#/...` references against root."""
    source = _Source(root)
    name = source.function(root if schema is None else schema)
    namespace = dict(source.constants)
    exec(compile("\n".join(source.lines), "<cptlint schema check>", "exec"), namespace)  # noqa: S102
    return namespace[name]


class _Source:
    """The Python source of the checks, and the constants (patterns, enums, bounds) it names."""

    def __init__(self, root: dict):
        self.root = root
        self.lines: list[str] = []
        self.constants: dict[str, object] = {"_in_enum": _in_enum}
        self.references: dict[str, str] = {}
        self.count = 0

    def fresh(self, stem: str) -> str:
        self.count += 1
        return f"{stem}{self.count}"

    def constant(self, value) -> str:
        name = self.fresh("C")
        self.constants[name] = value
        return name

    def function(self, node) -> str:
        """A function `name(v)` answering whether v is valid against node."""
        name = self.fresh("check")
        body = self.body(node, "v", 1)
        self.lines += [f"def {name}(v):", *body, "    return True", ""]
        return name

    def reference(self, ref: str) -> str:
        if ref not in self.references:
            name = self.references[ref] = self.fresh("ref")
            node = self.root
            for part in ref.lstrip("#").split("/")[1:]:
                node = node[part]
            body = self.body(node, "v", 1)  # after naming it: a reference may lead back to itself
            self.lines += [f"def {name}(v):", *body, "    return True", ""]
        return self.references[ref]

    def body(self, node, v: str, depth: int) -> list[str]:
        """Lines, indented depth levels, that return False when v fails node. The type is tested
        first, so the keywords after it need not test it again (see _within and _unless_typed)."""
        pad = "    " * depth
        if node is True or node == {}:
            return []
        if node is False:
            return [f"{pad}return False"]
        out = _type(self, node["type"], node, v, depth) if "type" in node else []
        if any(k in node for k in OBJECT_KEYWORDS):
            out += self.object(node, v, depth)
        for keyword, argument in node.items():
            if keyword == "type" or is_annotation(keyword) or keyword in OBJECT_KEYWORDS or keyword in READ_BY_IF:
                continue
            make = _KEYWORDS.get(keyword)
            if make is None:
                raise ValueError(f"the fast validator does not know the keyword {keyword!r}")
            out += make(self, argument, node, v, depth)
        return out

    def object(self, node: dict, v: str, depth: int) -> list[str]:
        """properties, patternProperties, additionalProperties and required, in one pass over
        the mapping's own keys (a mapping has far fewer keys than its schema names)."""
        out, depth = _within(node, "dict", v, depth)
        pad = "    " * depth
        key, item = self.fresh("k"), self.fresh("i")
        for name in node.get("required", ()):
            out += _fails(depth, f"{name!r} not in {v}")
        branches: list[str] = []
        for index, (name, sub) in enumerate(node.get("properties", {}).items()):
            test = "if" if index == 0 else "elif"
            branches += [f"{pad}    {test} {key} == {name!r}:", *(self.body(sub, item, depth + 2) or [f"{pad}        pass"])]
        rest = self.unnamed(node, key, item, depth + 2 if branches else depth + 1)
        if branches and rest:
            branches += [f"{pad}    else:", *rest]
        elif rest:
            branches = rest
        if branches:
            out += [f"{pad}for {key}, {item} in {v}.items():", *branches]
        return out

    def unnamed(self, node: dict, key: str, item: str, depth: int) -> list[str]:
        """Lines for a key no property names: the patterns it matches, else additionalProperties."""
        pad = "    " * depth
        other = node.get("additionalProperties", True)
        patterns = node.get("patternProperties", {})
        if not patterns:
            return self.body(other, item, depth)
        matched = self.fresh("matched")
        out = [f"{pad}{matched} = False"]
        for pattern, sub in patterns.items():
            search = self.constant(re.compile(pattern).search)
            out += [f"{pad}if {search}({key}) is not None:", f"{pad}    {matched} = True", *self.body(sub, item, depth + 1)]
        fallback = self.body(other, item, depth + 1)
        return out + ([f"{pad}if not {matched}:", *fallback] if fallback else [])


def _fails(depth: int, condition: str) -> list[str]:
    pad = "    " * depth
    return [f"{pad}if {condition}:", f"{pad}    return False"]


_SCHEMA_TYPE = {"dict": "object", "list": "array", "str": "string"}


def _unless_typed(node, kind: str, v: str) -> str:
    """The guard of a keyword that applies to values of one Python kind only: none where the
    node's own type, tested first (see _Source.body), is that kind."""
    return "" if node.get("type") == _SCHEMA_TYPE[kind] else f"isinstance({v}, {kind}) and "


def _within(node, kind: str, v: str, depth: int) -> tuple[list[str], int]:
    """The opening of a block for values of one Python kind, and the depth inside it: no block
    where the node's own type, tested first, is that kind."""
    if node.get("type") == _SCHEMA_TYPE[kind]:
        return [], depth
    return [f"{'    ' * depth}if isinstance({v}, {kind}):"], depth + 1


def _type(source: _Source, argument, node, v: str, depth: int) -> list[str]:
    kinds = [argument] if isinstance(argument, str) else list(argument)
    return _fails(depth, "not (" + " or ".join(_TYPES[k].format(v=v) for k in kinds) + ")")


def _enum(source: _Source, argument, node, v: str, depth: int) -> list[str]:
    if all(type(option) is str for option in argument):
        return _fails(depth, f"not (type({v}) is str and {v} in {source.constant(frozenset(argument))})")
    return _fails(depth, f"not _in_enum({v}, {source.constant(tuple(argument))})")


def _pattern(source: _Source, argument, node, v: str, depth: int) -> list[str]:
    return _fails(depth, f"{_unless_typed(node, 'str', v)}not {source.constant(Verdicts(re.compile(argument).search))}[{v}]")


def _format(source: _Source, argument, node, v: str, depth: int) -> list[str]:
    test = FORMATS.get(argument)
    if test is None:
        raise ValueError(f"the fast validator does not know the format {argument!r}")
    return _fails(depth, f"{_unless_typed(node, 'str', v)}not {source.constant(Verdicts(test))}[{v}]")


def _bound(operator: str):
    def make(source: _Source, argument, node, v: str, depth: int) -> list[str]:
        guard = "" if node.get("type") in ("integer", "number") else f"{_NUMBER.format(v=v)} and "
        return _fails(depth, f"{guard}not {v} {operator} {source.constant(argument)}")

    return make


def _size(kind: str, operator: str):
    def make(source: _Source, argument, node, v: str, depth: int) -> list[str]:
        return _fails(depth, f"{_unless_typed(node, kind, v)}not len({v}) {operator} {argument!r}")

    return make


def _items(source: _Source, argument, node, v: str, depth: int) -> list[str]:
    opening, depth = _within(node, "list", v, depth)
    item = source.fresh("i")
    body = source.body(argument, item, depth + 1)
    return [*opening, f"{'    ' * depth}for {item} in {v}:", *body] if body else []


def _property_names(source: _Source, argument, node, v: str, depth: int) -> list[str]:
    opening, depth = _within(node, "dict", v, depth)
    key = source.fresh("k")
    body = source.body(argument, key, depth + 1)
    return [*opening, f"{'    ' * depth}for {key} in {v}:", *body] if body else []


def _ref(source: _Source, argument, node, v: str, depth: int) -> list[str]:
    return _fails(depth, f"not {source.reference(argument)}({v})")


def _if(source: _Source, argument, node, v: str, depth: int) -> list[str]:
    pad = "    " * depth
    condition = source.function(argument)
    then = source.body(node.get("then", {}), v, depth + 1) or [f"{pad}    pass"]
    otherwise = source.body(node.get("else", {}), v, depth + 1)
    return [f"{pad}if {condition}({v}):", *then] + ([f"{pad}else:", *otherwise] if otherwise else [])


_KEYWORDS = {
    "propertyNames": _property_names,
    "items": _items,
    "enum": _enum,
    "pattern": _pattern,
    "format": _format,
    "minimum": _bound(">="),
    "maximum": _bound("<="),
    "minItems": _size("list", ">="),
    "maxItems": _size("list", "<="),
    "minLength": _size("str", ">="),
    "$ref": _ref,
    "if": _if,
}
