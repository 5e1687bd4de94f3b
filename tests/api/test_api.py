"""The HTTP API on both stores, through FastAPI's TestClient (the app's lifespan runs).

The tiny county answers exactly ``expected.json`` and exactly what ``graphsvc.service``
(the CLI's ``--format json``) answers; every error has its status and a sentence.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import socket
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from tests_support.api import AS_OF, Api, api_on

from graphsvc import service
from graphsvc.api import create_app
from graphsvc.api.schemas import IMPORT_BAD, IMPORT_OK
from graphsvc.config import Settings
from graphsvc.importer import import_path
from graphsvc.keys import KeyStore, Role
from graphsvc.rules import RuleSettings
from graphsvc.stores.base import Store

DAY = dt.date(2026, 6, 30)
RULES = RuleSettings()


@pytest.fixture
def api(tiny: Store, tmp_path: Path) -> Iterator[Api]:
    """The API on the tiny county (keys live in a temporary folder)."""
    yield from api_on(tiny, tmp_path / "api")


@pytest.fixture
def empty_api(store: Store, tmp_path: Path) -> Iterator[Api]:
    yield from api_on(store, tmp_path / "api", max_upload_bytes=200_000)


@pytest.fixture(scope="module")
def expected(tiny_dir: Path) -> dict[str, Any]:
    return json.loads((tiny_dir / "expected.json").read_text(encoding="utf-8"))


def project(rows: list[dict[str, Any]], like: list[dict[str, Any]]) -> list[dict[str, Any]]:
    fields = list(like[0]) if like else []
    return [{f: r[f] for f in fields} for r in rows]


def plain(body: Any) -> Any:
    return json.loads(json.dumps(body))


# -- reads --------------------------------------------------------------------------------------


def test_health_and_ready_name_the_store_and_the_version(api: Api) -> None:
    import graphsvc

    r = api.client.get("/health")  # no key needed
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "store": api.store.kind, "version": graphsvc.__version__}
    r = api.client.get("/ready")
    assert r.status_code == 200
    assert r.json() == {"status": "ready", "store": api.store.kind,
                        "version": graphsvc.__version__}


def test_tiny_county_gives_expected_json(api: Api, expected: dict[str, Any]) -> None:
    assert expected["as_of"] == AS_OF and RuleSettings(**expected["settings"]) == RULES
    body = api.get("/api/v1/households", as_of=AS_OF, limit=1000)
    assert body["as_of"] == AS_OF and body["total"] == len(expected["households"])
    assert project(body["items"], expected["households"]) == expected["households"]
    for path, key in (("delegates", "delegates"), ("members", "members"),
                      ("committee-members", "committee_members")):
        body = api.get(f"/api/v1/audit/{path}", as_of=AS_OF, limit=1000)
        assert body["total"] == len(expected[key])
        assert project(body["items"], expected[key]) == expected[key], path
    body = api.get("/api/v1/audit/pairings", as_of=AS_OF)
    assert body == {"as_of": AS_OF, **expected["pairing"]}
    assert expected["impact"]
    for person, items in expected["impact"].items():
        body = api.get(f"/api/v1/people/{person}/impact", as_of=AS_OF)
        assert body == {"person_id": person, "as_of": AS_OF, "total": len(items), "items": items}


def test_bodies_are_exactly_the_service_bodies(api: Api) -> None:
    """The API and ``graphsvc … --format json`` print the same JSON, field for field."""
    s = api.store
    cases: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
        ("/api/v1/households", {"as_of": AS_OF},
         service.households_body(s, DAY, RULES)),
        ("/api/v1/households", {"as_of": AS_OF, "status": "uncovered", "township_id": "T2",
                                "limit": 3, "offset": 1},
         service.households_body(s, DAY, RULES, status="uncovered", township_id="T2", limit=3,
                                 offset=1)),
        ("/api/v1/households", {"as_of": AS_OF, "reason": "no_delegate", "village_id": "V1",
                                "focus_only": "true"},
         service.households_body(s, DAY, RULES, reason="no_delegate", village_id="V1",
                                 focus_only=True)),
        ("/api/v1/audit/delegates", {"as_of": AS_OF, "status": "gap"},
         service.delegates_body(s, DAY, RULES, status="gap", limit=100)),
        ("/api/v1/audit/members", {"as_of": AS_OF, "problem": "no_delegate", "township_id": "T1"},
         service.members_body(s, DAY, RULES, problem="no_delegate", township_id="T1", limit=100)),
        ("/api/v1/audit/committee-members", {"as_of": "2027-01-01"},
         service.committee_members_body(s, dt.date(2027, 1, 1), RULES, limit=100)),
        ("/api/v1/audit/pairings", {"as_of": AS_OF, "township_id": "T2"},
         service.pairings_body(s, DAY, township_id="T2")),
        ("/api/v1/summary", {"as_of": AS_OF}, service.summary_body(s, DAY, RULES)),
        ("/api/v1/summary", {"as_of": AS_OF, "township_id": "T1"},
         service.summary_body(s, DAY, RULES, township_id="T1")),
        ("/api/v1/people/D1/impact", {"as_of": AS_OF}, service.impact_body(s, "D1", DAY, RULES)),
    ]
    households = service.households_body(s, DAY, RULES, limit=None)["items"]
    for h in households:
        hid = h["household_id"]
        cases.append((f"/api/v1/households/{hid}", {"as_of": AS_OF},
                      service.household_body(s, hid, DAY, RULES)))
    for url, params, want in cases:
        assert api.get(url, **params) == plain(want), (url, params)


def test_paging_and_filters(api: Api) -> None:
    full = api.get("/api/v1/households", as_of=AS_OF, limit=1000)
    pages = [api.get("/api/v1/households", as_of=AS_OF, limit=20, offset=o)
             for o in range(0, full["total"], 20)]
    assert all(p["total"] == full["total"] for p in pages)
    assert [i for p in pages for i in p["items"]] == full["items"]
    assert api.get("/api/v1/households", as_of=AS_OF, limit=0)["items"] == []
    assert len(api.get("/api/v1/households", as_of=AS_OF)["items"]) == min(100, full["total"])
    stale = api.get("/api/v1/households", as_of=AS_OF, status="stale")
    assert stale["total"] == sum(1 for i in full["items"] if i["status"] == "stale") > 0
    focus = api.get("/api/v1/households", as_of=AS_OF, focus_only="true", township_id="T1")
    assert focus["items"] and all(i["focus"] and i["township_id"] == "T1" for i in focus["items"])
    v = api.get("/api/v1/audit/delegates", as_of=AS_OF, village_id="V1")
    assert [i["delegate_id"] for i in v["items"]] == ["D1"]
    assert api.get("/api/v1/audit/committee-members", as_of=AS_OF,
                   problem="too_few_delegates")["total"] == 0


def test_household_detail_shows_the_chain(api: Api) -> None:
    body = api.get("/api/v1/households/H002", as_of=AS_OF)
    assert body["status"] == "covered" and body["head_name"] == "张国强"
    (member,) = body["chains"]
    assert member["id"] == "M01"
    assert [d["id"] for d in member["delegates"]] == ["D1"]
    assert [c["id"] for c in member["delegates"][0]["committee_members"]] == ["C1"]
    assert [c["id"] for c in body["supporting_cadres"]] == ["K1"]
    assert [u["id"] for u in body["paired_units"]] == ["U1"]


def test_examples_in_the_openapi_are_the_tiny_county(api: Api) -> None:
    """The examples shown in /docs are what the tiny county really answers."""
    from graphsvc.api import schemas as S

    assert api.get("/api/v1/households/H002", as_of=AS_OF) == S.HOUSEHOLD_DETAIL
    rows = api.get("/api/v1/households", as_of=AS_OF)["items"]
    assert S.HouseholdList.model_config["json_schema_extra"]["examples"][0]["items"] == rows[:2]  # type: ignore[index]
    assert S.DELEGATE_ROW in api.get("/api/v1/audit/delegates", as_of=AS_OF)["items"]
    assert S.MEMBER_ROW in api.get("/api/v1/audit/members", as_of=AS_OF)["items"]
    assert S.CM_ROW in api.get("/api/v1/audit/committee-members", as_of=AS_OF)["items"]
    assert api.get("/api/v1/summary", as_of=AS_OF) == S.SUMMARY
    impact = S.Impact.model_config["json_schema_extra"]["examples"][0]  # type: ignore[index]
    assert api.get("/api/v1/people/M01/impact", as_of=AS_OF) == impact
    assert api.get("/api/v1/people/D1") == \
        S.PersonRecord.model_config["json_schema_extra"]["examples"][0]  # type: ignore[index]


# -- keys: 401 and 403 ----------------------------------------------------------------------------


@pytest.mark.parametrize("auth", [None, "Basic dXNlcjpwdw==", "Bearer gs_nope",
                                  "Bearer gs_" + "A" * 32, "Bearer "])
def test_401_without_a_valid_key(api: Api, auth: str | None) -> None:
    headers = {"Authorization": auth} if auth is not None else {}
    r = api.client.get("/api/v1/summary", headers=headers)
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"
    assert "key" in r.json()["detail"]


def test_revoked_key_is_refused(api: Api) -> None:
    record, token = api.keys.create(Role.VIEWER)
    h = {"Authorization": f"Bearer {token}"}
    assert api.client.get("/api/v1/summary", headers=h, params={"as_of": AS_OF}).status_code == 200
    assert api.keys.get(record.id).last_used_at is not None
    api.keys.revoke(record.id)
    assert api.client.get("/api/v1/summary", headers=h).status_code == 401


WRITES: list[tuple[str, str, dict[str, Any]]] = [
    ("post", "/api/v1/people", {"id": "M30", "name": "王小梅", "village_id": "V1"}),
    ("patch", "/api/v1/people/M01", {"phone": "13900000099"}),
    ("post", "/api/v1/people/M01/deactivate", {}),
    ("post", "/api/v1/households", {"id": "H100", "head_name": "李", "village_id": "V1"}),
    ("patch", "/api/v1/households/H001", {"size": 9}),
    ("post", "/api/v1/households/H001/deactivate", {}),
    ("post", "/api/v1/liaisons", {"kind": "member-household", "from_id": "M19", "to_id": "H059"}),
    ("post", "/api/v1/liaisons/end", {"kind": "delegate-member", "from_id": "D1", "to_id": "M01"}),
    ("post", "/api/v1/pairings", {"unit_id": "U2", "village_id": "V3"}),
    ("post", "/api/v1/pairings/end", {"unit_id": "U1", "village_id": "V1"}),
    ("post", "/api/v1/supports", {"person_id": "K1", "household_id": "H001"}),
    ("post", "/api/v1/supports/end", {"person_id": "K1", "household_id": "H002"}),
    ("post", "/api/v1/contacts", {"person_id": "M01", "household_id": "H001", "date": AS_OF}),
]


def test_viewer_may_not_write(api: Api) -> None:
    viewer = api.headers(Role.VIEWER)
    before = api.store.records()
    for method, url, body in WRITES:
        r = api.client.request(method, url, headers=viewer, json=body)
        assert r.status_code == 403, (url, r.text)
        assert "viewer" in r.json()["detail"]
    r = api.client.post("/api/v1/imports", headers=viewer,
                        files={"file": ("contacts.csv", b"person_id,household_id,date\n")})
    assert r.status_code == 403
    assert api.store.records() == before


def test_admin_may_make_every_write(api: Api) -> None:
    for method, url, body in WRITES:
        r = api.client.request(method, url, headers=api.admin, json=body)
        assert r.status_code in (200, 201), (url, r.text)


def test_key_limited_to_one_township(api: Api) -> None:
    t1 = api.headers(Role.VIEWER, ("T1",))
    mine = api.get("/api/v1/households", headers=t1, as_of=AS_OF, limit=1000)
    assert mine == api.get("/api/v1/households", as_of=AS_OF, township_id="T1", limit=1000)
    assert mine["total"] > 0 and {i["township_id"] for i in mine["items"]} == {"T1"}
    assert api.get("/api/v1/summary", headers=t1, as_of=AS_OF)["township_id"] == "T1"
    assert api.get("/api/v1/audit/pairings", headers=t1, as_of=AS_OF) == \
        api.get("/api/v1/audit/pairings", as_of=AS_OF, township_id="T1")
    for url, params in (("/api/v1/households", {"township_id": "T2"}),
                        ("/api/v1/audit/delegates", {"village_id": "V4"}),
                        ("/api/v1/summary", {"township_id": "T2"})):
        r = api.client.get(url, headers=t1, params=params)
        assert r.status_code == 403, url
        assert "T1" in r.json()["detail"]
    # records outside its township are as if they did not exist
    assert api.client.get("/api/v1/households/H001", headers=t1).status_code == 200
    for url in ("/api/v1/households/H059", "/api/v1/people/D2/impact", "/api/v1/people/C1"):
        r = api.client.get(url, headers=t1)
        assert r.status_code == 404, url
        assert r.json()["detail"] == api.client.get(url.replace("H059", "H999").replace(
            "D2", "X9").replace("C1", "X9"), headers=t1).json()["detail"].replace(
            "H999", "H059").replace("X9", url.split("/")[4])


def test_key_limited_to_several_townships_must_name_one(api: Api) -> None:
    both = api.headers(Role.VIEWER, ("T1", "T2"))
    r = api.client.get("/api/v1/households", headers=both)
    assert r.status_code == 422
    assert "township_id" in r.json()["detail"] and "T1, T2" in r.json()["detail"]
    assert api.get("/api/v1/households", headers=both, township_id="T2", as_of=AS_OF)["total"] > 0
    assert api.get("/api/v1/audit/members", headers=both, village_id="V4", as_of=AS_OF)


def test_editor_writes_only_in_its_townships(api: Api) -> None:
    t1 = api.headers(Role.EDITOR, ("T1",))
    contact = {"person_id": "M01", "household_id": "H001", "date": AS_OF}
    assert api.client.post("/api/v1/contacts", headers=t1, json=contact).status_code == 201
    r = api.client.post("/api/v1/contacts", headers=t1,
                        json={**contact, "household_id": "H059"})
    assert r.status_code == 403 and "'H059'" in r.json()["detail"]
    assert "T2" not in r.json()["detail"], "the refusal does not say where H059 is"
    r = api.client.patch("/api/v1/households/H059", headers=t1, json={"size": 2})
    assert r.status_code == 403
    r = api.client.patch("/api/v1/households/H001", headers=t1, json={"village_id": "V4"})
    assert r.status_code == 403, "moving a household out of the key's townships"
    r = api.client.post("/api/v1/people", headers=t1,
                        json={"id": "M40", "name": "新人", "village_id": "V9"})
    assert r.status_code == 403, "an unknown reference is refused as one outside the townships"
    r = api.client.post("/api/v1/people", headers=t1,
                        json={"id": "M40", "name": "新人", "village_id": "V2"})
    assert r.status_code == 201
    r = api.client.post("/api/v1/people", headers=t1,
                        json={"id": "M41", "name": "新人", "village_id": "V2", "roles": "boss"})
    assert r.status_code == 422, "inside its townships, the import's rules answer as for anyone"
    r = api.client.post("/api/v1/imports", headers=t1,
                        files={"file": ("contacts.csv", b"person_id,household_id,date\n")})
    assert r.status_code == 403 and "every township" in r.json()["detail"]


# A write of a T1 key naming something of T2, and the same write naming an id that does not
# exist: (method, path with {}, body with {}, the T2 id, the unknown id). The key must not be
# able to tell them apart; an admin gets the helpful 404/422 for the unknown one.
HIDDEN_WRITES: list[Any] = [
    ("patch", "/api/v1/households/{}", {"size": 2}, "H059", "H999"),
    ("post", "/api/v1/households/{}/deactivate", {}, "H059", "H999"),
    ("patch", "/api/v1/people/{}", {"phone": "13900000099"}, "M18", "M99"),
    ("post", "/api/v1/people/{}/deactivate", {}, "M18", "M99"),
    # a committee member: county
    ("patch", "/api/v1/people/{}", {"phone": "13900000099"}, "C1", "C9"),
    ("post", "/api/v1/people", {"id": "N1", "name": "x", "village_id": "{}"}, "V4", "V9"),
    ("post", "/api/v1/people", {"id": "N1", "name": "x", "village_id": "V1",
                                "organization_id": "{}"}, "O6", "O99"),
    ("post", "/api/v1/people", {"id": "N1", "name": "x", "township_id": "{}"}, "T2", "T9"),
    ("post", "/api/v1/households", {"id": "HN", "head_name": "x", "village_id": "{}"},
     "V4", "V9"),
    ("patch", "/api/v1/households/H001", {"village_id": "{}"}, "V4", "V9"),
    ("post", "/api/v1/contacts", {"person_id": "M01", "household_id": "{}", "date": AS_OF},
     "H059", "H999"),
    ("post", "/api/v1/contacts", {"person_id": "{}", "household_id": "H001", "date": AS_OF},
     "M18", "M99"),
    ("post", "/api/v1/liaisons", {"kind": "member-household", "from_id": "M01", "to_id": "{}"},
     "H059", "H999"),
    ("post", "/api/v1/liaisons", {"kind": "member-household", "from_id": "{}", "to_id": "H001"},
     "M18", "M99"),
    ("post", "/api/v1/liaisons", {"kind": "delegate-member", "from_id": "{}", "to_id": "M01"},
     "D2", "D9"),  # D2 is a delegate: the refusal must not say whether the role fits
    ("post", "/api/v1/liaisons/end", {"kind": "delegate-member", "from_id": "D2", "to_id": "{}"},
     "M11", "M99"),  # D2-M11 exists: ending it must not say so
    ("post", "/api/v1/liaisons/end", {"kind": "delegate-member", "from_id": "{}", "to_id": "M01"},
     "D2", "D9"),
    ("post", "/api/v1/pairings", {"unit_id": "U1", "village_id": "{}"}, "V4", "V9"),
    ("post", "/api/v1/pairings/end", {"unit_id": "U3", "village_id": "{}"}, "V4", "V9"),
    ("post", "/api/v1/supports", {"person_id": "K1", "household_id": "{}"}, "H059", "H999"),
    ("post", "/api/v1/supports", {"person_id": "{}", "household_id": "H001"}, "M18", "M99"),
    ("post", "/api/v1/supports/end", {"person_id": "K1", "household_id": "{}"}, "H059", "H999"),
    ("post", "/api/v1/repair-plans/apply", {"items": [
        {"kind": "member-household", "from_id": "M01", "to_id": "{}"}]}, "H059", "H999"),
    ("post", "/api/v1/repair-plans/apply", {"items": [
        {"kind": "member-household", "from_id": "{}", "to_id": "H001"}]}, "M18", "M99"),
]


def _fill(body: dict[str, Any], rid: str) -> dict[str, Any]:
    return json.loads(json.dumps(body).replace('"{}"', json.dumps(rid)))


@pytest.mark.parametrize("method,path,body,outside,unknown", HIDDEN_WRITES,
                         ids=[f"{v[0]} {v[1].format(v[3])} {v[2]}"
                              for v in (getattr(w, "values", w) for w in HIDDEN_WRITES)])
def test_a_write_cannot_tell_a_record_outside_from_none(
        api: Api, method: str, path: str, body: dict[str, Any], outside: str,
        unknown: str) -> None:
    """A township key writing to (or naming) a record of another township, and the same write
    naming an id that does not exist, get the same status and the same sentence (with the id
    it named), and neither writes anything; a key for every township learns the id is unknown."""
    before = api.store.records()
    answers = {}
    for key in (api.headers(Role.EDITOR, ("T1",)), api.headers(Role.EDITOR, ("T1", "T3"))):
        for rid in (outside, unknown):
            r = api.client.request(method, path.format(rid), headers=key, json=_fill(body, rid))
            assert r.status_code == 403, r.text
            answers[rid] = r.json()["detail"]
        assert f"'{outside}'" in answers[outside]
        assert answers[outside].replace(outside, "X") == answers[unknown].replace(unknown, "X")
        assert "T2" not in answers[outside] or outside == "T2"
    assert api.store.records() == before
    r = api.client.request(method, path.format(unknown), headers=api.headers(Role.EDITOR),
                           json=_fill(body, unknown))
    assert r.status_code in (404, 422), r.text
    assert unknown in r.json()["detail"]
    assert api.store.records() == before


@pytest.mark.parametrize("url", ["/api/v1/households", "/api/v1/audit/members",
                                 "/api/v1/exports/households", "/api/v1/trends"])
def test_a_read_cannot_tell_a_village_outside_from_none(api: Api, url: str) -> None:
    """Narrowing a list to a village of another township, or to one that does not exist: the
    same 403 for a township key; an admin learns that the village is unknown (404)."""
    t1 = api.headers(Role.VIEWER, ("T1",))
    outside = api.client.get(url, headers=t1, params={"village_id": "V4", "as_of": AS_OF})
    unknown = api.client.get(url, headers=t1, params={"village_id": "V9", "as_of": AS_OF})
    assert outside.status_code == unknown.status_code == 403, (outside.text, unknown.text)
    assert (outside.json()["detail"].replace("V4", "X")
            == unknown.json()["detail"].replace("V9", "X"))
    r = api.client.get(url, headers=api.admin, params={"village_id": "V9", "as_of": AS_OF})
    assert r.status_code == 404 and "'V9'" in r.json()["detail"]


def test_a_township_key_names_county_people_and_units_but_no_other_township(api: Api) -> None:
    """Above a record of its township, a township key may name the county's committee members,
    cadres and units (they serve every township), not people of another township."""
    t1 = api.headers(Role.EDITOR, ("T1",))
    r = api.client.post("/api/v1/supports", headers=t1,
                        json={"person_id": "K1", "household_id": "H001"})
    assert r.status_code == 201, r.text
    r = api.client.post("/api/v1/liaisons", headers=t1,
                        json={"kind": "committee_member-delegate", "from_id": "C2", "to_id": "D1"})
    assert r.status_code == 201, r.text
    r = api.client.post("/api/v1/pairings", headers=t1, json={"unit_id": "U4", "village_id": "V1"})
    assert r.status_code == 201, r.text
    r = api.client.post("/api/v1/liaisons", headers=t1,
                        json={"kind": "member-household", "from_id": "M18", "to_id": "H060"})
    assert r.status_code == 403, r.text
    both = api.headers(Role.EDITOR, ("T1", "T2"))
    r = api.client.post("/api/v1/liaisons", headers=both,
                        json={"kind": "member-household", "from_id": "M18", "to_id": "H060"})
    assert r.status_code == 201, r.text


def test_an_id_in_use_outside_the_township_is_only_said_to_be_taken(api: Api) -> None:
    """Ids are unique in the county, so a new record cannot take one in use elsewhere; a
    township key learns only that the id is taken, not what or where it is."""
    t1 = api.headers(Role.EDITOR, ("T1",))
    for rid in ("H059", "M18"):  # a household of T2, a person of T2
        r = api.client.post("/api/v1/households", headers=t1,
                            json={"id": rid, "head_name": "x", "village_id": "V1"})
        assert r.status_code == 409, r.text
        assert r.json()["detail"] == (f"the id '{rid}' is already in use in the county; "
                                      "choose another id")
    r = api.client.post("/api/v1/households", headers=t1,
                        json={"id": "H001", "head_name": "x", "village_id": "V1"})
    assert r.status_code == 409 and "change it with PATCH" in r.json()["detail"]


# -- 404 and 422 ----------------------------------------------------------------------------------


@pytest.mark.parametrize("method,url,body,name", [
    ("get", "/api/v1/households/H999", None, "H999"),
    ("get", "/api/v1/households/M01", None, "M01"),  # a person, not a household
    ("get", "/api/v1/people/X1/impact", None, "X1"),
    ("get", "/api/v1/people/H001", None, "H001"),
    ("get", "/api/v1/households?township_id=T9", None, "T9"),
    ("get", "/api/v1/audit/members?village_id=V9", None, "V9"),
    ("get", "/api/v1/summary?township_id=V1", None, "V1"),
    ("patch", "/api/v1/people/X1", {"phone": "13900000099"}, "X1"),
    ("post", "/api/v1/households/H999/deactivate", {}, "H999"),
    ("post", "/api/v1/liaisons/end", {"kind": "delegate-member", "from_id": "D1", "to_id": "M19"},
     "M19"),
    ("post", "/api/v1/pairings/end", {"unit_id": "U4", "village_id": "V1"}, "U4"),
    ("post", "/api/v1/supports/end", {"person_id": "K1", "household_id": "H001"}, "H001"),
])
def test_404_names_the_id(api: Api, method: str, url: str, body: dict[str, Any] | None,
                          name: str) -> None:
    r = api.client.request(method, url, headers=api.admin, json=body)
    assert r.status_code == 404, r.text
    assert f"'{name}'" in r.json()["detail"]


@pytest.mark.parametrize("url,param,allowed", [
    ("/api/v1/households?as_of=2026-13-01", "as_of", "YYYY-MM-DD"),
    ("/api/v1/households?as_of=2026-02-30", "as_of", "real date"),
    ("/api/v1/summary?as_of=yesterday", "as_of", "YYYY-MM-DD"),
    ("/api/v1/people/M01/impact?as_of=20260630", "as_of", "YYYY-MM-DD"),
    ("/api/v1/households?limit=1001", "limit", "1000"),
    ("/api/v1/households?limit=-1", "limit", "0"),
    ("/api/v1/audit/members?limit=ten", "limit", "integer"),
    ("/api/v1/audit/delegates?offset=-5", "offset", "0"),
    ("/api/v1/households?offset=100000000000000000000", "offset", "1000000000"),
    ("/api/v1/households?status=lost", "status", "'covered', 'stale' or 'uncovered'"),
    ("/api/v1/households?reason=gone", "reason", "'no_member'"),
    ("/api/v1/households?focus_only=perhaps", "focus_only", "bool"),
    ("/api/v1/audit/delegates?status=bad", "status", "'ok' or 'gap'"),
    ("/api/v1/audit/members?problem=lazy", "problem", "'no_delegate' or 'too_few_households'"),
    ("/api/v1/audit/committee-members?problem=x", "problem", "'too_few_delegates'"),
])
def test_422_names_the_parameter_and_what_is_allowed(api: Api, url: str, param: str,
                                                     allowed: str) -> None:
    r = api.client.get(url, headers=api.admin)
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert param in detail and allowed in detail, detail


@pytest.mark.parametrize("method,url,body,field", [
    ("post", "/api/v1/people", {"id": "M30"}, "name"),
    ("post", "/api/v1/people", {"id": "M30", "name": "x", "roles": ["boss"]}, "roles"),
    ("post", "/api/v1/people", {"id": "M30", "name": "x", "role": ["delegate"]}, "role"),
    ("post", "/api/v1/people", {"id": " M30", "name": "x"}, "id"),
    ("post", "/api/v1/people", {"id": "H001", "name": "x"}, "id"),  # a household's id
    ("patch", "/api/v1/people/M01", {"name": None}, "name"),
    ("patch", "/api/v1/households/H001", {"size": 0}, "size"),
    ("post", "/api/v1/households", {"id": "H100", "head_name": "x", "village_id": "T1"},
     "village_id"),
    ("post", "/api/v1/liaisons", {"kind": "delegate-member", "from_id": "D1", "to_id": "D1"},
     "to_id"),
    ("post", "/api/v1/liaisons", {"kind": "member-household", "from_id": "M01", "to_id": "M02"},
     "to_id"),
    ("post", "/api/v1/liaisons", {"kind": "teacher-pupil", "from_id": "D1", "to_id": "M01"},
     "kind"),
    ("post", "/api/v1/liaisons/end", {"kind": "delegate-member", "from_id": "D1", "to_id": "M01",
                                      "until": "2001-01-01"}, "until"),
    ("post", "/api/v1/pairings", {"unit_id": "V1", "village_id": "V3"}, "unit_id"),
    ("post", "/api/v1/supports", {"person_id": "K1", "household_id": "H001",
                                  "since": "2026-01-01", "until": "2025-01-01"}, "until"),
    ("post", "/api/v1/contacts", {"person_id": "M01", "household_id": "H001"}, "date"),
    ("post", "/api/v1/contacts", {"person_id": "M01", "household_id": "H001", "date": AS_OF,
                                  "channel": "letter"}, "channel"),
])
def test_write_refused_names_the_field(api: Api, method: str, url: str, body: dict[str, Any],
                                       field: str) -> None:
    before = api.store.records()
    r = api.client.request(method, url, headers=api.admin, json=body)
    assert r.status_code == 422, r.text
    assert field in r.json()["detail"]
    assert api.store.records() == before, "a refused write writes nothing"


def test_write_rule_violation_gives_the_rules_sentence(api: Api) -> None:
    r = api.client.post("/api/v1/liaisons", headers=api.admin,
                        json={"kind": "delegate-member", "from_id": "M02", "to_id": "M01"})
    assert r.status_code == 422
    body = r.json()
    assert body["detail"].startswith("from_id: 'M02' does not have the role delegate, so cannot "
                                     "start a delegate-member liaison")
    assert body["errors"][0]["field"] == "from_id"
    # the same sentence as the import gives for the same row
    assert "add delegate to their roles in people.csv" in body["errors"][0]["message"]


def test_client_mistakes_are_never_500(api: Api) -> None:
    h = api.admin
    c = api.client
    for r in (
        c.get("/api/v1/households/" + "x" * 5000, headers=h),
        c.get("/api/v1/households/%F0%9F%98%80", headers=h),
        c.get("/api/v1/households?as_of=" + "9" * 300, headers=h),
        c.get("/api/v1/households?township_id=%00", headers=h),
        c.post("/api/v1/people", headers={**h, "Content-Type": "application/json"}, content=b"{"),
        c.post("/api/v1/people", headers=h, json=[1, 2]),
        c.post("/api/v1/people", headers=h, json={"id": "x" * 100, "name": "x"}),
        c.post("/api/v1/people", headers=h, json={"id": "a\nb", "name": "x"}),
        c.patch("/api/v1/people/M01", headers=h, json={"inactive_since": "2026-02-30"}),
        c.patch("/api/v1/households/H001", headers=h, json={"size": 10**30}),
        c.post("/api/v1/contacts", headers=h, json={"person_id": "M01", "household_id": "H001",
                                                    "date": "0001-01-01", "request": "x" * 10000}),
        c.post("/api/v1/imports", headers=h),
        c.post("/api/v1/imports", headers=h, files={"file": ("b.zip", b"not a zip")}),
        c.post("/api/v1/imports", headers=h, files={"file": ("b.xlsx", b"not a workbook")}),
        c.put("/api/v1/households", headers=h),
        c.get("/api/v2/households", headers=h),
    ):
        assert r.status_code < 500, (r.request.url, r.status_code, r.text)
        assert r.status_code in (200, 201) or r.json()["detail"]


# -- writes ---------------------------------------------------------------------------------------


def status_of(api: Api, household: str, as_of: str = AS_OF) -> tuple[str | None, str | None]:
    body = api.get(f"/api/v1/households/{household}", as_of=as_of)
    return body["status"], body["reason"]


def test_deactivate_sets_inactive_since(api: Api) -> None:
    assert status_of(api, "H007") == ("stale", None)  # M03 is its only member
    r = api.client.post("/api/v1/people/M03/deactivate", headers=api.admin,
                        json={"inactive_since": "2026-06-01"})
    assert r.status_code == 200
    assert r.json()["status"] == "inactive" and r.json()["inactive_since"] == "2026-06-01"
    assert status_of(api, "H007") == ("uncovered", "member_inactive")
    assert status_of(api, "H007", "2026-05-31") == ("stale", None), "the past stays answerable"
    r = api.client.post("/api/v1/households/H001/deactivate", headers=api.admin)  # no body: today
    assert r.json()["inactive_since"] == dt.date.today().isoformat()
    rows = api.get("/api/v1/households", as_of=dt.date.today().isoformat(), limit=1000)["items"]
    assert "H001" not in {i["household_id"] for i in rows}
    assert api.get("/api/v1/households/H001")["status"] is None


def test_ending_a_liaison_sets_until_and_the_status_follows(api: Api) -> None:
    assert status_of(api, "H001") == ("covered", None)
    end = {"kind": "delegate-member", "from_id": "D1", "to_id": "M01", "until": "2026-06-15"}
    r = api.client.post("/api/v1/liaisons/end", headers=api.admin, json=end)
    assert r.status_code == 200
    assert r.json() == {"kind": "delegate-member", "from_id": "D1", "to_id": "M01",
                        "since": "2008-01-01", "until": "2026-06-15"}
    assert status_of(api, "H001") == ("uncovered", "no_delegate")
    assert status_of(api, "H001", "2026-06-14") == ("covered", None)
    key = ("delegate-member", "D1", "M01")
    assert api.store.fetch_links("liaisons", [key])[key]["until"] == dt.date(2026, 6, 15)
    r = api.client.post("/api/v1/liaisons/end", headers=api.admin, json=end)
    assert r.status_code == 409 and "2026-06-15" in r.json()["detail"]


def test_adding_a_liaison_covers_a_household(api: Api) -> None:
    assert status_of(api, "H059") == ("uncovered", "no_member")
    new = {"kind": "member-household", "from_id": "M01", "to_id": "H059", "since": "2026-06-01"}
    r = api.client.post("/api/v1/liaisons", headers=api.admin, json=new)
    assert r.status_code == 201
    assert r.json() == {**new, "until": None}
    assert status_of(api, "H059") == ("stale", None)  # chain holds; nobody has visited
    r = api.client.post("/api/v1/contacts", headers=api.admin, json={
        "person_id": "M01", "household_id": "H059", "date": "2026-06-20", "request": "修路"})
    assert r.status_code == 201
    assert r.json() == {"person_id": "M01", "household_id": "H059", "date": "2026-06-20",
                        "channel": "visit", "request": "修路", "resolved": False}
    assert status_of(api, "H059") == ("covered", None)
    # posting it again sets its dates and says it existed
    r = api.client.post("/api/v1/liaisons", headers=api.admin, json={**new, "since": "2026-06-02"})
    assert r.status_code == 200 and r.json()["since"] == "2026-06-02"


def test_an_ended_liaison_is_taken_up_again_with_an_empty_until(api: Api) -> None:
    end = {"kind": "delegate-member", "from_id": "D1", "to_id": "M01", "until": "2026-06-15"}
    assert api.client.post("/api/v1/liaisons/end", headers=api.admin, json=end).status_code == 200
    again = {"kind": "delegate-member", "from_id": "D1", "to_id": "M01", "since": "2026-06-20"}
    r = api.client.post("/api/v1/liaisons", headers=api.admin, json=again)
    assert r.status_code == 422
    (err,) = r.json()["errors"]
    assert err["field"] == "since", err  # the one sent is named, with what to do
    assert "2026-06-20" in err["message"] and "2026-06-15" in err["message"]
    assert "ended" in err["message"] and "empty" in err["message"]
    assert status_of(api, "H001", "2026-06-25") == ("uncovered", "no_delegate")  # nothing written
    r = api.client.post("/api/v1/liaisons", headers=api.admin, json={**again, "until": None})
    assert r.status_code == 200
    assert r.json() == {**again, "until": None}
    assert status_of(api, "H001", "2026-06-25") == ("covered", None)


def test_people_create_update(api: Api) -> None:
    h = api.admin
    r = api.client.post("/api/v1/people", headers=h,
                        json={"id": "M30", "name": "王小梅", "village_id": "V1"})
    assert r.status_code == 201
    assert r.json() == {"id": "M30", "name": "王小梅", "roles": [], "status": "active",
                        "inactive_since": None, "hardship": False, "organization_id": None,
                        "township_id": None, "village_id": "V1", "phone": None}
    r = api.client.post("/api/v1/people", headers=h, json={"id": "M30", "name": "again"})
    assert r.status_code == 409
    link = {"kind": "delegate-member", "from_id": "M30", "to_id": "M01"}
    assert api.client.post("/api/v1/liaisons", headers=h, json=link).status_code == 422
    r = api.client.patch("/api/v1/people/M30", headers=h, json={"roles": ["delegate"]})
    assert r.status_code == 200 and r.json()["roles"] == ["delegate"]
    assert r.json()["name"] == "王小梅" and r.json()["village_id"] == "V1", "the rest stays"
    assert api.client.post("/api/v1/liaisons", headers=h, json=link).status_code == 201
    r = api.client.patch("/api/v1/people/M30", headers=h, json={"village_id": None,
                                                                  "township_id": "T2"})
    assert r.json()["village_id"] is None and r.json()["township_id"] == "T2"
    assert api.get("/api/v1/people/M30") == r.json()


def test_households_create_update(api: Api) -> None:
    h = api.admin
    r = api.client.post("/api/v1/households", headers=h, json={
        "id": "H100", "head_name": "李桂兰", "village_id": "V1",
        "categories": ["empty_nest_elderly", "military_martyr"], "size": 1})
    assert r.status_code == 201
    assert r.json()["categories"] == ["military_martyr", "empty_nest_elderly"]
    rows = api.get("/api/v1/households", as_of=AS_OF, limit=1000)["items"]
    assert {"household_id": "H100", "status": "uncovered", "reason": "no_member"}.items() <= \
        next(i for i in rows if i["household_id"] == "H100").items()
    r = api.client.patch("/api/v1/households/H100", headers=h,
                         json={"size": 2, "phone": "15800000100"})
    assert r.json()["size"] == 2 and r.json()["head_name"] == "李桂兰"


def test_pairings_and_supports(api: Api) -> None:
    h = api.admin
    assert api.get("/api/v1/audit/pairings", as_of=AS_OF)["unpaired_villages"] == ["V3"]
    r = api.client.post("/api/v1/pairings", headers=h,
                        json={"unit_id": "U4", "village_id": "V3", "since": "2026-01-01"})
    assert r.status_code == 201
    assert api.get("/api/v1/audit/pairings", as_of=AS_OF) == {
        "as_of": AS_OF, "unpaired_villages": [], "idle_units": ["U2"]}
    r = api.client.post("/api/v1/pairings/end", headers=h,
                        json={"unit_id": "U4", "village_id": "V3", "until": "2026-06-01"})
    assert r.json()["until"] == "2026-06-01"
    assert api.get("/api/v1/audit/pairings", as_of=AS_OF)["unpaired_villages"] == ["V3"]
    r = api.client.post("/api/v1/supports/end", headers=h,
                        json={"person_id": "K1", "household_id": "H002", "until": "2026-06-01"})
    assert r.status_code == 200
    assert api.get("/api/v1/households/H002", as_of=AS_OF)["supporting_cadres"] == []
    r = api.client.post("/api/v1/supports", headers=h,
                        json={"person_id": "K1", "household_id": "H059"})
    assert r.status_code == 201 and r.json()["since"] is None


# -- imports --------------------------------------------------------------------------------------


def zipped(folder: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for f in sorted(folder.glob("*.csv")):
            z.write(f, f.name)
    return buf.getvalue()


def test_import_upload(empty_api: Api, tiny_dir: Path, expected: dict[str, Any],
                       tmp_path: Path) -> None:
    api = empty_api
    data = zipped(tiny_dir)
    r = api.client.post("/api/v1/imports", headers=api.admin, params={"dry_run": "true"},
                        files={"file": ("tiny.zip", data, "application/zip")})
    assert r.status_code == 200
    assert r.json() == IMPORT_OK  # the example in the OpenAPI description
    assert api.get("/api/v1/summary", as_of=AS_OF)["households"] == 0
    r = api.client.post("/api/v1/imports", headers=api.admin,
                        files={"file": ("tiny.zip", data, "application/zip")})
    assert r.status_code == 200, r.text
    assert r.json()["written"] and r.json()["counts"]["households"] == 60
    body = api.get("/api/v1/households", as_of=AS_OF, limit=1000)
    assert project(body["items"], expected["households"]) == expected["households"]
    # a workbook, one sheet per file, as the export writes it
    from graphsvc.importer import export_path
    from graphsvc.stores.embedded import EmbeddedStore

    with EmbeddedStore(tmp_path / "other") as other:
        assert import_path(other, tiny_dir).ok
        export_path(other, tmp_path / "tiny.xlsx")
    r = api.client.post("/api/v1/imports", headers=api.admin, params={"dry_run": "true"},
                        files={"file": ("tiny.xlsx", (tmp_path / "tiny.xlsx").read_bytes())})
    assert r.status_code == 200 and r.json()["counts"]["households"] == 60, r.text
    # one bundle .csv on its own
    r = api.client.post("/api/v1/imports", headers=api.admin, files={
        "file": ("contacts.csv", b"person_id,household_id,date\nM01,H059,2026-06-29\n")})
    assert r.status_code == 200 and r.json()["counts"] == {"contacts": 1}


def test_import_of_a_bad_bundle_is_422_with_the_report(empty_api: Api, tiny_copy: Path) -> None:
    api = empty_api
    f = tiny_copy / "liaisons.csv"
    f.write_text(f.read_text(encoding="utf-8").replace("delegate-member,D1,M01",
                                                       "delegate-member,M02,M01"), encoding="utf-8")
    r = api.client.post("/api/v1/imports", headers=api.admin,
                        files={"file": ("tiny.zip", zipped(tiny_copy))})
    assert r.status_code == 422
    body = r.json()
    assert body["ok"] is False and body["written"] is False
    assert "nothing was written" in body["detail"]
    first = body["errors"][0]
    assert (first["file"], first["row"], first["column"]) == ("liaisons.csv", 6, "from_id")
    assert body == IMPORT_BAD
    assert api.get("/api/v1/summary", as_of=AS_OF)["townships"] == 0


def test_upload_over_the_limit_is_413(empty_api: Api, tiny_dir: Path) -> None:
    api = empty_api  # max_upload_bytes=200_000
    big = b"person_id,household_id,date\n" + b"M01,H001,2026-06-01\n" * 15_000  # 300 KB
    r = api.client.post("/api/v1/imports", headers=api.admin, files={"file": ("contacts.csv", big)})
    assert r.status_code == 413
    assert "GRAPHSVC_MAX_UPLOAD_BYTES" in r.json()["detail"]
    # a body streamed without Content-Length is cut off too
    boundary = "b0undary"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"contacts.csv\"\r\nContent-Type: text/csv\r\n\r\n").encode()

    def chunks() -> Iterator[bytes]:
        yield head
        for i in range(0, len(big), 8192):
            yield big[i: i + 8192]
        yield f"\r\n--{boundary}--\r\n".encode()

    r = api.client.post("/api/v1/imports", headers={
        **api.admin, "Content-Type": f"multipart/form-data; boundary={boundary}"}, content=chunks())
    assert r.status_code == 413
    # just under the limit is fine
    small = b"person_id,household_id,date\n"
    r = api.client.post("/api/v1/imports", headers=api.admin, params={"dry_run": "true"},
                        files={"file": ("contacts.csv", small + b" " * (200_000 - len(small)))})
    assert r.status_code in (200, 422) and r.status_code != 413
    assert api.get("/api/v1/summary", as_of=AS_OF)["contacts"] == 0


# -- the store is down ----------------------------------------------------------------------------


def test_store_that_cannot_open_answers_503_then_recovers(tmp_path: Path, tiny_dir: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The embedded store's file is unusable at start: 503 with the reason; once it is fixed,
    the same app serves it, without a restart."""
    from graphsvc.api.holder import StoreHolder

    monkeypatch.setattr(StoreHolder, "retry_interval", 0.0)
    data = tmp_path / "data"
    (data / "graphsvc.sqlite3").mkdir(parents=True)  # a folder where the database should be
    settings = Settings(data_dir=data, neo4j_uri=None)
    _, token = KeyStore(data).create(Role.ADMIN)
    h = {"Authorization": f"Bearer {token}"}
    with TestClient(create_app(settings)) as client:
        for probe in ("/health", "/ready"):
            r = client.get(probe)
            assert r.status_code == 503
            assert r.json()["status"] == "unavailable" and "graphsvc.sqlite3" in r.json()["detail"]
        for url in ("/api/v1/households", "/api/v1/summary", "/api/v1/people/M01/impact"):
            r = client.get(url, headers=h)
            assert r.status_code == 503 and "graphsvc.sqlite3" in r.json()["detail"]
        assert client.get("/api/v1/summary").status_code == 401, "keys are checked first"
        (data / "graphsvc.sqlite3").rmdir()
        assert client.get("/health").json()["status"] == "ok"
        assert client.get("/ready").json()["store"] == "embedded"
        assert client.get("/api/v1/summary", headers=h).json()["townships"] == 0


