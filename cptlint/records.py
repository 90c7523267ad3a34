"""Encounters as typed records, read and checked against the schema in one pass in C (msgspec).

The record types are made from the encounter schema (its types, required keys, patterns, enums,
bounds, lengths and formats), so the schema stays the one source of truth: a keyword this module
does not know is refused when the types are made, as validator.py refuses it.

An NDJSON record is decoded straight from its text (`RecordReader.read`): one C pass instead of
the JSON decoder's dicts, the schema check and the typing after them. The answer is the record,
or None for "not vouched for": an error, an `x-` note, a key written twice, 2.0 for a whole
number. The engine reads such a record the ordinary way (loader, schema), which says what is
wrong, if anything. So the reader may refuse what the schema allows, never the reverse. A
record's fields are what model.MappingRecord makes of a file's mapping, so one builder makes
every typed encounter (model.build_encounter).
"""

from __future__ import annotations

import keyword
import re
from typing import Annotated, Literal, NamedTuple

import msgspec
from msgspec.structs import astuple

from cptlint.memo import Verdicts
from cptlint.validator import FORMATS, is_annotation

_OBJECT_IGNORED = {"patternProperties", "additionalProperties"}  # other keys are refused anyway, see _keys_read


class RecordReader:
    """Record types made from one definition of a schema, and a reader of JSON text into them."""

    def __init__(self, root: dict):
        self.root = root
        self.by_reference: dict[str, object] = {}
        # struct type: (key, is a list, struct type) of its fields that hold structs
        self.nested: dict[type, tuple[tuple[str, bool, type], ...]] = {}
        self.fields: dict[type, list] = {}  # struct type: the fields it was made with
        self.checks: dict[type, tuple[tuple[str, tuple[Verdicts, ...], bool], ...]] = {}  # (key, tests, is a list)
        made = self.translate(root)
        if made not in self.fields:
            _refused(root, "a record that is not an object")
        # The patterns and formats of the whole record, checked in one call after decoding
        # (msgspec's own pattern constraint calls `re` once a value; a remembered verdict is a
        # dictionary lookup). msgspec reads __post_init__ when a struct type is made, so the
        # root is made again with it.
        namespace = {"__post_init__": _checker(made, self.nested, self.checks)}
        self.type = msgspec.defstruct(made.__name__, self.fields[made], kw_only=True, gc=False, namespace=namespace)
        self.nested[self.type], self.checks[self.type] = self.nested.pop(made), self.checks.pop(made)
        self._decode = msgspec.json.Decoder(self.type).decode
        self._keys_read = _key_counter(self.type, self.nested)
        # Keys only the root can hold: in a record read here, a search of the text finds each
        # where it is (formats/ndjson.py, _Record.closest).
        others = {key for struct in self.nested if struct is not self.type for key in struct.__struct_fields__}
        self.root_keys = frozenset(self.type.__struct_fields__) - others

    def read(self, text: str):
        """The record of one line of JSON text, or None when the reader cannot vouch for it.

        Keys that are repeated or not in the schema are skipped by the decoder, so the keys it
        read are counted against the text's `":`: every key of a text without white space before
        a colon ends in one, and the text has more only if a key is repeated or unknown (or a
        string holds `":`, which merely sends the record the ordinary way)."""
        try:
            record = self._decode(text)
        except msgspec.MsgspecError:
            return None
        if " :" in text or _spaced_by_tab_or_return(text) or text.count('":') != self._keys_read(record):
            return None
        return record

    # ---------------------------------------------------------------------------- the types

    def translate(self, node: dict, name: str = "Record"):
        """The msgspec type of values valid against node."""
        if "$ref" in node:
            _only(node, {"$ref"})
            reference = node["$ref"]
            if reference not in self.by_reference:
                self.by_reference[reference] = None  # a reference that leads back to itself is refused below
                target = self.root
                for part in reference.lstrip("#").split("/")[1:]:
                    target = target[part]
                self.by_reference[reference] = self.translate(target, part.capitalize())
            if self.by_reference[reference] is None:
                raise ValueError(f"the record reader does not follow the recursive reference {reference!r}")
            return self.by_reference[reference]
        kind = node.get("type")
        if kind == "object":
            return self.struct(node, name)
        if kind == "array":
            _only(node, {"type", "items", "minItems"})
            item = self.translate(node["items"], name) if "items" in node else _refused(node, "an array without items")
            return _with(tuple[item, ...], min_length=node.get("minItems"))
        if kind == "string":
            _only(node, {"type", "pattern", "format", "minLength", "enum"})
            if "enum" in node:
                if not all(type(option) is str for option in node["enum"]):
                    _refused(node, "an enum of other than text")
                return Literal[tuple(node["enum"])]
            tests = []
            if "pattern" in node:
                tests.append(Verdicts(re.compile(node["pattern"]).search))
            if "format" in node:
                tests.append(Verdicts(FORMATS.get(node["format"]) or _refused(node, "the format")))
            text = _with(str, min_length=node.get("minLength"))
            return Annotated[text, _Checked(tuple(tests))] if tests else text
        if kind == "integer":
            _only(node, {"type", "minimum"})
            return _with(int, ge=node.get("minimum"))
        if kind == "boolean":
            _only(node, {"type"})
            return bool
        return _refused(node, f"the type {kind!r}")

    def struct(self, node: dict, name: str):
        _only(node, {"type", "properties", "required"} | _OBJECT_IGNORED)
        properties, required = node.get("properties") or _refused(node, "an object without properties"), node.get("required", ())
        if set(required) - set(properties):
            _refused(node, "a required key that no property names")
        fields, nested, checks = [], [], []
        for key, sub in properties.items():
            if not key.isidentifier() or keyword.iskeyword(key):
                _refused(node, f"the key {key!r}")
            field_type = self.translate(sub, key.capitalize())
            fields.append((key, field_type) if key in required else (key, field_type, None))
            is_list, value_type = _one_value(field_type)
            if isinstance(value_type, type) and issubclass(value_type, msgspec.Struct):
                nested.append((key, is_list, value_type))
            checked = [meta for meta in getattr(value_type, "__metadata__", ()) if isinstance(meta, _Checked)]
            if checked:
                checks.append((key, checked[0].tests, is_list))
        # No struct of a record can be part of a cycle: not tracked by the cycle collector.
        made = msgspec.defstruct(name, fields, kw_only=True, gc=False)
        self.fields[made], self.nested[made], self.checks[made] = fields, tuple(nested), tuple(checks)
        return made


