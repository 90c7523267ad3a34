"""NPI: the identifiers of the providers on the claim."""

from __future__ import annotations

from cptlint.checks.base import Finding, Rule, register
from cptlint.diagnostics import Severity
from cptlint.memo import Verdicts
from cptlint.model import Encounter


def npi_check_digit_holds(npi: str) -> bool:
    """The NPI's tenth digit is the Luhn (ISO/IEC 7812 modulus 10 "double-add-double") check
    digit of its first nine, computed as if the card-issuer prefix 80840 stood before them
    (CMS, "Requirements for NPI Check Digit": add the constant 24 without the prefix)."""
    if len(npi) != 10 or not npi.isdigit():
        return False
    total = 24
    for position, digit in enumerate(reversed(npi[:9])):
        value = int(digit) * (2 if position % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return (10 - total % 10) % 10 == int(npi[9])


HOLDS = Verdicts(npi_check_digit_holds)  # a run sees a few providers' NPIs again and again


@register
class NpiCheckDigit(Rule):
    """An NPI whose check digit does not hold.

    ## What it checks
    Every NPI on the encounter (the provider's and each line's rendering provider's) ends in the
    check digit of its first nine digits: the Luhn formula over 80840 and those nine digits.

    ## Why a payer cares
    An NPI with a wrong check digit belongs to no provider: the claim is rejected at the front
    door (the clearinghouse or the MAC's edits), before any billing rule is looked at. A digit
    typed wrong or two digits swapped is what the check digit exists to catch.

    ## Fails
    ```yaml
    id: ENC-1
    date: 2026-03-14
    patient: P-1
    provider: {npi: "1234567890", discipline: PT}
    diagnoses: [M54.50]
    services:
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
      - {code: "97110", units: 1, minutes: 15, modifiers: [GP], diagnosis_pointers: [1]}
    ```

    ## Source
    CMS, "Requirements for NPI Check Digit" (the Luhn formula with the 80840 prefix; its worked
    example: 123456789 gives check digit 3); HIPAA Administrative Simplification: Standard Unique
    Health Identifier for Health Care Providers, final rule, 69 FR 3434 (2004-01-23).
    """

    code = "NPI001"
    name = "npi-check-digit"
    severity = Severity.ERROR

    def check(self, encounter: Encounter, policy):
        holders = [(encounter.provider, encounter, "provider"), (encounter.billing_provider, encounter, "billing_provider")]
        holders += [(service.own_provider, service, "provider") for service in encounter.services]
        for provider, holder, field in holders:
            if provider is not None and provider.npi and not HOLDS[provider.npi]:
                yield Finding(
                    holder.place(field, "npi"), f"NPI {provider.npi} fails its check digit: a digit is wrong or two are swapped"
                )
