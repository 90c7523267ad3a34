"""Dask: the command line's workers on a cluster (`cptlint check --engine dask`), and the lake
API, which lints a Dask DataFrame, bag or Parquet dataset of encounters into a Dask DataFrame of
findings.

Needs the `dask` extra (`pip install 'cptlint[dask]'`: dask[distributed] and pyarrow).

On the command line a cluster's workers stand in for the local worker processes: files go to
them a chunk at a time and a long NDJSON file in byte ranges, exactly as with --jobs, so the
findings are those of a run on one machine. The workers read the files at the paths the run
names: on a cluster of several machines they need the same folder at the same path.

The lake API forms days by shuffling on their key, then maps the engine-neutral core
(lake/__init__.py) over the partitions.
"""

from __future__ import annotations

import datetime
import json
import logging
import os
from contextlib import contextmanager
from itertools import accumulate

from cptlint.lake import lint_days, repeated_ids, shuffle_key
from cptlint.parallel import _linter

CONNECT_SECONDS = 10  # how long to try a scheduler's address before saying it cannot be reached
LAKE_OPTIONS = (False, False, False, True)  # a lake's linters: no cache, no excerpts, no fixes, stable ids
FINDING_COLUMNS = ("path", "line", "column", "end_line", "end_column", "code", "severity", "message", "pointer", "encounter")
_RECORD_COLUMNS = ("path", "line", "record", "day", "id", "text")


class EngineError(Exception):
    """The Dask engine cannot run: the extra is not installed, or the scheduler cannot be reached."""


def _distributed():
    try:
        import dask.distributed
    except ImportError:
        raise EngineError("the Dask engine needs the dask extra: pip install 'cptlint[dask]'") from None
    return dask.distributed


class Cluster:
    """A Dask cluster's workers, as parallel.py uses workers: a count (their threads) and an
    executor. Every run goes to them, however few its files."""

    shares_work = True
    min_files = 1

    def __init__(self, client, progress=None):
        self.client = client
        self.progress = progress  # progress(done, total) hears of every task that ends

    @property
    def count(self) -> int:
        return max(1, sum(self.client.nthreads().values()))

    def executor(self):
        return _Counted(self.client.get_executor(pure=False), self.progress)


class _Counted:
    """An executor that tells progress(done, total) of its tasks as they end."""

    def __init__(self, executor, progress):
        self.executor, self.progress = executor, progress
        self.done = self.total = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.executor.shutdown(wait=exc[0] is None)

    def submit(self, fn, *args):
        future = self.executor.submit(fn, *args)
        self.total += 1
        if self.progress is not None:
            future.add_done_callback(self._ended)
        return future

    def _ended(self, future) -> None:
        self.done += 1
        self.progress(self.done, self.total)


@contextmanager
def cluster(scheduler: str | None = None, workers: int | None = None, progress=None):
    """The workers of the scheduler at its address, or of a local cluster of workers processes
    (default: one a core), for the length of a run."""
    distributed = _distributed()
    local = None
    try:
        if scheduler is None:
            local = distributed.LocalCluster(
                n_workers=workers or os.cpu_count() or 1, threads_per_worker=1, processes=True,
                dashboard_address=":0", silence_logs=logging.ERROR,
            )
            client = distributed.Client(local, direct_to_workers=True)
        else:
            client = distributed.Client(scheduler, timeout=CONNECT_SECONDS, direct_to_workers=True)
            client.wait_for_workers(1, timeout=CONNECT_SECONDS)
    except (OSError, TimeoutError, ValueError) as err:
        if local is not None:
            local.close()
        where = f"the Dask scheduler at {scheduler}" if scheduler else "a local Dask cluster"
        raise EngineError(f"cannot reach {where}: {err}") from None
    try:
        yield Cluster(client, progress)
    finally:
        client.close()
        if local is not None:
            local.close()


# ------------------------------------------------------------------------------- the lake API


