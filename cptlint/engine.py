"""Linting one file with one configuration: read it once, check it against the schema, run the
encounter rules, judge the days it holds, place every finding.

A run of many files (runner.py) asks a Linter per configuration for each file; the days a file
holds are judged here as if the file held them whole, and days.py judges again the days a run
finds in several pieces. Worker processes (parallel.py) and fixes (fixer.py) use this too.
"""

from __future__ import annotations

import io
import os
import stat
from array import array
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property, partial
from typing import NamedTuple

from cptlint import formats, loader, schema
from cptlint.formats import ndjson
from cptlint.cache import Cache
from cptlint.checks import Finding, Rule, all_rules
from cptlint.config import ConfigError, Settings, matches
from cptlint.days import day_key, ids_of, key_id, local_id, scope_of, stable_id
from cptlint.diagnostics import Diagnostic, Span, pointer_of
from cptlint.memo import Remembered
from cptlint.model import Day, Encounter, MappingRecord, build_encounter
from cptlint.policy import Policy, load_policy
from cptlint.suppressions import NO_SUPPRESSIONS, Suppressions, directive_problems, expectation_problems


SPILL_FINDINGS = 1000  # a streamed file's findings (and days) go to the run's store this many at a time
EXCERPT_AROUND = 200  # characters kept either side of a finding on a long line, for its excerpt
LONG_FILE_BYTES = 1 << 20  # a file read a line or a part at a time this long keeps its findings on disk, uncached
BOM = b"\xef\xbb\xbf"
# Problems with the input itself: reported whatever the selection, unless ignored by name (as
# ruff reports a syntax error always). A schema violation (SCH003) follows the selection.
ALWAYS_REPORTED = ("SCH001", "SCH002", "SCH004")
ENCOUNTER = {"$ref": "#/$defs/encounter"}  # the schema of one NDJSON record


class InternalError(Exception):
    pass


class Source(NamedTuple):
    """A file to lint: its display path, and how to read its bytes when they are not the file at
    that path (stdin, a file being fixed, a test's text); kind overrides the suffix. explicit:
    named by the user (always linted), not found by a directory walk (skipped when it is plainly
    not an encounter file)."""

    path: str
    read: Callable[[], bytes] | None = None
    kind: str | None = None
    explicit: bool = True

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
    # the days the file holds, (day id, visit id) each (see days.py), once per piece: an NDJSON
    # file lists a day once per run of consecutive lines
    day_ids: list = field(default_factory=list)
    broken_visits: set = field(default_factory=set)  # visits with an encounter that failed the schema
    day_findings: dict = field(default_factory=dict)  # provisional: (day id, visit id) -> findings
    suppressions: Suppressions = NO_SUPPRESSIONS
    used: set = field(default_factory=set)  # (line, selector) of the suppressions that silenced a finding
    ignored: tuple[str, ...] = ()
    # a piece of a split NDJSON file: (start, end, line, record) of the days it left unjudged
    open_days: list = field(default_factory=list)
    skipped: bool = False  # found by a directory walk, and plainly not an encounter file
    # with days across files: (id, span, parts) of each encounter, for ids used in other files
    ids: list = field(default_factory=list)
    # a streamed file, 8 bytes an entry: the day id of each run of lines and the id digest of
    # each encounter, for the days and ids it holds more than once (see settle_lines)
    run_days: array = field(default_factory=lambda: array("q"))
    id_digests: array = field(default_factory=lambda: array("q"))
    unchecked: int = 0  # encounters the billing rules skipped for a schema problem no one is told of

    def has_findings(self) -> bool:
        return bool(self.diagnostics) or any(self.day_findings.values())


