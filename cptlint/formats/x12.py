"""X12 837P professional claims (005010X222A1) read into encounters, each part placed at its element.

A file is read a chunk at a time and handed on a part at a time (PART_CLAIMS claims), so memory
stays flat however many claims it holds. Delimiters come from the fixed-width ISA segment
(counting from 0: the element separator at 3, the repetition separator ISA11 at 82, the
component separator ISA16 at 104, the segment terminator at 105). Segments may sit on one line
or one a line; each knows its line and column as the text goes by. A claim (loop 2300, CLM) is an
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

import bisect
import codecs
import io
import re
from collections import defaultdict
from typing import Iterator, NamedTuple

from cptlint.diagnostics import Span
from cptlint.formats.claims import ICD9_MESSAGE, discipline, dotted, whole_number
from cptlint.loader import Document, LineMap, Problem, not_utf8

ISA_LENGTH = 106
CHUNK = 1 << 16  # bytes read at a time: a chunk is split into its segments at once
HEAD = ISA_LENGTH + 8192  # what is read before the delimiters are settled (GS and ST follow ISA)
LONGEST_SEGMENT = 1 << 20  # text without a terminator for longer than this is not an 837P
PART_CLAIMS = 100  # claims handed on at a time
ICD10 = ("ABK", "ABF")  # principal and other diagnosis, ICD-10-CM
ICD9 = ("BK", "BF")
PRINCIPAL = ("ABK", "BK")  # HI01 of the diagnosis HI; other HI segments (BP, BG...) carry no diagnoses
# SBR09, claim filing indicator code (005010 code list)
CLAIM_FILING = frozenset(
    "11 12 13 14 15 16 17 AM BL CH CI DS FI HM LM MA MB MC OF TV VA WC ZZ".split()
)
_COMPOSITE = re.compile(r"HC([^A-Za-z0-9 ])")  # SV101 begins with the HC qualifier and a separator
_NEWLINE = re.compile("\r\n|\r|\n")  # as loader.LineMap counts lines
_SPACE = " \t\r\n"


class Element(NamedTuple):
    text: str
    start: int  # offsets in the file's text
    end: int
    segment: "Segment"  # which knows the line and column of an offset


class Segment:
    """One segment: its elements as written, and where it is (its line, and the offset that
    line begins at); its elements' offsets worked out when a place is asked."""

    __slots__ = ("id", "start", "pieces", "line", "line_start", "breaks")

    def __init__(self, start: int, pieces: list[str], line: int, line_start: int, breaks: list[int] | None):
        self.id, self.start, self.pieces = pieces[0], start, pieces
        self.line, self.line_start = line, line_start
        self.breaks = breaks  # where lines begin inside it (a segment broken over lines): rare

    def position(self, offset: int) -> tuple[int, int]:
        if self.breaks is None or offset < self.breaks[0]:
            return self.line, offset - self.line_start + 1
        row = bisect.bisect_right(self.breaks, offset)
        return self.line + row, offset - self.breaks[row - 1] + 1

    @property
    def end(self) -> int:
        return self.start + sum(map(len, self.pieces)) + len(self.pieces) - 1

    @property
    def whole(self) -> Element:
        return Element("", self.start, self.end, self)

    @property
    def name(self) -> Element:
        return Element(self.id, self.start, self.start + len(self.id), self)

    @property
    def count(self) -> int:
        return len(self.pieces)

    def get(self, number: int) -> Element | None:
        if number >= len(self.pieces) or not self.pieces[number]:
            return None
        at = self.start + sum(map(len, self.pieces[:number])) + number
        return Element(self.pieces[number], at, at + len(self.pieces[number]), self)

    def text(self, number: int) -> str:
        return self.pieces[number] if number < len(self.pieces) else ""

    def components(self, number: int, separator: str) -> list[Element]:
        found = self.get(number)
        if found is None:
            return []
        parts, at = [], found.start
        for piece in found.text.split(separator):
            parts.append(Element(piece, at, at + len(piece), self))
            at += len(piece) + 1
        return parts

    def written(self, separator: str) -> str:
        return separator.join(self.pieces)


def _span(piece: Element) -> Span:
    segment = piece.segment
    line, column = segment.position(piece.start)
    end_line, end_column = segment.position(max(piece.end, piece.start + 1))
    return Span(line, column, end_line, end_column)


