"""Single points of failure (graphsvc.analysis.risks): everyone's impact at once, on both stores.

The baseline is ``Store.impact`` asked person by person (the rules' own definition, itself
held equal on both stores by test_rules_property): the ranking must give, for every person,
exactly ``len(store.impact(person))`` households lost and the focus households among them,
on the tiny county, on hand-made chains and on random Hypothesis bundles, on each store.
Then the API and the CLI answer with that ranking, scoped as the other lists are.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from tests_support.data import AS_OFS, drawn_in_both, rule_bundles
from typer.testing import CliRunner

from graphsvc.analysis import risks
from graphsvc.api import create_app
from graphsvc.bundle.writer import write_bundle
from graphsvc.config import Settings
from graphsvc.importer import import_path
from graphsvc.keys import KeyStore, Role
from graphsvc.rules import RuleSettings
from graphsvc.stores.base import Store

DAY = dt.date(2026, 6, 30)
RULES = RuleSettings()


def _people(store: Store) -> list[str]:
    return sorted(n for n, a in store.graph().nodes(data=True) if a["entity"] == "person")


def _townships(store: Store) -> list[str]:
    return sorted(n for n, a in store.graph().nodes(data=True) if a["entity"] == "township")


def _baseline(store: Store, day: dt.date, township_id: str | None = None,
              ) -> dict[str, tuple[int, int]]:
    """person -> (households lost, focus households lost) from impact(), person by person; with
    a township, that township's people and households only."""
    from graphsvc.rules import township_of

    G = store.graph()
    out = {}
    for p in _people(store):
        if township_id is not None and township_of(G, p) != township_id:
            continue
        lost = [h["household_id"] for h in store.impact(p, day, RULES)]
        if not lost:
            continue
        _, rows = store.households(day, RULES, household_ids=lost, township_id=township_id)
        if rows:
            out[p] = (len(rows), sum(1 for r in rows if r["focus"]))
    return out


def _ranked(store: Store, day: dt.date, township_id: str | None = None,
            ) -> dict[str, tuple[int, int]]:
    rows = risks.ranking(store, day, RULES, township_id=township_id)
    assert [(-r["score"], r["person_id"]) for r in rows] == sorted(
        (-r["score"], r["person_id"]) for r in rows), "ordered by score, then id"
    assert len({r["person_id"] for r in rows}) == len(rows)
    return {r["person_id"]: (r["households_lost"], r["focus_households_lost"]) for r in rows}


# -- the tiny county ----------------------------------------------------------------------------


@pytest.mark.parametrize("day", [dt.date(2025, 7, 20), DAY])
def test_ranking_equals_impact_person_by_person_on_the_tiny_county(tiny: Store,
                                                                  day: dt.date) -> None:
    for township_id in [None, *_townships(tiny)]:
        assert _ranked(tiny, day, township_id) == _baseline(tiny, day, township_id), township_id


def test_the_tiny_county_ranking_as_it_is(tiny: Store) -> None:
    """C1 (the only committee member above D1) and D1 hold the same 30 households; the score
    counts focus households three times; people who hold nothing alone are not listed."""
    rows = risks.ranking(tiny, DAY, RULES)
    top = {r["person_id"]: r for r in rows[:2]}
    assert set(top) == {"C1", "D1"}
    assert top["C1"]["households_lost"] == 30 and top["C1"]["focus_households_lost"] == 13
    assert top["C1"]["score"] == 30 - 13 + 3 * 13
    assert top["C1"]["roles"] == ["committee_member"] and top["C1"]["township_id"] is None
    assert all(r["households_lost"] > 0 for r in rows)
    assert {r["person_id"] for r in rows} < set(_people(tiny))
    weighed = risks.ranking(tiny, DAY, RULES, focus_weight=1)
    assert all(r["score"] == r["households_lost"] for r in weighed)


def test_risky_people_is_the_ranking_as_a_map(tiny: Store) -> None:
    ranking = risks.ranking(tiny, DAY, RULES, township_id="T1")
    assert risks.risky_people(tiny, DAY, RULES, "T1") == {r["person_id"]: r["score"]
                                                          for r in ranking}


# -- chains made by hand ------------------------------------------------------------------------


