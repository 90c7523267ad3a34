"""The rule catalogue: importing this package registers every rule."""

from cptlint.checks import delivery, diagnoses, documentation, identifiers, input, massage, modifiers, payer, regions, suppressions, units  # noqa: F401
from cptlint.checks.base import REGISTRY, Finding, Rule, register

__all__ = ["REGISTRY", "Finding", "Rule", "register", "all_rules"]


def all_rules() -> list[type[Rule]]:
    return [REGISTRY[code] for code in sorted(REGISTRY)]
