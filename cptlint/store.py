"""Where a run keeps what it learns while it reads files: findings, the days each file holds,
and the file names. A small run keeps them in memory; a large one in a temporary SQLite
database, so that its memory stays flat however many files it reads (the findings, days and
names are what grows with the files).

Both stores answer the engine's questions the same way: which days span several files (those
are judged again over all of them), which provisional one-file day findings stand, and the
findings in report order.
"""

from __future__ import annotations

import pickle
from copy import copy
from dataclasses import dataclass

from cptlint.days import DayIndex
from cptlint.diagnostics import Diagnostic, Severity

_SEVERITIES = {int(severity): severity for severity in Severity}


@dataclass
class Run:
    """What a run found, for the reporters: findings in report order, the files read, and each
    flagged file's text (or its flagged lines), for excerpts. A stored run's findings, files and
    texts are read back from its database each time they are iterated."""

    diagnostics: object  # a list, or a stored run's findings: iterable again, with a len
    files: object  # paths in the order read (the encounter files: not those skipped)
    texts: object  # path -> text or {line: text}, with .get
    skipped: int = 0  # files a directory walk found that hold no encounters
    unchecked: int = 0  # encounters with a schema problem that SCH003, ignored, did not report
    notes: tuple = ()  # what the summary must say about the run itself


class Tally:
    """What both stores count the same way."""

    def __init__(self):
        self.skipped = 0
        self.unchecked = 0

    def counted(self, result) -> bool:
        """Count result; False when it is a skipped file (kept nowhere else)."""
        self.unchecked += result.unchecked
        if result.skipped:
            self.skipped += 1
        return not result.skipped


class MemoryStore:
    """Everything in memory: the file results themselves, for callers that want them (fixes)."""

    def __init__(self):
        self.sources: list = []
        self.results: list = []
        self.days = DayIndex()
        self.by_path: dict | None = None  # made when files are read again for shared days
        self.tally = Tally()

    def add(self, source, result, keep: bool = False) -> None:
        if not self.tally.counted(result):
            return
        self.sources.append(source)
        self.days.add(source.path, result.day_ids, result.broken_visits)
        if keep or result.diagnostics or any(found for found in result.day_findings.values()):
            self.results.append(result)

    def settle(self) -> None:
        """A provisional day finding stands when its day was seen in one piece and is complete."""
        for result in self.results:
            for (day, visit), found in result.day_findings.items():
                if self.days.alone(day, visit):
                    result.diagnostics.extend(found)
            result.day_findings = {}

    def shared_days(self) -> set[int]:
        return self.days.shared_days()

    def sources_with_shared_days(self) -> list:
        shared = self.days.shared_days()
        paths = {p for day, held in self.days.holders.items() if day in shared for p in held}
        return [source for source in self.sources if source.path in paths]

    def add_late(self, again) -> None:
        """A file read again for the days it shares: its findings from those days."""
        if not again.diagnostics:
            return
        if self.by_path is None:
            self.by_path = {r.path: r for r in self.results}
        result = self.by_path.get(again.path)
        if result is None:
            self.results.append(copy(again))
            self.by_path[again.path] = self.results[-1]
        else:
            result.diagnostics.extend(again.diagnostics)
            result.text = result.text or again.text
            result.excerpts.update(again.excerpts)

    def run(self) -> Run:
        diagnostics = sorted((d for r in self.results for d in r.diagnostics), key=Diagnostic.sort_key)
        flagged = {d.path for d in diagnostics}
        texts = {r.path: r.excerpts or r.text for r in self.results if r.path in flagged}
        return Run(diagnostics, [s.path for s in self.sources], texts, self.tally.skipped, self.tally.unchecked)


_TABLES = """
create table files (idx integer primary key, path blob);
create index files_by_path on files (path);
create table days (day integer, visit integer, path blob);
create table broken (visit integer);
create table findings (path blob, line integer, col integer, code blob, pointer blob, message blob,
                       day integer, visit integer, end_line integer, end_col integer, severity integer,
                       encounter blob, fixable blob, fix blob);
create table texts (path blob primary key, content blob);
"""


def _sortable(text: str) -> bytes:
    """Text as SQLite compares it byte by byte in the order Python compares it: UTF-8, with
    the lone surrogates a path or a JSON string may hold kept (and still in code-point order)."""
    return text.encode("utf-8", "surrogatepass")


def _text_of(data: bytes) -> str:
    return data.decode("utf-8", "surrogatepass")


