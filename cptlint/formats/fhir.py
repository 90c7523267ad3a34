"""FHIR R4 Claim and ExplanationOfBenefit (JSON, alone or in a Bundle) read into encounters.

A resource is an encounter per date of service of its items (`servicedDate`, the start of
`servicedPeriod`, else of `billablePeriod`). An item's code is the CPT or HCPCS coding of its
`productOrService`, its modifiers those of `modifier`, its units `quantity.value`; its
`diagnosisSequence` points into `diagnosis[]` (ICD-10-CM codings) and its `careTeamSequence`
into `careTeam[]`, whose provider NPI and NUCC `qualification` give the rendering provider and
its discipline. The billing provider is `provider`; the patient is `patient`. Blue Button
resources (CMS's Medicare claims, told by their bluebutton.cms.gov systems) are Medicare's.

Positions are the JSON positions of the file: each encounter part is mapped to the JSON part it
was read from. A bulk export (FHIR NDJSON) is read a line at a time and handed on PART_LINES
resources at a time (parts_of_lines), so its memory stays flat however long it is. What cptlint does not use (extensions, adjudication, placeholders) is read past;
what it uses and cannot read is SCH008 at its place: a wrong type, a code system it does not
know, a sequence that points at nothing. A resource coded only in ICD-9-CM is one SCH007.
"""

from __future__ import annotations

import re
from typing import Iterator

from cptlint.formats.claims import ICD9_MESSAGE, discipline, dotted, whole_number
from cptlint.diagnostics import Span
from cptlint.formats import json as json_format
from cptlint.formats.ndjson import load_record
from cptlint.loader import Document, Problem, not_utf8

CLAIMS = ("Claim", "ExplanationOfBenefit")
PART_LINES = 100  # the resources of a bulk export handed on at a time
PROCEDURE_SYSTEMS = frozenset(
    (
        "http://www.ama-assn.org/go/cpt",
        "urn:oid:2.16.840.1.113883.6.12",  # CPT
        "urn:oid:2.16.840.1.113883.6.285",  # HCPCS
        "https://bluebutton.cms.gov/resources/codesystem/hcpcs",
        "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
        "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
    )
)
ICD10CM = frozenset(("http://hl7.org/fhir/sid/icd-10-cm", "urn:oid:2.16.840.1.113883.6.90"))
ICD9CM = frozenset(("http://hl7.org/fhir/sid/icd-9-cm", "urn:oid:2.16.840.1.113883.6.103"))
ICD10_WHO = "http://hl7.org/fhir/sid/icd-10"  # beside the -CM coding in Blue Button: read past
TAXONOMY_SYSTEM = "http://nucc.org/provider-taxonomy"
NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"
RENDERING_ROLES = ("performing", "rendering", "primary")
MEDICARE_MARK = "https://bluebutton.cms.gov/"
SOPT_SYSTEMS = frozenset(("https://nahdo.org/sopt", "urn:oid:2.16.840.1.113883.3.221.5"))  # Source of Payment Typology
# a FHIR resource names its type first (as every FHIR JSON writer does); an encounter file never does
_RECOGNISED = re.compile(r'\A[\s\ufeff]*\{\s*"resourceType"\s*:\s*"[A-Za-z]+"')


def recognises(text: str) -> bool:
    return _RECOGNISED.match(text[:4096]) is not None


def recognises_lines(text: str) -> bool:
    """A bulk export: its first line is a resource."""
    return recognises(text.lstrip()[:4096].split("\n", 1)[0])


class Mapped:
    """Positions of the encounters read from resources: each encounter part (a tuple of keys
    and indexes) is found at the JSON part it was read from, in the JSON text (one line of a
    bulk export) it was read from."""

    def __init__(self, inner: list, places: dict):
        self.inner, self.places = inner, places  # places: our parts -> (which text, its parts)

    def exact(self, parts: tuple):
        found = self.places.get(tuple(parts))
        return self.inner[found[0]].exact(found[1]) if found is not None else None

    def excerpt(self, span: Span) -> str | None:
        """The text of span's line, where it is a line of a bulk export read here."""
        for index in self.inner:
            if index.line_offset + 1 == span.line and "\n" not in index.text:
                return index.text
        return None

    def closest(self, parts: tuple, key: bool):
        parts = tuple(parts)
        while parts not in self.places:
            if not parts:
                return self.inner[0].closest((), False) if self.inner else Span(1, 1, 1, 2)
            parts, key = parts[:-1], False
        which, theirs = self.places[parts]
        return self.inner[which].closest(theirs, key)


