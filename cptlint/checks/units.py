"""UNT: units versus minutes. The payer profile's `time_rule` picks the CMS total-time rule
(`total`) or the per-code rule (`per_code`); see cptlint/timerules.py for the arithmetic."""

from __future__ import annotations

from collections import defaultdict
from functools import partial

from cptlint.checks.base import Finding, Rule, register
from cptlint.checks.shared import category, discipline, is_billed, is_timed, timed_codes
from cptlint.diagnostics import Severity
from cptlint.fixes import Fix, RemoveItem, SetScalar
from cptlint.model import Day, Encounter, Service
from cptlint.timerules import TotalTimeAllowance, units_for

UNTIMED_ONE_A_DAY = frozenset({"evaluation", "group", "modality_supervised", "cmt"})


def _pools(day: Day, policy) -> list[tuple[dict[str, int], dict[str, int], dict[str, Service], TotalTimeAllowance]]:
    """Per discipline (PT and OT minutes are counted apart), in the order the day first bills
    them: minutes and units summed per code, each code's first line, and what the minutes allow
    under the total-time rule. Pools where a timed line lacks minutes are left to UNT003: their
    allowance is unknown. Worked out once a day, in one pass over its lines, for three rules."""
    pools = day.memo.get("unit_pools")
    if pools is None:
        sums: dict = {}  # discipline: (minutes, billed, first), or None once a line lacks minutes
        codes = policy.codes
        for s in day.services:
            info = codes.get(s.code)
            if info is None or not info.timed:
                continue
            key = discipline(s, policy)
            pool = sums.get(key, False)
            if pool is None:
                continue
            if s.minutes is None:
                sums[key] = None
            elif pool is False:
                sums[key] = ({s.code: s.minutes}, {s.code: s.units}, {s.code: s})
            elif s.code in pool[2]:
                pool[0][s.code] += s.minutes
                pool[1][s.code] += s.units
            else:
                pool[0][s.code], pool[1][s.code], pool[2][s.code] = s.minutes, s.units, s
        pools = day.memo["unit_pools"] = [(*pool, TotalTimeAllowance(pool[0])) for pool in sums.values() if pool]
    return pools


def _bills_timed(cls, codes: tuple[str, ...], policy) -> bool:
    """applies() of the rules about timed minutes: they have nothing to say without a timed code."""
    return bool(timed_codes(codes, policy))


def _set_units(day: Day, finding_line: Service, target: dict[str, int], keep) -> Fix | None:
    """Set each code's units to target where keep(billed, wanted) is false; only codes billed on
    one line in the finding's file can be set (UNT006 merges split lines first)."""
    lines: dict[str, list[Service]] = defaultdict(list)
    for s in day.services:
        lines[s.code].append(s)
    operations = []
    for code, wanted in target.items():
        (line, *others) = lines[code]
        if keep(line.units, wanted):
            continue
        if others or line.encounter.doc is not finding_line.encounter.doc:
            return None
        operations.append(SetScalar(line.parts + ("units",), str(wanted)))
    return Fix("set the units the minutes support", tuple(operations)) if operations else None


def _to_allocation(day: Day, finding_line: Service, allowance: TotalTimeAllowance, billed: dict[str, int], keep) -> Fix | None:
    """_set_units to the allocation the rule allows that is closest to what was billed."""
    return _set_units(day, finding_line, allowance.allocation(prefer=billed), keep)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _by_code(values: dict[str, int], minutes: dict[str, int]) -> str:
    return ", ".join(f"{code} ({minutes[code]} min) {values.get(code, 0)}" for code in minutes)


