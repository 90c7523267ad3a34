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

VERSION = 1


class BaselineError(Exception):
    pass


class Stale(NamedTuple):
    path: str
    code: str
    pointer: str
    count: int


def _key(d: Diagnostic, base: Path) -> tuple[str, str, str]:
    return (Path(os.path.relpath(Path(d.path).resolve(), base)).as_posix(), d.code, d.pointer)


def write(diagnostics: list[Diagnostic], target: Path) -> int:
    base = target.resolve().parent
    counts = Counter(_key(d, base) for d in diagnostics)
    messages = {_key(d, base): d.message for d in diagnostics}
    entries = [
        {"path": path, "code": code, "pointer": pointer, "count": n, "message": messages[(path, code, pointer)]}
        for (path, code, pointer), n in sorted(counts.items())
    ]
    target.write_text(json.dumps({"version": VERSION, "findings": entries}, indent=2) + "\n", encoding="utf-8")
    return len(diagnostics)


def read(source: Path) -> Counter:
    try:
        content = json.loads(source.read_text(encoding="utf-8"))
        if content.get("version") != VERSION:
            raise BaselineError(f"{source}: not a cptlint baseline (version {VERSION})")
        return Counter({(e["path"], e["code"], e["pointer"]): int(e["count"]) for e in content["findings"]})
    except OSError as err:
        raise BaselineError(f"{source}: cannot read the baseline: {err.strerror or err}") from None
    except (ValueError, KeyError, TypeError, AttributeError):
        raise BaselineError(f"{source}: not a cptlint baseline file") from None


def subtract(diagnostics: list[Diagnostic], source: Path, known: Counter) -> tuple[list[Diagnostic], list[Stale]]:
    """(findings the baseline does not hold, baseline entries that no longer occur)."""
    base = source.resolve().parent
    left = Counter(known)
    new = []
    for d in diagnostics:
        key = _key(d, base)
        if left[key] > 0:
            left[key] -= 1
        else:
            new.append(d)
    stale = [Stale(*key, n) for key, n in sorted(left.items()) if n > 0]
    return new, stale
