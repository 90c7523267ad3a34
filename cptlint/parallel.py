"""Workers: many files checked a chunk at a time, and a long NDJSON file in pieces.

The workers are processes forked on this machine (Processes, --jobs) or a Dask cluster's
(lake/dask.py, --engine dask): anything with a count and a concurrent.futures executor. Each
task carries the options its linter is made with, and each worker keeps a Linter per
configuration it is sent, made once. Results come back in the order the files were given, so a
run's output is the same with any number of workers on any engine.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from contextlib import contextmanager
from functools import partial
from itertools import islice
from typing import NamedTuple

from cptlint import formats
from cptlint.engine import BOM, FileResult, Linter, Source, _guarded, made

PARALLEL_MIN_FILES = 200  # below this, starting worker processes costs more than it saves
SPLIT_MIN_BYTES = 4 << 20  # an NDJSON file this long is split over the worker processes
PIECE_MAX_BYTES = 4 << 20  # and in pieces no longer than this: a piece's findings are held until it is done, and
# the last piece to finish runs alone while the other workers wait (half a piece, on average)
CHUNK_FILES = 100  # files a worker is sent at once
CHUNKS_AHEAD = 4  # chunks sent ahead per worker: enough to keep it busy, few enough to keep memory flat


class Processes(NamedTuple):
    """count worker processes forked on this machine (--jobs)."""

    count: int

    @property
    def shares_work(self) -> bool:
        return self.count > 1

    @property
    def min_files(self) -> int:
        return PARALLEL_MIN_FILES

    def executor(self):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        return ProcessPoolExecutor(self.count, mp_context=context)


ONE_PROCESS = Processes(1)


class Piece(NamedTuple):
    """A run of whole lines of an NDJSON file: bytes [start, end), the number of its first
    line and the index of its first record, and whether it begins or ends the file."""

    start: int
    end: int | None
    number: int
    record: int
    first: bool
    last: bool


def batched(items, size: int):
    """Lists of size items at a time (the last may be shorter)."""
    items = iter(items)
    while chunk := list(islice(items, size)):
        yield chunk


def checked_in_workers(sources, settings_of, check_here, workers, keep_documents: bool, options: tuple):
    """(source, result) for every source, in order: runs of CHUNK_FILES files on disk in the
    workers, a few runs ahead of the one being read back so that what is in flight stays
    small; a run holding standard input or a long NDJSON file (split instead) is checked here,
    by check_here(source), in its turn. settings_of(path): a file's settings; options: what
    the workers' linters are made with (Linter.options)."""
    with workers.executor() as executor:

        def sent(chunk: list):
            if not all(s.on_disk and not worth_splitting(s) for s in chunk):
                return _InTurn(lambda: [check_here(s) for s in chunk])
            settings = [settings_of(s.path) for s in chunk]
            distinct = list(dict.fromkeys(settings))
            items = [(s.path, s.kind, distinct.index(one)) for s, one in zip(chunk, settings)]
            return executor.submit(_check_chunk, options, os.getcwd(), distinct, items, keep_documents)

        for chunk, results in in_order(sent, batched(sources, CHUNK_FILES), workers.count * CHUNKS_AHEAD):
            yield from zip(chunk, results)


class _InTurn:
    """Work done here when its turn comes, in place of a worker's future."""

    def __init__(self, work):
        self.work = work

    def result(self):
        return self.work()


def in_order(submit, arguments, ahead: int):
    """(argument, its result) for each argument, in order, where submit(argument) gives a future
    of the result; no more than ahead are in flight beyond the one being taken. Results that
    come back faster than they are taken wait in memory, so an executor's own map (which
    submits everything at once) would hold a long file's findings whole."""
    arguments = iter(arguments)
    pending = deque([(argument, submit(argument)) for argument in islice(arguments, ahead)])
    while pending:
        argument, future = pending.popleft()
        for following in islice(arguments, 1):  # sent before waiting, so that the workers stay busy
            pending.append((following, submit(following)))
        yield argument, future.result()


_made = threading.local()  # a worker's linters, by (settings, options); a Dask worker may run tasks in threads
_FOLDER = threading.Lock()


@contextmanager
def _in(folder: str):
    """A task's files are named from the folder the run began in; a worker started elsewhere
    (a Dask cluster's) works from there. The folder is the process's: its tasks take turns
    (cptlint holds the interpreter lock anyway; a cluster scales by processes)."""
    with _FOLDER:
        if os.getcwd() != folder:
            os.chdir(folder)
        yield


def _linter(settings, options: tuple) -> Linter:
    linters = _made.__dict__.setdefault("linters", {})
    linter = linters.get((settings, options))
    if linter is None:
        linter = linters[settings, options] = made(settings, options)
    return linter


