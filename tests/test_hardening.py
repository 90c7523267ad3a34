"""Hardening: a file in a repository is data, never code, and never a way out of it; no input
stops the run; --fix never loses a byte. Each test reproduces a fault found in review."""

from __future__ import annotations

import json
import os
import pickle
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path
from xml.etree import ElementTree

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cptlint.cli import main
from tests.conftest import CLEAN_VISIT, REPO, SHARED

OVER = CLEAN_VISIT.replace("units: 2\n", "units: 4\n")  # UNT001, safely fixable
# 30 + 15 timed minutes allow 3 units (CMS 8-minute rule); 97110 keeps its 1, so 97140 gets 2
FIXED = CLEAN_VISIT


def run(*args, input=None):
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


# ------------------------------------------------------------------ nothing runs code


class _Planted:
    """Unpickling this creates the file named: proof that a pickle ran."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (Path(self.marker).touch, ())


def _plant(folder: Path, marker: Path) -> int:
    planted = 0
    for path in folder.rglob("*"):
        if path.is_file():
            path.write_bytes(pickle.dumps(_Planted(str(marker))))
            planted += 1
    return planted


def test_a_pickle_planted_in_the_cache_never_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "visits").mkdir()
    (tmp_path / "visits" / "over.yaml").write_text(OVER)
    (tmp_path / "visits" / "clean.yaml").write_text(CLEAN_VISIT.replace("ENC-1", "ENC-2"))
    first = run("check", "--format", "json", "visits")
    marker = tmp_path / "ran"
    assert _plant(tmp_path / ".cptlint_cache", marker) >= 3  # every entry and the policy's
    again = run("check", "--format", "json", "visits")
    assert not marker.exists()
    assert again.stdout == first.stdout  # a planted entry is a miss: the files are linted again


def test_a_pickle_planted_in_the_pytest_cache_never_runs(pytester):
    pytester.makefile(".yaml", **{"visits/clean": CLEAN_VISIT})
    pytester.runpytest("--cptlint", "visits").assert_outcomes(passed=1)
    marker = pytester.path / "ran"
    assert _plant(pytester.path / ".pytest_cache", marker) >= 1
    pytester.runpytest("--cptlint", "visits").assert_outcomes(passed=1)
    assert not marker.exists()


def test_a_cache_folder_that_is_a_link_is_not_used(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    important = tmp_path / "important"
    important.mkdir()
    (important / ".gitignore").write_text("keep me\n")
    project = tmp_path / "project"
    project.mkdir()
    (project / ".cptlint_cache").symlink_to(important)
    (project / "v.yaml").write_text(CLEAN_VISIT)
    monkeypatch.chdir(project)
    assert run("check", "v.yaml").exit_code == 0
    assert sorted(p.name for p in important.iterdir()) == [".gitignore"]
    assert (important / ".gitignore").read_text() == "keep me\n"


# ------------------------------------------------------------------ nothing reaches outside


@pytest.fixture
def project(tmp_path, monkeypatch):
    (tmp_path / "home").mkdir()
    secret = tmp_path / "home" / ".git-credentials"
    secret.write_text("id: https://user:hunter2@example.com\n")
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / ".cptlint.toml").write_text("")
    monkeypatch.chdir(repo)
    return repo, secret


def test_a_link_that_leads_outside_the_project_is_not_read(project):
    repo, secret = project
    (repo / "leak.yaml").symlink_to(secret)
    (repo / "inside.yaml").write_text(OVER)
    (repo / "alias.yaml").symlink_to(repo / "inside.yaml")
    result = run("check", "--no-cache", ".")
    assert "hunter2" not in result.output
    assert "leak.yaml:1:1: SCH001 not read: a symbolic link that leads outside the project" in result.output
    assert "alias.yaml:9:12: UNT001" in result.output  # a link inside the project is read
    fixed = run("check", "--fix", "leak.yaml")
    assert secret.read_text() == "id: https://user:hunter2@example.com\n" and "hunter2" not in fixed.output


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_special_files_are_never_read(project):
    repo, _ = project
    os.mkfifo(repo / "pipe.yaml")  # opening it would wait for a writer for ever
    (repo / "zero.yaml").symlink_to("/dev/zero")
    started = time.monotonic()
    result = run("check", "--no-cache", "pipe.yaml", ".")
    assert time.monotonic() - started < 30
    assert "pipe.yaml:1:1: SCH001 not read: not a regular file" in result.output
    assert "zero.yaml:1:1: SCH001 not read" in result.output


def test_a_file_over_the_size_limit_is_a_finding(project):
    repo, _ = project
    (repo / "big.yaml").write_text(CLEAN_VISIT + "x-notes: |\n" + "  padding\n" * 2000)
    assert "big.yaml" not in run("check", "--no-cache", "big.yaml").output.split("Checked")[0]
    (repo / ".cptlint.toml").write_text("max-file-size = 1000\n")
    result = run("check", "--no-cache", "big.yaml")
    assert result.exit_code == 1 and "big.yaml:1:1: SCH001 not read:" in result.output and "max-file-size" in result.output
    (repo / "export.ndjson").write_text((json.dumps({"id": "E", "date": "2026-03-14"}) + "\n") * 200)
    assert "not read" not in run("check", "--no-cache", "export.ndjson").output  # NDJSON is streamed
    (repo / ".cptlint.toml").write_text('max-file-size = "big"\n')
    assert run("check", "big.yaml").exit_code == 2


# ------------------------------------------------------------------ rules data and CMS files


def _rules(repo: Path) -> Path:
    rules = repo / "our-rules"
    (rules / "payers").mkdir(parents=True)
    (repo / ".cptlint.toml").write_text('extend-rules = ["our-rules"]\n')
    (repo / "v.yaml").write_text(CLEAN_VISIT)
    return rules


@pytest.mark.parametrize("case", ["directory", "dangling", "looping", "outside", "huge int", "alias depth"])
def test_broken_rules_data_is_exit_2_naming_the_file(project, case):
    repo, secret = project
    rules = _rules(repo)
    target = rules / "codes.yaml"
    if case == "directory":
        target.mkdir()
    elif case == "dangling":
        target.symlink_to(rules / "nowhere.yaml")
    elif case == "looping":
        target.symlink_to(rules / "codes.yaml")
    elif case == "outside":
        target.symlink_to(secret)
    elif case == "huge int":
        target.write_text("codes:\n  '97140': {label: x, timed: true, category: " + "9" * 5000 + "}\n")
    else:
        text = "x0: &x0 [a]\n" + "".join(f"x{i}: &x{i} [*x{i - 1}]\n" for i in range(1, 120))
        target.write_text(text)
    result = run("check", "--no-cache", "v.yaml")
    assert result.exit_code == 2 and "codes.yaml" in result.stderr and "Traceback" not in result.output
    assert "hunter2" not in result.output


def test_an_mue_field_over_the_csv_limit_is_exit_2_naming_the_file(project):
    repo, _ = project
    (repo / "mue.csv").write_text("HCPCS/CPT Code,Practitioner Services MUE Values,MUE Adjudication Indicator\n97140," + "x" * 140_000 + ",1\n")
    (repo / ".cptlint.toml").write_text('mue-file = "mue.csv"\n')
    (repo / "v.yaml").write_text(CLEAN_VISIT)
    result = run("check", "--no-cache", "v.yaml")
    assert result.exit_code == 2 and "mue.csv:2" in result.stderr


# ------------------------------------------------------------------ no input stops the run


HOSTILE = {
    "dup-then-syntax.json": b'{"id": "a", "id": "b", "date": "2026-03-14", "services": [}',
    "dup-deep.json": b'{"id": "a", "services": [{"code": "97140", "code": "97110"}], "date": ',
    "trailing.json": b'{"id": "a", "date": "2026-03-14", "services": []} {"more": 1}',
    "bigint.json": b'{"id": "a", "date": "2026-03-14", "services": [{"code": "97110", "units": ' + b"9" * 5000 + b"}]}",
    "bigint.yaml": b"id: a\ndate: 2026-03-14\nservices:\n  - {code: '97110', units: " + b"9" * 5000 + b"}\n",
    "alias-depth.yaml": b"id: a\ndate: 2026-03-14\nservices: []\nx-0: &x0 [a]\n"
    + b"".join(b"x-%d: &x%d [*x%d]\n" % (i, i, i - 1) for i in range(1, 300)),
    "surrogate.json": b'{"id": "\\ud800", "date": "2026-03-14", "\\udc00": 1, "services": [{"code": "97110", "units": 1}]}',
    "surrogate.ndjson": b'{"id": "\\ud800x", "date": "2026-03-14", "services": [{"code": "97110", "units": "1"}]}\n',
    "control.json": b'{"id": "\\u001b[2J\\u0007", "date": "2026-03-14", "services": [{"code": "\\u001b]0;owned\\u0007"}]}',
    "utf16.yaml": "id: a\ndate: 2026-03-14\n".encode("utf-16"),
    "latin1.yaml": "id: café\n".encode("latin-1"),
    "cr-only.yaml": OVER.replace("\n", "\r").encode(),
}


@pytest.fixture
def hostile(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "in").mkdir()
    for name, content in HOSTILE.items():
        (tmp_path / "in" / name).write_bytes(content)
    return tmp_path


@pytest.mark.parametrize("output_format", ["text", "json", "sarif", "github", "junit", "gitlab"])
def test_hostile_files_are_findings_in_every_format(hostile, output_format):
    result = run("check", "--no-cache", "--format", output_format, "in")
    assert result.exit_code == 1, result.output
    out = result.stdout
    assert "\x1b" not in out and "\x07" not in out
    if output_format in ("json", "sarif", "gitlab"):
        json.loads(out)
    elif output_format == "junit":
        ElementTree.fromstring(out.encode("utf-8", "backslashreplace"))
    named = {Path(line.split(":")[0]).name for line in out.splitlines() if ": SCH" in line} if output_format == "text" else set()
    if output_format == "text":
        assert set(HOSTILE) - {"cr-only.yaml"} <= named


def test_fixes_and_diffs_of_files_that_are_not_utf8_or_are_ndjson_say_nothing_and_change_nothing(hostile):
    before = {p.name: p.read_bytes() for p in (hostile / "in").iterdir()}
    assert run("check", "--diff", "in/utf16.yaml", "in/latin1.yaml", "in/surrogate.ndjson").exit_code == 0
    record = {"id": "N", "date": "2026-03-14", "patient": "P", "provider": {"npi": "1234567893", "discipline": "PT"},
              "diagnoses": ["M54.50"], "services": [{"code": "97110", "units": 3, "minutes": 15, "modifiers": ["GP"], "diagnosis_pointers": [1]}]}
    (hostile / "in" / "fixable.ndjson").write_text(json.dumps(record) + "\n")
    result = run("check", "--fix", "in/utf16.yaml", "in/fixable.ndjson")
    assert "UNT001 3 timed units" in result.output and "[*]" not in result.output
    assert "in/fixable.ndjson: no fix is offered in an NDJSON file" in result.stderr
    assert "no fix is offered" not in run("check", "--fix", "in/utf16.yaml").stderr
    assert {p.name: p.read_bytes() for p in (hostile / "in").iterdir() if p.name in before} == before


def test_names_that_are_not_utf8_are_reported_in_every_format_and_into_a_file(tmp_path):
    name = os.fsdecode(b"caf\xe9.yaml")
    (tmp_path / name).write_text(OVER)
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "NO_COLOR": "1"}
    for output_format in ("text", "sarif", "gitlab", "junit"):
        done = subprocess.run(
            [sys.executable, "-m", "cptlint", "check", "--no-cache", "--format", output_format, "."],
            cwd=tmp_path, env=env, capture_output=True,
        )
        assert done.returncode == 1 and b"Traceback" not in done.stderr, done.stderr
        assert (b"caf%E9.yaml" if output_format == "sarif" else b"caf\\udce9.yaml") in done.stdout
    done = subprocess.run(
        [sys.executable, "-m", "cptlint", "check", "--no-cache", "--format", "sarif", "-o", "out.sarif", "."],
        cwd=tmp_path, env=env, capture_output=True,
    )
    assert done.returncode == 1 and "caf%E9.yaml" in json.loads((tmp_path / "out.sarif").read_text())["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]


# ------------------------------------------------------------------ --fix never loses a byte


def test_a_fix_writes_the_line_its_finding_names_whatever_the_line_breaks(tmp_path, monkeypatch):
    """libyaml counts U+2028 inside a string as a line break; the 97110 line above must not be
    the one lowered."""
    monkeypatch.chdir(tmp_path)
    text = OVER.replace("Turn head to check blind spot while driving", '"Turn head\u2028to check blind spot"')
    (tmp_path / "ls.yaml").write_text(text, encoding="utf-8")
    result = run("check", "--no-cache", "ls.yaml")
    assert "ls.yaml:9:12: UNT001" in result.output and "9 |     units: 4" in result.output
    run("check", "--fix", "ls.yaml")
    assert (tmp_path / "ls.yaml").read_text(encoding="utf-8") == text.replace("units: 4\n", "units: 2\n")
    (tmp_path / "cr.yaml").write_bytes(OVER.replace("\n", "\r").encode())
    assert "cr.yaml:9:12: UNT001" in run("check", "--no-cache", "cr.yaml").output
    run("check", "--fix", "cr.yaml")
    assert (tmp_path / "cr.yaml").read_bytes() == FIXED.replace("\n", "\r").encode()


def test_a_fix_keeps_the_files_mode(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "v.yaml").write_text(OVER)
    os.chmod(tmp_path / "v.yaml", 0o640)
    run("check", "--fix", "v.yaml")
    assert stat.S_IMODE(os.stat(tmp_path / "v.yaml").st_mode) == 0o640
    assert (tmp_path / "v.yaml").read_text() == FIXED
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".cptlint-tmp")] == []


def test_a_killed_fix_leaves_every_file_as_it_was_or_as_fixed(tmp_path):
    """Kills land across the run, most near its end, where the files are written."""
    folder = tmp_path / "visits"
    folder.mkdir()
    before = OVER + "x-notes: |\n" + "  a line of notes that makes the file long enough to take a while\n" * 400
    after = before.replace("units: 4\n", "units: 2\n")
    command = [sys.executable, "-m", "cptlint", "check", "--no-cache", "--fix", "-q", "visits"]

    def reset() -> None:
        for i in range(300):
            (folder / f"v{i:03}.yaml").write_text(before.replace("ENC-1", f"ENC-{i}"))

    reset()
    started = time.monotonic()
    subprocess.run(command, cwd=tmp_path, capture_output=True)
    whole = time.monotonic() - started
    for share in (0.5, 0.8, 0.9, 0.95, 0.98, 1.0):
        reset()
        process = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(whole * share)
        process.send_signal(signal.SIGKILL)
        process.wait()
        for i in range(300):
            content = (folder / f"v{i:03}.yaml").read_text()
            mine = before.replace("ENC-1", f"ENC-{i}"), after.replace("ENC-1", f"ENC-{i}")
            assert content in mine, f"v{i:03}.yaml after a kill at {share:.0%} of the run"
    leftovers = [p.name for p in folder.iterdir() if not p.name.endswith(".yaml")]
    assert all(name.endswith(".cptlint-tmp") for name in leftovers)  # a killed write leaves its temporary at most


# ------------------------------------------------------------------ fuzz


def _seeds() -> list[tuple[str, bytes]]:
    seeds = [("v.yaml", OVER.encode()), ("c.yaml", CLEAN_VISIT.encode())]
    for path in sorted((REPO / "examples" / "visits").rglob("*")):
        if path.suffix in (".yaml", ".json", ".ndjson"):
            seeds.append((path.name, path.read_bytes()))
    return seeds


SEEDS = _seeds()
NASTY = [b"\x00", b"\xff", b"\r", b"\x85", "\u2028".encode(), b"\x1b", b"\\ud800", b"~", b"&a", b"*a", b"{", b"[", b'"', b":", b"#",
         b"- ", b"\n  ", b"0" * 20, b"9" * 4400, b"!!int ", b"<<: ", b"---\n", b"\t"]


CLAIM_SEEDS = [(p.name, p.read_bytes()) for p in sorted((REPO / "tests" / "fixtures" / "claims").glob("*")) if p.suffix in (".837", ".json")]
CLAIM_SEEDS.append(("bulk.ndjson", b"".join(json.dumps(json.loads(c)).encode() + b"\n" for n, c in CLAIM_SEEDS if n.endswith(".json"))))
CLAIM_NASTY = [b"*", b"~", b":", b">", b"^", b"ISA", b"SE*1*0001~", b"CLM*X~", b"LX*1~", b"SV1*HC~", b"HI*BK:7213~", b"HL*9**22*0~",
               b"DTP*472*RD8*2026", b'"resourceType": "Bundle", ', b'"item": 5, ', b'"sequence": "1", ', b"null", b"[]", b"{}", b"[[1]]", b'{"a": [1]}', b"true"]


@st.composite
def mutated(draw, seeds=SEEDS, nasty=NASTY):
    name, content = draw(st.sampled_from(seeds))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(content)))
        action = draw(st.sampled_from(["insert", "delete", "replace"]))
        piece = draw(st.sampled_from(nasty) | st.binary(max_size=4))
        if action == "insert":
            content = content[:at] + piece + content[at:]
        elif action == "delete":
            content = content[:at] + content[at + draw(st.integers(1, 8)) :]
        else:
            content = content[:at] + piece + content[at + len(piece) :]
    return name, content


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(mutated(), st.sampled_from(["text", "json", "sarif", "github", "junit", "gitlab"]))
def test_fuzzed_files_give_findings_never_a_traceback(tmp_path_factory, case, output_format):
    name, content = case
    folder = tmp_path_factory.mktemp("fuzz")
    (folder / name).write_bytes(content)
    target = str(folder / name)
    checked = CliRunner().invoke(main, ["check", "--no-cache", "--format", output_format, target])
    assert checked.exit_code in (0, 1), checked.output
    assert checked.exception is None or isinstance(checked.exception, SystemExit), repr(checked.exception)  # no traceback
    if output_format in ("json", "sarif", "gitlab"):
        json.loads(checked.stdout)
    elif output_format == "junit":
        ElementTree.fromstring(checked.stdout.encode("utf-8", "backslashreplace"))
    diffed = CliRunner().invoke(main, ["check", "--no-cache", "--diff", target])
    assert diffed.exit_code in (0, 1), diffed.output
    assert diffed.exception is None or isinstance(diffed.exception, SystemExit), repr(diffed.exception)
    assert (folder / name).read_bytes() == content  # --diff writes nothing


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(mutated(CLAIM_SEEDS, CLAIM_NASTY + NASTY), st.sampled_from(["text", "json", "junit"]))
def test_fuzzed_claim_files_give_findings_never_a_traceback(tmp_path_factory, case, output_format):
    """837P and FHIR (a resource, a bulk export) mutated where their readers look: delimiters,
    envelope and loop segments, wrong JSON types."""
    name, content = case
    folder = tmp_path_factory.mktemp("claims")
    (folder / name).write_bytes(content)
    checked = CliRunner().invoke(main, ["check", "--no-cache", "--format", output_format, str(folder / name)])
    assert checked.exit_code in (0, 1), checked.output
    assert checked.exception is None or isinstance(checked.exception, SystemExit), repr(checked.exception)
    if output_format == "json":
        json.loads(checked.stdout)
    elif output_format == "junit":
        ElementTree.fromstring(checked.stdout.encode("utf-8", "backslashreplace"))
