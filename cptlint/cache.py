"""The result cache, `.cptlint_cache/`: a file unchanged since the last run is not read again.

An entry is a file's result as data (its findings, the ids of the days it holds, and its text
when it has findings), keyed on the file's path relative to its configuration, its content, the
resolved settings, the rules data and cptlint's code, so any of those changing is a miss.

An entry is JSON and is checked field by field when read: nothing in the cache can run code,
and a damaged or planted entry is a miss, never an error. The cache is not used when its
directory (or a directory in it) is a symbolic link, and its files are opened without
following links, so a committed `.cptlint_cache -> elsewhere` writes nothing elsewhere. The
directory carries a .gitignore of its own, so it is never committed.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from functools import lru_cache
from pathlib import Path

from cptlint import __version__

DIRECTORY = ".cptlint_cache"
VERSION = "v2"  # v1 held pickles: never read
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


@lru_cache(maxsize=None)
def code_fingerprint() -> str:
    """The version, and the size and time of every module of cptlint: a checkout whose rule
    code was edited must not be served results of the code before the edit."""
    package = Path(__file__).resolve().parent
    stamp = [__version__]
    for module in sorted(package.rglob("*.py")):
        info = module.stat()
        stamp.append(f"{module.relative_to(package)}:{info.st_size}:{info.st_mtime_ns}")
    return hashlib.sha256("\n".join(stamp).encode()).hexdigest()


def digest(*parts: bytes) -> str:
    """A key from parts, each length-prefixed so that no two lists of parts give one key."""
    sha = hashlib.sha256()
    for part in parts:
        sha.update(len(part).to_bytes(8, "little") + part)
    return sha.hexdigest()


class Cache:
    """Entries under ROOT/.cptlint_cache/v2/xx/key, as JSON."""

    def __init__(self, root: Path, salt: str):
        self.base = Path(root) / DIRECTORY
        self.root = self.base / VERSION
        self.salt = salt + code_fingerprint()

    def key(self, settings, path: str, kind: str | None, chunks) -> str:
        """chunks: the file's content, in as many pieces as it is read in (a claim file is not
        held whole)."""
        from cptlint.config import relative_posix

        content = hashlib.sha256()
        for chunk in chunks:
            content.update(chunk)
        where = f"{relative_posix(path, settings.root)}\0{kind}"
        return digest(self.salt.encode(), where.encode("utf-8", "surrogatepass"), content.digest())

    def get(self, key: str, path: str):
        """The FileResult stored under key, for the file at path; None when there is none, or it
        is not what this version writes."""
        data = self.read(key)
        if data is None:
            return None
        from cptlint.diagnostics import Span
        from cptlint.engine import FileResult

        try:
            return FileResult(
                path,
                text=_checked_text(data["text"]),
                excerpts={_integer(line): _excerpt(value) for line, value in data["excerpts"]},
                diagnostics=[_diagnostic(path, row) for row in data["diagnostics"]],
                day_ids=[_ids(pair) for pair in data["days"]],
                broken_visits={_integer(visit) for visit in data["broken"]},
                day_findings={_ids(day): [_diagnostic(path, row) for row in found] for day, found in data["day_findings"]},
                skipped=_boolean(data["skipped"]),
                ids=[(_checked_text(i), Span(*map(_integer, span)), _parts(parts)) for i, span, parts in data["ids"]],
                unchecked=_integer(data["unchecked"]),
            )
        except (KeyError, TypeError, ValueError):
            return None

    def put(self, key: str, result) -> None:
        data = {
            "text": result.text,
            "excerpts": [[line, value] for line, value in result.excerpts.items()],
            "diagnostics": [_row(d) for d in result.diagnostics],
            "days": [list(ids) for ids in result.day_ids],
            "broken": sorted(result.broken_visits),
            "day_findings": [[list(day), [_row(d) for d in found]] for day, found in result.day_findings.items()],
            "skipped": result.skipped,
            "ids": [[i, list(span), list(parts)] for i, span, parts in result.ids],
            "unchecked": result.unchecked,
        }
        self.write(key, json.dumps(data, separators=(",", ":")).encode())

    def read(self, key: str) -> object | None:
        """The JSON value stored under key, or None."""
        if not self._safe_folder(key):
            return None
        try:
            descriptor = os.open(self.root / key[:2] / key, os.O_RDONLY | _NOFOLLOW)
            with os.fdopen(descriptor, "rb") as entry:
                if not stat.S_ISREG(os.fstat(entry.fileno()).st_mode):
                    return None
                return json.loads(entry.read())
        except (OSError, ValueError, RecursionError):
            return None

    def write(self, key: str, data: bytes) -> None:
        folder = self.folder(key)
        if folder is None:
            return
        try:
            temporary = folder / f"{key}.{os.getpid()}.tmp"  # this process's own; replaced whole, so no reader sees half
            _create(temporary, data)
            os.replace(temporary, folder / key)
        except OSError:
            pass  # a read-only checkout lints all the same

    def folder(self, key: str) -> Path | None:
        """The folder of key's entry, made if need be; None where it cannot be, or where the
        cache or a folder in it is a link (a committed .cptlint_cache -> elsewhere)."""
        folder = self.root / key[:2]
        try:
            if self.base.is_symlink():
                return None
            if not self.base.exists():
                self.base.mkdir(parents=True)
                _create(self.base / ".gitignore", b"# Created by cptlint.\n*\n")
                _create(self.base / "CACHEDIR.TAG", b"Signature: 8a477f597d28d172789f06886806bc55\n# cptlint's cache\n")
            for directory in (self.root, folder):
                if directory.is_symlink():
                    return None
                if not directory.exists():
                    directory.mkdir()
        except OSError:
            return None
        return folder if self._safe_folder(key) else None

    def _safe_folder(self, key: str) -> bool:
        """The cache's folders are real directories, not links to somewhere else."""
        for directory in (self.base, self.root, self.root / key[:2]):
            try:
                if not stat.S_ISDIR(os.lstat(directory).st_mode):
                    return False
            except OSError:
                return False
        return True


