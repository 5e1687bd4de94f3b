"""Requests travel up the chain (graphsvc.analysis.requests), on both stores.

A small county written as a bundle (``tests_support.counties.REQUEST_COUNTY``) holds every
case the definitions name: a request followed up, resolved and raised again; one resolved on
the spot; one resolved by a supporting cadre and one by a delegate; a member reassigned (open
requests follow the new member); a member who left (the request goes up to the delegate,
flagged) and then a delegate who left with an inactive committee member above (nobody:
unrouted); a household with no chain at all; a T1 household served by a T2 member. Its answers
are checked against figures worked out by hand, the same on both stores, through the API
(masking, township scope, the personal-data log, the setting) and through the CLI.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests_support import ROOT
from tests_support.counties import write_county

from graphsvc.analysis import requests as R
from graphsvc.api import create_app
from graphsvc.config import Settings
from graphsvc.importer import import_path
from graphsvc.keys import KeyStore, Role
from graphsvc.rules import RuleSettings
from graphsvc.stores.base import Store
from graphsvc.stores.graphreads import HouseholdData, RequestRow

RULES = RuleSettings()
D = dt.date.fromisoformat


@pytest.fixture
def county(store: Store, tmp_path: Path) -> Store:
    report = import_path(store, write_county(tmp_path / "county"))
    assert report.ok, [str(p) for p in report.errors]
    return store


def held(store: Store, person: str, day: str, days: int = 14) -> list[tuple[str, str, str | None]]:
    body = R.open_body(store, person, D(day), RULES, escalate_after_days=days)
    assert body["total"] == len(body["items"])
    return [(i["household_id"], i["request"], i["level"]) for i in body["items"]]


# -- threads (pure) ---------------------------------------------------------------------------


def _h(rows: list[tuple[str, str, str, bool]], **kw: Any) -> HouseholdData:
    return HouseholdData("H", "V", "T", [], kw.get("status", "active"), kw.get("since"),
                         requests=[RequestRow(p, D(d), t, r) for p, d, t, r in rows])


def test_a_thread_opens_follows_up_resolves_and_opens_again() -> None:
    h = _h([("A", "2026-01-05", "修路", False), ("B", "2026-01-01", "修路 ", False),
            ("C", "2026-01-09", "修路", True), ("A", "2026-01-09", "修路", False),
            ("B", "2026-02-01", "修路", False), ("A", "2026-02-01", "  ", True),
            ("A", "2026-02-02", "申请低保", True)])
    got = [(r.text, r.raised, r.raised_by, r.contacts, r.last_contact, r.resolved, r.resolved_by)
           for r in R.household_requests(h)]
    assert got == [
        ("修路", D("2026-01-01"), ["B"], 3, D("2026-01-09"), D("2026-01-09"), ("C",)),
        ("修路", D("2026-02-01"), ["B"], 1, D("2026-02-01"), None, ()),
        ("申请低保", D("2026-02-02"), ["A"], 1, D("2026-02-02"), D("2026-02-02"), ("A",)),
    ]
    ids = [r.id for r in R.household_requests(h)]
    assert len(set(ids)) == 3 and ids == [r.id for r in R.household_requests(h)]


def test_a_household_raises_only_while_active() -> None:
    rows = [("A", "2026-01-01", "修路", False), ("A", "2026-03-01", "看病", False)]
    assert [r.text for r in R.household_requests(_h(rows, status="inactive",
                                                       since=D("2026-02-01")))] == ["修路"]
    assert R.household_requests(_h(rows, status="inactive")) == []


# -- the county on both stores ----------------------------------------------------------------


def test_open_requests_go_up_the_chain_as_they_age(county: Store) -> None:
    # H1 "屋顶漏雨", raised 06-01: with its member for 14 days, then the delegate, then C1
    assert held(county, "M1", "2026-06-10") == [("H1", "屋顶漏雨", "member"),
                                                ("H7", "冬季取暖困难", "member")]
    assert held(county, "M1", "2026-06-14") == [("H1", "屋顶漏雨", "member"),
                                                ("H7", "冬季取暖困难", "member"),
                                                ("H1", "申请低保", "member")]
    assert ("H1", "屋顶漏雨", "delegate") in held(county, "D1", "2026-06-15")
    assert ("H1", "屋顶漏雨", "delegate") in held(county, "D1", "2026-06-28")
    assert ("H1", "屋顶漏雨", "committee_member") in held(county, "C1", "2026-06-29")
    assert ("H1", "屋顶漏雨", "delegate") not in held(county, "D1", "2026-06-29")
    # a longer escalation keeps it with the member
    assert ("H1", "屋顶漏雨", "member") in held(county, "M1", "2026-06-14", days=30)


def test_a_reassignment_reroutes_open_requests(county: Store) -> None:
    # H1 "申请低保", raised 06-12 to M1; M1's liaison ends 06-15 and M2's begins
    assert ("H1", "申请低保", "member") in held(county, "M1", "2026-06-14")
    assert ("H1", "申请低保", "member") not in held(county, "M1", "2026-06-15")
    assert ("H1", "申请低保", "member") in held(county, "M2", "2026-06-15")
    assert held(county, "M2", "2026-06-14") == []


def test_a_broken_chain_sends_the_request_up_and_flags_it(county: Store) -> None:
    # H2's only member M3 left 05-20: its request of 06-05 goes to D2 at once, flagged
    body = R.open_body(county, "D2", D("2026-06-08"), RULES, escalate_after_days=14)
    (item,) = body["items"]
    assert (item["household_id"], item["due_level"], item["level"], item["chain_broken"],
            item["routed_to"], item["overdue"]) == ("H2", "member", "delegate", True, ["D2"], False)
    # D2 leaves 06-10, and C2 above D2 left in May: nobody is left, so it is unrouted and on
    # the township's overdue list at once, as is H4's (no chain at all)
    over = R.overdue_body(county, D("2026-06-12"), RULES, escalate_after_days=14,
                          township_id="T1")
    unrouted = [(i["household_id"], i["level"], i["routed_to"], i["overdue"])
                for i in over["items"] if i["level"] is None]
    assert unrouted == [("H4", None, [], False), ("H2", None, [], False)]
    assert held(county, "D2", "2026-06-12") == []


def test_overdue_lists_a_township_oldest_first(county: Store) -> None:
    body = R.overdue_body(county, D("2026-06-30"), RULES, escalate_after_days=14,
                          township_id="T1")
    assert body["as_of"] == "2026-06-30" and body["township_id"] == "T1"
    got = [(i["household_id"], i["request"], i["age_days"], i["due_level"], i["level"],
            i["routed_to"]) for i in body["items"]]
    assert got == [  # H7 left on 06-20: its request is gone with it; H5 is in T2
        ("H1", "屋顶漏雨", 29, "committee_member", "committee_member", ["C1"]),
        ("H4", "道路泥泞", 29, "committee_member", None, []),
        ("H2", "看病就医", 25, "delegate", None, []),
        ("H6", "孩子助学金", 25, "delegate", "delegate", ["D3"]),
        ("H1", "申请低保", 18, "delegate", "delegate", ["D1"]),
    ]
    assert body["total"] == 5 and all(i["overdue"] for i in body["items"])
    page = R.overdue_body(county, D("2026-06-30"), RULES, escalate_after_days=14,
                          township_id="T1", limit=2, offset=1)
    assert page["total"] == 5 and page["items"] == body["items"][1:3]
    h1 = body["items"][0]
    assert (h1["raised"], h1["raised_by"], h1["contacts"], h1["last_contact"], h1["focus"]) == \
        ("2026-06-01", ["M1"], 2, "2026-06-05", True)
    county_wide = R.overdue_body(county, D("2026-06-30"), RULES, escalate_after_days=14)
    assert county_wide["items"][0]["household_id"] == "H5"
    assert county_wide["total"] == 6


def test_the_summary_counts_by_level(county: Store) -> None:
    body = R.summary_body(county, D("2026-01-01"), D("2026-06-30"), escalate_after_days=14)
    assert body == {
        "from": "2026-01-01", "to": "2026-06-30", "escalate_after_days": 14,
        "raised": 10, "raised_and_resolved": 3, "resolved_within_days": 14,
        "resolved_within": 2, "median_days_to_resolve": 9.0, "resolved": 3,
        "resolved_by_level": {"member": 0, "delegate": 1, "committee_member": 0, "cadre": 1,
                              "other": 1},
        "open": 6, "overdue": 6,
        "open_by_level": {"member": 0, "delegate": 2, "committee_member": 2, "unrouted": 2},
    }
    t1 = R.summary_body(county, None, D("2026-06-30"), escalate_after_days=14, within_days=20,
                        township_id="T1")
    assert (t1["from"], t1["township_id"], t1["raised"], t1["resolved_within"], t1["open"]) == \
        (None, "T1", 9, 3, 5)
    spring = R.summary_body(county, D("2026-03-15"), D("2026-04-30"), escalate_after_days=14,
                            village_id="V1")
    assert (spring["raised"], spring["resolved"], spring["resolved_by_level"]["cadre"],
            spring["resolved_by_level"]["delegate"], spring["open"]) == (1, 2, 1, 1, 0)


def test_both_stores_answer_the_same(make_store: Any, tmp_path: Path) -> None:
    folder = write_county(tmp_path / "county")
    answers = []
    for kind in ("embedded", "neo4j"):
        s = make_store(kind)
        assert import_path(s, folder).ok
        got = []
        for day in ("2026-06-08", "2026-06-12", "2026-06-15", "2026-06-30", "2026-07-30"):
            for p in ("C1", "C2", "D1", "D2", "D3", "M1", "M2", "M3", "M4", "K1", "X1"):
                got.append(R.open_body(s, p, D(day), RULES, escalate_after_days=7))
            for t in (None, "T1", "T2"):
                got.append(R.overdue_body(s, D(day), RULES, escalate_after_days=14,
                                          township_id=t, townships=["T1"]))
                got.append(R.summary_body(s, None, D(day), escalate_after_days=14,
                                          township_id=t))
        answers.append(got)
    assert answers[0] == answers[1]
    assert sum(b.get("total", 0) for b in answers[0]) > 40


def test_unknown_person_is_not_found(county: Store) -> None:
    from graphsvc.errors import NotFound

    with pytest.raises(NotFound):
        R.open_body(county, "NOPE", D("2026-06-30"), RULES, escalate_after_days=14)
    with pytest.raises(NotFound):
        R.open_body(county, "H1", D("2026-06-30"), RULES, escalate_after_days=14)


# -- the API ----------------------------------------------------------------------------------


@pytest.fixture
def api(county: Store, tmp_path: Path) -> Iterator[tuple[TestClient, KeyStore]]:
    settings = Settings(data_dir=tmp_path / "api", neo4j_uri=None, escalate_after_days=10)
    with TestClient(create_app(settings, store=county)) as client:
        yield client, KeyStore(tmp_path / "api")


def _key(keys: KeyStore, role: Role, *townships: str, pii: bool = False) -> dict[str, str]:
    _, token = keys.create(role, townships=townships, pii=pii)
    return {"Authorization": f"Bearer {token}"}


def test_api_bodies_are_the_analysis_bodies_with_the_setting(
        api: tuple[TestClient, KeyStore], county: Store) -> None:
    client, keys = api
    admin = _key(keys, Role.ADMIN)
    r = client.get("/api/v1/requests/open", headers=admin,
                   params={"person_id": "D1", "as_of": "2026-06-30"})
    assert r.status_code == 200, r.text
    # request ids keyed with the install's secret (issue 11: not a digest of the text)
    assert r.json() == R.keyed(R.open_body(county, "D1", D("2026-06-30"), RULES,
                                           escalate_after_days=10), keys)
    assert r.json()["escalate_after_days"] == 10
    r = client.get("/api/v1/requests/overdue", headers=admin,
                   params={"township_id": "T1", "as_of": "2026-06-30", "limit": 2})
    assert r.json() == R.keyed(R.overdue_body(county, D("2026-06-30"), RULES,
                                              escalate_after_days=10, township_id="T1",
                                              limit=2), keys)
    r = client.get("/api/v1/requests/summary", headers=admin,
                   params={"from": "2026-01-01", "to": "2026-06-30", "within_days": 5})
    assert r.json() == R.summary_body(county, D("2026-01-01"), D("2026-06-30"),
                                      escalate_after_days=10, within_days=5)
    for params in ({"from": "2026-07-01", "to": "2026-06-30"}, {"from": "2026-02-30"},
                   {"to": "30.6.2026"}, {"within_days": "-1"}):
        r = client.get("/api/v1/requests/summary", headers=admin, params=params)
        assert r.status_code == 422 and r.json()["detail"], (params, r.text)
    r = client.get("/api/v1/requests/open", headers=admin, params={"person_id": "NOPE"})
    assert r.status_code == 404
    r = client.get("/api/v1/requests/open", headers=admin)
    assert r.status_code == 422


def test_api_masks_requests_without_pii_and_logs_reads_with_it(
        api: tuple[TestClient, KeyStore]) -> None:
    client, keys = api
    params = {"township_id": "T1", "as_of": "2026-06-30"}
    viewer = client.get("/api/v1/requests/overdue", headers=_key(keys, Role.VIEWER, "T1"),
                        params=params).json()
    assert {i["request"] for i in viewer["items"]} == {"屋**", "道**", "看**", "孩**", "申**"}
    assert "屋顶漏雨" not in json.dumps(viewer, ensure_ascii=False)
    _, token = keys.create(Role.VIEWER, townships=["T1"], pii=True)
    seen = client.get("/api/v1/requests/overdue", headers={"Authorization": f"Bearer {token}"},
                      params=params).json()
    assert "屋顶漏雨" in {i["request"] for i in seen["items"]}
    total, reads = keys.pii_reads(subject="H1")
    assert total == 1 and reads[0]["what"] == "GET /requests/overdue"
    assert set(reads[0]["subjects"]) == {i["household_id"] for i in seen["items"]}


def test_api_keeps_to_the_keys_townships(api: tuple[TestClient, KeyStore],
                                         county: Store) -> None:
    client, keys = api  # escalate_after_days is 10 here
    t1 = _key(keys, Role.VIEWER, "T1")
    admin = _key(keys, Role.ADMIN)
    day30, day20 = {"as_of": "2026-06-30"}, {"as_of": "2026-06-20"}
    # a T2 person, or one of the county level, is hidden; a filter outside T1 is refused
    for person in ("M4", "C1"):
        r = client.get("/api/v1/requests/open", headers=t1, params={"person_id": person, **day30})
        assert r.status_code == 404
    r = client.get("/api/v1/requests/overdue", headers=t1, params={"township_id": "T2", **day30})
    assert r.status_code == 403
    r = client.get("/api/v1/requests/summary", headers=t1, params={"township_id": "T2"})
    assert r.status_code == 403
    # C1 holds requests of T1 and of T2 (H5); limited to T1, only T1's households are left
    r = client.get("/api/v1/requests/open", headers=admin, params={"person_id": "C1", **day30})
    assert {i["household_id"] for i in r.json()["items"]} == {"H1", "H5", "H6"}
    mine = R.open_body(county, "C1", D("2026-06-30"), RULES, escalate_after_days=10,
                       townships=["T1"])
    assert {i["household_id"] for i in mine["items"]} == {"H1", "H6"} and mine["total"] == 2
    # H6 (T1) is served by M4 and D3 of T2: a T1 key reads stand-ins, one per person
    r = client.get("/api/v1/requests/overdue", headers=t1, params=day20)
    h6 = next(i for i in r.json()["items"] if i["household_id"] == "H6")
    assert h6["level"] == "delegate" and len(h6["raised_by"]) == len(h6["routed_to"]) == 1
    assert h6["raised_by"][0].startswith("outside:") and h6["routed_to"][0].startswith("outside:")
    assert h6["raised_by"] != h6["routed_to"]
    for outside in ("M4", "D3", "H5", "V2", "杨强春", "周梅"):
        assert outside not in r.text
    r = client.get("/api/v1/requests/overdue", headers=admin, params={"township_id": "T1", **day20})
    h6 = next(i for i in r.json()["items"] if i["household_id"] == "H6")
    assert (h6["raised_by"], h6["routed_to"]) == (["M4"], ["D3"])
    # the committee member of no township is outside T1 too
    r = client.get("/api/v1/requests/overdue", headers=t1, params=day30)
    h1 = next(i for i in r.json()["items"] if i["household_id"] == "H1")
    assert h1["level"] == "committee_member" and h1["routed_to"][0].startswith("outside:")
    assert "C1" not in r.text and "李军秀" not in r.text
    r = client.get("/api/v1/requests/summary", headers=t1, params={"to": "2026-06-30"})
    assert r.status_code == 200 and r.json()["township_id"] == "T1"
    assert r.json()["raised"] == 9


# -- the CLI ----------------------------------------------------------------------------------


def _cli(args: list[str], data: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRAPHSVC_")}
    env.update({"GRAPHSVC_DATA_DIR": str(data), "PYTHONPATH": str(ROOT),
                "GRAPHSVC_ESCALATE_AFTER_DAYS": "10"})
    return subprocess.run([sys.executable, "-m", "graphsvc", *args], env=env, cwd=data,
                          capture_output=True, text=True, timeout=300, check=False)


def test_cli_prints_the_api_bodies(tmp_path: Path) -> None:
    from graphsvc.stores.embedded import EmbeddedStore

    data = tmp_path / "data"
    data.mkdir()
    assert _cli(["import", str(write_county(tmp_path / "county"))], data).returncode == 0
    keys = KeyStore(data)  # the install's: request ids are keyed with its secret
    with EmbeddedStore(data) as s:
        want = {
            "open": R.keyed(R.open_body(s, "D1", D("2026-06-30"), RULES,
                                        escalate_after_days=10), keys),
            "overdue": R.keyed(R.overdue_body(s, D("2026-06-30"), RULES,
                                              escalate_after_days=10, township_id="T1"), keys),
            "summary": R.summary_body(s, D("2026-01-01"), D("2026-06-30"),
                                      escalate_after_days=10),
        }
    for name, args in (("open", ["open", "D1"]), ("overdue", ["overdue", "--township-id", "T1"]),
                       ("summary", ["summary", "--from", "2026-01-01"])):
        date = ["--to" if name == "summary" else "--as-of", "2026-06-30"]
        r = _cli(["requests", *args, *date, "--format", "json"], data)
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout) == want[name], name
    r = _cli(["requests", "overdue", "--township-id", "T1", "--as-of", "2026-06-30",
              "--format", "csv"], data)
    lines = r.stdout.lstrip("\ufeff").splitlines()
    assert lines[0].startswith("household_id,township_id,request,raised")
    assert len(lines) == 1 + want["overdue"]["total"]
    r = _cli(["requests", "summary", "--to", "2026-06-30"], data)
    assert r.returncode == 0 and "resolved_by_level.delegate" in r.stdout
    r = _cli(["requests", "open", "NOPE"], data)
    assert r.returncode == 1 and "no person" in r.stderr
