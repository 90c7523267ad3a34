"""--fix, --diff and --unsafe-fixes: each fix changes only its own bytes, in YAML and JSON."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from cptlint.cli import main

HEAD = """\
# Imported from the clinic's EMR   
id: ENC-1   # keep this id
date: 2026-03-14
payer: medicare
patient: P-1
provider: {npi: "1234567893", discipline: PT}
diagnoses: [M54.50]

services:
"""

# Each case: the services block before, and after --fix (--unsafe-fixes where the rule says so).
CASES = {
    "UNT001-block": (
        "safe",
        """\
  - code: '97110'   # exercise
    units: 3        # billed 3, was it?
    minutes: 30
    modifiers: [GP]
    diagnosis_pointers: [1]
""",
        """\
  - code: '97110'   # exercise
    units: 2        # billed 3, was it?
    minutes: 30
    modifiers: [GP]
    diagnosis_pointers: [1]
""",
    ),
    "UNT001-flow": (
        "safe",
        """\
  - {code: "97110", units: 2, minutes: 20, modifiers: [GP], diagnosis_pointers: [1]}  # a
  - {code: "97112", units: 1, minutes: 10, modifiers: [GP], diagnosis_pointers: [1]}  # b
""",
        """\
  - {code: "97110", units: 1, minutes: 20, modifiers: [GP], diagnosis_pointers: [1]}  # a
  - {code: "97112", units: 1, minutes: 10, modifiers: [GP], diagnosis_pointers: [1]}  # b
""",
    ),
    "MOD003-flow": (
        "safe",
        """\
  - {code: "97110", units: 1, minutes: 15, modifiers: [GP,  '59' ,XU], diagnosis_pointers: [1]}
""",
        """\
  - {code: "97110", units: 1, minutes: 15, modifiers: [GP,  XU], diagnosis_pointers: [1]}
""",
    ),
    "MOD003-block": (
        "safe",
        """\
  - code: "97110"
    units: 1
    minutes: 15
    modifiers:
      - GP
      - "59"
      - XU      # separate service
    diagnosis_pointers: [1]
""",
        """\
  - code: "97110"
    units: 1
    minutes: 15
    modifiers:
      - GP
      - XU      # separate service
    diagnosis_pointers: [1]
""",
    ),
    "UNT006-block": (
        "safe",
        """\
  - code: "97110"   # morning
    units: 1
    minutes: 15
    modifiers: [GP]
    diagnosis_pointers: [1]
  - code: "97110"
    units: 1
    minutes: 12
    modifiers: [GP]
    diagnosis_pointers: [1]

  - {code: "97112", units: 1, minutes: 15, modifiers: [GP], diagnosis_pointers: [1]}
""",
        """\
  - code: "97110"   # morning
    units: 2
    minutes: 27
    modifiers: [GP]
    diagnosis_pointers: [1]

  - {code: "97112", units: 1, minutes: 15, modifiers: [GP], diagnosis_pointers: [1]}
""",
    ),
    "UNT004-flow": (
        "unsafe",
        """\
  - {code: "97110", units: 1, minutes: 38, modifiers: [GP], diagnosis_pointers: [1]}
""",
        """\
  - {code: "97110", units: 3, minutes: 38, modifiers: [GP], diagnosis_pointers: [1]}
""",
    ),
    "MOD002-block": (
        "unsafe",
        """\
  - {code: "97012", units: 1, modifiers: [GP, '59'], diagnosis_pointers: [1]}
  - code: "97140"
    units: 1
    minutes: 15
    modifiers:
      - GP
    regions: [lumbar]
    techniques: [joint_mobilization]
    diagnosis_pointers: [1]
    response: Better
    goal: Walk
""",
        """\
  - {code: "97012", units: 1, modifiers: [GP], diagnosis_pointers: [1]}
  - code: "97140"
    units: 1
    minutes: 15
    modifiers:
      - GP
      - '59'
    regions: [lumbar]
    techniques: [joint_mobilization]
    diagnosis_pointers: [1]
    response: Better
    goal: Walk
""",
    ),
    "MAN001-block": (
        "unsafe",
        """\
  - code: 97140     # as exported
    units: 1
    minutes: 15
    modifiers: [GP]
    regions: [lumbar]
    techniques: [effleurage]
    diagnosis_pointers: [1]
    response: Better
    goal: Walk
""",
        """\
  - code: 97124     # as exported
    units: 1
    minutes: 15
    modifiers: [GP]
    regions: [lumbar]
    techniques: [effleurage]
    diagnosis_pointers: [1]
    response: Better
    goal: Walk
