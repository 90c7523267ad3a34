"""The CMS NCCI PTP and MUE tables, read as CMS publishes them (shared/reference/cms-files.md):
the AMA notice and the header wrapped over four lines, Latin-1 with CRLF, `*` for no deletion
date, indicator 9, the quarterly zips. The f4 rows in tests/fixtures/cms are chosen to test
precedence; the f1 rows are the real ones the reference quotes."""

from __future__ import annotations

import json
import zipfile

import pytest
from click.testing import CliRunner

from cptlint.cli import main
from cptlint.config import Settings
from cptlint.engine import Linter, Source
from cptlint.policy import PolicyError, load_policy, read_mue_csv, read_ptp_text
from tests.conftest import REPO

CMS = REPO / "tests" / "fixtures" / "cms"
F1, F4 = CMS / "ccipra-v322r0-f1.TXT", CMS / "ccipra-v322r0-f4.TXT"
F4_ZIP = CMS / "medicare-ncci-2026q3-practitioner-ptp-edits-ccipra-v322r0-f4.zip"
MUE = CMS / "MCR_MUE_PractitionerServices_Eff_07-01-2026.csv"
MUE_ZIP = CMS / "medicare-ncci-2026-q3-practitioner-services-mue-table.zip"


def visit(date: str, lines: list[tuple[str, list[str]]]) -> str:
    """A PT visit billing each (code, modifiers) line for one unit of 15 minutes."""
    services = "".join(
        f'  - {{code: "{code}", units: 1, minutes: 15, modifiers: [{", ".join(["GP", *mods])}], diagnosis_pointers: [1]}}\n'
        for code, mods in lines
    )
    return (
        f'id: ENC-1\ndate: {date}\npayer: commercial\npatient: P-1\nprovider: {{npi: "1234567893", discipline: PT}}\n'
        f"diagnoses: [M54.50]\nservices:\n{services}"
    )


def mod_findings(text: str, **settings) -> list[str]:
    found = Linter(Settings(**settings)).run([Source("v.yaml", text.encode)]).diagnostics
    return [d.code for d in found if d.code.startswith("MOD00") and d.code in ("MOD001", "MOD002")]


def test_every_row_is_read_under_the_notice_and_the_wrapped_header():
    rows = read_ptp_text(F1, F1.read_bytes())
    assert [(r["column1"], r["column2"], r["modifier_indicator"], r["effective"], r["deleted"]) for r in rows] == [
        ("0001A", "99213", 1, "2022-01-01", "2023-12-31"),
        ("0001A", "G0008", 9, "2022-01-01", "2022-01-01"),
        ("0001U", "0030U", 1, "2018-07-01", None),
        ("0001M", "0591T", 0, "2020-01-01", None),
    ]
    assert rows[0]["source"] == "ccipra-v322r0-f1.TXT line 7"
    assert len(read_ptp_text(F4, F4.read_bytes())) == 5


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "holds no PTP row"),
        (F1.read_bytes().split(b"\r\n0001A")[0] + b"\r\n", "holds no PTP row"),  # the notice and header alone
        (F1.read_bytes() + b"0001A\t99214\t\t2022-01-01\t*\t1\tx\r\n", ":11: not a PTP row"),  # a date written otherwise
        (F1.read_bytes() + b"97140\t97530\t\t20220101\t*\t7\tx\r\n", ":11: not a PTP row"),  # an indicator CMS has not
    ],
)
def test_a_row_that_cannot_be_read_or_a_table_without_rows_is_an_error(tmp_path, content, message):
    table = tmp_path / "ccipra-v322r0-f4.TXT"
    table.write_bytes(content)
    with pytest.raises(PolicyError, match=message):
        load_policy(ptp_files=(table,))


def test_the_row_in_force_on_the_date_of_service_decides_whatever_their_order():
    settings = {"ptp_files": (F4,)}
    # 97530/97140: indicator 0 in 2020 (no modifier bypasses), 1 from 2021 (59 on the column-2 line does)
    assert mod_findings(visit("2020-06-01", [("97530", []), ("97140", ["59"])]), **settings) == ["MOD001"]
    assert mod_findings(visit("2026-03-14", [("97530", []), ("97140", ["59"])]), **settings) == []
    assert mod_findings(visit("2026-03-14", [("97530", []), ("97140", [])]), **settings) == ["MOD001"]
    # 97012/97140: indicator 1 until 2025, 0 since
    assert mod_findings(visit("2024-06-01", [("97012", []), ("97140", ["59"])]), **settings) == []
    assert mod_findings(visit("2025-06-01", [("97012", []), ("97140", ["59"])]), **settings) == ["MOD001"]


