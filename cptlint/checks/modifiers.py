"""MOD: modifiers. Facts come from rules/modifiers.yaml and rules/ptp.yaml."""

from __future__ import annotations

import re

from cptlint.checks.base import Finding, Rule, register
from cptlint.checks.shared import (
    THERAPY_DISCIPLINE,
    bypass_modifiers,
    category,
    cmt_overlap,
    codes_paired,
    contiguous,
    is_timed,
    ncci_provider,
    overlap,
    pair_lines,
    regions,
)
from cptlint.diagnostics import Severity
from cptlint.fixes import Fix, MoveItem, RemoveItem
from cptlint.memo import Verdicts
from cptlint.model import Day, Encounter, Service
from cptlint.timerules import assistant_units

WELL_FORMED = Verdicts(re.compile(r"^[A-Z0-9]{2}$").match)  # a modifier is two capital letters or digits
MAX_MODIFIERS = 4


def _paired(cls, codes: tuple[str, ...], policy) -> bool:
    """applies() of the rules about NCCI pair edits: they need two codes an edit joins."""
    return codes_paired(codes, policy)


def _modifier_place(service: Service, modifier: str):
    return service.place("modifiers", service.modifiers.index(modifier))


@register
class PairWithoutBypass(Rule):
    """Two codes of an NCCI pair edit billed the same day without a bypass modifier.

    ## What it checks
    For each pair in `rules/ptp.yaml` (or the CMS practitioner PTP files) billed the same date of
    service by the same provider, the column-2 line carries 59 or XE/XP/XS/XU (either line, where
    the built-in data marks the column order unverified). A pair whose
    modifier indicator is 0 cannot be billed together at all, with or without a modifier.
    Lines billed 0 units are not on the claim and are left out; 97140 beside CMT in the same
    region is REG001's finding instead.

    ## Why a payer cares
    The column-2 code is denied unless a modifier says the services were distinct (a separate
    site, session or practitioner), and the record supports it.

    ## Fails
    ```yaml
    id: ENC-1
    date: 2026-03-14
    patient: P-1
    provider: {npi: "1234567893", discipline: PT}
    diagnoses: [M54.50]
    services:
      - {code: "97161", units: 1, modifiers: [GP], diagnosis_pointers: [1]}
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
    diagnoses: [M54.50]
    services:
      - {code: "97161", units: 1, modifiers: [GP], diagnosis_pointers: [1]}
      - code: "97140"
        units: 1
        minutes: 15
        modifiers: [GP, "59"]
        regions: [lumbar]
        techniques: [joint_mobilization]
        diagnosis_pointers: [1]
        response: Lumbar flexion improved
        goal: Lift a grandchild
    ```

    ## Source
    CMS NCCI PTP edits (practitioner file, modifier indicator column); APTA "Correct Coding
    Initiative" (2020: 59/X required for 97140 with 97161-97163); CMS MLN1783722 "Proper Use of
    Modifiers 59 & X{EPSU}".
    """

    code = "MOD001"
    name = "pair-without-bypass"
    severity = Severity.ERROR
    scope = "day"

    applies = classmethod(_paired)

    def check(self, day: Day, policy):
        for edit, first, second in pair_lines(day, policy):
            if cmt_overlap(first, second, policy):
                continue
            if edit.modifier_indicator == 0:
                yield Finding(
                    second.place("code"),
                    f"{second.code} cannot be billed with {first.code} on the same day: "
                    f"their NCCI edit allows no modifier",
                )
            elif not bypass_modifiers(second, policy) and not bypass_modifiers(first, policy):
                if edit.order_known:
                    message = (
                        f"{second.code} is bundled into {first.code} billed the same day (NCCI edit): "
                        f"add 59 or XE/XP/XS/XU to {second.code} if the services were distinct"
                    )
                else:
                    message = (
                        f"{first.code} and {second.code} billed the same day are an NCCI pair: add 59 or "
                        f"XE/XP/XS/XU to the column-2 code if the services were distinct (which one that is, "
                        f"the built-in data does not know: load the CMS table with ptp-files)"
                    )
                yield Finding(second.place("code"), message)


