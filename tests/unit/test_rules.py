"""The coverage rules on both stores: the tiny county gives expected.json; filters, paging,
details, scopes and summaries are the same on both stores and equal the reference
(``graphsvc.rules`` over the store's graph)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from graphsvc import rules as R
from graphsvc.errors import NotFound
from graphsvc.importer import import_path
from graphsvc.rules import RuleSettings
from graphsvc.stores.base import Store
from graphsvc.summary import summarize

AS_OF = dt.date(2026, 6, 30)
DATES = [dt.date(2025, 12, 31), dt.date(2026, 1, 1), AS_OF, dt.date(2026, 9, 1),
         dt.date(2027, 1, 1)]
VARIANT = RuleSettings(min_members_per_delegate=2, households_per_member=1, stale_after_days=30)


@pytest.fixture(scope="module")
def expected(tiny_dir: Path) -> dict[str, Any]:
    return json.loads((tiny_dir / "expected.json").read_text(encoding="utf-8"))


def settings_of(expected: dict[str, Any]) -> RuleSettings:
    return RuleSettings(**expected["settings"])


def project(rows: list[dict[str, Any]], like: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` cut down to the fields the expected rows have."""
    fields = list(like[0]) if like else []
    return [{f: r[f] for f in fields} for r in rows]


@pytest.fixture
def pair(make_store, tiny_dir: Path) -> Iterator[tuple[Store, Store]]:  # type: ignore[no-untyped-def]
    """The tiny county in both stores: (embedded, neo4j)."""
    emb, neo = make_store("embedded"), make_store("neo4j")
    for s in (emb, neo):
        assert import_path(s, tiny_dir).ok
    yield emb, neo


# -- expected.json ------------------------------------------------------------------------------


def test_tiny_county_gives_expected_households(tiny: Store, expected: dict[str, Any]) -> None:
    rules = settings_of(expected)
    assert expected["as_of"] == AS_OF.isoformat()
    total, rows = tiny.households(AS_OF, rules)
    assert total == len(expected["households"]) == len(rows)
    assert project(rows, expected["households"]) == expected["households"]


def test_tiny_county_gives_expected_audits(tiny: Store, expected: dict[str, Any]) -> None:
    rules = settings_of(expected)
    assert project(tiny.delegate_audit(AS_OF, rules), expected["delegates"]) == \
        expected["delegates"]
    assert project(tiny.member_audit(AS_OF, rules), expected["members"]) == expected["members"]
    assert project(tiny.committee_member_audit(AS_OF, rules), expected["committee_members"]) == \
        expected["committee_members"]
    assert tiny.pairing_audit(AS_OF) == expected["pairing"]


def test_tiny_county_gives_expected_impact(tiny: Store, expected: dict[str, Any]) -> None:
    rules = settings_of(expected)
    assert expected["impact"], "expected.json lists no impact"
    for person, items in expected["impact"].items():
        assert tiny.impact(person, AS_OF, rules) == items, person


def test_every_method_equals_the_reference(tiny: Store) -> None:
    """Full rows (every field, in order) against graphsvc.rules on the store's own graph."""
    G = tiny.graph()
    for rules in (RuleSettings(), VARIANT):
        for day in DATES:
            assert tiny.households(day, rules) == (len(R.household_statuses(G, day, rules)),
                                                  R.household_statuses(G, day, rules))
            assert tiny.delegate_audit(day, rules) == R.delegate_audit(G, day, rules)
            assert tiny.member_audit(day, rules) == R.member_audit(G, day, rules)
            assert tiny.committee_member_audit(day, rules) == \
                R.committee_member_audit(G, day, rules)
            assert tiny.pairing_audit(day) == R.pairing_audit(G, day)
            want = summarize(G, day)
            assert tiny.summary(day) == want
            assert tiny.summary(day, rules) == \
                {**want, **R.status_counts(R.household_statuses(G, day, rules))}


# -- households: filters and paging -----------------------------------------------------------

FILTERS: list[dict[str, Any]] = [
    {},
    {"status": "uncovered"},
    {"status": "stale"},
    {"status": "covered", "focus_only": True},
    {"reason": "no_member"},
    {"reason": "no_committee_member"},
    {"status": "covered", "reason": "no_member"},  # nothing matches
    {"focus_only": True},
    {"township_id": "T1"},
    {"township_id": "T2", "status": "uncovered"},
    {"township_id": "T9"},  # no such township
    {"village_id": "V3"},
    {"village_id": "V2", "township_id": "T1", "focus_only": True},
    {"village_id": "V2", "township_id": "T2"},  # the village is not in that township
]
PAGES = [(None, 0), (5, 0), (5, 5), (10, 27), (100, 0), (3, 58), (5, 1000), (0, 0)]


