"""The ICD-10-CM code table, from a maintained package: simple-icd-10-cm, which ships the CDC's
release (`pip install 'cptlint[icd10]'`). Only its code list is read, a line a code in the
classification's order (chapters, blocks, categories, codes, without the dot), so a run does
not pay the package's second-long import: a code is billable when no code below it follows it.
"""

from __future__ import annotations

import importlib.util
import re
from functools import lru_cache
from pathlib import Path

_LIST = re.compile(r"code-list-([A-Za-z]+)-([0-9]{4})\.txt\Z")
_MONTHS = {m: i for i, m in enumerate(("january", "february", "march", "april", "may", "june", "july", "august",
                                       "september", "october", "november", "december"), start=1)}


class Table:
    """The code list as its text: a code's status is found by a search of it, once per distinct
    code (a run sees the same few diagnoses again and again), so loading costs one file read."""

    def __init__(self, release: str, fiscal_year_start: str, text: str):
        self.release = release  # "April 2026"
        self.fiscal_year_start = fiscal_year_start  # the 1 October its fiscal year began
        self.text = "\n" + text.replace("\r", "") + "\n"
        self.known: dict[str, str | None] = {}

    def status(self, code: str) -> str | None:
        """"billable", "header" (a category with codes below it) or None (not in the release),
        for a code written with or without its dot."""
        try:
            return self.known[code]  # keyed as written: the common case is one lookup
        except KeyError:
            bare = code.replace(".", "")
            at = self.text.find("\n" + bare + "\n")
            following = self.text[at + len(bare) + 2 : at + 2 * len(bare) + 2] if at >= 0 else None
            found = self.known[code] = None if at < 0 else "header" if following == bare else "billable"
            return found


@lru_cache(maxsize=1)
def table() -> Table | None:
    """The table of the installed release, or None when simple-icd-10-cm is not installed (or
    ships no code list this reader knows)."""
    spec = importlib.util.find_spec("simple_icd_10_cm")
    if spec is None or spec.origin is None:
        return None
    folder = Path(spec.origin).parent / "data"
    found = sorted(
        (m for m in (_LIST.match(p.name) for p in folder.glob("code-list-*.txt")) if m),
        key=lambda m: (int(m.group(2)), _MONTHS.get(m.group(1).lower(), 0)),
    )
    if not found:
        return None
    latest = found[-1]
    month, year = _MONTHS.get(latest.group(1).lower(), 10), int(latest.group(2))
    fiscal_year = year + 1 if month >= 10 else year  # a fiscal year runs 1 October to 30 September
    text = (folder / latest.string).read_text(encoding="utf-8")
    return Table(f"{latest.group(1)} {year}", f"{fiscal_year - 1}-10-01", text)
