"""A baseline of known findings, keyed on (path, code, JSON Pointer), never on line numbers.

`cptlint check --write-baseline FILE` records today's findings; `--baseline FILE` then reports
only findings the baseline does not hold. Because the key is the JSON Pointer, an edit that moves
lines (a comment added above, a service reordered elsewhere in the file) keeps the baseline
valid. A key is a count: two findings of one rule at one pointer need two entries.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from typing import NamedTuple

from cptlint.diagnostics import Diagnostic
from cptlint.files import write_atomic

VERSION = 1


class BaselineError(Exception):
    pass


class Stale(NamedTuple):
    path: str
    code: str
    pointer: str
    count: int


def _file_key(path: str, base: Path) -> str:
    return Path(os.path.relpath(Path(path).resolve(), base)).as_posix()


def _key(d: Diagnostic, base: Path) -> tuple[str, str, str]:
    return (_file_key(d.path, base), d.code, d.pointer)


def write(diagnostics, target: Path) -> int:
    """Record the findings of a run (the file is written anew, atomically)."""
    base = target.resolve().parent
    counts = Counter(_key(d, base) for d in diagnostics)
    messages = {_key(d, base): d.message for d in diagnostics}
    entries = [
        {"path": path, "code": code, "pointer": pointer, "count": n, "message": messages[(path, code, pointer)]}
        for (path, code, pointer), n in counts.items()
    ]
    entries.sort(key=lambda e: (e["path"], e["code"], e["pointer"]))
    write_atomic(target, (json.dumps({"version": VERSION, "findings": entries}, indent=2) + "\n").encode("utf-8", "backslashreplace"))
    return sum(counts.values())


def read(source: Path) -> Counter:
    return Counter({(e["path"], e["code"], e["pointer"]): e["count"] for e in _entries(source)})


def _entries(source: Path) -> list[dict]:
    """The baseline's entries, each checked: path, code and pointer are text, count a whole
    number from 1 (a damaged file is an error that names it, never a traceback)."""
    try:
        content = json.loads(source.read_text(encoding="utf-8"))
    except OSError as err:
        raise BaselineError(f"{source}: cannot read the baseline: {err.strerror or err}") from None
    except (ValueError, RecursionError):
        raise BaselineError(f"{source}: not a cptlint baseline file (not JSON)") from None
    if not isinstance(content, dict) or content.get("version") != VERSION or not isinstance(content.get("findings"), list):
        raise BaselineError(f"{source}: not a cptlint baseline (version {VERSION})")
    entries = []
    for number, entry in enumerate(content["findings"], start=1):
        fields = (entry.get("path"), entry.get("code"), entry.get("pointer")) if isinstance(entry, dict) else ()
        count = entry.get("count") if isinstance(entry, dict) else None
        if len(fields) != 3 or not all(isinstance(f, str) for f in fields) or type(count) is not int or count < 1:
            raise BaselineError(f"{source}: entry {number} is not a finding (path, code, pointer and a whole count from 1)")
        entries.append(entry)
    return entries


def subtract(diagnostics, source: Path, known: Counter, files) -> tuple[list[Diagnostic], list[Stale]]:
    """(findings the baseline does not hold, baseline entries of the files read that no longer
    occur). Entries of files the run did not read are neither matched nor stale: a run over some
    of the files (a pre-commit run) is judged on those files alone."""
    base = source.resolve().parent
    read_now = {_file_key(path, base) for path in files}
    left = Counter({key: n for key, n in known.items() if key[0] in read_now})
    new = []
    for d in diagnostics:
        key = _key(d, base)
        if left[key] > 0:
            left[key] -= 1
        else:
            new.append(d)
    stale = [Stale(*key, n) for key, n in sorted(left.items()) if n > 0]
    return new, stale
