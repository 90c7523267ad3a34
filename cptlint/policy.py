"""The billing policy facts in rules/: codes, pair edits, modifiers, regions, techniques, payers.

Each file is checked against its definition in schemas/rules.schema.json. A user's own rules
directories (config `extend-rules`) are read after the built-in one and win by name: a code by
its code, a pair edit by its two codes, a payer profile by its file name, a region, alias or
technique by its name.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import stat
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from cptlint import data, loader, schema
from cptlint.validator import compile_schema

FILE_KINDS = {
    "codes.yaml": "codes",
    "ptp.yaml": "ptp",
    "modifiers.yaml": "modifiers",
    "regions.yaml": "regions",
    "techniques.yaml": "techniques",
    "mue.yaml": "mue",
}


class PolicyError(Exception):
    """A rules file that cannot be used; the message names the file and the place."""


class CodeInfo(NamedTuple):
    code: str
    label: str
    timed: bool
    category: str
    therapy: str = "never"
    one_on_one: bool = False
    spinal_regions: tuple[int, int] | None = None
    extraspinal: bool = False

    @property
    def is_spinal_cmt(self) -> bool:
        return self.spinal_regions is not None


class PairEdit(NamedTuple):
    column1: str
    column2: str
    modifier_indicator: int
    source: str
    effective: str | None = None
    deleted: str | None = None
    order: str | None = None  # "unverified": which code is column 1 no source says

    @property
    def order_known(self) -> bool:
        return self.order is None

    def applies_on(self, date: str) -> bool:
        """ISO dates compare as text. Indicator 9 marks an edit deleted back to its start."""
        if self.modifier_indicator == 9:
            return False
        if self.effective and date < self.effective:
            return False
        return not (self.deleted and date >= self.deleted)


class Payer(NamedTuple):
    name: str
    time_rule: str
    label: str = ""
    therapy_modifiers: str = "optional"
    assistant_modifiers: str = "optional"
    cmt_active_treatment: str = "optional"
    cmt_primary_diagnoses: tuple[str, ...] = ()
    modality_cap: int | None = None
    covered_by_discipline: dict = {}  # read, never written: one empty mapping serves every payer
    therapy_modifiers_for: tuple[str, ...] | None = None  # the disciplines GP/GO/GN are asked of; None: all
    therapy_modifiers_missing: str = "error"  # how grave a missing one is
    code_status: dict = {}  # code -> {status, instead, disciplines, source}: what the payer pays of it

    @property
    def title(self) -> str:
        return self.label or self.name


class MueEdit(NamedTuple):
    """A Medically Unlikely Edit: most units per line (indicator 1) or per date of service."""

    value: int
    per_line: bool = False


class Region(NamedTuple):
    name: str
    spinal: bool
    dysfunction: str | None = None


@dataclass
class Policy:
    codes: dict[str, CodeInfo]
    # every row of a pair, in any order of dates: a dict, or (CMS tables loaded, a cache kept)
    # pairtable.Pairs, which looks the CMS table's pairs up in SQLite as they are asked for
    pairs: Mapping[tuple[str, str], tuple[PairEdit, ...]]
    modifiers: dict
    regions: dict[str, Region]
    aliases: dict[str, str]
    techniques: dict[str, str]
    mue: dict[str, MueEdit]
    payers: dict[str, Payer]
    fingerprint: str
    loaded: tuple = ()  # the CMS files read: {"file", "kind", "rows"} each
    replaced: tuple = ()  # the built-in pairs (column 1, column 2) a CMS PTP file replaced

    def region(self, name: str) -> Region | None:
        """The region a region or body-site name stands for."""
        return self.regions.get(self.aliases.get(name, name))

    def region_names(self) -> list[str]:
        return sorted(set(self.regions) | set(self.aliases))

    def pair_edit(self, first: str, second: str, date: str) -> PairEdit | None:
        """The row of the two codes' pair edit (in either order) in force on date: of the rows
        whose dates hold it, the one that took effect last, whatever the order of the rows."""
        in_force = [
            edit for key in ((first, second), (second, first)) for edit in self.pairs.get(key, ()) if edit.applies_on(date)
        ]
        return max(in_force, key=lambda edit: edit.effective or "", default=None)

    def code(self, code: str) -> CodeInfo | None:
        return self.codes.get(code)


def load_policy(
    extend=(), mue_file: Path | None = None, ptp_files=(), builtin: Path | None = None, store=None, project: Path | None = None
) -> Policy:
    """The policy from the built-in rules directory (or `builtin`), then `extend` in order.
    Loaded once per process while none of its files changes; with a store (the result cache),
    once until one of them does. project: the folder a link in an `extend` directory may lead
    into (the configuration's); without it, each directory's own."""
    builtin = Path(builtin or data.rules_dir()).resolve()
    extend = tuple(Path(p).resolve() for p in extend)
    mue_file = Path(mue_file).resolve() if mue_file else None
    ptp_files = tuple(Path(p).resolve() for p in ptp_files)
    stamp = _stamp(builtin, *extend, *filter(None, (mue_file,)), *ptp_files)
    if store is None:
        return _load(builtin, extend, mue_file, ptp_files, stamp, project)
    from cptlint.cache import digest

    key = digest(store.salt.encode(), b"policy", repr(stamp).encode("utf-8", "surrogatepass"))
    policy = _from_cache(store.read(key), store)
    if policy is None:
        raw, fingerprint = _gather(builtin, extend, mue_file, ptp_files, project)
        cms = raw.pop("cms_pairs")
        table = _cms_table(store, fingerprint, cms) if cms else None
        if table is None:  # no CMS table, or no room for it in the cache: its rows stay in memory
            raw["pairs"].update(cms)
        rows = [[row.get(field) for field in PAIR_FIELDS] for specs in raw["pairs"].values() for row in specs]
        shown = {"file": table.path.name, "rows": table.rows, "pairs": len(table)} if table else None
        entry = {"raw": {**raw, "pairs": rows, "cms_table": shown}, "fingerprint": fingerprint}
        store.write(key, json.dumps(entry, separators=(",", ":")).encode())
        policy = _build(raw, fingerprint, table)
    return policy


def _cms_table(store, fingerprint: str, pairs: dict):
    """The CMS pairs written to an SQLite table in the cache, or None where it cannot be."""
    import sqlite3

    from cptlint.cache import digest
    from cptlint.pairtable import DamagedTable, PairTable, write_table

    key = digest(store.salt.encode(), b"ptp-table", fingerprint.encode())
    folder = store.folder(key)
    if folder is None:
        return None
    try:
        write_table(folder / key, pairs)
        return PairTable.open(folder / key, sum(len(rows) for rows in pairs.values()), len(pairs))
    except (OSError, DamagedTable, sqlite3.Error):
        return None


def _from_cache(entry, store) -> Policy | None:
    """The policy a cache entry holds, when every section of it is what the rules schema allows
    (an entry is data, checked as a rules file is; anything else is a miss)."""
    try:
        raw, fingerprint = dict(entry["raw"]), entry["fingerprint"]
        sections = {
            "codes": {"codes": raw["codes"]},
            "modifiers": raw["modifiers"],
            "regions": {"regions": raw["regions"], "aliases": raw["aliases"]},
            "techniques": {"techniques": raw["techniques"]},
        }
        if not isinstance(fingerprint, str) or not all(_rules_check(kind)(value) for kind, value in sections.items()):
            return None
        if not _pair_rows_hold(raw["pairs"]):
            return None
        table = _cached_table(raw.pop("cms_table"), store)
        if table is False:
            return None
        if not all(isinstance(spec, dict) and _rules_check("payer")(spec) for spec in raw["payers"].values()):
            return None
        mue = raw["mue"]
        if not all(type(v) is list and len(v) == 2 and type(v[0]) is int and type(v[1]) is bool for v in mue.values()):
            return None
        raw["mue"] = {code: MueEdit(*value) for code, value in mue.items()}
        pairs: dict = {}
        for row in raw["pairs"]:
            pairs.setdefault((row[0], row[1]), []).append(dict(zip(PAIR_FIELDS, row)))
        raw["pairs"] = pairs
        if not all(isinstance(item, dict) and set(item) == {"file", "kind", "rows"} for item in raw["loaded"]):
            return None
        if not all(isinstance(key, list) and len(key) == 2 and all(isinstance(c, str) for c in key) for key in raw["replaced"]):
            return None
        return _build(raw, fingerprint, table)
    except (KeyError, TypeError, ValueError, AttributeError, PolicyError):
        return None


def _cached_table(shown, store):
    """The CMS table a cached policy names (None when it names none; False when it is not there
    or not what cptlint wrote)."""
    if shown is None:
        return None
    from cptlint.pairtable import DamagedTable, PairTable

    name, rows, pairs = shown["file"], shown["rows"], shown["pairs"]
    if not (type(name) is str and re.fullmatch(r"[0-9a-f]{64}", name) and type(rows) is int and type(pairs) is int):
        return False
    folder = store.folder(name)
    try:
        return PairTable.open(folder / name, rows, pairs) if folder is not None else False
    except (OSError, DamagedTable):
        return False


# as a cached row lists them; "order" is "unverified" where no source gives the column order
PAIR_FIELDS = ("column1", "column2", "modifier_indicator", "effective", "deleted", "source", "order")
_ISO_DATE = re.compile(r"[12][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])\Z")


def _pair_rows_hold(rows) -> bool:
    """Whether cached pair rows are what the rules schema allows of a pair: checked by hand, as a
    full CMS table is millions of rows and the schema's validator would take minutes."""
    code, date = _CODE.match, _ISO_DATE.match
    for row in rows:
        if type(row) is not list or len(row) != len(PAIR_FIELDS):
            return False
        first, second, indicator, effective, deleted, source, order = row
        if not (type(first) is str and code(first) and type(second) is str and code(second)):
            return False
        if indicator not in (0, 1, 9) or type(indicator) is not int:
            return False
        if not all(value is None or (type(value) is str and date(value)) for value in (effective, deleted)):
            return False
        if not (type(source) is str and source) or order not in (None, "unverified"):
            return False
    return True


def _stamp(*paths: Path) -> tuple:
    """What changes when a rules file is edited, added or removed: names, sizes, times."""
    stamp = []
    for path in paths:
        files = sorted(path.rglob("*.y*ml")) if path.is_dir() else [path]
        for file in files:
            try:
                info = file.stat()
            except OSError:
                continue
            stamp.append((str(file), info.st_size, info.st_mtime_ns))
    return tuple(stamp)


@lru_cache(maxsize=8)
def _load(builtin: Path, extend: tuple[Path, ...], mue_file: Path | None, ptp_files: tuple[Path, ...], stamp: tuple, project=None) -> Policy:
    raw, fingerprint = _gather(builtin, extend, mue_file, ptp_files, project)
    raw["pairs"].update(raw.pop("cms_pairs"))
    return _build(raw, fingerprint)


def _gather(builtin: Path, extend: tuple[Path, ...], mue_file: Path | None, ptp_files: tuple[Path, ...], project=None) -> tuple[dict, str]:
    """The rules data of every file, merged, as plain values; and its fingerprint."""
    raw: dict = {"codes": {}, "pairs": {}, "modifiers": {}, "regions": {}, "aliases": {}, "techniques": {}, "mue": {}, "payers": {}}
    digest = hashlib.sha256()
    for directory in (builtin, *extend):
        if not directory.is_dir():
            raise PolicyError(f"{directory}: extend-rules directory does not exist")
        for path in sorted(directory.rglob("*.y*ml")):
            relative = path.relative_to(directory).as_posix()
            kind = "payer" if relative.startswith("payers/") else FILE_KINDS.get(relative)
            if kind is None:
                raise PolicyError(f"{path}: not a rules file (expected one of {', '.join(FILE_KINDS)} or payers/*.yaml)")
            content = _rules_file(path, directory, project if directory != builtin and project is not None else directory)
            digest.update(relative.encode() + b"\0" + content + b"\0")
            _merge(raw, kind, path, _read(path, content, kind))
    raw["mue"] = {code: MueEdit(value) for code, value in raw["mue"].items()}
    mue_rows = 0
    if mue_file is not None:
        for label, content in _cms_texts(mue_file, "MUE file", ".csv"):
            digest.update(b"mue\0" + content)
            edits = read_mue_csv(label, content)
            mue_rows += len(edits)
            raw["mue"].update(edits)
    raw["loaded"], raw["replaced"] = [], []
    if mue_file is not None:
        raw["loaded"].append({"file": str(mue_file), "kind": "mue", "rows": mue_rows})
    from_files: dict[tuple[str, str], list[dict]] = {}
    for ptp_file in ptp_files:
        for label, content in _cms_texts(ptp_file, "PTP file", ".txt"):
            digest.update(b"ptp\0" + label.encode() + b"\0" + content)
            rows = read_ptp_text(label, content)
            raw["loaded"].append({"file": label, "kind": "ptp", "rows": len(rows)})
            for row in rows:
                from_files.setdefault((row["column1"], row["column2"]), []).append(row)
    # The CMS table is the authority on a pair it holds: a built-in row for the same two codes,
    # in either order, gives way to it.
    for first, second in from_files:
        for key in ((first, second), (second, first)):
            if key in raw["pairs"]:
                del raw["pairs"][key]
                raw["replaced"].append(list(key))
    raw["cms_pairs"] = from_files
    return raw, digest.hexdigest()


MAX_RULES_FILE = 256 << 20  # bytes: the CMS PTP files are some 30 MB, a rules file kilobytes


def _rules_file(path: Path, directory: Path, allowed: Path) -> bytes:
    """A rules file's bytes. A link in a rules directory must lead to a file inside allowed
    (the project, or the directory itself): a `codes.yaml -> ~/.git-credentials` would print
    the secret in its schema errors."""
    if path.is_symlink():
        try:
            real = os.path.realpath(path, strict=True)
        except OSError:
            raise PolicyError(f"{path}: a symbolic link that leads nowhere (dangling or looping)") from None
        top = os.path.realpath(allowed)
        if not (real + os.sep).startswith(top.rstrip(os.sep) + os.sep):
            raise PolicyError(f"{path}: a symbolic link that leads outside {allowed}")
    return _read_bytes(path, "rules file")


def _read_bytes(path: Path, what: str) -> bytes:
    """A file's bytes, when it is a regular file of a sensible size (never a device or a pipe)."""
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise PolicyError(f"{path}: the {what} is not a regular file")
        if info.st_size > MAX_RULES_FILE:
            raise PolicyError(f"{path}: the {what} is {info.st_size:,} bytes, more than {MAX_RULES_FILE:,}")
        return path.read_bytes()
    except OSError as err:
        raise PolicyError(f"{path}: cannot read the {what}: {err.strerror or err}") from None


_CODE = re.compile(r"^([0-9]{4}[0-9A-Z]|[A-Z][0-9]{4})$")  # 97140, 0591T, 0001U, 0001A, 0001M, G0283
_DATE = re.compile(r"[12][0-9]{3}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])\Z")


def _cms_texts(path: Path, what: str, suffix: str) -> list[tuple[str, bytes]]:
    """(label, bytes) of each table in a CMS file: the file itself, or each `suffix` member of
    the quarterly zip CMS publishes. An .xlsx is refused: CMS publishes the same table as text."""
    name = path.name.lower()
    if name.endswith((".xlsx", ".xls")):
        raise PolicyError(f"{path}: an Excel {what} is not read: use the {suffix.upper()} CMS publishes beside it (in the same zip)")
    content = _read_bytes(path, what)
    if not name.endswith(".zip"):
        return [(str(path), content)]
    import io
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            members = [m for m in archive.infolist() if m.filename.lower().endswith(suffix) and not m.is_dir()]
            if not members:
                raise PolicyError(f"{path}: the zip holds no {suffix.upper()} {what}")
            if sum(m.file_size for m in members) > MAX_RULES_FILE:
                raise PolicyError(f"{path}: the zip's {what} is larger than {MAX_RULES_FILE:,} bytes unpacked")
            return [(f"{path}:{m.filename}", archive.read(m)) for m in members]
    except (zipfile.BadZipFile, OSError, RuntimeError, ValueError) as err:
        raise PolicyError(f"{path}: not a zip CMS publishes: {err}") from None


def _cms_lines(content: bytes) -> list[str]:
    """CMS tables are Latin-1 text with CRLF line ends."""
    return content.decode("latin-1").splitlines()


def read_ptp_text(label, content: bytes) -> list[dict]:
    """A CMS NCCI practitioner PTP table (ccipra-v*-f*.TXT): the AMA notice and the header CMS
    wraps over four lines, then tab-separated rows of column 1, column 2, the pre-1996 "*"
    flag, effective date, deletion date ("*" for none), modifier indicator (0, 1 or 9) and
    rationale. Every row is read: a line after the first row that is not a row is an error
    naming the line, and so is a table with no row at all."""
    pairs = []
    name = Path(str(label)).name
    for number, line in enumerate(_cms_lines(content), start=1):
        fields = [f.strip() for f in line.split("\t")]
        if not pairs and not (len(fields) >= 5 and _CODE.match(fields[0]) and _CODE.match(fields[1])):
            continue  # the notice and the header, above the first row
        if not any(fields):
            continue
        row = _ptp_row(fields)
        if row is None:
            raise PolicyError(f"{label}:{number}: not a PTP row (column 1, column 2, *, effective, deletion, indicator): {line[:80]!r}")
        row["source"] = f"{name} line {number}"
        pairs.append(row)
    if not pairs:
        raise PolicyError(f"{label}: holds no PTP row")
    return pairs


def _ptp_row(fields: list[str]) -> dict | None:
    if len(fields) < 5 or not (_CODE.match(fields[0]) and _CODE.match(fields[1])):
        return None
    rest = fields[2:]
    if rest[0] in ("*", ""):
        rest = rest[1:]
    if len(rest) < 3 or not _DATE.match(rest[0]) or not (rest[1] in ("*", "") or _DATE.match(rest[1])) or rest[2] not in ("0", "1", "9"):
        return None
    return {
        "column1": fields[0],
        "column2": fields[1],
        "modifier_indicator": int(rest[2]),
        "effective": _iso(rest[0]),
        "deleted": None if rest[1] in ("*", "") else _iso(rest[1]),
    }


def _iso(yyyymmdd: str) -> str:
    return f"{yyyymmdd[:4]}-{yyyymmdd[4:6]}-{yyyymmdd[6:]}"


def read_mue_csv(label, content: bytes) -> dict[str, MueEdit]:
    """The CMS practitioner MUE table: a quoted AMA notice over several lines, the header
    `"HCPCS/<line break>CPT Code",Practitioner Services MUE Values,MUE Adjudication Indicator,
    MUE Rationale`, then a row a code: its MUE value (a whole number from 0) and indicator (1 a
    line, 2 or 3 a date of service, as text such as `2 Date of Service Edit: Policy`). Every
    row is read; one that cannot be is an error naming the line."""
    import csv
    import io

    reader = csv.reader(io.StringIO(content.decode("latin-1"), newline=""))
    edits: dict[str, MueEdit] = {}
    value_at = indicator_at = None
    try:
        for row in reader:
            cells = [c.strip() for c in row]
            if value_at is None:
                lowered = [c.lower() for c in cells]
                value_at = next((i for i, c in enumerate(lowered) if "mue value" in c), None)
                indicator_at = next((i for i, c in enumerate(lowered) if "adjudication indicator" in c), None)
                if value_at is None or indicator_at is None:
                    value_at = indicator_at = None
                continue
            if not any(cells):
                continue
            line = reader.line_num
            code = cells[0]
            if not _CODE.match(code) or len(cells) <= max(value_at, indicator_at):
                raise PolicyError(f"{label}:{line}: not a row of the CMS MUE table (code, MUE value, indicator)")
            if not cells[value_at].isdigit():
                raise PolicyError(f"{label}:{line}: the MUE value of {code} is not a whole number from 0: {cells[value_at]!r}")
            indicator = cells[indicator_at][:1]
            if indicator not in ("1", "2", "3"):
                raise PolicyError(f"{label}:{line}: the MUE adjudication indicator of {code} is not 1, 2 or 3: {cells[indicator_at]!r}")
            edits[code] = MueEdit(int(cells[value_at]), per_line=indicator == "1")
    except csv.Error as err:
        raise PolicyError(f"{label}:{reader.line_num}: not a row of the CMS MUE table: {err}") from None
    if value_at is None:
        raise PolicyError(f"{label}: no header row with MUE values and adjudication indicators")
    if not edits:
        raise PolicyError(f"{label}: holds no MUE row")
    return edits


def _read(path: Path, content: bytes, kind: str) -> dict:
    doc = loader.load(str(path), content)
    if doc.problems:
        problem = doc.problems[0]
        span = problem.span or doc.span(problem.parts, problem.key)
        raise PolicyError(f"{path}:{span.line}:{span.column}: {problem.message}")
    root = data.schema("rules.schema.json")
    definition = {"$ref": f"#/$defs/{kind}"}
    value = schema.apply_types(doc.root, definition, root)
    if _rules_check(kind)(value):
        return value
    errors = list(schema.validator_for(_rules_schema(kind)).iter_errors(value))
    if errors:
        lines = []
        for error in errors[:5]:
            parts = tuple(error.absolute_path)
            span = doc.span(parts)
            where = "/".join(str(p) for p in parts) or "(top)"
            lines.append(f"{path}:{span.line}:{span.column}: {where}: {error.message}")
        raise PolicyError("\n".join(lines))
    return value


@lru_cache(maxsize=None)
def _rules_schema(kind: str) -> dict:
    root = copy.deepcopy(data.schema("rules.schema.json"))
    root["$ref"] = f"#/$defs/{kind}"
    return root


@lru_cache(maxsize=None)
def _rules_check(kind: str):
    return compile_schema(_rules_schema(kind))


def _merge(raw: dict, kind: str, path: Path, value: dict) -> None:
    if kind == "codes":
        raw["codes"].update(value["codes"])
    elif kind == "ptp":
        for pair in value["pairs"]:
            raw["pairs"][(pair["column1"], pair["column2"])] = [pair]
    elif kind == "modifiers":
        raw["modifiers"].update(value)
    elif kind == "regions":
        raw["regions"].update(value.get("regions", {}))
        raw["aliases"].update(value.get("aliases", {}))
    elif kind == "techniques":
        raw["techniques"].update(value["techniques"])
    elif kind == "mue":
        raw["mue"].update(value["mue"])
    else:
        raw["payers"][path.stem] = value


def _build(raw: dict, fingerprint: str, table=None) -> Policy:
    regions = {name: Region(name, **spec) for name, spec in raw["regions"].items()}
    for alias, target in raw["aliases"].items():
        if target not in regions:
            raise PolicyError(f'region alias "{alias}" maps to "{target}", which is not a region')
    return Policy(
        codes={code: _code_info(code, spec) for code, spec in raw["codes"].items()},
        pairs=_pairs({key: tuple(PairEdit(**spec) for spec in specs) for key, specs in raw["pairs"].items()}, table),
        modifiers=raw["modifiers"],
        regions=regions,
        aliases=raw["aliases"],
        techniques=raw["techniques"],
        mue=raw["mue"],
        payers={name: _payer(name, spec) for name, spec in raw["payers"].items()},
        fingerprint=fingerprint,
        loaded=tuple(raw.get("loaded", ())),
        replaced=tuple(tuple(key) for key in raw.get("replaced", ())),
    )


def _pairs(rules: dict, table):
    if table is None:
        return rules
    from cptlint.pairtable import Pairs

    return Pairs(rules, table)


def _code_info(code: str, spec: dict) -> CodeInfo:
    spinal = spec.get("spinal_regions")
    return CodeInfo(code, **{**spec, "spinal_regions": tuple(spinal) if spinal else None})


def _payer(name: str, spec: dict) -> Payer:
    spec = {**spec, "cmt_primary_diagnoses": tuple(spec.get("cmt_primary_diagnoses", ()))}
    if "therapy_modifiers_for" in spec:
        spec["therapy_modifiers_for"] = tuple(spec["therapy_modifiers_for"])
    return Payer(name, **spec)
