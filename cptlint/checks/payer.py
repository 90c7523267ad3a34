"""PAY: what a payer profile covers and caps."""

from __future__ import annotations

from cptlint.checks.base import Finding, Rule, register
from cptlint.checks.shared import category, is_billed
from cptlint.diagnostics import Severity
from cptlint.model import Encounter

MODALITIES = ("modality_supervised", "modality_attended")


@register
class ModalityCap(Rule):
    """More distinct modality codes in a visit than the payer profile's cap.

    ## What it checks
    Where a payer profile sets `modality_cap`, a visit bills at most that many distinct
    modality codes (97010-97036, G0283). No built-in profile sets a cap, so this rule is off
    until one of yours does.

    ## Why a payer cares
    Several commercial plans pay a limited number of modalities per visit and deny the rest.

    ## Fails
    ```yaml
    # with payers/capped.yaml: {time_rule: per_code, modality_cap: 1}
    id: ENC-1
    date: 2026-03-14
    payer: capped
    patient: P-1
    provider: {npi: "1234567893", discipline: PT}
    diagnoses: [M54.50]
    services:
      - {code: "97012", units: 1, modifiers: [GP], diagnosis_pointers: [1]}
      - {code: "97035", units: 1, minutes: 8, modifiers: [GP], diagnosis_pointers: [1]}
    ```

    ## Passes
    ```yaml
    # with payers/capped.yaml: {time_rule: per_code, modality_cap: 1}
    id: ENC-1
    date: 2026-03-14
    payer: capped
    patient: P-1
    provider: {npi: "1234567893", discipline: PT}
    diagnoses: [M54.50]
    services:
      - {code: "97012", units: 1, modifiers: [GP], diagnosis_pointers: [1]}
      - {code: "97110", units: 1, minutes: 15, modifiers: [GP], diagnosis_pointers: [1]}
    ```

    ## Source
    Your payer contract; the cap is data in the payer profile, not a built-in fact.
    """

    code = "PAY001"
    name = "modality-cap"
    severity = Severity.WARNING

    requires_any = frozenset(MODALITIES)

    def check(self, encounter: Encounter, policy):
        cap = encounter.payer.modality_cap
        if not cap:
            return
        seen: list[str] = []
        for service in encounter.services:
            if category(service, policy) in MODALITIES and is_billed(service) and service.code not in seen:
                seen.append(service.code)
                if len(seen) > cap:
                    yield Finding(
                        service.place("code"),
                        f"{service.code} is modality {len(seen)} of this visit; "
                        f"{encounter.payer.title} pays {cap}",
                    )


@register
class NotCoveredForProvider(Rule):
    """A service the payer does not cover for that kind of provider.

    ## What it checks
    Where a payer profile lists `covered_by_discipline` for the rendering provider's discipline,
    every billed code is on that list. Medicare pays a chiropractor (DC) only for spinal
    manipulation, 98940-98942.

    ## Why a payer cares
    The claim is denied as a non-covered service; billing the patient needs an advance notice
    (ABN) on file, so the finding comes before the visit is closed.

    ## Fails
    ```yaml
    id: ENC-1
    date: 2026-03-14
    payer: medicare
    patient: P-1
    provider: {npi: "1234567893", discipline: DC}
    diagnoses: [M99.03, M54.50]
    services:
      - {code: "98940", units: 1, modifiers: [AT], regions: [lumbar], diagnosis_pointers: [1, 2]}
      - {code: "97035", units: 1, minutes: 8, modifiers: [GP], diagnosis_pointers: [2]}
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
    NGS "Medicare Coverage of Chiropractic Services" (only manual manipulation of the spine to
    correct a subluxation is covered; 98943 and all other services by a chiropractor are not).
    """

    code = "PAY002"
    name = "not-covered-for-provider"
    severity = Severity.WARNING

    def check(self, encounter: Encounter, policy):
        covered = encounter.payer.covered_by_discipline
        for service in encounter.services:
            discipline = service.provider.discipline if service.provider else None
            if discipline in covered and service.code not in covered[discipline] and is_billed(service):
                yield Finding(
                    service.place("code"),
                    f"{encounter.payer.title} does not cover {service.code} "
                    f"by a {discipline}: it pays {', '.join(covered[discipline])}",
                )
