"""One verdict per file: the CLI over a folder, over each file, pre-commit's subsets and pytest
agree; joining days across files is a choice; nothing a run reads or hides goes unsaid."""

from __future__ import annotations

import json
from itertools import combinations
from pathlib import Path

import pytest
from click.testing import CliRunner

from cptlint.cli import main
from tests.conftest import CLEAN_VISIT


def run(*args, input=None):
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


def by_file(*args) -> dict[str, list]:
    result = run("check", "--no-cache", "--format", "json", *args)
    assert result.exit_code in (0, 1), result.output
    found: dict[str, list] = {}
    for d in json.loads(result.stdout):
        found.setdefault(Path(d["path"]).name, []).append((d["code"], d["pointer"]))
    return {name: sorted(codes) for name, codes in found.items()}


# Copied fixtures, as teams make them: one patient, one date, each visit edited a little. Alone,
# each is billed right; joined into one day they would overlap (DLV003), split a timed code over
# lines (UNT006) and exceed the day's minutes (UNT001).
MORNING = CLEAN_VISIT.replace("ENC-1", "ENC-AM")
EVENING = CLEAN_VISIT.replace("ENC-1", "ENC-PM")
JSON_VISIT = {
    "id": "ENC-J", "date": "2026-03-14", "payer": "medicare", "patient": "P-1",
    "provider": {"npi": "1234567893", "discipline": "PT"}, "diagnoses": ["M54.50"],
    "services": [{"code": "97110", "units": 1, "minutes": 15, "modifiers": ["GP"], "diagnosis_pointers": [1],
                  "start": "09:30", "end": "09:45"}],
}