def reference_page(G: Any, day: dt.date, rules: RuleSettings, *, township_id: str | None = None,
                   village_id: str | None = None, status: str | None = None,
                   reason: str | None = None, focus_only: bool = False, limit: int | None = None,
                   offset: int = 0) -> tuple[int, list[dict[str, Any]]]:
    rows = [r for r in R.household_statuses(G, day, rules, township_id=township_id,
                                            village_id=village_id)
            if (status is None or r["status"] == status)
            and (reason is None or r["reason"] == reason)
            and (not focus_only or r["focus"])]
    return len(rows), rows[offset: None if limit is None else offset + limit]


@pytest.mark.parametrize("filters", FILTERS,
                         ids=lambda f: ",".join(f"{k}={v}" for k, v in f.items()) or "all")
def test_household_filters_and_paging(tiny: Store, filters: dict[str, Any]) -> None:
    G = tiny.graph()
    for limit, offset in PAGES:
        got = tiny.households(AS_OF, RuleSettings(), limit=limit, offset=offset, **filters)
        assert got == reference_page(G, AS_OF, RuleSettings(), limit=limit, offset=offset,
                                     **filters), (limit, offset)


def test_household_pages_add_up_to_the_list(tiny: Store) -> None:
    total, everything = tiny.households(AS_OF, RuleSettings())
    assert total == 59
    pages = []
    for offset in range(0, total, 7):
        t, page = tiny.households(AS_OF, RuleSettings(), limit=7, offset=offset)
        assert t == total
        pages += page
    assert pages == everything
    # focus households first, more focus categories first, then by id
    focus = {c for c in RuleSettings().focus_categories}
    keys = [(-len(focus.intersection(r["categories"])), r["household_id"]) for r in everything]
    assert keys == sorted(keys)
    t, uncovered = tiny.households(AS_OF, RuleSettings(), status="uncovered")
    assert t == len(uncovered) > 0 and all(r["status"] == "uncovered" and r["reason"]
                                           for r in uncovered)


def test_households_equal_across_stores(pair: tuple[Store, Store]) -> None:
    emb, neo = pair
    for rules in (RuleSettings(), VARIANT):
        for day in DATES:
            for filters in FILTERS:
                for limit, offset in ((None, 0), (4, 3)):
                    kw = {**filters, "limit": limit, "offset": offset}
                    assert emb.households(day, rules, **kw) == \
                        neo.households(day, rules, **kw), (day, kw)


# -- one household ---------------------------------------------------------------------------


def test_household_detail_equal_across_stores(pair: tuple[Store, Store]) -> None:
    emb, neo = pair
    G = emb.graph()
    ids = sorted(n for n, a in G.nodes(data=True) if a["entity"] == "household")
    # every household: covered, stale, uncovered for each reason, inactive (H056), not yet (H057)
    for rules in (RuleSettings(), VARIANT):
        for day in (AS_OF, dt.date(2026, 12, 31)):
            for h in ids:
                want = R.household_detail(G, h, day, rules)
                assert emb.household(h, day, rules) == want, h
                assert neo.household(h, day, rules) == want, h


def test_household_detail_of_an_inactive_household(tiny: Store) -> None:
    d = tiny.household("H056", AS_OF, RuleSettings())
    assert d["household_id"] == "H056" and d["status"] is None and d["reason"] is None
    assert d["household_status"] == "inactive" and d["inactive_since"] == "2026-02-01"
    assert d["as_of"] == AS_OF.isoformat()
    before = tiny.household("H056", dt.date(2026, 1, 31), RuleSettings())
    assert before["status"] in ("covered", "stale", "uncovered")


def test_household_detail_shows_the_chain(tiny: Store) -> None:
    d = tiny.household("H002", AS_OF, RuleSettings())
    assert d["status"] == "covered" and d["member_ids"] == ["M01"]
    (chain,) = d["chains"]
    assert chain["id"] == "M01" and chain["active"] is True
    assert [x["id"] for x in chain["delegates"]] == ["D1"]
    assert [c["id"] for c in chain["delegates"][0]["committee_members"]] == ["C1"]
    assert all(c["date"] <= AS_OF.isoformat() for c in d["recent_contacts"])
    assert len(d["recent_contacts"]) <= 20


def test_unknown_ids_are_not_found(tiny: Store) -> None:
    with pytest.raises(NotFound, match="no household with id 'H999'"):
        tiny.household("H999", AS_OF, RuleSettings())
    with pytest.raises(NotFound, match="no household with id 'M01'"):  # a person, not a household
        tiny.household("M01", AS_OF, RuleSettings())
    with pytest.raises(NotFound, match="no person with id 'P999'"):
        tiny.impact("P999", AS_OF, RuleSettings())
    with pytest.raises(NotFound, match="no person with id 'H001'"):  # a household, not a person
        tiny.impact("H001", AS_OF, RuleSettings())


