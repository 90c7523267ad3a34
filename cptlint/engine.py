"""The linter: read each file once, check it against the schema, run the rules, place findings.

Encounter rules run file by file; day rules (units for a day, pair edits) run at the end over
every encounter of one patient and date, whichever files hold them. A day with an encounter that
failed the schema is skipped by day rules rather than judged on half its services.
"""

from __future__ import annotations

import os
import re
from collections import Counter, defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property, partial
from itertools import chain, islice
from pathlib import Path
from typing import NamedTuple

from cptlint import fixes as fixes_module
from cptlint import loader, schema
from cptlint.cache import Cache
from cptlint.checks import Finding, Rule, all_rules
from cptlint.config import ConfigError, Settings, matches
from cptlint.diagnostics import Diagnostic, Span, pointer_of
from cptlint.memo import Remembered
from cptlint.model import Day, Encounter, MappingRecord, build_encounter
from cptlint.policy import Policy, load_policy
from cptlint.store import DiskStore, MemoryStore, Run

MAX_FIX_ROUNDS = 10
PARALLEL_MIN_FILES = 200  # below this, starting worker processes costs more than it saves
SPLIT_MIN_BYTES = 4 << 20  # an NDJSON file this long is split over the worker processes
PIECE_MAX_BYTES = 4 << 20  # and in pieces no longer than this: a piece's findings are held until it is done, and
# the last piece to finish runs alone while the other workers wait (half a piece, on average)
SPILL_FINDINGS = 1000  # a streamed file's findings go to the run's store this many at a time
SPILL_MIN_FILES = 200  # a run of this many files, or with a long NDJSON file, keeps its findings on disk
CHUNK_FILES = 100  # files a worker is sent at once
CHUNKS_AHEAD = 4  # chunks sent ahead per worker: enough to keep it busy, few enough to keep memory flat


class InternalError(Exception):
    pass


_DISABLE_LINE = re.compile(r"#\s*cptlint:\s*disable=([A-Za-z0-9]+(?:\s*,\s*[A-Za-z0-9]+)*)\s*$")
_DISABLE_FILE = re.compile(r"^\s*#\s*cptlint:\s*disable-file\s*$")


class Suppressions(NamedTuple):
    """`# cptlint: disable=CODE[,CODE]` at the end of a line; `# cptlint: disable-file` alone on one."""

    whole_file: bool
    by_line: dict[int, tuple[str, ...]]

    @classmethod
    def parse(cls, text: str) -> Suppressions:
        if "cptlint:" not in text:
            return NO_SUPPRESSIONS
        whole_file, by_line = False, {}
        for number, line in enumerate(text.splitlines(), start=1):
            if "cptlint:" not in line:
                continue
            if _DISABLE_FILE.match(line):
                whole_file = True
            match = _DISABLE_LINE.search(line)
            if match:
                by_line[number] = tuple(c.strip().upper() for c in match.group(1).split(","))
        return cls(whole_file, by_line)

    def hides(self, line: int, code: str) -> bool:
        return any(matches(code, selector) for selector in self.by_line.get(line, ()))


NO_SUPPRESSIONS = Suppressions(False, {})  # shared by the many files without a directive; never changed


class Source(NamedTuple):
    """A file to lint: its display path, and how to read its bytes when they are not the file at
    that path (stdin, a file being fixed, a test's text); kind overrides the suffix."""

    path: str
    read: Callable[[], bytes] | None = None
    kind: str | None = None

    @property
    def on_disk(self) -> bool:
        return self.read is None

    def content(self) -> bytes:
        if self.read is not None:
            return self.read()
        with open(self.path, "rb") as stream:
            return stream.read()


@dataclass(slots=True)
class FileResult:
    path: str
    text: str = ""
    doc: loader.Document | None = None
    excerpts: dict[int, str] = field(default_factory=dict)  # the flagged lines of a streamed file
    diagnostics: list[Diagnostic] = field(default_factory=list)
    encounters: list[Encounter] = field(default_factory=list)
    # (patient, date) of encounters that failed the schema: their days are incomplete
    broken_days: frozenset = frozenset()
    suppressions: Suppressions = NO_SUPPRESSIONS
    ignored: tuple[str, ...] = ()
    day_findings: dict = field(default_factory=dict)  # provisional: by day, until days are settled
    # a piece of a split NDJSON file: (start, end, line, record) of the days it left unjudged
    open_days: list = field(default_factory=list)