@register
class BypassOnColumnOne(Rule):
    """The bypass modifier sits on the column-1 line instead of the column-2 line.

    ## What it checks
    For an NCCI pair billed the same day, 59 or an X modifier belongs on the column-2 code (the
    one the edit denies); the finding sits on the misplaced modifier. A built-in pair whose column
    order no source gives (`order: unverified` in `rules/ptp.yaml`) is left alone.

    ## Why a payer cares
    A modifier on the wrong line bypasses nothing: the column-2 code is still denied. The OIG
    found one in nine modifier-59 pairs paid with the modifier on the primary code.

    ## Fails
    ```yaml
    id: ENC-1
    date: 2026-03-14
    patient: P-1
    provider: {npi: "1234567893", discipline: PT}
    diagnoses: [M54.50]
    services:
      - {code: "97012", units: 1, modifiers: [GP, "59"], diagnosis_pointers: [1]}
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
    diagnoses: [M54.50]
    services:
      - {code: "97012", units: 1, modifiers: [GP], diagnosis_pointers: [1]}
      - code: "97140"
        units: 1
        minutes: 15
        modifiers: [GP, "59"]
        regions: [lumbar]
        techniques: [joint_mobilization]
        diagnosis_pointers: [1]
        response: Lumbar flexion improved
        goal: Lift a grandchild
    ```

    ## Fix
    Unsafe: the record must support a distinct service. Moves the modifier, as written, to the end of
    the column-2 line's modifiers.

    ## Source
    AAPC Physical Medicine & Rehab Coding Alert (modifier 59 placement: "If you apply the
    modifier to the wrong code, you'll only get paid for that code"); CMS NCCI PTP edits.
    """

    code = "MOD002"
    name = "bypass-on-column-one"
    severity = Severity.ERROR
    scope = "day"
    fixable = "unsafe"

    applies = classmethod(_paired)

    def check(self, day: Day, policy):
        for edit, first, second in pair_lines(day, policy):
            misplaced = bypass_modifiers(first, policy)
            if edit.modifier_indicator == 1 and edit.order_known and misplaced and not bypass_modifiers(second, policy):
                move = None
                if first.encounter.doc is second.encounter.doc:
                    index = first.modifiers.index(misplaced[0])
                    move = Fix(
                        f"move {misplaced[0]} to {second.code}",
                        (MoveItem(first.parts + ("modifiers", index), second.parts + ("modifiers",)),),
                    )
                yield Finding(
                    _modifier_place(first, misplaced[0]),
                    f"{misplaced[0]} belongs on {second.code}, the column-2 code of the NCCI edit "
                    f"with {first.code}; on {first.code} it bypasses nothing",
                    move,
                )


@register
class DistinctAndXModifier(Rule):
    """59 and an X modifier (XE, XP, XS, XU) on one line.

    ## What it checks
    A line carries either 59 or one of its more specific X forms, never both. The finding sits
    on the 59.

    ## Why a payer cares
    The X modifiers replace 59 where they apply; payers reject a line that claims both.

    ## Fails
    ```yaml
    id: ENC-1
    date: 2026-03-14
    patient: P-1
    provider: {npi: "1234567893", discipline: PT}
    diagnoses: [M54.50]
    services:
      - {code: "97161", units: 1, modifiers: [GP], diagnosis_pointers: [1]}
      - code: "97140"
        units: 1
        minutes: 15
        modifiers: [GP, "59", XU]
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
    diagnoses: [M54.50]
    services:
      - {code: "97161", units: 1, modifiers: [GP], diagnosis_pointers: [1]}
      - code: "97140"
        units: 1
        minutes: 15
        modifiers: [GP, XU]
        regions: [lumbar]
        techniques: [joint_mobilization]
        diagnosis_pointers: [1]
        response: Lumbar flexion improved
        goal: Lift a grandchild
    ```

    ## Fix
    Safe. Removes the 59 and keeps the X modifier.

    ## Source
    CMS CR 8863 (X{EPSU} modifiers, 2015-01-01); HMSA and Moda Health policy ("It is not
    appropriate to bill both modifier 59 and a -X{EPSU} modifier on the same line").
    """

    code = "MOD003"
    name = "distinct-and-x-modifier"
    severity = Severity.ERROR
    fixable = "safe"

    def check(self, encounter: Encounter, policy):
        general = policy.modifiers.get("distinct_procedural", "59")
        for service in encounter.services:
            if general not in service.modifiers:
                continue
            specific = [m for m in policy.modifiers.get("bypass", ()) if m != general]
            both = [m for m in service.modifiers if m in specific]
            if both:
                place = _modifier_place(service, general)
                yield Finding(
                    place,
                    f"{general} and {both[0]} on one line: keep {both[0]}, the more specific one",
                    Fix(f"remove {general}", (RemoveItem(place.parts),)),
                )


