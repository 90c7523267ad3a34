"""A run: many files, each linted with its own configuration's Linter, into one store.

Each file is checked once (in worker processes when there are many), and the days it holds are
judged provisionally; then the store settles which days stand and days.py judges again those it
saw in several pieces. A run of SPILL_MIN_FILES files or more, or with a long file read a line
or a part at a time (NDJSON, 837P, a FHIR bulk export: Linter.is_long), keeps its findings,
days and file names on disk, so its memory stays flat.
"""

from __future__ import annotations

from itertools import chain, islice

from cptlint.days import judge_shared_days
from cptlint.engine import Linter, file_source, made
from cptlint.parallel import ONE_PROCESS, checked_in_workers
from cptlint.store import DiskStore, MemoryStore, Run

SPILL_MIN_FILES = 200  # a run of this many files, or with a long file (Linter.is_long), keeps its findings on disk


PARTIAL_RUN = (
    "days-across-files: files were named one by one, so a day is joined over the files of this run only;"
    " a day with encounters in files not named here is judged on part of its visits."
)


class Linters:
    """The Linter of each file's configuration (config.Resolver), each made once."""

    def __init__(self, resolver, cache: bool = False, excerpts: bool = True, fixes: bool = True, stable_ids: bool = False):
        self.resolver = resolver
        self.options = (cache, excerpts, fixes, stable_ids)
        self.by_settings: dict = {}

    def __call__(self, path: str) -> Linter:
        settings = self.resolver.settings_for(path)
        linter = self.by_settings.get(settings)
        if linter is None:
            linter = self.by_settings[settings] = made(settings, self.options)
        return linter


class Runner:
    def __init__(self, linter_for):
        self.linter_for = linter_for  # path -> the Linter of its configuration

    def run(self, sources, workers=ONE_PROCESS, progress=None) -> Run:
        """Lint sources (any iterable: a large run is read as it is walked) on workers
        (parallel.Processes, or a Dask cluster's)."""
        head, sources = _peek(sources, SPILL_MIN_FILES)
        on_disk = len(head) >= SPILL_MIN_FILES or any(self.linter_for(s.path).is_long(s) for s in head)
        store = DiskStore(file_source) if on_disk else MemoryStore()
        named: list = []
        self._lint_into(store, self._noting_named(sources, named), workers, progress, sink=store.spill if on_disk else None)
        run = store.run()
        if named:
            run.notes = (PARTIAL_RUN,)
        return run

    def _noting_named(self, sources, named: list):
        """sources as they are; named hears of a file named one by one (as pre-commit names the
        staged ones) whose days join other files' (days-across-files)."""
        for source in sources:
            if not named and source.explicit and source.on_disk and self.linter_for(source.path).settings.days_across_files:
                named.append(source)
            yield source

    def results(self, sources, keep_documents: bool = False) -> list:
        """The results of the files with findings, day rules included, in the order of sources;
        with keep_documents, every file's result and document (fixes need them)."""
        store = MemoryStore()
        self._lint_into(store, sources, ONE_PROCESS, None, keep=keep_documents)
        return store.results

    def _lint_into(self, store, sources, workers, progress, keep: bool = False, sink=None) -> None:
        """progress(done, total) hears how far the first pass is; total is None until the last
        file is known."""
        head, sources = _peek(sources, workers.min_files)
        progress = progress or (lambda done, total: None)
        total = len(head) if len(head) < workers.min_files else None
        if workers.shares_work and total is None:
            linter = self.linter_for(head[0].path)
            checked = checked_in_workers(
                sources, lambda path: self.linter_for(path).settings, lambda s: self._checked(s, keep, workers, sink), workers, keep, linter.options
            )
        else:
            checked = ((source, self._checked(source, keep, workers, sink)) for source in sources)
        done = 0
        first_with: dict = {}  # (scope, id) -> the file that used it first (days across files)
        for done, (source, result) in enumerate(checked, start=1):
            if result.ids:
                self._ids_used_before(result, first_with)
            store.add(source, result, keep)
            progress(done, total)
        progress(done, done)
        store.settle()
        judge_shared_days(store, self.linter_for)

    def _ids_used_before(self, result, first_with: dict) -> None:
        """SCH005 for the ids of result an earlier file of the run has; a second use within the
        file is reported by the file's own check."""
        linter = self.linter_for(result.path)
        scope = linter.scope(result.path)
        for encounter_id, span, parts in result.ids:
            first = first_with.setdefault((scope, encounter_id), result.path)
            if first != result.path:
                linter.used_elsewhere(result, first, encounter_id, span, parts)
        result.ids = []

    def _checked(self, source, keep: bool, workers, sink):
        linter = self.linter_for(source.path)
        linter.sink = sink
        try:
            return linter.checked(source, keep, workers)
        finally:
            linter.sink = None


def _peek(items, count: int) -> tuple[list, object]:
    """The first count items (fewer if that is all there are), and an iterator over all of them."""
    items = iter(items)
    head = list(islice(items, count))
    return head, chain(head, items)
