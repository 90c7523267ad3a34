"""SUP: the suppressions and expectations written in a file. The engine reports these (see
cptlint/suppressions.py); they have no check()."""

from __future__ import annotations

from cptlint.checks.base import Rule, register
from cptlint.diagnostics import Severity


@register
class UnknownCode(Rule):
    """A suppression or an expectation names no rule.

    ## What it checks
    Every code in a `# cptlint: disable=` comment names a rule or a prefix of rule codes, and
    every entry of an `expect:` list names a rule. The finding sits on the code.

    ## Why a payer cares
    A misspelt code silences nothing and expects nothing: the comment says a finding was looked
    at when it was not, and a fixture that expects `UNT01` can never pass or fail for the
    reason its author meant.

    ## Fails
    ```yaml
    id: ENC-1
    date: 2026-03-14
    patient: P-1
    provider: {npi: "1234567893", discipline: PT}
    diagnoses: [M54.50]
    services:
      - {code: "97110", units: 1, minutes: 15, modifiers: [GP], diagnosis_pointers: [1]}  # cptlint: disable=UNIT001
    ```

    ## Passes
    ```yaml
    id: ENC-1
    date: 2026-03-14
    patient: P-1
    provider: {npi: "1234567893", discipline: PT}
    diagnoses: [M54.50]
    services:
      - {code: "97110", units: 1, minutes: 15, modifiers: [GP], diagnosis_pointers: [1]}
    ```

    ## Source
    cptlint documentation (README, "Configuration"); ruff's RUF100 and noqa validation.
    """

    code = "SUP001"
    name = "unknown-code"
    severity = Severity.WARNING
    scope = "input"


@register
class UnusedSuppression(Rule):
    """A suppression silences nothing.

    ## What it checks
    Each code of a `# cptlint: disable=` comment silences a finding on its line. One that
    silences nothing (the finding was fixed, or the rule is not selected) is reported; the fix
    takes the code out of the comment, or the comment away when none is left (see Fix). With
    `days-across-files` this is not reported: a day judged later over other files may still
    need the suppression.

    ## Why a payer cares
    A stale suppression hides the next real problem on that line: a unit billed again over the
    minutes passes without a word.

    ## Fails
    ```yaml
    id: ENC-1
    date: 2026-03-14
    patient: P-1
    provider: {npi: "1234567893", discipline: PT}
    diagnoses: [M54.50]
    services:
      - {code: "97110", units: 1, minutes: 15, modifiers: [GP], diagnosis_pointers: [1]}  # cptlint: disable=UNT001
    ```

    ## Passes
    ```yaml
    id: ENC-1
    date: 2026-03-14
    patient: P-1
    provider: {npi: "1234567893", discipline: PT}
    diagnoses: [M54.50]
    services:
      - {code: "97110", units: 2, minutes: 15, modifiers: [GP], diagnosis_pointers: [1]}  # cptlint: disable=UNT001
    ```

    ## Fix
    Safe. Takes the unused codes out of the comment, or the comment away (with the spaces
    before it) when it silences nothing at all; nothing else on the line changes.

    ## Source
    ruff's RUF100 (unused noqa directive).
    """

    code = "SUP002"
    name = "unused-suppression"
    severity = Severity.WARNING
    scope = "input"
    fixable = "safe"
