"""Rule fixtures: tests/fixtures/rules/<CODE>/{fail,pass}-*.yaml, each with its `expect:` list.

The files of one directory are linted together, as a fixture repository would be (a day rule
sees every file), with the directory's .cptlint.toml when it has one. Each file's findings must
equal its expectations exactly: a pass- file is clean, a fail- file shows its rule and nothing
that was not asked for.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cptlint.checks import REGISTRY
from cptlint.config import Settings, load_settings
from cptlint.engine import Linter
from cptlint.expectations import compare, read_expectations
from cptlint.sources import collect
from tests.conftest import REPO

FIXTURES = REPO / "tests" / "fixtures" / "rules"
DIRECTORIES = sorted(p for p in FIXTURES.iterdir() if p.is_dir())


def lint_directory(directory: Path):
    config = directory / ".cptlint.toml"
    settings = load_settings(config) if config.is_file() else Settings(root=directory)
    files = collect([str(directory)], settings)
    return files, Linter(settings).lint_paths(files).diagnostics


@pytest.mark.parametrize("directory", DIRECTORIES, ids=lambda p: p.name)
def test_fixtures_meet_their_expectations(directory):
    files, diagnostics = lint_directory(directory)
    assert files
    problems = []
    for path in files:
        expected = read_expectations(str(path), path.read_bytes())
        assert expected is not None, f"{path.name} has no expect: list"
        missing, unexpected = compare(expected, [d for d in diagnostics if d.path == str(path)])
        problems += [f"{path.name}: missing {m}" for m in missing]
        problems += [f"{path.name}: unexpected {d.code}@{d.pointer} {d.message}" for d in unexpected]
        if path.name.startswith("fail-"):
            assert any(e.code == directory.name for e in expected), f"{path.name} does not expect {directory.name}"
        else:
            assert path.name.startswith("pass-") and all(e.code != directory.name for e in expected)
    assert problems == []


def test_every_rule_has_failing_and_passing_fixtures():
    kinds = {p.name: {f.name.split("-")[0] for f in p.glob("*.y*ml")} for p in DIRECTORIES}
    lacking = [code for code in REGISTRY if kinds.get(code, set()) != {"fail", "pass"}]
    assert lacking == []
