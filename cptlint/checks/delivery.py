"""DLV: group versus one-on-one delivery, time blocks, and who may furnish a service."""

from __future__ import annotations

from cptlint.checks.base import Finding, Rule, register
from cptlint.checks.shared import category, is_timed, overlap, same_clinician, timed_codes
from cptlint.diagnostics import Severity
from cptlint.model import Day, Encounter


def _one_on_one(code: str, policy) -> bool:
    info = policy.code(code)
    return bool(info and info.one_on_one)


@register
class OneOnOneCodeInGroup(Rule):
    """A one-on-one code delivered to a group.

    ## What it checks
    A line with `group: true` uses a direct one-on-one code (97110-97542, 97140 included).
    Services given to two or more patients at once are billed as 97150, one unit per patient.

    ## Why a payer cares
    CMS: when a therapist works with two or more patients during the same time, only 97150 is
    reported. One-on-one codes for group time are paid at a rate the service did not earn.

    ## Fails
    ```yaml
    id: ENC-1
    date: 2026-03-14
    patient: P-1
    provider: {npi: "1234567893", discipline: PT}
    diagnoses: [M54.50]
    services:
      - {code: "97110", units: 2, minutes: 30, group: true, modifiers: [GP], diagnosis_pointers: [1]}
    ```

    ## Passes
    ```yaml
    id: ENC-1
    date: 2026-03-14
    patient: P-1
    provider: {npi: "1234567893", discipline: PT}
    diagnoses: [M54.50]
    services:
      - {code: "97150", units: 1, group: true, modifiers: [GP], diagnosis_pointers: [1]}
    ```

    ## Source
    CMS Medicare Benefit Policy text quoted in APTA "One-on-One and the Group Code"
    (Transmittal 1753, 2002): "only 97150 is reported for each patient".
    """

    code = "DLV001"
    needs = frozenset({"group"})
    name = "one-on-one-code-in-group"
    severity = Severity.ERROR

    @classmethod
    def applies(cls, codes, policy) -> bool:
        return any(_one_on_one(code, policy) for code in codes)

    def check(self, encounter: Encounter, policy):
        for service in encounter.services:
            if service.group and _one_on_one(service.code, policy):
                yield Finding(
                    service.place("group"),
                    f"{service.code} is a one-on-one code but was delivered to a group: bill 97150",
                )


@register
class GroupAndOneOnOneSameTime(Rule):
    """97150 and a one-on-one code for the same time period.

    ## What it checks
    When a line of 97150 and a one-on-one line by the same clinician both record time blocks,
    the blocks do not overlap (blocks that only touch are fine). At separate times the two are
    still an NCCI pair (MOD001): 59 or an X modifier says the sessions were distinct.

    ## Why a payer cares
    A patient in a group during a period cannot also get one-on-one time from the clinician
    running that group: the same minutes are billed twice.

    ## Fails
    ```yaml
    id: ENC-1
    date: 2026-03-14
    patient: P-1
    provider: {npi: "1234567893", discipline: PT}
    diagnoses: [M54.50]
    services:
      - {code: "97150", units: 1, group: true, start: "09:00", end: "09:45", modifiers: [GP], diagnosis_pointers: [1]}
      - {code: "97110", units: 1, minutes: 15, start: "09:30", end: "09:45", modifiers: [GP], diagnosis_pointers: [1]}
    ```

    ## Passes
    ```yaml
    id: ENC-1
    date: 2026-03-14
    patient: P-1
    provider: {npi: "1234567893", discipline: PT}
    diagnoses: [M54.50]
    services:
      - {code: "97150", units: 1, group: true, start: "09:00", end: "09:30", modifiers: [GP], diagnosis_pointers: [1]}
      - {code: "97110", units: 1, minutes: 15, start: "09:30", end: "09:45", modifiers: [GP, "59"], diagnosis_pointers: [1]}
    ```

    ## Source
    CMS text quoted by codingahead.com and APTA ("If a therapist ... performs any of the
    procedures with two or more individuals concurrently or during the same time period, then
    only 97150 is reported").
    """

    code = "DLV002"
    needs = frozenset({"start"})
    requires = frozenset({"group"})
    name = "group-and-one-on-one-same-time"
    severity = Severity.ERROR
    scope = "day"

    def check(self, day: Day, policy):
        groups = [s for s in day.services if category(s, policy) == "group"]
        for service in day.services:
            if not _one_on_one(service.code, policy):
                continue
            for group in groups:
                if same_clinician(group, service) and overlap(group, service):
                    yield Finding(
                        service.place("start"),
                        f"{service.code} {service.start}-{service.end} overlaps group therapy 97150 "
                        f"{group.start}-{group.end}: during group time only 97150 is billed",
                    )
                    break


