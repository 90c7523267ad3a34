"""Which files a run lints: explicit files and walked directories, minus the excluded ones."""

from __future__ import annotations

import os
from pathlib import Path

from cptlint.config import Settings
from cptlint.data import rules_dir
from cptlint.loader import SUFFIXES


def collect(paths: list[str], settings: Settings) -> list[str]:
    """Files to lint, in a stable order, as the strings they are shown by. Explicit files honour
    `exclude` too, so a pre-commit run never lints what the project excluded. Rules directories
    (the built-in one when it is in the tree, and `extend-rules`) hold policy data, not
    encounters, and are not walked. A file named twice (a folder and a file in it, or two
    spellings of one folder) is linted once: it is known by its folder's real path and its name."""
    return list(walk(paths, settings))


def walk(paths: list[str], settings: Settings):
    """collect's files one at a time, as the folders are walked: a large tree is never listed
    whole (only when several paths are given are the files seen remembered, to skip repeats)."""
    seen: set[str] = set()
    overlap_possible = len(paths) > 1  # a single folder walked never yields a file twice
    rules_dirs = {os.path.realpath(p) for p in (*settings.extend_rules, rules_dir())}
    for raw in paths:
        candidates = _walk(raw, settings, rules_dirs) if os.path.isdir(raw) else [(os.path.realpath(raw), str(Path(raw)))]
        for key, candidate in candidates:
            if key in seen or settings.is_excluded(candidate):
                continue
            if overlap_possible:
                seen.add(key)
            yield candidate


def _walk(top: str, settings: Settings, rules_dirs: set[str]):
    """(identity, shown path) of each encounter file under top; one realpath per folder, not per file."""
    for directory, dirnames, filenames in os.walk(top):
        real = os.path.realpath(directory)
        shown = str(Path(directory))  # as pathlib spells it: "a/b", never "./a/b"
        dirnames[:] = sorted(
            d
            for d in dirnames
            if os.path.realpath(os.path.join(real, d)) not in rules_dirs
            and not settings.is_excluded(os.path.join(directory, d))
        )
        for name in sorted(filenames):
            if name.lower().endswith(SUFFIXES):
                yield os.path.join(real, name), name if shown == "." else os.path.join(shown, name)
