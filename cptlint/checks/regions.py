"""REG: body regions, for manual therapy beside chiropractic manipulation (CMT)."""

from __future__ import annotations

from cptlint.checks.base import Finding, Rule, register
from cptlint.checks.shared import category, is_billed, regions, same_ncci_provider
from cptlint.diagnostics import Severity
from cptlint.model import Day, Encounter
from cptlint.schema import did_you_mean


@register
class ManualTherapyInCmtRegion(Rule):
    """97140 and chiropractic manipulation on the same day treat the same region.

    ## What it checks
    When one provider bills CMT (98940-98943) and 97140 on the same date of service, the manual
    therapy is in a region the manipulation did not treat. Region names and body-site aliases
    are compared after mapping to the ten CMT regions (`rules/regions.yaml`).

    ## Why a payer cares
    Manual therapy in a manipulated region is part of the manipulation: no modifier makes it
    payable, and 59 or XS on it is a false claim of a separate site.

    ## Fails
    ```yaml
    id: ENC-1
    date: 2026-03-14
    payer: commercial
    patient: P-1
    provider: {npi: "1234567893", discipline: DC}
    diagnoses: [M99.03, M54.50]
    services:
      - {code: "98940", units: 1, regions: [lumbar], diagnosis_pointers: [1, 2]}
      - code: "97140"
        units: 1
        minutes: 15
        modifiers: [GP, "59"]
        regions: [low_back]
        techniques: [myofascial_release]
        diagnosis_pointers: [2]
        response: Less guarding
        goal: Sit through a workday
    ```

    ## Passes
    ```yaml
    id: ENC-1
    date: 2026-03-14
    payer: commercial
    patient: P-1
    provider: {npi: "1234567893", discipline: DC}
    diagnoses: [M99.03, M54.50, M25.511]
    services:
      - {code: "98940", units: 1, regions: [lumbar], diagnosis_pointers: [1, 2]}
      - code: "97140"
        units: 1
        minutes: 15
        modifiers: [GP, "59"]
        regions: [right_shoulder]
        techniques: [myofascial_release]
        diagnosis_pointers: [3]
        response: Less guarding
        goal: Reach an overhead shelf
    ```

    ## Source
    NCCI CMT/97140 edit as corrected in April 2002 (chiro.org "Decoding Manual Therapy":
    payable "when performed on separate anatomic sites"); healthnetworksolutions "Manual Therapy
    CPT 97140" (same region is included in CMT).
    """

    code = "REG001"
    needs = frozenset({"regions"})
    requires = frozenset({"manual_therapy", "cmt"})
    name = "manual-therapy-in-cmt-region"
    severity = Severity.ERROR
    scope = "day"

    def check(self, day: Day, policy):
        billed = [s for s in day.services if is_billed(s)]
        manipulations = [s for s in billed if category(s, policy) == "cmt"]
        for manual in (s for s in billed if category(s, policy) == "manual_therapy"):
            for cmt in manipulations:
                if not same_ncci_provider(manual, cmt):
                    continue
                shared = regions(manual, policy) & regions(cmt, policy)
                for index, name in enumerate(manual.regions):
                    region = policy.region(name)
                    if region is not None and region.name in shared:
                        yield Finding(
                            manual.place("regions", index),
                            f"97140 in the {region.name} region, which {cmt.code} manipulated the same day: "
                            f"manual therapy there is part of the manipulation and no modifier makes it payable",
                        )