@register
class BypassContradictsRecord(Rule):
    """The bypass modifier claims something the record contradicts.

    ## What it checks
    On an NCCI pair billed the same day, the column-2 line's modifier must fit the record:
    XS (separate structure) while both lines treat an overlapping region; XE (separate
    encounter) while both services share one continuous time block; XP (separate practitioner)
    with the same rendering provider; 59 with time blocks that overlap when the pair is
    97140/97530 (CMS: 97530 is not reported when both are in the same time block) or when its
    justification is a separate region of a CMT pair and the regions overlap.

    ## Why a payer cares
    A modifier the documentation contradicts turns a denial into an overpayment found on audit.

    ## Fails
    ```yaml
    id: ENC-1
    date: 2026-03-14
    patient: P-1
    provider: {npi: "1234567893", discipline: PT}
    diagnoses: [M54.50]
    services:
      - {code: "97161", units: 1, modifiers: [GP], diagnosis_pointers: [1]}
      - code: "97140"
        units: 1
        minutes: 15
        modifiers: [GP, XP]
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
    diagnoses: [M54.50]
    services:
      - {code: "97161", units: 1, modifiers: [GP], diagnosis_pointers: [1]}
      - code: "97140"
        units: 1
        minutes: 15
        modifiers: [GP, XU]
        regions: [lumbar]
        techniques: [joint_mobilization]
        diagnosis_pointers: [1]
        response: Lumbar flexion improved
        goal: Lift a grandchild
    ```

    ## Source
    CMS MLN1783722 "Proper Use of Modifiers 59 & X{EPSU}" (Example 9: 97140 and 97530 in
    distinctly different 15-minute time blocks); CMS CR 8863 (definitions of XE, XP, XS, XU).
    """

    code = "MOD004"
    name = "bypass-contradicts-record"
    severity = Severity.ERROR
    scope = "day"

    applies = classmethod(_paired)

    def check(self, day: Day, policy):
        for edit, first, second in pair_lines(day, policy):
            if edit.modifier_indicator != 1 or cmt_overlap(first, second, policy):
                continue
            # where the column order is unverified, the modifier may be on either line
            for line, other in ((second, first),) if edit.order_known else ((second, first), (first, second)):
                for modifier in bypass_modifiers(line, policy):
                    reason = self._contradiction(modifier, other, line, policy)
                    if reason:
                        yield Finding(_modifier_place(line, modifier), f"{modifier} on {line.code}: {reason}")

    @staticmethod
    def _contradiction(modifier: str, first: Service, second: Service, policy) -> str | None:
        shared = regions(first, policy) & regions(second, policy)
        if modifier == "XS" and shared:
            return f"claims a separate structure, but both lines treat {', '.join(sorted(shared))}"
        if modifier == "XE" and contiguous(first, second):
            return f"claims a separate encounter, but {first.code} and {second.code} share one continuous time block"
        if modifier == "XP" and first.provider and second.provider and first.provider.npi and first.provider.npi == second.provider.npi:
            return f"claims a separate practitioner, but both lines were rendered by NPI {first.provider.npi}"
        if modifier == "59" and overlap(first, second):
            if {first.code, second.code} == {"97140", "97530"}:
                return "97140 and 97530 were performed in the same time block: 97530 is not reported then"
            if category(first, policy) == "cmt" and shared:
                return f"claims a separate region from {first.code}, but both treat {', '.join(sorted(shared))}"
        return None


