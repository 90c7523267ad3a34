"""Answers worked out once per key, remembered."""

from __future__ import annotations

from collections.abc import Callable


class Remembered(dict):
    """`remembered[key]` is make(key), worked out once per distinct key: a dictionary lookup
    costs far less than most answers. Emptied when it holds LIMIT keys, so that memory stays flat
    over a long stream of keys never seen before."""

    __slots__ = ("make",)
    LIMIT = 4096

    def __init__(self, make: Callable[[object], object]):
        super().__init__()
        self.make = make

    def __missing__(self, key):
        if len(self) >= self.LIMIT:
            self.clear()
        value = self[key] = self.make(key)
        return value


class Verdicts(Remembered):
    """`verdicts[text]` is bool(test(text)). Codes, NPIs, dates, diagnoses and modifiers recur
    from record to record, and a dictionary lookup costs a tenth of a regular expression."""

    __slots__ = ()

    def __init__(self, test: Callable[[str], object]):
        super().__init__(lambda text: bool(test(text)))
