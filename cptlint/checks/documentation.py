"""DOC: what the record must say about manual therapy."""

from __future__ import annotations

from cptlint.checks.base import Finding, Rule, register
from cptlint.checks.shared import category
from cptlint.diagnostics import Severity
from cptlint.model import Encounter


class _ManualTherapyNeeds(Rule):
    """A 97140 line must record one field (subclasses say which)."""

    severity = Severity.WARNING
    requires = frozenset({"manual_therapy"})
    field: str
    what: str

    def check(self, encounter: Encounter, policy):
        for service in encounter.services:
            value = getattr(service, self.field)
            if category(service, policy) == "manual_therapy" and not (value and value.strip()):
                yield Finding(service.place(self.field), f"{service.code} does not record {self.what}")


@register
class ManualTherapyWithoutResponse(_ManualTherapyNeeds):
    """97140 without the patient's response.

    ## What it checks
    A manual therapy line records `response`: how the patient responded (range of motion,
    pain, tissue change).

    ## Why a payer cares
    Manual therapy is paid as a skilled service; a note without the response reads as a routine
    that needs no therapist, and is the usual reason for a medical-review denial.

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
        techniques: [joint_mobilization]
        diagnosis_pointers: [1]
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
        response: Lumbar flexion improved 15 degrees
        goal: Lift a grandchild
    ```

    ## Source
    CMS Pub. 100-02, Ch. 15, §220.3 (treatment notes: skilled interventions and the patient's
    response).
    """

    code = "DOC001"
    needs = frozenset({"response"})
    name = "manual-therapy-without-response"
    field = "response"
    what = "the patient's response"


@register
class ManualTherapyWithoutGoal(_ManualTherapyNeeds):
    """97140 without a functional goal.

    ## What it checks
    A manual therapy line records `goal`: the functional goal of the plan of care it serves.

    ## Why a payer cares
    Services must be reasonable and necessary toward the goals of the plan of care; manual
    therapy tied to no goal looks like maintenance.

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
        techniques: [joint_mobilization]
        diagnosis_pointers: [1]
        response: Lumbar flexion improved 15 degrees
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
        response: Lumbar flexion improved 15 degrees
        goal: Lift a grandchild from the floor
    ```

    ## Source
    CMS Pub. 100-02, Ch. 15, §220.1.2 (plan of care with functional goals) and §220.3.
    """

    code = "DOC002"
    needs = frozenset({"goal"})
    name = "manual-therapy-without-goal"
    field = "goal"
    what = "the functional goal it serves"