def test_unreachable_neo4j_answers_503_never_500(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, neo4j_uri="bolt://127.0.0.1:9", neo4j_password="x")
    _, token = KeyStore(tmp_path).create(Role.ADMIN)
    h = {"Authorization": f"Bearer {token}"}
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        r = client.get("/health")
        assert r.status_code == 503
        assert r.json()["store"] == "neo4j" and "127.0.0.1:9" in r.json()["detail"]
        for method, url, body in [("get", "/api/v1/households", None),
                                  ("get", "/api/v1/households/H001", None),
                                  ("get", "/api/v1/audit/delegates", None),
                                  ("get", "/api/v1/summary?as_of=2026-06-30", None),
                                  *WRITES[:3]]:
            r = client.request(method, url, headers=h, json=body)
            assert r.status_code == 503, (url, r.text)
            assert "cannot be reached" in r.json()["detail"]


class TcpProxy:
    """Forwards a local port to a target address; stop() cuts it like a server going away."""
    def __init__(self, target: tuple[str, int], port: int = 0) -> None:
        self.target, self.port = target, port
        self._listener: socket.socket | None = None
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        ls = socket.socket()
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("127.0.0.1", self.port))
        self.port = ls.getsockname()[1]
        ls.listen(16)
        self._listener = ls
        threading.Thread(target=self._accept, args=(ls,), daemon=True).start()

    def _accept(self, ls: socket.socket) -> None:
        while True:
            try:
                client, _ = ls.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def stop(self) -> None:
        if self._listener is not None:
            try:
                self._listener.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
            except OSError:
                pass
            self._listener.close()
            self._listener = None
        with self._lock:
            conns, self._conns = self._conns, []
        for s in conns:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()