@register
class TherapyModifier(Rule):
    """A therapy code without GP, GO or GN, or with one that contradicts the provider.

    ## What it checks
    Where the payer profile says `therapy_modifiers: required`, every "always therapy" code
    (`therapy: always` in `rules/codes.yaml`: 97140, 97110, 97035, ...) carries the modifier of
    its plan of care: GP physical therapy, GO occupational therapy, GN speech-language
    pathology. A profile's `therapy_modifiers_for` names the disciplines it asks this of (the
    built-in commercial profile: therapists and assistants, not chiropractors), and
    `therapy_modifiers_missing: warning` makes a missing one a warning. A line billed with GY
    (statutorily excluded: a chiropractor's ultrasound for Medicare) is not billed as therapy of
    a plan of care and needs none. The modifier must match the rendering provider's discipline (PT and PTA: GP; OT
    and OTA: GO; SLP: GN), and a line carries only one of them.

    ## Why a payer cares
    Medicare returns therapy lines without the plan-of-care modifier as unprocessable, and the
    modifier decides whose therapy threshold the service counts against.

    ## Fails
    ```yaml
    id: ENC-1
    date: 2026-03-14
    patient: P-1
    provider: {npi: "1234567893", discipline: PT}
    diagnoses: [M54.50]
    services:
      - {code: "97110", units: 1, minutes: 15, diagnosis_pointers: [1]}
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
    CMS Pub. 100-04, Ch. 5, §20.1 (GN, GO, GP on therapy services); Anthem professional
    reimbursement policy (GN/GO/GP on "always therapy" codes).
    """

    code = "MOD005"
    name = "therapy-modifier"
    severity = Severity.ERROR

    def check(self, encounter: Encounter, policy):
        therapy = policy.modifiers.get("therapy", {})
        for service in encounter.services:
            present = [m for m in service.modifiers if m in therapy]
            if len(present) > 1:
                present = list(dict.fromkeys(present))  # a modifier written twice is MOD007's
            discipline = service.provider.discipline if service.provider else None
            if not present:
                info = policy.code(service.code)
                payer = encounter.payer
                asked = (
                    payer.therapy_modifiers == "required"
                    and (payer.therapy_modifiers_for is None or discipline in payer.therapy_modifiers_for)
                    and policy.modifiers.get("statutorily_excluded", "GY") not in service.modifiers
                )
                if info and info.therapy == "always" and asked:
                    expected = next((m for m, ds in therapy.items() if discipline in ds), None)
                    hint = f"add {expected}" if expected else "add GP, GO or GN"
                    yield Finding(
                        service.place("modifiers"),
                        f"{service.code} is an always-therapy code: {hint} for its plan of care",
                        severity=Severity.WARNING if payer.therapy_modifiers_missing == "warning" else None,
                    )
                continue
            if len(present) > 1:
                yield Finding(_modifier_place(service, present[1]), f"{' and '.join(present)} on one line: a service belongs to one plan of care")
                continue
            allowed = therapy[present[0]]
            if discipline not in allowed and any(discipline in ds for ds in therapy.values()):  # a therapist of another discipline
                yield Finding(
                    _modifier_place(service, present[0]),
                    f"{present[0]} is for {'/'.join(allowed)} services, but the line was rendered by a {discipline}",
                )