class _Reader:
    def __init__(self, doc, first: int = 0):
        self.doc = doc
        self.first = first  # the number in the file of the first encounter read here
        self.places: dict[tuple, tuple] = {}
        self.encounters: list[dict] = []
        self.indexes: list = []  # the JSON positions of each text read

    def read(self, value, index) -> None:
        self.indexes.append(index)
        for at, resource in _resources(self, value):
            _resource(self, at, resource)

    def take(self, line) -> None:
        """A line of a bulk export, read as a document of its own (ndjson.load_record): its
        problems, and its resources."""
        self.doc.problems.extend(line.problems)
        if line.root is not None:
            self.read(line.root, line.index.inner)

    def problem(self, code: str, message: str, at: tuple) -> None:
        self.doc.problems.append(Problem(code, message, span=self.indexes[-1].closest(at, False)))

    def place(self, ours: tuple, theirs: tuple) -> None:
        self.places[ours] = (len(self.indexes) - 1, theirs)

    def forget(self, ours: tuple) -> None:
        """The places of an encounter that is not read after all."""
        for parts in [p for p in self.places if p[: len(ours)] == ours]:
            del self.places[parts]

    def done(self) -> None:
        self.doc.root = {"encounters": self.encounters}
        self.doc.index = Mapped(self.indexes, self.places)
        self.places[("encounters",)] = (0, ())


def read(doc) -> None:
    json_format.read(doc)
    if doc.root is None:
        return
    reader = _Reader(doc)
    reader.read(doc.root, doc.index)
    reader.done()


def read_lines(doc) -> None:
    """A bulk export (FHIR NDJSON) read whole, for a caller that wants its values (the engine
    takes it a part at a time: parts_of_lines): a resource a line, each read as read() reads a
    file, placed on its own line."""
    reader = _Reader(doc)
    for number, line in enumerate(doc.text.split("\n"), start=1):
        if line.strip():
            reader.take(load_record(doc.path, line, number, 0))
    if not reader.indexes:
        _no_resource(reader)
        return
    reader.done()


def parts_of_lines(path: str, stream) -> Iterator[Document]:
    """A bulk export from a binary stream, a line at a time, as documents of PART_LINES
    resources each (their encounters numbered from doc.first in the file). A line that cannot
    be read (not UTF-8, not JSON) is a document of its own, its SCH001 on it; the lines after
    it are read."""
    read_any = False
    reader = _Reader(Document(path, "fhir-lines", ""))
    for number, raw in enumerate(stream, start=1):
        if number == 1:
            raw = raw.removeprefix(b"\xef\xbb\xbf")
        try:
            line = raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError as err:
            yield Document(path, "fhir-lines", "", problems=[not_utf8(raw[err.start], number, err.start + 1)])
            continue
        if not line.strip():
            continue
        one = load_record(path, line, number, 0)
        if not one.is_readable:
            yield Document(path, "fhir-lines", "", problems=one.problems)
            continue
        read_any = True
        reader.take(one)
        if len(reader.indexes) >= PART_LINES:
            yield _part(reader)
            reader = _Reader(Document(path, "fhir-lines", ""), reader.first + len(reader.encounters))
    if not read_any:
        _no_resource(reader)  # in a part of no encounter, for which the engine adds no SCH004 of its own
    if reader.indexes or not read_any:
        yield _part(reader)


def _no_resource(reader: _Reader) -> None:
    reader.doc.problems.append(Problem("SCH004", "the file holds no resource", span=Span(1, 1, 1, 2)))


def _part(reader: _Reader) -> Document:
    reader.done()
    reader.doc.first = reader.first
    return reader.doc


def _resources(reader: _Reader, root) -> list[tuple[tuple, dict]]:
    """The Claim and ExplanationOfBenefit resources of the file, with where each is written."""
    kind = root.get("resourceType") if isinstance(root, dict) else None
    if kind in CLAIMS:
        return [((), root)]
    if kind == "Bundle":
        entries = root.get("entry", [])
        if not isinstance(entries, list):
            reader.problem("SCH008", "Bundle.entry is not a list", ("entry",))
            return []
        found = []
        for i, entry in enumerate(entries):
            resource = entry.get("resource") if isinstance(entry, dict) else None
            if isinstance(resource, dict) and resource.get("resourceType") in CLAIMS:
                found.append((("entry", i, "resource"), resource))  # a Patient or Coverage beside them is read past
        return found
    reader.problem(
        "SCH008",
        f"a {kind or 'JSON'} resource: cptlint reads Claim and ExplanationOfBenefit, alone or in a Bundle",
        ("resourceType",) if kind else (),
    )
    return []