def test_neo4j_outage_and_recovery(neo4j_shared: Store, neo4j_env: dict[str, str],
                                   tiny_dir: Path, tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A real Neo4j behind a cut-able connection: down at start, up, down, up again; the app
    answers 503 with the reason while it is down and recovers by itself."""
    from tests_support import clear

    from graphsvc.api.holder import StoreHolder

    monkeypatch.setattr(StoreHolder, "retry_interval", 0.0)
    clear(neo4j_shared)
    assert import_path(neo4j_shared, tiny_dir).ok
    target = urlsplit(neo4j_env["GRAPHSVC_NEO4J_URI"])
    link = TcpProxy((target.hostname or "127.0.0.1", target.port or 7687))
    link.start()
    link.stop()  # Neo4j is "down" when the app starts
    settings = Settings(data_dir=tmp_path, neo4j_uri=f"bolt://127.0.0.1:{link.port}",
                        neo4j_user=neo4j_env.get("GRAPHSVC_NEO4J_USER", "neo4j"),
                        neo4j_password=neo4j_env.get("GRAPHSVC_NEO4J_PASSWORD"))
    _, token = KeyStore(tmp_path).create(Role.VIEWER)
    h = {"Authorization": f"Bearer {token}"}
    try:
        with TestClient(create_app(settings)) as client:
            assert client.get("/health").status_code == 503
            r = client.get("/api/v1/summary", headers=h, params={"as_of": AS_OF})
            assert r.status_code == 503 and f"127.0.0.1:{link.port}" in r.json()["detail"]
            link.start()
            assert client.get("/health").json()["store"] == "neo4j"
            assert client.get("/ready").json()["status"] == "ready"
            r = client.get("/api/v1/summary", headers=h, params={"as_of": AS_OF})
            assert r.status_code == 200 and r.json()["households"] == 59
            link.stop()  # Neo4j goes away while the app runs
            r = client.get("/health")
            assert r.status_code == 503 and "cannot be reached" in r.json()["detail"]
            for url in ("/api/v1/summary", "/api/v1/households", "/api/v1/households/H001"):
                r = client.get(url, headers=h, params={"as_of": AS_OF})
                assert r.status_code == 503, url
            link.start()
            r = client.get("/api/v1/households/H007", headers=h, params={"as_of": AS_OF})
            assert r.status_code == 200 and r.json()["status"] == "stale"
    finally:
        link.stop()


# -- OpenAPI --------------------------------------------------------------------------------------


def test_openapi_is_complete(api: Api) -> None:
    """Every endpoint, parameter and response model has a description and an example."""
    doc = api.client.get("/openapi.json").json()
    schemas = doc["components"]["schemas"]
    assert "ApiKey" in doc["components"]["securitySchemes"]
    paths = doc["paths"]
    for path in ["/health", "/ready", "/api/v1/households", "/api/v1/households/{household_id}",
                 "/api/v1/audit/delegates", "/api/v1/audit/members",
                 "/api/v1/audit/committee-members", "/api/v1/audit/pairings",
                 "/api/v1/people/{person_id}/impact", "/api/v1/summary", "/api/v1/imports",
                 "/api/v1/people", "/api/v1/liaisons", "/api/v1/liaisons/end",
                 "/api/v1/pairings", "/api/v1/supports", "/api/v1/contacts"]:
        assert path in paths, path

    def resolve(schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            schema = schemas[schema["$ref"].rsplit("/", 1)[1]]
        return schema

    for path, ops in paths.items():
        for method, op in ops.items():
            where = f"{method.upper()} {path}"
            assert op.get("summary") and op.get("description"), where
            for p in op.get("parameters", []):
                assert p.get("description"), (where, p["name"])
                assert p.get("example") is not None or p.get("examples") or \
                    p["schema"].get("examples"), (where, p["name"])
            if path not in ("/health", "/ready"):
                assert {"401", "422", "503"} <= set(op["responses"]), where
                assert op.get("security"), where
            for code, resp in op["responses"].items():
                assert resp.get("description"), (where, code)
                content = resp.get("content", {}).get("application/json")
                if content and "schema" in content and code != "422":
                    model = resolve(content["schema"])
                    assert model.get("examples") or content.get("example"), (where, code)
    for name, schema in schemas.items():
        for prop, spec in schema.get("properties", {}).items():
            assert spec.get("description"), (name, prop)
    status = next(p for p in paths["/api/v1/households"]["get"]["parameters"]
                  if p["name"] == "status")
    assert resolve(status["schema"]["anyOf"][0])["enum"] == ["covered", "stale", "uncovered"]


def test_every_endpoint_is_in_a_described_group(api: Api) -> None:
    """/docs groups the endpoints by their tags: every tag an endpoint has is in the app's TAGS
    with a description (requests and trends among them), every tag there is used, and /docs
    is the Swagger page reading this document."""
    doc = api.client.get("/openapi.json").json()
    described = {t["name"]: t.get("description") for t in doc["tags"]}
    used = {tag for ops in doc["paths"].values() for op in ops.values() for tag in op["tags"]}
    assert all(len(op["tags"]) == 1 for ops in doc["paths"].values() for op in ops.values())
    assert used == set(described), (used ^ set(described))
    assert all(described.values()), described
    assert {"requests", "trends"} <= used
    by_tag = {tag: sorted(f"{m.upper()} {p}" for p, ops in doc["paths"].items()
                          for m, op in ops.items() if tag in op["tags"]) for tag in used}
    assert by_tag["requests"] == ["GET /api/v1/requests/open", "GET /api/v1/requests/overdue",
                                  "GET /api/v1/requests/summary"]
    assert by_tag["trends"] == ["GET /api/v1/trends"]
    page = api.client.get("/docs")
    assert page.status_code == 200 and "/openapi.json" in page.text and "swagger" in page.text


def test_model_examples_are_valid() -> None:
    from pydantic import BaseModel

    from graphsvc.api import schemas as S

    models = [m for m in vars(S).values()
              if isinstance(m, type) and issubclass(m, BaseModel) and m is not BaseModel]
    for model in models:
        for example in (model.model_config.get("json_schema_extra") or {}).get("examples", []):  # type: ignore[union-attr]
            model.model_validate(example)


def test_allowed_values_follow_the_rules() -> None:
    from graphsvc import model as M
    from graphsvc import rules as R
    from graphsvc.api import schemas as S
    from graphsvc.bundle import schema as B

    def values(e: Any) -> tuple[str, ...]:
        return tuple(x.value for x in e)

    assert values(S.HouseholdStatus) == R.STATUSES
    assert values(S.UncoveredReason) == R.REASONS
    assert values(S.DelegateProblem) == M.DELEGATE_PROBLEMS
    assert values(S.MemberProblem) == M.MEMBER_PROBLEMS
    assert values(S.CommitteeMemberProblem) == M.COMMITTEE_MEMBER_PROBLEMS
    assert values(S.Category) == B.CATEGORIES
    assert values(S.Role) == B.ROLES
    assert values(S.RecordStatus) == B.RECORD_STATUSES
    assert values(S.LiaisonKind) == B.LIAISON_KINDS
    assert values(S.Channel) == B.CHANNELS
    assert values(S.Sector) == B.SECTORS
