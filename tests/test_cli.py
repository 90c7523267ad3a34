"""The command line: exit codes, options, formats."""

from __future__ import annotations

import json
import subprocess
import sys
from xml.etree import ElementTree

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from click.testing import CliRunner

from cptlint.cli import main
from tests.conftest import CLEAN_VISIT, SHARED

BAD_UNITS = CLEAN_VISIT.replace("units: 1\n", "units: one\n")


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A fixture repository: one clean file, one with a schema error, one JSON file."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "visits").mkdir()
    (tmp_path / "visits" / "clean.yaml").write_text(CLEAN_VISIT)
    (tmp_path / "visits" / "bad.yaml").write_text(BAD_UNITS)
    (tmp_path / "visits" / "bad.json").write_text(
        json.dumps({"id": "J-1", "date": "2026-03-14", "services": [{"code": "97110", "units": -1, "minutes": 15}]}, indent=2)
    )
    return tmp_path


def run(*args, input=None):
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


def test_exit_codes(project):
    assert run("check", "visits/clean.yaml").exit_code == 0
    assert run("check", "visits/bad.yaml").exit_code == 1
    assert run("check", "--exit-zero", "visits/bad.yaml").exit_code == 0
    assert run("check", "--format", "nope", "visits").exit_code == 2
    assert run("check", "does-not-exist.yaml").exit_code == 2


def test_text_output_has_location_code_and_excerpt(project):
    result = run("check", "visits/bad.yaml")
    lines = result.output.splitlines()
    assert lines[0] == 'visits/bad.yaml:20:12: SCH003 units must be a whole number, got "one"'
    assert lines[2] == "20 |     units: one"
    assert lines[3] == "   |            ^^^"
    assert lines[-2:] == ["Found 1 finding (1 error).", "Checked 1 file."]


def test_fixable_findings_are_marked_and_counted(project):
    """As ruff does it: [*] on a finding --fix can fix, and a count of them at the end."""
    (project / "visits" / "over.yaml").write_text(CLEAN_VISIT.replace("units: 2\n", "units: 3\n"))  # UNT001, safe
    under = CLEAN_VISIT.replace("ENC-1", "ENC-2").replace("units: 2\n", "units: 1\n")  # UNT004, unsafe
    (project / "visits" / "under.yaml").write_text(under)
    lines = run("check", "visits/over.yaml", "visits/under.yaml").output.splitlines()
    # 30 + 15 minutes allow 3 units (CMS 8-minute rule); 4 billed, or 2
    assert "visits/over.yaml:9:12: UNT001 [*] 4 timed units billed for 45 timed minutes; the CMS 8-minute rule allows 3" in lines
    assert [line for line in lines if ": UNT004 " in line and "[*]" not in line] != []
    assert "[*] 1 fixable with --fix (1 more with --unsafe-fixes)." in lines
    table = run("check", "--statistics", "visits/over.yaml", "visits/under.yaml").output.splitlines()
    assert table[-1].split("\t") == ["2", "total", "", "1 fixable with --fix"]
    assert {row.split("\t")[1]: row.split("\t")[2] for row in table[:-1]} == {"UNT001": "[*]", "UNT004": "[-]"}
    assert "fixable with --fix" not in run("check", "--ignore", "UNT004", "visits/under.yaml").output


def test_quiet_prints_only_findings(project):
    result = run("check", "-q", "visits")
    assert result.output.splitlines() == [
        "visits/bad.json:7:16: SCH003 units must be at least 0, got -1",
        'visits/bad.yaml:20:12: SCH003 units must be a whole number, got "one"',
    ]


def test_directory_walk_and_default_current_directory(project):
    (project / "visits" / "notes.txt").write_text("not an encounter")
    (project / ".hidden").mkdir()
    (project / ".hidden" / "x.yaml").write_text("broken: [")
    result = run("check", "--format", "json")
    assert sorted({d["path"] for d in json.loads(result.output)}) == ["visits/bad.json", "visits/bad.yaml"]


def test_json_format_keys(project):
    found = json.loads(run("check", "--format", "json", "visits/bad.json").output)
    assert found == [
        {
            "path": "visits/bad.json",
            "line": 7,
            "column": 16,
            "end_line": 7,
            "end_column": 18,
            "code": "SCH003",
            "severity": "error",
            "message": "units must be at least 0, got -1",
            "pointer": "/services/0/units",
            "encounter": "J-1",
        }
    ]


def test_output_file(project):
    result = run("check", "--format", "json", "--output", "report.json", "visits")
    assert result.output == ""
    assert len(json.loads((project / "report.json").read_text())) == 2


