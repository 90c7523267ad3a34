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
    pairs: dict[tuple[str, str], PairEdit]
    modifiers: dict
    regions: dict[str, Region]
    aliases: dict[str, str]
    techniques: dict[str, str]
    mue: dict[str, MueEdit]
    payers: dict[str, Payer]
    fingerprint: str

    def region(self, name: str) -> Region | None:
        """The region a region or body-site name stands for."""
        return self.regions.get(self.aliases.get(name, name))

    def region_names(self) -> list[str]:
        return sorted(set(self.regions) | set(self.aliases))

    def pair_edit(self, first: str, second: str, date: str) -> PairEdit | None:
        for key in ((first, second), (second, first)):
            edit = self.pairs.get(key)
            if edit is not None and edit.applies_on(date):
                return edit
        return None

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
    policy = _from_cache(store.read(key))
    if policy is None:
        raw, fingerprint = _gather(builtin, extend, mue_file, ptp_files, project)
        store.write(key, json.dumps({"raw": {**raw, "pairs": list(raw["pairs"].values())}, "fingerprint": fingerprint}).encode())
        policy = _build(raw, fingerprint)
    return policy


def _from_cache(entry) -> Policy | None:
    """The policy a cache entry holds, when every section of it is what the rules schema allows
    (an entry is data, checked as a rules file is; anything else is a miss)."""
    try:
        raw, fingerprint = dict(entry["raw"]), entry["fingerprint"]
        sections = {
            "codes": {"codes": raw["codes"]},
            "ptp": {"pairs": raw["pairs"]},
            "modifiers": raw["modifiers"],
            "regions": {"regions": raw["regions"], "aliases": raw["aliases"]},
            "techniques": {"techniques": raw["techniques"]},
        }
        if not isinstance(fingerprint, str) or not all(_rules_check(kind)(value) for kind, value in sections.items()):
            return None
        if not all(isinstance(spec, dict) and _rules_check("payer")(spec) for spec in raw["payers"].values()):
            return None
        mue = raw["mue"]
        if not all(type(v) is list and len(v) == 2 and type(v[0]) is int and type(v[1]) is bool for v in mue.values()):
            return None
        raw["mue"] = {code: MueEdit(*value) for code, value in mue.items()}
        raw["pairs"] = {(pair["column1"], pair["column2"]): pair for pair in raw["pairs"]}
        return _build(raw, fingerprint)
    except (KeyError, TypeError, ValueError, AttributeError, PolicyError):
        return None


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
    return _build(*_gather(builtin, extend, mue_file, ptp_files, project))


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
    if mue_file is not None:
        content = _read_bytes(mue_file, "MUE file")
        digest.update(b"mue\0" + content)
        raw["mue"].update(read_mue_csv(mue_file, content))
    for ptp_file in ptp_files:
        content = _read_bytes(ptp_file, "PTP file")
        digest.update(b"ptp\0" + content)
        for pair in read_ptp_text(ptp_file, content):
            raw["pairs"][(pair["column1"], pair["column2"])] = pair
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


_CODE = re.compile(r"^([0-9]{4}[0-9FTU]|[A-V][0-9]{4})$")


def read_ptp_text(path: Path, content: bytes) -> list[dict]:
    """A CMS NCCI practitioner PTP file (ccipra-v*-f*.txt): tab-separated rows of column 1,
    column 2, the pre-1996 "*" flag, effective date, deletion date ("*" for none) and modifier
    indicator, under a few lines of notice and header that are skipped."""
    pairs = []
    for number, line in enumerate(content.decode("utf-8-sig", errors="replace").splitlines(), start=1):
        fields = [f.strip() for f in line.split("\t")]
        if len(fields) < 5 or not (_CODE.match(fields[0]) and _CODE.match(fields[1])):
            continue
        rest = fields[2:]
        if rest[0] in ("*", ""):
            rest = rest[1:]
        if len(rest) < 3 or not re.fullmatch(r"[0-9]{8}", rest[0]) or rest[2] not in ("0", "1", "9"):
            raise PolicyError(f"{path}:{number}: not a PTP row (column 1, column 2, *, effective, deletion, indicator)")
        pairs.append(
            {
                "column1": fields[0],
                "column2": fields[1],
                "modifier_indicator": int(rest[2]),
                "effective": _iso(rest[0]),
                "deleted": None if rest[1] in ("*", "") else _iso(rest[1]),
                "source": f"{path.name} line {number}",
            }
        )
    return pairs


def _iso(yyyymmdd: str) -> str:
    return f"{yyyymmdd[:4]}-{yyyymmdd[4:6]}-{yyyymmdd[6:]}"


def read_mue_csv(path: Path, content: bytes) -> dict[str, MueEdit]:
    """The CMS practitioner MUE file: a notice, then the header row
    `HCPCS/CPT Code, Practitioner Services MUE Values, MUE Adjudication Indicator, MUE Rationale`."""
    import csv

    reader = csv.reader(content.decode("utf-8-sig", errors="replace").splitlines())
    rows = []
    try:
        for row in reader:
            rows.append(row)
    except csv.Error as err:
        raise PolicyError(f"{path}:{reader.line_num}: not a row of the CMS MUE table: {err}") from None
    for number, row in enumerate(rows):
        cells = [c.strip().lower() for c in row]
        value_at = next((i for i, c in enumerate(cells) if "mue value" in c), None)
        indicator_at = next((i for i, c in enumerate(cells) if "adjudication indicator" in c), None)
        if value_at is not None and indicator_at is not None:
            break
    else:
        raise PolicyError(f"{path}: no header row with MUE values and adjudication indicators")
    edits = {}
    for line, row in enumerate(rows[number + 1 :], start=number + 2):
        if not row or not row[0].strip():
            continue
        try:
            value = int(row[value_at].strip())
        except (ValueError, IndexError):
            raise PolicyError(f"{path}:{line}: MUE value is not a whole number") from None
        indicator = row[indicator_at].strip()[:1] if len(row) > indicator_at else ""
        edits[row[0].strip()] = MueEdit(value, per_line=indicator == "1")
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
            raw["pairs"][(pair["column1"], pair["column2"])] = pair
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


def _build(raw: dict, fingerprint: str) -> Policy:
    regions = {name: Region(name, **spec) for name, spec in raw["regions"].items()}
    for alias, target in raw["aliases"].items():
        if target not in regions:
            raise PolicyError(f'region alias "{alias}" maps to "{target}", which is not a region')
    return Policy(
        codes={code: _code_info(code, spec) for code, spec in raw["codes"].items()},
        pairs={key: PairEdit(**spec) for key, spec in raw["pairs"].items()},
        modifiers=raw["modifiers"],
        regions=regions,
        aliases=raw["aliases"],
        techniques=raw["techniques"],
        mue=raw["mue"],
        payers={name: _payer(name, spec) for name, spec in raw["payers"].items()},
        fingerprint=fingerprint,
    )


def _code_info(code: str, spec: dict) -> CodeInfo:
    spinal = spec.get("spinal_regions")
    return CodeInfo(code, **{**spec, "spinal_regions": tuple(spinal) if spinal else None})


def _payer(name: str, spec: dict) -> Payer:
    return Payer(name, **{**spec, "cmt_primary_diagnoses": tuple(spec.get("cmt_primary_diagnoses", ()))})
