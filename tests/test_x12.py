"""X12 837P claims read into encounters: positions at the element, the rules the format can run,
envelope checks, and the public samples of ../shared/samples/x12 (read, never copied)."""

from __future__ import annotations

import re

import pytest

from cptlint.checks.input import ClaimStructure, IcdNineClaim
from tests.conftest import SHARED, lint

SAMPLES = sorted((SHARED / "samples" / "x12").glob("*")) if (SHARED / "samples" / "x12").is_dir() else []
GOOD = ClaimStructure.example("Passes")


def claim(**changes) -> str:
    text = GOOD
    for old, new in changes.items():
        text = text.replace(old.replace("_", "*"), new)
    return text


def found(text: str, name: str = "claim.837"):
    return [(d.code, d.line, d.column) for d in lint(text, name=name)]


def test_a_correctly_billed_claim_gives_no_finding():
    assert found(GOOD) == []
    assert found(IcdNineClaim.example("Passes")) == []


def test_a_claim_named_otherwise_is_recognised_by_its_isa_segment():
    assert found(GOOD, name="claim.txt") == []


def test_the_same_visit_as_yaml_and_as_837p_gives_the_same_findings_of_the_rules_837p_can_run():
    """97140 without GP for Medicare (SBR09 MB): MOD005 in both, at the modifiers of the line;
    the YAML visit's minutes-, technique- and documentation-rules do not run on the claim."""
    x12 = claim(**{"*CI~": "*MB~", "HC:97140:GP*": "HC:97140*"})
    yaml = """\
id: VISIT-1
date: 2026-04-06
payer: medicare
patient: W123456789
billing_provider: {npi: "1567890128"}
provider: {npi: "1234567893", discipline: PT}
diagnoses: [M54.50]
services:
  - {code: "97140", units: 1, modifiers: [], diagnosis_pointers: [1]}
"""
    from_claim = lint(x12, name="claim.837")
    from_yaml = {d.code for d in lint(yaml)}
    assert [d.code for d in from_claim] == ["MOD005"]
    assert "MOD005" in from_yaml and {"UNT003", "MAN005", "REG004", "DOC001", "DOC002"} <= from_yaml
    [finding] = from_claim
    line = x12.splitlines()[finding.line - 1]
    assert line.startswith("SV1*") and line[finding.column - 1 :].startswith("HC:97140")


def test_a_finding_is_placed_at_its_element():
    text = claim(**{"HC:97140:GP*120*UN*1": "HC:97140:GP*120*UN*9"})  # 9 units: above one a day? no: UNT rules need minutes
    assert [c for c, *_ in found(text)] == []  # units alone say nothing without minutes
    text = claim(**{"XX*1234567893~": "XX*1234567894~"})  # the rendering NPI's check digit
    [(code, line, column)] = found(text)
    row = text.splitlines()[line - 1]
    assert code == "NPI001" and row.startswith("NM1*82") and row[column - 1 :].startswith("1234567894")


def test_envelope_counts_and_control_numbers_are_checked_at_their_element():
    bad_count = claim(**{"SE*16*0001~": "SE*15*0001~"})
    [(code, line, column)] = found(bad_count)
    assert code == "SCH006" and bad_count.splitlines()[line - 1][column - 1 :].startswith("15")
    bad_control = claim(**{"IEA*1*000000001~": "IEA*1*000000002~"})
    assert [c for c, *_ in found(bad_control)] == ["SCH006"]
    no_lines = "\n".join(row for row in GOOD.splitlines() if not row.startswith(("LX", "SV1", "DTP")))
    no_lines = no_lines.replace("SE*16*0001~", "SE*13*0001~")
    assert [c for c, *_ in found(no_lines)] == ["SCH006"]  # a claim without service lines, and no SCH004 after it


def test_an_icd9_claim_is_one_finding_not_a_cascade():
    assert [c for c, *_ in found(IcdNineClaim.example("Fails"))] == ["SCH007"]


def test_a_wrong_component_separator_is_said_once_and_the_claim_read_with_the_one_used():
    text = claim(**{"*P*:~": "*P*^~"})  # ISA16 says ^, the segments use :
    [(code, line, column)] = found(text)
    assert (code, line, column) == ("SCH006", 1, 105)


