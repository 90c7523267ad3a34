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


PAIR_DAY = """\
id: E
date: 2026-04-06
payer: medicare
patient: P
provider: {{npi: "1234567893", discipline: PT}}
diagnoses: [M54.50]
services:
  - {{code: "{first}", units: 1, modifiers: [GP{first_mods}], diagnosis_pointers: [1], start: "09:00", end: "09:30"{group}}}
  - {{code: "{second}", units: 1, minutes: 15, modifiers: [GP{second_mods}], diagnosis_pointers: [1], start: "09:30", end: "09:45"}}
"""


def pair_codes(first, second, first_mods="", second_mods="", group=False):
    text = PAIR_DAY.format(
        first=first, second=second, first_mods=first_mods, second_mods=second_mods, group=", group: true" if group else ""
    )
    return [c for c in codes(lint(text)) if c in ("MOD001", "MOD002", "MOD004")]


def test_group_therapy_and_a_one_on_one_code_are_an_ncci_pair_of_unverified_order():
    """atlas.contentguild.co.uk: 97150 and 97110-97542 are subject to NCCI; no source read gives
    the column order, so a bypass on either line satisfies the edit and MOD002 says nothing."""
    assert pair_codes("97150", "97110", group=True) == ["MOD001"]
    assert pair_codes("97150", "97110", second_mods=', "59"', group=True) == []
    assert pair_codes("97150", "97110", first_mods=', "59"', group=True) == []


def test_mod002_speaks_only_where_the_column_order_is_known():
    assert pair_codes("97161", "97140", first_mods=', "59"') == []  # evaluation/97140: order unverified
    assert pair_codes("97012", "97140", first_mods=', "59"') == ["MOD002"]  # AAPC: 59 on 97140


def test_mod004_reads_the_modifier_on_either_line_where_the_order_is_unverified():
    # XP (separate practitioner) on the evaluation, both lines by one NPI: contradicted
    assert pair_codes("97161", "97140", first_mods=", XP") == ["MOD004"]


def test_cq_is_judged_over_the_day_whichever_encounter_holds_the_assistants_line():
    """One visit written as two encounters (the PT's and the PTA's) of one patient and date: the
    units of 97110 are counted together, as on the claim."""
    pt = """\
encounters:
  - id: E-PT
    date: 2026-04-06
    payer: medicare
    patient: P
    provider: {npi: "1234567893", discipline: PT}
    diagnoses: [M54.50]
    services:
      - {code: "97110", units: 1, minutes: 5, modifiers: [GP], diagnosis_pointers: [1]}
  - id: E-PTA
    date: 2026-04-06
    payer: medicare
    patient: P
    provider: {npi: "1234567893", discipline: PT}
    diagnoses: [M54.50]
    services:
      - {code: "97110", units: 0, minutes: 10, modifiers: [GP], diagnosis_pointers: [1], provider: {npi: "1245319599", discipline: PTA}}
"""
    assert "MOD006" in codes(lint(pt))  # 10 of 15 minutes by the PTA: the one unit is hers
    de_minimis = pt.replace("minutes: 10", "minutes: 2").replace("minutes: 5", "minutes: 20")
    assert "MOD006" not in codes(lint(de_minimis))  # 2 of 22 minutes: de minimis


def test_an_untimed_code_carries_cq_when_the_assistant_furnished_more_than_ten_percent():
    """The de minimis standard applies to an untimed code over its total time (APTA "Quick guide
    to using the PTA modifier": more than 10% of the total time of an untimed service)."""
    text = """\
id: E
date: 2026-04-06
payer: medicare
patient: P
provider: {{npi: "1234567893", discipline: PT}}
diagnoses: [M54.50]
services:
  - {{code: "97150", units: 1, group: true, minutes: {pt}, modifiers: [GP{mark}], diagnosis_pointers: [1]}}
  - {{code: "97150", units: 0, group: true, minutes: {pta}, modifiers: [GP], diagnosis_pointers: [1], provider: {{npi: "1245319599", discipline: PTA}}}}
"""
    assert "MOD006" in codes(lint(text.format(pt=30, pta=15, mark="")))
    assert "MOD006" not in codes(lint(text.format(pt=30, pta=15, mark=", CQ")))
    assert "MOD006" not in codes(lint(text.format(pt=40, pta=3, mark="")))


def test_a_diagnosis_written_without_its_decimal_point_says_how_to_write_it():
    text = visit("two-therapists-one-day").replace("diagnoses: [M54.50]", "diagnoses: [M5450]")
    [message] = [d.message for d in lint(text) if d.code == "DX001"]
    assert 'write it "M54.50"' in message
    lower = [d.message for d in lint(text.replace("M5450", "m54.50")) if d.code == "DX001"]
    assert lower == ['"m54.50" is not an ICD-10-CM code (did you mean "M54.50"?)']
