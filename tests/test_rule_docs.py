"""Every rule is documented, and its documented examples do what they say."""

from __future__ import annotations

import pytest

from cptlint.checks import REGISTRY, all_rules
from cptlint.checks.base import SECTIONS
from tests.conftest import lint

RULES = all_rules()


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_documentation_has_every_section(rule):
    assert rule.summary(), f"{rule.code} has no summary line"
    for title in SECTIONS:
        assert rule.section(title), f"{rule.code} lacks '## {title}'"
    assert rule.example("Fails") and rule.example("Passes")


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_failing_example_triggers_the_rule(rule):
    assert rule.code in {d.code for d in lint(rule.example("Fails"))}


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_passing_example_gives_no_finding_at_all(rule):
    assert [(d.code, d.message) for d in lint(rule.example("Passes"))] == []


def test_codes_names_and_severities_are_unique_and_well_formed():
    names = [r.name for r in RULES]
    assert len(set(names)) == len(names)
    assert list(REGISTRY) and all(r.scope in ("input", "encounter", "day") for r in RULES)