@register
class CmtCodeRegionCount(Rule):
    """The CMT code does not match the regions treated.

    ## What it checks
    98940 covers 1-2 spinal regions, 98941 3-4, 98942 all 5 (cervical, thoracic, lumbar,
    sacral, pelvic); 98943 covers extraspinal regions only (head, upper and lower extremity,
    rib cage, abdomen). Regions are counted, not vertebrae: three lumbar segments are one region.

    ## Why a payer cares
    The code is priced by region count: a code above the regions documented is an upcode, one
    below leaves money behind, and spinal and extraspinal manipulation are separate codes.

    ## Fails
    ```yaml
    id: ENC-1
    date: 2026-03-14
    payer: commercial
    patient: P-1
    provider: {npi: "1234567893", discipline: DC}
    diagnoses: [M99.01, M99.02, M99.03]
    services:
      - {code: "98941", units: 1, regions: [cervical, thoracic], diagnosis_pointers: [1, 2, 3]}
    ```

    ## Passes
    ```yaml
    id: ENC-1
    date: 2026-03-14
    payer: commercial
    patient: P-1
    provider: {npi: "1234567893", discipline: DC}
    diagnoses: [M99.01, M99.02, M99.03]
    services:
      - {code: "98941", units: 1, regions: [cervical, thoracic, lumbar], diagnosis_pointers: [1, 2, 3]}
    ```

    ## Source
    AMA CPT Assistant, February 1997, "CMT/OMT, Body Regions"; AAPC Chiropractic Coding Alert
    ("if three vertebrae in two regions are treated, 98940 is the correct code").
    """

    code = "REG002"
    needs = frozenset({"regions"})
    requires = frozenset({"cmt"})
    name = "cmt-code-region-count"
    severity = Severity.ERROR

    def check(self, encounter: Encounter, policy):
        for service in encounter.services:
            info = policy.code(service.code)
            treated = regions(service, policy)
            if not info or info.category != "cmt" or not treated:
                continue
            spinal = {r for r in treated if policy.regions[r].spinal}
            extraspinal = treated - spinal
            if info.extraspinal and spinal:
                yield Finding(
                    service.place("regions"),
                    f"{service.code} is extraspinal only; {', '.join(sorted(spinal))} belong on 98940-98942",
                )
            elif info.is_spinal_cmt:
                low, high = info.spinal_regions
                if extraspinal:
                    yield Finding(
                        service.place("regions"),
                        f"{service.code} covers spinal regions; {', '.join(sorted(extraspinal))} belong on 98943",
                    )
                elif not low <= len(spinal) <= high:
                    span = f"{low}" if low == high else f"{low}-{high}"
                    right = self._code_for(len(spinal), policy)
                    yield Finding(
                        service.place("code"),
                        f"{service.code} is for {span} spinal regions; {len(spinal)} recorded"
                        + (f" ({right})" if right else ""),
                    )

    @staticmethod
    def _code_for(count: int, policy) -> str | None:
        for info in policy.codes.values():
            if info.is_spinal_cmt and info.spinal_regions[0] <= count <= info.spinal_regions[1]:
                return f"that is {info.code}"
        return None


@register
class CmtRegionsWithoutDiagnosis(Rule):
    """The CMT regions are not supported by the linked segmental dysfunction diagnoses.

    ## What it checks
    Each region a CMT line treats has its segmental dysfunction code (M99.00 head, M99.01
    cervical, M99.02 thoracic, M99.03 lumbar, M99.04 sacral, M99.05 pelvic, M99.06 lower
    extremity, M99.07 upper extremity, M99.08 rib cage, M99.09 abdomen) among the diagnoses the
    line points to.

    ## Why a payer cares
    The diagnoses must support the number of regions billed: 98941 for three regions needs three
    subluxation diagnoses, or the claim is reduced or denied on review.

    ## Fails
    ```yaml
    id: ENC-1
    date: 2026-03-14
    payer: commercial
    patient: P-1
    provider: {npi: "1234567893", discipline: DC}
    diagnoses: [M99.03]
    services:
      - {code: "98940", units: 1, regions: [lumbar, pelvic], diagnosis_pointers: [1]}
    ```

    ## Passes
    ```yaml
    id: ENC-1
    date: 2026-03-14
    payer: commercial
    patient: P-1
    provider: {npi: "1234567893", discipline: DC}
    diagnoses: [M99.03, M99.05]
    services:
      - {code: "98940", units: 1, regions: [lumbar, pelvic], diagnosis_pointers: [1, 2]}
    ```

    ## Source
    ICD-10-CM M99.00-M99.09 (segmental and somatic dysfunction by region); AAPC ("If you report
    3-4 regions (98941) then you must have at least 3 subluxation diagnosis codes").
    """

    code = "REG003"
    needs = frozenset({"regions"})
    requires = frozenset({"cmt"})
    name = "cmt-regions-without-diagnosis"
    severity = Severity.WARNING

    def check(self, encounter: Encounter, policy):
        for service in encounter.services:
            if category(service, policy) != "cmt" or not service.diagnosis_pointers:
                continue
            linked = {
                encounter.diagnoses[p - 1].upper() for p in service.diagnosis_pointers if 1 <= p <= len(encounter.diagnoses)
            }
            for index, name in enumerate(service.regions):
                region = policy.region(name)
                if region is not None and region.dysfunction and region.dysfunction not in linked:
                    yield Finding(
                        service.place("regions", index),
                        f"{region.name} is manipulated, but the line links no {region.dysfunction} "
                        f"(segmental dysfunction, {region.name})",
                    )


