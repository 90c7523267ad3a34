"""What makes cptlint fast must not change what it finds: --jobs, the cache, NDJSON streaming,
and the fast schema check. (Speed itself is measured by bench/, never asserted here.)"""

from __future__ import annotations

import copy
import json

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from cptlint.cli import main
from cptlint.parallel import PARALLEL_MIN_FILES
from tests.conftest import CLEAN_VISIT


def run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture
def corpus(tmp_path, monkeypatch):
    """More files than the parallel threshold; days that span files (joined: days-across-files);
    some findings."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".cptlint.toml").write_text("days-across-files = true\n")
    for i in range(PARALLEL_MIN_FILES + 20):
        folder = tmp_path / "visits" / f"b{i // 50}"
        folder.mkdir(parents=True, exist_ok=True)
        text = CLEAN_VISIT.replace("ENC-1", f"ENC-{i}").replace("P-1", f"P-{i // 2}")  # two files a day
        if i % 7 == 0:
            text = text.replace("units: 1\n", "units: 2\n")
        (folder / f"v{i}.yaml").write_text(text)
    return tmp_path


def test_jobs_give_identical_output(corpus):
    one = run("check", "--no-cache", "--jobs", "1", "--format", "json", "visits")
    two = run("check", "--no-cache", "--jobs", "2", "--format", "json", "visits")
    assert one.exit_code == two.exit_code == 1
    assert one.stdout == two.stdout
    found = json.loads(one.stdout)
    assert {"UNT006", "UNT001", "DLV003"} <= {d["code"] for d in found}  # days across files
    assert run("check", "--no-cache", "--jobs", "2", "-q", "visits").stdout == run("check", "--no-cache", "-j", "1", "-q", "visits").stdout


def test_cache_gives_identical_output_and_follows_changes(corpus):
    cold = run("check", "--format", "json", "visits").stdout
    assert (corpus / ".cptlint_cache" / ".gitignore").read_text().endswith("*\n")
    assert run("check", "--format", "json", "visits").stdout == cold
    assert run("check", "--no-cache", "--format", "json", "visits").stdout == cold
    changed = corpus / "visits" / "b0" / "v1.yaml"
    changed.write_text(changed.read_text().replace("units: 1\n", "units: 9\n"))
    after_edit = json.loads(run("check", "--format", "json", "visits").stdout)
    def day_of_v1(found):
        return [d["message"] for d in found if d["encounter"] in ("ENC-0", "ENC-1") and d["code"] == "UNT001"]

    assert day_of_v1(after_edit) == ["15 timed units billed for 90 timed minutes; the CMS 8-minute rule allows 6"]
    assert day_of_v1(json.loads(cold)) == ["7 timed units billed for 90 timed minutes; the CMS 8-minute rule allows 6"]
    (corpus / ".cptlint.toml").write_text('days-across-files = true\nignore = ["UNT"]\n')
    assert not any(d["code"].startswith("UNT") for d in json.loads(run("check", "--format", "json", "visits").stdout))


def test_cache_follows_the_rules_data(corpus):
    rules = corpus / "our-rules" / "payers"
    rules.mkdir(parents=True)
    (rules / "medicare.yaml").write_text("time_rule: total\ntherapy_modifiers: required\n")
    (corpus / ".cptlint.toml").write_text('extend-rules = ["our-rules"]\n')
    before = run("check", "--format", "json", "visits").stdout
    (rules / "medicare.yaml").write_text("time_rule: total\ntherapy_modifiers: optional\n")
    assert run("check", "--format", "json", "visits").stdout == before  # the modifiers were there anyway
    (rules / "medicare.yaml").write_text("time_rule: per_code\ntherapy_modifiers: required\n")
    assert run("check", "--format", "json", "visits").stdout != before


def test_no_cache_writes_no_cache(corpus):
    run("check", "--no-cache", "visits")
    assert not (corpus / ".cptlint_cache").exists()


def test_progress_is_silent_off_a_terminal():
    from cptlint.cli import _progress_bar

    assert _progress_bar(after=0) is None  # pytest's stderr is not a terminal


LINE = {"id": "", "date": "2026-03-14", "patient": "P-1", "provider": {"npi": "1234567893", "discipline": "PT"},
        "diagnoses": ["M54.50"], "services": [{"code": "97110", "units": 1, "minutes": 10, "modifiers": ["GP"], "diagnosis_pointers": [1]}]}


def lines(*patients):
    out = []
    for i, patient in enumerate(patients):
        record = copy.deepcopy(LINE)
        record["id"], record["patient"] = f"E{i}", patient
        out.append(json.dumps(record))
    return "\n".join(out) + "\n"


def test_an_ndjson_day_is_every_line_of_one_patient_and_date_in_the_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "together.ndjson").write_text(lines("P-1", "P-1", "P-2"))
    found = json.loads(run("check", "--format", "json", "together.ndjson").stdout)
    # 10 + 10 minutes of 97110 on two lines of one day: one line too many, and one unit too many
    assert sorted((d["code"], d["pointer"]) for d in found) == [("UNT001", "/0/services/0/units"), ("UNT006", "/1/services/0/code")]
    # an export sorted by something else: the patient's lines are apart, and still one day
    (tmp_path / "apart.ndjson").write_text(lines("P-1", "P-2", "P-1"))
    for jobs in ("1", "2"):
        found = json.loads(run("check", "--format", "json", "-j", jobs, "apart.ndjson").stdout)
        assert sorted((d["code"], d["pointer"]) for d in found) == [("UNT001", "/0/services/0/units"), ("UNT006", "/2/services/0/code")]


def test_ndjson_excerpts_show_the_flagged_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "v.ndjson").write_text(lines("P-1", "P-1"))
    out = run("check", "v.ndjson").stdout.splitlines()
    assert out[0].startswith("v.ndjson:1:") and out[2].startswith("1 | …") and '"units": 1' in out[2]


def _export(rng) -> str:
    """An NDJSON export with what splitting must get right: days of one to four lines, a day of
    sixty lines (longer than a piece), lines that are blank, broken, or fail the schema inside
    a day, and a byte order mark."""
    out = []
    for day in range(120):
        patient = f"P-{day % 7}"  # the same patient again on later days: only runs make a day
        for visit in range(60 if day == 50 else rng.randint(1, 4)):
            record = copy.deepcopy(LINE)
            record["id"], record["patient"] = f"E{day}-{visit}", patient
            record["services"][0]["units"] = rng.choice([1, 1, 1, 2])
            roll = rng.random()
            if roll < 0.04:
                out.append('{"id": "broken", ')
            elif roll < 0.08:
                record["services"][0]["units"] = "2"  # fails the schema, in the middle of its day
            elif roll < 0.10:
                out.append("   ")
            out.append(json.dumps(record))
    return "\ufeff" + "\n".join(out) + "\n"


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_split_ndjson_file_gives_the_findings_of_one_pass(tmp_path, monkeypatch, seed):
    import random

    import cptlint.engine
    import cptlint.parallel
    from cptlint.config import Settings
    from cptlint.engine import Linter, Source

    path = tmp_path / "export.ndjson"
    path.write_text(_export(random.Random(seed)), encoding="utf-8")
    linter = Linter(Settings())
    def findings(jobs):
        return sorted(json.dumps(d.as_dict()) for d in linter.run([Source(str(path))], jobs=jobs).diagnostics)

    whole = findings(1)
    assert {"UNT001", "UNT006", "SCH001", "SCH003"} <= {json.loads(d)["code"] for d in whole}
    monkeypatch.setattr(cptlint.parallel, "SPLIT_MIN_BYTES", 1)
    for jobs in (2, 3, 7):  # 8, 12 and 28 pieces: boundaries inside days, inside the long day, at broken lines
        assert findings(jobs) == whole
    one, two = (run("check", "--no-cache", "-j", jobs, str(path)).stdout for jobs in ("1", "2"))
    assert one == two and "| " in one  # the text format's excerpts too
    path.write_text("\n  \n\n" * 50)
    assert [json.loads(d)["code"] for d in findings(2)] == ["SCH004"]  # no record at all, split or not


# ------------------------------------------------------------------ the fast schema check


def _mutations():
    base = {
        "id": "E", "date": "2026-03-14", "payer": "medicare", "patient": "P",
        "provider": {"npi": "1234567893", "discipline": "PT"},
        "diagnoses": ["M54.50"],
        "services": [{"code": "97140", "units": 2, "minutes": 30, "modifiers": ["GP"], "regions": ["cervical"],
                      "techniques": ["joint_mobilization"], "diagnosis_pointers": [1], "start": "09:00", "end": "09:30",
                      "group": False, "response": "r", "goal": "g"}],
    }
    odd = st.one_of(
        st.none(), st.booleans(), st.integers(-3, 99999), st.floats(allow_nan=False, width=16), st.text(max_size=12),
        st.sampled_from(["97140", "9714", "2026-02-30", "2026-3-4", "09:60", "PT", "XX", "0123456789", "x-note"]),
        st.lists(st.integers(0, 3), max_size=2), st.just({}),
    )
    paths = [("id",), ("date",), ("payer",), ("provider", "npi"), ("provider", "discipline"), ("diagnoses", 0),
             ("services", 0, "code"), ("services", 0, "units"), ("services", 0, "minutes"), ("services", 0, "modifiers"),
             ("services", 0, "group"), ("services", 0, "start"), ("services", 0, "diagnosis_pointers", 0),
             ("services", 0, "unknown"), ("x-extra",), ("services",), ("provider",), ("encounters",)]
    return base, st.lists(st.tuples(st.sampled_from(paths), odd | st.just("<delete>")), max_size=3)


BASE, EDITS = _mutations()


def edited(edits) -> dict:
    """BASE with each (path, value) edit made where its path still leads."""
    doc = copy.deepcopy(BASE)
    for path, value in edits:
        node = doc
        for part in path[:-1]:
            node = node[part] if isinstance(node, (dict, list)) and (part in node if isinstance(node, dict) else part < len(node)) else None
            if node is None:
                break
        if isinstance(node, dict):
            if value == "<delete>":
                node.pop(path[-1], None)
            else:
                node[path[-1]] = copy.deepcopy(value)  # st.just({}) gives one object to every example
        elif isinstance(node, list) and isinstance(path[-1], int) and path[-1] < len(node) and value != "<delete>":
            node[path[-1]] = copy.deepcopy(value)
    return doc


@settings(max_examples=400, deadline=None)
@given(EDITS)
def test_fast_check_agrees_with_jsonschema(edits):
    from cptlint import schema

    doc = edited(edits)
    payers = ("commercial", "medicare")
    fast = schema.fast_check(payers, None)(doc)
    slow = not list(schema._validator(payers, None).iter_errors(doc))
    assert fast == slow


def test_cache_misses_when_cptlints_own_code_changes(corpus, monkeypatch):
    import cptlint.cache

    def entries():
        return sum(1 for p in (corpus / ".cptlint_cache" / "v1").rglob("*") if p.is_file())

    run("check", "--jobs", "1", "visits")
    first = entries()
    run("check", "--jobs", "1", "visits")
    assert entries() == first  # all hits
    monkeypatch.setattr(cptlint.cache, "code_fingerprint", lambda: "edited rule code")
    run("check", "--jobs", "1", "visits")
    assert entries() == 2 * first  # all misses, written anew


def test_skipping_rules_by_the_codes_billed_changes_no_finding(monkeypatch):
    """Rule.applies: a rule is skipped for lines whose codes leave it nothing to say. Every rule
    fixture (each rule fails somewhere) and example is linted with and without the skipping."""
    from cptlint.checks import all_rules
    from cptlint.config import load_settings
    from cptlint.engine import Linter
    from cptlint.sources import collect
    from tests.conftest import REPO

    settings = load_settings(cwd=REPO)
    linter = Linter(settings)
    files = collect([str(REPO / "tests" / "fixtures" / "rules"), str(REPO / "examples" / "visits")], settings)
    skipping = [d.as_dict() for d in linter.lint_paths(files).diagnostics]
    exercise = ("97110", "97112")  # an ordinary visit: no pair edit, no untimed or manual code
    skipped = {r.code for r in all_rules() if r.scope != "input" and not r.applies(exercise, linter.policy)}
    assert skipped >= {"MOD001", "MOD002", "MOD004", "UNT005", "UNT006", "UNT007", "PAY001", "REG004", "MAN001", "REG001"}
    assert not {"UNT001", "UNT003", "DLV003"} & skipped
    for rule in all_rules():
        monkeypatch.setattr(rule, "applies", classmethod(lambda cls, codes, policy: True))
    assert [d.as_dict() for d in Linter(settings).lint_paths(files).diagnostics] == skipping
    assert {d["code"] for d in skipping} >= {"MAN004", "REG001", "DLV002", "MOD008", "DOC001", "MOD001", "UNT006", "UNT005", "PAY001", "REG004", "DLV001", "DLV003"}


def test_the_fast_check_refuses_a_keyword_it_does_not_know_and_follows_recursive_references():
    from cptlint.validator import compile_schema

    with pytest.raises(ValueError, match="uniqueItems"):
        compile_schema({"type": "array", "uniqueItems": True})
    with pytest.raises(ValueError, match="format 'email'"):
        compile_schema({"type": "string", "format": "email"})
    tree = {"$defs": {"node": {"type": "object", "properties": {"children": {"type": "array", "items": {"$ref": "#/$defs/node"}}},
                               "additionalProperties": False}}, "$ref": "#/$defs/node"}
    check = compile_schema(tree)
    assert check({"children": [{"children": []}, {}]})
    assert not check({"children": [{"children": [{"name": 1}]}]})


def test_the_fast_check_applies_a_keyword_only_to_its_kind_of_value_with_or_without_a_type():
    """A keyword's type guard is left out where the node's own type, tested first, makes it
    needless; without a type, the guard stays and other kinds of value pass."""
    from cptlint.validator import compile_schema

    untyped = compile_schema({"pattern": "^a", "minimum": 3, "minLength": 2, "items": {"type": "string"}, "required": ["k"]})
    assert all(untyped(v) for v in (5, "ab", [], ["x"], None, True, 2.5 + 1, {"k": 1}))
    assert not any(untyped(v) for v in ("b", "a", 2, [1], {}))
    typed = compile_schema({"type": "object", "required": ["k"], "properties": {"k": {"type": "integer", "minimum": 3}}})
    assert typed({"k": 3}) and not typed({"k": 2}) and not typed({"k": True}) and not typed({}) and not typed([("k", 3)])
    listed = compile_schema({"type": "array", "minItems": 1, "items": {"type": "string", "pattern": "^a"}})
    assert listed(["a"]) and not listed([]) and not listed(["b"]) and not listed([1]) and not listed("a")


def test_remembered_verdicts_answer_as_the_test_does_and_stay_bounded():
    """Patterns and formats are asked once per distinct text; the memory of them is emptied
    when full, so a stream of new texts keeps it flat, and the answers stay the test's."""
    from cptlint.memo import Verdicts
    from cptlint.validator import compile_schema

    asked = []
    even = Verdicts(lambda text: asked.append(text) or len(text) % 2 == 0)
    assert [even[t] for t in ("ab", "abc", "ab", "abc")] == [True, False, True, False]
    assert asked == ["ab", "abc"]
    texts = [str(n) for n in range(3 * Verdicts.LIMIT)]
    assert [even[t] for t in texts] == [len(t) % 2 == 0 for t in texts]
    assert len(even) <= Verdicts.LIMIT
    dated = compile_schema({"type": "string", "format": "date", "pattern": "^2026"})
    for _ in range(2):  # asked again: answered from memory, alike
        assert dated("2026-02-28") and not dated("2026-02-30") and not dated("2025-01-01") and not dated("2026-1-1")


