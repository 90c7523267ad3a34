"""Units for timed (15-minute) codes: the CMS total-time rule and the per-code rule.

CMS (Pub. 100-04 Ch. 5 §20.2): the day's timed minutes T allow floor((T + 7) / 15) units (8-22
minutes = 1 unit, 23-37 = 2, ...). Each code first gets one unit per full 15 minutes; the units
left over go, one each, to the codes with the most minutes left over; a tie is the provider's
choice. The per-code rule (AMA "substantial portion", many commercial payers) applies the same
table to each code's own minutes, with no pooling.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property


def units_for(minutes: int) -> int:
    """The 8-minute table: 0-7 minutes = 0 units, 8-22 = 1, 23-37 = 2, ..."""
    return (minutes + 7) // 15


@dataclass(frozen=True)
class TotalTimeAllowance:
    """What the day's timed minutes allow under the CMS total-time rule. The figures are
    worked out once: three rules ask them of each day."""

    minutes: dict[str, int]

    @cached_property
    def total_minutes(self) -> int:
        return sum(self.minutes.values())

    @cached_property
    def total(self) -> int:
        return units_for(self.total_minutes)

    def full(self, code: str) -> int:
        return self.minutes[code] // 15

    def remainder(self, code: str) -> int:
        return self.minutes[code] % 15

    @cached_property
    def extra(self) -> int:
        """Units left after every code got its full 15-minute units."""
        return self.total - sum(self.full(c) for c in self.minutes)

    @cached_property
    def threshold(self) -> int | None:
        """The smallest remainder that can still earn a left-over unit."""
        if self.extra <= 0:
            return None
        return sorted((self.remainder(c) for c in self.minutes), reverse=True)[self.extra - 1]

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
