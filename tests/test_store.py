"""A large run keeps its findings, days and file names on disk (cptlint/store.py): it must
report byte for byte what a run held in memory reports, in every format."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

import cptlint.engine
import cptlint.parallel
import cptlint.runner
from cptlint.cli import main
from cptlint.store import DiskStore, _sortable
from tests.conftest import CLEAN_VISIT

FILES = 30


@pytest.fixture
def corpus(tmp_path, monkeypatch):
    """Days that span two files, findings in some, a day left incomplete by a schema failure,
    and an NDJSON export; days joined across files."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".cptlint.toml").write_text("days-across-files = true\n")
    for i in range(FILES):
        folder = tmp_path / "visits" / f"b{i // 7}"
        folder.mkdir(parents=True, exist_ok=True)
        text = CLEAN_VISIT.replace("ENC-1", f"ENC-{i}").replace("P-1", f"P-{i // 2}")
        if i % 4 == 0:
            text = text.replace("units: 1\n", "units: 2\n")
        if i == 9:
            text = text.replace("units: 2\n", 'units: "two"\n')  # P-4's day is incomplete
        (folder / f"v{i}.yaml").write_text(text)
    record = {"id": "N-1", "date": "2026-03-14", "patient": "Q-1", "provider": {"npi": "1234567893", "discipline": "PT"},
              "diagnoses": ["M54.50"], "services": [{"code": "97110", "units": 3, "minutes": 20, "modifiers": ["GP"], "diagnosis_pointers": [1]}]}
    (tmp_path / "visits" / "export.ndjson").write_text(json.dumps(record) + "\n" + json.dumps(record) + "\n")
    return tmp_path


def _report(*args, stdin=None):
    result = CliRunner().invoke(main, ["check", "--no-cache", *args], input=stdin, catch_exceptions=False)
    return result.exit_code, result.stdout


@pytest.mark.parametrize("output_format", ["text", "json", "sarif", "github", "junit", "gitlab"])
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_run_on_disk_reports_what_a_run_in_memory_does(corpus, monkeypatch, output_format, jobs):
    stdin = CLEAN_VISIT.replace("ENC-1", "ENC-IN").replace("P-1", "P-3").replace("units: 1\n", "units: 3\n")
    args = ("-j", jobs, "--format", output_format, "visits", "-", "--stdin-filename", "visits/in.yaml")
    monkeypatch.setattr(cptlint.parallel, "PARALLEL_MIN_FILES", 2)
    monkeypatch.setattr(cptlint.parallel, "CHUNK_FILES", 3)  # many chunks in flight, read back in order
    in_memory = _report(*args, stdin=stdin)

    stores = []
    monkeypatch.setattr(cptlint.runner, "SPILL_MIN_FILES", 5)
    monkeypatch.setattr(cptlint.runner, "DiskStore", lambda source_of: stores.append(DiskStore(source_of)) or stores[-1])
    on_disk = _report(*args, stdin=stdin)

    assert len(stores) == 1
    assert on_disk == in_memory
    assert in_memory[0] == 1 and "visits/in.yaml" in in_memory[1]  # standard input, read again for its shared day


def test_findings_of_days_across_files_and_incomplete_days_are_settled_on_disk_too(corpus, monkeypatch):
    monkeypatch.setattr(cptlint.runner, "SPILL_MIN_FILES", 5)
    found = json.loads(_report("--format", "json", "visits")[1])
    by_patient = {}
    for d in found:
        by_patient.setdefault(d["encounter"], []).append(d["code"])
    # v0 and v1 are one day of P-0, judged over both files: the codes of v0 again in v1 (UNT006)
    assert "UNT006" in by_patient["ENC-1"]
    assert not any(code.startswith("UNT") for code in by_patient.get("ENC-8", []))  # P-4: incomplete day
    assert "SCH003" in by_patient.get(None, []) + by_patient.get("ENC-9", [])


def test_statistics_and_an_empty_run_from_disk(corpus, monkeypatch):
    monkeypatch.setattr(cptlint.runner, "SPILL_MIN_FILES", 5)
    stats = json.loads(_report("--format", "json", "--statistics", "visits")[1])
    assert sum(row["count"] for row in stats) == len(json.loads(_report("--format", "json", "visits")[1]))
    assert _report("--format", "json", "--select", "DX003", "visits") == (0, "[]\n")


@given(st.lists(st.text(st.one_of(st.characters(), st.integers(0xD800, 0xDFFF).map(chr)), max_size=6), max_size=12))
def test_stored_text_sorts_as_python_sorts_it(texts):
    """Paths and JSON strings may hold lone surrogates; the database compares bytes."""
    assert sorted(texts, key=_sortable) == sorted(texts)


def test_a_finding_is_pickled_whole(tmp_path):
    """Findings cross processes and the disk store pickled; a fix travels with its finding."""
    import pickle

    from cptlint.config import Settings
    from cptlint.engine import Linter, file_source

    (tmp_path / "v.yaml").write_text(CLEAN_VISIT.replace("units: 1\n", "units: 3\n"))
    found = list(Linter(Settings(), fixes=True).run([file_source(tmp_path / "v.yaml")]).diagnostics)
    assert found and all(d.fix is not None for d in found)
    for d in found:
        again = pickle.loads(pickle.dumps(d, pickle.HIGHEST_PROTOCOL))
        assert (again, again.fix) == (d, d.fix)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_long_ndjson_file_sends_its_findings_to_disk_as_they_are_found(tmp_path, monkeypatch, jobs):
    import random

    from tests.test_speed import _export

    monkeypatch.chdir(tmp_path)
    (tmp_path / "export.ndjson").write_text(_export(random.Random(5)), encoding="utf-8")
    args = ("-j", jobs, "--format", "json", "export.ndjson")
    in_memory = _report(*args)

    sent = []
    original = DiskStore.spill

    def spill(self, result):
        sent.append(len(result.diagnostics) + sum(len(found) for found in result.day_findings.values()))
        original(self, result)

    monkeypatch.setattr(DiskStore, "spill", spill)
    monkeypatch.setattr(cptlint.parallel, "SPLIT_MIN_BYTES", 1)  # long enough to split
    monkeypatch.setattr(cptlint.engine, "LONG_FILE_BYTES", 1)  # and to keep on disk
    monkeypatch.setattr(cptlint.parallel, "PIECE_MAX_BYTES", 2000)  # many pieces
    monkeypatch.setattr(cptlint.engine, "SPILL_FINDINGS", 3)
    on_disk = _report(*args)

    assert len([count for count in sent if count >= 3]) > 5
    assert on_disk == in_memory
    assert len(json.loads(in_memory[1])) >= sum(sent) > 0