@register
class UnitsExceedMinutes(Rule):
    """More timed units billed than the minutes allow.

    ## What it checks
    Under the CMS total-time rule (payer `time_rule: total`, Medicare) the day's timed minutes T,
    counted per discipline and including lines billed 0 units, allow floor((T + 7) / 15) units:
    8-22 minutes = 1, 23-37 = 2, and so on. Under the per-code rule (`per_code`) each code's own
    minutes allow units by the same table. Billing more is an error, and so is a single service
    under 8 minutes billed a unit. Untimed codes' minutes never count.

    ## Why a payer cares
    It is the most audited therapy billing error: each excess unit is an overpayment the
    contractor recoups, and a pattern of them draws a targeted review.

    ## Fails
    ```yaml
    id: ENC-1
    date: 2026-03-14
    payer: medicare
    patient: P-1
    provider: {npi: "1234567893", discipline: PT}
    diagnoses: [M54.50]
    services:
      - {code: "97110", units: 3, minutes: 30, modifiers: [GP], diagnosis_pointers: [1]}
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
      - {code: "97110", units: 2, minutes: 30, modifiers: [GP], diagnosis_pointers: [1]}
    ```

    ## Fix
    Safe. Lowers the units to what the minutes allow under the payer's rule: under the CMS rule to the
    allocation closest to what was billed, under the per-code rule to each code's own units. Not
    made when a code is split over several lines (UNT006 merges them first) or over files.

    ## Source
    CMS Medicare Claims Processing Manual, Pub. 100-04, Ch. 5, §20.2 ("Counting Minutes for Timed
    Codes in 15 Minute Units"); AMA CPT time rule as applied by Premera "Billing for Time"
    (2019-11-07) for the per-code rule.
    """

    code = "UNT001"
    needs = frozenset({"minutes"})
    name = "units-exceed-minutes"
    severity = Severity.ERROR
    scope = "day"
    fixable = "safe"

    applies = classmethod(_bills_timed)

    def check(self, day: Day, policy):
        for minutes, billed, first, allowance in _pools(day, policy):
            if day.payer.time_rule == "total":
                total_billed = sum(billed.values())
                if total_billed > allowance.total:
                    worst = max(minutes, key=lambda c: billed[c] - allowance.most(c))
                    note = " (a service under 8 minutes is not billed)" if allowance.total_minutes < 8 else ""
                    lower = partial(_to_allocation, day, first[worst], allowance, billed, int.__le__)
                    yield Finding(
                        first[worst].place("units"),
                        f"{_plural(total_billed, 'timed unit')} billed for {allowance.total_minutes} timed minutes; "
                        f"the CMS 8-minute rule allows {allowance.total}{note}",
                        lower,
                    )
            else:
                for code, used in minutes.items():
                    allowed = units_for(used)
                    if billed[code] > allowed:
                        yield Finding(
                            first[code].place("units"),
                            f"{_plural(billed[code], 'unit')} of {code} billed for {used} minutes; "
                            f"the per-code rule allows {allowed}",
                            partial(_set_units, day, first[code], {code: allowed}, int.__le__),
                        )