def test_a_cms_pair_replaces_the_builtin_row_in_either_order():
    builtin = load_policy()
    assert ("97140", "97530") in builtin.pairs  # built in with 97140 as column 1 (MLN1783722 example 9)
    policy = load_policy(ptp_files=(F4,))
    assert ("97140", "97530") not in policy.pairs and ("97530", "97140") in policy.pairs
    assert ("97140", "97530") in policy.replaced and ("97012", "97140") in policy.replaced
    # the modifier now belongs on 97140, the file's column 2: on 97530 it is MOD002's wrong line
    found = mod_findings(visit("2026-03-14", [("97530", ["59"]), ("97140", [])]), ptp_files=(F4,))
    assert found == ["MOD002"]


def test_a_pair_applies_to_codes_the_builtin_data_does_not_know():
    policy = load_policy(ptp_files=(F1,))
    assert "0001M" not in policy.codes and "0591T" not in policy.codes
    text = visit("2026-03-14", [("0001M", []), ("0591T", ["59"])]).replace(", minutes: 15", "")
    found = Linter(Settings(ptp_files=(F1,))).run([Source("v.yaml", text.encode)]).diagnostics
    assert "SCH003" not in [d.code for d in found]  # suffixed codes are codes
    assert "MOD001" in [d.code for d in found]  # indicator 0: never billed together


def test_the_quarterly_zips_and_several_parts_are_read():
    from_zip = load_policy(ptp_files=(F4_ZIP,))
    from_text = load_policy(ptp_files=(F4,))
    assert set(from_zip.pairs) == set(from_text.pairs)
    assert [item["rows"] for item in from_zip.loaded] == [5] and from_zip.loaded[0]["file"].endswith(":ccipra-v322r0-f4.TXT")
    both = load_policy(ptp_files=(F1, F4_ZIP))
    assert {("0001A", "99213"), ("97530", "97140")} <= set(both.pairs)


def test_an_excel_table_or_a_zip_without_one_is_refused_with_a_way_forward(tmp_path):
    xlsx = tmp_path / "ccipra-v322r0-f4.xlsx"
    xlsx.write_bytes(b"PK\x03\x04")
    with pytest.raises(PolicyError, match="use the .TXT CMS publishes beside it"):
        load_policy(ptp_files=(xlsx,))
    empty = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty, "w") as archive:
        archive.writestr("readme.pdf", b"%PDF")
    with pytest.raises(PolicyError, match="holds no .TXT"):
        load_policy(ptp_files=(empty,))


def test_the_mue_table_is_read_whole_from_the_csv_and_its_zip():
    edits = read_mue_csv(MUE, MUE.read_bytes())
    assert {code: (e.value, e.per_line) for code, e in edits.items()} == {
        "0001U": (1, False), "97110": (6, False), "97140": (4, False), "G0283": (1, True),
    }
    assert load_policy(mue_file=MUE_ZIP).mue == edits


@pytest.mark.parametrize("value, message", [("-1", "not a whole number from 0"), ("four", "not a whole number from 0")])
def test_a_negative_or_non_numeric_mue_is_an_error_naming_the_line(tmp_path, value, message):
    table = tmp_path / "mue.csv"
    table.write_bytes(MUE.read_bytes().replace(b"97140,4,", f"97140,{value},".encode()))
    with pytest.raises(PolicyError, match=f"mue.csv:8: the MUE value of 97140 is {message}"):
        load_policy(mue_file=table)


def test_cptlint_data_says_what_was_loaded(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".cptlint.toml").write_text(f'ptp-files = ["{F1}", "{F4_ZIP}"]\nmue-file = "{MUE}"\n')
    text = CliRunner().invoke(main, ["data", "--date", "2020-06-01"]).output
    assert "PTP          4 rows" in text and "MUE          4 rows" in text
    assert "Built-in pairs the CMS files replace" in text and "  97140 97530" in text
    report = json.loads(CliRunner().invoke(main, ["data", "--date", "2020-06-01", "--format", "json"]).output)
    assert [item["rows"] for item in report["files"]] == [4, 4, 5]
    builtin = len(load_policy().pairs)
    assert report["pairs"]["rows"] == builtin - 2 + 4 + 5  # two built-in pairs replaced by the f4 rows
    assert report["replaced_builtin_pairs"] == [["97140", "97530"], ["97012", "97140"]]
    in_2020 = report["pairs"]["in_force"]
    in_2022 = json.loads(CliRunner().invoke(main, ["data", "--date", "2022-06-01", "--format", "json"]).output)["pairs"]["in_force"]
    # from 2020 to 2022: 0001A/99213 took effect, and the built-in 29581/97140 and 29584/97140 (2022-01-01)
    assert in_2022 == in_2020 + 3
    assert CliRunner().invoke(main, ["data", "--date", "14/03/2026"]).exit_code == 2


