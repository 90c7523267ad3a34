"""Output formats. A reporter only formats: it gets the run and returns text."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from pathlib import Path
from typing import NamedTuple
from urllib.parse import quote

from cptlint import __version__
from cptlint.checks import all_rules
from cptlint.diagnostics import Diagnostic, Severity
from cptlint.store import Run

INFORMATION_URI = "https://github.com/cptlint/cptlint"
EXCERPT_WIDTH = 100


class Style(NamedTuple):
    color: bool = False
    quiet: bool = False
    statistics: bool = False


_SEVERITY_COLOR = {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.INFO: "blue"}


_INVISIBLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def visible(text: str) -> str:
    """text with what would act on a terminal or break a format written out: control
    characters (ESC, BEL, ...), line and paragraph separators and lone surrogates (a file name
    that is not UTF-8) as \\x1b, \\u2028, \\udce9."""
    if not _INVISIBLE.search(text):
        return text
    return _INVISIBLE.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}", text)


def _paint(text: str, style: Style, **how) -> str:
    if not style.color:
        return text
    import click

    return click.style(text, **how)


def text(run: Run, style: Style) -> str:
    if style.statistics:
        return statistics(run, style)
    out = []
    fixable: Counter = Counter()
    for d in run.diagnostics:
        where = _paint(f"{visible(d.path)}:{d.line}:{d.column}:", style, bold=True)
        code = _paint(d.code, style, fg=_SEVERITY_COLOR[d.severity], bold=True)
        mark = " [*]" if d.fixable == "safe" else ""
        fixable[d.fixable] += 1
        out.append(f"{where} {code}{mark} {visible(d.message)}")
        if not style.quiet:
            out.extend(_excerpt(d, run.texts.get(d.path, ""), style))
    if not style.quiet:
        out.extend(_summary(run, fixable))
    return "\n".join(out) + ("\n" if out else "")


def _excerpt(d: Diagnostic, source, style: Style) -> list[str]:
    """source: the file's text, or (for a file not kept whole) its flagged lines by number:
    each the line's text, or the (column, text) pieces of it that findings are in (a claim
    file's segments)."""
    if isinstance(source, dict):
        line = source.get(d.line)
    else:
        from cptlint.loader import split_lines

        lines = split_lines(source)
        line = lines[d.line - 1] if 1 <= d.line <= len(lines) else None
    if line is None:
        return []
    shift = 0  # columns of the line before the text shown
    if isinstance(line, tuple):
        held = [(column, text) for column, text in line if column <= d.column <= column + len(text)]
        if not held:
            return []
        shift, line = held[-1][0] - 1, held[-1][1]
    line = line.replace("\t", " ")
    if _INVISIBLE.search(line):  # shown as "?": an escape would move the caret off its column
        line = _INVISIBLE.sub("?", line)
    column = d.column - shift
    if len(line) > EXCERPT_WIDTH or shift:  # long lines (NDJSON), a piece of one: a window around the finding
        start = max(0, min(column - 1 - EXCERPT_WIDTH // 2, len(line) - EXCERPT_WIDTH))
        cut = start or shift
        line = ("…" if cut else "") + line[start : start + EXCERPT_WIDTH] + ("…" if start + EXCERPT_WIDTH < len(line) else "")
        column = column - start + (1 if cut else 0)
    width = len(str(d.line))
    length = d.end_column - d.column if d.end_line == d.line and d.end_column > d.column else 1
    caret = _paint("^" * max(1, min(length, len(line) - column + 1)), style, fg=_SEVERITY_COLOR[d.severity])
    gutter = _paint(" " * width + " |", style, fg="blue")
    return [
        gutter,
        _paint(f"{d.line} |", style, fg="blue") + f" {line}",
        f"{gutter} {' ' * (column - 1)}{caret}",
        "",
    ]


def _summary(run: Run, fixable: Counter) -> list[str]:
    """What the findings come to, what --fix would do, and what the run read."""
    diagnostics = run.diagnostics
    if not diagnostics:
        lines = ["All checks passed."]
    else:
        counts = Counter(d.severity for d in diagnostics)
        parts = [_count(counts[s], str(s)) for s in sorted(counts, reverse=True)]
        lines = [f"Found {_count(len(diagnostics), 'finding')} ({', '.join(parts)})."]
    if fixable["safe"] or fixable["unsafe"]:
        more = f" ({fixable['unsafe']} more with --unsafe-fixes)" if fixable["unsafe"] else ""
        lines.append(f"[*] {fixable['safe']} fixable with --fix{more}.")
    return lines + _about_the_run(run)


def _about_the_run(run: Run) -> list[str]:
    checked = f"Checked {_count(len(run.files), 'file')}"
    if run.skipped:
        checked += f"; skipped {run.skipped} that hold no encounters (name a file to lint it anyway)"
    lines = [checked + "."]
    if run.unchecked:
        lines.append(
            f"{_count(run.unchecked, 'encounter')} with a schema problem (SCH003, ignored) not checked by the billing rules."
        )
    return lines + list(run.notes)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'s' if number != 1 else ''}"


def statistics(run: Run, style: Style) -> str:
    """count, code, [*] when its findings can be fixed with --fix (safe) or [-] (unsafe), name;
    then the total."""
    rules = {cls.code: cls for cls in all_rules()}
    counts, fixable = _statistics(run)
    rows = [
        (count, code, {"safe": "[*]", "unsafe": "[-]"}.get(fixable.get(code), ""), rules[code].name)
        for code, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    if not rows:
        return ""
    total = sum(counts.values())
    rows.append((total, "total", "", f"{sum(counts[c] for c in fixable if fixable[c] == 'safe')} fixable with --fix"))
    width = max(len(str(c)) for c, _, _, _ in rows)
    return "".join(f"{count:>{width}}\t{code}\t{mark}\t{name}\n" for count, code, mark, name in rows)


def _statistics(run: Run) -> tuple[Counter, dict]:
    """Findings per code, and each code's fix (the most a finding of it offers)."""
    counts: Counter = Counter()
    fixable: dict[str, str] = {}
    for d in run.diagnostics:
        counts[d.code] += 1
        if d.fixable is not None and fixable.get(d.code) != "safe":
            fixable[d.code] = d.fixable
    return counts, fixable


def json_format(run: Run, style: Style) -> str:
    return "".join(json_chunks(run, style))


def json_chunks(run: Run, style: Style):
    """The JSON array a finding at a time, byte for byte what json.dumps(indent=2) writes, so a
    run with hundreds of thousands of findings never holds the whole text."""
    if style.statistics:
        counts, fixable = _statistics(run)
        rows = [{"code": c, "count": n, "fixable": fixable.get(c)} for c, n in sorted(counts.items())]
        yield json.dumps(rows, indent=2) + "\n"
        return
    if not run.diagnostics:
        yield "[]\n"
        return
    for index, d in enumerate(run.diagnostics):
        yield ("[\n  " if index == 0 else ",\n  ") + _json_item(d)
    yield "\n]\n"


_quoted = json.encoder.encode_basestring  # a JSON string, as json.dumps(ensure_ascii=False) writes it
_QUOTED_SEVERITY = {severity: _quoted(str(severity)) for severity in Severity}


def _json_item(d: Diagnostic) -> str:
    """One finding as json.dumps(d.as_dict(), indent=2) writes it inside the array, formatted
    here directly: the indenting encoder is pure Python, and this runs once per finding."""
    encounter = "null" if d.encounter is None else _quoted(d.encounter)
    return (
        f'{{\n    "path": {_quoted(d.path)},\n    "line": {d.line},\n    "column": {d.column},\n'
        f'    "end_line": {d.end_line},\n    "end_column": {d.end_column},\n    "code": {_quoted(d.code)},\n'
        f'    "severity": {_QUOTED_SEVERITY[d.severity]},\n    "message": {_quoted(d.message)},\n'
        f'    "pointer": {_quoted(d.pointer)},\n    "encounter": {encounter}\n  }}'
    )


def _fingerprint(diagnostics: list[Diagnostic]):
    """Stable across edits that move lines: path, code and JSON pointer (plus a repeat count)."""
    seen: Counter = Counter()
    for d in diagnostics:
        key = (d.path, d.code, d.pointer)
        seen[key] += 1
        raw = "\0".join((Path(d.path).as_posix(), d.code, d.pointer, str(seen[key])))
        yield d, hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def sarif(run: Run, style: Style) -> str:
    rules = all_rules()
    index = {cls.code: i for i, cls in enumerate(rules)}
    levels = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
    results = []
    for d, print_ in _fingerprint(run.diagnostics):
        results.append(
            {
                "ruleId": d.code,
                "ruleIndex": index[d.code],
                "level": levels[d.severity],
                "message": {"text": d.message},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": quote(Path(d.path).as_posix(), errors="surrogateescape")},
                            "region": {
                                "startLine": d.line,
                                "startColumn": d.column,
                                "endLine": max(d.end_line, d.line),
                                "endColumn": max(d.end_column, 1),
                            },
                        },
                        "logicalLocations": [{"fullyQualifiedName": d.pointer or "/", "kind": "member"}],
                    }
                ],
                "partialFingerprints": {"cptlintPointer/v1": print_},
            }
        )
    driver = {
        "name": "cptlint",
        "version": __version__,
        "informationUri": INFORMATION_URI,
        "rules": [
            {
                "id": cls.code,
                "name": cls.name,
                "shortDescription": {"text": cls.summary()},
                "fullDescription": {"text": cls.section("What it checks") or cls.summary()},
                "help": {"text": cls.documentation(), "markdown": cls.documentation()},
                "defaultConfiguration": {"level": levels[cls.severity]},
            }
            for cls in rules
        ],
    }
    log = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{"tool": {"driver": driver}, "columnKind": "unicodeCodePoints", "results": results}],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def _escape_data(value: str) -> str:
    return visible(value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"))


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


def github(run: Run, style: Style) -> str:
    kinds = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}
    out = []
    for d in run.diagnostics:
        props = (
            f"file={_escape_property(d.path)},line={d.line},col={d.column},"
            f"endLine={d.end_line},endColumn={d.end_column},title={_escape_property(d.code)}"
        )
        out.append(f"::{kinds[d.severity]} {props}::{_escape_data(f'{d.code} {d.message}')}")
    return "".join(line + "\n" for line in out)


