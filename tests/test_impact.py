"""The rule-change gate against a real git repository with a rules change."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from click.testing import CliRunner

from cptlint.cli import main
from tests.conftest import CLEAN_VISIT

# 10 + 10 minutes: one unit under the total-time rule, two under the per-code rule.
TWO_SHORT = CLEAN_VISIT.replace("units: 2\n    minutes: 30", "units: 1\n    minutes: 10").replace(
    "units: 1\n    minutes: 15", "units: 1\n    minutes: 10"
).replace("payer: medicare", "payer: acme")


def git(cwd, *args):
    subprocess.run(["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path, monkeypatch):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    (tmp_path / "billing-rules" / "payers").mkdir(parents=True)
    (tmp_path / "billing-rules" / "payers" / "acme.yaml").write_text("label: Acme\ntime_rule: per_code\ntherapy_modifiers: required\n")
    (tmp_path / ".cptlint.toml").write_text('extend-rules = ["billing-rules"]\n')
    (tmp_path / "visits").mkdir()
    (tmp_path / "visits" / "short.yaml").write_text(TWO_SHORT)
    (tmp_path / "visits" / "clean.yaml").write_text(CLEAN_VISIT.replace("P-1", "P-2"))
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "fixtures and rules")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*args):
    return CliRunner().invoke(main, ["impact", *args], catch_exceptions=False)


def test_no_change_exits_0(repo):
    result = run("--base", "HEAD", "visits")
    assert result.exit_code == 0 and result.stdout == "No finding changes against HEAD.\n"


def test_rules_change_shows_what_appears(repo):
    (repo / "billing-rules" / "payers" / "acme.yaml").write_text("label: Acme\ntime_rule: total\ntherapy_modifiers: required\n")
    result = run("--base", "HEAD", "visits")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == "Against HEAD: 1 finding appears, 0 disappear."
    assert "  UNT001  +1 -0" in lines
    assert "    + visits/short.yaml:9:12 /services/0/units  2 timed units billed for 20 timed minutes; the CMS 8-minute rule allows 1" in lines
    assert "  visits/short.yaml  +1 -0" in lines
    report = json.loads(run("--base", "HEAD", "--format", "json", "visits").stdout)
    assert report["by_rule"] == {"UNT001": {"appeared": 1, "disappeared": 0}}
    assert report["appeared"][0]["pointer"] == "/services/0/units"
    github = run("--base", "HEAD", "--format", "github", "visits").stdout
    assert github.startswith("::warning file=visits/short.yaml,line=") and "UNT001 appears with this rules change" in github


def test_committed_change_against_an_older_revision(repo):
    (repo / "billing-rules" / "payers" / "acme.yaml").write_text("label: Acme\ntime_rule: total\ntherapy_modifiers: required\n")
    git(repo, "commit", "-qam", "Acme follows the CMS rule")
    assert run("--base", "HEAD", "visits").exit_code == 0
    result = run("--base", "HEAD~1", "--format", "json", "visits")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["by_file"] == {"visits/short.yaml": {"appeared": 1, "disappeared": 0}}


def test_findings_that_disappear(repo):
    (repo / "billing-rules" / "payers" / "acme.yaml").write_text("label: Acme\ntime_rule: per_code\ntherapy_modifiers: optional\n")
    (repo / "visits" / "short.yaml").write_text(TWO_SHORT.replace("modifiers: [GP]", "modifiers: []"))
    git(repo, "commit", "-qam", "no modifiers")
    (repo / "billing-rules" / "payers" / "acme.yaml").write_text("label: Acme\ntime_rule: per_code\ntherapy_modifiers: required\n")
    report = json.loads(run("--base", "HEAD", "--format", "json", "visits").stdout)
    assert report["by_rule"] == {"MOD005": {"appeared": 2, "disappeared": 0}}
    git(repo, "commit", "-qam", "modifiers required")
    (repo / "billing-rules" / "payers" / "acme.yaml").write_text("label: Acme\ntime_rule: per_code\ntherapy_modifiers: optional\n")
    report = json.loads(run("--base", "HEAD", "--format", "json", "visits").stdout)
    assert report["by_rule"] == {"MOD005": {"appeared": 0, "disappeared": 2}}


def test_rules_directory_added_since_the_base(repo):
    (repo / "more-rules").mkdir()
    (repo / "more-rules" / "techniques.yaml").write_text("techniques:\n  cupping: manual_therapy\n")
    (repo / ".cptlint.toml").write_text('extend-rules = ["billing-rules", "more-rules"]\n')
    assert run("--base", "HEAD", "visits").exit_code == 0


def test_bad_revision_and_not_a_repository(repo, tmp_path_factory, monkeypatch):
    result = run("--base", "no-such-branch", "visits")
    assert result.exit_code == 2 and "no-such-branch" in result.stderr
    elsewhere = tmp_path_factory.mktemp("plain")
    (elsewhere / "v.yaml").write_text(CLEAN_VISIT)
    monkeypatch.chdir(elsewhere)
    result = run("--base", "HEAD", "v.yaml")
    assert result.exit_code == 2 and "git" in result.stderr


def test_builtin_rules_of_this_repository_are_compared_too(repo, monkeypatch):
    """In cptlint's own repository the built-in rules/ is under git: its history counts."""
    import cptlint.engine
    import cptlint.impact
    from cptlint.config import load_settings
    from cptlint.data import rules_dir
    from cptlint.impact import measure
    from cptlint.policy import load_policy

    shutil.copytree(rules_dir(), repo / "rules")
    (repo / "visits" / "short.yaml").write_text(TWO_SHORT.replace("payer: acme", "payer: medicare"))
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "vendored rules")
    monkeypatch.setattr(cptlint.impact, "rules_dir", lambda: repo / "rules")
    monkeypatch.setattr(cptlint.engine, "load_policy", lambda *a, **k: load_policy(*a, builtin=repo / "rules"))
    medicare = repo / "rules" / "payers" / "medicare.yaml"
    medicare.write_text(medicare.read_text().replace("time_rule: total", "time_rule: per_code"))
    files = [repo / "visits" / "short.yaml"]
    result = measure(load_settings(), "HEAD", lambda linter: linter.lint_paths(files))
    assert [(d.code, d.pointer) for d in result.disappeared] == [("UNT001", "/services/0/units")]
    assert result.appeared == []