""",
    ),
}


def run(*args, input=None):
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


@pytest.fixture(autouse=True)
def here(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("name", CASES)
def test_fix_changes_only_its_own_bytes(name, here):
    kind, before, after = CASES[name]
    code = name.split("-")[0]
    (here / "v.yaml").write_text(HEAD + before)
    assert code in {d["code"] for d in json.loads(run("check", "--format", "json", "v.yaml").stdout)}
    flags = ["--unsafe-fixes"] if kind == "unsafe" else []
    if kind == "unsafe":
        run("check", "--fix", "v.yaml")
        assert (here / "v.yaml").read_text() == HEAD + before  # not without --unsafe-fixes
    result = run("check", "--fix", *flags, "--format", "json", "v.yaml")
    assert (here / "v.yaml").read_text() == HEAD + after
    assert code not in {d["code"] for d in json.loads(result.stdout)}
    assert "cptlint: fixed" in result.stderr


@pytest.mark.parametrize("name", CASES)
def test_diff_matches_what_fix_writes(name, here):
    kind, before, _ = CASES[name]
    flags = ["--unsafe-fixes"] if kind == "unsafe" else []
    (here / "v.yaml").write_text(HEAD + before)
    diff = run("check", "--diff", *flags, "v.yaml")
    assert diff.exit_code == 1 and (here / "v.yaml").read_text() == HEAD + before  # --diff writes nothing
    run("check", "--fix", *flags, "v.yaml")
    from cptlint.cli import _unified_diff

    assert diff.stdout == _unified_diff("v.yaml", HEAD + before, (here / "v.yaml").read_text())
    assert run("check", "--diff", *flags, "v.yaml").stdout == ""


JSON_BEFORE = """{
    "id": "ENC-2",
    "date": "2026-03-14",
    "patient": "P-2",
    "provider": {"npi": "1234567893", "discipline": "PT"},
    "diagnoses": ["M54.50"],
    "services": [
        {
            "code": "97012", "units": 1,
            "modifiers": ["GP", "59"],
            "diagnosis_pointers": [1]
        },
        {"code": "97140", "units": 1, "minutes": 15,
         "modifiers": ["GP"], "regions": ["lumbar"], "techniques": ["joint_mobilization"],
         "diagnosis_pointers": [1], "response": "Better", "goal": "Walk"},
        {"code": "97110", "units": 3, "minutes": 30, "modifiers": ["GP", "59", "XU"], "diagnosis_pointers": [1]},
        {"code": "97110", "units": 0, "minutes": 0, "modifiers": ["GP", "XU"], "diagnosis_pointers": [1]}
    ]
}
"""

JSON_SAFE = JSON_BEFORE.replace('"units": 3, "minutes": 30, "modifiers": ["GP", "59", "XU"]', '"units": 2, "minutes": 30, "modifiers": ["GP", "XU"]').replace(
    ',\n        {"code": "97110", "units": 0, "minutes": 0, "modifiers": ["GP", "XU"], "diagnosis_pointers": [1]}', ""
)


def test_json_fixes_keep_indentation_and_key_order(here):
    (here / "v.json").write_text(JSON_BEFORE)
    result = run("check", "--fix", "--format", "json", "v.json")
    assert (here / "v.json").read_text() == JSON_SAFE
    assert [d["code"] for d in json.loads(result.stdout)] == ["MOD002"]  # unsafe: left for a person
    run("check", "--fix", "--unsafe-fixes", "v.json")
    assert (here / "v.json").read_text() == JSON_SAFE.replace('"modifiers": ["GP", "59"],', '"modifiers": ["GP"],').replace(
        '"modifiers": ["GP"], "regions"', '"modifiers": ["GP", "59"], "regions"'
    )


def test_fixes_run_until_nothing_changes(here):
    lines = "".join(
        f'  - {{code: "97110", units: 1, minutes: {m}, modifiers: [GP], diagnosis_pointers: [1]}}\n' for m in (15, 15, 15)
    )
    (here / "v.yaml").write_text(HEAD + lines)
    result = run("check", "--fix", "v.yaml")
    assert result.exit_code == 0, result.output
    assert (here / "v.yaml").read_text() == HEAD + '  - {code: "97110", units: 3, minutes: 45, modifiers: [GP], diagnosis_pointers: [1]}\n'
    assert "fixed 2 findings" in result.stderr


def test_a_fix_that_would_drop_a_comment_is_not_made(here):
    before = """\
  - code: "97110"
    units: 1
    minutes: 15
    modifiers: [GP]
    diagnosis_pointers: [1]
  # the afternoon session, billed apart on purpose
  - code: "97110"
    units: 1
    minutes: 15
    modifiers: [GP]
    diagnosis_pointers: [1]
