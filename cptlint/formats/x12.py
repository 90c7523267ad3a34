"""X12 837P professional claims (005010X222A1) read into encounters, each part placed at its element.

Delimiters come from the fixed-width ISA segment (counting from 0: the element separator at 3,
the repetition separator ISA11 at 82, the component separator ISA16 at 104, the segment
terminator at 105). Segments may sit on one line or one a line. A claim (loop 2300, CLM) is an
encounter per date of service of its lines (2400: SV1, DTP*472); its diagnoses are HI's
(ICD-10-CM ABK/ABF, written without the dot); the patient is the subscriber's member id
(2010BA) or, in a 2000C loop, the member id and the patient's name (2010CA); the billing
provider is 2010AA, the rendering provider 2310B or 2420A with its PRV taxonomy for the
discipline; the payer is SBR09 (`sbr09:MB`, mapped to a profile by formats.X12.payers). What an 837P does not carry
(minutes, techniques, response, goal, regions, time blocks) is unknown: see formats.X12.lacks.

Structural problems are SCH006 at their element: segment and group counts (SE01, GE01, IEA01)
and control numbers (SE02, GE02, IEA02) that do not match, a component separator the segments
do not use, a claim without service lines, a service line that is not HC-coded or not in units.
A claim coded in ICD-9-CM (HI BK/BF, before 2015-10-01) is one SCH007 and is not linted further.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from cptlint.diagnostics import Span
from cptlint.formats.claims import ICD9_MESSAGE, discipline, dotted, whole_number
from cptlint.loader import LineMap, Problem

ISA_LENGTH = 106
ICD10 = ("ABK", "ABF")  # principal and other diagnosis, ICD-10-CM
ICD9 = ("BK", "BF")
PRINCIPAL = ("ABK", "BK")  # HI01 of the diagnosis HI; other HI segments (BP, BG...) carry no diagnoses
# SBR09, claim filing indicator code (005010 code list)
CLAIM_FILING = frozenset(
    "11 12 13 14 15 16 17 AM BL CH CI DS FI HM LM MA MB MC OF TV VA WC ZZ".split()
)
_COMPOSITE = re.compile(r"HC([^A-Za-z0-9 ])")  # SV101 begins with the HC qualifier and a separator


class Element(NamedTuple):
    text: str
    start: int  # offsets in the file's text
    end: int


class Segment:
    """One segment: its elements as written, their offsets worked out when a place is asked."""

    __slots__ = ("id", "start", "pieces")

    def __init__(self, start: int, pieces: list[str]):
        self.id, self.start, self.pieces = pieces[0], start, pieces

    @property
    def end(self) -> int:
        return self.start + sum(map(len, self.pieces)) + len(self.pieces) - 1

    @property
    def whole(self) -> Element:
        return Element("", self.start, self.end)

    @property
    def count(self) -> int:
        return len(self.pieces)

    def get(self, number: int) -> Element | None:
        if number >= len(self.pieces) or not self.pieces[number]:
            return None
        at = self.start + sum(len(piece) + 1 for piece in self.pieces[:number])
        return Element(self.pieces[number], at, at + len(self.pieces[number]))

    def text(self, number: int) -> str:
        return self.pieces[number] if number < len(self.pieces) else ""

    def components(self, number: int, separator: str) -> list[Element]:
        found = self.get(number)
        if found is None:
            return []
        parts, at = [], found.start
        for piece in found.text.split(separator):
            parts.append(Element(piece, at, at + len(piece)))
            at += len(piece) + 1
        return parts


def segments(text: str, start: int, separator: str, terminator: str) -> list[Segment]:
    """Every segment from start (whitespace between segments read past)."""
    found = []
    at = start
    for raw in text[start:].split(terminator):
        stripped = raw.lstrip(" \t\r\n")
        if stripped:
            found.append(Segment(at + len(raw) - len(stripped), stripped.split(separator)))
        at += len(raw) + 1
    return found


class _Reader:
    def __init__(self, doc):
        self.doc = doc
        self.lines = LineMap(doc.text)
        self.encounters: list[dict] = []
        self.placed: list[_Placed] = []

    def problem(self, code: str, message: str, piece) -> None:
        self.doc.problems.append(Problem(code, message, span=_span(self.lines, piece)))


def _span(lines: LineMap, piece: Element) -> Span:
    start, end = piece.start, max(piece.end, piece.start + 1)
    line, column = lines.position(start)
    end_line, end_column = lines.position(end)
    return Span(line, column, end_line, end_column)


class _Placed:
    """Where the parts of one encounter read from a claim are written: the segments it was read
    from, asked for a place only when a finding needs one (a claim file has many lines)."""

    __slots__ = ("claim", "date", "billing", "provider", "lines", "component")

    def __init__(self, claim, date, billing, provider, lines, component):
        self.claim, self.date, self.billing, self.provider = claim, date, billing, provider
        self.lines, self.component = lines, component

    def piece(self, rest: tuple) -> Element:
        clm = self.claim.clm
        name = rest[0] if rest else None
        line = _nth(self.lines, rest[1:]) if name == "services" else None
        if line is not None:
            return self.service(line, rest[2:])
        found = {
            "id": lambda: clm.get(1),
            "date": lambda: self.date,
            "patient": lambda: _patient_piece(self.claim.context),
            "payer": lambda: self.claim.context.get("payer"),
            "billing_provider": lambda: _provider_piece((self.billing, None), rest[1:]),
            "provider": lambda: _provider_piece(self.provider, rest[1:]),
            "diagnoses": lambda: self.diagnosis(rest[1:]),
            "services": lambda: self.lines[0]["lx"].whole,
        }.get(name)
        return (found() if found else None) or clm.whole

    def diagnosis(self, rest: tuple) -> Element | None:
        return _nth(self.claim.diagnoses, rest) or (self.claim.hi.whole if self.claim.hi is not None else None)

    def service(self, line: dict, rest: tuple) -> Element:
        sv1: Segment = line["sv1"]
        name = rest[0] if rest else None
        composite = sv1.components(1, self.component)
        if name == "code" and len(composite) > 1:
            return composite[1]
        if name == "modifiers":
            modifiers = [piece for piece in composite[2:6] if piece.text]
            return _nth(modifiers, rest[1:]) or sv1.get(1) or sv1.whole
        if name == "units":
            return sv1.get(4) or sv1.whole
        if name == "diagnosis_pointers":
            pointers = [piece for piece in sv1.components(7, self.component) if piece.text]
            return _nth(pointers, rest[1:]) or sv1.get(7) or Element(sv1.id, sv1.start, sv1.start + len(sv1.id))
        if name == "provider" and line.get("rendering"):
            return _provider_piece(line["rendering"], rest[1:]) or sv1.whole
        return sv1.whole


def _nth(found: list, rest: tuple):
    """The member of found that rest names first, by its index; None where it names none."""
    return found[rest[0]] if rest and isinstance(rest[0], int) and 0 <= rest[0] < len(found) else None


def _patient_piece(context: dict) -> Element | None:
    named = context.get("patient")
    if named is not None:
        return named.whole
    subscriber = context.get("subscriber")
    return subscriber.get(9) if subscriber is not None else None


def _provider_piece(found, rest: tuple) -> Element | None:
    nm1, prv = found if found else (None, None)
    if nm1 is None:
        return None
    if rest[:1] == ("npi",):
        return nm1.get(9) or nm1.whole
    if rest[:1] == ("discipline",) and prv is not None:
        return prv.get(3) or prv.whole
    return nm1.whole


class X12Index:
    """Positions of the encounters of a claim file, by their parts (see _Placed). A claim file
    takes no fixes, so no part is exact."""

    def __init__(self, lines: LineMap, interchange: Element, placed: list[_Placed]):
        self.lines, self.interchange, self.placed = lines, interchange, placed

    def exact(self, parts: tuple):
        return None

    def closest(self, parts: tuple, key: bool) -> Span:
        parts = tuple(parts)
        if len(parts) >= 2 and parts[0] == "encounters" and isinstance(parts[1], int) and parts[1] < len(self.placed):
            return _span(self.lines, self.placed[parts[1]].piece(parts[2:]))
        return _span(self.lines, self.interchange)


def read(doc) -> None:
    text = doc.text
    start = len(text) - len(text.lstrip("\ufeff \t\r\n"))
    reader = _Reader(doc)
    if text[start : start + 3] != "ISA" or len(text) - start < ISA_LENGTH:
        doc.problems.append(Problem("SCH001", "not an X12 interchange: it begins with the 106-character ISA segment", span=Span(1, 1, 1, 2)))
        return
    separator, component, terminator = text[start + 3], text[start + 104], text[start + 105]
    used = _terminator_used(text, start, separator, terminator)
    if used is not None:
        shown = {"\n": "a line break", "\r": "a carriage return"}.get(used, f"'{used}'")
        reader.problem("SCH006", f"ISA's segment terminator (the byte after ISA16) is '{terminator}', but the segments end with {shown}: read with it", Element(terminator, start + 105, start + 106))
        terminator = used
    found = segments(text, start, separator, terminator)
    component = _component_separator(reader, found, component)
    _envelopes(reader, found)
    _claims(reader, found, component)
    doc.root = {"encounters": reader.encounters}
    doc.index = X12Index(reader.lines, Element("", start, start + 3), reader.placed)


def _terminator_used(text: str, start: int, separator: str, declared: str) -> str | None:
    """The terminator the segments after ISA end with, when it is not the declared one: GS
    follows ISA, and what ends GS is what ends every segment."""
    after = start + ISA_LENGTH
    while after < len(text) and text[after] in " \t\r\n":
        after += 1
    if text[after : after + 3] != "GS" + separator:
        return None
    gs_end = text.find(declared, after)
    line_end = min((i for i in (text.find("\n", after), text.find("\r", after)) if i >= 0), default=-1)
    if line_end < 0 or (0 <= gs_end < line_end):
        return None
    if text[line_end:].lstrip("\r\n")[:3] != "ST" + separator:
        return None
    used = "\r" if text[line_end] == "\r" and text[line_end + 1 : line_end + 2] != "\n" else "\n"
    return None if used == declared else used


def _component_separator(reader: _Reader, found: list[Segment], declared: str) -> str:
    """The separator the SV1 composites use; a finding at ISA16 where it is not the declared one."""
    for segment in found:
        if segment.id == "SV1" and segment.get(1) is not None:
            match = _COMPOSITE.match(segment.text(1))
            if match and match.group(1) != declared:
                isa16 = found[0].get(16) or found[0].whole
                reader.problem(
                    "SCH006",
                    f"ISA16 declares '{declared}' as the component separator, but the segments use "
                    f"'{match.group(1)}': read with '{match.group(1)}'",
                    isa16,
                )
                return match.group(1)
            return declared
    return declared


def _envelopes(reader: _Reader, found: list[Segment]) -> None:
    """Counts and control numbers of the interchange (ISA/IEA), groups (GS/GE) and transactions (ST/SE)."""
    isa, groups, transactions, st, gs = found[0], 0, 0, None, None
    count = 0
    for segment in found:
        count += 1
        if segment.id == "GS":
            gs, groups, transactions = segment, groups + 1, 0
        elif segment.id == "ST":
            st, count, transactions = segment, 1, transactions + 1
        elif segment.id == "SE" and st is not None:
            _match(reader, segment, 1, str(count), f"the transaction holds {count} segments (ST to SE)")
            _match(reader, segment, 2, st.text(2), f"ST02 is {st.text(2)}")
            st = None
        elif segment.id == "GE" and gs is not None:
            _match(reader, segment, 1, str(transactions), f"the group holds {transactions} transactions")
            _match(reader, segment, 2, gs.text(6), f"GS06 is {gs.text(6)}")
            gs = None
        elif segment.id == "IEA":
            _match(reader, segment, 1, str(groups), f"the interchange holds {groups} groups")
            _match(reader, segment, 2, isa.text(13), f"ISA13 is {isa.text(13)}")


def _match(reader: _Reader, segment: Segment, number: int, expected: str, why: str) -> None:
    written = segment.text(number)
    if written.lstrip("0") != expected.lstrip("0"):
        piece = segment.get(number) or segment.whole
        reader.problem("SCH006", f"{segment.id}{number:02d} says {written or 'nothing'}, but {why}", piece)


class _Claim:
    """What a claim's segments said, until the next claim or the end of its loops."""

    def __init__(self, clm: Segment, context: dict):
        self.clm, self.context = clm, dict(context)
        self.diagnoses: list[Element] = []
        self.icd9: Element | None = None
        self.hi: Segment | None = None
        self.date: Element | None = None
        self.rendering: tuple | None = None  # (NM1 segment, PRV segment or None)
        self.lines: list[dict] = []


