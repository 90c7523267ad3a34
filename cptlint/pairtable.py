"""The CMS PTP tables a configuration loads, kept in an SQLite file in the result cache.

A full practitioner table is millions of rows: read into Python objects it costs seconds and
gigabytes on every run, where a run looks up only the pairs of the codes its files bill. The
rows are read from the CMS files once, written to `.cptlint_cache/v2/xx/<key>` as an SQLite
table, and looked up by pair. The file is data checked as it is read, as every cache entry is:
its schema and row count must be the ones written here (else it is a miss, and written again),
and each row fetched is checked as a rules row (else the run stops with a message, exit 2).
"""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Iterator, Mapping
from pathlib import Path
from urllib.parse import quote

from cptlint.policy import PAIR_FIELDS, PairEdit, PolicyError, _pair_rows_hold

SCHEMA = (
    "CREATE TABLE pairs (column1 TEXT NOT NULL, column2 TEXT NOT NULL, modifier_indicator INTEGER NOT NULL, "
    "effective TEXT, deleted TEXT, source TEXT NOT NULL, column_order TEXT)",
    "CREATE INDEX pair ON pairs (column1, column2)",
)


class DamagedTable(PolicyError):
    """The SQLite file is not the table this module writes."""

    def __init__(self, path):
        super().__init__(f"{path}: the cached CMS pair table is damaged: remove .cptlint_cache and run again")


def write_table(path: Path, pairs: dict) -> None:
    """The rows of pairs ({(column 1, column 2): [row, ...]}, rows as rules rows) into a new
    SQLite file at path, whole or not at all."""
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        temporary.unlink()
    except FileNotFoundError:
        pass
    connection = sqlite3.connect(temporary)
    try:
        for statement in SCHEMA:
            connection.execute(statement)
        connection.executemany(
            "INSERT INTO pairs VALUES (?, ?, ?, ?, ?, ?, ?)",
            ([row.get(field) for field in PAIR_FIELDS] for rows in pairs.values() for row in rows),
        )
        connection.commit()
    finally:
        connection.close()
    os.replace(temporary, path)


class PairTable(Mapping):
    """{(column 1, column 2): (PairEdit, ...)} over the SQLite file, each pair fetched when first
    asked for. Forked workers open their own connection (one is never shared across a fork)."""

    def __init__(self, path: Path, rows: int, pairs: int):
        self.path, self.rows, self._pairs = Path(path), rows, pairs
        self._fetched: dict = {}
        self._connection: sqlite3.Connection | None = None
        self._pid = None

    @classmethod
    def open(cls, path: Path, rows: int, pairs: int) -> "PairTable":
        """The table at path when it is the one written here with that many rows, else DamagedTable."""
        table = cls(path, rows, pairs)
        try:
            found = [sql for (sql,) in table._db().execute("SELECT sql FROM sqlite_master ORDER BY rowid")]
            if tuple(found) != SCHEMA:
                raise DamagedTable(path)
            if table._db().execute("SELECT count(*) FROM pairs").fetchone()[0] != rows:
                raise DamagedTable(path)
        except sqlite3.Error:
            raise DamagedTable(path) from None
        return table

    def _db(self) -> sqlite3.Connection:
        if self._pid != os.getpid():
            info = os.lstat(self.path)  # a link planted in the cache is not followed
            if not stat.S_ISREG(info.st_mode):
                raise DamagedTable(self.path)
            self._connection = sqlite3.connect(f"file:{quote(str(self.path))}?mode=ro", uri=True, check_same_thread=False)
            self._connection.execute("PRAGMA trusted_schema = OFF")
            self._pid = os.getpid()
        return self._connection

    def __getitem__(self, key: tuple[str, str]):
        edits = self._fetched.get(key)
        if edits is None:
            rows = self._db().execute("SELECT * FROM pairs WHERE column1 = ? AND column2 = ?", key).fetchall()
            edits = self._fetched[key] = _edits(rows, self.path)
        if not edits:
            raise KeyError(key)
        return edits

    def __contains__(self, key) -> bool:
        try:
            return bool(self[key])
        except (KeyError, TypeError):
            return False

    def __iter__(self) -> Iterator[tuple[str, str]]:
        for first, second in self._db().execute("SELECT DISTINCT column1, column2 FROM pairs ORDER BY column1, column2"):
            yield first, second

    def __len__(self) -> int:
        return self._pairs

    def items(self):
        """Every pair with its rows, in one pass over the table (`cptlint data` counts them all)."""
        rows = self._db().execute("SELECT * FROM pairs ORDER BY column1, column2")
        key, group = None, []
        for row in rows:
            if (row[0], row[1]) != key:
                if group:
                    yield key, _edits(group, self.path)
                key, group = (row[0], row[1]), []
            group.append(row)
        if group:
            yield key, _edits(group, self.path)

    def values(self):
        return (edits for _, edits in self.items())


def _edits(rows: list, path) -> tuple:
    rows = [list(row) for row in rows]
    if not _pair_rows_hold(rows):
        raise DamagedTable(path)
    # a row lists PAIR_FIELDS: column 1, column 2, indicator, effective, deleted, source, order
    return tuple(PairEdit(c1, c2, indicator, source, effective, deleted, order) for c1, c2, indicator, effective, deleted, source, order in rows)


class Pairs(Mapping):
    """The pair edits of a policy: the CMS table's (from an SQLite table) and the rules files'
    (a dict), which hold no pair in common: a CMS pair replaced the built-in one."""

    def __init__(self, rules: dict, cms: PairTable):
        self.rules, self.cms = rules, cms

    def __getitem__(self, key):
        edits = self.rules.get(key)
        return edits if edits is not None else self.cms[key]

    def __contains__(self, key) -> bool:
        return key in self.rules or key in self.cms

    def __iter__(self):
        yield from self.rules
        yield from self.cms

    def __len__(self) -> int:
        return len(self.rules) + len(self.cms)

    def items(self):
        yield from self.rules.items()
        yield from self.cms.items()

    def values(self):
        return (edits for _, edits in self.items())
