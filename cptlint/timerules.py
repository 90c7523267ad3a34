"""Units for timed (15-minute) codes: the CMS total-time rule and the per-code rule.

CMS (Pub. 100-04 Ch. 5 §20.2): the day's timed minutes T allow floor((T + 7) / 15) units (8-22
minutes = 1 unit, 23-37 = 2, ...). Each code first gets one unit per full 15 minutes; the units
left over go, one each, to the codes with the most minutes left over; a tie is the provider's
choice. The per-code rule (AMA "substantial portion", many commercial payers) applies the same
table to each code's own minutes, with no pooling.
"""

from __future__ import annotations


def units_for(minutes: int) -> int:
    """The 8-minute table: 0-7 minutes = 0 units, 8-22 = 1, 23-37 = 2, ..."""
    return (minutes + 7) // 15


class TotalTimeAllowance:
    """What the day's timed minutes allow under the CMS total-time rule. The figures are
    worked out once, when it is made: three rules ask them of each day."""

    __slots__ = ("minutes", "total_minutes", "total", "extra", "threshold")

    def __init__(self, minutes: dict[str, int]):
        self.minutes = minutes
        self.total_minutes = sum(minutes.values())
        self.total = units_for(self.total_minutes)
        # units left after every code got its full 15-minute units
        self.extra = self.total - sum(m // 15 for m in minutes.values())
        # the smallest remainder that can still earn a left-over unit
        self.threshold = sorted((m % 15 for m in minutes.values()), reverse=True)[self.extra - 1] if self.extra > 0 else None

    def full(self, code: str) -> int:
        return self.minutes[code] // 15

    def remainder(self, code: str) -> int:
        return self.minutes[code] % 15

    def could_get_extra(self, code: str) -> bool:
        threshold = self.threshold
        return threshold is not None and self.remainder(code) >= threshold

    def most(self, code: str) -> int:
        """The most units code can get in any allocation the rule allows."""
        return self.full(code) + (1 if self.could_get_extra(code) else 0)

    def allocation(self, prefer: dict[str, int] | None = None) -> dict[str, int]:
        """One allocation the rule allows. A tie goes to the code billed more in `prefer`,
        else to the code listed first."""
        prefer = prefer or {}
        order = sorted(self.minutes, key=lambda c: (-self.remainder(c), -prefer.get(c, 0)))
        lucky = set(order[: self.extra])
        return {c: self.full(c) + (1 if c in lucky else 0) for c in self.minutes}

    def allows(self, billed: dict[str, int]) -> bool:
        """Whether some allocation the rule allows gives every code at least what was billed."""
        threshold = self.threshold
        needing_extra = [c for c in self.minutes if billed.get(c, 0) == self.full(c) + 1]
        if any(billed.get(c, 0) > self.most(c) for c in self.minutes):
            return False
        if threshold is None:
            return not needing_extra
        surely = sum(1 for c in self.minutes if self.remainder(c) > threshold)
        tied = sum(1 for c in needing_extra if self.remainder(c) == threshold)
        return tied <= self.extra - surely


def per_code_units(minutes: dict[str, int]) -> dict[str, int]:
    return {code: units_for(m) for code, m in minutes.items()}