def _claims(reader: _Reader, found: list[Segment], component: str) -> None:
    context: dict = {}  # billing provider, subscriber, patient, payer: what the HL loops said
    claim: _Claim | None = None
    line: dict | None = None
    last_nm1: str | None = None
    for segment in found:
        sid = segment.id
        if sid in ("HL", "SE"):
            _close(reader, claim)
            claim = line = None
            if sid == "HL":
                level = segment.text(3)
                if level == "20":
                    context = {"hl": segment}
                elif level == "22":
                    context = {k: v for k, v in context.items() if k.startswith("billing") or k == "hl"}
        elif sid == "NM1":
            last_nm1 = segment.text(1)
            if line is not None and last_nm1 == "82":
                line["rendering"] = (segment, None)
            elif claim is not None and last_nm1 == "82":
                claim.rendering = (segment, None)
            elif last_nm1 == "85":
                context["billing"] = segment
            elif last_nm1 == "IL":
                context["subscriber"] = segment
            elif last_nm1 == "QC":
                context["patient"] = segment
        elif sid == "PRV":
            if line is not None and line.get("rendering"):
                line["rendering"] = (line["rendering"][0], segment)
            elif claim is not None and claim.rendering is not None:
                claim.rendering = (claim.rendering[0], segment)
            elif segment.text(1) == "BI" and claim is None:
                context["billing_taxonomy"] = segment
        elif sid == "SBR":
            context["payer"] = segment.get(9)
            if segment.text(9) not in CLAIM_FILING:
                what = f"SBR09 is {segment.text(9)}, not a claim filing indicator code" if segment.text(9) else "SBR09, the claim filing indicator, is missing"
                reader.problem("SCH006", what, segment.get(9) or segment.whole)
        elif sid == "CLM":
            _close(reader, claim)
            claim, line = _Claim(segment, context), None
            _required_loops(reader, context, segment)
        elif sid == "HI" and claim is not None:
            _diagnosis_codes(reader, claim, segment, component)
        elif sid == "LX" and claim is not None:
            line = {"lx": segment}
            claim.lines.append(line)
        elif sid == "SV1" and line is not None:
            line["sv1"] = segment
        elif sid == "DTP" and segment.text(1) == "472":
            if line is not None:
                line["date"] = segment.get(3)
            elif claim is not None:
                claim.date = segment.get(3)
    _close(reader, claim)


