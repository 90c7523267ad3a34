"""The Dask engine and the lake API give the findings of a run on one machine: the same files,
the same settings, the same output, day scope included; on a Parquet dataset, the findings of
the same encounters written as NDJSON; with a worker killed mid-run, nothing lost or twice."""

from __future__ import annotations

import json
import os
import random
import signal

import pytest
from click.testing import CliRunner

distributed = pytest.importorskip("distributed")
pd = pytest.importorskip("pandas")

import cptlint.lake.dask  # noqa: E402
import cptlint.parallel  # noqa: E402
from cptlint.cli import main  # noqa: E402
from cptlint.config import Settings  # noqa: E402
from tests.conftest import REPO  # noqa: E402


@pytest.fixture(scope="module")
def scheduler():
    """Two worker processes, as the issue's tests ask; one thread each, as `--workers` makes them."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=":0", silence_logs=40) as cluster:
        yield cluster.scheduler_address


def encounter(rng: random.Random, i: int, patients: int) -> dict:
    """A visit of one of a few patients on one of a few dates: a patient's day is spread over
    the file (and over files), so days are only whole when they are joined."""
    services = [{"code": "97140", "units": rng.choice([1, 2, 3]), "minutes": rng.choice([8, 23, 30, 38]), "modifiers": ["GP"]}]
    if rng.random() < 0.5:
        services.append({"code": rng.choice(["97110", "97530", "98941"]), "units": 1, "minutes": 15, "modifiers": rng.choice([["GP"], ["GP", "59"], []])})
    value = {
        "id": f"E-{i}" if rng.random() < 0.95 else "E-0",  # an id used twice, now and then
        "date": f"2026-03-{rng.randint(10, 12)}",
        "patient": f"P-{rng.randrange(patients)}",
        "provider": {"npi": "1234567893", "discipline": "PT"},
        "diagnoses": ["M54.50"],
        "services": services,
    }
    if rng.random() < 0.03:
        del value["date"]  # a schema failure
    return value


def write_export(path, count: int, seed: int, patients: int = 30) -> list[dict]:
    rng = random.Random(seed)
    values = [encounter(rng, i, patients) for i in range(count)]
    path.write_text("".join(json.dumps(v) + "\n" for v in values))
    return values


def check(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["check", "--no-cache", "--format", "json", *args], catch_exceptions=False)
    return result.exit_code, result.stdout


@pytest.fixture
def exports(tmp_path, monkeypatch):
    """Three NDJSON exports sharing patients; the first long enough to be split in byte ranges."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cptlint.parallel, "SPLIT_MIN_BYTES", 20_000)
    monkeypatch.setattr(cptlint.parallel, "PIECE_MAX_BYTES", 8_000)
    for n, count in enumerate((400, 60, 60)):
        write_export(tmp_path / f"export-{n}.ndjson", count, seed=n)
    return tmp_path


@pytest.mark.parametrize("scope", [[], ["--days-across-files"]], ids=["days within a file", "days across files"])
def test_the_dask_engine_reports_what_a_run_on_one_machine_does(exports, scheduler, scope):
    local = check("--jobs", "2", *scope, ".")
    on_dask = check("--engine", "dask", "--scheduler", scheduler, *scope, ".")
    assert on_dask == local
    assert local[0] == 1 and {"UNT001", "SCH005", "SCH003"} <= {f["code"] for f in json.loads(local[1])}


@pytest.mark.parametrize("scope", [[], ["--days-across-files"]], ids=["days within a file", "days across files"])
def test_every_format_is_checked_on_the_cluster_as_here(scheduler, monkeypatch, scope):
    """YAML, JSON, X12 837P and FHIR fixtures, the same visits in each (tests/fixtures/claims)."""
    monkeypatch.chdir(REPO)
    local = check("--jobs", "1", *scope, "tests/fixtures/claims", "tests/fixtures/visits")
    flagged = {f["path"].rsplit(".", 1)[1] for f in json.loads(local[1])}
    assert local[0] == 1 and {"837", "json", "yaml"} <= flagged
    assert check("--engine", "dask", "--scheduler", scheduler, *scope, "tests/fixtures/claims", "tests/fixtures/visits") == local


def test_a_worker_killed_mid_run_loses_and_repeats_nothing(exports, tmp_path_factory):
    marker = tmp_path_factory.mktemp("kill") / "killed"

    class KillOnce(distributed.WorkerPlugin):
        """Kills its worker's process as it starts the first piece of a split file, once in all."""

        def transition(self, key, start, finish, **kwargs):
            if finish == "executing" and "_lint_piece" in str(key):
                try:
                    os.close(os.open(marker, os.O_CREAT | os.O_EXCL))
                except FileExistsError:
                    return
                os.kill(os.getpid(), signal.SIGKILL)

    local = check("--jobs", "2", ".")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=":0", silence_logs=50) as cluster:
        with distributed.Client(cluster) as client:
            client.register_plugin(KillOnce())
            on_dask = check("--engine", "dask", "--scheduler", cluster.scheduler_address, ".")
    assert marker.exists()  # a worker was killed
    assert on_dask == local