class _Text:
    """A stream's UTF-8 text, a chunk at a time (a byte order mark read past); a byte that is
    not UTF-8 ends it, and is SCH001 where it stands."""

    def __init__(self, stream):
        self.stream = stream
        self.decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self.ended = False
        self.started = False  # whether any text was read (a byte order mark comes first alone)
        self.bad_byte: int | None = None  # the value of the byte that could not be read

    def more(self) -> str:
        """The next chunk of text; "" at the end."""
        while not self.ended:
            data = self.stream.read(CHUNK)
            held = self.decoder.getstate()[0] + data  # with the bytes of a character begun before
            try:
                text = self.decoder.decode(data, final=not data)
            except UnicodeDecodeError:
                self.ended = True
                return self._good_part(held)
            self.ended = not data
            if text:
                self.started = True
                return text
        return ""

    def _good_part(self, held: bytes) -> str:
        """The text of held up to its first byte that is not UTF-8, which bad_byte notes."""
        if not self.started and held.startswith(codecs.BOM_UTF8):
            held = held[len(codecs.BOM_UTF8) :]
        try:
            held.decode("utf-8")
        except UnicodeDecodeError as err:
            self.bad_byte = held[err.start]
            return held[: err.start].decode("utf-8")
        return held.decode("utf-8")  # pragma: no cover - the decoder found a bad byte in held


class _Segments:
    """The segments of a text, split by its terminator a chunk at a time, each placed at its
    line and column; lines counted as loader.LineMap counts them (CR LF, CR, LF)."""

    def __init__(self, text: _Text, head: str):
        self.text, self.head = text, head
        self.line, self.line_start = 1, 0  # the line the next piece of text is on, and its start
        self.offset = 0  # of the next piece of text
        self.too_long = False

    def read(self, separator: str, terminator: str) -> Iterator[Segment]:
        rest, after_cr = self.head, False
        while True:
            more = self.text.more()
            pieces = (rest + more).split(terminator)
            rest = pieces.pop() if more else None
            last = len(pieces) - 1
            for number, raw in enumerate(pieces):
                ending = "" if rest is None and number == last else terminator
                body = raw.lstrip(_SPACE)
                if len(body) == len(raw) - 1 and raw[0] == "\n" and not after_cr and "\n" not in body and "\r" not in body:
                    # the common segment: one a line, after a line feed (the rest: _piece)
                    self.line, self.line_start = self.line + 1, self.offset + 1
                    if body:
                        yield Segment(self.offset + 1, body.split(separator), self.line, self.line_start, None)
                    self.offset += len(raw) + len(ending)
                    if ending == "\n":
                        self.line, self.line_start = self.line + 1, self.offset
                else:
                    yield from self._piece(raw, separator, ending, after_cr)
                after_cr = ending == "\r"
            if rest is None:
                return
            if len(rest) > LONGEST_SEGMENT:  # said at its first character (position())
                self.too_long = True
                lead = len(rest) - len(rest.lstrip(_SPACE))
                self._count(rest[:lead], self.offset, after_cr)
                self.offset += lead
                return

    def _piece(self, raw: str, separator: str, ending: str, after_cr: bool) -> Iterator[Segment]:
        """raw: the text up to a terminator (ending, "" for the last); the segment it holds, if any."""
        at = self.offset
        body = raw.lstrip(_SPACE)
        lead = len(raw) - len(body)
        body = body.rstrip("\r\n")  # segments one a line, CR LF, with LF read as the terminator
        if lead:
            self._count(raw[:lead], at, after_cr)
        if body:
            breaks = None
            if "\n" in body or "\r" in body:
                breaks = [at + lead + m.end() for m in _NEWLINE.finditer(body)]
            yield Segment(at + lead, body.split(separator), self.line, self.line_start, breaks)
            if breaks is not None:
                self.line, self.line_start = self.line + len(breaks), breaks[-1]
        tail = raw[lead + len(body) :] + ending
        if "\n" in tail or "\r" in tail:
            self._count(tail, at + lead + len(body), after_cr and not lead and not body)
        self.offset = at + len(raw) + len(ending)

    def _count(self, space: str, at: int, after_cr: bool) -> None:
        """The line breaks in space, which begins at offset at."""
        if after_cr and space.startswith("\n"):  # the LF of a CR LF whose CR was the terminator
            space, at = space[1:], at + 1
            self.line_start = at
        if "\r" not in space:
            count = space.count("\n")
            if count:
                self.line, self.line_start = self.line + count, at + space.rfind("\n") + 1
            return
        ends = [m.end() for m in _NEWLINE.finditer(space)]
        if ends:
            self.line, self.line_start = self.line + len(ends), at + ends[-1]

    def position(self) -> tuple[int, int]:
        """Where the text read so far ends."""
        return self.line, self.offset - self.line_start + 1