def _required_loops(reader: _Reader, context: dict, clm: Segment) -> None:
    """The billing provider (2010AA) and the subscriber (2010BA) a claim needs, said once a loop."""
    hl = context.get("hl")
    if "billing" not in context and hl is not None and not context.get("billing_reported"):
        reader.problem("SCH006", "loop 2010AA (NM1*85, the billing provider) is missing", hl.whole)
        context["billing_reported"] = True  # once for the billing provider's loop
    if "subscriber" not in context and not context.get("subscriber_reported"):
        reader.problem("SCH006", f"loop 2010BA (NM1*IL, the subscriber) is missing before claim {clm.text(1)}", clm.whole)
        context["subscriber_reported"] = True


def _diagnosis_codes(reader: _Reader, claim: _Claim, hi: Segment, component: str) -> None:
    """The diagnoses of the diagnosis HI (HI01 ABK, or BK for ICD-9-CM); other HI segments
    (anesthesia procedures BP, conditions BG) are read past."""
    first = hi.components(1, component)
    if not first or first[0].text not in ICD10 + ICD9:
        return
    if first[0].text not in PRINCIPAL:
        reader.problem("SCH006", f"HI01 is {first[0].text}: the first diagnosis is the principal one (ABK)", first[0])
    claim.hi = hi
    for number in range(1, hi.count):
        parts = hi.components(number, component)
        if len(parts) < 2:
            continue
        if parts[0].text in ICD9:
            claim.icd9 = claim.icd9 or parts[0]
        elif parts[0].text in ICD10:
            claim.diagnoses.append(parts[1])
        else:
            reader.problem("SCH006", f"HI{number:02d} qualifier {parts[0].text} is not a diagnosis (ABF)", parts[0])


