"""Which files a run lints: explicit files and walked directories, minus the excluded ones.

A directory walk honours `.gitignore` files (those in the walked folders and in the folders
above them up to the repository's top, as git reads them), skips hidden directories, the rules
directories and what `exclude` names, each folder by the configuration nearest to it. A file
named on the command line is always linted, unless `exclude` names it (pre-commit names every
YAML file it stages). Whether a walked YAML or JSON file holds encounters at all is decided when
it is read (see Linter: a docker-compose file or a CI workflow is skipped and counted).
"""

from __future__ import annotations

import os
from pathlib import Path

from cptlint.config import Settings
from cptlint.data import rules_dir
from cptlint.engine import Source
from cptlint.formats import SUFFIXES


class _Fixed:
    """One Settings for every path, for callers that have no Resolver."""

    def __init__(self, settings: Settings):
        self.settings = settings

    def settings_for(self, path) -> Settings:
        return self.settings

    def settings_for_directory(self, directory) -> Settings:
        return self.settings


def collect(paths: list[str], settings) -> list[str]:
    """Files to lint, in a stable order, as the strings they are shown by. A file named twice (a
    folder and a file in it, or two spellings of one folder) is linted once: it is known by its
    folder's real path and its name."""
    return [source.path for source in walk(paths, settings)]


def walk(paths: list[str], settings):
    """collect's files one at a time, as Sources, as the folders are walked: a large tree is
    never listed whole (only when several paths are given are the files seen remembered, to
    skip repeats). settings: a Settings, or a config.Resolver for each file's own."""
    resolver = _Fixed(settings) if isinstance(settings, Settings) else settings
    seen: set[str] = set()
    overlap_possible = len(paths) > 1  # a single folder walked never yields a file twice
    for raw in paths:
        if os.path.isdir(raw):
            candidates = _walk(raw, resolver)
        else:
            candidates = [(os.path.realpath(raw), str(Path(raw)), True)]
        for key, candidate, explicit in candidates:
            if key in seen or resolver.settings_for(candidate).is_excluded(candidate):
                continue
            if overlap_possible:
                seen.add(key)
            yield Source(candidate, explicit=explicit)


def _walk(top: str, resolver):
    """(identity, shown path, named) of each encounter file under top; one realpath per folder."""
    ignored = _GitIgnores(os.path.realpath(top))
    rules_dirs = {os.path.realpath(rules_dir())}
    for directory, dirnames, filenames in os.walk(top):
        real = os.path.realpath(directory)
        settings = resolver.settings_for_directory(os.path.abspath(directory))
        rules_dirs.update(os.path.realpath(p) for p in settings.extend_rules)
        ignored.enter(real)
        shown = str(Path(directory))  # as pathlib spells it: "a/b", never "./a/b"
        dirnames[:] = sorted(
            d
            for d in dirnames
            if os.path.realpath(os.path.join(real, d)) not in rules_dirs
            and not settings.is_excluded(os.path.join(directory, d))
            and not ignored.ignores(os.path.join(real, d), directory=True)
        )
        for name in sorted(filenames):
            if name.lower().endswith(SUFFIXES) and not ignored.ignores(os.path.join(real, name)):
                yield os.path.join(real, name), name if shown == "." else os.path.join(shown, name), False


class _GitIgnores:
    """The .gitignore files that apply under a walked folder: those of the folders above it up
    to the repository's top (the folder with .git), then each folder's own as it is entered,
    and the repository's .git/info/exclude. pathspec reads them as git does."""

    def __init__(self, top: str):
        self.specs: list[tuple[str, object]] = []  # (folder, its patterns)
        self.entered: set[str] = set()
        folder = top
        above = []
        while True:
            above.append(folder)
            if os.path.exists(os.path.join(folder, ".git")):
                self._add(folder, os.path.join(folder, ".git", "info", "exclude"))
                break
            parent = os.path.dirname(folder)
            if parent == folder:
                above = [top]  # not in a repository: only the walked folders' own
                break
            folder = parent
        for folder in reversed(above[1:]):
            self.enter(folder)

    def enter(self, folder: str) -> None:
        if folder not in self.entered:
            self.entered.add(folder)
            self._add(folder, os.path.join(folder, ".gitignore"))

    def _add(self, folder: str, path: str) -> None:
        try:
            with open(path, encoding="utf-8", errors="replace") as stream:
                lines = stream.read().splitlines()
        except OSError:
            return
        from pathspec import GitIgnoreSpec

        self.specs.append((folder, GitIgnoreSpec.from_lines(lines)))

    def ignores(self, path: str, directory: bool = False) -> bool:
        """Whether git ignores path: the last matching pattern of the deepest file decides."""
        verdict = False
        for folder, spec in self.specs:
            if not (path + os.sep).startswith(folder.rstrip(os.sep) + os.sep):
                continue
            relative = os.path.relpath(path, folder).replace(os.sep, "/") + ("/" if directory else "")
            result = spec.check_file(relative)
            if result.include is not None:
                verdict = result.include
        return verdict