@register
class OverlappingOneOnOne(Rule):
    """One patient's one-on-one timed services with overlapping time blocks.

    ## What it checks
    A patient's timed one-on-one lines on a day do not overlap in time: one clinician gives one
    one-on-one service at a time, and when two clinicians (a PT and a PTA, a PT and an OT)
    treat the patient together, the session's minutes are billed once between them, not by
    each. Blocks that only touch (09:00-09:15 and 09:15-09:30) are fine; lines without blocks
    are not compared. The finding sits on the later line's start.

    ## Why a payer cares
    Overlapping blocks count the same minutes under two codes, or twice for two clinicians,
    which inflates the units the 8-minute rule allows.

    ## Fails
    ```yaml
    id: ENC-1
    date: 2026-03-14
    patient: P-1
    provider: {npi: "1234567893", discipline: PT}
    diagnoses: [M54.50]
    services:
      - {code: "97110", units: 1, minutes: 15, start: "09:00", end: "09:15", modifiers: [GP], diagnosis_pointers: [1]}
      - {code: "97112", units: 1, minutes: 15, start: "09:10", end: "09:25", modifiers: [GP], diagnosis_pointers: [1]}
    ```

    ## Passes
    ```yaml
    id: ENC-1
    date: 2026-03-14
    patient: P-1
    provider: {npi: "1234567893", discipline: PT}
    diagnoses: [M54.50]
    services:
      - {code: "97110", units: 1, minutes: 15, start: "09:00", end: "09:15", modifiers: [GP], diagnosis_pointers: [1]}
      - {code: "97112", units: 1, minutes: 15, start: "09:15", end: "09:30", modifiers: [GP], diagnosis_pointers: [1]}
    ```

    ## Source
    CMS Pub. 100-04, Ch. 5, §20.2 (timed minutes are direct one-on-one contact); WebPT and
    maama.org on one-on-one time; for two clinicians, Medicare Part B co-treatment: the time
    billed between them equals the session's length (WebPT, "The Rehab Therapist's Guide to
    Co-Treatment Under Medicare", 2022; ADVANCE, "Following Correct Billing Guidelines;
    Co-Treatments", on team therapy).
    """

    code = "DLV003"
    needs = frozenset({"start"})
    name = "overlapping-one-on-one"
    severity = Severity.ERROR
    scope = "day"

    @classmethod
    def applies(cls, codes, policy) -> bool:
        return sum(1 for code in timed_codes(codes, policy) if _one_on_one(code, policy)) >= 2

    def check(self, day: Day, policy):
        lines = [s for s in day.services if s.has_time_block and _one_on_one(s.code, policy) and is_timed(s, policy)]
        if len(lines) < 2:  # most days: no two lines with their time recorded
            return
        lines.sort(key=lambda s: s.start_minute)
        running: list = []  # blocks still open at the current start: a sweep, not every pair
        for later in lines:
            running = [s for s in running if s.end_minute > later.start_minute]
            for earlier in running:
                if overlap(earlier, later):
                    who = "by the same clinician" if same_clinician(earlier, later) else (
                        "by another clinician: the minutes of a session two clinicians share are billed once between them"
                    )
                    yield Finding(
                        later.place("start"),
                        f"{later.code} {later.start}-{later.end} overlaps {earlier.code} {earlier.start}-{earlier.end} {who}",
                    )
                    break
            running.append(later)


@register
class EvaluationByAssistant(Rule):
    """An evaluation or re-evaluation furnished by a therapy assistant.

    ## What it checks
    A line billing an evaluation or re-evaluation (97161-97168, category `evaluation` in
    rules/codes.yaml) is not rendered by a PTA or OTA: the line's own provider, else the
    encounter's.

    ## Why a payer cares
    Medicare lets assistants furnish treatment under a therapist's supervision, never the
    evaluation: "PTAs may not provide evaluative or assessment services" (and so for OTAs). An
    evaluation billed as an assistant's is denied, and on review is the therapist's plan of
    care left without the evaluation it rests on.

    ## Fails
    ```yaml
    id: ENC-1
    date: 2026-03-14
    patient: P-1
    provider: {npi: "1234567893", discipline: PT}
    diagnoses: [M54.50]
    services:
      - {code: "97164", units: 1, modifiers: [GP, CQ], diagnosis_pointers: [1], provider: {npi: "1245319599", discipline: PTA}}
    ```

    ## Passes
    ```yaml
    id: ENC-1
    date: 2026-03-14
    patient: P-1
    provider: {npi: "1234567893", discipline: PT}
    diagnoses: [M54.50]
    services:
      - {code: "97164", units: 1, modifiers: [GP], diagnosis_pointers: [1]}
    ```

    ## Source
    CMS Medicare Benefit Policy Manual, Pub. 100-02, Ch. 15, §230.1 (PTAs "may not provide
    evaluative or assessment services, make clinical judgments or decisions") and §230.2 (OTAs).
    """

    code = "DLV004"
    name = "evaluation-by-assistant"
    severity = Severity.ERROR
    requires = frozenset({"evaluation"})

    def check(self, encounter: Encounter, policy):
        assistants = {spec["discipline"] for spec in policy.modifiers["assistant"].values()}  # rules/modifiers.yaml
        for service in encounter.services:
            provider = service.provider
            if category(service, policy) == "evaluation" and provider is not None and provider.discipline in assistants:
                yield Finding(
                    service.place("code"),
                    f"{service.code} is an evaluation, rendered by a {provider.discipline}: an assistant may not furnish one",
                )
