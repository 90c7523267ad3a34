"""PAY: what a payer profile covers and caps."""

from __future__ import annotations

from cptlint.checks.base import Finding, Rule, register
from cptlint.checks.shared import category, is_billed
from cptlint.diagnostics import Severity
from cptlint.model import Encounter, Service

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
    manipulation, 98940-98942. A line billed with GY (statutorily excluded, not a Medicare
    benefit) asks for the denial and is correct; a code the profile's `code_status` names is
    PAY003's.

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
    correct a subluxation is covered; 98943 and all other services by a chiropractor are not; GY
    on services that are statutorily excluded or not a Medicare benefit).
    """

    code = "PAY002"
    name = "not-covered-for-provider"
    severity = Severity.WARNING

    def check(self, encounter: Encounter, policy):
        covered = encounter.payer.covered_by_discipline
        excluded = policy.modifiers.get("statutorily_excluded", "GY")
        for service in encounter.services:
            discipline = service.provider.discipline if service.provider else None
            if (
                discipline in covered
                and service.code not in covered[discipline]
                and is_billed(service)
                and excluded not in service.modifiers
                and service.code not in encounter.payer.code_status
            ):
                yield Finding(
                    service.place("code"),
                    f"{encounter.payer.title} does not cover {service.code} "
                    f"by a {discipline}: it pays {', '.join(covered[discipline])}",
                )


@register
class CodeStatus(Rule):
    """A code the payer does not pay as billed: not valid for it, always bundled, or not covered.

    ## What it checks
    The payer profile's `code_status` (the built-in Medicare profile: 97014, 97010, 20560, 20561,
    98943) says what the payer pays of a code. A billed line of a `not_payable` code is an error
    naming the code to bill instead (97014: G0283); a `bundled` code (97010, status B) is a
    warning, as it is never paid separately; a `not_covered` code (statutorily excluded or not a
    benefit, for the `disciplines` listed or for anyone) is a warning unless the line carries GY,
    which asks for the denial a secondary payer needs.

    ## Why a payer cares
    Medicare rejects a code it does not recognise, denies a bundled one, and denies a non-covered
    one; billed without GY a non-covered service looks like a claim for payment.

    ## Fails
    ```yaml
    id: ENC-1
    date: 2026-03-14
    payer: medicare
    patient: P-1
    provider: {npi: "1234567893", discipline: PT}
    diagnoses: [M54.50]
    services:
      - {code: "97014", units: 1, modifiers: [GP], diagnosis_pointers: [1]}
    ```

    ## Passes
    ```yaml
    id: ENC-1
    date: 2026-03-14
    payer: medicare
    patient: P-1
    provider: {npi: "1234567893", discipline: PT}
    diagnoses: [M54.50]
    services:
      - {code: "G0283", units: 1, modifiers: [GP], diagnosis_pointers: [1]}
    ```

    ## Source
    CMS: CPT 97014 is not recognised by Medicare, G0283 is billed instead; Palmetto GBA "Hot or
    Cold Packs: Bundling Denials" (97010, status B); CY 2020 PFS final rule and NCD 30.3.3
    (20560/20561 non-covered when a therapist furnishes them); NGS "Medicare Coverage of
    Chiropractic Services" (98943 is not a benefit; GY on statutorily excluded services).
    """

    code = "PAY003"
    name = "code-status"
    severity = Severity.WARNING

    @classmethod
    def applies(cls, codes, policy) -> bool:
        """Only where a code some payer profile gives a status is billed."""
        return any(code in payer.code_status for payer in policy.payers.values() for code in codes)

    def check(self, encounter: Encounter, policy):
        statuses = encounter.payer.code_status
        if not statuses:
            return
        excluded = policy.modifiers.get("statutorily_excluded", "GY")
        payer = encounter.payer.title
        for service in encounter.services:
            status = statuses.get(service.code)
            if status is None or not is_billed(service):
                continue
            kind = status["status"]
            if kind == "not_payable":
                instead = f": bill {status['instead']}" if status.get("instead") else ""
                yield Finding(service.place("code"), f"{payer} does not pay {service.code}{instead}", severity=Severity.ERROR)
            elif kind == "bundled":
                yield Finding(service.place("code"), f"{payer} never pays {service.code} separately: it is bundled into the visit's other services")
            elif _not_covered_for(service, status) and excluded not in service.modifiers:
                who = f" by a {service.provider.discipline}" if status.get("disciplines") else ""
                yield Finding(
                    service.place("code"),
                    f"{payer} does not cover {service.code}{who}: bill it with {excluded} to get the denial, or not at all",
                )


def _not_covered_for(service: Service, status: dict) -> bool:
    disciplines = status.get("disciplines")
    return not disciplines or (service.provider is not None and service.provider.discipline in disciplines)