def test_select_ignore_extend_select(project):
    assert run("check", "--select", "SCH001", "visits").exit_code == 0
    assert run("check", "--ignore", "SCH", "visits").exit_code == 0
    assert run("check", "--select", "SCH001", "--extend-select", "SCH003", "visits").exit_code == 1
    # the more specific selector wins: SCH003 over SCH
    assert run("check", "--ignore", "SCH", "--select", "SCH003", "visits").exit_code == 1
    assert run("check", "--select", "SCH", "--ignore", "SCH003", "visits").exit_code == 0
    bad = run("check", "--select", "XYZ999", "visits")
    assert bad.exit_code == 2 and '"XYZ999" selects no rule' in bad.output


def test_fail_on(project, tmp_path):
    (project / ".cptlint.toml").write_text('[severity]\nSCH003 = "warning"\n')
    assert run("check", "visits/bad.yaml").exit_code == 1
    assert run("check", "--fail-on", "error", "visits/bad.yaml").exit_code == 0
    found = json.loads(run("check", "--format", "json", "visits/bad.yaml").output)
    assert found[0]["severity"] == "warning"


def test_payer_option_must_name_a_profile(project):
    result = run("check", "--payer", "acme", "visits")
    assert result.exit_code == 2 and 'payer "acme" is not a payer profile' in result.output
    assert run("check", "--payer", "commercial", "visits/clean.yaml").exit_code == 0


def test_statistics(project):
    assert run("check", "--statistics", "visits").output == "2\tSCH003\t\tschema-violation\n2\ttotal\t\t0 fixable with --fix\n"
    stats = json.loads(run("check", "--statistics", "--format", "json", "visits").output)
    assert stats == [{"code": "SCH003", "count": 2, "fixable": None}]


def test_stdin_with_filename(project):
    result = run("check", "--format", "json", "--stdin-filename", "visits/in.yaml", "-", input=BAD_UNITS)
    assert [(d["path"], d["line"]) for d in json.loads(result.output)] == [("visits/in.yaml", 20)]
    result = run("check", "--format", "json", "-", input=json.dumps({"id": "S", "date": "2026-03-14", "services": []}))
    assert [(d["path"], d["message"]) for d in json.loads(result.output)] == [("-", "services must list at least 1")]


def test_sarif_validates_against_the_official_schema(project):
    import jsonschema

    schema_file = SHARED / "schemas" / "sarif-schema-2.1.0.json"
    if not schema_file.is_file():
        pytest.skip("../shared/schemas/sarif-schema-2.1.0.json is not beside this checkout")
    log = json.loads(run("check", "--format", "sarif", "visits").output)
    jsonschema.validate(log, json.loads(schema_file.read_text()))
    driver = log["runs"][0]["tool"]["driver"]
    from cptlint.checks import REGISTRY

    assert [r["id"] for r in driver["rules"]] == sorted(REGISTRY)
    results = log["runs"][0]["results"]
    assert [(r["ruleId"], r["locations"][0]["physicalLocation"]["region"]["startLine"]) for r in results] == [
        ("SCH003", 7),
        ("SCH003", 20),
    ]
    assert driver["rules"][results[0]["ruleIndex"]]["id"] == "SCH003"


def test_github_annotations(project):
    lines = run("check", "--format", "github", "visits").output.splitlines()
    assert lines == [
        "::error file=visits/bad.json,line=7,col=16,endLine=7,endColumn=18,title=SCH003::SCH003 units must be at least 0, got -1",
        '::error file=visits/bad.yaml,line=20,col=12,endLine=20,endColumn=15,title=SCH003::SCH003 units must be a whole number, got "one"',
    ]


def test_junit(project):
    root = ElementTree.fromstring(run("check", "--format", "junit", "visits").output)
    suite = root.find("testsuite")
    assert (suite.get("tests"), suite.get("failures")) == ("3", "2")
    cases = {c.get("name"): c.find("failure") for c in suite.iter("testcase")}
    assert cases["visits/clean.yaml"] is None
    assert "20:12: SCH003" in cases["visits/bad.yaml"].text


def test_gitlab_fingerprints_do_not_depend_on_lines(project):
    first = json.loads(run("check", "--format", "gitlab", "visits/bad.yaml").output)
    (project / "visits" / "bad.yaml").write_text("# a comment that moves every line\n\n" + BAD_UNITS)
    second = json.loads(run("check", "--format", "gitlab", "visits/bad.yaml").output)
    assert first[0]["location"]["positions"]["begin"]["line"] == 20
    assert second[0]["location"]["positions"]["begin"]["line"] == 22
    assert first[0]["fingerprint"] == second[0]["fingerprint"]
    assert (first[0]["check_name"], first[0]["severity"]) == ("SCH003", "major")