def test_a_scheduler_that_cannot_be_reached_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cptlint.lake.dask, "CONNECT_SECONDS", 1)
    write_export(tmp_path / "a.ndjson", 3, seed=1)
    result = CliRunner().invoke(main, ["check", "--engine", "dask", "--scheduler", "tcp://127.0.0.1:9", "a.ndjson"])
    assert result.exit_code == 2
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in result.stderr
    assert "Traceback" not in result.output


def test_without_the_dask_extra_the_engine_says_how_to_install_it(tmp_path, monkeypatch):
    import sys

    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, "dask.distributed", None)  # as if it were not installed
    write_export(tmp_path / "a.ndjson", 3, seed=1)
    result = CliRunner().invoke(main, ["check", "--engine", "dask", "a.ndjson"])
    assert result.exit_code == 2
    assert "pip install 'cptlint[dask]'" in result.stderr


@pytest.mark.parametrize(
    "args, said",
    [
        (["--workers", "2"], "use them with --engine dask"),
        (["--scheduler", "tcp://127.0.0.1:9"], "use them with --engine dask"),
        (["--engine", "dask", "--jobs", "2"], "say --workers"),
    ],
)
def test_options_of_one_engine_are_refused_with_the_other(tmp_path, monkeypatch, args, said):
    monkeypatch.chdir(tmp_path)
    write_export(tmp_path / "a.ndjson", 3, seed=1)
    result = CliRunner().invoke(main, ["check", *args, "a.ndjson"])
    assert result.exit_code == 2 and said in result.stderr


def test_without_a_scheduler_a_local_cluster_is_started(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_export(tmp_path / "a.ndjson", 50, seed=3)
    assert check("--engine", "dask", "--workers", "2", "a.ndjson") == check("a.ndjson")


# ------------------------------------------------------------------------------ the lake API


def comparable(findings) -> list[tuple]:
    return sorted((f["line"], f["column"], f["code"], f["severity"], f["pointer"], f["message"], f["encounter"]) for f in findings)


@pytest.fixture
def lake(tmp_path, monkeypatch, scheduler):
    """The same encounters as an NDJSON export and as a Parquet dataset of three files, and a
    client of the two-worker cluster."""
    monkeypatch.chdir(tmp_path)
    values = write_export(tmp_path / "export.ndjson", 300, seed=11)
    frame = pd.DataFrame(values)
    dataset = tmp_path / "dataset"
    dataset.mkdir()
    for n, start in enumerate(range(0, len(frame), 100)):
        frame.iloc[start : start + 100].to_parquet(dataset / f"part.{n}.parquet", index=False)
    with distributed.Client(scheduler) as client:
        yield tmp_path, values, client


def test_a_parquet_dataset_gives_the_findings_of_the_same_encounters_as_ndjson(lake):
    root, values, _ = lake
    exported = json.loads(check("export.ndjson")[1])
    found = cptlint.lake.dask.lint_parquet(str(root / "dataset"), Settings(root=root)).compute()
    assert list(found.columns) == list(cptlint.lake.dask.FINDING_COLUMNS)
    assert comparable(found.to_dict("records")) == comparable(exported)
    assert set(found["path"]) == {str(root / "dataset")}
    # days are whole though a patient's encounters lie in all three files of the dataset
    day_rules = {f["code"] for f in exported} & {"UNT001", "UNT006", "MOD001", "REG001"}
    assert day_rules and day_rules <= set(found["code"])


def test_a_bag_of_encounters_gives_what_the_same_rows_give(lake):
    import dask
    import dask.bag as db
    import dask.dataframe as dd

    root, values, _ = lake
    settings = Settings(root=root)
    from_bag = cptlint.lake.dask.lint_bag(db.from_sequence(values, npartitions=4), settings, name="visits").compute()
    with dask.config.set({"dataframe.convert-string": False}):  # keep the nested mappings objects
        frame = dd.from_pandas(pd.DataFrame(values), npartitions=3)
    from_frame = cptlint.lake.dask.lint_frame(frame, settings, name="visits").compute()
    assert len(from_bag) > 0
    assert comparable(from_bag.to_dict("records")) == comparable(from_frame.to_dict("records"))


def test_the_findings_of_a_lake_can_be_written_to_parquet(lake, tmp_path):
    root, _, _ = lake
    found = cptlint.lake.dask.lint_parquet(str(root / "dataset"), Settings(root=root))
    found.to_parquet(tmp_path / "findings")
    assert len(pd.read_parquet(tmp_path / "findings")) == len(found.compute())
