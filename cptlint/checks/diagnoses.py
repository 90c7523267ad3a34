"""DX: diagnoses and the links from service lines to them."""

from __future__ import annotations

import re

from cptlint import icd10  # light: the package's code list is read only when a rule asks
from cptlint.checks.base import Finding, Rule, register
from cptlint.diagnostics import Severity
from cptlint.memo import Verdicts
from cptlint.model import Encounter

# Letter, digit, letter or digit; then optionally a dot and 1-4 letters or digits (S13.4XXA,
# M1A.0110 and U07.1 are valid forms).
WELL_FORMED = Verdicts(re.compile(r"^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$").match)  # the form of an ICD-10-CM code


@register
class MalformedDiagnosis(Rule):
    """A malformed ICD-10-CM code.

    ## What it checks
    Each diagnosis has the form of an ICD-10-CM code: a letter, a digit, a letter or digit, then
    optionally a dot and one to four letters or digits, in capitals (`M54.50`, `S13.4XXA`,
    `M1A.0110`, `U07.1`). The form, not the code's existence: use a code table for that.

    ## Why a payer cares
    A malformed diagnosis code is rejected before adjudication, and every line pointing to it
    loses its medical necessity.

    ## Fails
    ```yaml
    id: ENC-1
    date: 2026-03-14
    patient: P-1
    provider: {npi: "1234567893", discipline: PT}
    diagnoses: [M54-50]
    services:
      - {code: "97110", units: 1, minutes: 15, modifiers: [GP], diagnosis_pointers: [1]}
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
    SEER training, "Structure of an ICD-10-CM Code"; ICD-10-CM Official Guidelines (placeholder
    X, seventh characters).
    """

    code = "DX001"
    name = "malformed-diagnosis"
    severity = Severity.ERROR

    def check(self, encounter: Encounter, policy):
        for index, code in enumerate(encounter.diagnoses):
            if not WELL_FORMED[code]:
                hint = f' (did you mean "{code.upper()}"?)' if WELL_FORMED[code.upper()] else ""
                dotted = f"{code[:3]}.{code[3:]}".upper()
                if not hint and len(code) > 3 and "." not in code and WELL_FORMED[dotted]:
                    hint = f': written without its decimal point (as X12 does), write it "{dotted}"'  # M5450
                yield Finding(encounter.place("diagnoses", index), f'"{code}" is not an ICD-10-CM code{hint}')


@register
class UnlinkedService(Rule):
    """A service line linked to no diagnosis, or a pointer past the list.

    ## What it checks
    Every service line has `diagnosis_pointers`, and each pointer (1 = the first diagnosis)
    names a diagnosis of the encounter.

    ## Why a payer cares
    The pointer is how the claim says why a service was necessary; a line without one, or with
    one to nothing, is rejected.

    ## Fails
    ```yaml
    id: ENC-1
    date: 2026-03-14
    patient: P-1
    provider: {npi: "1234567893", discipline: PT}
    diagnoses: [M54.50]
    services:
      - {code: "97110", units: 1, minutes: 15, modifiers: [GP], diagnosis_pointers: [2]}
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
    CMS-1500 item 24E and ASC X12 837P SV107 (diagnosis code pointers, 1-4 per line).
    """

    code = "DX002"
    name = "unlinked-service"
    severity = Severity.ERROR

    def check(self, encounter: Encounter, policy):
        count = len(encounter.diagnoses)
        for service in encounter.services:
            if not service.diagnosis_pointers:
                yield Finding(service.place("diagnosis_pointers"), f"{service.code} is linked to no diagnosis")
            for index, pointer in enumerate(service.diagnosis_pointers):
                if pointer > count:
                    yield Finding(
                        service.place("diagnosis_pointers", index),
                        f"diagnosis pointer {pointer} points past the {count} diagnos{'i' if count == 1 else 'e'}s listed",
                    )


@register
class CmtPrimaryDiagnosis(Rule):
    """Medicare CMT whose first linked diagnosis is not a segmental dysfunction.

    ## What it checks
    Where the payer profile lists `cmt_primary_diagnoses` (Medicare: M99.00-M99.05), a spinal
    CMT line (98940-98942) points first to one of them: the subluxation, at its level.

    ## Why a payer cares
    Medicare covers manipulation only to correct a subluxation; its LCD articles want that
    subluxation as the primary diagnosis and the neuromusculoskeletal condition after it.

    ## Fails
    ```yaml
    id: ENC-1
    date: 2026-03-14
    payer: medicare
    patient: P-1
    provider: {npi: "1234567893", discipline: DC}
    diagnoses: [M54.50, M99.03]
    services:
      - {code: "98940", units: 1, modifiers: [AT], regions: [lumbar], diagnosis_pointers: [1, 2]}
    ```

    ## Passes
    ```yaml
    id: ENC-1
    date: 2026-03-14
    payer: medicare
    patient: P-1
    provider: {npi: "1234567893", discipline: DC}
    diagnoses: [M99.03, M54.50]
    services:
      - {code: "98940", units: 1, modifiers: [AT], regions: [lumbar], diagnosis_pointers: [1, 2]}
    ```

    ## Source
    NGS "Medicare Coverage of Chiropractic Services"; chiropractic LCD billing articles (e.g.
    A56273: primary diagnosis the subluxation at a specific level, M99.01-M99.05).
    """

    code = "DX003"
    requires = frozenset({"cmt"})
    name = "cmt-primary-diagnosis"
    severity = Severity.WARNING

    def check(self, encounter: Encounter, policy):
        primary = encounter.payer.cmt_primary_diagnoses
        if not primary:
            return
        for service in encounter.services:
            info = policy.code(service.code)
            if not (info and info.is_spinal_cmt and service.diagnosis_pointers):
                continue
            first = service.diagnosis_pointers[0]
            if first <= len(encounter.diagnoses) and encounter.diagnoses[first - 1].upper() not in primary:
                yield Finding(
                    service.place("diagnosis_pointers", 0),
                    f"{service.code} points first to {encounter.diagnoses[first - 1]}; "
                    f"{encounter.payer.title} expects the segmental dysfunction "
                    f"({primary[0]}-{primary[-1]}) first",
                )


