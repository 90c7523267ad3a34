"""The file formats cptlint reads, one module each behind one small interface.

A format says which files are its own (by suffix, and by content where suffixes lie), reads a
document into the encounter tree the schema and rules read (`{"encounters": [...]}` or one
encounter) with a position for every part a finding can name, says which encounter fields it
carries (a rule that needs another does not run on it: what a claim format does not carry is
unknown, not missing), whether it is streamed a record (line) at a time or read a part at a
time, and whether fixes can be written back into it.
"""

from __future__ import annotations

from typing import ClassVar

SERVICE_DETAIL = frozenset(("minutes", "techniques", "response", "goal", "regions", "start", "end", "group"))


class Format:
    name: ClassVar[str]
    title: ClassVar[str]  # as the documentation names it
    suffixes: ClassVar[tuple[str, ...]]
    streamed: ClassVar[bool] = False  # read a record (line) at a time, in byte ranges over workers
    # read a part (a batch of claims) at a time from a stream (parts()), never held whole
    in_parts: ClassVar[bool] = False
    # the flagged lines of its files are kept for excerpts (Document.index.excerpt), not the text
    excerpted: ClassVar[bool] = False
    # whether its documents can hold a null (read as an absent field: schema.absent_nulls)
    nulls: ClassVar[bool] = True
    writes_fixes: ClassVar[bool] = True
    # whether a line can end in a `# cptlint: disable=CODE` comment (suppressions.py)
    line_comments: ClassVar[bool] = False
    # whether a plain scalar's type is the schema's to decide (YAML: `code: 97140` is text)
    typed_by_schema: ClassVar[bool] = False
    # the payer codes its claims carry (`sbr09:MB`) and the payer profiles they stand for; the
    # configuration's `claim-payers` adds to and overrides them (see payer_of)
    payers: ClassVar[dict[str, str]] = {}
    # whether a file states its fixture expectations itself (`expect:`); else in a sidecar file
    states_expectations: ClassVar[bool] = True
    # the encounter fields it cannot carry; rules that need one of them do not run on its files
    lacks: ClassVar[frozenset[str]] = frozenset()

    def recognises(self, text: str) -> bool:
        """Whether text without a telling name (stdin) is written in this format."""
        return False

    def read(self, doc) -> None:  # pragma: no cover - every format has its own
        """Fill doc.root, doc.index and doc.problems from doc.text."""
        raise NotImplementedError

    def parts(self, path: str, stream):  # pragma: no cover - formats read in parts have their own
        """The documents of a binary stream, a part at a time (in_parts): each a Document whose
        encounters are numbered from its `first` in the file."""
        raise NotImplementedError

    @property
    def read_whole(self) -> bool:
        """Whether a file is held whole to be read (max-file-size applies)."""
        return not (self.streamed or self.in_parts)


class Yaml(Format):
    name, suffixes = "yaml", (".yaml", ".yml")
    title = "YAML"
    typed_by_schema = line_comments = True

    def read(self, doc) -> None:
        from cptlint.formats import yaml

        yaml.read(doc)


class Json(Format):
    name, suffixes = "json", (".json",)
    title = "JSON"

    def recognises(self, text: str) -> bool:
        return text.lstrip()[:1] in ("{", "[")

    def read(self, doc) -> None:
        from cptlint.formats import json

        json.read(doc)


class Ndjson(Format):
    name, suffixes = "lines", (".ndjson", ".jsonl")
    title = "NDJSON"
    streamed = True
    writes_fixes = False  # see fixer.py: a record is never rewritten in place

    def read(self, doc) -> None:
        from cptlint.formats import ndjson

        ndjson.read(doc)


class X12(Format):
    name, suffixes = "x12", (".x12", ".837", ".edi")
    title = "X12 837P"
    writes_fixes = states_expectations = False
    in_parts = excerpted = True
    nulls = False  # what a claim does not say, the reader leaves out
    lacks = SERVICE_DETAIL  # an 837P line carries code, modifiers, units, pointers, date and provider
    # SBR09, the claim filing indicator code: MB Medicare Part B, CI commercial insurance
    payers = {"sbr09:MB": "medicare", "sbr09:CI": "commercial"}

    def recognises(self, text: str) -> bool:
        return text.lstrip("\ufeff \t\r\n")[:3] == "ISA"

    def read(self, doc) -> None:
        from cptlint.formats.x12 import read

        read(doc)

    def parts(self, path: str, stream):
        from cptlint.formats.x12 import parts

        return parts(path, stream)


class Fhir(Format):
    name, suffixes = "fhir", (".json",)
    title = "FHIR R4"
    writes_fixes = states_expectations = False
    # an item carries code, modifiers, quantity, pointers, date and care team; bodySite is not read yet
    lacks = SERVICE_DETAIL
    # Coverage.type in the Source of Payment Typology, by the longest prefix: 1 Medicare (12x its
    # fee-for-service), 11x Medicare managed care (the plan's rules: no profile), 5 private, 6 BCBS
    payers = {"sopt:1": "medicare", "sopt:11": "", "sopt:5": "commercial", "sopt:6": "commercial"}

    def recognises(self, text: str) -> bool:
        from cptlint.formats.fhir import recognises

        return recognises(text)

    def read(self, doc) -> None:
        from cptlint.formats.fhir import read

        read(doc)