def test_cptlint_data_names_the_icd10_release_and_says_when_there_is_none(monkeypatch):
    import cptlint.icd10

    report = json.loads(CliRunner().invoke(main, ["data", "--format", "json"]).output)
    assert report["icd10_cm"]["release"] == "April 2026" and report["icd10_cm"]["fiscal_year_start"] == "2025-10-01"
    monkeypatch.setattr(cptlint.icd10, "table", lambda: None)
    assert "ICD-10-CM: not installed" in CliRunner().invoke(main, ["data"]).output
    text = (REPO / "tests" / "fixtures" / "rules" / "DX004" / "fail-header-and-unknown.yaml").read_bytes()
    found = Linter(Settings()).run([Source("v.yaml", lambda: text)]).diagnostics
    assert "DX004" not in [d.code for d in found]  # without the table the rule does not run


def cached_findings(text: str, root, **settings) -> list[str]:
    found = Linter(Settings(root=root, **settings), cache=True).run([Source("v.yaml", text.encode)]).diagnostics
    return [d.code for d in found if d.code in ("MOD001", "MOD002")]


def test_with_a_cache_the_cms_pairs_are_looked_up_in_its_sqlite_table_with_the_same_verdicts(tmp_path):
    """A full CMS table is millions of rows: kept in the cache as an SQLite table, read by pair."""
    from cptlint.cache import Cache
    from cptlint.pairtable import Pairs

    settings = {"ptp_files": (F4, F1)}
    cases = [
        visit("2020-06-01", [("97530", []), ("97140", ["59"])]),
        visit("2026-03-14", [("97530", []), ("97140", ["59"])]),
        visit("2026-03-14", [("97530", ["59"]), ("97140", [])]),
        visit("2024-06-01", [("97012", []), ("97140", ["59"])]),
        visit("2025-06-01", [("97012", []), ("97140", ["59"])]),
    ]
    for run in range(2):  # the first run writes the table, the second reads it
        for text in cases:
            assert cached_findings(text, tmp_path, **settings) == mod_findings(text, **settings)
    in_memory = load_policy(ptp_files=(F4, F1))
    cached = load_policy(ptp_files=(F4, F1), store=Cache(tmp_path, "salt"))
    assert isinstance(cached.pairs, Pairs) and not isinstance(in_memory.pairs, Pairs)
    assert dict(cached.pairs.items()) == dict(in_memory.pairs.items())
    assert sorted(cached.pairs) == sorted(in_memory.pairs) and len(cached.pairs) == len(in_memory.pairs)


def _table(root):
    tables = [p for p in (root / ".cptlint_cache").rglob("*") if p.is_file() and p.read_bytes()[:15] == b"SQLite format 3"]
    assert len(tables) == 1
    return tables[0]


def test_a_damaged_or_planted_table_is_never_trusted(tmp_path):
    import sqlite3

    text = visit("2026-03-14", [("97530", []), ("97140", [])])
    assert cached_findings(text, tmp_path, ptp_files=(F4,)) == ["MOD001"]
    table = _table(tmp_path)
    table.write_bytes(b"not a database")  # garbage: a miss, and the table is written again
    assert cached_findings(text, tmp_path, ptp_files=(F4,)) == ["MOD001"]
    table = _table(tmp_path)
    elsewhere = tmp_path / "elsewhere.sqlite"
    table.rename(elsewhere)
    table.symlink_to(elsewhere)  # a link in the cache is not followed: a miss
    assert cached_findings(text, tmp_path, ptp_files=(F4,)) == ["MOD001"]
    assert not _table(tmp_path).is_symlink()
    table = _table(tmp_path)
    with sqlite3.connect(table) as db:  # a row that is not a rules row: a clear error, never a traceback
        db.execute("UPDATE pairs SET modifier_indicator = 7")
    with pytest.raises(PolicyError, match="cached CMS pair table is damaged"):
        cached_findings(text, tmp_path, ptp_files=(F4,))
    with sqlite3.connect(table) as db:  # a view added: not the table cptlint writes, a miss
        db.execute("UPDATE pairs SET modifier_indicator = 1")
        db.execute("CREATE VIEW other AS SELECT 1")
    # 97530/97140 was indicator 0 in 2020: trusted, the edited rows would let 59 bypass it
    assert cached_findings(visit("2020-06-01", [("97530", []), ("97140", ["59"])]), tmp_path, ptp_files=(F4,)) == ["MOD001"]


def test_cptlint_data_counts_the_same_from_the_cached_table(tmp_path, monkeypatch):
    (tmp_path / ".cptlint.toml").write_text(f'ptp-files = ["{F4.as_posix()}", "{F1.as_posix()}"]\n')
    monkeypatch.chdir(tmp_path)
    first = json.loads(CliRunner().invoke(main, ["data", "--format", "json", "--date", "2026-03-14"]).output)
    assert cached_findings(visit("2026-03-14", [("97530", [])]), tmp_path, ptp_files=(F4, F1)) == []
    second = json.loads(CliRunner().invoke(main, ["data", "--format", "json", "--date", "2026-03-14"]).output)
    assert first["pairs"] == second["pairs"] and first["pairs"]["rows"] > 0
