"""The pytest plugin, run through pytest's own pytester."""

from __future__ import annotations

import pytest

from tests.conftest import CLEAN_VISIT

OVER_BILLED = CLEAN_VISIT.replace("units: 1\n", "units: 3\n")  # UNT001 at /services/1/units


@pytest.fixture
def fixtures(pytester):
    pytester.makefile(".yaml", **{"visits/clean": CLEAN_VISIT})
    pytester.makefile(".yaml", **{"visits/expected": "expect: [UNT001@/services/1/units]\n" + OVER_BILLED})
    return pytester


def test_inert_without_the_flag(fixtures):
    result = fixtures.runpytest("visits")
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED


def test_items_pass_when_findings_meet_expectations(fixtures):
    result = fixtures.runpytest("--cptlint", "visits", "-v")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*visits/clean.yaml::cptlint PASSED*", "*visits/expected.yaml::cptlint PASSED*"])


def test_failure_is_a_table_without_traceback(fixtures):
    fixtures.makefile(".yaml", **{"visits/wrong": "expect: [UNT002]\n" + OVER_BILLED.replace("ENC-1", "ENC-9")})
    fixtures.makefile(".yaml", **{"visits/unstated": OVER_BILLED.replace("P-1", "P-7")})
    result = fixtures.runpytest("--cptlint", "visits")
    result.assert_outcomes(passed=2, failed=2)
    result.stdout.fnmatch_lines(
        [
            "cptlint findings in visits/unstated.yaml (it states no expect: list)",
            "  unexpected  UNT001  20:12  /services/1/units  5 timed units billed for 45 timed minutes; the CMS 8-minute rule allows 3",
            "cptlint findings in visits/wrong.yaml do not meet its expect: list",
            "  missing     UNT002  -      (anywhere)",
            "  unexpected  UNT001  21:12  /services/1/units  *",
        ]
    )
    assert "Traceback" not in result.stdout.str() and "def runtest" not in result.stdout.str()


def test_marker_selects_the_items(fixtures):
    fixtures.makepyfile(test_other="def test_other():\n    pass\n")
    result = fixtures.runpytest("--cptlint", "-m", "cptlint", ".")
    result.assert_outcomes(passed=2, deselected=1)


def test_ini_options(fixtures):
    fixtures.makeini("[pytest]\ncptlint = true\ncptlint_paths = visits\n")
    result = fixtures.runpytest()
    result.assert_outcomes(passed=2)


def test_project_configuration_is_honoured(fixtures):
    fixtures.makefile(".yaml", **{"visits/unstated": OVER_BILLED.replace("P-1", "P-7")})
    assert fixtures.runpytest("--cptlint", "visits").ret == 1
    fixtures.makepyprojecttoml('[tool.cptlint]\nfail-on = "error"\n[tool.cptlint.severity]\nUNT001 = "warning"\n')
    fixtures.runpytest("--cptlint", "visits", "-p", "no:cacheprovider").assert_outcomes(passed=3)


def test_broken_configuration_is_a_usage_error(fixtures):
    fixtures.makepyprojecttoml('[tool.cptlint]\nselct = ["UNT"]\n')
    result = fixtures.runpytest("--cptlint", "visits")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(['*cptlint: *unknown key "selct"*'])


def test_cache_skips_unchanged_files_that_passed(fixtures):
    """An unchanged file that passed passes again without being linted, and is reported passed."""
    fixtures.runpytest("--cptlint", "visits").assert_outcomes(passed=2)
    again = fixtures.runpytest("--cptlint", "visits")
    again.assert_outcomes(passed=2)
    again.stdout.fnmatch_lines(["cptlint: 2 unchanged files passed as before*"])
    fixtures.makefile(".yaml", **{"visits/clean": CLEAN_VISIT.replace("P-1", "P-2")})
    changed = fixtures.runpytest("--cptlint", "visits")
    changed.assert_outcomes(passed=2)
    changed.stdout.fnmatch_lines(["cptlint: 1 unchanged files passed as before*"])
    fresh = fixtures.runpytest("--cptlint", "--cptlint-no-cache", "visits")
    fresh.assert_outcomes(passed=2)
    assert "unchanged files" not in fresh.stdout.str()


