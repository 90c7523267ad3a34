"""Encounters as typed objects that know where they are written.

Rules read these, never raw dicts. Every object carries the path (keys and indexes) of its
place in the document, so a rule says *what* is wrong and *where* with `place(...)`, and the
engine turns that into line, column and JSON Pointer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from cptlint.loader import Document
from cptlint.policy import Payer


class Place(NamedTuple):  # a tuple: made for every finding, and cheaply
    encounter: "Encounter"
    parts: tuple
    key: bool = False  # point at the key rather than the value


class _Located:
    __slots__ = ()
    encounter: "Encounter"
    parts: tuple

    def place(self, *more, key: bool = False) -> Place:
        return Place(self.encounter, self.parts + more, key)


class Provider(NamedTuple):  # a tuple: made for every encounter, and cheaply
    npi: str | None
    discipline: str | None


@dataclass(eq=False, slots=True)
class Service(_Located):
    encounter: "Encounter" = field(repr=False)
    index: int
    parts: tuple
    code: str
    units: int
    minutes: int | None = None
    modifiers: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    techniques: tuple[str, ...] = ()
    diagnosis_pointers: tuple[int, ...] = ()
    start: str | None = None
    end: str | None = None
    group: bool = False
    own_provider: Provider | None = None
    response: str | None = None
    goal: str | None = None
    provider: Provider | None = None  # who rendered the line: its own provider, else the encounter's

    @property
    def has_time_block(self) -> bool:
        return self.start is not None and self.end is not None

    @property
    def start_minute(self) -> int | None:
        return _minute(self.start)

    @property
    def end_minute(self) -> int | None:
        return _minute(self.end)

    @property
    def label(self) -> str:
        return f"{self.code} (service {self.index + 1})"


@dataclass(eq=False, slots=True)
class Encounter(_Located):
    doc: Document = field(repr=False)
    parts: tuple
    id: str
    date: str
    payer: Payer
    patient: str | None = None
    provider: Provider | None = None
    diagnoses: tuple[str, ...] = ()
    services: list[Service] = field(default_factory=list)
    expect: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()  # of the services, in order: what chooses the rules that run
    # who bills the claim (a group NPI), when it is not the provider: NCCI edits bind one billing
    # provider's lines, an assistant's billed under the supervising therapist
    billing_provider: Provider | None = None

    @property
    def encounter(self) -> "Encounter":
        return self


class Day:
    """Every encounter of one patient on one date of service, across all files in the run.
    A plain class: one is made for every day judged, most of them of one encounter."""

    __slots__ = ("patient", "date", "payer", "encounters", "services", "codes", "memo")

    def __init__(self, patient: str | None, date: str, payer: Payer, encounters: list[Encounter]):
        self.patient = patient
        self.date = date
        self.payer = payer
        self.encounters = encounters
        if len(encounters) == 1:
            self.services: list[Service] = encounters[0].services
            self.codes: tuple[str, ...] = encounters[0].codes
        else:
            self.services = [s for e in encounters for s in e.services]
            self.codes = tuple([s.code for s in self.services])
        self.memo: dict = {}  # what several day rules compute alike


def _minute(text: str | None) -> int | None:
    if text is None:
        return None
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


class MappingRecord:
    """A schema-valid mapping of a YAML or JSON file read as records.py reads an NDJSON record:
    fields as attributes, None where absent, lists as tuples, mappings as records. Plain Python,
    so that checking a file does not import msgspec (a tenth of a one-file run's start-up)."""

    def __init__(self, mapping: dict):
        fields = self.__dict__
        for key, value in mapping.items():
            if type(value) is list:
                value = tuple([MappingRecord(item) if type(item) is dict else item for item in value])
            elif type(value) is dict:
                value = MappingRecord(value)
            fields[key] = value

    def __getattr__(self, name: str):  # only asked for a field the mapping does not hold
        return None


def _provider(record) -> Provider | None:
    return None if record is None else Provider(record.npi, record.discipline)


def build_encounter(doc: Document, parts: tuple, record, payer: Payer, expect=()) -> Encounter:
    """A typed encounter from its record (a schema-valid encounter whose absent fields are None:
    records.py's for an NDJSON line, a MappingRecord for a file's mapping). Arguments go by
    position, in the order the fields are declared: with sixteen fields, naming them costs three
    times as much, and this runs for every encounter."""
    encounter = Encounter(
        doc,
        parts,
        record.id,
        record.date,
        payer,
        record.patient,
        _provider(record.provider),
        record.diagnoses or (),
        [],  # services
        tuple(expect) if record.expect is None else record.expect,
    )
    services = encounter.services
    codes = []
    for index, line in enumerate(record.services):
        codes.append(line.code)
        own_provider = _provider(line.provider)
        services.append(
            Service(
                encounter,
                index,
                parts + ("services", index),
                line.code,
                line.units,
                line.minutes,
                line.modifiers or (),
                line.regions or (),
                line.techniques or (),
                line.diagnosis_pointers or (),
                line.start,
                line.end,
                line.group or False,
                own_provider,
                line.response,
                line.goal,
                own_provider or encounter.provider,
            )
        )
    encounter.codes = tuple(codes)
    if record.billing_provider is not None:
        encounter.billing_provider = _provider(record.billing_provider)
    return encounter
