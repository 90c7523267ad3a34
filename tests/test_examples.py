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
