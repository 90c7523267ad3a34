"""Claim lakes: the rules over data too large for one machine, on a distributed engine.

The core here knows no engine. An engine brings encounters as records (path, line, record
index, the record as JSON text) and does two things it is good at: it partitions them so that
every encounter of a day lands in one batch (a shuffle on the day's key, never a per-group
apply), and it maps `lint_days` over the batches. `lint_days` reads each record as an NDJSON
line is read, runs the encounter rules, forms the days the batch holds and judges them, and
returns the findings; `repeated_ids` does the same for ids used twice, over a batch holding
every record of each id it has. Both are plain functions of a batch and the settings, so a
Spark adapter (`mapInPandas` after `repartition` on the day key and `sortWithinPartitions`,
carrying the last open day across batches) needs only its own few lines. lake/dask.py is the
Dask adapter.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from cptlint.days import day_key, text_id
from cptlint.diagnostics import Diagnostic
from cptlint.engine import FileResult, Linter

OWN_DAY = "\0own"  # the key of an encounter without a patient: a day of its own


def shuffle_key(value: dict, default_payer: str, path: str, record: int) -> int:
    """The key to partition an encounter on so that its day is whole in one batch: a digest of
    its patient, date and payer (a collision only puts two days in one batch; lint_days tells
    them apart). An encounter without a patient is a day of its own."""
    patient = value.get("patient") if isinstance(value, dict) else None
    if not isinstance(patient, str):
        return text_id(f"{OWN_DAY}\0{path}\0{record}")
    return text_id(f"{patient}\0{value.get('date')}\0{value.get('payer') or default_payer}")


def lint_days(linter: Linter, records: Iterable[tuple[str, int, int, str]]) -> list[Diagnostic]:
    """The findings of a batch of records (path, line, record index, text) holding every
    encounter of each day it holds, in any order: each record's own, then each day's, judged
    over its encounters in the order of their files."""
    results: dict[str, FileResult] = {}
    days: dict[tuple, list] = defaultdict(list)
    for path, line, record, text in records:
        result = _result(results, linter, path)
        encounter = linter.record_checked(result, path, text, line, record)
        if encounter is not None:
            days[day_key(encounter, linter.scope(path))].append(encounter)
    for encounters in days.values():
        encounters.sort(key=lambda encounter: (encounter.doc.path, encounter.parts))
        linter.judge_day(encounters, lambda owner: results[owner.doc.path])
    return [finding for result in results.values() for finding in result.diagnostics]


def repeated_ids(linter: Linter, records: Iterable[tuple[str, int, int, str, str]]) -> list[Diagnostic]:
    """SCH005 at every record (path, line, record index, text, id) whose id an earlier record of
    its file has, for a batch holding every record of each id it has."""
    results: dict[str, FileResult] = {}
    seen: set[tuple[str, str]] = set()
    for path, line, record, text, encounter_id in sorted(records, key=lambda r: (r[0], r[2])):
        if (path, encounter_id) in seen:
            linter.id_used_again(_result(results, linter, path), text, line, record, encounter_id)
        seen.add((path, encounter_id))
    return [finding for result in results.values() for finding in result.diagnostics]


def _result(results: dict, linter: Linter, path: str) -> FileResult:
    result = results.get(path)
    if result is None:
        result = results[path] = FileResult(path, ignored=linter.settings.ignored_in_file(path))
    return result