class Linter:
    """Everything one configuration needs to lint a file: its settings, the rules it selects and
    the policy data they read."""

    def __init__(
        self, settings: Settings, policy: Policy | None = None, cache: bool = False, excerpts: bool = True, fixes: bool = True,
        stable_ids: bool = False,
    ):
        self.settings = settings
        self.excerpts = excerpts  # keep the flagged lines of streamed files, for the text format
        self.fixes = fixes  # keep the fixes findings propose (fix() always does)
        # the ids of a streamed file's days and encounters, which workers not forked from this
        # process (a Dask cluster's) must compute as it does
        self.stable_ids = stable_ids
        self.local_id = stable_id if stable_ids else local_id
        self.cache = Cache(settings.root, repr(settings)) if cache else None
        self.policy = policy or load_policy(
            settings.extend_rules, settings.mue_file, settings.ptp_files, store=self.cache, project=settings.root
        )
        if self.cache is not None:
            self.cache.salt += self.policy.fingerprint + f"excerpts={excerpts}"
        if settings.payer not in self.policy.payers:
            known = ", ".join(sorted(self.policy.payers))
            raise ConfigError(f'payer "{settings.payer}" is not a payer profile (known: {known})')
        for code, profile in settings.claim_payers:
            if profile and profile not in self.policy.payers:
                known = ", ".join(sorted(self.policy.payers))
                raise ConfigError(f'claim-payers: "{code}" = "{profile}" is not a payer profile (known: {known})')
        rules = [cls() for cls in all_rules() if settings.enabled(cls.code)]
        self.encounter_rules = [r for r in rules if r.scope == "encounter"]
        self.day_rules = [r for r in rules if r.scope == "day"]
        # The rules of each scope that can have something to say about lines billing a tuple of
        # codes (see Rule.applies), remembered: a run sees the same few combinations again and again.
        self._encounter_rules_for = Remembered(partial(self._choose, self.encounter_rules))
        self._day_rules_for = Remembered(partial(self._choose, self.day_rules))
        # the same for files of a format that lacks fields (formats.Format.lacks): by (codes, lacks)
        self._encounter_rules_lacking = Remembered(lambda key: self._choose(self.encounter_rules, *key))
        self._day_rules_lacking = Remembered(lambda key: self._choose(self.day_rules, *key))
        self._told_by_head: dict[str, formats.Format] = {}  # files whose name does not say their format
        self.severities = {cls.code: settings.severity_of(cls.code, cls.severity) for cls in all_rules()}
        self.chosen_severities = dict(settings.severity)  # what a finding's own severity does not override
        self.reported = {cls.code for cls in all_rules() if settings.enabled(cls.code)}
        self.reported.update(code for code in ALWAYS_REPORTED if code not in settings.ignore)
        self.fixable = {
            cls.code: cls.fixable for cls in all_rules() if cls.fixable is not None and settings.fix_enabled(cls.code)
        }
        self.payer_names = tuple(sorted(self.policy.payers))
        self.sink = None  # during a run on disk: where a streamed file's findings go as they are found

    # ------------------------------------------------------------------------- runs (runner.py)

    def run(self, sources, jobs: int = 1, progress=None):
        """Lint sources with this configuration alone (see runner.Runner for a run of many)."""
        from cptlint.parallel import Processes
        from cptlint.runner import Runner

        return Runner(lambda path: self).run(sources, Processes(jobs), progress)

    def lint_paths(self, paths: list, jobs: int = 1):
        return self.run([file_source(p) for p in paths], jobs)

    def fix(self, sources, unsafe: bool = False):
        """--fix with this configuration alone (see fixer.fix)."""
        from cptlint.fixer import fix

        self.fixes = True
        return fix(lambda path: self, sources, unsafe)

    @property
    def options(self) -> tuple:
        """What a worker's Linter for another configuration is made with (parallel.py)."""
        return (self.cache is not None, self.excerpts, self.fixes, self.stable_ids)

    def scope(self, path: str):
        return scope_of(self.settings, path)

    # ------------------------------------------------------------------------------ one file

    def checked(self, source: Source, keep_documents: bool = False, workers=None) -> FileResult:
        """One file read and checked, its days judged provisionally (days.py says when those
        findings stand). Unless its document is wanted, what is left is small: its findings, its
        days' ids and, when it has findings, its text for excerpts. A clean file's unchanged
        result comes from the cache."""
        refused = self.refusal(source)
        if refused is not None:
            return self._unreadable(source.path, refused)
        if workers is not None and workers.shares_work and self.streams(source):
            from cptlint.parallel import worth_splitting, lint_split

            if worth_splitting(source):
                return lint_split(self, source, workers)
        cacheable = self.cache is not None and source.on_disk and not keep_documents and not self.streams(source) and not self.is_long(source)
        if cacheable:
            in_parts = self.format_of(source).in_parts  # keyed and read a chunk at a time
            try:
                content = None if in_parts else source.content()
                key = self.cache.key(self.settings, source.path, source.kind, _chunks(source.path) if in_parts else (content,))
            except OSError as err:
                return self._unreadable(source.path, err)
            found = self.cache.get(key, source.path)
            if found is not None:
                return found
            if in_parts:
                sink, self.sink = self.sink, None  # what is cached is the whole result, none of it sent on
                try:
                    result = self._judged(self._lint_source(source), keep_documents)
                finally:
                    self.sink = sink
            else:
                result = self._judged(self.lint_file(source.path, content, source.kind, source.explicit), keep_documents)
            self.cache.put(key, result)
            return result
        return self._judged(self._lint_source(source), keep_documents)

    def _judged(self, result: FileResult, keep_documents: bool) -> FileResult:
        days: dict[tuple, list[Encounter]] = defaultdict(list)
        scope = self.scope(result.path)
        for encounter in result.encounters:
            days[day_key(encounter, scope)].append(encounter)
        for key, encounters in days.items():
            ids = ids_of(key)
            result.day_ids.append(ids)
            self.judge_day(encounters, lambda owner: result, ids)
        if result.suppressions.by_line:
            # with days across files, a day judged again later may use a suppression yet
            for problem in directive_problems(result.suppressions, result.used, not self.settings.days_across_files):
                self._add(result, result.doc, problem, None)
        if not keep_documents:
            result.encounters = _let_go(result.encounters)
            if not result.has_findings() or not self.excerpts:
                result.doc, result.text = None, ""  # every finding is placed; only excerpts read the text
        if result.doc is not None:
            result.doc.compact()
        return result

    def refusal(self, source: Source) -> str | None:
        """Why a file on disk is not read, if it is not: it is not a regular file (a device, a
        pipe: /dev/zero never ends), it is reached through a symbolic link that leads outside
        the project (the folder of its configuration, else the current one), or, unless it is
        read a line or a part at a time (NDJSON, 837P, a FHIR bulk export), it is larger than
        max-file-size."""
        if not source.on_disk:
            return None
        try:
            info = os.stat(source.path)
        except OSError as err:
            return f"cannot read the file: {err.strerror or err}"
        if not stat.S_ISREG(info.st_mode):
            return "not read: not a regular file (a device, a pipe or a socket)"
        real = os.path.realpath(source.path)
        if real != os.path.abspath(source.path) and not _inside(real, os.path.realpath(self.settings.root)):
            return "not read: a symbolic link that leads outside the project"
        if info.st_size > self.settings.max_file_size and self.format_of(source).read_whole:
            return f"not read: {info.st_size:,} bytes, more than max-file-size ({self.settings.max_file_size:,})"
        return None

    def streams(self, source: Source) -> bool:
        """An NDJSON file of encounters on disk: read a line at a time, in byte ranges over workers
        (a FHIR bulk export, told by its first line, is read a part at a time instead)."""
        return source.on_disk and self.format_of(source).streamed

    def is_long(self, source: Source) -> bool:
        """A file on disk read a line or a part at a time, long enough for its findings to weigh:
        they go to the run's store as they are found (runner.py), so it is not cached."""
        if not source.on_disk or self.format_of(source).read_whole:
            return False
        try:
            return os.path.getsize(source.path) >= LONG_FILE_BYTES
        except OSError:
            return False

    def format_of(self, source: Source) -> formats.Format:
        """The format of a file on disk: its name's, or where the name does not settle it (a
        FHIR bulk export named .ndjson, an 837P named .txt) its first bytes'."""
        if source.kind is not None:
            return formats.named(source.kind, source.path)
        found = formats.of_name(source.path) or self._told_by_head.get(source.path)
        if found is None:  # asked several times a file (refusal, splitting, cache, reading): read once
            try:
                with open(source.path, "rb") as stream:
                    found = formats.of_head(source.path, stream.read(formats.HEAD))
            except OSError:
                found = formats.of_path(source.path)  # reading it says what is wrong
            self._told_by_head[source.path] = found
        return found

    def _lint_source(self, source: Source, days: set | None = None) -> FileResult:
        try:
            if self.streams(source):
                with open(source.path, "rb") as stream:
                    result = _guarded(source.path, self._lint_lines, source.path, stream)
                return self.settle_lines(result, _lines_of_file(source.path))
            found = self.format_of(source) if source.on_disk else None
            if found is not None and found.in_parts:
                return _guarded(source.path, self._lint_parts, source.path, partial(open, source.path, "rb"), found, days)
            content = source.content()
        except OSError as err:
            return self._unreadable(source.path, err)
        return self.lint_file(source.path, content, source.kind, source.explicit, days)

    def reread(self, source: Source, days: set) -> FileResult:
        """A file read again for its days that were seen in other pieces (days.py): a YAML or
        JSON file with its encounters, a claim file with its encounters of those days, an
        NDJSON file as an empty result (its lines are read by record_days and
        record_encounter). Its own findings are in the store already."""
        if self.streams(source):
            return FileResult(source.path, ignored=self.settings.ignored_in_file(source.path))
        again = self._lint_source(source, days)
        again.diagnostics, again.day_findings = [], {}
        if not self.excerpts:
            again.text = ""
        return again

    def record_days(self, source: Source):
        """(day id, offset, length, line number, record) of each encounter line of an NDJSON file."""
        scope = self.scope(source.path)
        offset, record = 0, -1
        with open(source.path, "rb") as stream:
            for number, raw in enumerate(stream, start=1):
                start, offset = offset, offset + len(raw)
                if not raw.strip() or (number == 1 and not raw[len(BOM) :].strip()):
                    continue
                record += 1
                encounter = self.record_encounter(source.path, raw, number, record)
                if encounter is not None:
                    yield self._run_id(day_key(encounter, scope)), start, len(raw), number, record

    def record_encounter(self, path: str, raw: bytes, number: int, record: int) -> Encounter | None:
        """The encounter of one NDJSON line, or None when it has none to give the day rules."""
        if number == 1 and raw.startswith(BOM):
            raw = raw[len(BOM) :]
        try:
            text = raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError:
            return None
        doc, typed, found = self._read_record(path, text, number, record)
        return None if typed is None or found else self._record_encounter(doc, typed, record)

    def record_checked(self, result: FileResult, path: str, text: str, number: int, record: int) -> Encounter | None:
        """One NDJSON record's text read and checked, its findings placed in result; its
        encounter, for the day rules, or None when it has none to give them (lake/)."""
        doc, typed, found = self._read_record(path, text, number, record)
        encounter = None
        if typed is not None:
            encounter = self._record_encounter(doc, typed, record)
            self._check_encounter(encounter, found)
        encounter_id = typed.id if typed is not None else _id_of(doc.root)
        for problem in found:
            self._add(result, doc, problem, encounter_id)
        return encounter

    def _record_encounter(self, doc: loader.Document, typed, record: int) -> Encounter:
        """The typed encounter of a schema-valid NDJSON record (_lint_lines does this inline)."""
        return build_encounter(doc, (record,), typed, self.policy.payers[typed.payer or self.settings.payer])

    def id_used_again(self, result: FileResult, text: str, number: int, record: int, encounter_id: str) -> None:
        """SCH005 at an NDJSON record whose id an earlier record of the file has."""
        doc = ndjson.load_record(result.path, text, number, record)
        self._add(result, doc, _duplicate_id_problem(encounter_id, (record,)), encounter_id)

    def lint_file(
        self, path: str, content: bytes, kind: str | None = None, explicit: bool = True, days: set | None = None
    ) -> FileResult:
        """explicit: named by the user; a file a directory walk found is skipped when it is
        plainly not an encounter file (see _holds_encounters)."""
        return _guarded(path, self._lint_file, path, content, kind, explicit, days)

    def _lint_file(self, path: str, content: bytes, kind: str | None, explicit: bool, days: set | None) -> FileResult:
        found = formats.named(kind, path) if kind is not None else formats.of_head(path, content)
        if found.streamed:
            lines = content.splitlines(keepends=True)
            return self.settle_lines(self._lint_lines(path, lines), lambda: lines)
        if found.in_parts:
            return self._lint_parts(path, lambda: io.BytesIO(content), found, days)
        doc = loader.load(path, content, kind)
        if not explicit and doc.is_readable and doc.root is not None and not _holds_encounters(doc.root):
            return FileResult(path, skipped=True)
        result = FileResult(path, text=doc.text, doc=doc, suppressions=Suppressions.parse(doc.text))
        result.ignored = self.settings.ignored_in_file(path)
        if not result.suppressions.whole_file:
            self._lint_document(result, doc)
        return result  # _judged compacts the document once its days' findings are placed

    def _lint_document(self, result: FileResult, doc: loader.Document) -> None:
        """A document's findings placed in result, and its checked encounters added to it; for
        a part of a file (doc.first is set), ids used twice are left to the whole (_lint_parts)."""
        path = doc.path
        findings: list[loader.Problem] = list(doc.problems)
        if formats.of_kind(doc.kind).typed_by_schema and doc.root is not None:
            doc.root = schema.apply_types(doc.root)
        if doc.is_readable and isinstance(doc.root, (dict, list)) and formats.of_kind(doc.kind).nulls:
            schema.absent_nulls(doc.root)
        if formats.of_kind(doc.kind).payers and isinstance(doc.root, dict):
            self._claim_payers(doc.root.get("encounters"))
        slots = self._encounter_slots(doc, findings)
        problems = schema.validate(doc.root, self.payer_names) if doc.is_readable and doc.root is not None else []
        if doc.first:
            _renumbered(problems, doc.first)
        findings.extend(problems)
        slot_set = {parts for parts, _ in slots}
        broken = {_slot_of(p.parts, slot_set) for p in problems}
        if None in broken:  # a problem with the file as a whole
            broken = {parts for parts, _ in slots}
        ids = {parts: _id_of(value) for parts, value in slots}
        if doc.first is None:
            findings.extend(_duplicate_ids(slots, ids))
        else:
            result.id_digests.extend(self.local_id(i) for i in ids.values() if i is not None)
        if self.settings.days_across_files:
            result.ids += [(i, doc.span(parts + ("id",)), parts + ("id",)) for parts, i in ids.items() if i is not None]
        if doc.is_readable:
            findings.extend(expectation_problems(doc.root, ()))
            for parts, value in slots:
                if parts:
                    findings.extend(expectation_problems(value, parts))
        scope = self.scope(path)
        result.broken_visits.update(
            key_id((scope, value["patient"], _text(value.get("date"))))
            for parts, value in slots
            if parts in broken and isinstance(value, dict) and isinstance(value.get("patient"), str)
        )
        if "SCH003" not in self.reported or any(matches("SCH003", s) for s in result.ignored):
            result.unchecked += len(broken & slot_set)
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

    def _lint_parts(self, path: str, opened, found: formats.Format, days: set | None = None) -> FileResult:
        """A claim file (an 837P, a FHIR bulk export) a part at a time (formats.Format.parts),
        from the binary stream opened() gives: a part's encounters are let go of once the run of
        consecutive encounters of one day they are in is judged, so memory stays flat however
        many claims the file holds. As for NDJSON lines, a day whose runs are apart is judged
        again over all of them (days.py), and an id used twice is found from 8-byte digests and
        placed by reading the file again. days: read again for the encounters of these days
        alone (reread)."""
        result = FileResult(path, ignored=self.settings.ignored_in_file(path))
        scope = self.scope(path)
        run: list[Encounter] = []
        run_key = None
        visits = array("q")  # the visit of each run's day, beside result.run_days
        kept: list[Encounter] = []
        with opened() as stream:
            for part in found.parts(path, stream):
                self._lint_document(result, part)
                if days is not None:
                    kept += [e for e in result.encounters if key_id(day_key(e, scope)) in days]
                    result.encounters, result.diagnostics = [], []
                    continue
                for encounter in result.encounters:
                    key = day_key(encounter, scope)
                    if run and key != run_key:
                        self._judge_claims(run, run_key, result, visits)
                        run = _let_go(run)
                    run_key = key
                    run.append(encounter)
                result.encounters = []
                self._spill(result)
        if days is not None:
            result.encounters = kept
            return result
        if run:
            self._judge_claims(run, run_key, result, visits)
        repeated = _repeated(result.run_days)
        for day, visit in zip(result.run_days, visits):
            if day in repeated:  # once for each of two pieces (see settle_lines)
                result.day_ids += [(day, visit), (day, visit)]
                repeated.discard(day)
        used_again = _repeated(result.id_digests)
        if used_again:
            self._claim_ids_used_again(result, opened, found, used_again)
        result.run_days, result.id_digests = array("q"), array("q")
        return result

    def _judge_claims(self, encounters: list[Encounter], key: tuple, result: FileResult, visits: array) -> None:
        """A run of consecutive encounters of one day of a claim file, judged provisionally (as
        _judge_run does for NDJSON lines, but with the day's visit: a claim's schema failure
        leaves its visit incomplete, as in a YAML file)."""
        ids = ids_of(key)
        if self.settings.days_across_files:
            result.day_ids.append(ids)
        else:
            result.run_days.append(ids[0])
            visits.append(ids[1])
        self.judge_day(encounters, lambda owner: result, ids)

    def _claim_ids_used_again(self, result: FileResult, opened, found: formats.Format, digests: set) -> None:
        """SCH005 at each encounter of a claim file read in parts whose id an earlier one has."""
        seen: set[str] = set()
        with opened() as stream:
            for part in found.parts(result.path, stream):
                slots = self._encounter_slots(part, [])
                ids = {parts: i for parts, value in slots if (i := _id_of(value)) is not None and self.local_id(i) in digests}
                for problem in _duplicate_ids(slots, ids, seen):
                    self._add(result, part, problem, ids[problem.parts[:2]])

    def _claim_payers(self, encounters) -> None:
        """A claim's payer code (`sbr09:MB`) becomes the profile it stands for; one that stands
        for none leaves the encounter to the configured payer."""
        mapping = self._payer_mapping
        for encounter in encounters if isinstance(encounters, list) else ():
            code = encounter.get("payer") if isinstance(encounter, dict) else None
            if isinstance(code, str) and ":" in code:
                profile = formats.payer_of(code, mapping)
                if profile is None:
                    del encounter["payer"]
                else:
                    encounter["payer"] = profile

    @cached_property
    def _payer_mapping(self) -> dict[str, str]:
        return {**formats.CLAIM_PAYERS, **dict(self.settings.claim_payers)}

    def _read_record(self, path: str, text: str, number: int, record: int):
        """(document, typed record or None, problems) of one NDJSON line's text."""
        typed = self._records.read(text)
        if typed is not None:  # a clean record, read in one pass
            return ndjson.record_document(path, text, number, record, self._records.root_keys), typed, []
        doc = ndjson.load_record(path, text, number, record)  # the ordinary way, which says what is wrong
        found = list(doc.problems)
        if doc.is_readable:
            schema.absent_nulls(doc.root, ENCOUNTER)
            found += self._record_schema_problems(doc.root, record)
            if not found:
                typed = MappingRecord(doc.root)
        return doc, typed, found

    def _lint_lines(self, path: str, lines, piece=None, days_only: bool = False) -> FileResult:
        """NDJSON, a line at a time: nothing of a line is kept once its findings are placed, so
        memory stays flat however long the file. Consecutive lines of one day are judged
        together when the run of them ends; a day whose lines are apart is seen in several
        pieces and judged again over all of them (days.py).

        piece: the part of a split file that lines are (parallel.py). Its first day may have
        begun in the piece before and its last may run on into the next: those are not judged
        here but left in result.open_days, as byte ranges. days_only: judge the days, report
        nothing else (the pieces reported it)."""
        from cptlint.parallel import Piece

        piece = piece or Piece(0, None, 1, 0, True, True)
        result = FileResult(path, ignored=self.settings.ignored_in_file(path))
        day: list[Encounter] = []
        day_key_now = None
        day_start = (piece.start, piece.number, piece.record)  # (offset, line, record) where the day began
        payers, default_payer, read_record, local_id = self.policy.payers, self.settings.payer, self._read_record, self.local_id
        scope = self.scope(path)
        across, sink = self.settings.days_across_files, self.sink
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
            doc, typed, found = read_record(path, text, number, record)
            if typed is not None:
                encounter = build_encounter(doc, (record,), typed, payers[typed.payer or default_payer])
                if not days_only:
                    self._check_encounter(encounter, found)
                    if typed.id is not None:
                        result.id_digests.append(local_id(typed.id))
                        if across:
                            result.ids.append((typed.id, doc.span((record, "id")), (record, "id")))
                previous_key, day_key_now = day_key_now, day_key(encounter, scope)
                if day and previous_key != day_key_now:
                    if piece.first or head_end is not None:
                        self._judge_run(day, previous_key, result)
                    else:
                        head_end = line_start
                    day = _let_go(day)
                if not day:
                    day_start = (line_start, number, record)
                day.append(encounter)
            if found and not days_only:
                if typed is None and not self._reports_schema and any(p.code == "SCH003" for p in found):
                    result.unchecked += 1
                encounter_id = typed.id if typed is not None else _id_of(doc.root)
                for problem in found:
                    self._add(result, doc, problem, encounter_id)
            if sink is not None and len(result.diagnostics) + len(result.day_findings) + len(result.day_ids) >= SPILL_FINDINGS:
                sink(result)  # (see _spill; written out here, as this runs for every line)
        if not piece.first:  # the first day, up to where the second begins, or the whole piece
            result.open_days.append((piece.start, head_end if head_end is not None else offset, piece.number, piece.record))
        if day and not piece.last:  # the last day, from its first line
            start, number, record = day_start
            result.open_days.append((start, offset, number, record))
        elif day and (piece.first or head_end is not None):
            self._judge_run(day, day_key_now, result)
        if record < 0 and piece.first and piece.last and not days_only:
            self._add(result, None, loader.Problem("SCH004", "the file holds no encounter", span=Span(1, 1, 1, 1)), None)
        return result

    @cached_property
    def _reports_schema(self) -> bool:
        return "SCH003" in self.reported

    def _judge_run(self, encounters: list[Encounter], key: tuple, result: FileResult) -> None:
        """A run of consecutive lines of one day, judged provisionally. With days across files
        every run goes to the run's store, to meet other files' days; else only a day whose
        runs are apart is (settle_lines finds them)."""
        if self.settings.days_across_files:
            ids = ids_of(key)
            result.day_ids.append(ids)
        else:
            day = self.local_id(key)
            ids = (day, day)  # the file's own day: no other file's schema failure reaches it
            result.run_days.append(day)
        self.judge_day(encounters, lambda owner: result, ids)

    def _run_id(self, key: tuple) -> int:
        """The id _judge_run gives the day of a run of lines."""
        return ids_of(key)[0] if self.settings.days_across_files else self.local_id(key)

    def settle_lines(self, result: FileResult, lines_again) -> FileResult:
        """A streamed file read to its end: the days whose runs of lines are apart go to the
        store, once for each of two pieces, to be judged again whole (days.py); an id used by an
        earlier line is SCH005 at the later ones (found by reading the lines again, from
        lines_again(), when there are any). Until here a file costs 8 bytes a run of lines and 8
        an encounter; the repeats are found in a temporary database when there are many."""
        for day in _repeated(result.run_days):
            result.day_ids += [(day, day), (day, day)]
        used_again = _repeated(result.id_digests)
        if used_again:
            self._ids_used_again(result, used_again, lines_again())
        result.run_days, result.id_digests = array("q"), array("q")
        return result

    def _ids_used_again(self, result: FileResult, digests: set, lines) -> None:
        seen: set[int] = set()
        record = -1
        for number, raw in enumerate(lines, start=1):
            if not raw.strip() or (number == 1 and not raw[len(BOM) :].strip()):
                continue
            record += 1
            text = raw.decode("utf-8", "surrogateescape").lstrip("\ufeff").rstrip("\r\n")
            encounter_id = _id_of(_json_or_none(text))
            if encounter_id is None or self.local_id(encounter_id) not in digests:
                continue
            if encounter_id in seen:
                self.id_used_again(result, text, number, record, encounter_id)
            seen.add(encounter_id)

    def _spill(self, result: FileResult) -> None:
        """A streamed file's findings and days so far to the run's store, once there are enough."""
        if self.sink is not None and len(result.diagnostics) + len(result.day_findings) + len(result.day_ids) >= SPILL_FINDINGS:
            self.sink(result)

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
        lacks = _LACKING.get(encounter.doc.kind)
        chosen = self._encounter_rules_for[encounter.codes] if lacks is None else self._encounter_rules_lacking[encounter.codes, lacks]
        policy = self.policy
        for rule in chosen:
            for finding in rule.check(encounter, policy):
                findings.append(_placed(rule, finding))

    def judge_day(self, encounters: list[Encounter], result_of, provisional: tuple | None = None) -> None:
        """Run the day rules over one day; result_of(encounter) is the file result a finding goes
        to, among its day findings under provisional (the day's ids) when that is given."""
        first = encounters[0]
        day = Day(first.patient, first.date, first.payer, encounters)
        if len(encounters) == 1:  # the common day, asked cheaply: this runs for every NDJSON line
            lacks = _LACKING.get(first.doc.kind)
        else:
            found = [_LACKING[e.doc.kind] for e in encounters if e.doc.kind in _LACKING]
            lacks = frozenset().union(*found) if found else None
        chosen = self._day_rules_for[day.codes] if lacks is None else self._day_rules_lacking[day.codes, lacks]
        policy = self.policy
        for rule in chosen:
            for finding in rule.check(day, policy):
                owner = finding.place.encounter
                result = result_of(owner)
                into = result.day_findings.setdefault(provisional, []) if provisional is not None else None
                self._add(result, owner.doc, _placed(rule, finding), owner.id, into)

    def _choose(self, rules: list[Rule], codes: tuple, lacks: frozenset = frozenset()) -> list[Rule]:
        """The rules with something to say about lines billing these codes, in a format that
        lacks these fields."""
        return [rule for rule in rules if rule.applies(codes, self.policy) and rule.needs.isdisjoint(lacks)]

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
                # a claim reader that read none has said why; a part of a file may hold none
                if not listed and not doc.problems and doc.first is None:
                    findings.append(loader.Problem("SCH004", "encounters: lists no encounter", ("encounters",)))
                return [(("encounters", i), value) for i, value in enumerate(listed, start=doc.first or 0)]
        return [((), root)]

    def used_elsewhere(self, result: FileResult, first_path: str, encounter_id: str, span: Span, parts: tuple) -> None:
        """SCH005 in result for an id an earlier file of the run has (days across files)."""
        message = f'the id "{encounter_id}" is the id of an encounter of {first_path}'
        self._add(result, None, loader.Problem("SCH005", message, parts, span=span), encounter_id)

    def may_fix(self, code: str, unsafe: bool) -> bool:
        kind = self.fixable.get(code)
        return kind is not None and (kind == "safe" or unsafe)

    def _add(self, result: FileResult, doc, problem: loader.Problem, encounter_id, into: list | None = None) -> None:
        code = problem.code
        if code not in self.reported or (result.ignored and any(matches(code, s) for s in result.ignored)):
            return
        span = problem.span or doc.span(problem.parts, problem.key)
        if result.suppressions.by_line:
            selector = result.suppressions.hiding(span.line, code)
            if selector is not None:
                result.used.add((span.line, selector))
                return
        if self.excerpts and doc is not None and formats.of_kind(doc.kind).excerpted:
            _keep_excerpt(result, doc, span)
        if doc is not None and not formats.of_kind(doc.kind).writes_fixes:  # an NDJSON record, a claim file (see fixer.py)
            fix = fixable = None
        else:
            fix = problem.fix if self.fixes else None
            if callable(fix):  # a fix worked out only now that one is wanted (see Finding.fix)
                fix = fix()
            fixable = self.fixable.get(code) if problem.fix is not None and (fix is not None or not self.fixes) else None
        # by position (path, line, column, end line, end column, code, ...): made for every finding
        (result.diagnostics if into is None else into).append(
            Diagnostic(result.path, *span, code, self._severity(problem), problem.message, pointer_of(problem.parts), encounter_id, fixable, fix)
        )

    def _severity(self, problem: loader.Problem):
        if problem.severity is None or problem.code in self.chosen_severities:
            return self.severities[problem.code]
        return problem.severity

    def _unreadable(self, path: str, err: OSError | str) -> FileResult:
        result = FileResult(path)
        doc = loader.Document(path=path, kind=formats.DEFAULT.name, text="")
        message = err if isinstance(err, str) else f"cannot read the file: {err.strerror or err}"
        self._add(result, doc, loader.Problem("SCH001", message), None)
        return result