def _chain_bundle() -> dict[str, list[dict[str, Any]]]:
    """H1: one chain (C1 > D1 > M1). H2: two members under D1 (so D1 and C1 hold it, not the
    members). H3: two delegates with the same committee member C1 (C1 holds it alone). H4: two
    committee members over D2 (D2 and M4 hold it, no committee member). H5: stale (no
    contact) but its chain holds: it counts. H6: uncovered (no delegate): nobody holds it.
    H7: covered but inactive: left out. H8: C1 is its member and its committee member."""
    def person(pid: str, *roles: str, status: str = "active") -> dict[str, Any]:
        return {"id": pid, "name": pid, "roles": list(roles), "status": status, "township_id": "T1"}

    def hh(hid: str, *cats: str, status: str = "active") -> dict[str, Any]:
        return {"id": hid, "head_name": "户", "village_id": "V1", "categories": list(cats),
                "status": status,
                "inactive_since": dt.date(2026, 1, 1) if status != "active" else None}

    links = [("committee_member-delegate", "C1", "D1"), ("committee_member-delegate", "C1", "D2"),
             ("committee_member-delegate", "C2", "D2"), ("committee_member-delegate", "C1", "D3"),
             ("delegate-member", "D1", "M1"), ("delegate-member", "D1", "M2"),
             ("delegate-member", "D1", "M3"), ("delegate-member", "D3", "M3"),
             ("delegate-member", "D2", "M4"), ("delegate-member", "D1", "M5"),
             ("delegate-member", "D1", "C1"),
             ("member-household", "M1", "H1"), ("member-household", "M1", "H2"),
             ("member-household", "M2", "H2"), ("member-household", "M3", "H3"),
             ("member-household", "M4", "H4"), ("member-household", "M5", "H5"),
             ("member-household", "M6", "H6"), ("member-household", "M1", "H7"),
             ("member-household", "C1", "H8")]
    contacts = [{"person_id": "M1", "household_id": h, "date": dt.date(2026, 6, 1),
                 "channel": "visit", "request": None, "resolved": False}
                for h in ("H1", "H2", "H3", "H4", "H6", "H7", "H8")]
    return {
        "townships": [{"id": "T1", "name": "镇"}],
        "villages": [{"id": "V1", "name": "村", "township_id": "T1", "needs_pairing": False}],
        "people": [person("C1", "committee_member"), person("C2", "committee_member"),
                   person("D1", "delegate"), person("D2", "delegate"), person("D3", "delegate"),
                   *[person(f"M{i}") for i in range(1, 7)]],
        "households": [hh("H1", "military_martyr"), hh("H2"), hh("H3"), hh("H4", "extreme_poverty"),
                       hh("H5"), hh("H6"), hh("H7", status="inactive"), hh("H8")],
        "liaisons": [{"kind": k, "from_id": a, "to_id": b, "since": None, "until": None}
                     for k, a, b in links],
        "contacts": contacts,
    }


def test_hand_made_chains(store: Store, tmp_path: Path) -> None:
    write_bundle(_chain_bundle(), tmp_path / "b")
    assert import_path(store, tmp_path / "b").ok
    got = _ranked(store, DAY)
    assert got == _baseline(store, DAY)
    assert got == {
        "C1": (5, 1),  # H1 H2 H3 H5 H8 (counted once: member and committee member; H4 has C2)
        "D1": (4, 1),  # H1 H2 H5 H8
        "M1": (1, 1),  # H1 (H2 has M2 too; H7 is inactive)
        "M3": (1, 0),  # H3: two delegates, both under C1
        "D2": (1, 1), "M4": (1, 1),  # H4: two committee members, so neither holds it
        "M5": (1, 0),  # H5: stale, its chain holds: it counts
    }


# -- random bundles -----------------------------------------------------------------------------


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(drawn=rule_bundles())
def test_random_bundles_ranking_equals_impact_on_both_stores(
        drawn: tuple[dict[str, list[dict[str, Any]]], list[dict[str, Any]]],
        neo4j_shared: Store) -> None:
    data, later = drawn
    with drawn_in_both(data, later, neo4j_shared) as emb:
        townships = [None, data["townships"][-1]["id"]]
        for day in AS_OFS:
            for township_id in townships:
                want = _baseline(emb, day, township_id)
                assert _ranked(emb, day, township_id) == want, (day, township_id)
                assert _ranked(neo4j_shared, day, township_id) == want, (day, township_id)
                assert risks.ranking(emb, day, RULES, township_id=township_id) == \
                    risks.ranking(neo4j_shared, day, RULES, township_id=township_id)


