"""What a rule is: a code, a name, a default severity, its documentation, and a check.

A rule's docstring is its documentation, in Markdown, with the sections `What it checks`,
`Why a payer cares`, `Fails`, `Passes` and `Source`; `cptlint rule CODE` prints it, and the
test suite lints its Fails and Passes examples, so the documentation cannot drift from the code.
"""

from __future__ import annotations

import inspect
import re
from typing import Callable, ClassVar, Iterable, NamedTuple

from cptlint.checks.shared import categories_of
from cptlint.diagnostics import Severity
from cptlint.fixes import Fix
from cptlint.model import Day, Encounter, Place

CODE_PATTERN = re.compile(r"^(SCH|SUP|UNT|MOD|REG|MAN|DLV|DOC|DX|NPI|PAY)[0-9]{3}$")
SECTIONS = ("What it checks", "Why a payer cares", "Fails", "Passes", "Source")


class Finding(NamedTuple):
    place: Place
    message: str
    # Only rules with `fixable` set propose one. Where working it out costs, a function of no
    # arguments that makes it: the engine calls it only when fixes are asked for.
    fix: Fix | Callable[[], Fix | None] | None = None
    # Where rules data sets how grave this one is (a payer profile's choice), in place of the
    # rule's severity; the user's `severity` setting still has the last word.
    severity: Severity | None = None


class Rule:
    code: ClassVar[str]
    name: ClassVar[str]
    severity: ClassVar[Severity]
    # "input": reported by the reader and the schema check, not by check();
    # "encounter": check(encounter, policy); "day": check(day, policy) over every encounter
    # of one patient on one date, whichever files hold them.
    scope: ClassVar[str] = "encounter"
    fixable: ClassVar[str | None] = None  # "safe" or "unsafe" when a fix exists
    # Categories of service (rules/codes.yaml) that must all appear on the encounter's or day's lines
    # for the rule to have anything to say; the engine skips it elsewhere, unasked.
    requires: ClassVar[frozenset[str]] = frozenset()
    # Categories of which at least one must appear, when any are named.
    requires_any: ClassVar[frozenset[str]] = frozenset()
    # Encounter fields without which it has nothing to judge: on a format that cannot carry one
    # (formats.Format.lacks: an 837P has no minutes) the rule does not run, as the field is
    # unknown there, not missing.
    needs: ClassVar[frozenset[str]] = frozenset()
    # The formats whose readers give its findings (claim structure), when only those.
    read_by: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def applies(cls, codes: tuple[str, ...], policy) -> bool:
        """Whether lines billing these codes can give the rule anything to say, whatever their
        units, modifiers, dates or notes: the engine asks once per combination of codes and
        skips the rule where the answer is no. By default, every category in `requires` is
        billed, and one of `requires_any`."""
        categories = categories_of(codes, policy)
        return cls.requires <= categories and (not cls.requires_any or not cls.requires_any.isdisjoint(categories))

    def check(self, target: Encounter | Day, policy) -> Iterable[Finding]:  # pragma: no cover
        return ()

    @classmethod
    def documentation(cls) -> str:
        return inspect.cleandoc(cls.__doc__ or "")

    @classmethod
    def page(cls) -> str:
        """The rule's page, as `cptlint rule CODE` prints it and docs/rules/CODE.md holds it."""
        from cptlint import formats

        fix = {"safe": "yes (safe)", "unsafe": "yes (unsafe: needs --unsafe-fixes)"}.get(cls.fixable or "", "no")
        runs, skipped = formats.running(cls)
        where = "Runs on: " + ", ".join(f.title for f in runs)
        if skipped:
            where += "; not on " + "; ".join(f"{f.title} (it does not carry {', '.join(sorted(lacks))})" for f, lacks in skipped.items())
        return f"# {cls.code} {cls.name}\n\nSeverity: {cls.severity} · Fixable: {fix}\n{where}\n\n{cls.documentation()}"

    @classmethod
    def summary(cls) -> str:
        return cls.documentation().splitlines()[0] if cls.__doc__ else ""

    @classmethod
    def section(cls, title: str) -> str:
        """The text under `## title` in the documentation."""
        match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", cls.documentation(), re.S | re.M)
        return match.group(1).strip() if match else ""

    @classmethod
    def example(cls, title: str) -> str:
        """The code block under `## Fails` or `## Passes`."""
        match = re.search(r"```\w*\n(.*?)```", cls.section(title), re.S)
        return match.group(1) if match else ""


REGISTRY: dict[str, type[Rule]] = {}


def register(cls: type[Rule]) -> type[Rule]:
    if not CODE_PATTERN.match(cls.code):
        raise ValueError(f"bad rule code {cls.code!r}")
    if cls.code in REGISTRY:
        raise ValueError(f"rule code {cls.code} is used twice")
    REGISTRY[cls.code] = cls
    return cls
