"""One visit, three formats: tests/fixtures/claims holds each visit as YAML, as an X12 837P claim
and as a FHIR Claim. The findings agree (the rules a claim format can run are all that these
visits give; a FHIR bulk export line too), each sits on the line of its service in its own file,
and the claim files' `.expect` sidecars gate them in `pytest --cptlint` as `expect:` gates the
YAML."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from cptlint import loader
from cptlint.expectations import compare, read_expectations, sidecar_of
from tests.conftest import lint

CLAIMS = Path(__file__).parent / "fixtures" / "claims"
VISITS = sorted(p.stem for p in CLAIMS.glob("*.yaml"))


def findings(path: Path):
    return lint(path.read_text(), name=path.name)


def service_lines_837(text: str) -> list[int]:
    return [n for n, line in enumerate(text.splitlines(), 1) if line.startswith("SV1*")]


def item_ranges_fhir(text: str) -> list[range]:
    lines = text.splitlines()
    starts = [n for n, line in enumerate(lines, 1) if '"careTeamSequence"' in line]
    ends = [n for n, line in enumerate(lines, 1) if '"quantity"' in line]
    return [range(start - 2, end + 3) for start, end in zip(starts, ends)]


@pytest.mark.parametrize("visit", VISITS)
def test_the_same_visit_gives_the_same_findings_in_every_format_each_on_its_service(visit):
    yaml = findings(CLAIMS / f"{visit}.yaml")
    x12_text, fhir_text = (CLAIMS / f"{visit}.837").read_text(), (CLAIMS / f"{visit}.json").read_text()
    x12, fhir = findings(CLAIMS / f"{visit}.837"), findings(CLAIMS / f"{visit}.json")
    as_claim = sorted((d.code, "/encounters/0" + d.pointer, d.message) for d in yaml)
    assert sorted((d.code, d.pointer, d.message) for d in x12) == as_claim
    assert sorted((d.code, d.pointer, d.message) for d in fhir) == as_claim
    bulk = lint(json.dumps(json.loads(fhir_text)) + "\n", name=f"{visit}.ndjson")  # as a FHIR bulk export
    assert sorted((d.code, d.pointer, d.message) for d in bulk) == as_claim
    for d in x12:
        k = int(re.search(r"/services/(\d+)", d.pointer).group(1))
        assert d.line == service_lines_837(x12_text)[k], d
    for d in fhir:
        k = int(re.search(r"/services/(\d+)", d.pointer).group(1))
        assert d.line in item_ranges_fhir(fhir_text)[k], d


def test_the_clean_visit_is_clean_in_every_format():
    for suffix in (".yaml", ".837", ".json"):
        assert findings(CLAIMS / f"clean-pt-visit{suffix}") == []


def test_what_a_claim_does_not_carry_is_unknown_not_missing():
    """The YAML visit without its response and minutes gets DOC001 and UNT003; the claim, which
    carries neither, gets nothing: those rules do not run on it."""
    text = (CLAIMS / "clean-pt-visit.yaml").read_text()
    text = re.sub(r"\n    response: .*", "", text)
    text = re.sub(r"\n    minutes: 30", "", text)
    assert sorted(d.code for d in lint(text, name="v.yaml")) == ["DOC001", "UNT003"]
    assert findings(CLAIMS / "clean-pt-visit.837") == findings(CLAIMS / "clean-pt-visit.json") == []


@pytest.mark.parametrize("visit", VISITS)
def test_each_claim_file_meets_its_sidecar(visit):
    for suffix in (".837", ".json"):
        path = CLAIMS / f"{visit}{suffix}"
        expected = read_expectations(path.name, path.read_bytes(), Path(sidecar_of(str(path))).read_bytes())
        assert compare(expected, findings(path)) == ([], [])


def test_a_claim_file_without_a_sidecar_states_nothing_and_its_own_expect_key_is_not_read():
    claim = (CLAIMS / "pair-without-bypass.json").read_bytes()
    assert read_expectations("c.json", claim) is None
    assert read_expectations("c.json", claim, b"# nothing expected\n") == []
    # an `expect` member in a FHIR resource is not cptlint's: FHIR has no such element
    assert loader.load("c.json", claim).kind == "fhir"


def test_fix_is_not_offered_in_a_claim_file_and_leaves_it_as_it_was(tmp_path, monkeypatch):
    """MOD003 (59 and XS on one line) has a safe fix; a claim file is not rewritten, and says so."""
    from click.testing import CliRunner

    from cptlint.cli import main

    text = (CLAIMS / "pair-without-bypass.837").read_text().replace("SV1*HC:97530:GP*", "SV1*HC:97530:GP:59:XS*")
    (tmp_path / "v.837").write_text(text)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["check", "--fix", "v.837"])
    assert "MOD003" in result.output and result.exit_code == 1
    assert "v.837: no fix is offered in an X12 837P file" in result.output
    assert (tmp_path / "v.837").read_text() == text


def test_pytest_gates_claim_files_by_their_sidecars(pytester):
    pytester.makefile(".837", visit=(CLAIMS / "pair-without-bypass.837").read_text())
    pytester.makefile(".json", visit=(CLAIMS / "pair-without-bypass.json").read_text())
    (pytester.path / "visit.837.expect").write_text("MOD001@/encounters/0/services/1/code\n")
    result = pytester.runpytest("--cptlint", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)  # the JSON claim has no sidecar: its MOD001 is unexpected
    result.stdout.fnmatch_lines(["*visit.json (it states no .expect file (visit.json.expect))*", "*unexpected*MOD001*"])


def test_a_claims_payer_code_maps_to_a_profile_and_the_mapping_is_configuration():
    """SBR09 BL (Blue Cross/Blue Shield) is no built-in profile: the claim falls to the configured
    payer (medicare by default), for which a chiropractor's 97140 is not covered (PAY002);
    `claim-payers` maps it to the commercial profile, where it is."""
    from cptlint.config import Settings

    text = (CLAIMS / "cmt-and-manual-therapy.837").read_text().replace("*CI~", "*BL~")
    assert "PAY002" in [d.code for d in lint(text, name="v.837")]
    mapped = Settings(claim_payers=(("sbr09:BL", "commercial"),))
    assert [d.code for d in lint(text, name="v.837", settings=mapped)] == ["MOD001"]
    # the built-in mapping, overridden: CI to medicare
    overridden = Settings(claim_payers=(("sbr09:CI", "medicare"),))
    original = (CLAIMS / "cmt-and-manual-therapy.837").read_text()
    assert "PAY002" in [d.code for d in lint(original, name="v.837", settings=overridden)]


def test_fhir_source_of_payment_codes_map_by_their_longest_prefix():
    from cptlint import formats

    mapping = formats.CLAIM_PAYERS
    assert [formats.payer_of(f"sopt:{code}", mapping) for code in ("1", "121", "111", "5", "62", "2")] == [
        "medicare", "medicare", None, "commercial", "commercial", None
    ]


def test_the_readme_names_the_rules_a_claim_format_does_not_run():
    """The README's formats table lists them as ranges (UNT001-004); they are those whose needs
    the format lacks."""
    from cptlint import formats
    from cptlint.checks import REGISTRY

    readme = (Path(__file__).parents[1] / "README.md").read_text()
    row = next(line for line in readme.splitlines() if line.startswith("| X12 837P"))
    named = set()
    for prefix, first, last in re.findall(r"([A-Z]{3})(\d{3})-(\d{3})", row.split("|")[-2]):
        named |= {f"{prefix}{n:03d}" for n in range(int(first), int(last) + 1)}
    for name in ("x12", "fhir", "fhir-lines"):
        lacks = formats.BY_NAME[name].lacks
        assert named == {code for code, rule in REGISTRY.items() if not rule.needs.isdisjoint(lacks)}, name