_LACKING = formats.LACKING  # the fields each format lacks, by its name: asked for every encounter


def _guarded(path: str, check, *args):
    try:
        return check(*args)
    except Exception as err:  # a bug in cptlint, not in the file: say which file
        raise InternalError(f"internal error while checking {path}: {type(err).__name__}: {err}") from err


def made(settings: Settings, options: tuple) -> Linter:
    """A Linter for settings made with the options (Linter.options) of another."""
    cache, excerpts, fixes, stable_ids = options
    return Linter(settings, cache=cache, excerpts=excerpts, fixes=fixes, stable_ids=stable_ids)


def file_source(path) -> Source:
    return Source(str(path))


def _let_go(encounters: list[Encounter]) -> list:
    """An empty list, for encounters judged and done with. A service and its encounter point at
    each other: parted here, both are freed at once rather than by the cycle collector."""
    for encounter in encounters:
        encounter.services.clear()
    return []


def _placed(rule: Rule, finding: Finding) -> loader.Problem:
    return loader.Problem(
        rule.code, finding.message, finding.place.parts, key=finding.place.key, fix=finding.fix, severity=finding.severity
    )


ENCOUNTER_KEYS = frozenset(("id", "date", "patient", "provider", "encounters"))


def _holds_encounters(root) -> bool:
    """Whether a document could be meant as encounters: a mapping with one of their keys, or a
    list of services. A docker-compose file (whose services are a mapping), mkdocs.yml or a CI
    workflow is not; a misspelt encounter still has its id or date, and is linted."""
    if not isinstance(root, dict):
        return False
    return not ENCOUNTER_KEYS.isdisjoint(root) or isinstance(root.get("services"), list)