def test_empty_store(store: Store) -> None:
    rules = RuleSettings()
    assert store.households(AS_OF, rules) == (0, [])
    assert store.households(AS_OF, rules, township_id="T1", status="uncovered", limit=10) == (0, [])
    assert store.delegate_audit(AS_OF, rules) == []
    assert store.member_audit(AS_OF, rules) == []
    assert store.committee_member_audit(AS_OF, rules) == []
    assert store.pairing_audit(AS_OF) == {"unpaired_villages": [], "idle_units": []}
    s = store.summary(AS_OF, rules, township_id="T1")
    assert s["households"] == 0
    assert s["households_by_status"] == {"covered": 0, "stale": 0, "uncovered": 0}
    assert s["uncovered_by_reason"] == {r: 0 for r in R.REASONS}


# -- scopes, impact and summary across stores ----------------------------------------------------


SCOPES: list[dict[str, Any]] = [
    {}, {"township_id": "T1"}, {"township_id": "T2"}, {"township_id": "T9"},
    {"village_id": "V1"}, {"village_id": "V3"}, {"village_id": "V4", "township_id": "T2"},
    {"village_id": "V4", "township_id": "T1"},
]


def test_audits_and_impact_equal_across_stores(pair: tuple[Store, Store]) -> None:
    emb, neo = pair
    people = sorted(n for n, a in emb.graph().nodes(data=True) if a["entity"] == "person")
    for rules in (RuleSettings(), VARIANT):
        for day in DATES:
            for scope in SCOPES:
                assert emb.delegate_audit(day, rules, **scope) == \
                    neo.delegate_audit(day, rules, **scope)
                assert emb.member_audit(day, rules, **scope) == \
                    neo.member_audit(day, rules, **scope)
                assert emb.committee_member_audit(day, rules, **scope) == \
                    neo.committee_member_audit(day, rules, **scope)
            for t in (None, "T1", "T2", "T9"):
                assert emb.pairing_audit(day, township_id=t) == \
                    neo.pairing_audit(day, township_id=t)
            for p in people:
                assert emb.impact(p, day, rules) == neo.impact(p, day, rules), (p, day)


def test_summary_equal_across_stores(pair: tuple[Store, Store]) -> None:
    emb, neo = pair
    G = emb.graph()
    for day in DATES:
        for t in (None, "T1", "T2", "T9"):
            want = summarize(G, day, township_id=t)
            assert emb.summary(day, township_id=t) == want
            assert neo.summary(day, township_id=t) == want, (day, t)
            for rules in (RuleSettings(), VARIANT):
                a = emb.summary(day, rules, township_id=t)
                assert neo.summary(day, rules, township_id=t) == a, (day, t)
                assert sum(a["households_by_status"].values()) == a["households"]
                assert sum(a["uncovered_by_reason"].values()) == \
                    a["households_by_status"]["uncovered"]


def test_recent_contacts_order_and_limit(  # type: ignore[no-untyped-def]
        make_store, tmp_path: Path) -> None:
    """Latest first; contacts that differ only in `resolved` keep the embedded store's order; at
    most 20; none after as_of. Both stores equal the reference."""
    from graphsvc.bundle.writer import write_bundle

    day = dt.date(2026, 6, 1)
    contacts = []
    for i in range(26):
        d = day - dt.timedelta(days=i // 3)
        for resolved in (True, False):
            contacts.append({"person_id": f"P{i % 3}", "household_id": "H1", "date": d,
                             "channel": ["visit", "phone"][i % 2],
                             "request": [None, "申请低保", "修路"][i % 3], "resolved": resolved})
    contacts.append({"person_id": "P0", "household_id": "H1", "date": AS_OF + dt.timedelta(days=1),
                     "channel": "visit", "request": None, "resolved": False})
    data = {
        "townships": [{"id": "T1", "name": "镇"}],
        "villages": [{"id": "V1", "name": "村", "township_id": "T1", "needs_pairing": True}],
        "people": [{"id": f"P{i}", "name": f"人{i}", "roles": [], "status": "active"}
                   for i in range(3)],
        "households": [{"id": "H1", "head_name": "户", "village_id": "V1", "categories": ["poor"],
                        "status": "active"}],
        "liaisons": [{"kind": "member-household", "from_id": "P1", "to_id": "H1"}],
        "contacts": contacts,
    }
    write_bundle(data, tmp_path / "b")
    emb, neo = make_store("embedded"), make_store("neo4j")
    for s in (emb, neo):
        assert import_path(s, tmp_path / "b").ok
    want = R.household_detail(emb.graph(), "H1", AS_OF, RuleSettings())
    assert len(want["recent_contacts"]) == 20
    assert want["last_contact"] == day.isoformat() and want["reason"] == "no_delegate"
    assert emb.household("H1", AS_OF, RuleSettings()) == want
    assert neo.household("H1", AS_OF, RuleSettings()) == want