def _close(reader: _Reader, claim: _Claim | None) -> None:
    """The claim's encounters, one per date of service of its lines."""
    if claim is None:
        return
    clm = claim.clm
    if claim.icd9 is not None:
        reader.problem(
            "SCH007",
            ICD9_MESSAGE,
            claim.icd9,
        )
        return
    if claim.hi is None:
        reader.problem("SCH006", f"claim {clm.text(1)} has no diagnosis (HI with ABK, loop 2300)", clm.whole)
    served = [line for line in claim.lines if "sv1" in line]
    if not served:
        reader.problem("SCH006", f"claim {clm.text(1)} has no service line (loop 2400, LX and SV1)", clm.whole)
        return
    for line in served:
        if line.get("date") is None and claim.date is None:
            reader.problem("SCH006", "the service line has no date of service (DTP*472, loop 2400): it is not read", line["sv1"].whole)
    served = [line for line in served if line.get("date") is not None or claim.date is not None]
    by_date: dict[str, list[dict]] = {}
    for line in served:
        written = line.get("date") or claim.date
        by_date.setdefault(_date(written.text) if written is not None else "", []).append(line)
    for date, lines in by_date.items():
        _encounter(reader, claim, date, lines, len(by_date) > 1)


def _encounter(reader: _Reader, claim: _Claim, date: str, lines: list[dict], several: bool) -> None:
    clm, context = claim.clm, claim.context
    encounter: dict = {"id": clm.text(1) + (f" {date}" if several else "")}
    if date:
        encounter["date"] = date
    patient = context.get("subscriber")
    if patient is not None and patient.get(9) is not None:
        named = context.get("patient")
        who = patient.text(9) + (f" {named.text(3)}, {named.text(4)}".rstrip(", ") if named is not None else "")
        encounter["patient"] = who
    payer = context.get("payer")
    if payer is not None and payer.text:
        encounter["payer"] = f"sbr09:{payer.text}"  # the engine maps it to a profile (formats.payer_of)
    billing = context.get("billing")
    if billing is not None and billing.get(9) is not None:
        encounter["billing_provider"] = {"npi": billing.text(9)}
    rendering = claim.rendering or (billing, context.get("billing_taxonomy"))
    provider = _provider(rendering)
    if provider:
        encounter["provider"] = provider
    encounter["diagnoses"] = [dotted(d.text) for d in claim.diagnoses]
    component = _separator_of(lines[0]["sv1"]) or ":"
    encounter["services"] = [_service(reader, line, component) for line in lines]
    reader.encounters.append(encounter)
    date_piece = lines[0].get("date") or claim.date
    reader.placed.append(_Placed(claim, date_piece, billing, rendering, lines, component))


