"""FHIR R4 Claim and ExplanationOfBenefit read into encounters: positions at their JSON place,
the structure cptlint reads (SCH008), and the public Blue Button samples of ../shared/samples/fhir."""

from __future__ import annotations

import json

import pytest

from cptlint import formats, loader
from cptlint.checks.input import ClaimResource
from tests.conftest import SHARED, lint, lint_bytes

SAMPLES = sorted((SHARED / "samples" / "fhir").glob("*.json"))
GOOD = ClaimResource.example("Passes")


def found(text: str, name: str = "claim.json"):
    return [(d.code, d.line, d.column, d.message) for d in lint(text, name=name)]


def edited(**changes) -> str:
    claim = json.loads(GOOD)
    for dotted_path, value in changes.items():
        *parents, last = dotted_path.split(".")
        target = claim
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[int(last) if last.isdigit() else last] = value
    return json.dumps(claim, indent=2)


def line_of(text: str, needle: str, occurrence: int = 0) -> int:
    lines = [n for n, line in enumerate(text.splitlines(), 1) if needle in line]
    return lines[occurrence]


def test_a_correctly_billed_claim_gives_no_finding_and_is_read_whole():
    assert found(GOOD) == []
    doc = loader.load("claim.json", GOOD.encode())
    assert doc.kind == "fhir"
    [encounter] = doc.root["encounters"]
    assert encounter["date"] == "2026-04-06" and encounter["patient"] == "Patient/P-1"
    assert encounter["billing_provider"] == {"npi": "1567890128"}
    assert encounter["provider"] == {"npi": "1234567893", "discipline": "PT"}
    assert encounter["diagnoses"] == ["M54.50"]  # ICD-10-CM as claims write it, dotted as the rules read it
    assert encounter["services"] == [{"code": "97140", "units": 1, "modifiers": ["GP"], "diagnosis_pointers": [1]}]


def test_a_plain_json_encounter_file_is_still_json_and_stdin_is_told_by_its_resource_type():
    assert loader.load("enc.json", b'{"id": "E", "date": "2026-04-06", "services": []}').kind == "json"
    assert formats.of_head("-", GOOD.encode()).name == "fhir"


def test_each_part_is_placed_where_the_resource_writes_it():
    text = edited(**{"item.0.modifier": []})  # Medicare by default: 97140 without GP
    [(code, line, column, _)] = found(text)
    assert code == "MOD005" and line == line_of(text, '"modifier": []')
    wrong_units = edited(**{"item.0.quantity": {"value": 1.5}})
    [(code, line, _, _)] = found(wrong_units)
    assert code == "SCH003" and line == line_of(wrong_units, '"value": 1.5')


def test_a_pointer_to_no_diagnosis_or_no_care_team_member_is_sch008_at_the_pointer():
    text = edited(**{"item.0.diagnosisSequence": [1, 7], "item.0.careTeamSequence": [1, 3]})
    findings = found(text)
    assert [(c, m) for c, _, _, m in findings] == [  # in the order they are written
        ("SCH008", "careTeamSequence 3 points at no careTeam member"),
        ("SCH008", "diagnosisSequence 7 points at no ICD-10-CM diagnosis of the Claim"),
    ]
    assert [line for _, line, _, _ in findings] == [line_of(text, "      3"), line_of(text, "      7")]