def _check_chunk(options: tuple, folder: str, settings: list, items: list, keep_documents: bool) -> list[FileResult]:
    with _in(folder):
        return [_linter(settings[index], options).checked(Source(path, kind=kind), keep_documents) for path, kind, index in items]


def worth_splitting(source: Source) -> bool:
    if not source.on_disk or not formats.named(source.kind, source.path).streamed:
        return False
    try:
        return os.path.getsize(source.path) >= SPLIT_MIN_BYTES
    except OSError:
        return False


def lint_split(linter: Linter, source: Source, workers) -> FileResult:
    """A long NDJSON file in pieces, a worker each. The days a piece leaves open (its
    first and last, which may cross into its neighbours) are joined where they touch and judged
    here over just those lines, so the findings are those of one pass."""
    pieces, records = _pieces(source.path, max(workers.count * 4, os.path.getsize(source.path) // PIECE_MAX_BYTES))
    if len(pieces) < 2 or not records:  # nothing to share out (a file without records says so whole)
        return linter.checked(source)
    result = FileResult(source.path, ignored=linter.settings.ignored_in_file(source.path))
    open_days = []
    with workers.executor() as executor:
        tasks = ((linter.options, os.getcwd(), linter.settings, source.path, piece) for piece in pieces)
        for _, part in in_order(partial(executor.submit, _lint_piece), tasks, workers.count * CHUNKS_AHEAD):
            _take(result, part)
            open_days.extend(part.open_days)
            linter._spill(result)
    with open(source.path, "rb") as stream:
        for start, end, number, record in _joined(open_days):
            stream.seek(start)
            days = linter._lint_lines(source.path, _lines_until(stream, end), Piece(start, end, number, record, True, True), days_only=True)
            _take(result, days)
    from cptlint.engine import _lines_of_file

    return linter.settle_lines(result, _lines_of_file(source.path))


def _take(result: FileResult, part: FileResult) -> None:
    result.diagnostics.extend(part.diagnostics)
    result.excerpts.update(part.excerpts)
    result.day_ids.extend(part.day_ids)
    result.broken_visits.update(part.broken_visits)
    result.run_days.extend(part.run_days)
    result.id_digests.extend(part.id_digests)
    result.ids.extend(part.ids)
    for day, found in part.day_findings.items():
        result.day_findings.setdefault(day, []).extend(found)


def _pieces(path: str, count: int) -> tuple[list[Piece], int]:
    """path cut into about count pieces at line starts, each knowing its first line and record;
    and the number of records in all."""
    size = os.path.getsize(path)
    with open(path, "rb") as stream:
        bounds = [0]
        for i in range(1, count):
            stream.seek(max(size * i // count - 1, bounds[-1]))
            stream.readline()
            if bounds[-1] < stream.tell() < size:
                bounds.append(stream.tell())
        pieces, number, record = [], 1, 0
        for start, end in zip(bounds, [*bounds[1:], size]):
            pieces.append(Piece(start, end, number, record, start == 0, end == size))
            stream.seek(start)
            lines, records = _counted(stream.read(end - start), start == 0)
            number, record = number + lines, record + records
    return pieces, record


def _counted(data: bytes, first: bool) -> tuple[int, int]:
    """(lines, records) in a piece's bytes, counted as reading it a line at a time would count
    them (a line ends at a line break, the last perhaps without one; a record is a line that is
    not blank, a byte order mark at the file's start aside), but in C: the client counts every
    line of a long file before its pieces go out, and a cluster waits on that."""
    parts = data.split(b"\n")
    after_last = 0 if parts[-1] else 1  # what follows the last line break: a line only if not empty
    if first and parts[0].startswith(BOM):
        parts[0] = parts[0][len(BOM) :]
    lines = len(parts) - after_last
    blank = parts.count(b"") + sum(map(bytes.isspace, parts)) - after_last
    return lines, lines - blank


def _lines_until(stream, end: int | None):
    position = stream.tell()
    for line in iter(stream.readline, b""):
        if end is not None and position >= end:
            return
        position += len(line)
        yield line


def _joined(ranges) -> list[tuple[int, int, int, int]]:
    """Byte ranges (start, end, line, record) with those that touch or overlap made one."""
    joined: list[list[int]] = []
    for start, end, number, record in sorted(ranges):
        if joined and start <= joined[-1][1]:
            joined[-1][1] = max(joined[-1][1], end)
        else:
            joined.append([start, end, number, record])
    return [tuple(r) for r in joined]


def _lint_piece(task: tuple) -> FileResult:
    options, folder, settings, path, piece = task
    with _in(folder), open(path, "rb") as stream:
        stream.seek(piece.start)
        return _guarded(path, _linter(settings, options)._lint_lines, path, _lines_until(stream, piece.end), piece)