@register
class AssistantModifier(Rule):
    """CQ or CO without its therapy modifier, or on more or fewer units than an assistant furnished.

    ## What it checks
    CQ (furnished in whole or in part by a physical therapist assistant) stands beside GP, and
    CO (occupational therapy assistant) beside GO. Where the payer profile says
    `assistant_modifiers: required`, the units of a code that an assistant furnished carry CQ or
    CO, counted per code, day and billing provider from the minutes of each line's rendering
    provider as CMS counts them: each one's full 15-minute units go to who furnished them; a
    final unit carries the modifier when the assistant furnished more than 10% of its minutes
    (the de minimis standard), except where the therapist alone furnished 8 minutes or more of
    it; two units left, where each furnished 9-14 minutes, are billed one with the modifier and
    one without. An untimed code carries it when the assistant furnished more than 10% of its
    minutes. Without minutes on the lines only a code the assistant alone rendered is judged.

    ## Why a payer cares
    Since 2022 Medicare pays assistant services at 85%: a missing CQ/CO is an overpayment, one
    on a unit the therapist furnished costs the clinic 15%, and CQ without GP is returned as
    invalid.

    ## Fails
    ```yaml
    # the PT furnished 5 minutes and the PTA 10: the one unit is the PTA's (de minimis)
    id: ENC-1
    date: 2026-03-14
    payer: medicare
    patient: P-1
    provider: {npi: "1234567893", discipline: PT}
    diagnoses: [M54.50]
    services:
      - {code: "97110", units: 1, minutes: 5, modifiers: [GP], diagnosis_pointers: [1]}
      - code: "97110"
        units: 0
        minutes: 10
        modifiers: [GP]
        diagnosis_pointers: [1]
        provider: {npi: "1245319599", discipline: PTA}
    ```

    ## Passes
    ```yaml
    # the PTA furnished 23 minutes, the PT 13: one unit with CQ, and the final unit, where the
    # PT furnished 8 minutes or more, without
    id: ENC-1
    date: 2026-03-14
    payer: medicare
    patient: P-1
    provider: {npi: "1234567893", discipline: PT}
    diagnoses: [M54.50]
    services:
      - {code: "97110", units: 1, minutes: 13, modifiers: [GP], diagnosis_pointers: [1]}
      - code: "97110"
        units: 1
        minutes: 23
        modifiers: [GP, CQ]
        diagnosis_pointers: [1]
        provider: {npi: "1245319599", discipline: PTA}
    ```

    ## Source
    CMS therapy services page and "Billing Examples Using CQ/CO Modifiers" (CQ/CO required since
    2020-01-01, paid at 85% since 2022-01-01, reported alongside GP/GO; the de minimis standard
    and the two CY 2022 exceptions, CY 2022 PFS final rule).
    """

    code = "MOD006"
    name = "assistant-modifier"
    severity = Severity.ERROR
    scope = "day"

    def check(self, day: Day, policy):
        assistant = policy.modifiers.get("assistant", {})
        rendered = set()  # the disciplines of the day's lines: most days have no assistant
        for service in day.services:
            if service.provider is not None:
                rendered.add(service.provider.discipline)
            for modifier, spec in assistant.items():
                if modifier in service.modifiers and spec["therapy"] not in service.modifiers:
                    yield Finding(
                        _modifier_place(service, modifier),
                        f"{modifier} goes with {spec['therapy']}: add {spec['therapy']} to this line",
                    )
        if day.payer.assistant_modifiers != "required":
            return
        for modifier, spec in assistant.items():
            if spec["discipline"] in rendered:
                for lines in _assistant_groups(day, spec["discipline"], policy):
                    yield from self._judge(lines, modifier, spec["discipline"], policy)

    @staticmethod
    def _judge(lines: list[Service], modifier: str, assistant: str, policy):
        """One code of one billing provider on one day, with a line an assistant rendered."""
        code = lines[0].code
        by_assistant = [s for s in lines if s.provider.discipline == assistant]
        units = sum(s.units for s in lines)
        marked = sum(s.units for s in lines if modifier in s.modifiers)
        if all(s.minutes is not None for s in lines):
            theirs = sum(s.minutes for s in by_assistant)
            total = sum(s.minutes for s in lines)
            if is_timed(lines[0], policy):
                fewest, most = assistant_units(total - theirs, theirs, units)
            else:
                fewest = most = units if theirs * 10 > total else 0
            minutes = f"the {assistant} furnished {theirs} of its {total} minutes"
        elif len(by_assistant) == len(lines):
            fewest = most = units
            minutes = f"the {assistant} furnished it all"
        else:
            return  # who furnished how much is not written
        if marked < fewest:
            unmarked = [s for s in lines if modifier not in s.modifiers and s.units]
            line = next((s for s in unmarked if s in by_assistant), unmarked[0])
            if len(by_assistant) == len(lines):
                message = f"rendered by a {assistant}: add {modifier} (furnished in whole or in part by an assistant)"
            else:
                message = f"{code}: {minutes}, so {modifier} belongs on {fewest} of its {units} units (CMS de minimis rule); {marked} have it"
            yield Finding(line.place("modifiers"), message)
        elif marked > most:
            with_it = [s for s in lines if modifier in s.modifiers and s.units]
            line = next((s for s in with_it if s not in by_assistant), with_it[0])
            yield Finding(
                _modifier_place(line, modifier),
                f"{modifier} on {marked} of the {units} units of {code}, but {minutes}: it belongs on "
                f"{most} (CMS de minimis rule and its CY 2022 exceptions)",
            )


