"""Which files a run lints: explicit files and walked directories, minus the excluded ones."""

from __future__ import annotations

import os
from pathlib import Path

from cptlint.config import Settings
from cptlint.loader import SUFFIXES

# Never descended into while walking (explicit file paths are still linted).
SKIPPED_DIRS = {"node_modules", "__pycache__", "venv", "site-packages"}


def collect(paths: list[str], settings: Settings) -> list[Path]:
    """Files to lint, in a stable order. Explicit files honour `exclude` too, so a pre-commit
    run never lints what the project excluded."""
    found: list[Path] = []
    seen: set[Path] = set()
    rules_dirs = [p.resolve() for p in settings.extend_rules]
    for raw in paths:
        path = Path(raw)
        candidates = _walk(path, settings, rules_dirs) if path.is_dir() else [path]
        for candidate in candidates:
            key = candidate.resolve()
            if key in seen or settings.is_excluded(_absolute(candidate)):
                continue
            seen.add(key)
            found.append(candidate)
    return found


def _absolute(path: Path) -> Path:
    return path if path.is_absolute() else Path.cwd() / path


def _walk(top: Path, settings: Settings, rules_dirs: list[Path]) -> list[Path]:
    files = []
    for directory, dirnames, filenames in os.walk(top):
        here = Path(directory)
        dirnames[:] = sorted(
            d
            for d in dirnames
            if not d.startswith(".")
            and d not in SKIPPED_DIRS
            and (here / d).resolve() not in rules_dirs
            and not settings.is_excluded(_absolute(here / d))
        )
        files.extend(
            here / name for name in sorted(filenames) if name.lower().endswith(SUFFIXES) and not name.startswith(".")
        )
    return files
