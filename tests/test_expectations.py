"""How a file's `expect:` list meets its findings."""

from __future__ import annotations

from cptlint.diagnostics import Diagnostic, Severity
from cptlint.expectations import Expectation, compare, read_expectations


def finding(code: str, pointer: str) -> Diagnostic:
    return Diagnostic("f.yaml", 1, 1, 1, 2, code, Severity.ERROR, "m", pointer)


def test_pinned_and_plain_expectations():
    found = [finding("UNT001", "/services/0/units"), finding("MOD001", "/services/1/code")]
    expected = [Expectation.parse("MOD001"), Expectation.parse("UNT001@/services/0/units")]
    assert compare(expected, found) == ([], [])


def test_missing_and_unexpected():
    found = [finding("UNT001", "/services/1/units")]
    missing, unexpected = compare([Expectation.parse("UNT001@/services/0/units")], found)
    assert [str(m) for m in missing] == ["UNT001@/services/0/units"]
    assert unexpected == found


def test_pinned_entries_are_matched_before_plain_ones():
    found = [finding("UNT006", "/services/1/code"), finding("UNT006", "/services/2/code")]
    expected = [Expectation.parse("UNT006"), Expectation.parse("UNT006@/services/1/code")]
    assert compare(expected, found) == ([], [])


def test_reading_expectations():
    assert read_expectations("a.yaml", b"id: A\nexpect: [UNT001, MOD001@/services/0/code]\n") == [
        Expectation("UNT001"),
        Expectation("MOD001", "/services/0/code"),
    ]
    assert read_expectations("a.yaml", b"id: A\n") is None
    assert read_expectations("a.yaml", b"# expect: [SCH001]\nid: [\n") == [Expectation("SCH001")]
    lines = b'{"id": "A", "expect": ["UNT001@/services/0/units"]}\n{"id": "B"}\n'
    assert read_expectations("a.ndjson", lines) == [Expectation("UNT001", "/0/services/0/units")]
