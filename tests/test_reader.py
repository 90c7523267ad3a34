"""Reading files: values as written, exact positions, and hostile input kept bounded."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cptlint import loader
from cptlint.formats.json import JsonIndex
from cptlint.schema import apply_types
from tests.conftest import codes, lint


def typed(text: str):
    doc = loader.load("x.yaml", text.encode())
    return apply_types(doc.root)


# ------------------------------------------------------------------------ values as written


@pytest.mark.parametrize(
    "source, path, expected",
    [
        ("services: [{code: 97140}]", ("services", 0, "code"), "97140"),
        ("services: [{modifiers: [59]}]", ("services", 0, "modifiers", 0), "59"),
        ("services: [{modifiers: [GP, 08]}]", ("services", 0, "modifiers", 1), "08"),
        ("provider: {npi: 0123456789}", ("provider", "npi"), "0123456789"),
        ("services: [{provider: {npi: 0123456789}}]", ("services", 0, "provider", "npi"), "0123456789"),
        ("date: 2026-03-14", ("date",), "2026-03-14"),
        ("services:\n  - start: 09:00", ("services", 0, "start"), "09:00"),
        ("diagnoses: [M54.50, 1.10]", ("diagnoses", 1), "1.10"),
        ("id: 1e3", ("id",), "1e3"),
        ("patient: 'null'", ("patient",), "null"),
        ("patient: '~'", ("patient",), "~"),
        ("encounters: [{services: [{code: 97140}]}]", ("encounters", 0, "services", 0, "code"), "97140"),
    ],
)
def test_text_fields_keep_what_was_written(source, path, expected):
    value = typed(source + "\n")
    for part in path:
        value = value[part]
    assert value == expected and type(value) is str


@pytest.mark.parametrize(
    "source, expected",
    [("units: 2", 2), ("units: 0", 0), ("units: 08", "08"), ("units: 012", "012"), ("units: two", "two"), ("units: '2'", "2"), ("units: 2.0", 2.0)],
)
def test_number_fields_are_numbers_only_when_written_as_numbers(source, expected):
    value = typed(f"services:\n  - {source}\n")["services"][0]["units"]
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize("written, expected", [("true", True), ("false", False), ("yes", "yes"), ("on", "on"), ("'true'", "true")])
def test_booleans_follow_yaml_1_2(written, expected):
    value = typed(f"services:\n  - group: {written}\n")["services"][0]["group"]
    assert value == expected and type(value) is type(expected)


def test_quoted_units_are_a_schema_error_not_a_number():
    found = lint(
        """\
        id: E
        date: 2026-03-14
        services:
          - {code: "97110", units: "2", minutes: 30}
        """,
        select=("SCH",),
    )
    assert [(d.code, d.message) for d in found] == [("SCH003", 'units must be a whole number, got "2"')]


def test_unquoted_code_in_yaml_is_accepted_as_text():
    found = lint("id: E\ndate: 2026-03-14\nservices:\n  - {code: 97110, units: 1, minutes: 15}\n", select=("SCH",))
    assert found == []


def test_number_for_code_in_json_is_reported_with_a_hint():
    found = lint('{"id": "E", "date": "2026-03-14", "services": [{"code": 97110, "units": 1}]}', "e.json", select=("SCH",))
    assert [d.message for d in found] == ['code must be text, got 97110 (write it in quotes: "97110")']


def test_explicit_tags():
    assert typed("a: !!str 5\nb: !!int '7'\n") == {"a": "5", "b": 7}
    doc = loader.load("x.yaml", b"a: !!int seven\n")
    assert doc.problems[0].code == "SCH001" and "!!int" in doc.problems[0].message
    doc = loader.load("x.yaml", b"a: !custom x\n")
    assert doc.problems[0].message == "unsupported YAML tag !custom"


def test_merge_keys_and_anchors():
    value = typed("base: &b {units: 1, minutes: 15}\nline:\n  <<: *b\n  minutes: 20\n")
    assert value["line"] == {"units": 1, "minutes": 20}


# ------------------------------------------------------------------------------- positions


YAML_DOC = """\
id: ENC-1
date: 2026-03-14
services:
  - code: "97140"
    units: two
    modifiers: [GP, 59, "XS"]
  - code: "97110"
    units: 1
    bogus: 3