@pytest.fixture
def fixtures(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "fixtures"
    folder.mkdir()
    (folder / "am.yaml").write_text(MORNING)
    (folder / "pm.yaml").write_text(EVENING)
    (folder / "j.json").write_text(json.dumps(JSON_VISIT, indent=2))
    (folder / "n.ndjson").write_text(json.dumps({**JSON_VISIT, "id": "ENC-N"}) + "\n")
    (folder / "over.yaml").write_text(CLEAN_VISIT.replace("ENC-1", "ENC-O").replace("units: 2\n", "units: 4\n"))
    return tmp_path


def test_a_folder_each_file_and_any_subset_give_each_file_one_verdict(fixtures):
    names = sorted(p.name for p in (fixtures / "fixtures").iterdir())
    folder = by_file("fixtures")
    assert set(folder) == {"over.yaml"} and [code for code, _ in folder["over.yaml"]] == ["UNT001"]
    for name in names:
        assert by_file(f"fixtures/{name}").get(name) == folder.get(name), name
    for subset in combinations(names, 3):  # what pre-commit passes: the staged files
        verdicts = by_file(*(f"fixtures/{name}" for name in subset))
        assert verdicts == {name: folder[name] for name in subset if name in folder}, subset


def test_days_across_files_join_every_format(fixtures):
    joined = by_file("--days-across-files", "fixtures")
    codes = {code for found in joined.values() for code, _ in found}
    assert {"UNT006", "DLV003"} <= codes  # the YAML visits with each other and with the JSON and NDJSON lines
    assert {"am.yaml", "pm.yaml", "j.json", "n.ndjson"} & set(joined) >= {"pm.yaml"}
    assert any(name in joined for name in ("j.json", "n.ndjson"))
    (fixtures / ".cptlint.toml").write_text("days-across-files = true\n")
    assert by_file("fixtures") == joined  # the same from the configuration


def test_days_across_files_over_named_files_says_the_days_may_be_partial(fixtures):
    named = run("check", "--no-cache", "--days-across-files", "fixtures/am.yaml", "fixtures/pm.yaml")
    assert named.output.count("days-across-files: files were named one by one") == 1
    walked = run("check", "--no-cache", "--days-across-files", "fixtures")
    assert "named one by one" not in walked.output
    alone = run("check", "--no-cache", "fixtures/am.yaml", "fixtures/pm.yaml")
    assert "named one by one" not in alone.output


def test_a_copied_id_is_a_finding_at_its_second_occurrence(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    lines = [json.dumps({**JSON_VISIT, "date": f"2026-03-1{i}"}) for i in (4, 5, 6)]
    (tmp_path / "e.ndjson").write_text("\n".join(lines) + "\n")
    assert by_file("e.ndjson") == {"e.ndjson": [("SCH005", "/1/id"), ("SCH005", "/2/id")]}


# ------------------------------------------------------------------ configuration per file


@pytest.fixture
def nested(tmp_path, monkeypatch):
    """A repository whose sub-project has its own configuration."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text('[tool.cptlint]\nignore = ["DOC"]\n')
    visits = tmp_path / "sub" / "visits"
    visits.mkdir(parents=True)
    (tmp_path / "sub" / ".cptlint.toml").write_text('ignore = ["UNT001"]\n')
    (visits / "over.yaml").write_text(CLEAN_VISIT.replace("units: 2\n", "units: 4\n"))
    (tmp_path / "top.yaml").write_text(CLEAN_VISIT.replace("ENC-1", "ENC-T").replace("units: 2\n", "units: 4\n"))
    return tmp_path


def test_each_file_uses_the_configuration_nearest_to_it(nested, monkeypatch):
    assert by_file("sub/visits") == {}  # sub/.cptlint.toml ignores UNT001, though run from the top
    assert by_file(".") == {"top.yaml": [("UNT001", "/services/0/units")]}
    monkeypatch.chdir(nested / "sub")
    assert by_file("../top.yaml") == {"top.yaml": [("UNT001", "/services/0/units")]}


def test_config_option_overrides_for_every_file(nested):
    (nested / "strict.toml").write_text('select = ["ALL"]\n')
    found = by_file("--config", "strict.toml", ".")
    assert set(found) == {"over.yaml", "top.yaml"}


def test_show_settings_prints_each_files_settings_and_their_source(nested):
    out = run("check", "--show-settings", "sub/visits/over.yaml", "top.yaml").output
    first, second = out.split("Settings for top.yaml")
    assert "Settings for sub/visits/over.yaml" in first
    assert f"from: {nested / 'sub' / '.cptlint.toml'}" in first and "ignore: [UNT001]" in first
    assert f"from: {nested / 'pyproject.toml'}" in second and "ignore: [DOC]" in second
    assert "days-across-files: False" in second


def test_show_files_lists_what_a_run_would_lint_and_lints_nothing(nested):
    (nested / ".gitignore").write_text("build/\n")
    (nested / "build").mkdir()
    (nested / "build" / "out.yaml").write_text(CLEAN_VISIT)
    result = run("check", "--show-files", ".")
    assert result.exit_code == 0
    assert result.output.splitlines() == ["top.yaml", "sub/visits/over.yaml"]  # a folder's files, then its folders


def test_the_cache_tells_the_same_content_under_two_configurations_apart(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".cptlint.toml").write_text('[per-file-ignores]\n"a/*" = ["UNT001"]\n')
    over = CLEAN_VISIT.replace("units: 2\n", "units: 4\n")
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "x.yaml").write_text(over)
    for _ in range(2):  # cold, then warm
        assert run("check", "a/x.yaml").exit_code == 0
        assert run("check", "b/x.yaml").exit_code == 1


# ------------------------------------------------------------------ nothing hidden


BROKEN = "id: ENC-1\ndate: 2026-03-14\nservices: [{code: \"97140\", units: 1\n"


def test_input_errors_are_reported_whatever_the_selection(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "broken.yaml").write_text(BROKEN)
    (tmp_path / "twice.yaml").write_text(CLEAN_VISIT.replace("patient: P-1\n", "patient: P-1\npatient: P-2\n"))
    (tmp_path / "empty.yaml").write_text("# nothing yet\n")
    found = by_file("--select", "UNT", ".")
    assert {name: [c for c, _ in codes] for name, codes in found.items()} == {
        "broken.yaml": ["SCH001"], "twice.yaml": ["SCH002"], "empty.yaml": ["SCH004"],
    }
    assert by_file("--select", "UNT", "--ignore", "SCH001,SCH002,SCH004", ".") == {}
    assert "broken.yaml" in by_file("--ignore", "SCH", ".")  # named, not by a prefix: ignore = ["SCH"] means SCH003


def test_ignoring_schema_violations_says_how_many_encounters_the_rules_skipped(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.yaml").write_text(CLEAN_VISIT.replace("units: 1\n", "units: one\n"))
    (tmp_path / "bad.ndjson").write_text(json.dumps({**JSON_VISIT, "services": [{"code": "97110", "units": "one"}]}) + "\n")
    out = run("check", "--no-cache", "--ignore", "SCH003", ".").output
    assert "2 encounters with a schema problem (SCH003, ignored) not checked by the billing rules." in out
    assert "not checked by the billing rules" not in run("check", "--no-cache", ".").output


@pytest.mark.parametrize("where", ["config", "option"])
def test_an_empty_selector_is_a_configuration_error(tmp_path, monkeypatch, where):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "v.yaml").write_text(CLEAN_VISIT)
    if where == "config":
        (tmp_path / ".cptlint.toml").write_text('ignore = [""]\n')
        result = run("check", "v.yaml")
    else:
        result = run("check", "--ignore", "UNT001,", "v.yaml")
    assert result.exit_code == 2 and "empty selector" in result.output


def test_a_missing_key_is_one_finding(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "v.yaml").write_text('patient: P-1\nprovider: {npi: "1234567893", discipline: PT}\n')
    assert by_file("v.yaml") == {"v.yaml": [("SCH003", "/date"), ("SCH003", "/id"), ("SCH003", "/services")]}


# ------------------------------------------------------------------ what a run reads


def test_a_walk_follows_gitignore_and_skips_files_that_are_not_encounters(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("exports/\n*.tmp.yaml\n!keep.tmp.yaml\n")
    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "x.yaml").write_text(BROKEN)
    (tmp_path / "scratch.tmp.yaml").write_text(BROKEN)
    (tmp_path / "keep.tmp.yaml").write_text(CLEAN_VISIT)
    (tmp_path / "docker-compose.yml").write_text("services:\n  web:\n    image: nginx\n")
    (tmp_path / "mkdocs.yml").write_text("site_name: Billing\nnav: [index.md]\n")
    (tmp_path / "ci.yaml").write_text("on: push\njobs:\n  test: {runs-on: ubuntu-latest}\n")
    (tmp_path / "misspelt.yaml").write_text(CLEAN_VISIT.replace("services:", "servics:"))
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / ".gitignore").write_text("local.yaml\n")
    (sub / "local.yaml").write_text(BROKEN)
    result = run("check", "--no-cache", ".")
    assert {Path(line.split(":")[0]).name for line in result.output.splitlines() if ": SCH" in line} == {"misspelt.yaml"}
    assert "Checked 2 files; skipped 3 that hold no encounters" in result.output
    named = run("check", "--no-cache", "docker-compose.yml", "exports/x.yaml")  # named: always linted
    assert "docker-compose.yml:1:1: SCH003" in named.output and "exports/x.yaml:" in named.output


def test_a_run_that_finds_no_encounter_file_says_so(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mkdocs.yml").write_text("site_name: Billing\n")
    result = run("check", ".")
    assert result.exit_code == 0 and "cptlint: warning: no encounter file in ." in result.stderr


# ------------------------------------------------------------------ suppressions and expectations


def test_an_unknown_code_in_expect_is_a_finding(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "v.yaml").write_text(CLEAN_VISIT + "expect: [UNT001, UNT01]\n")
    assert ("SUP001", "/expect/1") in by_file("v.yaml")["v.yaml"]


def test_the_fix_of_an_unused_suppression_takes_it_away(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    used_and_not = CLEAN_VISIT.replace("units: 2\n", "units: 4  # cptlint: disable=UNT001,MOD\n")
    unused = CLEAN_VISIT.replace("units: 1\n", "units: 1   # cptlint: disable=UNT001\n")
    (tmp_path / "a.yaml").write_text(used_and_not)
    (tmp_path / "b.yaml").write_text(unused)
    assert run("check", "--fix", "a.yaml", "b.yaml").exit_code == 0
    assert (tmp_path / "a.yaml").read_text() == CLEAN_VISIT.replace("units: 2\n", "units: 4  # cptlint: disable=UNT001\n")
    assert (tmp_path / "b.yaml").read_text() == CLEAN_VISIT


# ------------------------------------------------------------------ smaller defects


def test_output_into_a_missing_folder_is_a_usage_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "v.yaml").write_text(CLEAN_VISIT)
    result = run("check", "-o", "reports/out.json", "--format", "json", "v.yaml")
    assert result.exit_code == 2 and "reports" in result.output and "Traceback" not in result.output


def test_the_fixture_lints_a_path_as_a_file_and_takes_dates_from_yaml(pytester):
    pytester.makepyprojecttoml('[tool.cptlint]\n[tool.cptlint.per-file-ignores]\n"visits/*" = ["UNT001"]\n')
    pytester.makefile(".yaml", **{"visits/over": CLEAN_VISIT.replace("units: 2\n", "units: 4\n")})
    pytester.makepyfile(
        """
        from pathlib import Path
        import yaml

        def test_path(cptlint):
            assert "UNT001" not in cptlint.lint(Path("visits/over.yaml")).codes  # its per-file-ignores

        def test_dates(cptlint):
            doc = yaml.safe_load(Path("visits/over.yaml").read_text())
            assert not isinstance(doc["date"], str)
            assert "UNT001" in cptlint.lint(doc).codes and "SCH003" not in cptlint.lint(doc).codes
        """
    )
    pytester.runpytest().assert_outcomes(passed=2)


def test_with_days_across_files_an_id_of_another_file_is_a_finding(fixtures):
    (fixtures / "fixtures" / "copy.yaml").write_text(MORNING.replace("date: 2026-03-14", "date: 2026-03-21"))
    for _ in range(2):  # cold cache, then warm
        joined = run("check", "--days-across-files", "--format", "json", "fixtures")
        copied = [d for d in json.loads(joined.stdout) if d["code"] == "SCH005"]
        assert [(Path(d["path"]).name, d["pointer"], d["line"]) for d in copied] == [("copy.yaml", "/id", 1)]
        assert "fixtures/am.yaml" in copied[0]["message"]
    assert "SCH005" not in run("check", "fixtures").output  # without: each file's verdict is its own


def test_a_report_to_a_device_writes_to_it_and_never_replaces_it(tmp_path, monkeypatch):
    import os
    import stat

    monkeypatch.chdir(tmp_path)
    (tmp_path / "v.yaml").write_text(CLEAN_VISIT)
    assert run("check", "-o", os.devnull, "--format", "json", "v.yaml").exit_code == 0
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)
    assert not [name for name in os.listdir(os.path.dirname(os.devnull)) if name.endswith(".cptlint-tmp")]


def test_pytest_gives_each_file_the_verdict_the_cli_gives_it(pytester):
    """pytest --cptlint DIR: an item passes exactly when `cptlint check FILE` finds nothing."""
    folder = pytester.path / "fixtures"
    folder.mkdir()
    (folder / "am.yaml").write_text(MORNING)
    (folder / "pm.yaml").write_text(EVENING)
    (folder / "j.json").write_text(json.dumps(JSON_VISIT, indent=2))
    (folder / "n.ndjson").write_text(json.dumps({**JSON_VISIT, "id": "ENC-N"}) + "\n")
    (folder / "over.yaml").write_text(CLEAN_VISIT.replace("ENC-1", "ENC-O").replace("units: 2\n", "units: 4\n"))
    result = pytester.runpytest("--cptlint", "-rA", "fixtures")
    passed = {line.split()[1].split("::")[0].split("/")[-1] for line in result.outlines if line.startswith("PASSED")}
    failed = {line.split()[1].split("::")[0].split("/")[-1] for line in result.outlines if line.startswith("FAILED")}
    import os

    here = os.getcwd()
    os.chdir(pytester.path)
    try:
        cli = {p.name: run("check", "--no-cache", f"fixtures/{p.name}").exit_code for p in folder.iterdir()}
    finally:
        os.chdir(here)
    assert passed == {name for name, code in cli.items() if code == 0}
    assert failed == {name for name, code in cli.items() if code == 1} == {"over.yaml"}
