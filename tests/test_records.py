"""The typed record reader (cptlint/records.py): what it vouches for, the schema allows, and an
NDJSON file gives the same findings whether its records are read that way or the ordinary way."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cptlint import schema
from cptlint.config import Settings
from cptlint.engine import Linter
from cptlint.model import MappingRecord
from cptlint.records import RecordReader
from tests.test_speed import BASE, EDITS, edited

PAYERS = ("commercial", "medicare")
READER = schema.record_reader(PAYERS)
CLEAN = json.dumps(BASE)


def _fields(record, struct: type | None = None) -> dict:
    """What the builder reads of a record: every field of the schema, and so of the records within."""
    struct = struct or READER.type
    nested = {key: (is_list, item) for key, is_list, item in READER.nested[struct]}
    out = {}
    for name in struct.__struct_fields__:
        value = getattr(record, name)
        if name in nested and value is not None:
            is_list, item = nested[name]
            value = tuple(_fields(v, item) for v in value) if is_list else _fields(value, item)
        out[name] = value
    return out


def _valid(doc) -> bool:
    return not list(schema._validator(PAYERS, "encounter").iter_errors(doc))


@settings(max_examples=400, deadline=None)
@given(EDITS)
def test_what_the_reader_vouches_for_the_schema_allows(edits):
    doc = edited(edits)
    record = READER.read(json.dumps(doc))
    if record is not None:
        assert _valid(doc)
        assert _fields(record) == _fields(MappingRecord(doc))  # the same record, read from text or from a mapping
    # the reader never refuses a schema-valid record without notes and without text that reads like a key's end
    elif _valid(doc) and "x-extra" not in doc and not any(_like_a_key_end(text) for text in _strings(doc)):
        pytest.fail(f"a clean record refused: {doc}")


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _like_a_key_end(text: str) -> bool:
    return text.startswith(":") or any(s in text for s in ('":', " :", "\t:", "\r:"))


def test_a_clean_record_is_read_whole():
    record = READER.read(CLEAN)
    assert (record.id, record.payer, record.provider.npi, record.diagnoses) == ("E", "medicare", "1234567893", ("M54.50",))
    (line,) = record.services
    assert (line.code, line.units, line.modifiers, line.group, line.provider) == ("97140", 2, ("GP",), False, None)


@pytest.mark.parametrize(
    "text",
    [
        CLEAN.replace('{"id": "E", ', '{"id": "E", "id": "F", '),  # a repeated key: the decoder keeps the last
        CLEAN.replace('"npi": "1234567893"', '"npi": "1234567893", "npi": "1234567894"'),  # repeated in a nested object
        CLEAN.replace('"units": 2,', '"units": 2, "units": 2,'),  # repeated with the same value
        CLEAN.replace('{"id": "E", ', '{"id" : "E", "id": "F", '),  # repeated, the count evened by a spaced colon
        CLEAN.replace('{"id": "E", ', '{"id"\t: "E", "id": "F", '),  # ... by a tab before the colon
        CLEAN.replace('{"id": "E", ', '{"id"\r: "E", "id": "F", '),  # ... by a carriage return
        CLEAN.replace('"payer": "medicare"', '"payer": "medicare", "x-note": {"a": 1}'),  # a note: left to the schema check
        CLEAN.replace('"response": "r"', '"response": "see \\":\\" below"'),  # a string holding `":`
        CLEAN.replace('"units": 2', '"units": 2.0'),
        CLEAN.replace('"minutes": 30', '"minutes": null'),
        CLEAN.replace('"date": "2026-03-14"', '"date": "2026-02-30"'),
        CLEAN.replace('"payer": "medicare"', '"payer": "acme"'),
        CLEAN.replace('"goal": "g"', '"goal": "\\ud800"'),  # a lone surrogate, which json.loads allows
        CLEAN + " x",
        "[" + CLEAN + "]",
    ],
)
def test_the_reader_refuses_what_it_cannot_vouch_for(text):
    assert READER.read(text) is None


@pytest.mark.parametrize(
    "node, refused",
    [
        ({"type": "array", "items": {"type": "string"}, "uniqueItems": True}, "uniqueItems"),
        ({"type": "object", "properties": {"d": {"type": "string", "format": "email"}}}, "format"),
        ({"type": "object", "properties": {"class": {"type": "string"}}}, "class"),
        ({"type": "object", "additionalProperties": {"type": "string"}}, "without properties"),
        ({"type": "number"}, "number"),
        ({"type": "string"}, "not an object"),
        ({"$defs": {"a": {"type": "array", "items": {"$ref": "#/$defs/a"}}}, "$ref": "#/$defs/a"}, "recursive"),
    ],
)
def test_the_reader_refuses_a_schema_it_does_not_know(node, refused):
    with pytest.raises(ValueError, match=refused):
        RecordReader(node)


def _findings(tmp_path, text: str) -> list:
    path = tmp_path / "export.ndjson"
    path.write_text(text, encoding="utf-8")
    result = Linter(Settings()).lint_file(str(path), path.read_bytes())
    return [d.as_dict() for d in result.diagnostics]


LAYOUTS = st.sampled_from([(", ", ": "), (",", ":"), (", ", " : "), (",", ":\t"), (",", "\t:")])
TWEAKS = st.sampled_from(["", "repeat-id", "repeat-units", "note", "quote-colon"])


def _written(doc, layout, tweak: str) -> str:
    text = json.dumps(doc, separators=layout)
    colon = layout[1]
    if tweak == "repeat-id":
        text = text.replace("{", '{"id"' + colon + '"other"' + layout[0], 1)
    elif tweak == "repeat-units":
        text = text.replace('"units"' + colon, '"units"' + colon + "9" + layout[0] + '"units"' + colon, 1)
    elif tweak == "note":
        text = text.replace("{", '{"x-note"' + colon + '{"id"' + colon + "1}" + layout[0], 1)
    elif tweak == "quote-colon" and isinstance(doc, dict) and isinstance(doc.get("id"), str):
        text = text.replace(json.dumps(doc["id"]), json.dumps(doc["id"] + '":'), 1)
    return text


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(EDITS, LAYOUTS, TWEAKS), min_size=1, max_size=3))
def test_a_file_gives_the_same_findings_read_either_way(tmp_path_factory, monkeypatch_records, lines):
    text = "\n".join(_written(edited(edits), layout, tweak) for edits, layout, tweak in lines) + "\n"
    tmp_path = tmp_path_factory.mktemp("either")
    fast = _findings(tmp_path, text)
    with monkeypatch_records.context() as patched:
        patched.setattr(RecordReader, "read", lambda self, text: None)  # every record the ordinary way
        ordinary = _findings(tmp_path, text)
    assert fast == ordinary


@pytest.fixture(scope="module")
def monkeypatch_records():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def _paths(value, parts=()):
    """Every place in a JSON value, and one just past each container's last member."""
    yield parts
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, parts + (key,))
        yield parts + ("missing",)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, parts + (index,))
        yield parts + (len(value),)


@settings(max_examples=150, deadline=None)
@given(EDITS, LAYOUTS)
def test_a_vouched_record_places_a_finding_where_the_walk_from_the_root_does(edits, layout):
    from cptlint.formats.ndjson import record_document

    text = json.dumps(edited(edits), separators=layout)
    if READER.read(text) is None:
        return
    for parts in _paths(json.loads(text), (7,)):
        for key in (False, True):
            by_search = record_document("e.ndjson", text, 3, 7, READER.root_keys).span(parts, key)
            by_walk = record_document("e.ndjson", text, 3, 7).span(parts, key)
            assert by_search == by_walk, parts