@register
class UnitsSpreadAgainstRule(Rule):
    """The day's units fit the minutes, but they are spread over the codes against the rule.

    ## What it checks
    Under the CMS total-time rule each code first gets one unit per full 15 minutes of its own;
    the units left over go to the codes with the most minutes left over (a tie is the provider's
    choice). A visit of 20 + 20 minutes allows 3 units as 2 + 1, never 3 + 0; 33 minutes of 97110
    and 7 of 97140 allow 97110 = 2 and 97140 = 1, never 1 and 2. Only the total-time rule spreads
    units, so this rule is silent under per-code profiles.

    ## Why a payer cares
    Codes are paid at different rates: putting the units on the better-paid code bills a
    service for time it did not take.

    ## Fails
    ```yaml
    id: ENC-1
    date: 2026-03-14
    payer: medicare
    patient: P-1
    provider: {npi: "1234567893", discipline: PT}
    diagnoses: [M54.50]
    services:
      - {code: "97110", units: 3, minutes: 20, modifiers: [GP], diagnosis_pointers: [1]}
      - {code: "97112", units: 0, minutes: 20, modifiers: [GP], diagnosis_pointers: [1]}
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
      - {code: "97110", units: 2, minutes: 20, modifiers: [GP], diagnosis_pointers: [1]}
      - {code: "97112", units: 1, minutes: 20, modifiers: [GP], diagnosis_pointers: [1]}
    ```

    ## Source
    CMS Pub. 100-04, Ch. 5, §20.2, Examples 1-5 ("Do not bill 3 units for either one of the
    codes"; "assigning more timed units to the service that took the most time").
    """

    code = "UNT002"
    needs = frozenset({"minutes"})
    name = "units-spread-against-rule"
    severity = Severity.ERROR
    scope = "day"

    applies = classmethod(_bills_timed)

    def check(self, day: Day, policy):
        if day.payer.time_rule != "total":
            return
        for minutes, billed, first, allowance in _pools(day, policy):
            if sum(billed.values()) > allowance.total or allowance.allows(billed):
                continue
            over = [c for c in minutes if billed[c] > allowance.most(c)]
            target = over[0] if over else next(c for c in minutes if billed[c] > allowance.full(c))
            ties = " (a tie may go either way)" if allowance.extra and _tied(allowance) else ""
            yield Finding(
                first[target].place("units"),
                f"units are spread against the CMS 8-minute rule: {allowance.total_minutes} minutes allow "
                f"{_by_code(allowance.allocation(), minutes)}{ties}; billed {_by_code(billed, minutes)}",
            )


def _tied(allowance: TotalTimeAllowance) -> bool:
    at_threshold = [c for c in allowance.minutes if allowance.remainder(c) == allowance.threshold]
    surely = sum(1 for c in allowance.minutes if allowance.remainder(c) > allowance.threshold)
    return len(at_threshold) > allowance.extra - surely


@register
class TimedCodeWithoutMinutes(Rule):
    """A timed code without its minutes.

    ## What it checks
    Every line whose code is timed (billed in 15-minute units, `timed: true` in
    `rules/codes.yaml`) records `minutes`, the direct one-on-one time.

    ## Why a payer cares
    Units of a timed code are only as good as the minutes behind them: without minutes the
    units cannot be checked, and the record does not support them on review.

    ## Fails
    ```yaml
    id: ENC-1
    date: 2026-03-14
    patient: P-1
    provider: {npi: "1234567893", discipline: PT}
    diagnoses: [M54.50]
    services:
      - {code: "97110", units: 2, modifiers: [GP], diagnosis_pointers: [1]}
    ```

    ## Passes
    ```yaml
    id: ENC-1
    date: 2026-03-14
    patient: P-1
    provider: {npi: "1234567893", discipline: PT}
    diagnoses: [M54.50]
    services:
      - {code: "97110", units: 2, minutes: 30, modifiers: [GP], diagnosis_pointers: [1]}
    ```

    ## Source
    CMS Pub. 100-02, Ch. 15, §220.3 (documentation records timed code minutes); Pub. 100-04,
    Ch. 5, §20.2.
    """

    code = "UNT003"
    needs = frozenset({"minutes"})
    name = "timed-code-without-minutes"
    severity = Severity.ERROR

    applies = classmethod(_bills_timed)

    def check(self, encounter: Encounter, policy):
        for service in encounter.services:
            if service.minutes is None and is_timed(service, policy):
                yield Finding(
                    service.place("minutes"),
                    f"{service.code} is a timed code: record its one-on-one minutes",
                )