def _provider(found) -> dict | None:
    nm1, prv = found if found else (None, None)
    if nm1 is None:
        return None
    provider: dict = {}
    if nm1.get(9) is not None:
        provider["npi"] = nm1.text(9)
    if prv is not None and prv.get(3) is not None and discipline(prv.text(3)):
        provider["discipline"] = discipline(prv.text(3))
    return provider


def _service(reader: _Reader, line: dict, component: str) -> dict:
    sv1: Segment = line["sv1"]
    service: dict = {}
    composite = sv1.text(1).split(component) if _separator_of(sv1) else [sv1.text(1)] if sv1.text(1) else []
    if not composite or composite[0] != "HC" or len(composite) < 2:
        reader.problem("SCH006", "SV101 is not an HC (CPT/HCPCS) procedure: HC, its separator and the code", sv1.get(1) or sv1.whole)
    else:
        service["code"] = composite[1]
        service["modifiers"] = [m for m in composite[2:6] if m]
    if sv1.text(3) not in ("UN", ""):
        reader.problem("SCH006", f"SV103 is {sv1.text(3)}: cptlint reads therapy lines billed in units (UN)", sv1.get(3))
    if sv1.text(4):
        service["units"] = whole_number(sv1.text(4))
    pointers = sv1.text(7).split(component) if sv1.text(7) else []
    service["diagnosis_pointers"] = [whole_number(p) for p in pointers if p]
    rendering = line.get("rendering")
    if rendering is not None:
        provider = _provider(rendering)
        if provider:
            service["provider"] = provider
    return service


def _separator_of(sv1: Segment) -> str | None:
    match = _COMPOSITE.match(sv1.text(1))
    return match.group(1) if match else None


def _date(text: str) -> str:
    """D8 CCYYMMDD (or the start of an RD8 range) as an ISO date."""
    day = text.split("-")[0]
    return f"{day[:4]}-{day[4:6]}-{day[6:8]}" if len(day) == 8 and day.isdigit() else text
