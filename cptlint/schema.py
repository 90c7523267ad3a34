"""Check a document against schemas/encounter.schema.json, with messages a billing analyst reads.

Two jobs, both driven by the schema so they never disagree:
- give plain YAML scalars their type: text where the schema wants text (`code: 97140` stays
  "97140", `npi: 0123456789` keeps its zero), a number or boolean only where it wants one;
- turn each validation error into an SCH003 problem placed at the value (or at the unknown key,
  or at the parent of a missing key).
"""

from __future__ import annotations

import copy
import json
import re
from functools import lru_cache

from cptlint import data
from cptlint.formats.yaml import NULLS, Plain, resolve_plain
from cptlint.loader import Problem
from cptlint.validator import compile_schema

SCHEMA_NAME = "encounter.schema.json"

_TYPE_WORDS = {
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
    "object": "a mapping",
    "null": "empty",
}
_SINGULAR = {
    "encounters": "encounter",
    "services": "service",
    "modifiers": "modifier",
    "regions": "region",
    "techniques": "technique",
    "diagnoses": "diagnosis",
    "diagnosis_pointers": "diagnosis pointer",
    "expect": "expectation",
}


# ------------------------------------------------------------------------------------ typing


def apply_types(value, schema: dict | None = None, root: dict | None = None):
    """Resolve every Plain scalar in value by what the schema expects at its place."""
    root = root if root is not None else data.schema(SCHEMA_NAME)
    schema = root if schema is None else schema
    schema = _resolve(schema, value, root)
    if isinstance(value, Plain):
        if schema.get("type") == "string":
            return None if value in NULLS else str(value)  # null is null wherever it is written
        return resolve_plain(value)
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        others = schema.get("additionalProperties")
        others = others if isinstance(others, dict) else {}
        for key, item in value.items():
            if isinstance(item, (Plain, dict, list)):
                value[key] = apply_types(item, properties.get(key, others), root)
    elif isinstance(value, list):
        items = schema.get("items", {})
        for i, item in enumerate(value):
            if isinstance(item, (Plain, dict, list)):
                value[i] = apply_types(item, items, root)
    return value


def absent_nulls(value, schema: dict | None = None, root: dict | None = None):
    """Drop the optional text fields written as null (`response: ~`, `"goal": null`): null means
    no value, so the field is missing, as if not written (a `patient: ~` is no patient, and two
    of them are not one). A required field stays, and the schema says null is not its value."""
    root = root if root is not None else data.schema(SCHEMA_NAME)
    schema = _resolve(root if schema is None else schema, value, root)
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        required = schema.get("required", ())
        for key in [k for k, item in value.items() if item is None]:
            if key not in required and _resolve(properties.get(key, {}), None, root).get("type") == "string":
                del value[key]
        for key, item in value.items():
            if isinstance(item, (dict, list)):
                absent_nulls(item, properties.get(key, {}), root)
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, (dict, list)):
                absent_nulls(item, schema.get("items", {}), root)
    return value


def _resolve(schema: dict, value, root: dict) -> dict:
    """Follow $ref and if/then/else (the only composition the encounter schema uses)."""
    for _ in range(16):
        if "$ref" in schema:
            schema = _pointer(root, schema["$ref"])
        elif "if" in schema:
            condition = schema["if"]
            matches = isinstance(value, dict) and all(k in value for k in condition.get("required", ()))
            schema = schema["then"] if matches else schema["else"]
        else:
            break
    return schema


def _pointer(root: dict, ref: str) -> dict:
    node = root
    for part in ref.lstrip("#").split("/")[1:]:
        node = node[part]
    return node


# -------------------------------------------------------------------------------- validation


@lru_cache(maxsize=8)
def _schema(payers: tuple[str, ...], definition: str | None) -> dict:
    """The encounter schema, or one of its definitions, with the payer names of this run."""
    schema = copy.deepcopy(data.schema(SCHEMA_NAME))
    if definition is not None:
        for keyword in ("if", "then", "else"):
            schema.pop(keyword)
        schema["$ref"] = f"#/$defs/{definition}"
    if payers:
        payer = schema["$defs"]["encounter"]["properties"]["payer"]
        payer["enum"] = list(payers)
    return schema


@lru_cache(maxsize=8)
def record_reader(payers: tuple[str, ...]):
    """The typed reader of one encounter (records.py), with the payer names of this run."""
    from cptlint.records import RecordReader

    return RecordReader(_schema(tuple(sorted(payers)), "encounter"))


@lru_cache(maxsize=8)
def fast_check(payers: tuple[str, ...], definition: str | None):
    """Whether a value is valid, answered fast; validate() says what is wrong."""
    return compile_schema(_schema(tuple(sorted(payers)), definition))