class _NotInTheRelease(Rule):
    """Diagnoses the installed ICD-10-CM release does not list as billable codes (subclasses
    say for which dates of service: within the release's fiscal year or later, or before it)."""

    before_the_release: bool

    def check(self, encounter: Encounter, policy):
        release = icd10.table()
        if release is None or (encounter.date < release.fiscal_year_start) != self.before_the_release:
            return
        for index, code in enumerate(encounter.diagnoses):
            status = release.status(code)
            if status == "billable" or not WELL_FORMED[code]:
                continue  # a malformed code is DX001's
            what = "is not an ICD-10-CM code" if status is None else "is a category with codes below it, not a billable code"
            when = (
                f"; the date of service is older than that release (its fiscal year began {release.fiscal_year_start}): "
                "check the release in force then"
                if self.before_the_release
                else ""
            )
            yield Finding(encounter.place("diagnoses", index), f'"{code}" {what} in the ICD-10-CM release of {release.release}{when}')


@register
class UnknownDiagnosis(_NotInTheRelease):
    """A diagnosis the ICD-10-CM release does not list as a billable code.

    ## What it checks
    Each diagnosis is a code of the ICD-10-CM release installed with cptlint's `icd10` extra
    (`pip install 'cptlint[icd10]'`, the CDC release as the simple-icd-10-cm package ships it;
    `cptlint data` names it), and a billable one: a category with codes below it (`M54.5` since
    1 October 2021, `M99.0`) must be coded to its last character. For a date of service before
    that release's fiscal year, DX005 warns instead. Without the extra, this rule does not run.

    ## Why a payer cares
    A claim with a code that does not exist, or with a category header, is rejected before
    anyone reads it: HIPAA requires the code set in force on the date of service, coded to the
    highest specificity.

    ## Fails
    ```yaml
    id: ENC-1
    date: 2026-03-14
    patient: P-1
    provider: {npi: "1234567893", discipline: PT}
    diagnoses: [M54.5]
    services:
      - {code: "97110", units: 1, minutes: 15, modifiers: [GP], diagnosis_pointers: [1]}
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
    CDC/NCHS ICD-10-CM tabular list (FY2022 addenda: M54.5 expanded to M54.50, M54.51, M54.59);
    ICD-10-CM Official Guidelines for Coding and Reporting, section I.B.3 (a code is reported to
    its highest number of characters); 45 CFR 162.1002 (the code set in force on the date of service).
    """

    code = "DX004"
    name = "unknown-diagnosis"
    severity = Severity.ERROR
    before_the_release = False


@register
class DiagnosisBeforeTheRelease(_NotInTheRelease):
    """A diagnosis the installed ICD-10-CM release does not list, on an older date of service.

    ## What it checks
    As DX004, for a date of service before the fiscal year (1 October) of the installed release:
    the code may have been billable then (`M54.5` was, until 30 September 2021), so this is a
    warning to check it against the release in force on that date.

    ## Why a payer cares
    Codes are added, expanded and deleted every 1 October: a code right for a 2021 visit can be
    wrong today, and the other way round.

    ## Fails
    ```yaml
    id: ENC-1
    date: 2021-06-01
    patient: P-1
    provider: {npi: "1234567893", discipline: PT}
    diagnoses: [M54.5]
    services:
      - {code: "97110", units: 1, minutes: 15, modifiers: [GP], diagnosis_pointers: [1]}
    ```

    ## Passes
    ```yaml
    id: ENC-1
    date: 2021-06-01
    patient: P-1
    provider: {npi: "1234567893", discipline: PT}
    diagnoses: [M54.16]
    services:
      - {code: "97110", units: 1, minutes: 15, modifiers: [GP], diagnosis_pointers: [1]}
    ```

    ## Source
    CDC/NCHS ICD-10-CM addenda (a release takes effect on 1 October); 45 CFR 162.1002.
    """

    code = "DX005"
    name = "diagnosis-before-the-release"
    severity = Severity.WARNING
    before_the_release = True