# -- the API and the CLI ------------------------------------------------------------------------


@pytest.fixture
def client(tiny: Store, tmp_path: Path) -> Iterator[tuple[TestClient, KeyStore]]:
    s = Settings(data_dir=tmp_path / "api", neo4j_uri=None)
    with TestClient(create_app(s, store=tiny)) as c:
        yield c, KeyStore(tmp_path / "api")


def _auth(keys: KeyStore, role: Role = Role.ADMIN, *townships: str) -> dict[str, str]:
    _, token = keys.create(role, townships=townships)
    return {"Authorization": f"Bearer {token}"}


def test_api_ranking(client: tuple[TestClient, KeyStore], tiny: Store) -> None:
    c, keys = client
    admin = _auth(keys)
    r = c.get("/api/v1/risks/people", headers=admin, params={"as_of": "2026-06-30"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body == risks.risks_body(tiny, DAY, RULES)
    assert set(body) == {"as_of", "focus_weight", "total", "items"}
    assert set(body["items"][0]) == {"person_id", "name", "roles", "township_id",
                                     "households_lost", "focus_households_lost", "score"}
    page = c.get("/api/v1/risks/people", headers=admin,
                 params={"as_of": "2026-06-30", "limit": 2, "offset": 1, "focus_weight": 1}).json()
    assert page["total"] == body["total"] and len(page["items"]) == 2
    full = risks.ranking(tiny, DAY, RULES, focus_weight=1)
    assert page["items"] == full[1:3]
    t2 = c.get("/api/v1/risks/people", headers=admin,
               params={"as_of": "2026-06-30", "township_id": "T2"}).json()
    assert t2["township_id"] == "T2" and {i["township_id"] for i in t2["items"]} == {"T2"}
    assert c.get("/api/v1/risks/people", headers=admin,
                 params={"focus_weight": 0}).status_code == 422
    assert c.get("/api/v1/risks/people", headers=admin,
                 params={"township_id": "nope"}).status_code == 404
    assert c.get("/api/v1/risks/people").status_code == 401


def test_api_township_key_sees_its_township_only(client: tuple[TestClient, KeyStore],
                                                 tiny: Store) -> None:
    c, keys = client
    viewer = _auth(keys, Role.VIEWER, "T1")
    body = c.get("/api/v1/risks/people", headers=viewer, params={"as_of": "2026-06-30"}).json()
    assert body == risks.risks_body(tiny, DAY, RULES, township_id="T1")
    assert body["items"] and {i["township_id"] for i in body["items"]} == {"T1"}
    # counts are of T1's households only: D1's households are all in T1, so they stay
    assert _ranked(tiny, DAY, "T1") == _baseline(tiny, DAY, "T1")
    r = c.get("/api/v1/risks/people", headers=viewer, params={"township_id": "T2"})
    assert r.status_code == 403


def test_cli_json_is_the_api_body(tiny: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                  client: tuple[TestClient, KeyStore]) -> None:
    from graphsvc import cli
    from graphsvc.cli import common
    from graphsvc.config import get_settings

    c, keys = client
    monkeypatch.setattr(common, "open_store", lambda _settings: _Unclosed(tiny))
    get_settings.cache_clear()
    try:
        res = CliRunner().invoke(cli.app, ["risks", "people", "--as-of", "2026-06-30",
                                           "--township-id", "T1", "--limit", "3",
                                           "--format", "json"])
        assert res.exit_code == 0, res.output
        api = c.get("/api/v1/risks/people", headers=_auth(keys),
                    params={"as_of": "2026-06-30", "township_id": "T1", "limit": 3}).json()
        assert json.loads(res.stdout) == api
        res = CliRunner().invoke(cli.app, ["risks", "people", "--as-of", "2026-06-30",
                                           "--format", "csv"])
        assert res.exit_code == 0, res.output
        lines = res.stdout.lstrip("\ufeff").splitlines()
        assert lines[0].split(",")[0] == "person_id" and len(lines) == 1 + len(
            risks.ranking(tiny, DAY, RULES))
    finally:
        get_settings.cache_clear()


class _Unclosed:
    """The test's store, lent to the CLI (which closes what it opens)."""

    def __init__(self, store: Store) -> None:
        self._s = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self._s, name)

    def close(self) -> None:
        pass