def test_the_cache_key_holds_the_path(fixtures):
    """The same content under two names whose per-file-ignores differ: each gets its own verdict."""
    fixtures.makepyprojecttoml('[tool.cptlint]\n[tool.cptlint.per-file-ignores]\n"visits/a/*" = ["UNT001"]\n')
    for folder in ("a", "b"):
        fixtures.makefile(".yaml", **{f"visits/{folder}/over": OVER_BILLED.replace("P-1", "P-9")})
    fixtures.runpytest("--cptlint", "visits/a").assert_outcomes(passed=1)
    fixtures.runpytest("--cptlint", "visits/b").assert_outcomes(failed=1)


def test_cache_does_not_remember_failures(fixtures):
    fixtures.makefile(".yaml", **{"visits/bad": OVER_BILLED.replace("P-1", "P-3")})
    fixtures.runpytest("--cptlint", "visits").assert_outcomes(passed=2, failed=1)
    fixtures.runpytest("--cptlint", "visits").assert_outcomes(passed=2, failed=1)


def test_cache_follows_the_configuration(fixtures):
    fixtures.runpytest("--cptlint", "visits").assert_outcomes(passed=2)
    fixtures.makepyprojecttoml('[tool.cptlint]\nignore = ["DOC"]\n')
    fixtures.runpytest("--cptlint", "visits").assert_outcomes(passed=2)


def test_without_cacheprovider(fixtures):
    fixtures.runpytest("--cptlint", "-p", "no:cacheprovider", "visits").assert_outcomes(passed=2)


def test_xdist(fixtures):
    pytest.importorskip("xdist")
    for i in range(4):
        fixtures.makefile(".yaml", **{f"visits/more{i}": CLEAN_VISIT.replace("P-1", f"P-{i + 10}")})
    result = fixtures.runpytest_subprocess("--cptlint", "-n", "2", "visits")
    result.assert_outcomes(passed=6)
    again = fixtures.runpytest_subprocess("--cptlint", "-n", "2", "visits")
    again.assert_outcomes(passed=6)


def test_nearest_configuration_and_its_rules_directory(fixtures):
    capped = fixtures.path / "visits" / "capped"
    (capped / "_rules" / "payers").mkdir(parents=True)
    (capped / ".cptlint.toml").write_text('extend-rules = ["_rules"]\n')
    (capped / "_rules" / "payers" / "acme.yaml").write_text("time_rule: per_code\n")
    (capped / "acme.yaml").write_text(CLEAN_VISIT.replace("payer: medicare", "payer: acme").replace("P-1", "P-5"))
    result = fixtures.runpytest("--cptlint", "visits", "-v")
    result.assert_outcomes(passed=3)  # the rules file under _rules/ is not an encounter


def test_cptlint_fixture(pytester):
    pytester.makepyfile(
        test_billing='''
        from pathlib import Path

        def test_dict(cptlint):
            doc = {"id": "E", "date": "2026-03-14", "services": [{"code": "97110", "units": 3, "minutes": 30}]}
            assert {"UNT001"} <= cptlint.lint(doc).codes

        def test_yaml_text(cptlint):
            result = cptlint.lint("id: E\\ndate: 2026-03-14\\nservices: [{code: '97110', units: two}]\\n")
            assert result.codes == {"SCH003"}
            assert [d.line for d in result] == [3]

        def test_path_and_options(cptlint, tmp_path):
            path = tmp_path / "v.yaml"
            path.write_text("id: E\\ndate: 2026-03-14\\nservices: [{code: '97110', units: 3, minutes: 30}]\\n")
            assert cptlint.lint(path, select=("UNT",)).codes == {"UNT001"}
        '''
    )
    pytester.runpytest().assert_outcomes(passed=3)