def _create(path: Path, data: bytes) -> None:
    """A new file with data, never through a link (an existing one is replaced, not followed)."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o644)
    with os.fdopen(descriptor, "wb") as out:
        out.write(data)


def _row(d) -> list:
    return [d.line, d.column, d.end_line, d.end_column, d.code, int(d.severity), d.message, d.pointer, d.encounter, d.fixable]


def _diagnostic(path: str, row: list):
    from cptlint.checks import REGISTRY
    from cptlint.diagnostics import Diagnostic, Severity

    line, column, end_line, end_column, code, severity, message, pointer, encounter, fixable = row
    if code not in REGISTRY or fixable not in (None, "safe", "unsafe"):
        raise ValueError(code)
    return Diagnostic(
        path, _integer(line), _integer(column), _integer(end_line), _integer(end_column), code, Severity(_integer(severity)),
        _checked_text(message), _checked_text(pointer), None if encounter is None else _checked_text(encounter), fixable,
    )


def _excerpt(value):
    """A flagged line's text, or (column, text) pieces of it (see FileResult.excerpts)."""
    if type(value) is str:
        return value
    if type(value) is not list:
        raise TypeError(value)
    return tuple((_integer(column), _checked_text(text)) for column, text in value)


def _ids(pair) -> tuple[int, int]:
    day, visit = pair
    return _integer(day), _integer(visit)


def _integer(value) -> int:
    if type(value) is not int:
        raise TypeError(value)
    return value


def _parts(value) -> tuple:
    """A JSON Pointer's parts: keys and indexes."""
    if type(value) is not list or not all(type(p) in (str, int) for p in value):
        raise TypeError(value)
    return tuple(value)


def _boolean(value) -> bool:
    if type(value) is not bool:
        raise TypeError(value)
    return value


def _checked_text(value) -> str:
    if type(value) is not str:
        raise TypeError(value)
    return value