"""
    (here / "v.yaml").write_text(HEAD + before)
    result = run("check", "--fix", "--format", "json", "v.yaml")
    assert (here / "v.yaml").read_text() == HEAD + before
    assert [d["code"] for d in json.loads(result.stdout)] == ["UNT006"]


def test_lines_that_differ_are_not_merged(here):
    before = (
        '  - {code: "97110", units: 1, minutes: 15, modifiers: [GP], diagnosis_pointers: [1]}\n'
        '  - {code: "97110", units: 1, minutes: 15, modifiers: [GP, KX], diagnosis_pointers: [1]}\n'
    )
    (here / "v.yaml").write_text(HEAD + before)
    run("check", "--fix", "v.yaml")
    assert (here / "v.yaml").read_text() == HEAD + before


def test_unfixable_and_fixable_settings(here):
    (here / "v.yaml").write_text(HEAD + CASES["UNT001-block"][1])
    (here / ".cptlint.toml").write_text('unfixable = ["UNT001"]\n')
    run("check", "--fix", "v.yaml")
    assert (here / "v.yaml").read_text() == HEAD + CASES["UNT001-block"][1]
    (here / ".cptlint.toml").write_text('fixable = ["MOD"]\n')
    run("check", "--fix", "v.yaml")
    assert (here / "v.yaml").read_text() == HEAD + CASES["UNT001-block"][1]
    (here / ".cptlint.toml").write_text('fixable = ["UNT00"]\nunfixable = ["UNT004"]\n')
    run("check", "--fix", "v.yaml")
    assert (here / "v.yaml").read_text() == HEAD + CASES["UNT001-block"][2]


def test_stdin_fix_prints_the_fixed_document(here):
    result = run("check", "--fix", "--stdin-filename", "v.yaml", "-", input=HEAD + CASES["MOD003-flow"][1])
    assert result.stdout == HEAD + CASES["MOD003-flow"][2]
    assert result.exit_code == 0


def test_bom_and_crlf_survive(here):
    crlf = (HEAD + CASES["UNT001-block"][1]).replace("\n", "\r\n")
    (here / "v.yaml").write_bytes(b"\xef\xbb\xbf" + crlf.encode())
    run("check", "--fix", "v.yaml")
    expected = (HEAD + CASES["UNT001-block"][2]).replace("\n", "\r\n")
    assert (here / "v.yaml").read_bytes() == b"\xef\xbb\xbf" + expected.encode()


def test_a_fix_is_never_written_when_the_result_reads_worse(here):
    from cptlint.config import Settings
    from cptlint.engine import Linter
    from cptlint.fixer import Editable, _reads_as_well

    linter = Linter(Settings())
    file = Editable("v.yaml", None, HEAD, HEAD, False)
    now = linter.lint_file("v.yaml", HEAD.encode())
    assert _reads_as_well(linter, file, now, HEAD + "  - {code: '97110', units: 1\n") is False
    assert _reads_as_well(linter, file, now, HEAD.replace("date: 2026-03-14", "date: 2026-03-15")) is True


JSON_UNSAFE = """{"id": "ENC-3", "date": "2026-03-14", "patient": "P-3",
 "provider": {"npi": "1234567893", "discipline": "PT"}, "diagnoses": ["M54.50"],
 "services": [
  {"code": "97140", "units": 1, "minutes": 38, "modifiers": ["GP"], "regions": ["lumbar"],
   "techniques": ["effleurage", "petrissage"], "diagnosis_pointers": [1], "response": "Calmer", "goal": "Sleep"}
 ]}
"""


def test_json_unsafe_fixes_and_diff(here):
    (here / "v.json").write_text(JSON_UNSAFE)
    diff = run("check", "--diff", "--unsafe-fixes", "v.json").stdout
    run("check", "--fix", "--unsafe-fixes", "v.json")
    fixed = (here / "v.json").read_text()
    assert fixed == JSON_UNSAFE.replace('"code": "97140", "units": 1,', '"code": "97124", "units": 3,')
    from cptlint.cli import _unified_diff

    assert diff == _unified_diff("v.json", JSON_UNSAFE, fixed)


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(["97110", "97112", "97116"]), st.integers(0, 40), st.integers(0, 4)), min_size=1, max_size=4),
    st.booleans(),
    st.data(),
)
def test_fixes_keep_every_comment_and_leave_a_readable_file(lines, flow, data):
    import tempfile
    from pathlib import Path

    body = []
    for i, (code, minutes, units) in enumerate(lines):
        note = f"  # line {i}" if data.draw(st.booleans(), label="comment") else ""
        if flow:
            body.append(f'  - {{code: "{code}", units: {units}, minutes: {minutes}, modifiers: [GP], diagnosis_pointers: [1]}}{note}\n')
        else:
            body.append(f"  - code: '{code}'{note}\n    units: {units}\n    minutes: {minutes}\n    modifiers: [GP]\n    diagnosis_pointers: [1]\n")
    text = HEAD + "".join(body)
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "v.yaml"
        path.write_text(text)
        run("check", "--fix", "--unsafe-fixes", str(path))
        fixed = path.read_text()
        after = json.loads(run("check", "--format", "json", "--no-cache", str(path)).stdout)
    comments = [line[line.index("#"):] for line in text.splitlines() if "#" in line]
    assert all(comment in fixed for comment in comments)
    assert not [d for d in after if d["code"].startswith("SCH")]
    codes = {d["code"] for d in after}
    # over-billing is always fixed unless a code stays split over lines whose merge would drop a
    # comment; under-billing too, unless the units are spread against the rule (UNT002 has no fix)
    assert "UNT001" not in codes or "UNT006" in codes
    assert "UNT004" not in codes or codes & {"UNT002", "UNT006"}
