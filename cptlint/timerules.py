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

    __slots__ = ("minutes", "total_minutes", "total", "extra", "threshold", "surely")

    def __init__(self, minutes: dict[str, int]):
        self.minutes = minutes
        total_minutes = full_units = 0
        for m in minutes.values():
            total_minutes += m
            full_units += m // 15
        self.total_minutes = total_minutes
        self.total = units_for(total_minutes)
        # units left after every code got its full 15-minute units
        self.extra = extra = self.total - full_units
        # the smallest remainder that can still earn a left-over unit, and how many codes
        # surely earn one (their remainder is larger)
        self.threshold, self.surely = None, 0
        if extra > 0:
            remainders = sorted([m % 15 for m in minutes.values()], reverse=True)
            self.threshold = threshold = remainders[extra - 1]
            surely = 0
            while remainders[surely] > threshold:  # largest first; it stops at the threshold's own place
                surely += 1
            self.surely = surely

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
        """Whether some allocation the rule allows gives every code at least what was billed:
        no code above its most, and no more codes taking a left-over unit at the threshold than
        the left-over units the codes above it leave. One pass: every clean day asks this."""
        threshold, tied = self.threshold, 0
        for code, minutes in self.minutes.items():
            units = billed.get(code, 0)
            full, left = divmod(minutes, 15)
            if units <= full:
                continue
            if units > full + 1 or threshold is None or left < threshold:
                return False
            if left == threshold:
                tied += 1
        return tied <= self.extra - self.surely


def per_code_units(minutes: dict[str, int]) -> dict[str, int]:
    return {code: units_for(m) for code, m in minutes.items()}


def assistant_units(therapist: int, assistant: int, units: int) -> tuple[int, int]:
    """How many of the `units` of one code billed one day carry CQ/CO (fewest, most), when a
    therapist furnished `therapist` minutes of it alone and an assistant `assistant` minutes.

    CMS "Billing Examples Using CQ/CO Modifiers" (CY 2022 PFS final rule): each one's full
    15-minute units go to who furnished them (the assistant's with the modifier). Of what is left,
    a final unit carries it when the assistant's minutes are more than 10% of that unit's (the de
    minimis standard), unless the therapist alone furnished 8 minutes or more of it; two units
    left, where each furnished 9-14 minutes, are billed one with it and one without. Where units
    are left that the minutes of this code alone do not decide (the total-time rule gave them),
    either way is accepted unless one of the two furnished none of those minutes."""
    full_therapist, left_therapist = divmod(therapist, 15)
    full_assistant, left_assistant = divmod(assistant, 15)
    left = units - full_therapist - full_assistant
    if left <= 0:  # the full units cover the claim: any of them may be the ones billed
        return max(0, units - full_therapist), min(units, full_assistant)
    if left == 1:
        final = left_assistant > 0 and left_therapist < 8 and left_assistant * 10 > left_therapist + left_assistant
        return (full_assistant + final,) * 2
    if left == 2 and 9 <= left_therapist <= 14 and 9 <= left_assistant <= 14:
        return (full_assistant + 1,) * 2
    fewest = left if left_therapist == 0 else 0
    most = left if left_assistant else 0
    return full_assistant + fewest, full_assistant + most