@register
class UnitsBelowMinutes(Rule):
    """Fewer units billed than the minutes support.

    ## What it checks
    The reverse of UNT001: the day's timed minutes (or, per code, each code's minutes) support
    more units than were billed. Lines billed 0 units count their minutes too, so a documented
    but unbilled service that would have earned a unit shows here.

    ## Why a payer cares
    A unit left off is revenue the clinic earned and lost. CMS expects at least one unit for a
    service of 15 minutes or more.

    ## Fails
    ```yaml
    id: ENC-1
    date: 2026-03-14
    payer: medicare
    patient: P-1
    provider: {npi: "1234567893", discipline: PT}
    diagnoses: [M54.50]
    services:
      - {code: "97110", units: 1, minutes: 38, modifiers: [GP], diagnosis_pointers: [1]}
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
      - {code: "97110", units: 3, minutes: 38, modifiers: [GP], diagnosis_pointers: [1]}
    ```

    ## Fix
    Unsafe: a person decides whether the unbilled time was billable. Raises the units to what the
    minutes support, when the units billed fit inside an allocation the rule allows.

    ## Source
    CMS Pub. 100-04, Ch. 5, §20.2 ("If a 15 minute timed service is performed for at least 15
    minutes it shall be billed for at least 1 unit").
    """

    code = "UNT004"
    needs = frozenset({"minutes"})
    name = "units-below-minutes"
    severity = Severity.WARNING
    scope = "day"
    fixable = "unsafe"

    applies = classmethod(_bills_timed)

    def check(self, day: Day, policy):
        for minutes, billed, first, allowance in _pools(day, policy):
            if day.payer.time_rule == "total":
                total_billed = sum(billed.values())
                if total_billed < allowance.total:
                    short = min(minutes, key=lambda c: (billed[c] - allowance.full(c), -minutes[c]))
                    raise_ = None
                    if allowance.allows(billed):
                        raise_ = partial(_to_allocation, day, first[short], allowance, billed, int.__ge__)
                    yield Finding(
                        first[short].place("units"),
                        f"{allowance.total_minutes} timed minutes support {_plural(allowance.total, 'unit')} "
                        f"under the CMS 8-minute rule; {total_billed} billed",
                        raise_,
                    )
            else:
                for code, used in minutes.items():
                    if billed[code] < units_for(used):
                        yield Finding(
                            first[code].place("units"),
                            f"{used} minutes of {code} support {_plural(units_for(used), 'unit')} "
                            f"under the per-code rule; {billed[code]} billed",
                            partial(_set_units, day, first[code], {code: units_for(used)}, int.__ge__),
                        )


@register
class UntimedCodeUnits(Rule):
    """An untimed code billed more than one unit for the day.

    ## What it checks
    Evaluations (97161-97168), group therapy (97150), supervised modalities (97010-97028) and
    chiropractic manipulation (98940-98943) are service-based: one unit per date of service,
    however long they took. Units on every line of the code that day are added up.

    ## Why a payer cares
    A second unit of an untimed code is billed time the code does not pay for; claim edits deny
    it outright.

    ## Fails
    ```yaml
    id: ENC-1
    date: 2026-03-14
    patient: P-1
    provider: {npi: "1234567893", discipline: PT}
    diagnoses: [M54.50]
    services:
      - {code: "97161", units: 2, modifiers: [GP], diagnosis_pointers: [1]}
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
    ```

    ## Source
    WebPT 8-minute rule guide (service-based codes); 8s2c and chirocode.com ("Untimed codes are
    billed with a unit of one (1) per date of service"); CMS Pub. 100-04, Ch. 5, §20.2.
    """

    code = "UNT005"
    name = "untimed-code-units"
    severity = Severity.ERROR
    scope = "day"

    requires_any = UNTIMED_ONE_A_DAY

    def check(self, day: Day, policy):
        running: dict[str, int] = defaultdict(int)
        for service in day.services:
            if category(service, policy) not in UNTIMED_ONE_A_DAY:
                continue
            running[service.code] += service.units
            if running[service.code] > 1 and service.units > 0:
                label = policy.code(service.code).label
                yield Finding(
                    service.place("units"),
                    f"{service.code} ({label}) is untimed: one unit per day, {running[service.code]} billed",
                )