def parts(path: str, stream) -> Iterator[Document]:
    """The claims of an 837P stream (binary), as documents of PART_CLAIMS claims each: the
    encounters of their claims (`{"encounters": [...]}`, the first numbered doc.first in the
    file), the problems found while reading them, and their places. The last holds what the
    envelopes' ends said."""
    text = _Text(stream)
    head = ""
    while len(head) < HEAD and not text.ended:
        head += text.more()
    reader = _Reader(path)
    start = len(head) - len(head.lstrip(_SPACE))
    if head[start : start + 3] != "ISA" or len(head) - start < ISA_LENGTH:
        yield reader.unreadable(head, text)
        return
    separator, component, terminator = head[start + 3], head[start + 104], head[start + 105]
    used = _terminator_used(head, start, separator, terminator)
    reader.begin(separator, component, terminator, used)
    found = _Segments(text, head)
    del head
    for segment in found.read(separator, used or terminator):
        reader.see(segment)
        if reader.closed >= PART_CLAIMS:
            yield reader.part()
    yield from reader.end(found, text)


def read(doc) -> None:
    """An 837P read whole (for a caller that wants its values; the engine takes it a part at a time)."""
    encounters, placed, index = [], [], None
    for part in parts(doc.path, io.BytesIO(doc.text.encode("utf-8", "surrogatepass"))):
        doc.problems.extend(part.problems)
        if part.root is not None:
            encounters += part.root["encounters"]
            placed += part.index.placed
            index = part.index
    if index is not None:
        doc.root = {"encounters": encounters}
        doc.index = X12Index(index.interchange, placed, 0, [], index.separator, index.ending)