def validator_for(schema: dict):
    """jsonschema's validator, with integers that are integers: YAML and JSON both allow 2.0,
    and a unit count written that way is still not a whole number."""
    import jsonschema

    base = jsonschema.Draft202012Validator
    checker = base.TYPE_CHECKER.redefine("integer", lambda _checker, v: isinstance(v, int) and not isinstance(v, bool))
    cls = jsonschema.validators.extend(base, type_checker=checker)
    return cls(schema, format_checker=base.FORMAT_CHECKER)


@lru_cache(maxsize=8)
def _validator(payers: tuple[str, ...], definition: str | None):
    return validator_for(_schema(payers, definition))


def validate(value, payers: tuple[str, ...] = (), definition: str | None = None) -> list[Problem]:
    """SCH003 problems for value (a whole file, or one `definition` of the schema), by path.
    The fast check answers for valid values; jsonschema explains the others."""
    payers = tuple(sorted(payers))
    if fast_check(payers, definition)(value):
        return []
    problems = {}
    for error in _validator(payers, definition).iter_errors(value):
        for problem in _problems(error):
            # one finding a fault: a key required in several branches of the schema is missing once
            problems.setdefault((problem.parts, problem.message), problem)
    return sorted(problems.values(), key=lambda p: [str(x) for x in p.parts])


def _problems(error) -> list[Problem]:
    parts = tuple(error.absolute_path)
    kind = error.validator
    if kind == "required":
        missing = [name for name in error.validator_value if name not in error.instance]
        return [
            Problem("SCH003", f'{_owner(parts)} is missing "{name}"', parts + (name,))
            for name in missing
        ]
    if kind == "additionalProperties":
        known = list(error.schema.get("properties", {}))
        patterns = [re.compile(p) for p in error.schema.get("patternProperties", {})]
        extras = [k for k in error.instance if k not in known and not any(p.search(k) for p in patterns)]
        return [
            Problem("SCH003", f'unknown field "{key}" in {_owner(parts)}{did_you_mean(key, known)}', parts + (key,), key=True)
            for key in extras
        ]
    return [Problem("SCH003", _message(error, parts), parts)]


def _message(error, parts: tuple) -> str:
    label, value, kind = _label(parts), _show(error.instance), error.validator
    template = error.schema.get("x-cptlint-message") if isinstance(error.schema, dict) else None
    if template and (kind in ("pattern", "format") or (kind == "type" and error.validator_value == "object")):
        return template.format(label=label, value=value)
    if kind == "type":
        wanted = error.validator_value
        wanted = [wanted] if isinstance(wanted, str) else wanted
        words = " or ".join(_TYPE_WORDS.get(w, w) for w in wanted)
        hint = ""
        if wanted == ["string"] and isinstance(error.instance, (int, float)) and not isinstance(error.instance, bool):
            hint = f' (write it in quotes: "{error.instance}")'
        return f"{label} must be {words}, got {value}{hint}"
    if kind == "minimum":
        return f"{label} must be at least {error.validator_value}, got {value}"
    if kind == "enum":
        options = ", ".join(str(o) for o in error.validator_value)
        hint = did_you_mean(str(error.instance), [str(o) for o in error.validator_value])
        return f"{label} must be one of {options}; got {value}{hint}"
    if kind == "minItems":
        return f"{label} must list at least {error.validator_value}"
    if kind == "minLength":
        return f"{label} must not be empty"
    if kind == "pattern":
        return f"{label} {value} does not match {error.validator_value}"
    return f"{label}: {error.message}"


def _label(parts: tuple) -> str:
    if not parts:
        return "the file"
    last = parts[-1]
    if isinstance(last, int):
        parent = str(parts[-2]) if len(parts) > 1 else "item"
        return f"{_SINGULAR.get(parent, parent)} {last + 1}"
    return str(last)


def _owner(parts: tuple) -> str:
    """What a missing or unknown key belongs to, in words."""
    if not parts:
        return "the encounter"
    return _label(parts)


def _shortened(text: str, most: int = 60) -> str:
    """A value as a message quotes it: a long one cut in the middle."""
    return text if len(text) <= most else f"{text[: most // 2]}…{text[-most // 4 :]} ({len(text):,} characters)"


def _show(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "nothing"
    if isinstance(value, (int, float)):
        return _shortened(repr(value))
    if isinstance(value, str):
        return json.dumps(_shortened(value), ensure_ascii=False)
    return "a list" if isinstance(value, list) else "a mapping"


def did_you_mean(word: str, known) -> str:
    import difflib  # only a misspelling needs it

    close = difflib.get_close_matches(word, list(known), n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""