@register
class TimedCodeOnSeveralLines(Rule):
    """The same timed code on more than one line for a day.

    ## What it checks
    A timed code appears once per date of service, with its units summed on that line. A second
    line of the same code, with the same modifiers and the same rendering provider (in the same
    or another encounter of the patient that day), is flagged at the later line. Lines that
    differ in modifiers or rendering provider are how CMS bills them: the units a PTA furnished
    with CQ on one line, the therapist's on another.

    ## Why a payer cares
    Medicare contractors reject timed codes split over several lines of one date of service, and
    split lines hide over-billing from the 8-minute arithmetic.

    ## Fails
    ```yaml
    id: ENC-1
    date: 2026-03-14
    patient: P-1
    provider: {npi: "1234567893", discipline: PT}
    diagnoses: [M54.50]
    services:
      - {code: "97110", units: 1, minutes: 15, modifiers: [GP], diagnosis_pointers: [1]}
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
      - {code: "97110", units: 2, minutes: 30, modifiers: [GP], diagnosis_pointers: [1]}
    ```

    ## Fix
    Safe. Merges the later line into the first, summing units and minutes, when the two lines differ
    in nothing else (no other modifiers, regions, notes or time blocks that the merge would lose).

    ## Source
    First Coast Service Options, "Therapy timed codes" (claims received on and after
    2021-04-19 are rejected unless each timed code is reported on a single line per date); CMS,
    "Billing Examples Using CQ/CO Modifiers" (a code's units with and without CQ on two lines).
    """

    code = "UNT006"
    name = "timed-code-on-several-lines"
    severity = Severity.WARNING
    scope = "day"
    fixable = "safe"

    @classmethod
    def applies(cls, codes, policy) -> bool:
        timed = timed_codes(codes, policy)
        return len(set(timed)) < len(timed)

    def check(self, day: Day, policy):
        first: dict[tuple, Service] = {}
        for service in day.services:
            if not is_timed(service, policy):
                continue
            rendering = service.provider.npi if service.provider is not None else None
            key = (service.code, tuple(sorted(service.modifiers)), rendering)
            if key in first:
                earlier = first[key]
                where = f"service {earlier.index + 1}" + (
                    f" of {earlier.encounter.id}" if earlier.encounter is not service.encounter else ""
                )
                yield Finding(
                    service.place("code"),
                    f"{service.code} is already {'billed' if earlier.units else 'on a 0-unit line'} at {where} "
                    f"for {day.date}: report one line with the units and minutes summed",
                    _merge(earlier, service),
                )
            else:
                first[key] = service


_MERGED = ("code", "units", "minutes", "index", "parts", "encounter")


def _merge(keep: Service, extra: Service) -> Fix | None:
    """Fold a second line of a code into the first, when nothing but units and minutes differ:
    a merge that would drop a modifier, region, note or time block is not made."""
    if keep.encounter is not extra.encounter or keep.minutes is None or extra.minutes is None:
        return None
    if keep.has_time_block or extra.has_time_block:
        return None
    if any(getattr(keep, f) != getattr(extra, f) for f in Service.__dataclass_fields__ if f not in _MERGED):
        return None
    return Fix(
        "merge the lines, summing units and minutes",
        (
            SetScalar(keep.parts + ("units",), str(keep.units + extra.units)),
            SetScalar(keep.parts + ("minutes",), str(keep.minutes + extra.minutes)),
            RemoveItem(extra.parts),
        ),
    )