@pytest.mark.parametrize("path", SAMPLES, ids=[p.name for p in SAMPLES])
def test_every_public_sample_is_read_without_a_traceback_and_its_findings_are_explained(path):
    """All samples carry ICD-9 claims (HI BK, dates of 2005-2006): one SCH007 a claim. Three
    declare ':' in ISA16 (the byte at 104) while their segments use '>' (example11 among them,
    though the samples README says otherwise: its byte 104 is ':'). Every imsweb file's SE01
    says 25 whatever the transaction holds (34 segments in the two-claim files, 11,486 in the
    410-claim one); pyx12 reports the same count errors."""
    diagnostics = lint(path.read_text(encoding="latin-1"), name=path.name)
    codes = [d.code for d in diagnostics]
    assert set(codes) <= {"SCH006", "SCH007"} and "SCH007" in codes
    structure = [d.message for d in diagnostics if d.code == "SCH006"]
    if path.name in ("lfh_demo.example6.837", "lfh_demo.example9.837", "lfh_demo.example11.837"):
        assert structure == ["ISA16 declares ':' as the component separator, but the segments use '>': read with '>'"]
    elif path.name.startswith("imsweb_x12_valid"):
        assert structure == ["SE01 says 25, but the transaction holds 34 segments (ST to SE)"]
    elif path.name == "imsweb_x12_many_claims.txt":
        assert structure == ["SE01 says 25, but the transaction holds 11486 segments (ST to SE)"]
    else:
        assert structure == []
    # One SCH007 per CLM segment, counted here without the reader (820 in the "410-claim" file:
    # the samples README counts its 410 two-claim groups).
    text = path.read_text(encoding="latin-1")
    terminator = text[105]
    claims = sum(1 for s in text.split(terminator) if s.strip().startswith("CLM" + text[3]))
    assert codes.count("SCH007") == claims


@pytest.mark.parametrize(
    "change, message",
    [
        ({"SBR*P*18*******CI~": "SBR*P*18*******ZQ~"}, "SBR09 is ZQ, not a claim filing indicator code"),
        ({"SBR*P*18*******CI~": "SBR*P*18~"}, "SBR09, the claim filing indicator, is missing"),
        ({"HI*ABK:M5450~": ""}, "claim VISIT-1 has no diagnosis (HI with ABK, loop 2300)"),
        ({"HI*ABK:M5450~": "HI*ABF:M5450~"}, "HI01 is ABF: the first diagnosis is the principal one (ABK)"),
        ({"HI*ABK:M5450~": "HI*ABK:M5450*ZZZ:M25511~"}, "HI02 qualifier ZZZ is not a diagnosis (ABF)"),
        ({"NM1*85*2*LAKESIDE PHYSICAL THERAPY*****XX*1567890128~": ""}, "loop 2010AA (NM1*85, the billing provider) is missing"),
        ({"NM1*IL*1*DOE*JANE****MI*W123456789~": ""}, "loop 2010BA (NM1*IL, the subscriber) is missing before claim VISIT-1"),
        ({"DTP*472*D8*20260406~": ""}, "the service line has no date of service (DTP*472, loop 2400): it is not read"),
    ],
)
def test_a_missing_required_segment_or_a_code_out_of_its_list_is_sch006_at_its_place(change, message):
    """005010X222A1: SBR09 is required and from its code list; 2300 HI (ABK first) is required;
    2010AA NM1*85 and 2010BA NM1*IL are required; 2400 DTP*472 is required on every line."""
    text = GOOD
    for old, new in change.items():
        segments_removed = old.count("~") - new.count("~")
        text = text.replace(old, new)
        text = re.sub(r"SE\*(\d+)\*", lambda m: f"SE*{int(m.group(1)) - segments_removed}*", text)  # SE01 kept true
    diagnostics = lint(text, name="claim.837")
    assert [d.message for d in diagnostics if d.code == "SCH006"] == [message]
    [finding] = [d for d in diagnostics if d.code == "SCH006"]
    lines = text.splitlines()
    written = lines[finding.line - 1]
    assert written[:3] in ("SBR", "CLM", "HI*", "HL*", "SV1"), written  # on the segment it is about
    if "SBR09 is" in message or "HI0" in message:
        assert written[finding.column - 1 :].startswith(("ZQ", "ABF", "ZZZ"))


def test_other_hi_segments_are_read_past():
    """An HI of condition codes (BG) beside the diagnosis HI carries no diagnosis."""
    text = GOOD.replace("HI*ABK:M5450~", "HI*ABK:M5450~\nHI*BG:01~").replace("SE*16*", "SE*17*")
    assert found(text) == []


def test_segments_that_end_otherwise_than_isa_says_are_read_as_written_and_said_once():
    """ISA's byte 105 says '~', the segments after it end with line breaks: one SCH006 at that
    byte, and the claim is read (a correctly billed one, so nothing else)."""
    lines = GOOD.splitlines()
    text = lines[0] + "\n" + "\n".join(line.rstrip("~") for line in lines[1:]) + "\n"
    diagnostics = lint(text, name="claim.837")
    assert [(d.code, d.line, d.column) for d in diagnostics] == [("SCH006", 1, 106)]
    assert "segments end with a line break" in diagnostics[0].message
    # a line break declared as the terminator, and used, is as good as '~'
    declared = GOOD.splitlines()[0][:-1] + "\n" + "\n".join(line.rstrip("~") for line in GOOD.splitlines()[1:]) + "\n"
    assert declared[105] == "\n" and lint(declared, name="claim.837") == []