REPEATS_IN_MEMORY = 20_000  # more values than this are counted in a temporary database


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _repeated(values) -> set:
    """The values (64-bit integers) that occur more than once: in a set, or for many values in
    a temporary SQLite table, whose sort keeps memory flat."""
    if len(values) <= REPEATS_IN_MEMORY:
        seen: set = set()
        again: set = set()
        for value in values:
            (again if value in seen else seen).add(value)
        return again
    import sqlite3

    db = sqlite3.connect("")
    try:
        db.executescript("pragma cache_size = -1024; create table v (v integer)")
        db.executemany("insert into v values (?)", zip(values))
        return {v for (v,) in db.execute("select v from v group by v having count(*) > 1")}
    finally:
        db.close()


def _chunks(path: str):
    with open(path, "rb") as stream:
        while chunk := stream.read(1 << 20):
            yield chunk


def _lines_of_file(path: str):
    """lines(): the lines of the file at path, read again from its start."""

    def lines():
        with open(path, "rb") as stream:
            yield from stream

    return lines


def _json_or_none(text: str):
    import json

    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def _keep_excerpt(result: FileResult, doc: loader.Document, span: Span) -> None:
    """The text of a flagged line of a file not kept whole: an NDJSON record's line, or the
    pieces of a line that findings are in ((column, text) each: an 837P's segments, the text
    around a finding on a long line, such as a FHIR resource's)."""
    index = doc.positions()
    found = index.excerpt(span) if index is not None else None
    if isinstance(found, str) and len(found) > 2 * EXCERPT_AROUND:
        start = max(0, span.column - 1 - EXCERPT_AROUND)
        found = (start + 1, found[start : span.column - 1 + EXCERPT_AROUND])
    if isinstance(found, str):
        result.excerpts[span.line] = found
    elif found is not None:
        held = result.excerpts.get(span.line, ())
        if found not in held:
            result.excerpts[span.line] = held + (found,)


def _renumbered(problems: list[loader.Problem], first: int) -> None:
    """The schema's problems of a part of a file, whose encounters are numbered from first."""
    for problem in problems:
        parts = problem.parts
        if len(parts) > 1 and parts[0] == "encounters" and isinstance(parts[1], int):
            problem.parts = ("encounters", parts[1] + first) + parts[2:]


def _duplicate_ids(slots: list, ids: dict, seen: set | None = None) -> list[loader.Problem]:
    """SCH005 at each encounter of a file whose id an earlier one has; seen: the ids of the
    encounters before these (a file read in parts), added to."""
    seen = set() if seen is None else seen
    problems = []
    for parts, _ in slots:
        encounter_id = ids.get(parts)
        if encounter_id is None:
            continue
        if encounter_id in seen:
            problems.append(_duplicate_id_problem(encounter_id, parts))
        seen.add(encounter_id)
    return problems


def _duplicate_id_problem(encounter_id: str, parts: tuple) -> loader.Problem:
    return loader.Problem("SCH005", f'the id "{encounter_id}" is the id of an earlier encounter of the file', parts + ("id",))


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
