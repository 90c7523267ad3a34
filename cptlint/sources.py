"""Which files a run lints: explicit files and walked directories, minus the excluded ones."""

from __future__ import annotations

import os
from pathlib import Path

from cptlint.config import Settings
from cptlint.data import rules_dir
from cptlint.loader import SUFFIXES


def collect(paths: list[str], settings: Settings) -> list[Path]:
    """Files to lint, in a stable order. Explicit files honour `exclude` too, so a pre-commit
    run never lints what the project excluded. Rules directories (the built-in one when it is in
    the tree, and `extend-rules`) hold policy data, not encounters, and are not walked."""
    found: list[Path] = []
    seen: set[Path] = set()
    rules_dirs = [p.resolve() for p in (*settings.extend_rules, rules_dir())]
    for raw in paths:
        path = Path(raw)
        candidates = _walk(path, settings, rules_dirs) if path.is_dir() else [path]
        for candidate in candidates:
            key = candidate.resolve()
            if key in seen or settings.is_excluded(candidate):
                continue
            seen.add(key)
            found.append(candidate)
    return found


def _walk(top: Path, settings: Settings, rules_dirs: list[Path]) -> list[Path]:
    files = []
    for directory, dirnames, filenames in os.walk(top):
        here = Path(directory)
        dirnames[:] = sorted(
            d for d in dirnames if (here / d).resolve() not in rules_dirs and not settings.is_excluded(here / d)
        )
        files.extend(here / name for name in sorted(filenames) if name.lower().endswith(SUFFIXES))
    return files
