"""X12 837P claims read into encounters: positions at the element, the rules the format can run,
envelope checks, and the public samples of ../shared/samples/x12 (read, never copied)."""

from __future__ import annotations

import re

import pytest

from cptlint.checks.input import ClaimStructure, IcdNineClaim
from tests.conftest import SHARED, lint, lint_bytes

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



# --- a claim file read a part at a time -------------------------------------------------------

SE_TO_GE = "GE*1*1~\nIEA*1*000000001~\n"


def claims_file(claims, ending: str = "~\n") -> str:
    """An interchange of claims, each (claim id, member id, the codes of its lines), for
    Medicare (SBR09 MB), all on 2026-04-06, its SE01 true; segments end with ending."""
    head = GOOD.split("HL*2*1*22*0~\n")[0].split("~\n")[:-1]
    body = []
    for number, (claim_id, member, codes) in enumerate(claims, start=2):
        body += [
            f"HL*{number}*1*22*0", "SBR*P*18*******MB", f"NM1*IL*1*DOE*JANE****MI*{member}",
            f"CLM*{claim_id}*120***11:B:1*Y*A*Y*Y", "HI*ABK:M5450", "NM1*82*1*RIVERA*ANA****XX*1234567893",
            "PRV*PE*PXC*225100000X",
        ]
        for line, code in enumerate(codes, start=1):
            body += [f"LX*{line}", f"SV1*HC:{code}:GP*120*UN*1***1", "DTP*472*D8*20260406"]
    segments = head + body + [f"SE*{len(head) - 2 + len(body) + 1}*0001"] + SE_TO_GE.split("~\n")[:-1]
    return "".join(segment + ending for segment in segments)


def _at(text: str, finding) -> str:
    """The text from a finding's line and column on (lines broken as positions count them)."""
    from cptlint.loader import split_lines

    return split_lines(text)[finding.line - 1][finding.column - 1 :]


def test_a_claim_file_is_handed_on_a_part_at_a_time_before_it_is_read_to_its_end(monkeypatch):
    """Memory flat however many claims a file holds: the first part comes before the stream is
    read to its end, and no part holds more than PART_CLAIMS claims."""
    import io

    from cptlint.formats import x12

    monkeypatch.setattr(x12, "CHUNK", 4096)
    text = claims_file([(f"C{i}", f"W{i:08d}", ["97140", "97110"]) for i in range(1000)])

    class Counted(io.BytesIO):
        read_so_far = 0

        def read(self, size=-1):
            assert 0 < size <= 4096  # never the whole stream at once
            data = super().read(size)
            self.read_so_far += len(data)
            return data

    stream = Counted(text.encode())
    parts = x12.parts("claims.837", stream)
    first = next(parts)
    assert len(first.root["encounters"]) == x12.PART_CLAIMS and first.first == 0
    assert stream.read_so_far < len(text) / 4
    rest = list(parts)
    assert all(len(p.root["encounters"]) <= x12.PART_CLAIMS for p in rest)
    assert [p.first for p in rest] == [x12.PART_CLAIMS * n for n in range(1, len(rest) + 1)]
    assert sum(len(p.root["encounters"]) for p in [first, *rest]) == 1000


def test_a_patients_claims_apart_in_the_file_are_one_day(monkeypatch):
    """NCCI PTP edits apply to one beneficiary, provider and date of service (APTA, "NCCI Code
    Edits: Your Questions Answered", 2020): 97530 on one claim and 97140 on another of the same
    patient and date is MOD001, however far apart the claims are written; each claim read as a
    part of its own here, so the day is joined across parts."""
    from cptlint.formats import x12

    monkeypatch.setattr(x12, "PART_CLAIMS", 1)
    apart = claims_file([("A1", "W00000001", ["97140"]), ("B1", "W00000002", ["97110"]), ("A2", "W00000001", ["97530"])])
    [finding] = lint(apart, name="claims.837")
    assert finding.code == "MOD001" and finding.encounter == "A2" and _at(apart, finding).startswith("97530")
    together = claims_file([("A1", "W00000001", ["97140"]), ("A2", "W00000001", ["97530"]), ("B1", "W00000002", ["97110"])])
    assert [(d.code, d.encounter) for d in lint(together, name="claims.837")] == [("MOD001", "A2")]
    alone = claims_file([("A2", "W00000001", ["97530"]), ("B1", "W00000002", ["97110"])])
    assert lint(alone, name="claims.837") == []


def test_a_claim_id_used_again_parts_apart_is_sch005_at_the_second(monkeypatch):
    from cptlint.formats import x12

    monkeypatch.setattr(x12, "PART_CLAIMS", 1)
    text = claims_file([("X1", "W00000001", ["97110"]), ("Y1", "W00000002", ["97110"]), ("X1", "W00000003", ["97110"])])
    [finding] = lint(text, name="claims.837")
    assert finding.code == "SCH005" and finding.line == text.splitlines().index("CLM*X1*120***11:B:1*Y*A*Y*Y~", 20) + 1
    assert _at(text, finding).startswith("X1*")


