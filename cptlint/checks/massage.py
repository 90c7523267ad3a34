"""MAN: massage (97124) versus manual therapy (97140), by the techniques documented."""

from __future__ import annotations

from cptlint.checks.base import Finding, Rule, register
from cptlint.checks.shared import category, is_billed, regions
from cptlint.diagnostics import Severity
from cptlint.fixes import Fix, SetScalar
from cptlint.model import Day, Encounter, Service
from cptlint.schema import did_you_mean

NOT_MANUAL = ("modality", "exercise")
MASSAGE_CODE = "97124"


def _kinds(service: Service, policy) -> list[tuple[int, str, str]]:
    """(index, name, kind) of each known technique on the line."""
    return [(i, t, policy.techniques[t]) for i, t in enumerate(service.techniques) if t in policy.techniques]


@register
class ManualTherapyIsMassage(Rule):
    """97140 documented with massage techniques only.

    ## What it checks
    A 97140 line whose techniques are all massage (effleurage, petrissage, tapotement, stroking,
    compression, percussion) describes 97124, not manual therapy.

    ## Why a payer cares
    97140 pays more than 97124; billing massage as manual therapy is a classic upcode that
    reviewers look for in the notes.

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
        regions: [lumbar]
        techniques: [effleurage, petrissage]
        diagnosis_pointers: [1]
        response: Muscles relaxed
        goal: Sleep through the night
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
        techniques: [soft_tissue_mobilization, petrissage]
        diagnosis_pointers: [1]
        response: Lumbar extension improved
        goal: Sleep through the night
    ```

    ## Fix
    Unsafe: the notes may describe the service loosely. Recodes the line as 97124.

    ## Source
    CPT 97124 descriptor (massage, including effleurage, petrissage and/or tapotement) and 97140
    descriptor (mobilization/manipulation, manual lymphatic drainage, manual traction);
    chirocode.com Q&A "Should I bill massage as 97124 or 97140".
    """

    code = "MAN001"
    needs = frozenset({"techniques"})
    requires = frozenset({"manual_therapy"})
    name = "manual-therapy-is-massage"
    severity = Severity.ERROR
    fixable = "unsafe"

    def check(self, encounter: Encounter, policy):
        for service in encounter.services:
            kinds = _kinds(service, policy)
            if category(service, policy) == "manual_therapy" and kinds and all(k == "massage" for _, _, k in kinds):
                yield Finding(
                    service.place("techniques"),
                    f"{service.code} documented with massage only ({', '.join(t for _, t, _ in kinds)}): that is 97124",
                    Fix("recode as 97124", (SetScalar(service.parts + ("code",), MASSAGE_CODE),)),
                )


@register
class ManualTherapyNotManual(Rule):
    """97140 documented with techniques that are not manual therapy.

    ## What it checks
    A 97140 line lists no modality (hot or cold packs, ultrasound, electrical stimulation,
    mechanical traction) or exercise (therapeutic exercise, exercise instruction): those have
    codes of their own.

    ## Why a payer cares
    Minutes of another service counted as manual therapy inflate 97140's units, and the service
    itself goes unbilled or is billed twice.

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
        regions: [lumbar]
        techniques: [joint_mobilization, hot_pack]
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
        techniques: [joint_mobilization, manual_traction]
        diagnosis_pointers: [1]
        response: Lumbar flexion improved
        goal: Lift a grandchild
    ```

    ## Source
    CPT 97140 descriptor; chiroeco "A comparison of codes" (M. Kotlar); CPT 97010, 97012,
    97014, 97035 and 97110 for the services named here.
    """

    code = "MAN002"
    needs = frozenset({"techniques"})
    requires = frozenset({"manual_therapy"})
    name = "manual-therapy-not-manual"
    severity = Severity.ERROR

    def check(self, encounter: Encounter, policy):
        for service in encounter.services:
            if category(service, policy) != "manual_therapy":
                continue
            for index, name, kind in _kinds(service, policy):
                if kind in NOT_MANUAL:
                    yield Finding(
                        service.place("techniques", index),
                        f"{name} is {'a modality' if kind == 'modality' else 'exercise'}, not manual therapy: "
                        f"bill it under its own code and leave its minutes out of {service.code}",
                    )