class DiskStore:
    """Everything in a temporary SQLite database (its file is unlinked as soon as SQLite opens
    it, so even a killed run leaves nothing behind); only sources not on disk (standard input)
    are kept as they are, to be read again."""

    def __init__(self, source_of):
        import sqlite3

        self.source_of = source_of  # a path's Source, to read a file again
        self.db = sqlite3.connect("")  # "": a private temporary database, on disk past its page cache
        self.db.executescript("pragma cache_size = -256;" + _TABLES)
        self.unsaved: dict[str, object] = {}  # sources that cannot be opened again by path
        self.count = 0
        self.tally = Tally()

    def add(self, source, result, keep: bool = False) -> None:
        if not self.tally.counted(result):
            return
        index = self.count
        self.count += 1
        self.db.execute("insert into files values (?, ?)", (index, _sortable(source.path)))
        if not source.on_disk:
            self.unsaved[source.path] = source
        self.spill(result)
        self._text(result)

    def spill(self, result) -> None:
        """What a file has found so far: its findings, its days and the days its schema failures
        leave incomplete (a long file's, as it is read; see Linter.sink)."""
        db, path = self.db, _sortable(result.path)
        db.executemany("insert into days values (?, ?, ?)", [(day, visit, path) for day, visit in result.day_ids])
        db.executemany("insert into broken values (?)", [(visit,) for visit in result.broken_visits])
        self._findings(result.diagnostics, None)
        self._findings((), None, result.day_findings)
        result.diagnostics, result.day_ids, result.broken_visits, result.day_findings = [], [], set(), {}

    def _findings(self, found, day: tuple[int, int] | None, by_day: dict | None = None) -> None:
        """Insert findings, of one day (day) or, with by_day, of the days by_day files them under;
        in one statement, however many days."""
        if by_day is not None:
            found = [(d, day) for day, of_day in by_day.items() for d in of_day]
        else:
            found = [(d, day) for d in found]
        # A finding's fields as columns: pickling the finding whole costs twice as much, both ways.
        # The severity as a plain int: SQLite adapts an int subclass by the slow path.
        self.db.executemany(
            "insert into findings values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (_sortable(d.path), d.line, d.column, _sortable(d.code), _sortable(d.pointer), _sortable(d.message),
                 *(day or (None, None)), d.end_line, d.end_column, int(d.severity),
                 None if d.encounter is None else _sortable(d.encounter), d.fixable, None if d.fix is None else pickle.dumps(d.fix))
                for d, day in found
            ],
        )

    def _text(self, result) -> None:
        content = result.excerpts or result.text
        if content:
            self.db.execute("insert or ignore into texts values (?, ?)", (_sortable(result.path), pickle.dumps(content)))

    def settle(self) -> None:
        """Drop the provisional day findings of days seen in several pieces or incomplete."""
        self.db.executescript(
            """
            create index days_by_day on days (day);
            create index broken_visits on broken (visit);
            create table shared as select day, min(visit) as visit from days group by day having count(*) > 1;
            create index shared_days on shared (day);
            delete from findings where day is not null
              and (day in (select day from shared) or visit in (select visit from broken));
            create table rejudged as select day from shared where visit not in (select visit from broken);
            create index rejudged_days on rejudged (day);
            """
        )

    def shared_days(self) -> set[int]:
        return {day for (day,) in self.db.execute("select day from rejudged")}

    def sources_with_shared_days(self):
        query = (
            "select distinct files.idx, files.path from days join files on files.path = days.path"
            " where days.day in (select day from rejudged) order by files.idx"
        )
        for _, path in self.db.execute(query).fetchall():
            text = _text_of(path)
            yield self.unsaved.get(text) or self.source_of(text)

    def add_late(self, again) -> None:
        self._findings(again.diagnostics, None)
        self._text(again)

    def run(self) -> Run:
        (count,) = self.db.execute("select count(*) from findings").fetchone()
        return Run(_StoredFindings(self.db, count), _StoredFiles(self.db), _StoredTexts(self.db), self.tally.skipped, self.tally.unchecked)


class _StoredFindings:
    """A stored run's findings in report order (as Diagnostic.sort_key sorts them)."""

    def __init__(self, db, count: int):
        self.db, self.count = db, count

    def __len__(self) -> int:
        return self.count

    def __iter__(self):
        query = (
            "select path, line, col, end_line, end_col, code, severity, message, pointer, encounter, fixable, fix"
            " from findings order by path, line, col, code, pointer, message, rowid"
        )
        for path, line, column, end_line, end_column, code, severity, message, pointer, encounter, fixable, fix in self.db.execute(query):
            yield Diagnostic(
                _text_of(path), line, column, end_line, end_column, _text_of(code), _SEVERITIES[severity], _text_of(message),
                _text_of(pointer), None if encounter is None else _text_of(encounter), fixable, None if fix is None else pickle.loads(fix),
            )


class _StoredFiles:
    def __init__(self, db):
        self.db = db

    def __len__(self) -> int:
        return self.db.execute("select count(*) from files").fetchone()[0]

    def __iter__(self):
        return (_text_of(path) for (path,) in self.db.execute("select path from files order by idx"))


class _StoredTexts:
    """path -> text, read back one file at a time (findings come a file at a time)."""

    def __init__(self, db):
        self.db = db
        self.last: tuple[str, object] | None = None

    def get(self, path: str, default=None):
        if self.last is None or self.last[0] != path:
            row = self.db.execute("select content from texts where path = ?", (_sortable(path),)).fetchone()
            self.last = (path, pickle.loads(row[0]) if row else default)
        return self.last[1]
