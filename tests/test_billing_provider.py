"""Who the provider is, as NCCI edits count providers: pair edits bind one billing provider's
lines; an assistant's lines are billed under the supervising therapist; providers of one group
and one specialty are one provider (NCCI Policy Manual for Medicare Services, ch. I; CMS Pub.
100-02, Ch. 15, §230.1: a PTA's services "are billed by the supervising physical therapist")."""

from __future__ import annotations

import json

from tests.conftest import lint

PT, PTA, OT = ("1234567893", "PT"), ("1245319599", "PTA"), ("1538175963", "OT")
GROUP_A, GROUP_B = "1104032358", "1982756060"


def line(code: str, who: tuple[str, str], modifiers: list[str], start: str) -> dict:
    end = f"{int(start[:2]) + (int(start[3:]) + 15) // 60:02d}:{(int(start[3:]) + 15) % 60:02d}"
    service = {"code": code, "units": 1, "minutes": 15, "modifiers": modifiers, "diagnosis_pointers": [1],
               "start": start, "end": end, "provider": {"npi": who[0], "discipline": who[1]}}
    if code == "97140":
        service.update(regions=["cervical"], techniques=["joint_mobilization"], response="Rotation improved", goal="Drive")
    return service


def encounter(identifier: str, services: list[dict], billing: str | None = None, provider=PT) -> dict:
    value = {"id": identifier, "date": "2026-03-14", "payer": "medicare", "patient": "P-1",
             "provider": {"npi": provider[0], "discipline": provider[1]}, "diagnoses": ["M54.50"], "services": services}
    if billing:
        value["billing_provider"] = {"npi": billing}
    return value


def pair_findings(*encounters: dict, name: str = "day.json") -> list[str]:
    document = {"encounters": list(encounters)} if not name.endswith(".ndjson") else None
    text = json.dumps(document) if document else "".join(json.dumps(e) + "\n" for e in encounters)
    return [d.code for d in lint(text, name) if d.code in ("MOD001", "MOD002", "MOD004")]


def test_an_assistants_line_is_paired_with_the_supervising_therapists():
    # 97140 by the PT, 97530 by the PTA in separate blocks, billed under the PT: the NCCI edit
    # applies (MLN1783722 example 9) and 59 (or XE/XS/XU) on 97530 is needed.
    services = [line("97140", PT, ["GP"], "09:00"), line("97530", PTA, ["GP", "CQ"], "09:15")]
    assert pair_findings(encounter("E1", services)) == ["MOD001"]
    services[1]["modifiers"].append("59")
    assert pair_findings(encounter("E1", services)) == []


def test_two_practices_are_two_providers():
    first = encounter("E1", [line("97140", PT, ["GP"], "09:00")], billing=GROUP_A)
    second = encounter("E2", [line("97530", ("1679576722", "PT"), ["GP"], "10:00")], billing=GROUP_B,
                       provider=("1679576722", "PT"))
    assert pair_findings(first, second) == []


def test_one_group_and_one_specialty_is_one_provider_and_xp_is_what_separates_them():
    other_pt = ("1679576722", "PT")
    first = encounter("E1", [line("97140", PT, ["GP"], "09:00")], billing=GROUP_A)
    second = encounter("E2", [line("97530", other_pt, ["GP"], "10:00")], billing=GROUP_A, provider=other_pt)
    assert pair_findings(first, second) == ["MOD001"]
    second["services"][0]["modifiers"].append("XP")  # a separate practitioner: so it was
    assert pair_findings(first, second) == []


def test_one_group_two_specialties_are_two_providers():
    first = encounter("E1", [line("97140", PT, ["GP"], "09:00")], billing=GROUP_A)
    second = encounter("E2", [line("97530", OT, ["GO"], "10:00")], billing=GROUP_A, provider=OT)
    assert pair_findings(first, second) == []


def test_the_billing_provider_is_read_in_every_format():
    services = [line("97140", PT, ["GP"], "09:00"), line("97530", PTA, ["GP", "CQ"], "09:15")]
    value = encounter("E1", services, billing=GROUP_A)
    assert pair_findings(value, name="day.ndjson") == ["MOD001"]
    value["billing_provider"]["npi"] = "1104032359"  # a check digit wrong
    assert "NPI001" in [d.code for d in lint(json.dumps(value), "v.json")]