def _assistant_groups(day: Day, assistant: str, policy):
    """The lines of each code, by billing provider, of the day's codes an assistant of this
    discipline rendered a line of: the assistant's lines and the therapist's."""
    family = THERAPY_DISCIPLINE.get(assistant)
    groups: dict[tuple, list[Service]] = {}
    for service in day.services:
        provider = service.provider
        if provider is None or THERAPY_DISCIPLINE.get(provider.discipline) != family:
            continue
        info = policy.code(service.code)
        if info is None or info.therapy == "never":
            continue
        groups.setdefault((service.code, ncci_provider(service)[0]), []).append(service)
    return [lines for lines in groups.values() if any(s.provider.discipline == assistant for s in lines)]


@register
class MalformedModifier(Rule):
    """A malformed modifier, a duplicate, or more than four on a line.

    ## What it checks
    A modifier is exactly two capital letters or digits (`GP`, `59`); each appears once on a
    line; a line carries at most four (the claim format has four modifier slots).

    ## Why a payer cares
    A claim with a malformed modifier or a fifth one is rejected at the front door, before
    any billing rule is applied.

    ## Fails
    ```yaml
    id: ENC-1
    date: 2026-03-14
    patient: P-1
    provider: {npi: "1234567893", discipline: PT}
    diagnoses: [M54.50]
    services:
      - {code: "97110", units: 1, minutes: 15, modifiers: [GP, gp, KX1], diagnosis_pointers: [1]}
    ```

    ## Passes
    ```yaml
    id: ENC-1
    date: 2026-03-14
    patient: P-1
    provider: {npi: "1234567893", discipline: PT}
    diagnoses: [M54.50]
    services:
      - {code: "97110", units: 1, minutes: 15, modifiers: [GP, KX], diagnosis_pointers: [1]}
    ```

    ## Source
    ASC X12 837P composite C003 (SV101-3 to SV101-6: four modifiers, each exactly two
    characters); claim-validator's modifier format check.
    """

    code = "MOD007"
    name = "malformed-modifier"
    severity = Severity.ERROR

    def check(self, encounter: Encounter, policy):
        for service in encounter.services:
            modifiers = service.modifiers
            for index, modifier in enumerate(modifiers):
                if not WELL_FORMED[modifier]:
                    hint = f' (did you mean "{modifier.upper()}"?)' if WELL_FORMED[modifier.upper()] else ""
                    yield Finding(service.place("modifiers", index), f'modifier "{modifier}" is not two capital letters or digits{hint}')
                elif modifier in modifiers[:index]:  # a line has at most a few: cheaper than a set
                    yield Finding(service.place("modifiers", index), f"modifier {modifier} appears twice on this line")
            if len(service.modifiers) > MAX_MODIFIERS:
                yield Finding(
                    service.place("modifiers", MAX_MODIFIERS),
                    f"{len(service.modifiers)} modifiers on one line: a claim line has room for {MAX_MODIFIERS}",
                )


