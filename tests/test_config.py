"""Configuration files, selection, per-file ignores, exclude, extend-rules, inline suppression."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cptlint.cli import main
from cptlint.config import ConfigError, Settings, load_settings
from tests.conftest import CLEAN_VISIT, codes, lint

BAD = CLEAN_VISIT.replace("units: 1\n", "units: one\n")


def run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def findings(*args):
    result = run("check", "--format", "json", *args)
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


@pytest.fixture
def repo(tmp_path, monkeypatch):
    (tmp_path / "visits" / "legacy").mkdir(parents=True)
    (tmp_path / "visits" / "bad.yaml").write_text(BAD)
    (tmp_path / "visits" / "legacy" / "old.yaml").write_text(BAD)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_pyproject_table_found_from_a_subdirectory(repo, monkeypatch):
    (repo / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.cptlint]\nignore = ["SCH003"]\n')
    monkeypatch.chdir(repo / "visits")
    assert findings(".") == []
    settings = load_settings()
    assert settings.source == repo / "pyproject.toml" and settings.root == repo


def test_dotfile_wins_over_pyproject_in_the_same_directory(repo):
    (repo / "pyproject.toml").write_text('[tool.cptlint]\nignore = ["SCH003"]\n')
    (repo / ".cptlint.toml").write_text('select = ["SCH"]\n')
    assert len(findings("visits")) == 2


def test_pyproject_without_table_is_passed_over(repo, monkeypatch):
    (repo / ".cptlint.toml").write_text('ignore = ["SCH003"]\n')
    (repo / "visits" / "pyproject.toml").write_text('[project]\nname = "x"\n')
    monkeypatch.chdir(repo / "visits")
    assert findings(".") == []


def test_config_option_names_a_file(repo):
    (repo / "strict.toml").write_text('[severity]\nSCH003 = "info"\n')
    assert run("check", "--config", "strict.toml", "visits").exit_code == 0
    assert {f["severity"] for f in findings("--config", "strict.toml", "visits")} == {"info"}


@pytest.mark.parametrize(
    "content, message",
    [
        ('selct = ["SCH"]\n', 'unknown key "selct" (did you mean "select"?)'),
        ('select = "SCH"\n', "select must be a list of strings"),
        ('ignore = ["NOPE1"]\n', '"NOPE1" selects no rule'),
        ('[severity]\nSCH003 = "fatal"\n', "unknown severity 'fatal'"),
        ('[severity]\nSCH03 = "info"\n', '"SCH03" is not a rule code'),
        ("payer = 3\n", "payer must be a payer profile name"),
        ('payer = "acme"\n', 'payer "acme" is not a payer profile'),
        ('fail-on = "never"\n', "unknown severity 'never'"),
        ('[per-file-ignores]\n"*.yaml" = "SCH003"\n', "per-file-ignores.*.yaml must be a list of strings"),
        ('extend-rules = ["missing-dir"]\n', "extend-rules directory does not exist"),
        ("select = [\n", "not valid TOML"),
        ('[claim-payers]\nBL = "commercial"\n', "claim-payers maps a claim's payer code (as \"sbr09:BL\""),
        ('[claim-payers]\n"sbr09:BL" = "acme"\n', 'claim-payers: "sbr09:BL" = "acme" is not a payer profile'),
    ],
)
def test_bad_configuration_exits_2_naming_the_key(repo, content, message):
    (repo / ".cptlint.toml").write_text(content)
    result = run("check", "visits")
    assert result.exit_code == 2
    assert message in result.output


def test_per_file_ignores(repo):
    (repo / ".cptlint.toml").write_text('[per-file-ignores]\n"visits/legacy/*" = ["SCH003"]\n')
    assert [f["path"] for f in findings("visits")] == ["visits/bad.yaml"]
    (repo / ".cptlint.toml").write_text('[per-file-ignores]\n"old.yaml" = ["SCH"]\n')
    assert [f["path"] for f in findings("visits")] == ["visits/bad.yaml"]


def test_exclude_applies_to_walked_and_explicit_files(repo):
    (repo / ".cptlint.toml").write_text('exclude = ["legacy"]\n')
    assert [f["path"] for f in findings("visits")] == ["visits/bad.yaml"]
    assert findings("visits/legacy/old.yaml") == []


def test_a_file_named_twice_is_linted_once_and_shown_as_pathlib_spells_it(repo):
    from cptlint.config import load_settings
    from cptlint.sources import collect

    both = ["visits/bad.yaml", "visits/legacy/old.yaml"]
    assert collect(["./visits/", "visits/legacy/old.yaml", "visits"], load_settings()) == both
    assert collect(["visits/legacy/old.yaml", "./visits//bad.yaml"], load_settings()) == both[::-1]
    assert collect(["."], load_settings()) == both
    (repo / "alias").symlink_to(repo / "visits")
    assert collect(["visits", "alias"], load_settings()) == both


def test_severity_override(repo):
    (repo / ".cptlint.toml").write_text('[severity]\nSCH003 = "info"\n')
    assert run("check", "visits").exit_code == 0  # info is below the default fail level
    assert run("check", "--fail-on", "info", "visits").exit_code == 1


def test_fail_on_in_file(repo):
    (repo / ".cptlint.toml").write_text('fail-on = "error"\n[severity]\nSCH003 = "warning"\n')
    assert run("check", "visits").exit_code == 0


def test_extend_rules_overrides_a_builtin_payer_by_name(repo):
    rules = repo / "our-rules" / "payers"
    rules.mkdir(parents=True)
    (rules / "acme.yaml").write_text("label: Acme Health\ntime_rule: per_code\n")
    (repo / ".cptlint.toml").write_text('extend-rules = ["our-rules"]\npayer = "acme"\n')
    (repo / "visits" / "acme.yaml").write_text(CLEAN_VISIT.replace("payer: medicare", "payer: acme"))
    assert [f["path"] for f in findings("visits", "--select", "SCH")] == ["visits/bad.yaml", "visits/legacy/old.yaml"]
    # the rules directory itself is not linted as encounters
    assert all("our-rules" not in f["path"] for f in findings(".", "--select", "SCH"))


def test_extend_rules_file_errors_name_file_and_line(repo):
    rules = repo / "our-rules"
    rules.mkdir()
    (rules / "codes.yaml").write_text('codes:\n  "97140": {label: manual therapy, timed: maybe, category: manual_therapy}\n')
    (repo / ".cptlint.toml").write_text('extend-rules = ["our-rules"]\n')
    result = run("check", "visits")
    assert result.exit_code == 2
    assert "codes.yaml:2:" in result.output and "timed" in result.output


def test_unknown_rules_file_is_refused(repo):
    (repo / "our-rules").mkdir()
    (repo / "our-rules" / "pairs.yaml").write_text("pairs: []\n")
    (repo / ".cptlint.toml").write_text('extend-rules = ["our-rules"]\n')
    result = run("check", "visits")
    assert result.exit_code == 2 and "not a rules file" in result.output


def test_selection_most_specific_wins():
    settings = Settings(select=("SCH",), ignore=("SCH00",), extend_select=("SCH003",))
    assert [settings.enabled(c) for c in ("SCH001", "SCH003", "UNT001")] == [False, True, False]
    assert Settings(select=("ALL",), ignore=("SCH003",)).enabled("SCH001")
    with pytest.raises(ConfigError):
        load_settings(Path("no-such-config.toml"))


# ------------------------------------------------------------------------ inline suppression


def test_disable_comment_silences_listed_codes_on_that_line():
    text = BAD.replace("units: one\n", "units: one  # cptlint: disable=SCH003\n")
    assert lint(text) == []
    text = BAD.replace("units: one\n", "units: one  # cptlint: disable=SCH001, UNT\n")
    # the schema problem stays; the two codes that silenced nothing are reported (SUP002)
    assert codes(lint(text)) == ["SCH003", "SUP002", "SUP002"]


def test_disable_comment_only_covers_its_own_line():
    text = BAD.replace("  - code: \"97110\"\n", "  - code: \"97110\"  # cptlint: disable=SCH003\n")
    assert sorted(codes(lint(text))) == ["SCH003", "SUP002"]


def test_disable_file():
    assert lint("# cptlint: disable-file\n" + BAD) == []
    # only on a line of its own
    assert codes(lint(BAD.replace("id: ENC-1", "id: ENC-1  # cptlint: disable-file"))) == ["SCH003"]


def test_files_that_are_never_encounters_are_skipped_even_when_named(repo):
    (repo / ".pre-commit-config.yaml").write_text("repos: []\n")
    (repo / "package.json").write_text("{}\n")
    assert findings(".pre-commit-config.yaml", "package.json") == []
    assert [f["path"] for f in findings(".")] == ["visits/bad.yaml", "visits/legacy/old.yaml"]


def test_paths_outside_the_project(repo, monkeypatch):
    monkeypatch.chdir(repo / "visits" / "legacy")
    assert [f["path"] for f in findings("../bad.yaml")] == ["../bad.yaml"]


def test_extend_rules_replaces_a_builtin_payer_profile(repo):
    rules = repo / "our-rules" / "payers"
    rules.mkdir(parents=True)
    # our Medicare Advantage contract follows the per-code rule
    (rules / "medicare.yaml").write_text("label: Medicare Advantage\ntime_rule: per_code\ntherapy_modifiers: required\n")
    ten_and_ten = CLEAN_VISIT.replace("units: 2\n    minutes: 30", "units: 1\n    minutes: 10").replace("minutes: 15", "minutes: 10")
    (repo / "visits" / "bad.yaml").write_text(ten_and_ten)
    assert [f["code"] for f in findings("visits/bad.yaml")] == ["UNT001"]
    (repo / ".cptlint.toml").write_text('extend-rules = ["our-rules"]\n')
    assert findings("visits/bad.yaml") == []