def test_a_value_of_a_subclassed_type_is_left_to_jsonschema():
    """The fast check tests exact types; a subclass of str or dict gets a no from it, and the
    full validator, which accepts it, has the last word."""
    from cptlint import schema
    from cptlint.validator import compile_schema

    class Text(str):
        pass

    check = compile_schema({"type": "object", "properties": {"id": {"type": "string"}, "n": {"type": "integer"}}})
    assert check({"id": "E", "n": 1}) and not check({"id": Text("E")}) and not check({"n": True})
    assert schema.validate({"id": Text("E"), "date": "2026-03-14", "services": [{"code": "97110", "units": 1}]}, definition="encounter") == []


@given(st.lists(st.sampled_from([b"{}", b"a", b" ", b"\t", b"\r", b"\x0b", b"\x0c", b"\n", b"\xef\xbb\xbf"]), max_size=30), st.booleans())
def test_a_piece_is_counted_as_reading_it_a_line_at_a_time_counts_it(pieces, first):
    """parallel._counted counts a piece's lines and records in C; a line-at-a-time read is the
    reference (a record is a line that is not blank, a byte order mark at the file's start aside)."""
    import io

    from cptlint.parallel import BOM, _counted

    data = b"".join(pieces)
    lines = records = 0
    for number, line in enumerate(io.BytesIO(data), start=1):
        if (line[len(BOM) :] if first and number == 1 and line.startswith(BOM) else line).strip():
            records += 1
        lines += 1
    assert _counted(data, first) == (lines, records)