@register
class MassageIsManualTherapy(Rule):
    """97124 documented with manual therapy techniques.

    ## What it checks
    A 97124 (massage) line lists mobilization, manipulation, manual lymphatic drainage, manual
    traction or myofascial release: those are 97140.

    ## Why a payer cares
    The code should follow the service performed. Often this is a 97140 billed low, sometimes a
    note that describes the massage loosely; either way the record and the claim disagree.

    ## Fails
    ```yaml
    id: ENC-1
    date: 2026-03-14
    patient: P-1
    provider: {npi: "1234567893", discipline: PT}
    diagnoses: [M54.50]
    services:
      - {code: "97124", units: 1, minutes: 15, modifiers: [GP], regions: [lumbar], techniques: [myofascial_release], diagnosis_pointers: [1]}
    ```

    ## Passes
    ```yaml
    id: ENC-1
    date: 2026-03-14
    patient: P-1
    provider: {npi: "1234567893", discipline: PT}
    diagnoses: [M54.50]
    services:
      - {code: "97124", units: 1, minutes: 15, modifiers: [GP], regions: [lumbar], techniques: [effleurage], diagnosis_pointers: [1]}
    ```

    ## Source
    CPT 97124 and 97140 descriptors; chiro.org "Decoding Manual Therapy" (97140 replaced joint
    mobilization, manual traction and myofascial release codes in 1999).
    """

    code = "MAN003"
    needs = frozenset({"techniques"})
    requires = frozenset({"massage"})
    name = "massage-is-manual-therapy"
    severity = Severity.WARNING

    def check(self, encounter: Encounter, policy):
        for service in encounter.services:
            if category(service, policy) != "massage":
                continue
            for index, name, kind in _kinds(service, policy):
                if kind == "manual_therapy":
                    yield Finding(service.place("techniques", index), f"{name} is manual therapy (97140), not massage")


@register
class MassageAndManualSameRegion(Rule):
    """97124 and 97140 on the same region on the same day.

    ## What it checks
    Massage and manual therapy billed the same day by one provider treat different regions.
    This is a warning to review, not a hard edit: no NCCI edit for the pair was found in the
    public sources, but payers expect one or the other for one region.

    ## Why a payer cares
    Two soft-tissue codes for one region in one visit read as the same minutes billed twice.

    ## Fails
    ```yaml
    id: ENC-1
    date: 2026-03-14
    patient: P-1
    provider: {npi: "1234567893", discipline: PT}
    diagnoses: [M54.50]
    services:
      - {code: "97124", units: 1, minutes: 15, modifiers: [GP], regions: [lumbar], techniques: [effleurage], diagnosis_pointers: [1]}
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

    ## Passes
    ```yaml
    id: ENC-1
    date: 2026-03-14
    patient: P-1
    provider: {npi: "1234567893", discipline: PT}
    diagnoses: [M54.50, M54.2]
    services:
      - {code: "97124", units: 1, minutes: 15, modifiers: [GP], regions: [lumbar], techniques: [effleurage], diagnosis_pointers: [1]}
      - code: "97140"
        units: 1
        minutes: 15
        modifiers: [GP]
        regions: [cervical]
        techniques: [joint_mobilization]
        diagnosis_pointers: [2]
        response: Cervical rotation improved
        goal: Check the blind spot while driving
    ```

    ## Source
    codingahead ("you can only bill one or the other"); chirocode.com Q&A on 97124 and 97140
    (billing-rules.md §6: no authoritative NCCI row, hence a warning).
    """

    code = "MAN004"
    needs = frozenset({"regions"})
    requires = frozenset({"massage", "manual_therapy"})
    name = "massage-and-manual-same-region"
    severity = Severity.WARNING
    scope = "day"

    def check(self, day: Day, policy):
        billed = [s for s in day.services if is_billed(s)]
        manual = [s for s in billed if category(s, policy) == "manual_therapy"]
        for massage in (s for s in billed if category(s, policy) == "massage"):
            for other in manual:
                shared = regions(massage, policy) & regions(other, policy)
                if shared:
                    yield Finding(
                        massage.place("regions"),
                        f"97124 and 97140 both treat {', '.join(sorted(shared))} on {day.date}: "
                        f"bill the one the notes support for that region",
                    )
                    break


@register
class TechniqueMissingOrUnknown(Rule):
    """97140 with no technique recorded, or a technique name the vocabulary does not know.

    ## What it checks
    A 97140 line lists its techniques; every technique name on any line is in
    `rules/techniques.yaml` (add your own with `extend-rules`), and the closest known name is
    suggested for an unknown one.

    ## Why a payer cares
    The technique is what tells manual therapy from massage, exercise or a modality; without it
    97140 cannot be defended on review.

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
        regions: [lumbar]
        techniques: [joint_mobilisation]
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
    CPT 97140 descriptor (the techniques it covers); CMS Pub. 100-02, Ch. 15, §220.3
    (documentation of the treatment furnished).
    """

    code = "MAN005"
    needs = frozenset({"techniques"})
    name = "technique-missing-or-unknown"
    severity = Severity.ERROR

    def check(self, encounter: Encounter, policy):
        for service in encounter.services:
            if not service.techniques and category(service, policy) == "manual_therapy":
                yield Finding(service.place("techniques"), f"{service.code} needs the techniques performed")
            for index, name in enumerate(service.techniques):
                if name not in policy.techniques:
                    yield Finding(
                        service.place("techniques", index),
                        f'unknown technique "{name}"{did_you_mean(name, policy.techniques)}',
                    )