class _Reader:
    """The loops read so far, and the part being gathered: its encounters, their places, its
    problems and the segments seen since the last part."""

    def __init__(self, path: str):
        self.path = path
        self.encounters: list[dict] = []
        self.placed: list[_Placed] = []
        self.problems: list[Problem] = []
        self.seen: list[Segment] = []
        self.first = 0  # the number in the file of the part's first encounter
        self.closed = 0  # claims closed in this part
        self.read_any = False  # an encounter or a problem, in any part
        self.isa: Segment | None = None
        self.context: dict = {}  # billing provider, subscriber, patient, payer: what the HL loops said
        self.claim: _Claim | None = None
        self.line: dict | None = None
        self.envelopes = _Envelopes()

    def problem(self, code: str, message: str, piece: Element) -> None:
        self.problems.append(Problem(code, message, span=_span(piece)))

    def part(self) -> Document:
        doc = Document(self.path, "x12", "", {"encounters": self.encounters}, self.problems)
        doc.index = X12Index(self.isa.name, self.placed, self.first, self.seen, self.separator, self.ending)
        doc.first = self.first
        self.read_any = self.read_any or bool(self.encounters or self.problems)
        self.first += len(self.encounters)
        self.encounters, self.placed, self.problems, self.seen, self.closed = [], [], [], [], 0
        return doc

    def unreadable(self, head: str, text: _Text) -> Document:
        """The one document of a stream that is not an interchange, or not UTF-8 before it is one."""
        doc = Document(self.path, "x12", "")
        if text.bad_byte is not None:
            doc.problems.append(not_utf8(text.bad_byte, *LineMap(head).position(len(head))))
        else:
            message = "not an X12 interchange: it begins with the 106-character ISA segment"
            doc.problems.append(Problem("SCH001", message, span=Span(1, 1, 1, 2)))
        return doc

    def begin(self, separator: str, component: str, terminator: str, used: str | None) -> None:
        self.separator, self.component, self.terminator, self.used = separator, component, terminator, used
        self.ending = "" if (used or terminator) in "\r\n" else (used or terminator)  # what a line shows after a segment
        self.component_settled = False

    def see(self, segment: Segment) -> None:
        self.seen.append(segment)
        if self.isa is None:
            self.isa = segment
            if self.used is not None:
                shown = {"\n": "a line break", "\r": "a carriage return"}.get(self.used, f"'{self.used}'")
                self.problem(
                    "SCH006",
                    f"ISA's segment terminator (the byte after ISA16) is '{self.terminator}', but the segments end with {shown}: read with it",
                    Element(self.terminator, segment.start + 105, segment.start + 106, segment),
                )
        self.envelopes.see(self, segment)
        claim, sid = self.claim, segment.id
        if claim is not None:
            claim.segments.append(segment)
        if sid in ("HL", "SE"):
            self.close()
            if sid == "HL":
                level = segment.text(3)
                if level == "20":
                    self.context = {"hl": segment}
                elif level == "22":
                    self.context = {k: v for k, v in self.context.items() if k.startswith("billing") or k == "hl"}
        elif sid == "NM1":
            kind = segment.text(1)
            if self.line is not None and kind == "82":
                self.line["rendering"] = (segment, None)
            elif claim is not None and kind == "82":
                claim.rendering = (segment, None)
            elif kind == "85":
                self.context["billing"] = segment
            elif kind == "IL":
                self.context["subscriber"] = segment
            elif kind == "QC":
                self.context["patient"] = segment
        elif sid == "PRV":
            if self.line is not None and self.line.get("rendering"):
                self.line["rendering"] = (self.line["rendering"][0], segment)
            elif claim is not None and claim.rendering is not None:
                claim.rendering = (claim.rendering[0], segment)
            elif segment.text(1) == "BI" and claim is None:
                self.context["billing_taxonomy"] = segment
        elif sid == "SBR":
            self.context["payer"] = segment.get(9)
            if segment.text(9) not in CLAIM_FILING:
                what = f"SBR09 is {segment.text(9)}, not a claim filing indicator code" if segment.text(9) else "SBR09, the claim filing indicator, is missing"
                self.problem("SCH006", what, segment.get(9) or segment.whole)
        elif sid == "CLM":
            self.close()
            self.claim = _Claim(segment, self.context)
            _required_loops(self, self.context, segment)
        elif sid == "HI" and claim is not None:
            claim.his.append(segment)  # read once the component separator is settled (at the first SV1)
        elif sid == "LX" and claim is not None:
            self.line = {"lx": segment}
            claim.lines.append(self.line)
        elif sid == "SV1" and self.line is not None:
            self.line["sv1"] = segment
            if not self.component_settled:
                self._settle_component(segment)
        elif sid == "DTP" and segment.text(1) == "472":
            if self.line is not None:
                self.line["date"] = segment.get(3)
            elif claim is not None:
                claim.date = segment.get(3)

    def _settle_component(self, sv1: Segment) -> None:
        """The separator the SV1 composites use; a finding at ISA16 where it is not the declared one."""
        if sv1.get(1) is None:
            return
        self.component_settled = True
        match = _COMPOSITE.match(sv1.text(1))
        if match and match.group(1) != self.component:
            self.problem(
                "SCH006",
                f"ISA16 declares '{self.component}' as the component separator, but the segments use "
                f"'{match.group(1)}': read with '{match.group(1)}'",
                self.isa.get(16) or self.isa.whole,
            )
            self.component = match.group(1)

    def close(self) -> None:
        if self.claim is not None:
            _close(self, self.claim)
            self.closed += 1
        self.claim = self.line = None

    def end(self, found: _Segments, text: _Text) -> Iterator[Document]:
        """The last part; and where the text could not be read to its end, a document of its
        own that says so (the claims before it are read)."""
        self.close()
        stop = None  # why the text was not read to its end
        line, column = found.position()
        if found.too_long:
            message = f"not read past here: more than {LONGEST_SEGMENT:,} characters without a segment terminator"
            stop = Problem("SCH001", message, span=Span(line, column, line, column + 1))
        elif text.bad_byte is not None:
            stop = not_utf8(text.bad_byte, line, column)
        if stop is None and not self.read_any and not self.encounters and not self.problems:
            self.problems.append(Problem("SCH004", "the interchange holds no claim", span=_span(self.isa.name)))
        yield self.part()
        if stop is not None:
            yield Document(self.path, "x12", "", problems=[stop])


