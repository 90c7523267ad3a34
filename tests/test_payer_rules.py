"""Visits a payer would pay (or deny on purpose) as billed, and the payer-specific rules: CQ/CO
de minimis, chiropractic AT/GA/GY, GP/GO/GN outside Medicare, Medicare code status."""

from __future__ import annotations

from pathlib import Path

import pytest

from cptlint.diagnostics import Severity
from tests.conftest import REPO, codes, lint

VISITS = sorted((REPO / "tests" / "fixtures" / "visits").glob("*.yaml"))


def visit(name: str) -> str:
    return (REPO / "tests" / "fixtures" / "visits" / f"{name}.yaml").read_text()


def graver(diagnostics) -> list[str]:
    return [f"{d.code} {d.message}" for d in diagnostics if d.severity >= Severity.WARNING]


@pytest.mark.parametrize("path", VISITS, ids=[p.stem for p in VISITS])
def test_a_correctly_billed_visit_gives_no_error_or_warning(path: Path):
    assert graver(lint(path.read_text(), name=path.name)) == []


def test_the_visits_are_each_kind_the_issue_names():
    assert {p.stem for p in VISITS} >= {
        "pta-cq-final-unit-exception",
        "pta-cq-two-units-left",
        "chiropractic-maintenance-with-ga",
        "two-therapists-one-day",
        "commercial-chiropractic-without-gp",
    }


def test_cq_on_the_unit_the_therapist_furnished_is_wrong():
    """The final-unit exception: with CQ on the PT's line too, both units carry it; one should."""
    text = visit("pta-cq-final-unit-exception").replace(
        "    minutes: 13\n    modifiers: [GP]\n", "    minutes: 13\n    modifiers: [GP, CQ]\n"
    )
    assert "MOD006" in codes(lint(text))


def test_neither_unit_marked_when_two_are_left_is_wrong():
    text = visit("pta-cq-two-units-left").replace("modifiers: [GP, CQ]", "modifiers: [GP]")
    assert "MOD006" in codes(lint(text))


def test_assistant_minutes_under_ten_percent_need_no_cq_but_more_do():
    head = (
        "id: E\ndate: 2026-04-06\npayer: medicare\npatient: P\n"
        'provider: {npi: "1234567893", discipline: PT}\ndiagnoses: [M54.50]\nservices:\n'
    )
    pt = '  - {{code: "97110", units: 1, minutes: {}, modifiers: [GP], diagnosis_pointers: [1]}}\n'
    pta = (
        '  - {{code: "97110", units: 0, minutes: {}, modifiers: [GP], diagnosis_pointers: [1],'
        ' provider: {{npi: "1245319599", discipline: PTA}}}}\n'
    )
    assert "MOD006" not in codes(lint(head + pt.format(20) + pta.format(2)))  # 2 of 22: de minimis
    assert "MOD006" in codes(lint(head + pt.format(5) + pta.format(10)))  # 10 of 15, the PT under 8


def test_maintenance_manipulation_needs_ga_or_at_and_never_both():
    text = visit("chiropractic-maintenance-with-ga")
    assert "MOD008" in codes(lint(text.replace("modifiers: [GA]", "modifiers: []")))
    assert codes(lint(text.replace("modifiers: [GA]", "modifiers: [AT, GA]"))) == ["MOD009"]


def test_commercial_gp_is_asked_of_therapists_as_a_warning_not_of_chiropractors():
    dc = visit("commercial-chiropractic-without-gp")
    assert "MOD005" not in codes(lint(dc))
    pt = "\n".join(
        line for line in dc.replace('discipline: DC', 'discipline: PT').splitlines() if "98940" not in line
    )
    found = [d for d in lint(pt) if d.code == "MOD005"]
    assert [d.severity for d in found] == [Severity.WARNING]
    chosen = [d for d in lint(pt, severity=(("MOD005", Severity.ERROR),)) if d.code == "MOD005"]
    assert [d.severity for d in chosen] == [Severity.ERROR]  # the user's severity has the last word


def test_medicare_still_asks_gp_of_every_therapy_code_as_an_error():
    text = visit("pta-cq-two-units-left").replace("modifiers: [GP]\n", "modifiers: []\n", 1)
    assert [d.severity for d in lint(text) if d.code == "MOD005"] == [Severity.ERROR]


MEDICARE_LINE = """\
id: E
date: 2026-04-06
payer: {payer}
patient: P
provider: {{npi: "1234567893", discipline: {discipline}}}
diagnoses: [M54.50]
services:
  - {{code: "{code}", units: 1, modifiers: [{modifiers}], diagnosis_pointers: [1]}}
"""


@pytest.mark.parametrize(
    "code, discipline, modifiers, payer, expected",
    [
        ("97014", "PT", "GP", "medicare", Severity.ERROR),  # not valid for Medicare: G0283
        ("G0283", "PT", "GP", "medicare", None),
        ("97014", "PT", "GP", "commercial", None),
        ("97010", "PT", "GP", "medicare", Severity.WARNING),  # status B
        ("20560", "PT", "", "medicare", Severity.WARNING),  # non-covered by a therapist
        ("20560", "PT", "GY", "medicare", None),
        ("98943", "DC", "", "medicare", Severity.WARNING),  # not a Medicare benefit
        ("98943", "DC", "GY", "medicare", None),
    ],
)
def test_medicare_code_status(code, discipline, modifiers, payer, expected):
    text = MEDICARE_LINE.format(code=code, discipline=discipline, modifiers=modifiers, payer=payer)
    found = [d for d in lint(text) if d.code == "PAY003"]
    assert [d.severity for d in found] == ([expected] if expected else [])
    assert "PAY002" not in codes(lint(text))  # one finding for one fact


def test_an_unknown_code_is_information_not_silence():
    text = MEDICARE_LINE.format(code="97039", discipline="PT", modifiers="GP", payer="medicare")
    found = [d for d in lint(text) if d.code == "UNT008"]
    assert [d.severity for d in found] == [Severity.INFO]
    known = MEDICARE_LINE.format(code="97012", discipline="PT", modifiers="GP", payer="medicare")
    assert "UNT008" not in codes(lint(known))