def _members(reader: _Reader, owner: dict, at: tuple, name: str, accepts, what: str) -> list[tuple[int, object]]:
    """owner[name] as (index, member) pairs of the members accepts takes; a value that is not a
    list, or a member of another kind, is SCH008 and skipped."""
    value = owner.get(name, [])
    if not isinstance(value, list):
        reader.problem("SCH008", f"{name} is not a list", at + (name,))
        return []
    pairs = []
    for i, member in enumerate(value):
        if accepts(member):
            pairs.append((i, member))
        else:
            reader.problem("SCH008", f"{name}[{i}] is not {what}", at + (name, i))
    return pairs


def _list(reader: _Reader, owner: dict, at: tuple, name: str) -> list[tuple[int, dict]]:
    return _members(reader, owner, at, name, lambda member: isinstance(member, dict), "an object")


def _sequences(reader: _Reader, item: dict, at: tuple, name: str) -> list[tuple[int, int]]:
    return _members(reader, item, at, name, _is_integer, "a positive integer")


def _is_integer(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _coded_in(codings: list[tuple[int, dict]], systems: frozenset) -> tuple[int, dict] | None:
    """(index, coding) of the first coding in one of systems, or None."""
    return next(((i, c) for i, c in codings if c.get("system") in systems), None)


def _systems(codings: list[tuple[int, dict]]) -> str:
    """The code systems of codings, as a finding names them."""
    return ", ".join(sorted({str(c.get("system")) for _, c in codings})) or "no coding"


def _codings(concept) -> list[tuple[int, dict]]:
    return _pairs(concept.get("coding")) if isinstance(concept, dict) else []


def _resource(reader: _Reader, at: tuple, resource: dict) -> None:
    diagnoses, by_sequence, icd9 = _diagnoses(reader, at, resource)
    if icd9 is not None and not diagnoses:
        reader.problem("SCH007", ICD9_MESSAGE, icd9)
        return
    team = {_sequence(member): (i, member) for i, member in _list(reader, resource, at, "careTeam")}
    items = _list(reader, resource, at, "item")
    by_date: dict[str, list[tuple[int, dict, tuple | None]]] = {}
    for i, item in items:
        date, where = _item_date(item, at + ("item", i), resource, at)
        by_date.setdefault(date, []).append((i, item, where))
    if not items:
        reader.problem("SCH008", f"{resource['resourceType']} {resource.get('id', '')} has no item".replace("  ", " "), at)
    for date, lines in by_date.items():
        number = reader.first + len(reader.encounters)
        ours = ("encounters", number)
        encounter: dict = {"id": str(resource.get("id", "")) + (f" {date}" if len(by_date) > 1 else "")}
        reader.place(ours, at)
        reader.place(ours + ("id",), at + ("id",))
        if date:
            encounter["date"] = date
            reader.place(ours + ("date",), lines[0][2])
        _patient(reader, ours, at, resource, encounter)
        payer = _payer(resource)
        if payer is not None:
            encounter["payer"] = payer
            reader.place(ours + ("payer",), at + ("insurance",))
        billing = _npi_of(resource.get("provider"), resource)
        if billing is not None:
            encounter["billing_provider"] = {"npi": billing[0]}
            reader.place(ours + ("billing_provider",), at + ("provider",))
            reader.place(ours + ("billing_provider", "npi"), at + ("provider",) + billing[1])
        encounter["diagnoses"] = [code for code, _ in diagnoses]
        reader.place(ours + ("diagnoses",), at + ("diagnosis",))
        for k, (_, where) in enumerate(diagnoses):
            reader.place(ours + ("diagnoses", k), where)
        services = []
        for i, item, _ in lines:
            service = _service(reader, ours + ("services", len(services)), at, at + ("item", i), item, by_sequence, team, resource)
            if service is not None:
                services.append(service)
        if not services:  # each line said why it could not be read
            reader.forget(ours)
            continue
        encounter["services"] = services
        _shared_provider(reader, ours, encounter)
        reader.place(ours + ("services",), at + ("item",))
        reader.encounters.append(encounter)


def _sequence(entry: dict):
    """An entry's `sequence` (a positive integer), or None: a sequence of another type names nothing."""
    value = entry.get("sequence")
    return value if _is_integer(value) else None


def _shared_provider(reader: _Reader, ours: tuple, encounter: dict) -> None:
    """Lines rendered by one care team member name it once, as the encounter's provider (an
    837P's 2310B), so that what is wrong with it is said once."""
    services = encounter["services"]
    first = services[0].get("provider")
    if first is None or any(service.get("provider") != first for service in services):
        return
    encounter["provider"] = first
    line = ours + ("services", 0, "provider")
    for parts, theirs in list(reader.places.items()):
        if parts[: len(line)] == line:
            reader.places[ours + ("provider",) + parts[len(line) :]] = theirs
    for service in services:
        del service["provider"]


def _diagnoses(reader: _Reader, at: tuple, resource: dict):
    """([(code, where)], {sequence: pointer into that list}, where the first ICD-9-CM coding is)."""
    read: list[tuple[str, tuple]] = []
    by_sequence: dict = {}
    icd9 = None
    for i, entry in _list(reader, resource, at, "diagnosis"):
        here = at + ("diagnosis", i, "diagnosisCodeableConcept")
        codings = _codings(entry.get("diagnosisCodeableConcept"))
        chosen = _coded_in(codings, ICD10CM)
        if chosen is None:
            nine = _coded_in(codings, ICD9CM)
            if nine is not None:
                icd9 = icd9 or here + ("coding", nine[0], "system")
                continue
            if entry.get("diagnosisReference") is None:
                reader.problem("SCH008", f"diagnosis[{i}] has no ICD-10-CM coding (system {sorted(ICD10CM)[0]})", here)
            continue
        j, coding = chosen
        code = coding.get("code")
        if not isinstance(code, str):
            reader.problem("SCH008", f"diagnosis[{i}]'s code is not a string", here + ("coding", j))
            continue
        read.append((dotted(code), here + ("coding", j, "code")))
        by_sequence[_sequence(entry)] = len(read)
    if icd9 is not None and read:
        reader.problem("SCH008", "an ICD-9-CM diagnosis beside ICD-10-CM ones: a claim is coded in one; it is not read", icd9)
    return read, by_sequence, icd9


def _item_date(item: dict, at: tuple, resource: dict, resource_at: tuple) -> tuple[str, tuple | None]:
    if "servicedDate" in item:
        return str(item["servicedDate"]), at + ("servicedDate",)
    for owner, where, name in ((item, at, "servicedPeriod"), (resource, resource_at, "billablePeriod")):
        period = owner.get(name)
        if isinstance(period, dict):
            for end in ("start", "end"):
                if isinstance(period.get(end), str):
                    return period[end][:10], where + (name, end)
    return "", None


def _patient(reader: _Reader, ours: tuple, at: tuple, resource: dict, encounter: dict) -> None:
    patient = resource.get("patient")
    if not isinstance(patient, dict):
        return
    reference = patient.get("reference")
    contained = _contained(resource, reference)
    if contained is not None:
        identifiers = contained.get("identifier")
        if isinstance(identifiers, list) and identifiers and isinstance(identifiers[0], dict) and identifiers[0].get("value"):
            reference = str(identifiers[0]["value"])
    if reference is None and isinstance(patient.get("identifier"), dict):
        reference = patient["identifier"].get("value")
    if reference is not None:
        encounter["patient"] = str(reference)
        reader.place(ours + ("patient",), at + ("patient",))


def _contained(resource: dict, reference) -> dict | None:
    if not isinstance(reference, str) or not reference.startswith("#"):
        return None
    for entry in resource.get("contained") or ():
        if isinstance(entry, dict) and entry.get("id") == reference[1:]:
            return entry
    return None


def _npi_of(who, resource: dict) -> tuple[str, tuple] | None:
    """(NPI, where it is below who) of a Reference by identifier, or of the contained resource it names."""
    if not isinstance(who, dict):
        return None
    identifier = who.get("identifier")
    if isinstance(identifier, dict) and _is_npi(identifier) and identifier.get("value"):
        return str(identifier["value"]), ("identifier", "value")
    contained = _contained(resource, who.get("reference"))
    if contained is not None:
        for identifier in contained.get("identifier") or ():
            if isinstance(identifier, dict) and _is_npi(identifier) and identifier.get("value"):
                return str(identifier["value"]), ("reference",)
    return None


def _is_npi(identifier: dict) -> bool:
    system = str(identifier.get("system", ""))
    kinds = [c.get("code") for _, c in _codings(identifier.get("type"))]
    return system == NPI_SYSTEM or "npi" in system.lower() or "npi" in kinds or "NPI" in kinds


def _payer(resource: dict) -> str | None:
    """medicare for Blue Button's resources; else the focal insurance's Coverage.type in the
    Source of Payment Typology (`sopt:1`), mapped to a profile by formats.Fhir.payers."""
    if _is_medicare(resource):
        return "medicare"
    for _, insurance in _pairs(resource.get("insurance")):
        if insurance.get("focal") is False:
            continue
        coverage = _contained(resource, (insurance.get("coverage") or {}).get("reference") if isinstance(insurance.get("coverage"), dict) else None)
        for _, coding in _codings((coverage or {}).get("type")):
            if coding.get("system") in SOPT_SYSTEMS and coding.get("code"):
                return f"sopt:{coding['code']}"
    return None


def _pairs(value) -> list[tuple[int, dict]]:
    return [(i, v) for i, v in enumerate(value) if isinstance(v, dict)] if isinstance(value, list) else []


def _is_medicare(resource: dict) -> bool:
    identifiers = resource.get("identifier")
    profiles = (resource.get("meta") or {}).get("profile") if isinstance(resource.get("meta"), dict) else None
    systems = [i.get("system", "") for i in identifiers if isinstance(i, dict)] if isinstance(identifiers, list) else []
    return any(str(s).startswith(MEDICARE_MARK) for s in systems) or any(
        isinstance(p, str) and "bluebutton" in p for p in profiles or ()
    )


def _service(reader, ours, resource_at, at, item, by_sequence, team, resource) -> dict | None:
    codings = _codings(item.get("productOrService"))
    chosen = _coded_in(codings, PROCEDURE_SYSTEMS)
    if chosen is None:
        systems = _systems(codings)
        reader.problem("SCH008", f"item {_sequence(item) or '?'}'s productOrService has no CPT or HCPCS coding ({systems}): the line is not read", at + ("productOrService",))
        return None
    quantity = item.get("quantity")
    if not isinstance(quantity, dict) or "value" not in quantity:
        reader.problem("SCH008", f"item {_sequence(item) or '?'} has no quantity: its units are unknown, so the line is not read", at)
        return None
    j, coding = chosen
    service: dict = {"code": coding.get("code"), "units": whole_number(quantity["value"])}
    reader.place(ours, at)
    reader.place(ours + ("code",), at + ("productOrService", "coding", j, "code"))
    reader.place(ours + ("units",), at + ("quantity", "value"))
    modifiers = []
    for m, modifier in _list(reader, item, at, "modifier"):
        found = _codings(modifier)
        known = _coded_in(found, PROCEDURE_SYSTEMS)
        if known is None:
            systems = _systems(found)
            reader.problem("SCH008", f"modifier[{m}] is not coded in CPT or HCPCS ({systems}): it is not read", at + ("modifier", m))
            continue
        reader.place(ours + ("modifiers", len(modifiers)), at + ("modifier", m, "coding", known[0], "code"))
        modifiers.append(known[1].get("code"))
    service["modifiers"] = modifiers
    reader.place(ours + ("modifiers",), at + ("modifier",))
    pointers = []
    for k, sequence in _sequences(reader, item, at, "diagnosisSequence"):
        if sequence not in by_sequence:
            reader.problem("SCH008", f"diagnosisSequence {sequence} points at no ICD-10-CM diagnosis of the {resource['resourceType']}", at + ("diagnosisSequence", k))
            continue
        reader.place(ours + ("diagnosis_pointers", len(pointers)), at + ("diagnosisSequence", k))
        pointers.append(by_sequence[sequence])
    service["diagnosis_pointers"] = pointers
    reader.place(ours + ("diagnosis_pointers",), at + ("diagnosisSequence",))
    provider = _rendering(reader, ours + ("provider",), resource_at, at, item, team, resource)
    if provider:
        service["provider"] = provider
    return service


def _rendering(reader, ours, resource_at, at, item, team, resource) -> dict | None:
    """The item's rendering provider: its care team member in a performing role, else its first."""
    members = []
    for k, sequence in _sequences(reader, item, at, "careTeamSequence"):
        if sequence not in team:
            reader.problem("SCH008", f"careTeamSequence {sequence} points at no careTeam member", at + ("careTeamSequence", k))
        else:
            members.append(team[sequence])
    if not members:
        return None
    roles = lambda member: {c.get("code") for _, c in _codings(member.get("role"))}  # noqa: E731
    i, member = next((m for m in members if roles(m[1]) & set(RENDERING_ROLES)), members[0])
    where = resource_at + ("careTeam", i)
    provider: dict = {}
    reader.place(ours, where)
    npi = _npi_of(member.get("provider"), resource)
    if npi is not None:
        provider["npi"] = npi[0]
        reader.place(ours + ("npi",), where + ("provider",) + npi[1])
    for j, coding in _codings(member.get("qualification")):
        if coding.get("system") == TAXONOMY_SYSTEM and isinstance(coding.get("code"), str) and discipline(coding["code"]):
            provider["discipline"] = discipline(coding["code"])
            reader.place(ours + ("discipline",), where + ("qualification", "coding", j, "code"))
    return provider
