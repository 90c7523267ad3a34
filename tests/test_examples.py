"""examples/ is a fixture repository: what the README's walk-through runs there works."""

from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner
from ruamel.yaml import YAML

from cptlint.cli import main
from tests.conftest import REPO

EXAMPLES = REPO / "examples"


def test_pytest_plugin_runs_the_fixture_repository():
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=EXAMPLES, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout
    assert f"{len(list((EXAMPLES / 'visits').rglob('*.*json')) + list((EXAMPLES / 'visits').rglob('*.yaml')))} passed" in result.stdout


def test_pre_commit_configuration_of_the_fixture_repository_is_green(monkeypatch):
    (repo,) = YAML(typ="safe").load((EXAMPLES / ".pre-commit-config.yaml").read_text())["repos"]
    (hook,) = repo["hooks"]
    monkeypatch.chdir(EXAMPLES)
    result = CliRunner().invoke(main, ["check", *hook["args"], "visits"])
    assert result.exit_code == 0, result.output
    assert run_without_baseline().exit_code == 1  # the baseline is what keeps it green


def run_without_baseline():
    return CliRunner().invoke(main, ["check", "-q", "visits"])


def test_own_rules_are_read_from_either_directory(monkeypatch):
    monkeypatch.chdir(REPO)
    from_top = CliRunner().invoke(main, ["check", "--format", "json", "examples/visits/pass"])
    monkeypatch.chdir(EXAMPLES)
    from_inside = CliRunner().invoke(main, ["check", "--format", "json", "visits/pass"])
    assert from_top.exit_code == from_inside.exit_code == 0


def test_the_readme_opens_with_what_cptlint_prints(monkeypatch):
    """The first example of the README is the output of the command it names, line for line."""
    import re

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    shown = re.search(r"```\n(examples/[^\n]*SCH003[^\n]*\n(?:[^\n]*\n){3})```", readme).group(1)
    path = shown.split(":")[0]
    monkeypatch.chdir(REPO)
    out = CliRunner().invoke(main, ["check", "--no-cache", path]).output
    assert shown in out


def test_the_readme_impact_walk_through_shows_a_change(tmp_path, monkeypatch):
    """README: set `time_rule: total` in billing-rules/payers/acme.yaml and `cptlint impact
    --base HEAD visits` lists the findings that change (acme-hand.yaml's 8 + 8 minutes are two
    units under the per-code rule, one under the CMS total-time rule)."""
    import shutil

    if shutil.which("git") is None:
        import pytest

        pytest.skip("git is not installed")
    copy = tmp_path / "examples"
    shutil.copytree(EXAMPLES, copy, ignore=shutil.ignore_patterns(".cptlint_cache", ".pytest_cache"))

    def git(*args):
        subprocess.run(["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args], cwd=copy, check=True, capture_output=True)

    git("init", "-q")
    git("add", ".")
    git("commit", "-qm", "examples")
    payer = copy / "billing-rules" / "payers" / "acme.yaml"
    payer.write_text(payer.read_text().replace("time_rule: per_code", "time_rule: total"))
    monkeypatch.chdir(copy)
    result = CliRunner().invoke(main, ["impact", "--base", "HEAD", "visits"])
    assert result.exit_code == 1
    assert "UNT001" in result.output and "acme-hand.yaml" in result.output
