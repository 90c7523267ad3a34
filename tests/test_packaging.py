"""`pip install .` ships schemas/ and rules/ inside the package, and the wheel works on its own."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile

import pytest

from tests.conftest import CLEAN_VISIT, REPO


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    pytest.importorskip("hatchling")
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(REPO)],
        check=True,
    )
    (built,) = out.glob("cptlint-*.whl")
    return built


def test_wheel_carries_schemas_and_rules(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in (
        "cptlint/data/schemas/encounter.schema.json",
        "cptlint/data/schemas/rules.schema.json",
        "cptlint/data/rules/codes.yaml",
        "cptlint/data/rules/ptp.yaml",
        "cptlint/data/rules/payers/medicare.yaml",
        "cptlint/data/rules/payers/commercial.yaml",
    ):
        assert expected in names
    repo_rules = {p.relative_to(REPO).as_posix() for p in (REPO / "rules").rglob("*.yaml")}
    assert {f"cptlint/data/{name}" for name in repo_rules} <= names


def test_unpacked_wheel_lints_with_its_own_data(wheel, tmp_path):
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    visit = tmp_path / "visit.yaml"
    visit.write_text(CLEAN_VISIT.replace("units: 1\n", "units: one\n"))
    env = {**os.environ, "PYTHONPATH": str(site)}
    probe = subprocess.run(
        [sys.executable, "-c", "import cptlint.data as d; print(d.data_root())"],
        capture_output=True, text=True, env=env, cwd=tmp_path, check=True,
    )
    assert probe.stdout.strip() == str(site / "cptlint" / "data")
    result = subprocess.run(
        [sys.executable, "-m", "cptlint", "check", "-q", str(visit)], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert result.returncode == 1 and "SCH003" in result.stdout, result.stderr