@register
class CmtWithoutActiveTreatment(Rule):
    """Medicare spinal CMT (98940-98942) without the AT modifier.

    ## What it checks
    Where the payer profile says `cmt_active_treatment: required`, spinal chiropractic
    manipulation (codes with `spinal_regions` in `rules/codes.yaml`) carries AT, the marker of
    active or corrective treatment, unless it is billed as maintenance care: with GA (an advance
    beneficiary notice is on file) or GZ (no notice), the modifiers of a service expected to be
    denied.

    ## Why a payer cares
    Medicare pays CMT only as active treatment; without AT the claim is denied as maintenance
    care.

    ## Fails
    ```yaml
    id: ENC-1
    date: 2026-03-14
    payer: medicare
    patient: P-1
    provider: {npi: "1234567893", discipline: DC}
    diagnoses: [M99.03, M54.50]
    services:
      - {code: "98940", units: 1, regions: [lumbar], diagnosis_pointers: [1, 2]}
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
    NGS "Medicare Coverage of Chiropractic Services" (AT on active treatment; GA for maintenance
    manipulation with an ABN); pgmbilling.com and AmeriHealth Medicare Advantage policy (CMT
    without AT is maintenance care and denied); KMC University "Medicare Modifier Madness" (AT,
    GA or GZ on a Medicare spinal adjustment).
    """

    code = "MOD008"
    requires = frozenset({"cmt"})
    name = "cmt-without-active-treatment"
    severity = Severity.ERROR

    def check(self, encounter: Encounter, policy):
        if encounter.payer.cmt_active_treatment != "required":
            return
        marker = policy.modifiers.get("active_treatment", "AT")
        maintenance = policy.modifiers.get("maintenance", ())
        for service in encounter.services:
            info = policy.code(service.code)
            if info and info.is_spinal_cmt and marker not in service.modifiers and not any(m in maintenance for m in service.modifiers):
                yield Finding(
                    service.place("modifiers"),
                    f"{service.code} for {encounter.payer.title} needs {marker} (active treatment); "
                    f"without it the manipulation is denied as maintenance care (GA: maintenance, an ABN on file)",
                )


@register
class ActiveTreatmentWithNotice(Rule):
    """AT and GA on one spinal manipulation line.

    ## What it checks
    Where the payer profile says `cmt_active_treatment: required`, a spinal CMT line (98940-98942)
    carries AT (active treatment, expected to be paid) or GA (maintenance care, an advance
    beneficiary notice on file, expected to be denied), never both, for dates of service from
    2015-11-01.

    ## Why a payer cares
    The two say opposite things: an ABN cannot be issued for a service billed as active treatment.
    MACs reject the line without appeal rights, and it must be billed again.

    ## Fails
    ```yaml
    id: ENC-1
    date: 2026-03-14
    payer: medicare
    patient: P-1
    provider: {npi: "1234567893", discipline: DC}
    diagnoses: [M99.03, M54.50]
    services:
      - {code: "98940", units: 1, modifiers: [AT, GA], regions: [lumbar], diagnosis_pointers: [1, 2]}
    ```

    ## Passes
    ```yaml
    # maintenance care with an ABN on file
    id: ENC-1
    date: 2026-03-14
    payer: medicare
    patient: P-1
    provider: {npi: "1234567893", discipline: DC}
    diagnoses: [M99.03, M54.50]
    services:
      - {code: "98940", units: 1, modifiers: [GA], regions: [lumbar], diagnosis_pointers: [1, 2]}
    ```

    ## Source
    Palmetto GBA "Chiropractic Claims Submitted with Both the 'AT' and 'GA' Modifier to Reject"
    (dates of service from 2015-11-01; published 2020-05-29); NGS "Medicare Coverage of
    Chiropractic Services" (the GA modifier).
    """

    code = "MOD009"
    requires = frozenset({"cmt"})
    name = "active-treatment-with-notice"
    severity = Severity.ERROR
    since = "2015-11-01"

    def check(self, encounter: Encounter, policy):
        if encounter.payer.cmt_active_treatment != "required" or encounter.date < self.since:
            return
        active = policy.modifiers.get("active_treatment", "AT")
        notice = policy.modifiers.get("abn_on_file", "GA")
        for service in encounter.services:
            info = policy.code(service.code)
            if info and info.is_spinal_cmt and active in service.modifiers and notice in service.modifiers:
                yield Finding(
                    _modifier_place(service, notice),
                    f"{active} and {notice} on {service.code}: active treatment is billed to be paid, "
                    f"{notice} (ABN on file) to be denied as maintenance care; keep the one the record supports",
                )