class _Envelopes:
    """Counts and control numbers of the interchange (ISA/IEA), groups (GS/GE) and transactions (ST/SE)."""

    def __init__(self):
        self.st = self.gs = None
        self.groups = self.transactions = self.count = 0

    def see(self, reader: _Reader, segment: Segment) -> None:
        self.count += 1
        sid = segment.id
        if sid == "GS":
            self.gs, self.groups, self.transactions = segment, self.groups + 1, 0
        elif sid == "ST":
            self.st, self.count, self.transactions = segment, 1, self.transactions + 1
        elif sid == "SE" and self.st is not None:
            _match(reader, segment, 1, str(self.count), f"the transaction holds {self.count} segments (ST to SE)")
            _match(reader, segment, 2, self.st.text(2), f"ST02 is {self.st.text(2)}")
            self.st = None
        elif sid == "GE" and self.gs is not None:
            _match(reader, segment, 1, str(self.transactions), f"the group holds {self.transactions} transactions")
            _match(reader, segment, 2, self.gs.text(6), f"GS06 is {self.gs.text(6)}")
            self.gs = None
        elif sid == "IEA":
            _match(reader, segment, 1, str(self.groups), f"the interchange holds {self.groups} groups")
            _match(reader, segment, 2, reader.isa.text(13), f"ISA13 is {reader.isa.text(13)}")


def _match(reader: _Reader, segment: Segment, number: int, expected: str, why: str) -> None:
    written = segment.text(number)
    if written.lstrip("0") != expected.lstrip("0"):
        piece = segment.get(number) or segment.whole
        reader.problem("SCH006", f"{segment.id}{number:02d} says {written or 'nothing'}, but {why}", piece)


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


class X12Index:
    """Positions of the encounters of a part of a claim file (numbered from first), by their
    parts (see _Placed), and the text of the segment a finding is in. A claim file takes no
    fixes, so no part is exact."""

    def __init__(self, interchange: Element, placed: list, first: int, seen: list, separator: str, ending: str):
        self.interchange, self.placed, self.first, self.seen = interchange, placed, first, seen
        self.separator, self.ending = separator, ending
        self._by_line: dict | None = None

    def exact(self, parts: tuple):
        return None

    def closest(self, parts: tuple, key: bool) -> Span:
        parts = tuple(parts)
        at = parts[1] - self.first if len(parts) >= 2 and parts[0] == "encounters" and isinstance(parts[1], int) else -1
        if 0 <= at < len(self.placed):
            return _span(self.placed[at].piece(parts[2:]))
        return _span(self.interchange)

    def excerpt(self, span: Span):
        """(column, text) of the segment at span's start, for the text report's excerpt; None
        where this part has none there."""
        if self._by_line is None:
            self._by_line = defaultdict(list)
            for segment in self.seen + [s for placed in self.placed for s in placed.segments()]:
                if segment.breaks is None:
                    self._by_line[segment.line].append(segment)
        for segment in self._by_line.get(span.line, ()):
            column = segment.start - segment.line_start + 1
            text = segment.written(self.separator) + self.ending
            if column <= span.column <= column + len(text):
                return column, text
        return None


class _Placed:
    """Where the parts of one encounter read from a claim are written: the segments it was read
    from, asked for a place only when a finding needs one (a claim file has many lines)."""

    __slots__ = ("claim", "date", "billing", "provider", "lines", "component")

    def __init__(self, claim, date, billing, provider, lines, component):
        self.claim, self.date, self.billing, self.provider = claim, date, billing, provider
        self.lines, self.component = lines, component

    def segments(self) -> list[Segment]:
        """The claim's segments and those of the loops around it that it reads."""
        around = [v.segment if isinstance(v, Element) else v for v in self.claim.context.values()]
        return self.claim.segments + [s for s in around if isinstance(s, Segment)]

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
            return _nth(pointers, rest[1:]) or sv1.get(7) or sv1.name
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


class _Claim:
    """What a claim's segments said, until the next claim or the end of its loops."""

    def __init__(self, clm: Segment, context: dict):
        self.clm, self.context = clm, dict(context)
        self.segments: list[Segment] = [clm]
        self.his: list[Segment] = []
        self.diagnoses: list[Element] = []
        self.icd9: Element | None = None
        self.hi: Segment | None = None
        self.date: Element | None = None
        self.rendering: tuple | None = None  # (NM1 segment, PRV segment or None)
        self.lines: list[dict] = []


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


def _close(reader: _Reader, claim: _Claim) -> None:
    """The claim's encounters, one per date of service of its lines."""
    clm = claim.clm
    for hi in claim.his:
        _diagnosis_codes(reader, claim, hi, reader.component)
    if claim.icd9 is not None:
        reader.problem("SCH007", ICD9_MESSAGE, claim.icd9)
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