def test_builtin_rules_in_an_untracked_virtualenv_inside_the_repository(repo, monkeypatch):
    """cptlint installed in .venv/ of the repository: its rules are not part of the change."""
    import cptlint.impact
    from cptlint.data import rules_dir

    venv_rules = repo / ".venv" / "lib" / "cptlint" / "rules"
    shutil.copytree(rules_dir(), venv_rules)
    (repo / ".gitignore").write_text(".venv/\n")
    monkeypatch.setattr(cptlint.impact, "rules_dir", lambda: venv_rules)
    result = run("--base", "HEAD", "visits")
    assert result.exit_code == 0 and result.stdout == "No finding changes against HEAD.\n"


def test_a_link_in_extend_rules_at_the_base_is_read_as_the_file_it_leads_to(repo):
    contracts = repo / "contracts"
    contracts.mkdir()
    (contracts / "acme.yaml").write_text("label: Acme\ntime_rule: per_code\ntherapy_modifiers: required\n")
    (repo / "billing-rules" / "payers" / "acme.yaml").unlink()
    (repo / "billing-rules" / "payers" / "acme.yaml").symlink_to("../../contracts/acme.yaml")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "the contract kept elsewhere")
    assert run("--base", "HEAD", "visits").exit_code == 0
    (contracts / "acme.yaml").write_text("label: Acme\ntime_rule: total\ntherapy_modifiers: required\n")
    changed = run("--base", "HEAD", "visits")
    assert changed.exit_code == 1 and "UNT001  +1 -0" in changed.stdout