@register
class UnitsAboveMue(Rule):
    """Units above the code's Medically Unlikely Edit.

    ## What it checks
    When an MUE table is configured (a `mue.yaml` in an `extend-rules` directory, or the CMS
    practitioner MUE CSV named by `mue-file`), the units of a code on a line (MUE adjudication
    indicator 1) or summed over the day (indicators 2 and 3, and every `mue.yaml` entry) stay at
    or below its MUE, per provider as CMS applies them: the day's lines of one code billed under
    one provider (the encounter's; an assistant's lines are billed under the supervising
    therapist) are summed, another provider's are not. cptlint ships no MUE values: they change
    quarterly and none were verified.

    ## Why a payer cares
    Units above the MUE are denied automatically, line or date of service, before a person
    looks at the claim.

    ## Fails
    ```yaml
    # with mue.yaml: {mue: {"97140": 4}}
    id: ENC-1
    date: 2026-03-14
    patient: P-1
    provider: {npi: "1234567893", discipline: PT}
    diagnoses: [M54.50]
    services:
      - code: "97140"
        units: 5
        minutes: 75
        modifiers: [GP]
        regions: [cervical]
        techniques: [joint_mobilization]
        diagnosis_pointers: [1]
        response: Rotation improved
        goal: Drive safely
    ```

    ## Passes
    ```yaml
    # with mue.yaml: {mue: {"97140": 4}}
    id: ENC-1
    date: 2026-03-14
    patient: P-1
    provider: {npi: "1234567893", discipline: PT}
    diagnoses: [M54.50]
    services:
      - code: "97140"
        units: 4
        minutes: 60
        modifiers: [GP]
        regions: [cervical]
        techniques: [joint_mobilization]
        diagnosis_pointers: [1]
        response: Rotation improved
        goal: Drive safely
    ```

    ## Source
    CMS NCCI Medically Unlikely Edits (practitioner services MUE file,
    MCR_MUE_PractitionerServices_Eff_*.csv); NGS (date-of-service MUEs sum all lines of a code);
    AAPC, "Don't chase your tail over MUEs" (an MUE is per beneficiary, date of service and provider).
    """

    code = "UNT007"
    name = "units-above-mue"
    severity = Severity.ERROR
    scope = "day"

    @classmethod
    def applies(cls, codes, policy) -> bool:
        return any(code in policy.mue for code in codes)

    def check(self, day: Day, policy):
        if not policy.mue:
            return
        running: dict[tuple, int] = defaultdict(int)
        for service in day.services:
            edit = policy.mue.get(service.code)
            if edit is None:
                continue
            billing = service.encounter.provider.npi if service.encounter.provider is not None else None
            running[service.code, billing] += service.units
            units = service.units if edit.per_line else running[service.code, billing]
            if units > edit.value and service.units > 0:
                scope = "on one line" if edit.per_line else "for the day"
                yield Finding(
                    service.place("units"),
                    f"{units} units of {service.code} {scope}: its Medically Unlikely Edit allows {edit.value}",
                )


@register
class UnknownCode(Rule):
    """A billed code the rules data does not know.

    ## What it checks
    Every billed code is in `rules/codes.yaml` (or an `extend-rules` directory's `codes.yaml`).
    A code it does not list is not timed or untimed, not a therapy code or not, to cptlint: the
    unit, modifier and category rules have nothing to judge it by and pass it unseen, which this
    finding says instead of staying silent. It is information, not an error: the code may be
    right. NCCI pairs still apply to it (the CMS table is the authority on pairs).

    ## Why a payer cares
    A code the linter cannot judge is a code a person must, before the claim goes out.

    ## Fails
    ```yaml
    id: ENC-1
    date: 2026-03-14
    payer: medicare
    patient: P-1
    provider: {npi: "1234567893", discipline: PT}
    diagnoses: [M54.50]
    services:
      - {code: "97039", units: 1, modifiers: [GP], diagnosis_pointers: [1]}
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
      - {code: "97035", units: 1, minutes: 8, modifiers: [GP], diagnosis_pointers: [1]}
    ```

    ## Source
    cptlint's own data: what `rules/codes.yaml` lists is what the unit rules (CMS Pub. 100-04
    Ch. 5 §20.2) and the modifier rules can judge.
    """

    code = "UNT008"
    name = "unknown-billing-code"
    severity = Severity.INFO

    @classmethod
    def applies(cls, codes, policy) -> bool:
        return any(code not in policy.codes for code in codes)

    def check(self, encounter: Encounter, policy):
        codes = policy.codes
        for service in encounter.services:
            if service.code not in codes and is_billed(service):
                yield Finding(
                    service.place("code"),
                    f"cptlint does not know {service.code}: its units and modifiers were not checked "
                    f"(add it to a codes.yaml of your rules to have them checked)",
                )