def junit(run: Run, style: Style) -> str:
    from xml.etree import ElementTree  # here, not at the top: most runs report another format

    by_file: dict[str, list[Diagnostic]] = {path: [] for path in run.files}
    for d in run.diagnostics:
        by_file.setdefault(d.path, []).append(d)
    failing = sum(1 for found in by_file.values() if found)
    suites = ElementTree.Element("testsuites", name="cptlint", tests=str(len(by_file)), failures=str(failing))
    suite = ElementTree.SubElement(
        suites, "testsuite", name="cptlint", tests=str(len(by_file)), failures=str(failing), errors="0", skipped="0"
    )
    for path, found in by_file.items():
        case = ElementTree.SubElement(suite, "testcase", classname="cptlint", name=visible(path))
        if found:
            failure = ElementTree.SubElement(
                case, "failure", message=f"{len(found)} finding{'s' if len(found) != 1 else ''}", type="cptlint"
            )
            failure.text = visible("\n".join(f"{d.line}:{d.column}: {d.code} [{d.severity}] {d.message} ({d.pointer or '/'})" for d in found))
    ElementTree.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(suites, encoding="unicode") + "\n"


def gitlab(run: Run, style: Style) -> str:
    severities = {Severity.ERROR: "major", Severity.WARNING: "minor", Severity.INFO: "info"}
    issues = [
        {
            "description": f"{d.code} {d.message}",
            "check_name": d.code,
            "fingerprint": print_,
            "severity": severities[d.severity],
            "location": {
                "path": Path(d.path).as_posix(),
                "positions": {
                    "begin": {"line": d.line, "column": d.column},
                    "end": {"line": d.end_line, "column": d.end_column},
                },
            },
        }
        for d, print_ in _fingerprint(run.diagnostics)
    ]
    return json.dumps(issues, indent=2, ensure_ascii=False) + "\n"


