"""Every rule is documented, and its documented examples do what they say."""

from __future__ import annotations

import re

import pytest

from cptlint.checks import REGISTRY, all_rules
from cptlint.checks.base import SECTIONS
from cptlint.formats import fhir
from tests.conftest import lint

RULES = all_rules()
SETUP = re.compile(r"^# with (\S+): (.*)$", re.M)


def lint_example(text: str, tmp_path):
    """Lint a documented example; a leading `# with FILE: CONTENT` line adds that rules file."""
    extra = SETUP.findall(text)
    for name, content in extra:
        target = tmp_path / "rules" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content + "\n")
    # a claim example is a claim file: X12 by its ISA, FHIR by its resourceType
    name = "claim.837" if text.startswith("ISA") else "claim.json" if fhir.recognises(text) else "enc.yaml"
    return lint(text, name=name, extend_rules=(tmp_path / "rules",) if extra else ())


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_documentation_has_every_section(rule):
    assert rule.summary(), f"{rule.code} has no summary line"
    for title in SECTIONS:
        assert rule.section(title), f"{rule.code} lacks '## {title}'"
    assert rule.example("Fails") and rule.example("Passes")


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_failing_example_triggers_the_rule(rule, tmp_path):
    assert rule.code in {d.code for d in lint_example(rule.example("Fails"), tmp_path)}


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_passing_example_gives_no_finding_at_all(rule, tmp_path):
    assert [(d.code, d.message) for d in lint_example(rule.example("Passes"), tmp_path)] == []


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_fixable_rules_document_their_fix(rule):
    assert bool(rule.section("Fix")) == (rule.fixable is not None)
    if rule.fixable:
        assert rule.section("Fix").startswith(("Safe", "Unsafe")) and rule.section("Fix").split(".")[0].lower().startswith(rule.fixable)


def test_codes_names_and_severities_are_unique_and_well_formed():
    names = [r.name for r in RULES]
    assert len(set(names)) == len(names)
    assert list(REGISTRY) and all(r.scope in ("input", "encounter", "day") for r in RULES)


def test_docs_rules_holds_each_rules_page_as_cptlint_rule_prints_it():
    """docs/rules/CODE.md (the language server's links) is the rule's page; `python docs/rules.py` writes them."""
    import importlib.util
    from pathlib import Path

    folder = Path(__file__).parents[1] / "docs"
    spec = importlib.util.spec_from_file_location("rule_pages", folder / "rules.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    wanted = module.pages()
    written = {p.name: p.read_text(encoding="utf-8") for p in (folder / "rules").glob("*.md")}
    assert written == wanted, "docs/rules is out of date: run python docs/rules.py"