class Linter:
    def __init__(
        self, settings: Settings, policy: Policy | None = None, cache: bool = False, excerpts: bool = True, fixes: bool = True
    ):
        self.settings = settings
        self.excerpts = excerpts  # keep the flagged lines of streamed files, for the text format
        self.fixes = fixes  # keep the fixes findings propose (fix() always does)
        self.cache = Cache(settings.root, repr(settings)) if cache else None
        self.policy = policy or load_policy(settings.extend_rules, settings.mue_file, settings.ptp_files, store=self.cache)
        if self.cache is not None:
            self.cache.salt += self.policy.fingerprint
        if settings.payer not in self.policy.payers:
            known = ", ".join(sorted(self.policy.payers))
            raise ConfigError(f'payer "{settings.payer}" is not a payer profile (known: {known})')
        rules = [cls() for cls in all_rules() if settings.enabled(cls.code)]
        self.encounter_rules = [r for r in rules if r.scope == "encounter"]
        self.day_rules = [r for r in rules if r.scope == "day"]
        # The rules of each scope that can have something to say about lines billing a tuple of
        # codes (see Rule.applies), remembered: a run sees the same few combinations again and again.
        self._encounter_rules_for = Remembered(partial(self._choose, self.encounter_rules))
        self._day_rules_for = Remembered(partial(self._choose, self.day_rules))
        self.severities = {cls.code: settings.severity_of(cls.code, cls.severity) for cls in all_rules()}
        self.reported = {cls.code for cls in all_rules() if settings.enabled(cls.code)}  # rules and input checks
        self.payer_names = tuple(sorted(self.policy.payers))
        self.sink = None  # during a run on disk: where a streamed file's findings go as they are found

    # ----------------------------------------------------------------------------- whole runs

    def lint_paths(self, paths: list, jobs: int = 1) -> Run:
        return self.run([file_source(p) for p in paths], jobs)

    def run(self, sources, jobs: int = 1, progress=None) -> Run:
        """Lint sources (any iterable: a large run is read as it is walked). A run of
        SPILL_MIN_FILES files or more, or with a long NDJSON file, keeps its findings, days and
        file names on disk; a long NDJSON file's findings go there as they are found."""
        head, sources = _peek(sources, SPILL_MIN_FILES)
        on_disk = len(head) >= SPILL_MIN_FILES or any(_worth_splitting(s) for s in head)
        store = DiskStore(file_source) if on_disk else MemoryStore()
        self.sink = store.add_findings if on_disk else None
        try:
            self._lint_into(store, sources, jobs, progress)
        finally:
            self.sink = None
        return store.run()

    def lint_all(self, sources, jobs: int = 1, progress=None, keep_documents: bool = False) -> list[FileResult]:
        """The results of the files with findings, day rules included, in the order of sources;
        with keep_documents, every file's result and document (fixes need them)."""
        store = MemoryStore()
        self._lint_into(store, sources, jobs, progress, keep_documents)
        return store.results

    def _lint_into(self, store, sources, jobs: int, progress, keep_documents: bool = False) -> None:
        """First each file is checked, and the days it holds are judged as if it held them whole.
        A clean file leaves nothing behind but its days' place in the store, so memory grows
        with the findings, not with the files (and not at all in a DiskStore). Then a day that
        turns out to span several files is judged again over all of them (those files alone are
        read a second time), and its one-file findings are dropped. With jobs > 1 and enough
        files the first pass runs in worker processes. progress(done, total) hears how far it
        is; total is None until the last file is known."""
        head, sources = _peek(sources, PARALLEL_MIN_FILES)
        progress = progress or (lambda done, total: None)
        total = len(head) if len(head) < PARALLEL_MIN_FILES else None
        if jobs > 1 and total is None:
            checked = self._lint_in_workers(sources, jobs, keep_documents)
        else:
            checked = ((source, *self._checked(source, keep_documents, jobs)) for source in sources)
        done = 0
        for done, (source, day_keys, broken_days, result) in enumerate(checked, start=1):
            store.add(done - 1, source, day_keys, broken_days, result)
            progress(done, total)
        progress(done, done)
        store.settle()
        if self.day_rules:
            self._judge_shared_days(store)

    def _checked(self, source: Source, keep_documents: bool, jobs: int = 1) -> tuple[tuple, frozenset, FileResult | None]:
        """The first pass over one file: the days it holds, the days its schema failures leave
        incomplete, and its result, with its own days judged provisionally (None when it is clean
        and its document is not wanted: a clean file costs nothing more than its days)."""
        result = self._lint_split(source, jobs) if jobs > 1 and _worth_splitting(source) else self._lint_source(source)
        days: dict[tuple, list[Encounter]] = defaultdict(list)
        for encounter in result.encounters:
            days[_day_key(encounter)].append(encounter)
        for key, encounters in days.items():
            before = len(result.diagnostics)
            self._judge_day(encounters, lambda owner: result)
            result.day_findings[key] = result.diagnostics[before:]
            del result.diagnostics[before:]
        result.encounters = _let_go(result.encounters)
        if not keep_documents and not result.diagnostics and not any(result.day_findings.values()):
            return tuple(days), result.broken_days, None
        if not keep_documents and not self.excerpts:
            result.doc, result.text = None, ""  # every finding is placed; only excerpts read the text
        elif result.doc is not None:
            result.doc.compact()  # placing the day's findings may have read the positions again
        return tuple(days), result.broken_days, result

    def _judge_shared_days(self, store) -> None:
        """Days that span files, judged over all their encounters; the files are read again."""
        shared: dict[tuple, list[Encounter]] = defaultdict(list)
        again_by_path: dict[str, FileResult] = {}
        for index in store.files_with_shared_days():
            again = self._lint_source(store.source(index))
            again.diagnostics = []  # its own findings are in the store already
            again_by_path[again.path] = again
            for encounter in again.encounters:
                key = _day_key(encounter)
                if store.shared(key):
                    shared[key].append(encounter)
        for encounters in shared.values():
            self._judge_day(encounters, lambda owner: again_by_path[owner.doc.path])
        for again in again_by_path.values():
            if not self.excerpts:
                again.text = ""
            store.add_late(again)

    def _lint_source(self, source: Source) -> FileResult:
        if source.on_disk and (source.kind or loader.kind_of(source.path)) == "lines":
            try:
                with open(source.path, "rb") as stream:
                    return _guarded(source.path, self._lint_lines, source.path, stream)
            except OSError as err:
                return self._unreadable(source.path, err)
        try:
            content = source.content()
        except OSError as err:
            return self._unreadable(source.path, err)
        if self.cache is None or not source.on_disk:
            return self.lint_file(source.path, content, source.kind)
        key = self.cache.key(f"{source.path}\0{source.kind}", content)
        result = self.cache.get(key)
        if result is None:
            result = self.lint_file(source.path, content, source.kind)
            self.cache.put(key, result)  # before day rules add to it: those run afresh each time
        return result

    def _lint_in_workers(self, sources, jobs: int, keep_documents: bool):
        """(source, *_checked(source)) for every source, in order: runs of CHUNK_FILES files on
        disk in worker processes, a few runs ahead of the one being read back so that what is in
        flight stays small; a run holding standard input or a long NDJSON file (split instead,
        see _lint_split) is checked here, in its turn."""
        with _pool(self, jobs) as pool:
            chunks = batched(sources, CHUNK_FILES)
            pending: deque = deque()

            def send_next() -> None:
                chunk = next(chunks, None)
                if chunk is None:
                    return
                if all(s.on_disk and not _worth_splitting(s) for s in chunk):
                    pending.append((chunk, pool.submit(_lint_chunk, [(s.path, s.kind, keep_documents) for s in chunk])))
                else:
                    pending.append((chunk, None))

            for _ in range(jobs * CHUNKS_AHEAD):
                send_next()
            while pending:
                chunk, future = pending.popleft()
                send_next()
                checked = future.result() if future is not None else [self._checked(s, keep_documents, jobs) for s in chunk]
                for source, one in zip(chunk, checked):
                    yield (source, *one)

    # ---------------------------------------------------------------------------------- fixes

    def fix(self, sources, unsafe: bool = False) -> Fixed:
        """Apply fixes until nothing more changes (at most MAX_FIX_ROUNDS rounds). A file is
        changed only when the fixed text reads as well as before: no new SCH finding."""
        self.fixes = True
        sources = list(sources)
        files = {}
        for source in sources:
            try:
                files[source.path] = _Editable.read(source)
            except OSError:
                continue
        unreadable = [s for s in sources if s.path not in files]
        count = 0
        for _ in range(MAX_FIX_ROUNDS):
            results = self.lint_all([f.source() for f in files.values()], keep_documents=True)
            planned: dict[str, list] = {}
            fixes: dict[str, int] = defaultdict(int)
            for result in results:
                for diagnostic in result.diagnostics:
                    if diagnostic.fix is None or not self.may_fix(diagnostic.code, unsafe):
                        continue
                    edits = fixes_module.edits_for(result.doc, diagnostic.fix)
                    if edits and not fixes_module.overlaps(edits, planned.get(result.path, [])):
                        planned.setdefault(result.path, []).extend(edits)
                        fixes[result.path] += 1
            changed = False
            by_path = {r.path: r for r in results}
            for path, edits in planned.items():
                candidate = fixes_module.apply(files[path].text, edits)
                if self._reads_as_well(files[path], by_path[path], candidate):
                    files[path].text = candidate
                    count += fixes[path]
                    changed = True
            if not changed:
                break
        run = self.run([*unreadable, *(f.source() for f in files.values())])
        return Fixed(run, {p: f for p, f in files.items() if f.changed}, count)

    def may_fix(self, code: str, unsafe: bool) -> bool:
        from cptlint.checks import REGISTRY

        kind = REGISTRY[code].fixable
        return kind is not None and (kind == "safe" or unsafe) and self.settings.fix_enabled(code)

    def _reads_as_well(self, file: _Editable, now: FileResult, candidate: str) -> bool:
        """No SCH finding the file does not have now (the round's own lint of it)."""

        def input_findings(found: list[Diagnostic]) -> Counter:
            return Counter(d.code for d in found if d.code.startswith("SCH"))

        after = self.lint_file(file.path, candidate.encode("utf-8"), file.kind).diagnostics
        return not (input_findings(after) - input_findings(now.diagnostics))

    # ------------------------------------------------------------------------------ one file

    def lint_file(self, path: str, content: bytes, kind: str | None = None) -> FileResult:
        return _guarded(path, self._lint_file, path, content, kind)

    def _lint_file(self, path: str, content: bytes, kind: str | None) -> FileResult:
        if (kind or loader.kind_of(path)) == "lines":
            return self._lint_lines(path, content.splitlines(keepends=True))
        doc = loader.load(path, content, kind)
        result = FileResult(path, text=doc.text, doc=doc, suppressions=Suppressions.parse(doc.text))
        result.ignored = self.settings.ignored_in_file(path)
        if result.suppressions.whole_file:
            return result
        findings: list[loader.Problem] = list(doc.problems)
        if doc.kind == "yaml" and doc.root is not None:
            doc.root = schema.apply_types(doc.root)
        slots = self._encounter_slots(doc, findings)
        problems = schema.validate(doc.root, self.payer_names) if doc.is_readable and doc.root is not None else []
        findings.extend(problems)
        slot_set = {parts for parts, _ in slots}
        broken = {_slot_of(p.parts, slot_set) for p in problems}
        if None in broken:  # a problem with the file as a whole
            broken = {parts for parts, _ in slots}
        ids = {parts: _id_of(value) for parts, value in slots}
        result.broken_days = frozenset(
            (value["patient"], _text(value.get("date")))
            for parts, value in slots
            if parts in broken and isinstance(value, dict) and isinstance(value.get("patient"), str)
        )
        for parts, value in slots:
            if parts in broken:
                continue
            typed = MappingRecord(value)
            expect = doc.root.get("expect", ()) if parts[:1] == ("encounters",) else ()
            encounter = build_encounter(doc, parts, typed, self.policy.payers[typed.payer or self.settings.payer], expect)
            result.encounters.append(encounter)
            self._check_encounter(encounter, findings)
        for problem in findings:
            self._add(result, doc, problem, ids.get(_slot_of(problem.parts, slot_set)))
        doc.compact()
        return result

    def _lint_lines(self, path: str, lines, piece: _Piece | None = None, days_only: bool = False) -> FileResult:
        """NDJSON, a line at a time: nothing of a line is kept once its findings are placed, so
        memory stays flat however long the file. A day is a run of consecutive lines of one
        patient and date (exports list a patient's visits together); it is judged when it ends.

        piece: the part of a split file that lines are (see _lint_split). Its first day may have
        begun in the piece before and its last may run on into the next: those are not judged
        here but left in result.open_days, as byte ranges. days_only: judge the days, report
        nothing else (the pieces reported it)."""
        piece = piece or _Piece(0, None, 1, 0, True, True)
        result = FileResult(path, ignored=self.settings.ignored_in_file(path))
        day: list[Encounter] = []
        day_key = None
        day_start = (piece.start, piece.number, piece.record)  # (offset, line, record) where the day began
        payers, default_payer, read, root_keys = self.policy.payers, self.settings.payer, self._records.read, self._records.root_keys
        head_end = None  # where the piece's second day begins
        offset, record = piece.start, piece.record - 1
        for number, raw in enumerate(lines, start=piece.number):
            line_start, offset = offset, offset + len(raw)
            if number == 1 and raw.startswith(BOM):
                raw = raw[len(BOM) :]
            if not raw or raw.isspace():
                continue
            record += 1
            try:
                text = raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError as err:
                if not days_only:
                    span = Span(number, err.start + 1, number, err.start + 2)
                    self._add(result, None, loader.Problem("SCH001", "not UTF-8 text: a byte cannot be read", (record,), span), None)
                continue
            typed = read(text)
            if typed is not None:  # a clean record, read in one pass
                doc, found = loader.record_document(path, text, number, record, root_keys), []
            else:  # the ordinary way, which says what is wrong, if anything
                doc = loader.load_record(path, text, number, record)
                found = list(doc.problems)
                if doc.is_readable:
                    found += self._record_schema_problems(doc.root, record)
                    if not found:
                        typed = MappingRecord(doc.root)
            if typed is not None:
                encounter = build_encounter(doc, (record,), typed, payers[typed.payer or default_payer])
                if not days_only:
                    self._check_encounter(encounter, found)
                previous_key, day_key = day_key, _day_key(encounter)
                if day and previous_key != day_key:
                    if piece.first or head_end is not None:
                        self._judge_day(day, lambda owner: result)
                    else:
                        head_end = line_start
                    day = _let_go(day)
                if not day:
                    day_start = (line_start, number, record)
                day.append(encounter)
            if found and not days_only:
                encounter_id = typed.id if typed is not None else _id_of(doc.root)
                for problem in found:
                    self._add(result, doc, problem, encounter_id)
            self._spill(result)
        if not piece.first:  # the first day, up to where the second begins, or the whole piece
            result.open_days.append((piece.start, head_end if head_end is not None else offset, piece.number, piece.record))
        if day and not piece.last:  # the last day, from its first line
            start, number, record = day_start
            result.open_days.append((start, offset, number, record))
        elif day and (piece.first or head_end is not None):
            self._judge_day(day, lambda owner: result)
        if record < 0 and piece.first and piece.last and not days_only:
            self._add(result, None, loader.Problem("SCH004", "the file holds no encounter", span=Span(1, 1, 1, 1)), None)
        return result

    def _lint_split(self, source: Source, jobs: int) -> FileResult:
        """A long NDJSON file in pieces, a worker process each. The days a piece leaves open
        (its first and last, which may cross into its neighbours) are joined where they touch
        and judged here over just those lines, so the findings are those of one pass."""
        pieces, records = _pieces(source.path, max(jobs * 4, os.path.getsize(source.path) // PIECE_MAX_BYTES))
        if len(pieces) < 2 or not records:  # nothing to share out (a file without records says so whole)
            return self._lint_source(source)
        result = FileResult(source.path, ignored=self.settings.ignored_in_file(source.path))
        open_days = []
        with _pool(self, jobs) as pool:
            for part in pool.map(_lint_piece, [(source.path, piece) for piece in pieces]):
                result.diagnostics.extend(part.diagnostics)
                result.excerpts.update(part.excerpts)
                open_days.extend(part.open_days)
                self._spill(result)
        with open(source.path, "rb") as stream:
            for start, end, number, record in _joined(open_days):
                stream.seek(start)
                days = self._lint_lines(source.path, _lines_until(stream, end), _Piece(start, end, number, record, True, True), days_only=True)
                result.diagnostics.extend(days.diagnostics)
                result.excerpts.update(days.excerpts)
        return result

    def _spill(self, result: FileResult) -> None:
        """A streamed file's findings so far to the run's store, once there are enough of them."""
        if self.sink is not None and len(result.diagnostics) >= SPILL_FINDINGS:
            self.sink(result.diagnostics)
            result.diagnostics = []

    @cached_property
    def _records(self):
        """The typed reader of one encounter, made when the first encounter is read."""
        return schema.record_reader(self.payer_names)

    @cached_property
    def _record_is_valid(self):
        """The fast schema check of one NDJSON record, made when the first record is read."""
        return schema.fast_check(self.payer_names, "encounter")

    def _record_schema_problems(self, value, record: int) -> list[loader.Problem]:
        if self._record_is_valid(value):
            return []
        problems = schema.validate(value, self.payer_names, definition="encounter")
        for problem in problems:
            problem.parts = (record,) + problem.parts
        return problems

    def _check_encounter(self, encounter: Encounter, findings: list) -> None:
        for rule in self._encounter_rules_for[encounter.codes]:
            for finding in rule.check(encounter, self.policy):
                findings.append(_placed(rule, finding))

    def _judge_day(self, encounters: list[Encounter], result_of) -> None:
        """Run the day rules over one day; result_of(encounter) is the file result a finding goes to."""
        day = Day(encounters[0].patient, encounters[0].date, encounters[0].payer, encounters)
        for rule in self._day_rules_for[day.codes]:
            for finding in rule.check(day, self.policy):
                owner = finding.place.encounter
                self._add(result_of(owner), owner.doc, _placed(rule, finding), owner.id)

    def _choose(self, rules: list[Rule], codes: tuple[str, ...]) -> list[Rule]:
        return [rule for rule in rules if rule.applies(codes, self.policy)]

    def _encounter_slots(self, doc: loader.Document, findings: list) -> list[tuple[tuple, object]]:
        """Where the encounters of a file are: (path, value) pairs; SCH004 when there are none."""
        root = doc.root
        if not doc.is_readable:
            return []
        if root is None:
            findings.append(loader.Problem("SCH004", "the file is empty: it holds no encounter"))
            return []
        if isinstance(root, dict) and "encounters" in root:
            listed = root["encounters"]
            if isinstance(listed, list):
                if not listed:
                    findings.append(loader.Problem("SCH004", "encounters: lists no encounter", ("encounters",)))
                return [(("encounters", i), value) for i, value in enumerate(listed)]
        return [((), root)]

    def _add(self, result: FileResult, doc, problem: loader.Problem, encounter_id) -> None:
        code = problem.code
        if code not in self.reported or (result.ignored and any(matches(code, s) for s in result.ignored)):
            return
        span = problem.span or doc.span(problem.parts, problem.key)
        if result.suppressions.hides(span.line, code):
            return
        if self.excerpts and doc is not None and doc.kind == "record":
            result.excerpts[span.line] = doc.text
        fix = problem.fix if self.fixes else None
        if callable(fix):  # a fix worked out only now that one is wanted (see Finding.fix)
            fix = fix()
        # by position (path, line, column, end line, end column, code, ...): made for every finding
        result.diagnostics.append(
            Diagnostic(result.path, *span, code, self.severities[code], problem.message, pointer_of(problem.parts), encounter_id, fix)
        )

    def _unreadable(self, path: str, err: OSError) -> FileResult:
        result = FileResult(path)
        doc = loader.Document(path=path, kind="yaml", text="")
        self._add(result, doc, loader.Problem("SCH001", f"cannot read the file: {err.strerror or err}"), None)
        return result

    # ------------------------------------------------------------------------------ day rules


def _guarded(path: str, check, *args):
    try:
        return check(*args)
    except Exception as err:  # a bug in cptlint, not in the file: say which file
        raise InternalError(f"internal error while checking {path}: {type(err).__name__}: {err}") from err


def file_source(path: str | Path) -> Source:
    return Source(str(path))


def _peek(items, count: int) -> tuple[list, object]:
    """The first count items (fewer if that is all there are), and an iterator over all of them."""
    items = iter(items)
    head = list(islice(items, count))
    return head, chain(head, items)


def batched(items, size: int):
    """Lists of size items at a time (the last may be shorter)."""
    items = iter(items)
    while chunk := list(islice(items, size)):
        yield chunk


_worker: Linter | None = None


def _pool(linter: Linter, jobs: int):
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    initargs = (linter.settings, linter.cache is not None, linter.excerpts, linter.fixes)
    return ProcessPoolExecutor(jobs, mp_context=context, initializer=_start_worker, initargs=initargs)


def _start_worker(settings: Settings, cache: bool, excerpts: bool, fixes: bool) -> None:
    global _worker
    _worker = Linter(settings, cache=cache, excerpts=excerpts, fixes=fixes)


def _lint_chunk(chunk: list[tuple[str, str | None, bool]]) -> list[tuple[tuple, frozenset, FileResult | None]]:
    return [_worker._checked(Source(path, kind=kind), keep) for path, kind, keep in chunk]


class _Piece(NamedTuple):
    """A run of whole lines of an NDJSON file: bytes [start, end), the number of its first
    line and the index of its first record, and whether it begins or ends the file."""

    start: int
    end: int | None
    number: int
    record: int
    first: bool
    last: bool


def _worth_splitting(source: Source) -> bool:
    if not source.on_disk or (source.kind or loader.kind_of(source.path)) != "lines":
        return False
    try:
        return os.path.getsize(source.path) >= SPLIT_MIN_BYTES
    except OSError:
        return False


def _pieces(path: str, count: int) -> tuple[list[_Piece], int]:
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
            pieces.append(_Piece(start, end, number, record, start == 0, end == size))
            stream.seek(start)
            for line in _lines_until(stream, end):
                if (line[len(BOM) :] if number == 1 and line.startswith(BOM) else line).strip():
                    record += 1
                number += 1
    return pieces, record


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


def _lint_piece(task: tuple[str, _Piece]) -> FileResult:
    path, piece = task
    with open(path, "rb") as stream:
        stream.seek(piece.start)
        return _guarded(path, _worker._lint_lines, path, _lines_until(stream, piece.end), piece)


BOM = b"\xef\xbb\xbf"


@dataclass
class _Editable:
    """A file being fixed: its text now, and what it was."""

    path: str
    kind: str | None
    original: str
    text: str
    bom: bool

    @classmethod
    def read(cls, source: Source) -> _Editable:
        content = source.content()
        bom = content.startswith(BOM)
        text = content[len(BOM) if bom else 0 :].decode("utf-8")
        return cls(source.path, source.kind, text, text, bom)

    def source(self) -> Source:
        return Source(self.path, lambda: self.text.encode("utf-8"), self.kind)

    @property
    def changed(self) -> bool:
        return self.text != self.original

    def content(self) -> bytes:
        return (BOM if self.bom else b"") + self.text.encode("utf-8")


@dataclass
class Fixed:
    run: Run  # what remains
    files: dict[str, _Editable]  # the files the fixes changed
    count: int


def _let_go(encounters: list[Encounter]) -> list:
    """An empty list, for encounters judged and done with. A service and its encounter point at
    each other: parted here, both are freed at once rather than by the cycle collector."""
    for encounter in encounters:
        encounter.services.clear()
    return []


def _placed(rule: Rule, finding: Finding) -> loader.Problem:
    return loader.Problem(rule.code, finding.message, finding.place.parts, key=finding.place.key, fix=finding.fix)


def _day_key(encounter: Encounter) -> tuple:
    """(patient, date, payer): an encounter without a patient is a day of its own."""
    who = encounter.patient if encounter.patient is not None else ("encounter", encounter.doc.path, encounter.parts)
    return (who, encounter.date, encounter.payer.name)


def _id_of(value) -> str | None:
    """An encounter's id as text, from whatever its value is."""
    return _text(value.get("id")) if isinstance(value, dict) else None


def _text(value) -> str | None:
    return value if isinstance(value, str) else None


def _slot_of(parts: tuple, slots: set) -> tuple | None:
    """The encounter (by its path) that parts lies in: ("encounters", i), or () for a file that is
    one encounter; None for a part of the file outside any encounter."""
    for length in (2, 0):
        if len(parts) >= length and parts[:length] in slots:
            return parts[:length]
    return None
