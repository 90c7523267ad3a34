"""Days: which encounters the day rules (units for a day, pair edits, regions, time blocks)
judge together.

A day is every encounter of one patient on one date of service, for one payer, **within one
file** by default: a file's verdict is then a function of the file, its configuration and the
rules data alone, whether the run is a folder, the file by itself, pre-commit's staged files or
pytest. With `days-across-files`, the encounters of all the files of a run that share one
configuration form one day, for exports that write one encounter per file. An encounter
without a patient is a day of its own.

A file is read once, and each day it holds is judged as it is found, provisionally. The run's
store knows every day by a stable 8-byte id (the same in every process and every run, so worker
processes and the cache agree) and counts the pieces it was seen in: a file, or a run of
consecutive lines of an NDJSON file. A day seen in one piece keeps its findings. A day seen in
several (across files, or a patient's lines apart in an export sorted by date) loses them and is
judged again here over all its encounters, read back from where they are written: an NDJSON
file's lines by their offsets, grouped in a temporary database, so memory stays flat however
its lines are ordered.
"""

from __future__ import annotations

import hashlib
import sys
from collections import defaultdict
from copy import copy
from itertools import groupby

SPILL_FINDINGS = 1000  # findings of a day judged again go to the store this many at a time


def scope_of(settings, path: str):
    """What a day is confined to: the file, or (days across files) the configuration."""
    return ("config", str(settings.source)) if settings.days_across_files else path


def day_key(encounter, scope) -> tuple:
    """(scope, patient, date, payer); an encounter without a patient is a day of its own."""
    who = encounter.patient if encounter.patient is not None else ("encounter", encounter.doc.path, encounter.parts)
    return (scope, who, encounter.date, encounter.payer.name)


def key_id(key: tuple) -> int:
    """A day's (or a visit's) id: a signed 64-bit digest of its key, the same in every process
    and every run. (Keys of text alone, the common case, are joined rather than repr'd: this
    runs for every day of an NDJSON export.)"""
    try:
        text = "\0".join(key)
    except TypeError:  # a part that is not text: an encounter without a patient
        text = repr(key)
    return text_id(text)


# Where worker processes are forked (everywhere but Windows), they hash text as their parent
# does, and an id that never leaves the run can be Python's own hash: 20 times cheaper.
_HASH_IS_SHARED = sys.platform != "win32"


def local_id(value) -> int:
    """An id of a key or text that only this run compares (an NDJSON file's own days and
    encounter ids, never cached): the same in this process and its forked workers."""
    if _HASH_IS_SHARED:
        return hash(value)
    return stable_id(value)


def stable_id(value) -> int:
    """local_id for workers that are not forked from this process (a Dask cluster's)."""
    return key_id(value) if isinstance(value, tuple) else text_id(value)


def text_id(text: str) -> int:
    """A signed 64-bit digest of text, the same in every process and every run."""
    digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True)


def ids_of(key: tuple, visit_matters: bool = True) -> tuple[int, int]:
    """(the day's id, the id of its visit: scope, patient and date, the unit a schema failure
    leaves incomplete). When no schema failure can reach the day (an NDJSON file's own days:
    its broken lines leave no visit incomplete), its visit is the day itself."""
    day = key_id(key)
    return day, key_id(key[:3]) if visit_matters else day


class DayIndex:
    """In memory: in how many pieces each day was seen, by id, and the files holding it."""

    def __init__(self):
        self.holders: dict[int, object] = {}  # the one path holding a day, or a list of (path, piece)
        self.broken: set[int] = set()  # visits with an encounter that failed the schema
        self.visit_of: dict[int, int] = {}  # the visit of each day seen in several pieces

    def add(self, path: str, day_ids, broken_visits) -> None:
        holders = self.holders
        for day, visit in day_ids:
            held = holders.get(day)
            if held is None:
                holders[day] = path
            elif isinstance(held, list):
                held.append(path)
            else:
                holders[day] = [held, path]
                self.visit_of[day] = visit
        self.broken.update(broken_visits)

    def alone(self, day: int, visit: int) -> bool:
        """Seen in one piece and complete: its provisional findings stand."""
        return not isinstance(self.holders.get(day), list) and visit not in self.broken

    def shared_days(self) -> set[int]:
        """Days seen in several pieces and complete: judged again over all of them."""
        return {day for day, visit in self.visit_of.items() if visit not in self.broken}

    def paths_with_shared_days(self) -> set[str]:
        return {path for held in self.holders.values() if isinstance(held, list) for path in held}


def judge_shared_days(store, linter_for) -> None:
    """The days seen in several pieces, judged over all their encounters. Each file holding one
    is read again: a YAML or JSON file whole (its encounters of those days kept), an NDJSON
    file a line at a time (the offsets of those days' lines kept, in a temporary database)."""
    shared = store.shared_days()
    if not shared:
        return
    import sqlite3

    lines = sqlite3.connect("")
    lines.execute("create table at (day integer, file integer, offset integer, length integer, number integer, record integer)")
    in_memory: dict[int, list] = defaultdict(list)  # day -> [(file, encounter)], from YAML and JSON files
    again: dict[str, object] = {}  # path -> the file's result for the findings of these days
    sources = []
    for order, source in enumerate(store.sources_with_shared_days()):
        linter = linter_for(source.path)
        sources.append((source, linter))
        result = again[source.path] = linter.reread(source, shared)
        if linter.streams(source):
            rows = (
                (day, order, offset, length, number, record)
                for day, offset, length, number, record in linter.record_days(source)
                if day in shared
            )
            lines.executemany("insert into at values (?, ?, ?, ?, ?, ?)", rows)
        else:
            for encounter in result.encounters:
                day = key_id(day_key(encounter, linter.scope(source.path)))
                if day in shared:
                    in_memory[day].append((order, encounter))
            result.encounters = []
    streams: dict[int, object] = {}
    query = "select day, file, offset, length, number, record from at order by day, file, offset"
    try:
        for day, rows in groupby(lines.execute(query), key=lambda row: row[0]):
            encounters = in_memory.pop(day, [])
            for _, order, offset, length, number, record in rows:
                source, linter = sources[order]
                stream = streams.get(order) or streams.setdefault(order, open(source.path, "rb"))
                stream.seek(offset)
                encounter = linter.record_encounter(source.path, stream.read(length), number, record)
                if encounter is not None:
                    encounters.append((order, encounter))
            _judge(encounters, sources, again, store, day)
        for day, encounters in in_memory.items():
            _judge(encounters, sources, again, store, day)
    finally:
        for stream in streams.values():
            stream.close()
        lines.close()
    for result in again.values():
        store.add_late(result)


def _judge(encounters: list, sources: list, again: dict, store, day: int) -> None:
    encounters.sort(key=lambda item: item[0])  # in the order of the files (a sort that keeps each file's order)
    _, linter = sources[encounters[0][0]]
    linter.judge_day([e for _, e in encounters], lambda owner: again[owner.doc.path])
    for path, result in again.items():
        if len(result.diagnostics) >= SPILL_FINDINGS:
            store.add_late(result)
            again[path] = _emptied(result)


def _emptied(result):
    """The result with its findings handed on: a fresh object, since a store may keep the old."""
    fresh = copy(result)
    fresh.diagnostics = []
    fresh.excerpts = {}
    return fresh