"""


@pytest.mark.parametrize(
    "parts, key, expected",
    [
        (("id",), False, (1, 5, 1, 10)),
        (("id",), True, (1, 1, 1, 3)),
        (("services", 0, "units"), False, (5, 12, 5, 15)),
        (("services", 0, "modifiers", 1), False, (6, 21, 6, 23)),
        (("services", 0, "modifiers", 2), False, (6, 25, 6, 29)),
        (("services", 1, "bogus"), True, (9, 5, 9, 10)),
        (("services", 1, "minutes"), False, (7, 5, 10, 1)),  # missing: its parent
        (("services", 7), False, (4, 3, 10, 1)),  # no such index: the list
    ],
)
def test_yaml_positions(parts, key, expected):
    span = loader.load("x.yaml", YAML_DOC.encode()).span(parts, key)
    assert (span.line, span.column, span.end_line, span.end_column) == expected


JSON_DOC = '{\n\t"id": "ENC-1",\n\t"services": [\n\t\t{"code": "97140", "units": "two"},\n\t\t{"code": "97110", "units": 1, "bogus": [1, {"x": null}]}\n\t]\n}\n'


@pytest.mark.parametrize(
    "parts, key, expected",
    [
        (("id",), False, (2, 8, 2, 15)),
        (("id",), True, (2, 2, 2, 6)),
        (("services", 0, "units"), False, (4, 30, 4, 35)),
        (("services", 1, "bogus"), True, (5, 33, 5, 40)),
        (("services", 1, "bogus", 1, "x"), False, (5, 52, 5, 56)),
        (("services", 1, "minutes"), False, (5, 3, 5, 59)),
    ],
)
def test_json_positions(parts, key, expected):
    doc = loader.load("x.json", JSON_DOC.encode())
    span = doc.span(parts, key)
    assert (span.line, span.column, span.end_line, span.end_column) == expected


def test_positions_in_diagnostics_for_yaml_and_json():
    yaml_found = lint(YAML_DOC.replace("ENC-1", "E").replace("2026", "2026"), select=("SCH",))
    assert [(d.line, d.column, d.pointer, d.message) for d in yaml_found] == [
        (5, 12, "/services/0/units", 'units must be a whole number, got "two"'),
        (9, 5, "/services/1/bogus", 'unknown field "bogus" in service 2'),
    ]
    json_found = lint(JSON_DOC.replace('"id"', '"date": "2026-03-14", "id"'), "x.json", select=("SCH",))
    assert [(d.line, d.column, d.pointer) for d in json_found] == [(4, 30, "/services/0/units"), (5, 33, "/services/1/bogus")]


def test_missing_key_points_at_its_parent_and_names_it():
    found = lint("id: E\ndate: 2026-03-14\nservices:\n  - code: '97110'\n    minutes: 15\n", select=("SCH",))
    assert [(d.line, d.column, d.pointer, d.message) for d in found] == [
        (4, 5, "/services/0/units", 'service 1 is missing "units"')
    ]


def test_encounters_list_pointers_and_ids():
    found = lint(
        """\
        encounters:
          - id: A
            date: 2026-03-14
            services: [{code: "97110", units: 1, minutes: 15}]
          - id: B
            date: 2026-03-14
            services: [{code: "97110", units: -1, minutes: 15}]
        """,
        select=("SCH",),
    )
    assert [(d.pointer, d.encounter, d.line) for d in found] == [("/encounters/1/services/0/units", "B", 7)]


def test_ndjson_lines_are_records():
    text = (
        '{"id": "A", "date": "2026-03-14", "services": [{"code": "97110", "units": 1, "minutes": 15}]}\n'
        "\n"
        '{"id": "B", "date": "2026-03-14", "services": [{"code": "97110", "units": "x", "minutes": 15}]}\n'
        "{not json\n"
    )
    found = lint(text, "visits.ndjson", select=("SCH",))
    assert [(d.code, d.line, d.column, d.pointer, d.encounter) for d in found] == [
        ("SCH003", 3, 75, "/1/services/0/units", "B"),
        ("SCH001", 4, 2, "/2", None),
    ]


# --------------------------------------------------------------------------- input errors


def test_invalid_yaml_is_placed_where_the_parser_stopped():
    found = lint("id: E\ndate: 2026-03-14\nservices: [{code: '97110', units: 1\n")
    assert [(d.code, d.line) for d in found] == [("SCH001", 4)]
    assert found[0].message.startswith("not valid YAML:")


def test_invalid_json():
    found = lint('{"id": "E",\n  "date": }', "x.json")
    assert [(d.code, d.line, d.column) for d in found] == [("SCH001", 2, 11)]


def test_duplicate_key_at_second_occurrence_yaml_and_json():
    found = lint("id: E\ndate: 2026-03-14\nid: F\nservices: [{code: '97110', units: 1, minutes: 15}]\n", select=("SCH",))
    assert [(d.code, d.line, d.column, d.pointer) for d in found] == [("SCH002", 3, 1, "/id")]
    found = lint('{"id": "E", "date": "2026-03-14",\n "id": "F", "services": [{"code": "97110", "units": 1, "minutes": 15}]}', "x.json", select=("SCH",))
    assert [(d.code, d.line, d.column, d.pointer, d.encounter) for d in found] == [("SCH002", 2, 2, "/id", "E")]


@pytest.mark.parametrize("text", ["", "# nothing here\n", "---\n"])
def test_empty_file(text):
    assert codes(lint(text)) == ["SCH004"]


def test_empty_encounters_list():
    found = lint("encounters: []\n")
    assert [(d.code, d.pointer) for d in found] == [("SCH004", "/encounters")]


def test_top_level_list_is_a_schema_error():
    assert codes(lint("- id: E\n")) == ["SCH003"]


def test_two_yaml_documents():
    found = lint("id: A\n---\nid: B\n")
    assert [(d.code, d.line) for d in found] == [("SCH001", 2)]


# ---------------------------------------------------------------------------- hostile input


def _bounded(content: bytes, name: str = "x.yaml"):
    """Lint a hostile file and a harmless one after it; the run must reach the second."""
    from cptlint.config import Settings
    from cptlint.engine import Linter, Source

    found = Linter(Settings()).run([Source(name, lambda: content), Source("ok.yaml", lambda: b"encounters: []\n")]).diagnostics
    assert "ok.yaml" in {d.path for d in found}
    return [d for d in found if d.path == name]


def test_alias_bomb_is_refused():
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i, name in enumerate("bcdefghij"):
        prev = "abcdefghij"[i]
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    found = _bounded("\n".join(lines).encode())
    assert codes(found) == ["SCH001"] and "alias bomb" in found[0].message


@pytest.mark.parametrize("name", ["deep.yaml", "deep.json"])
def test_deep_nesting_flow(name):
    found = _bounded(b"[" * 5000 + b"]" * 5000, name)
    assert codes(found) == ["SCH001"] and "nested deeper than 64" in found[0].message


def test_deep_nesting_block_yaml():
    text = "".join("  " * i + f"k{i}:\n" for i in range(5000)) + "  " * 5000 + "v\n"
    found = _bounded(text.encode())
    assert codes(found) == ["SCH001"]


def test_non_utf8_bytes():
    found = _bounded(b"id: E\nnote: caf\xe9\n")
    assert [(d.code, d.line, d.column) for d in found] == [("SCH001", 2, 10)]
    assert "not UTF-8" in found[0].message


@pytest.mark.parametrize("name", ["nul.yaml", "nul.json"])
def test_nul_byte(name):
    content = b"id: E\x00\n" if name.endswith("yaml") else b'{"id": "E\x00"}'
    assert codes(_bounded(content, name)) == ["SCH001"]


@pytest.mark.parametrize("name", ["bom.yaml", "bom.json"])
def test_bom_is_skipped(name):
    body = b"id: E\ndate: 2026-03-14\nservices: [{code: '97110', units: 1, minutes: 15}]\n"
    if name.endswith("json"):
        body = json.dumps({"id": "E", "date": "2026-03-14", "services": [{"code": "97110", "units": 1, "minutes": 15}]}).encode()
    found = _bounded(b"\xef\xbb\xbf" + body, name)
    assert [d for d in found if d.code.startswith("SCH")] == []


def test_two_megabyte_file():
    service = '  - {code: "97110", units: 1, minutes: 15, notes: "' + "x" * 60 + '"}\n'
    body = "id: E\ndate: 2026-03-14\nservices:\n" + service * (2_000_000 // len(service))
    assert len(body) > 1_900_000
    found = _bounded(body.encode())
    assert not [d for d in found if d.code.startswith("SCH")]


def test_unreadable_path_is_a_finding(tmp_path):
    from cptlint.config import Settings
    from cptlint.engine import Linter

    missing = tmp_path / "gone.yaml"
    found = Linter(Settings()).lint_paths([missing]).diagnostics
    assert [(d.code, d.path) for d in found] == [("SCH001", str(missing))]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4),
    max_leaves=20,
)


def _paths(value, parts=()):
    yield parts
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        yield from _paths(item, parts + (key,))


def _written(text: str, span) -> str:
    starts = [0] + [i + 1 for i, char in enumerate(text) if char == "\n"]
    return text[starts[span.line - 1] + span.column - 1 : starts[span.end_line - 1] + span.end_column - 1]


@settings(max_examples=200, deadline=None)
@given(json_values, st.sampled_from([None, 0, 2]), st.booleans())
def test_every_json_key_and_value_is_placed_where_it_is_written(value, indent, ascii_only):
    text = json.dumps(value, indent=indent, ensure_ascii=ascii_only)
    index = JsonIndex(text)
    for parts in _paths(value):
        key_span, value_span = index.exact(parts)
        assert json.loads(_written(text, value_span)) == json.loads(json.dumps(_at(value, parts)))
        if parts and isinstance(parts[-1], str):
            assert json.loads(_written(text, key_span)) == parts[-1]
    assert index.exact(("no such key",)) is None
    assert index.closest((*next(iter(_paths(value))), "missing"), key=True) == index.exact(())[1]


@settings(max_examples=200, deadline=None)
@given(json_values, st.randoms(use_true_random=False))
def test_json_places_do_not_depend_on_the_order_they_are_asked_in(value, random):
    """A container is read only as far as the member asked for, and reading resumes there."""
    text = json.dumps(value)
    paths = list(_paths(value))
    in_order = JsonIndex(text)
    expected = {parts: in_order.exact(parts) for parts in paths}
    random.shuffle(paths)
    shuffled = JsonIndex(text)
    for parts in paths:
        assert shuffled.exact(parts) == expected[parts]
        if isinstance(_at(value, parts), (dict, list)):  # a missing member: the container's place
            assert shuffled.closest((*parts, "missing"), key=True) == expected[parts][1]
            assert shuffled.closest((*parts, 99), key=False) == expected[parts][1]


def _at(value, parts):
    for part in parts:
        value = value[part]
    return value


@pytest.mark.parametrize("text", ["0", '"x"', "true", " 5 "])
def test_a_path_into_a_scalar_is_placed_at_the_scalar(text):
    index = JsonIndex(text)
    assert index.closest(("services", 0), key=False) == index.exact(())[1]
    assert index.exact(("services",)) is None


@pytest.mark.parametrize("written", ["~", "null", "Null", ""])
def test_null_is_no_value_wherever_it_is_written(written):
    """YAML 1.2 core schema: ~, null and nothing are null, also where text is expected. An
    optional text written as null is missing; a required one is reported."""
    doc = typed(f"id: ENC-1\npatient: {written}\nservices:\n  - {{code: '97140', response: {written}}}\n")
    assert doc["patient"] is None and doc["services"][0]["response"] is None


def test_an_optional_text_written_as_null_is_missing_in_every_format():
    from tests.conftest import CLEAN_VISIT, lint

    base = CLEAN_VISIT.replace("    response: Cervical rotation improved 10 degrees\n", "    response: ~\n")
    assert [d.code for d in lint(base) if d.code.startswith(("DOC", "SCH"))] == ["DOC001"]
    import json as json_module

    from ruamel.yaml import YAML

    value = YAML(typ="safe").load(CLEAN_VISIT)
    value["date"] = str(value["date"])
    value["services"][0]["response"] = None
    value["patient"] = None
    for name, text in (("v.json", json_module.dumps(value)), ("v.ndjson", json_module.dumps(value) + "\n")):
        assert [d.code for d in lint(text, name) if d.code.startswith(("DOC", "SCH"))] == ["DOC001"], name


def test_two_files_with_patient_null_are_not_one_patient():
    from tests.conftest import CLEAN_VISIT, lint_files

    visit = CLEAN_VISIT.replace("patient: P-1", "patient: ~")
    found = lint_files({"a.yaml": visit, "b.yaml": visit.replace("ENC-1", "ENC-2")}, days_across_files=True)
    assert [d.code for d in found] == []  # each is a day of its own: no UNT006, DLV003 between them


def test_a_number_too_long_to_be_one_is_a_finding_not_a_traceback():
    from tests.conftest import CLEAN_VISIT, lint

    found = lint(CLEAN_VISIT.replace("units: 1\n", "units: " + "9" * 5000 + "\n"))
    assert [d.code for d in found] == ["SCH003"] and len(found[0].message) < 200
