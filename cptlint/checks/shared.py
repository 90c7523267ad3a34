"""Small facts about services that several rules need, computed one way."""

from __future__ import annotations

from collections import defaultdict

from cptlint.model import Day, Service
from cptlint.policy import Policy

THERAPY_DISCIPLINE = {"PT": "PT", "PTA": "PT", "OT": "OT", "OTA": "OT", "SLP": "SLP"}


def is_billed(service: Service) -> bool:
    """A line with 0 units was performed and documented but is not on the claim."""
    return service.units > 0


def category(service: Service, policy: Policy) -> str | None:
    info = policy.codes.get(service.code)
    return info.category if info else None


def is_timed(service: Service, policy: Policy) -> bool:
    info = policy.codes.get(service.code)
    return bool(info and info.timed)


def categories_of(codes, policy: Policy) -> set[str]:
    """The categories of service of codes (unknown codes have none)."""
    return {info.category for info in map(policy.code, codes) if info is not None}


def timed_codes(codes, policy: Policy) -> list[str]:
    """The codes that are timed, as often as they are billed."""
    return [code for code in codes if (info := policy.code(code)) is not None and info.timed]


def codes_paired(codes, policy: Policy) -> bool:
    """Whether an NCCI pair edit, of any date, joins two of the codes."""
    distinct = sorted(set(codes))
    return any(
        (first, second) in policy.pairs or (second, first) in policy.pairs
        for i, first in enumerate(distinct)
        for second in distinct[i + 1 :]
    )


def regions(service: Service, policy: Policy) -> set[str]:
    """The canonical regions a line treats (aliases resolved, unknown names left out)."""
    found = (policy.region(name) for name in service.regions)
    return {region.name for region in found if region is not None}


def overlap(a: Service, b: Service) -> bool | None:
    """Whether two time blocks overlap; blocks that only touch do not. None: not recorded."""
    if not (a.has_time_block and b.has_time_block):
        return None
    return a.start_minute < b.end_minute and b.start_minute < a.end_minute


def contiguous(a: Service, b: Service) -> bool | None:
    """Whether two time blocks form one continuous stretch (overlapping or touching)."""
    if not (a.has_time_block and b.has_time_block):
        return None
    return a.start_minute <= b.end_minute and b.start_minute <= a.end_minute


def clinician(service: Service) -> tuple:
    """Who rendered a line: the NPI when written, else the encounter whose provider it is."""
    provider = service.provider
    if provider is not None and provider.npi:
        return ("npi", provider.npi)
    if service.own_provider is None:
        return ("encounter", id(service.encounter))
    return ("line", id(service))


def same_clinician(a: Service, b: Service) -> bool:
    return clinician(a) == clinician(b)


def discipline(service: Service, policy: Policy) -> str | None:
    """The therapy discipline a line belongs to: its GP/GO/GN modifier, else its provider's."""
    for modifier, disciplines in policy.modifiers.get("therapy", {}).items():
        if modifier in service.modifiers:
            return THERAPY_DISCIPLINE.get(disciplines[0], disciplines[0])
    provider = service.provider
    return THERAPY_DISCIPLINE.get(provider.discipline) if provider and provider.discipline else None


def pair_lines(day: Day, policy: Policy) -> list:
    """Billed lines of one clinician that an NCCI pair edit covers: (edit, column-1 line, column-2 line).
    Found once a day for the three rules that read them (MOD001, MOD002, MOD004)."""
    if "pair_lines" not in day.memo:
        day.memo["pair_lines"] = list(_pair_lines(day, policy))
    return day.memo["pair_lines"]


def _pair_lines(day: Day, policy: Policy):
    """Codes are paired first, so a day of many lines costs no more than its distinct codes."""
    by_code: dict[str, list[Service]] = defaultdict(list)
    for service in day.services:
        if is_billed(service):
            by_code[service.code].append(service)
    codes = sorted(by_code)
    for i, code in enumerate(codes):
        for other in codes[i + 1 :]:
            edit = policy.pair_edit(code, other, day.date)
            if edit is None:
                continue
            for first in by_code[edit.column1]:
                for second in by_code[edit.column2]:
                    if same_ncci_provider(first, second):
                        yield edit, first, second


def ncci_provider(service: Service) -> tuple[str | None, str | None]:
    """Who a line is billed by, as NCCI edits count providers: the billing provider (the
    encounter's `billing_provider`, else its provider: an assistant's lines go under the
    supervising therapist) and the specialty of the one who rendered it (PT and PTA one, OT and
    OTA one). NCCI Policy Manual, ch. I: providers of one group and one specialty are one."""
    encounter = service.encounter
    billing = encounter.billing_provider or encounter.provider
    rendering = service.provider
    discipline = rendering.discipline if rendering is not None else None
    return (billing.npi if billing is not None else None), THERAPY_DISCIPLINE.get(discipline, discipline)


def same_ncci_provider(a: Service, b: Service) -> bool:
    """Pair edits bind one provider's lines; what is not written does not tell them apart."""
    return all(x is None or y is None or x == y for x, y in zip(ncci_provider(a), ncci_provider(b)))


def bypass_modifiers(service: Service, policy: Policy) -> list[str]:
    return [m for m in service.modifiers if m in policy.modifiers.get("bypass", ())]


def cmt_overlap(first: Service, second: Service, policy: Policy) -> set[str]:
    """Regions that both a CMT line and a 97140 line treat (REG001's territory)."""
    categories = {category(first, policy), category(second, policy)}
    if categories != {"cmt", "manual_therapy"}:
        return set()
    return regions(first, policy) & regions(second, policy)