def test_rules_rule_schema_version(project):
    listing = run("rules").output
    assert "SCH003  schema-violation" in listing
    listed = json.loads(run("rules", "--format", "json").output)
    by_code = {row["code"]: row for row in listed}
    assert by_code["SCH002"] == {
        "code": "SCH002",
        "name": "duplicate-key",
        "severity": "error",
        "fixable": None,
        "summary": "A key appears twice in one mapping.",
    }
    doc = run("rule", "sch003").output
    assert doc.startswith("# SCH003 schema-violation") and "## Source" in doc
    # which formats a rule runs on: the claim formats do not carry minutes; SCH008 is FHIR's reader's
    assert "Runs on: YAML, JSON, NDJSON; not on X12 837P (it does not carry minutes)" in run("rule", "UNT001").output
    assert "Runs on: YAML, JSON, NDJSON, X12 837P, FHIR R4, FHIR R4 NDJSON\n" in run("rule", "MOD001").output
    assert "Runs on: FHIR R4, FHIR R4 NDJSON\n" in run("rule", "SCH008").output
    unknown = run("rule", "SCH030")
    assert unknown.exit_code == 2 and "did you mean" in unknown.output
    assert json.loads(run("schema").output)["title"] == "cptlint encounter file"
    assert run("--version").output.startswith("cptlint, version ")


def test_python_dash_m(project):
    result = subprocess.run([sys.executable, "-m", "cptlint", "check", "-q", "visits/bad.yaml"], capture_output=True, text=True)
    assert result.returncode == 1 and "SCH003" in result.stdout


def test_github_escapes_newlines_and_property_separators():
    from cptlint.diagnostics import Diagnostic, Severity
    from cptlint.store import Run
    from cptlint.reporters import Style, github

    d = Diagnostic("a,b:c.yaml", 1, 2, 1, 3, "SCH003", Severity.INFO, "50% done\nnext", "/x")
    assert github(Run([d], ["a,b:c.yaml"], {}), Style()) == (
        "::notice file=a%2Cb%3Ac.yaml,line=1,col=2,endLine=1,endColumn=3,title=SCH003::SCH003 50%25 done%0Anext\n"
    )


def test_long_lines_are_shown_as_a_window_around_the_finding(project):
    record = {"id": "N", "date": "2026-03-14", "notes": "x" * 300, "services": [{"code": "97110", "units": "one", "minutes": 15}]}
    (project / "long.ndjson").write_text(json.dumps(record) + "\n")
    lines = run("check", "long.ndjson").output.splitlines()
    shown, caret = lines[2], lines[3]
    assert len(shown) < 120 and shown.startswith("1 | …")
    assert shown[caret.index("^") : caret.index("^") + 5] == '"one"'


def test_colour_only_when_asked(project):
    from cptlint.config import Settings
    from cptlint.engine import Linter, file_source
    from cptlint.reporters import Style, text

    from pathlib import Path

    run_ = Linter(Settings()).run([file_source(Path("visits/bad.yaml"))])
    coloured, plain = text(run_, Style(color=True)), text(run_, Style())
    assert "\x1b[" in coloured and "\x1b[" not in plain
    assert "\x1b[" not in run("check", "visits/bad.yaml").output  # not a terminal: no colour


def test_json_written_a_piece_at_a_time_is_what_json_dumps_writes():
    from cptlint.diagnostics import Diagnostic, Severity
    from cptlint.store import Run
    from cptlint.reporters import Style, json_format

    found = [
        Diagnostic("a.yaml", 1, 2, 1, 3, "SCH003", Severity.ERROR, 'units "two" — café', "/services/0/units", "E"),
        Diagnostic("b.yaml", 4, 1, 4, 2, "UNT001", Severity.WARNING, "m", "", None),
    ]
    for diagnostics in (found, found[:1], []):
        expected = json.dumps([d.as_dict() for d in diagnostics], indent=2, ensure_ascii=False) + "\n"
        assert json_format(Run(diagnostics, [], {}), Style()) == expected


@settings(max_examples=200, deadline=None)
@given(st.text(), st.text(), st.text(), st.none() | st.text(), st.integers(0, 10**6))
def test_json_findings_are_written_as_json_dumps_writes_them(path, message, pointer, encounter, line):
    from cptlint.diagnostics import Diagnostic, Severity
    from cptlint.store import Run
    from cptlint.reporters import Style, json_format

    found = [Diagnostic(path, line, 1, line, 2, "MOD001", Severity.INFO, message, pointer, encounter)]
    assert json_format(Run(found, [], {}), Style()) == json.dumps([d.as_dict() for d in found], indent=2, ensure_ascii=False) + "\n"