def _spaced_by_tab_or_return(text: str) -> bool:
    """Whether a tab or carriage return stands before a colon; looked for only in a text that has
    one (a one-character search is several times faster than a two-character one)."""
    return ("\t" in text or "\r" in text) and ("\t:" in text or "\r:" in text)


def _key_counter(root: type, nested: dict):
    """A function giving how many keys the decoder filled in a record and the structs within it
    (an absent field holds None, which no field's type admits from the text)."""

    def body(struct: type, value: str, pad: str) -> list[str]:
        return [f"{pad}n += {len(struct.__struct_fields__)} - astuple({value}).count(None)"]

    return _written_out("keys_read", root, nested, body, {"astuple": astuple}, "n = 0", "return n")


def _written_out(name: str, root: type, nested: dict, body, namespace: dict, first: str, last: str):
    """A function of a record, written out as straight-line code over the record's types (it
    runs for every record): body(struct, value, pad) gives the lines for one struct held in the
    variable named value; the structs within it follow, each in a variable of its own."""
    lines = [f"def {name}(v0):", f"    {first}"]

    def walk(struct: type, depth: int, pad: str) -> None:
        value, inner = f"v{depth}", f"v{depth + 1}"
        lines.extend(body(struct, value, pad))
        for key, is_list, item_type in nested[struct]:
            if is_list:
                lines.append(f"{pad}for {inner} in {value}.{key} or ():")
            else:
                lines.extend([f"{pad}{inner} = {value}.{key}", f"{pad}if {inner} is not None:"])
            walk(item_type, depth + 1, pad + "    ")

    walk(root, 0, "    ")
    lines.append(f"    {last}")
    namespace = dict(namespace)
    exec("\n".join(lines), namespace)  # noqa: S102
    return namespace[name]


def _only(node: dict, known: set) -> None:
    for word in node:
        if word not in known and not is_annotation(word):
            raise ValueError(f"the record reader does not know the keyword {word!r}")


def _refused(node: dict, what: str):
    raise ValueError(f"the record reader does not know {what}: {node}")


def _with(base, **constraints):
    given = {k: v for k, v in constraints.items() if v is not None}
    return Annotated[base, msgspec.Meta(**given)] if given else base


def _one_value(field_type) -> tuple[bool, object]:
    """(whether a field holds a tuple of values, the type of one value, its metadata kept)."""
    bare = field_type.__origin__ if hasattr(field_type, "__metadata__") else field_type  # less Annotated
    if getattr(bare, "__origin__", None) is tuple:
        return True, bare.__args__[0]
    return False, field_type


class _Checked(NamedTuple):
    """Annotated metadata of a text: the remembered tests (patterns, formats) it must pass,
    checked after decoding (see _checker); msgspec leaves metadata of its own kind alone."""

    tests: tuple


def _checker(root: type, nested: dict, checks: dict):
    """The root's __post_init__: every check of the record and the structs within it. A
    ValueError is the decoder's refusal."""
    tests: dict[str, Verdicts] = {}

    def body(struct: type, value: str, pad: str) -> list[str]:
        lines = []
        for key, passes, is_list in checks[struct]:
            names = []
            for test in passes:
                tests[name := f"T{len(tests)}"] = test
                names.append(name)
            failed = " or ".join(f"not {name}[x]" for name in names)
            lines.append(f"{pad}x = {value}.{key}")
            if is_list:
                lines += [f"{pad}for x in x or ():", f"{pad}    if {failed}:", f"{pad}        raise ValueError({key!r})"]
            else:
                lines += [f"{pad}if x is not None and ({failed}):", f"{pad}    raise ValueError({key!r})"]
        return lines

    return _written_out("__post_init__", root, nested, body, tests, "pass", "return None")