# Formats that can be written a piece at a time; the others are one string.
STREAMING = {"json": json_chunks}

REPORTERS = {
    "text": text,
    "json": json_format,
    "sarif": sarif,
    "github": github,
    "junit": junit,
    "gitlab": gitlab,
}


# ------------------------------------------------------------------------- the rule-change gate


def _signed(up: int, down: int) -> str:
    return f"+{up} -{down}"


def impact_text(impact, style: Style) -> str:
    if not impact.changed:
        return f"No finding changes against {impact.base}.\n"
    up, down = len(impact.appeared), len(impact.disappeared)
    out = [
        f"Against {impact.base}: {up} finding{'s appear' if up != 1 else ' appears'}, "
        f"{down} disappear{'s' if down == 1 else ''}.",
        "",
        "By rule:",
    ]
    for code, (up, down) in impact.by(lambda d: d.code).items():
        out.append(f"  {code}  {_signed(up, down)}")
        for sign, found in (("+", impact.appeared), ("-", impact.disappeared)):
            out.extend(
                f"    {sign} {d.path}:{d.line}:{d.column} {d.pointer or '/'}  {d.message}" for d in found if d.code == code
            )
    out += ["", "By file:"]
    out += [f"  {path}  {_signed(up, down)}" for path, (up, down) in impact.by(lambda d: d.path).items()]
    return "\n".join(out) + "\n"


def impact_json(impact, style: Style) -> str:
    report = {
        "base": impact.base,
        "changed": impact.changed,
        "appeared": [d.as_dict() for d in impact.appeared],
        "disappeared": [d.as_dict() for d in impact.disappeared],
        "by_rule": {k: {"appeared": u, "disappeared": d} for k, (u, d) in impact.by(lambda x: x.code).items()},
        "by_file": {k: {"appeared": u, "disappeared": d} for k, (u, d) in impact.by(lambda x: x.path).items()},
    }
    return json.dumps(report, indent=2, ensure_ascii=False) + "\n"


def impact_github(impact, style: Style) -> str:
    out = []
    for kind, verb, found in (("warning", "appears", impact.appeared), ("notice", "disappears", impact.disappeared)):
        for d in found:
            props = f"file={_escape_property(d.path)},line={d.line},col={d.column},title={_escape_property(d.code + ' ' + verb)}"
            out.append(f"::{kind} {props}::{_escape_data(f'{d.code} {verb} with this rules change: {d.message}')}")
    return "".join(line + "\n" for line in out)


IMPACT_REPORTERS = {"text": impact_text, "json": impact_json, "github": impact_github}
