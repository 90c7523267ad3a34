"""The baseline: keyed on path, code and JSON Pointer, so edits that move lines keep it valid."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from cptlint.cli import main
from tests.conftest import CLEAN_VISIT

LEGACY = CLEAN_VISIT.replace("units: 1\n", "units: 3\n").replace("    modifiers: [GP]\n    regions", "    modifiers: [GP, gp]\n    regions")


def run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture
def repo(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "visits").mkdir()
    (tmp_path / "visits" / "legacy.yaml").write_text(LEGACY)
    return tmp_path


def codes_of(result) -> list[str]:
    return [d["code"] for d in json.loads(result.stdout)]


def test_write_then_check_against_baseline(repo):
    assert codes_of(run("check", "--format", "json", "visits")) == ["MOD007", "UNT001"]
    written = run("check", "--write-baseline", "baseline.json", "visits")
    assert written.exit_code == 0 and "wrote 2 findings" in written.stderr
    entries = json.loads((repo / "baseline.json").read_text())["findings"]
    assert [(e["path"], e["code"], e["pointer"]) for e in entries] == [
        ("visits/legacy.yaml", "MOD007", "/services/0/modifiers/1"),
        ("visits/legacy.yaml", "UNT001", "/services/1/units"),
    ]
    clean = run("check", "--baseline", "baseline.json", "--format", "json", "visits")
    assert clean.exit_code == 0 and codes_of(clean) == []


def test_edits_that_move_lines_keep_the_baseline(repo):
    run("check", "--write-baseline", "baseline.json", "visits")
    moved = "# Imported from the old EMR in 2024.\n# Reviewed by billing.\n\n" + LEGACY.replace(
        "diagnoses: [M54.50, M25.511]", "diagnoses:\n  - M54.50\n  - M25.511"
    )
    (repo / "visits" / "legacy.yaml").write_text(moved)
    result = run("check", "--baseline", "baseline.json", "--format", "json", "visits")
    assert result.exit_code == 0 and codes_of(result) == []


def test_new_findings_are_reported_and_stale_entries_named(repo):
    run("check", "--write-baseline", "baseline.json", "visits")
    fixed_and_broken = LEGACY.replace("units: 3\n", "units: 1\n").replace("minutes: 15\n", "minutes: 15\n    group: true\n")
    (repo / "visits" / "legacy.yaml").write_text(fixed_and_broken)
    result = run("check", "--baseline", "baseline.json", "--format", "json", "visits")
    assert result.exit_code == 1
    assert codes_of(result) == ["DLV001"]
    assert "1 baseline entries no longer occur" in result.stderr
    assert "visits/legacy.yaml UNT001 /services/1/units" in result.stderr


def test_counts_two_findings_at_one_pointer(tmp_path):
    from cptlint import baseline
    from cptlint.diagnostics import Diagnostic, Severity

    def finding(message):
        return Diagnostic(str(tmp_path / "v.yaml"), 9, 5, 9, 7, "MOD007", Severity.ERROR, message, "/services/0/modifiers/4")

    target = tmp_path / "baseline.json"
    baseline.write([finding("malformed")], target)
    new, stale = baseline.subtract([finding("malformed"), finding("a fifth modifier")], target, baseline.read(target), [str(tmp_path / "v.yaml")])
    assert [d.message for d in new] == ["a fifth modifier"] and stale == []
    baseline.write([finding("malformed"), finding("a fifth modifier")], target)
    assert baseline.read(target) == {("v.yaml", "MOD007", "/services/0/modifiers/4"): 2}


def test_baseline_paths_are_relative_to_the_baseline_file(repo, monkeypatch):
    run("check", "--write-baseline", "baseline.json", "visits")
    monkeypatch.chdir(repo / "visits")
    result = run("check", "--baseline", "../baseline.json", "--format", "json", "legacy.yaml")
    assert codes_of(result) == []


@pytest.mark.parametrize("content, message", [("{}", "not a cptlint baseline"), ("[", "not a cptlint baseline file")])
def test_bad_baseline_exits_2(repo, content, message):
    (repo / "baseline.json").write_text(content)
    result = run("check", "--baseline", "baseline.json", "visits")
    assert result.exit_code == 2 and message in result.stderr
    assert run("check", "--baseline", "missing.json", "visits").exit_code == 2


def test_a_baseline_from_a_folder_passes_any_subset_of_it_and_lists_nothing_stale(tmp_path, monkeypatch):
    """A pre-commit run names the staged files only: each is judged against its own entries.
    The fixtures reuse one patient and date, as copied fixtures do."""
    from itertools import combinations

    monkeypatch.chdir(tmp_path)
    (tmp_path / "fixtures").mkdir()
    texts = {
        "over.yaml": CLEAN_VISIT.replace("ENC-1", "ENC-A").replace("units: 2\n", "units: 4\n"),
        "clean.yaml": CLEAN_VISIT.replace("ENC-1", "ENC-B"),
        "split.yaml": CLEAN_VISIT.replace("ENC-1", "ENC-C").replace('code: "97110"', 'code: "97140"'),
        "bad.yaml": CLEAN_VISIT.replace("ENC-1", "ENC-D").replace("units: 1\n", "units: one\n"),
    }
    for name, text in texts.items():
        (tmp_path / "fixtures" / name).write_text(text)
    written = run("check", "--write-baseline", "base.json", "fixtures")
    assert written.exit_code == 0 and "wrote" in written.stderr
    assert run("check", "--baseline", "base.json", "fixtures").exit_code == 0
    for size in (1, 2, 3):
        for subset in combinations(sorted(texts), size):
            result = run("check", "--baseline", "base.json", *(f"fixtures/{name}" for name in subset))
            assert (result.exit_code, result.stderr) == (0, ""), subset


def test_a_baseline_that_is_not_one_is_an_error_naming_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "v.yaml").write_text(CLEAN_VISIT)
    for content in ('{"version": 1, "findings": [{"path": "v.yaml", "code": "UNT001", "pointer": "", "count": 1e999}]}',
                    "[" * 100_000 + "]" * 100_000,
                    '{"version": 1, "findings": [{"path": "v.yaml", "code": "UNT001", "pointer": "", "count": 0}]}',
                    '{"version": 1, "findings": {}}'):
        (tmp_path / "base.json").write_text(content)
        result = run("check", "--baseline", "base.json", "v.yaml")
        assert result.exit_code == 2 and "base.json" in result.stderr and "Traceback" not in result.output