class FhirLines(Fhir):
    """A FHIR bulk export: a Claim or ExplanationOfBenefit a line (NDJSON), read a part at a time."""

    name, suffixes = "fhir-lines", (".ndjson", ".jsonl")
    title = "FHIR R4 NDJSON"
    in_parts = excerpted = True

    def recognises(self, text: str) -> bool:
        from cptlint.formats.fhir import recognises_lines

        return recognises_lines(text)

    def read(self, doc) -> None:
        from cptlint.formats.fhir import read_lines

        read_lines(doc)

    def parts(self, path: str, stream):
        from cptlint.formats.fhir import parts_of_lines

        return parts_of_lines(path, stream)


# Where formats share a suffix (FHIR and plain JSON or NDJSON), the first that recognises the
# content wins; the last is the one the suffix alone says.
class Record(Format):
    """One line of an NDJSON file, read as a document of its own (see ndjson.load_record): no
    file is in this format, but a document can be."""

    name, suffixes = "record", ()
    title = "NDJSON"
    writes_fixes = False  # see fixer.py: a record is never rewritten in place
    excerpted = True


FORMATS: tuple[Format, ...] = (X12(), Yaml(), Fhir(), Json(), FhirLines(), Ndjson())
BY_NAME = {f.name: f for f in FORMATS}
RECORD = Record()
SUFFIXES = tuple(dict.fromkeys(suffix for f in FORMATS for suffix in f.suffixes))
DEFAULT = BY_NAME["yaml"]


def of_path(path: str) -> Format:
    """The format a file's name says (YAML when it says none; the last of those sharing it)."""
    lower = path.lower()
    return next((f for f in reversed(FORMATS) if lower.endswith(f.suffixes)), DEFAULT)


def _named_by(path: str) -> list[Format]:
    lower = path.lower()
    return [f for f in FORMATS if lower.endswith(f.suffixes)]


def of_name(path: str) -> Format | None:
    """The format a file's name says, where no other shares its suffix; else None (its content
    settles it: see of_file)."""
    named_by = _named_by(path)
    return named_by[0] if len(named_by) == 1 else None


def of_file(path: str, text: str) -> Format:
    """The format of a file: its name, and its content where the name says none or several
    formats share it (a `.json` FHIR Claim, an 837P named `.txt`)."""
    named_by = _named_by(path)
    if len(named_by) == 1:
        return named_by[0]
    if not named_by:
        return sniffed(text)
    return next((f for f in named_by if f.recognises(text)), named_by[-1])


HEAD = 4096  # bytes enough to recognise a format by its content


def of_head(path: str, head: bytes) -> Format:
    """of_file from the first HEAD bytes of a file (what a streamed file is told by)."""
    return of_file(path, head[:HEAD].decode("utf-8", "replace").lstrip("\ufeff"))


def of_kind(kind: str) -> Format:
    """The format of a document of this kind (a format's name, or an NDJSON line's "record")."""
    return BY_NAME.get(kind, RECORD)


def named(name: str | None, path: str) -> Format:
    return BY_NAME[name] if name in BY_NAME else of_path(path)


# The fields each format that lacks any cannot carry, by its name (a document's kind).
LACKING = {f.name: f.lacks for f in FORMATS if f.lacks}


def running(rule) -> tuple[list[Format], dict[Format, frozenset[str]]]:
    """The formats a rule runs on, and those it does not with the fields they lack for it. A
    rule whose findings a reader gives (`read_by`) runs on those formats alone."""
    documented = sorted(FORMATS, key=lambda f: f.streamed + 2 * bool(f.lacks))  # YAML, JSON, NDJSON, the claims
    if rule.read_by:
        return [f for f in documented if f.name in rule.read_by], {}
    runs = [f for f in documented if rule.needs.isdisjoint(f.lacks)]
    return runs, {f: rule.needs & f.lacks for f in documented if f not in runs}


CLAIM_PAYERS = {code: profile for f in FORMATS for code, profile in f.payers.items()}


def payer_of(code: str, mapping: dict[str, str]) -> str | None:
    """The payer profile a claim's payer code stands for, by its longest prefix in mapping
    (`sopt:121` is `sopt:12`, else `sopt:1`); None where none, or "" in mapping, says which."""
    qualifier, _, value = code.partition(":")
    for end in range(len(value), 0, -1):
        found = mapping.get(f"{qualifier}:{value[:end]}")
        if found is not None:
            return found or None
    return None


def sniffed(text: str) -> Format:
    """For stdin without a file name: the format its content says, else YAML."""
    return next((f for f in FORMATS if f.recognises(text)), DEFAULT)
