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
from cptlint.config import load_settings
from cptlint.engine import Linter
from cptlint.expectations import compare, read_expectations
from cptlint.sources import collect
from tests.conftest import REPO

FIXTURES = REPO / "tests" / "fixtures" / "rules"
DIRECTORIES = sorted(p for p in FIXTURES.iterdir() if p.is_dir())


def lint_directory(directory: Path):
    """Lint a directory as one run; return its files, their expectations, the findings, and
    what did not meet the expectations."""
    settings = load_settings(cwd=directory)  # the directory's own configuration, or the nearest above
    files = [Path(p) for p in collect([str(directory)], settings)]
    diagnostics = Linter(settings).lint_paths(files).diagnostics
    expectations, problems = {}, []
    for path in files:
        expected = read_expectations(str(path), path.read_bytes())
        assert expected is not None, f"{path} has no expect: list"
        expectations[path] = expected
        missing, unexpected = compare(expected, [d for d in diagnostics if d.path == str(path)])
        problems += [f"{path.name}: missing {m}" for m in missing]
        problems += [f"{path.name}: unexpected {d.code}@{d.pointer} {d.message}" for d in unexpected]
    return expectations, diagnostics, problems


@pytest.mark.parametrize("directory", DIRECTORIES, ids=lambda p: p.name)
def test_fixtures_meet_their_expectations(directory):
    expectations, _, problems = lint_directory(directory)
    assert expectations and problems == []
    for path, expected in expectations.items():
        if path.name.startswith("fail-"):
            assert any(e.code == directory.name for e in expected), f"{path.name} does not expect {directory.name}"
        else:
            assert path.name.startswith("pass-") and all(e.code != directory.name for e in expected)


def test_examples_meet_their_expectations():
    """examples/ is a small fixture repository: every file states what it must trigger."""
    _, diagnostics, problems = lint_directory(REPO / "examples")
    assert problems == []
    families = {d.code[:-3] for d in diagnostics}
    assert families == {"SCH", "UNT", "MOD", "REG", "MAN", "DLV", "DOC", "DX", "PAY"}
    assert all("/pass/" not in d.path for d in diagnostics)


# Rules of claim files: a claim file has no `expect:` list yet, so their failing and passing
# claims are in tests/test_x12.py and tests/test_fhir.py (with the public samples of ../shared/samples).
CLAIM_FILE_RULES = {"SCH006", "SCH007", "SCH008"}


def test_every_rule_has_failing_and_passing_fixtures():
    kinds = {p.name: {f.name.split("-")[0] for f in p.glob("*.y*ml")} for p in DIRECTORIES}
    lacking = [code for code in REGISTRY if kinds.get(code, set()) != {"fail", "pass"} and code not in CLAIM_FILE_RULES]
    assert lacking == []