def lint_frame(frame, settings=None, name: str = "frame"):
    """The findings of a Dask DataFrame of encounters (a row each, `services` a list of
    mappings), as a Dask DataFrame with FINDING_COLUMNS. A finding's path is name, its line
    the row's number from 1 and its pointer starts with the row's index from 0 (as NDJSON lines
    are numbered); its column is within the row written as JSON. A null is an absent field
    (Parquet cannot tell them apart). Nested fields must be objects, not text: Dask turns a
    pandas column of objects into strings unless `dataframe.convert-string` is False, as it is
    not for a Parquet dataset read with pyarrow types (lint_parquet). settings: cptlint's, else
    those of the current folder."""
    return _linted(frame.to_delayed(), list(frame.map_partitions(len).compute()), _frame_records, settings, name)


def lint_bag(bag, settings=None, name: str = "bag"):
    """The findings of a Dask bag of encounters (mappings), as lint_frame gives them."""
    lengths = bag.map_partitions(lambda values: [sum(1 for _ in values)]).compute()
    return _linted(bag.to_delayed(), lengths, _records, settings, name)


def lint_parquet(path: str, settings=None, **read_options):
    """The findings of a Parquet dataset of encounters, as lint_frame gives them, named by path."""
    import dask.dataframe as dd

    frame = dd.read_parquet(path, dtype_backend="pyarrow", **read_options)
    return lint_frame(frame, settings, name=str(path))


def _linted(partitions: list, lengths: list[int], as_records, settings, name: str):
    """The partitions (delayed, of lengths rows) made records by as_records, numbered across
    them; days by a shuffle on their key, ids by a shuffle on the id; the core over each
    partition."""
    import dask.dataframe as dd
    from dask import delayed

    if settings is None:
        from cptlint.config import load_settings

        settings = load_settings()
    offsets = accumulate([0, *lengths[:-1]])
    parts = [delayed(as_records)(part, settings.payer, name, offset) for part, offset in zip(partitions, offsets)]
    records = dd.from_delayed(parts, meta=_table([], _RECORD_COLUMNS))
    meta = _table([], FINDING_COLUMNS)
    by_day = records.shuffle(on="day").map_partitions(_judged_days, settings, meta=meta)
    with_ids = records[records["id"].notnull()]
    by_id = with_ids.shuffle(on="id").map_partitions(_repeated_ids, settings, meta=meta)
    return dd.concat([by_day, by_id])


def _table(rows: list[tuple], columns: tuple[str, ...]):
    """A pandas frame of rows, its columns typed as the lake's meta says they are."""
    import pandas as pd

    numbers = ("line", "record", "day", "column", "end_line", "end_column")
    return pd.DataFrame(rows, columns=list(columns)).astype({c: "int64" if c in numbers else "string[pyarrow]" for c in columns})


def _frame_records(part, default_payer: str, name: str, offset: int):
    import pyarrow as pa

    return _records(pa.Table.from_pandas(part, preserve_index=False).to_pylist(), default_payer, name, offset)


def _records(values, default_payer: str, name: str, offset: int):
    """A partition's encounters as records: path, line, record index, shuffle key, id, JSON text."""
    rows = []
    for record, value in enumerate(values, start=offset):
        value = _as_written(value)
        encounter_id = value.get("id") if isinstance(value, dict) else None
        rows.append(
            (name, record + 1, record, shuffle_key(value, default_payer, name, record),
             encounter_id if isinstance(encounter_id, str) else None, json.dumps(value, default=_iso))
        )
    return _table(rows, _RECORD_COLUMNS)


def _as_written(value):
    """A value without its nulls (a columnar format writes an absent field as null)."""
    if isinstance(value, dict):
        return {key: _as_written(item) for key, item in value.items() if item is not None}
    if isinstance(value, (list, tuple)):
        return [_as_written(item) for item in value]
    return value


def _iso(value):
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    raise TypeError(f"a {type(value).__name__} has no JSON form")


def _judged_days(part, settings):
    records = part[["path", "line", "record", "text"]].itertuples(index=False, name=None)
    return _findings(lint_days(_linter(settings, LAKE_OPTIONS), records))


def _repeated_ids(part, settings):
    records = part[["path", "line", "record", "text", "id"]].itertuples(index=False, name=None)
    return _findings(repeated_ids(_linter(settings, LAKE_OPTIONS), records))


def _findings(found):
    return _table([tuple(d.as_dict()[c] for c in FINDING_COLUMNS) for d in found], FINDING_COLUMNS)