def test_codes_of_other_systems_are_named_and_their_line_not_read():
    ndc = edited(**{"item.0.productOrService": {"coding": [{"system": "http://hl7.org/fhir/sid/ndc", "code": "00777310502"}]}})
    assert [(c, m) for c, _, _, m in found(ndc)] == [
        ("SCH008", "item 1's productOrService has no CPT or HCPCS coding (http://hl7.org/fhir/sid/ndc): the line is not read")
    ]
    unit = edited(**{"item.0.modifier": [{"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "GP"}]}, {"coding": [{"system": "http://unitsofmeasure.org", "code": "GG"}]}]})
    assert [(c, m) for c, _, _, m in found(unit)] == [
        ("SCH008", "modifier[1] is not coded in CPT or HCPCS (http://unitsofmeasure.org): it is not read")
    ]


def test_wrong_types_are_findings_never_a_traceback():
    for change in ({"item": {"sequence": 1}}, {"item": [5]}, {"diagnosis": "M54.50"}, {"careTeam": [None]}, {"item.0.diagnosisSequence": "1"},
                   {"item.0.diagnosisSequence": [[1]]}, {"item.0.careTeamSequence": [{"a": 1}]}, {"careTeam.0.sequence": [1]},
                   {"diagnosis.0.sequence": {"a": 1}}, {"item.0.quantity": {"value": True}}, {"item.0.servicedDate": 20260406}):
        codes = [c for c, *_ in found(edited(**change))]
        assert codes and set(codes) <= {"SCH003", "SCH008", "DX002", "SCH004"}, change


def test_a_resource_of_another_type_is_one_finding_at_its_resource_type():
    text = '{\n  "resourceType": "Patient",\n  "id": "P-1"\n}\n'
    assert found(text) == [("SCH008", 2, 19, "a Patient resource: cptlint reads Claim and ExplanationOfBenefit, alone or in a Bundle")]


def test_a_bundle_gives_an_encounter_per_claim_and_reads_past_other_entries():
    claim = json.loads(GOOD)
    second = json.loads(edited(**{"id": "VISIT-2", "item.0.modifier": []}))
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": {"resourceType": "Patient", "id": "P-1"}}, {"resource": claim}, {"resource": second}]}
    text = json.dumps(bundle, indent=2)
    doc = loader.load("bundle.json", text.encode())
    assert [e["id"] for e in doc.root["encounters"]] == ["VISIT-1", "VISIT-2"]
    [(code, line, _, _)] = found(text)
    assert code == "MOD005" and line == line_of(text, '"modifier": []')


def test_a_claim_coded_only_in_icd9_is_one_sch007():
    text = edited(**{"diagnosis.0.diagnosisCodeableConcept": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-9-cm", "code": "7213"}]}})
    assert [c for c, *_ in found(text)] == ["SCH007"]


def test_the_payer_comes_from_the_focal_coverage_type():
    """Source of Payment Typology: 1 Medicare, 5 private health insurance. A chiropractor's 97140
    is not covered by Medicare (PAY002) and is by the commercial profile."""
    def chiropractic(sopt: str) -> str:
        claim = json.loads(edited(**{"careTeam.0.qualification.coding.0.code": "111N00000X", "item.0.modifier": []}))
        claim["contained"] = [{"resourceType": "Coverage", "id": "cov", "status": "active",
                               "type": {"coding": [{"system": "https://nahdo.org/sopt", "code": sopt}]}}]
        claim["insurance"] = [{"sequence": 1, "focal": True, "coverage": {"reference": "#cov"}}]
        return json.dumps(claim, indent=2)

    assert "PAY002" in [c for c, *_ in found(chiropractic("1"))]
    assert "PAY002" not in [c for c, *_ in found(chiropractic("5"))]


EXPLAINED = {
    # An MCS claim: its one item has no quantity (its NDC detail does), so no line is read, and
    # its second diagnosis is coded in ICD-9-CM beside an ICD-10-CM one.
    "bfd_v2_claimMcsRead.json": [
        "SCH008 an ICD-9-CM diagnosis beside ICD-10-CM ones: a claim is coded in one; it is not read",
        "SCH008 item 1 has no quantity: its units are unknown, so the line is not read",
    ],
    # Synthetic carrier claims: the care team's rendering NPI 1923124 has seven digits.
    "bfd_v2_eobReadCarrier.json": ['SCH003 npi must be a ten-digit NPI, got "1923124"'],
    "bfd_v2_eobReadCarrierWithMultipleLines.json": ['SCH003 npi must be a ten-digit NPI, got "1923124"'],
    # An outpatient claim: NPI 345345345 (nine digits), HCPCS "M99" (not a code) and a modifier in UCUM.
    "bfd_v2_eobReadOutpatient.json": [
        'SCH003 npi must be a ten-digit NPI, got "345345345"',
        'SCH003 code must be a five-character CPT/HCPCS code such as "97140", got "M99"',
        "SCH008 modifier[1] is not coded in CPT or HCPCS (http://unitsofmeasure.org): it is not read",
    ],
}


@pytest.mark.parametrize("path", SAMPLES, ids=[p.name for p in SAMPLES])
def test_every_public_sample_is_read_without_a_traceback_and_its_findings_are_explained(path):
    text = path.read_text(encoding="utf-8")
    diagnostics = lint(text, name=path.name)
    assert [f"{d.code} {d.message}" for d in diagnostics] == EXPLAINED[path.name]
    for d in diagnostics:  # each at the place it names
        assert d.line > 1


def test_every_sample_is_explained():
    assert sorted(p.name for p in SAMPLES) == sorted(EXPLAINED)


@pytest.mark.parametrize("part_lines", [100, 1])
def test_a_bulk_export_is_read_a_resource_a_line_with_the_findings_of_each_on_its_line(tmp_path, monkeypatch, part_lines):
    """FHIR NDJSON (Bulk Data export): the samples one a line give each sample's findings on its
    line, and the two carrier samples, one claim in two responses, share an id (SCH005), also
    when each resource is a part of its own."""
    from click.testing import CliRunner

    from cptlint.cli import main
    from cptlint.formats import fhir

    monkeypatch.setattr(fhir, "PART_LINES", part_lines)

    records = [json.dumps(json.loads(p.read_text())) for p in SAMPLES]
    (tmp_path / "export.ndjson").write_text("\n".join(records) + "\n")
    assert loader.load("export.ndjson", (tmp_path / "export.ndjson").read_bytes()).kind == "fhir-lines"
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["check", "--format", "json", "--no-cache", "export.ndjson"])
    found = json.loads(result.output)
    found = found if isinstance(found, list) else found["diagnostics"]
    expected = [(n, text) for n, p in enumerate(SAMPLES, 1) for text in EXPLAINED[p.name]]
    duplicate = [(n, p.name) for n, p in enumerate(SAMPLES, 1) if p.name == "bfd_v2_eobReadCarrierWithMultipleLines.json"]
    assert sorted((d["line"], f"{d['code']} {d['message']}") for d in found if d["code"] != "SCH005") == sorted(expected)
    assert [(d["line"], d["code"]) for d in found if d["code"] == "SCH005"] == [(duplicate[0][0], "SCH005")]
    for d in found:  # each at its place on the line, not at the line's start
        assert d["column"] > 1


def test_an_encounter_ndjson_file_is_still_streamed_as_encounter_lines():
    text = '{"id": "E-1", "date": "2026-04-06", "services": [{"code": "97110", "units": 1, "minutes": 15, "modifiers": ["GP"]}]}\n'
    assert loader.load("v.ndjson", text.encode()).kind == "lines"


def test_an_encounter_whose_lines_cannot_be_read_leaves_no_places_behind():
    """Two dates: the first item has no quantity (its encounter is not read), the second lacks GP;
    its MOD005 is on the second item, not where the first encounter's parts were."""
    claim = json.loads(GOOD)
    first = dict(claim["item"][0], servicedDate="2026-04-05")
    del first["quantity"]
    second = dict(claim["item"][0], sequence=2, modifier=[])
    claim["item"] = [first, second]
    text = json.dumps(claim, indent=2)
    findings = found(text)
    assert [c for c, *_ in findings] == ["SCH008", "MOD005"]
    assert findings[1][1] == line_of(text, '"modifier": []')
    assert loader.load("c.json", text.encode()).root["encounters"][0]["id"] == "VISIT-1 2026-04-06"


def test_stdin_named_json_is_read_as_the_format_its_content_says(monkeypatch):
    """`--stdin-filename claim.json` with a FHIR Claim: FHIR, not an encounter file."""
    from click.testing import CliRunner

    from cptlint.cli import main

    text = edited(**{"item.0.modifier": []})
    result = CliRunner().invoke(main, ["check", "--no-cache", "--stdin-filename", "claim.json", "-"], input=text)
    assert "claim.json:" in result.output and "MOD005" in result.output and "SCH003" not in result.output



def _export(count: int) -> str:
    """A bulk export of count copies of the samples, each copy's ids its own."""
    lines = []
    for copy in range(count):
        for path in SAMPLES:
            resource = json.loads(path.read_text())
            resource["id"] = f"{resource.get('id')}-{copy}"
            lines.append(json.dumps(resource))
    return "\n".join(lines) + "\n"


def test_a_bulk_export_is_handed_on_a_part_at_a_time_as_it_is_read():
    """Memory flat however long the export: the first part comes before the stream is read to
    its end, no part holds more than PART_LINES resources, and their encounters are numbered on
    from part to part."""
    import io

    from cptlint.formats import fhir

    text = _export(60)  # 240 resources

    class Counted(io.BytesIO):
        lines_read = 0

        def __iter__(self):
            for line in iter(self.readline, b""):
                self.lines_read += 1
                yield line

    stream = Counted(text.encode())
    parts = fhir.parts_of_lines("export.ndjson", stream)
    first = next(parts)
    assert stream.lines_read == fhir.PART_LINES and first.first == 0
    rest = list(parts)
    assert [len(p.index.inner) for p in [first, *rest]] == [100, 100, 40]
    counts = [len(p.root["encounters"]) for p in [first, *rest]]
    assert [p.first for p in rest] == [counts[0], counts[0] + counts[1]]


def test_a_bulk_export_is_not_held_to_max_file_size(tmp_path):
    from cptlint.config import Settings
    from cptlint.engine import Linter, file_source

    path = tmp_path / "export.ndjson"
    path.write_text(_export(2))
    limited = Linter(Settings(max_file_size=1000)).run([file_source(str(path))]).diagnostics
    unlimited = Linter(Settings()).run([file_source(str(path))]).diagnostics
    assert limited == unlimited and "SCH008" in {d.code for d in limited} and "SCH001" not in {d.code for d in limited}


@pytest.mark.parametrize("bad", [b"\xff{}", b'{"resourceType": "Claim", '])
def test_a_line_of_a_bulk_export_that_cannot_be_read_is_sch001_on_it_and_its_neighbours_are_read(bad):
    """A bulk export is read a line at a time: a line that is not UTF-8, or not JSON, is SCH001
    on that line, and the resources beside it (in the same part) are checked all the same."""
    good = _export(1).encode().split(b"\n")
    diagnostics = lint_bytes(b"\n".join(good[:2] + [bad] + good[2:]), "export.ndjson")
    assert [d.line for d in diagnostics if d.code == "SCH001"] == [3]
    expected = [(n if n < 3 else n + 1, text) for n, p in enumerate(SAMPLES, 1) for text in EXPLAINED[p.name]]
    mine = [(d.line, f"{d.code} {d.message}") for d in diagnostics if d.code not in ("SCH001", "SCH005")]
    assert sorted(mine) == sorted(expected)  # (SCH005: the two carrier samples, one claim, share an id)


def test_the_text_report_of_a_bulk_export_keeps_only_the_text_around_each_finding(tmp_path, monkeypatch):
    """A resource is a line of tens of kilobytes: for its excerpt a run keeps the text around
    each finding, not the line, and the report shows the finding's place with its caret."""
    from click.testing import CliRunner

    import cptlint.engine
    from cptlint.cli import main
    from cptlint.config import Settings
    from cptlint.engine import Linter, file_source

    monkeypatch.chdir(tmp_path)
    text = _export(1)
    (tmp_path / "export.ndjson").write_text(text)
    lines = text.split("\n")
    result = Linter(Settings()).checked(file_source("export.ndjson"))
    assert result.excerpts and all(
        isinstance(kept, tuple) and all(len(piece) <= 2 * cptlint.engine.EXCERPT_AROUND for _, piece in kept)
        for kept in result.excerpts.values()
    )
    report = CliRunner().invoke(main, ["check", "--no-cache", "export.ndjson"]).output.splitlines()
    places = [tuple(map(int, row.split(":")[1:3])) for row in report if row.startswith("export.ndjson:")]
    assert places
    shown = [i for i, row in enumerate(report) if row.split("|")[0].strip().isdigit()]
    for (line, column), i in zip(places, shown):
        excerpt, caret = report[i].split("| ", 1)[1], report[i + 1].split("| ", 1)[1]
        assert excerpt[caret.index("^") :].startswith(lines[line - 1][column - 1 : column + 4])