@pytest.mark.parametrize("ending", ["~\n", "~\r\n", "~", "~\r", "~\n\n  "])
def test_positions_are_exact_whatever_the_line_breaks_and_the_chunks(monkeypatch, ending):
    """Each finding at its element, however the segments are laid out and wherever the chunks
    the file is read in cut it (a CR LF split between two chunks among them)."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from cptlint.formats import x12

    text = claims_file([(f"C{i}", f"W{i:08d}", ["97140", "97530"]) for i in range(6)], ending)
    expected = 6 * ["97530"]

    @settings(max_examples=25, deadline=None)
    @given(st.integers(min_value=1, max_value=400))
    def check(chunk):
        monkeypatch.setattr(x12, "CHUNK", chunk)
        found = lint(text, name="claims.837")
        assert [d.code for d in found] == 6 * ["MOD001"]
        assert [_at(text, d)[:5] for d in found] == expected

    check()


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
def test_a_byte_that_is_not_utf8_is_sch001_where_it_stands_after_the_claims_before_it(bom):
    from cptlint.loader import decode

    text = bom + claims_file([(f"C{i}", f"W{i:08d}", ["97140", "97530"]) for i in range(3)]).encode()
    bad = text.replace(b"NM1*IL*1*DOE*JANE****MI*W00000002", b"NM1*IL*1*DOE*J\xc3\xa9\xffNE****MI*W00000002")
    _, expected = decode(bad)
    diagnostics = lint_bytes(bad, "claims.837")
    assert [d.code for d in diagnostics] == ["MOD001", "MOD001", "SCH001"]  # the claims read before it are checked
    [sch001] = [d for d in diagnostics if d.code == "SCH001"]
    assert (sch001.line, sch001.column) == (expected.span.line, expected.span.column) and "0xff" in sch001.message


def test_a_claim_file_is_not_held_to_max_file_size(tmp_path):
    """It is never held whole, as an NDJSON file is not."""
    from cptlint.config import Settings
    from cptlint.engine import Linter, file_source

    path = tmp_path / "claims.837"
    path.write_text(claims_file([("C1", "W00000001", ["97140", "97530"])]))
    diagnostics = Linter(Settings(max_file_size=100)).run([file_source(str(path))]).diagnostics
    assert [d.code for d in diagnostics] == ["MOD001"]


def test_the_text_report_shows_the_segment_of_a_finding_on_a_long_line_and_again_from_the_cache(tmp_path, monkeypatch):
    """An 837P written on one line: the excerpt is the finding's segment, its caret under the
    element; a second run, from the cache, shows the same."""
    from click.testing import CliRunner

    from cptlint.cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "claims.837").write_text(claims_file([(f"C{i}", f"W{i:08d}", ["97140", "97530"]) for i in range(40)], "~"))
    first = CliRunner().invoke(main, ["check", "claims.837"])
    again = CliRunner().invoke(main, ["check", "claims.837"])
    assert first.exit_code == again.exit_code == 1 and first.output == again.output
    assert list((tmp_path / ".cptlint_cache").rglob("*"))  # the second came from the cache
    lines = first.output.splitlines()
    shown = [i for i, line in enumerate(lines) if line.startswith("1 | ")]
    assert len(shown) == 40
    for i in shown:
        excerpt, caret = lines[i][4:], lines[i + 1][4:]
        assert excerpt.startswith("…SV1*HC:97140:GP*120*UN*1***1~") is False
        assert "SV1*HC:97530:GP" in excerpt and excerpt[caret.index("^") :].startswith("97530")


def test_text_that_runs_on_without_a_terminator_is_sch001_not_read_whole(monkeypatch):
    """A file named .837 that is not one (or has lost its terminators) is not held in memory
    to its end: reading stops at LONGEST_SEGMENT characters without a terminator."""
    from cptlint.formats import x12

    monkeypatch.setattr(x12, "CHUNK", 64)
    monkeypatch.setattr(x12, "LONGEST_SEGMENT", 500)
    text = claims_file([("C1", "W00000001", ["97140", "97530"])]).replace("SE*", "X" * 20_000 + "SE*")
    codes = [(d.code, d.line) for d in lint_bytes(text.encode(), "claims.837")]
    assert codes == [("MOD001", 19), ("SCH001", 21)]  # the claim before it is read, and reading stops there


@pytest.mark.parametrize("name", ["claims.837", "claims.txt"])
@pytest.mark.parametrize("long", [False, True])
def test_a_claim_file_from_the_cache_has_every_finding_even_where_a_run_keeps_findings_on_disk(tmp_path, monkeypatch, long, name):
    """A run that sends findings to its store as they are found (many files, or a long claim
    file) caches a short claim file's whole result, and does not cache a long one, whether its
    name or only its ISA says it is an 837P: the second run reports what the first did."""
    from click.testing import CliRunner

    import cptlint.engine
    import cptlint.runner
    from cptlint.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cptlint.engine, "SPILL_FINDINGS", 1)
    monkeypatch.setattr(cptlint.runner, "SPILL_MIN_FILES", 1)  # the store on disk
    if long:
        monkeypatch.setattr(cptlint.engine, "LONG_FILE_BYTES", 1)
    (tmp_path / name).write_text(claims_file([(f"C{i}", f"W{i:08d}", ["97140", "97530"]) for i in range(5)]))
    first = CliRunner().invoke(main, ["check", "--format", "json", name])
    again = CliRunner().invoke(main, ["check", "--format", "json", name])
    assert first.output.count('"MOD001"') == 5 and again.output == first.output
    cached = [entry.read_bytes() for entry in (tmp_path / ".cptlint_cache").rglob("v2/*/*") if entry.is_file()]
    assert any(b"MOD001" in entry for entry in cached) is not long
