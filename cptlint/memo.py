"""Verdicts on strings, remembered."""

from __future__ import annotations

from collections.abc import Callable


class Verdicts(dict):
    """`verdicts[text]` is bool(test(text)), worked out once per distinct text. Codes, NPIs,
    dates, diagnoses and modifiers recur from record to record, and a dictionary lookup costs
    a tenth of a regular expression. Emptied when it holds LIMIT texts, so that memory stays
    flat over a long stream of texts never seen before."""

    __slots__ = ("test",)
    LIMIT = 4096

    def __init__(self, test: Callable[[str], object]):
        super().__init__()
        self.test = test

    def __missing__(self, text: str) -> bool:
        if len(self) >= self.LIMIT:
            self.clear()
        verdict = self[text] = bool(self.test(text))
        return verdict
