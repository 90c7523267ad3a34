"""The pre-commit hook, as another repository would use it: the real `pre-commit try-repo`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import re

import pytest
from ruamel.yaml import YAML

from tests.conftest import CLEAN_VISIT, REPO


def test_hook_definition():
    (hook,) = YAML(typ="safe").load((REPO / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "cptlint" and hook["entry"] == "cptlint check"
    assert hook["language"] == "python" and hook["types"] == ["file"]
    matched = re.compile(hook["files"])
    assert all(matched.search(name) for name in ("a.yaml", "b.yml", "c.json", "d.ndjson", "e.jsonl", "f.837", "g.x12", "h.edi"))
    assert not any(matched.search(name) for name in ("README.md", "notes.txt", "x.yaml.orig"))
    assert hook["require_serial"] is True


def _git(cwd, *args):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture
def user_repo(tmp_path):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = tmp_path / "fixtures-repo"
    (repo / "visits").mkdir(parents=True)
    (repo / "visits" / "clean.yaml").write_text(CLEAN_VISIT)
    (repo / "visits" / "over.yaml").write_text(CLEAN_VISIT.replace("units: 1\n", "units: 3\n").replace("P-1", "P-2"))
    (repo / "legacy").mkdir()
    (repo / "legacy" / "old.yaml").write_text(CLEAN_VISIT.replace("units: 1\n", "units: 3\n"))
    (repo / ".cptlint.toml").write_text('exclude = ["legacy/"]\n')
    (repo / "visits" / "pair.837").write_text((REPO / "tests" / "fixtures" / "claims" / "pair-without-bypass.837").read_text())
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", "fixtures")
    return repo


def try_repo(user_repo, tmp_path, *files):
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(REPO), "cptlint", "--files", *files],
        cwd=user_repo, env=env, capture_output=True, text=True, timeout=600,
    )


@pytest.mark.skipif(not (REPO / ".git").exists(), reason="try-repo needs this checkout to be a git repository")
def test_try_repo_on_clean_failing_and_excluded_files(user_repo, tmp_path):
    clean = try_repo(user_repo, tmp_path, "visits/clean.yaml", "legacy/old.yaml", ".cptlint.toml")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "Passed" in clean.stdout
    failing = try_repo(user_repo, tmp_path, "visits/clean.yaml", "visits/over.yaml")
    assert failing.returncode == 1
    assert "Failed" in failing.stdout
    assert "visits/over.yaml:20:12: UNT001 [*] 5 timed units billed for 45 timed minutes" in failing.stdout
    claim = try_repo(user_repo, tmp_path, "visits/pair.837")  # an 837P claim, staged as any file is
    assert claim.returncode == 1 and "visits/pair.837:19:8: MOD001" in claim.stdout, claim.stdout + claim.stderr


def test_own_hook_passes_on_own_fixtures(monkeypatch):
    """The dogfooding hook (.pre-commit-config.yaml) is green: its baseline matches the fixtures."""
    from click.testing import CliRunner

    from cptlint.cli import main

    (hook,) = YAML(typ="safe").load((REPO / ".pre-commit-config.yaml").read_text())["repos"][0]["hooks"]
    args = hook["entry"].split()[2:]
    monkeypatch.chdir(REPO)
    result = CliRunner().invoke(main, ["check", *args, "examples", "tests/fixtures"])
    assert result.exit_code == 0, result.output


@pytest.mark.skipif(not (REPO / ".git").exists(), reason="try-repo needs this checkout to be a git repository")
def test_a_commit_of_some_files_gives_each_the_verdict_of_the_whole_folder(tmp_path):
    """Copied fixtures share one patient and date; the staged files are judged as in a folder run."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = tmp_path / "copies"
    (repo / "visits").mkdir(parents=True)
    (repo / "visits" / "am.yaml").write_text(CLEAN_VISIT.replace("ENC-1", "ENC-AM"))
    (repo / "visits" / "pm.yaml").write_text(CLEAN_VISIT.replace("ENC-1", "ENC-PM"))
    (repo / "visits" / "day.ndjson").write_text(
        '{"id": "ENC-N", "date": "2026-03-14", "patient": "P-1", "provider": {"npi": "1234567893", "discipline": "PT"},'
        ' "diagnoses": ["M54.50"], "services": [{"code": "97110", "units": 1, "minutes": 15, "modifiers": ["GP"],'
        ' "diagnosis_pointers": [1], "start": "09:30", "end": "09:45"}]}\n'
    )
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", "copies")
    for files in (["visits/am.yaml", "visits/pm.yaml"], ["visits/pm.yaml", "visits/day.ndjson"], ["visits/day.ndjson"]):
        result = try_repo(repo, tmp_path, *files)
        assert result.returncode == 0, result.stdout + result.stderr  # clean alone, clean together: days are per file
        assert "Passed" in result.stdout
