"""Policy data: dates on pair edits, the CMS PTP and MUE files, and what the built-in data says."""

from __future__ import annotations

import pytest

from cptlint.config import Settings
from cptlint.engine import Linter, Source
from cptlint.policy import PolicyError, load_policy, read_ptp_text
from tests.conftest import codes

VISIT = """\
id: E
date: {date}
patient: P-1
provider: {{npi: "1234567893", discipline: PT}}
diagnoses: [I89.0]
services:
  - {{code: "{first}", units: 1, minutes: 15, modifiers: [GP], diagnosis_pointers: [1]}}
  - code: "97140"
    units: 1
    minutes: 15
    modifiers: [GP]
    regions: [lower_extremity]
    techniques: [manual_lymphatic_drainage]
    diagnosis_pointers: [1]
    response: Calf girth down 2 cm
    goal: Walk to the bus stop
"""


def lint_visit(date: str, first: str, settings: Settings | None = None):
    text = VISIT.format(date=date, first=first)
    return codes(Linter(settings or Settings()).run([Source("v.yaml", text.encode)]).diagnostics)


def test_pair_edit_effective_date():
    # 29581 with 97140: an edit (bypassable with 59) from 2022-01-01
    assert lint_visit("2022-01-03", "29581") == ["MOD001"]
    assert lint_visit("2021-12-30", "29581") == []


def test_builtin_pairs_are_sourced_and_supported():
    policy = load_policy()
    assert all(edit.source for edits in policy.pairs.values() for edit in edits)
    expected = {("98940", "97140"), ("98941", "97140"), ("98942", "97140"), ("97140", "97530"),
                ("97161", "97140"), ("97162", "97140"), ("97163", "97140"), ("97012", "97140"),
                ("29581", "97140"), ("29584", "97140")}
    assert expected <= set(policy.pairs)
    assert not policy.mue  # no unverified MUE values ship


CMS_PTP = (
    "CPT codes, descriptions and other data only are copyright American Medical Association.\n"
    "Column1\tColumn2\t*=in existence prior to 1996\tEffective Date\tDeletion Date\tModifier\tPTP Edit Rationale\n"
    "97750\t97140\t\t20200101\t*\t0\tMutually exclusive procedures\n"
    "97012\t97140\t\t20000101\t20250101\t1\tMisuse of column two code with column one code\n"
    "98940\t97140\t*\t19990401\t*\t1\tCPT Manual or CMS manual coding instruction\n"
)


def test_cms_ptp_file_adds_and_retires_pairs(tmp_path):
    ptp = tmp_path / "ccipra-v321r0-f4.txt"
    ptp.write_text(CMS_PTP)
    settings = Settings(ptp_files=(ptp,))
    assert lint_visit("2026-03-14", "97750", settings) == ["MOD001"]  # indicator 0: never together
    assert lint_visit("2026-03-14", "97012", settings) == []  # deleted 2025-01-01
    assert lint_visit("2024-06-01", "97012", settings) == ["MOD001"]
    rows = read_ptp_text(ptp, ptp.read_bytes())
    assert rows[2] == {
        "column1": "98940",
        "column2": "97140",
        "modifier_indicator": 1,
        "effective": "1999-04-01",
        "deleted": None,
        "source": "ccipra-v321r0-f4.txt line 5",
    }


def test_bad_ptp_row_names_the_line(tmp_path):
    ptp = tmp_path / "bad.txt"
    ptp.write_text("97750\t97140\t\t2020-01-01\t*\t0\tx\n")
    with pytest.raises(PolicyError, match="bad.txt:1: not a PTP row"):
        load_policy(ptp_files=(ptp,))


def test_mue_csv_without_header_is_refused(tmp_path):
    csv = tmp_path / "mue.csv"
    csv.write_text("97110,4,3\n")
    with pytest.raises(PolicyError, match="no header row"):
        load_policy(mue_file=csv)


def test_alias_to_unknown_region_is_refused(tmp_path):
    (tmp_path / "regions.yaml").write_text("aliases:\n  forearm: upper_arm\n")
    with pytest.raises(PolicyError, match='"forearm" maps to "upper_arm"'):
        load_policy((tmp_path,))


def test_extend_rules_adds_an_alias_and_a_technique(tmp_path):
    (tmp_path / "regions.yaml").write_text("aliases:\n  calf: lower_extremity\n")
    (tmp_path / "techniques.yaml").write_text("techniques:\n  cupping: manual_therapy\n")
    policy = load_policy((tmp_path,))
    assert policy.region("calf").name == "lower_extremity"
    assert policy.techniques["cupping"] == "manual_therapy" and policy.techniques["effleurage"] == "massage"


@pytest.mark.parametrize("therapy", ["97530", "97150"])
def test_a_pt_reevaluation_beside_therapeutic_activities_or_group_needs_59_on_the_reevaluation(therapy):
    """APTA "Correct Coding Initiative" (2020 update): 59/X is required for 97530 or 97150 on the
    day of a PT re-evaluation (97164); the CO-236 denial falls on 97164, the column-2 code."""
    from tests.conftest import lint

    minutes = "" if therapy == "97150" else ", minutes: 15"
    visit = (
        'id: ENC-1\ndate: {date}\npayer: medicare\npatient: P-1\nprovider: {{npi: "1234567893", discipline: PT}}\n'
        "diagnoses: [M54.50]\nservices:\n"
        '  - {{code: "97164", units: 1, modifiers: [GP{mod}], diagnosis_pointers: [1]}}\n'
        f'  - {{{{code: "{therapy}", units: 1{minutes}, modifiers: [GP], diagnosis_pointers: [1]{", group: true" if therapy == "97150" else ""}}}}}\n'
    )

    def pairs(text: str) -> list[str]:
        return [d.code for d in lint(text) if d.code in ("MOD001", "MOD002")]

    assert pairs(visit.format(date="2026-03-14", mod="")) == ["MOD001"]
    assert pairs(visit.format(date="2026-03-14", mod=", '59'")) == []
    assert pairs(visit.format(date="2019-06-01", mod="")) == []  # the edit took effect on 2020-01-01


def test_builtin_rows_without_a_sourced_date_say_so():
    policy = load_policy()
    for edits in policy.pairs.values():
        for edit in edits:
            assert (edit.effective is None) == ("date unknown" in edit.source), edit
