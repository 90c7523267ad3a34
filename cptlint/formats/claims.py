"""What the claim formats (X12 837P, FHIR) share: the taxonomy of the rendering provider, and
codes and numbers written as claims write them, turned into what the rules read."""

from __future__ import annotations

# NUCC provider taxonomy, by its first four characters, to the discipline the rules read.
TAXONOMY = {"2251": "PT", "2252": "PTA", "225X": "OT", "224Z": "OTA", "235Z": "SLP", "111N": "DC"}

ICD9_MESSAGE = (
    "an ICD-9-CM claim (dates of service before 2015-10-01): cptlint checks ICD-10-CM claims, so its lines are not linted"
)


def discipline(taxonomy: str) -> str | None:
    return TAXONOMY.get(taxonomy[:4])


def dotted(code: str) -> str:
    """ICD-10-CM as claims write it (M5450) in the form the rules read (M54.50)."""
    return f"{code[:3]}.{code[3:]}" if len(code) > 3 and "." not in code else code


def whole_number(value):
    """A whole number as a number (units are written 1, 1.0 or 1.00); anything else as written,
    for the schema to judge."""
    if isinstance(value, bool):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        return value
    return int(number) if number.is_integer() else value