@register
class RegionMissing(Rule):
    """97140 or CMT with no region recorded.

    ## What it checks
    Manual therapy (97140) and chiropractic manipulation (98940-98943) lines list the regions
    they treated in `regions`.

    ## Why a payer cares
    Without regions nobody can show that manual therapy and a manipulation treated different
    sites, or that a CMT code matches the regions: both are the first questions of a review.

    ## Fails
    ```yaml
    id: ENC-1
    date: 2026-03-14
    patient: P-1
    provider: {npi: "1234567893", discipline: PT}
    diagnoses: [M54.50]
    services:
      - code: "97140"
        units: 1
        minutes: 15
        modifiers: [GP]
        techniques: [joint_mobilization]
        diagnosis_pointers: [1]
        response: Lumbar flexion improved
        goal: Lift a grandchild
    ```

    ## Passes
    ```yaml
    id: ENC-1
    date: 2026-03-14
    patient: P-1
    provider: {npi: "1234567893", discipline: PT}
    diagnoses: [M54.50]
    services:
      - code: "97140"
        units: 1
        minutes: 15
        modifiers: [GP]
        regions: [lumbar]
        techniques: [joint_mobilization]
        diagnosis_pointers: [1]
        response: Lumbar flexion improved
        goal: Lift a grandchild
    ```

    ## Source
    CPT 97140 ("1 or more regions") and 98940-98943 (by region count); SecureCare "CMT proper
    documentation".
    """

    code = "REG004"
    needs = frozenset({"regions"})
    name = "region-missing"
    severity = Severity.ERROR

    requires_any = frozenset({"manual_therapy", "cmt"})

    def check(self, encounter: Encounter, policy):
        for service in encounter.services:
            if not service.regions and category(service, policy) in ("manual_therapy", "cmt"):
                yield Finding(service.place("regions"), f"{service.code} needs the regions it treated")


@register
class UnknownRegion(Rule):
    """An unknown region or body-site name.

    ## What it checks
    Every name in `regions` is one of the ten CMT regions or an alias from `rules/regions.yaml`
    (add your own aliases with `extend-rules`). The closest known name is suggested.

    ## Why a payer cares
    A region the rules cannot place is a region no overlap or region-count check can see.

    ## Fails
    ```yaml
    id: ENC-1
    date: 2026-03-14
    patient: P-1
    provider: {npi: "1234567893", discipline: PT}
    diagnoses: [M54.50]
    services:
      - code: "97140"
        units: 1
        minutes: 15
        modifiers: [GP]
        regions: [lumbr]
        techniques: [joint_mobilization]
        diagnosis_pointers: [1]
        response: Lumbar flexion improved
        goal: Lift a grandchild
    ```

    ## Passes
    ```yaml
    id: ENC-1
    date: 2026-03-14
    patient: P-1
    provider: {npi: "1234567893", discipline: PT}
    diagnoses: [M54.50]
    services:
      - code: "97140"
        units: 1
        minutes: 15
        modifiers: [GP]
        regions: [lumbar]
        techniques: [joint_mobilization]
        diagnosis_pointers: [1]
        response: Lumbar flexion improved
        goal: Lift a grandchild
    ```

    ## Source
    AMA CPT Assistant, February 1997, "CMT/OMT, Body Regions" (the ten regions).
    """

    code = "REG005"
    needs = frozenset({"regions"})
    name = "unknown-region"
    severity = Severity.ERROR

    def check(self, encounter: Encounter, policy):
        for service in encounter.services:
            for index, name in enumerate(service.regions):
                if policy.region(name) is None:
                    yield Finding(
                        service.place("regions", index),
                        f'unknown region "{name}"{did_you_mean(name, policy.region_names())}',
                    )
