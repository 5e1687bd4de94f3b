"""Random bundles: every rule method answers the same on the embedded store and on Neo4j.

The bundles of ``tests_support.data.rule_bundles`` add to ``bundles`` what the rules care
about: organisations (so that a person's township may come from their organisation),
people with several roles, inactive people and households on both sides of each ``as_of``,
delegate-member cycles both ways, households shared by several members, duplicate rows,
contacts after ``as_of`` and exactly on the stale bound, and a second import that takes
roles away from people who already start liaisons (stored liaisons from people without
the role, which the rules must ignore).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from tests_support.data import AS_OFS, VARIANTS, drawn_in_both, import_drawn, rule_bundles

from graphsvc.stores.base import Store
from graphsvc.stores.embedded import EmbeddedStore


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(drawn=rule_bundles())
def test_every_rule_method_is_the_same_on_both_stores(
        drawn: tuple[dict[str, list[dict[str, Any]]], list[dict[str, Any]]],
        neo4j_shared: Store) -> None:
    data, later = drawn
    neo = neo4j_shared
    with drawn_in_both(data, later, neo) as emb:
        G = emb.graph()
        hids = sorted(n for n, a in G.nodes(data=True) if a["entity"] == "household")
        pids = sorted(n for n, a in G.nodes(data=True) if a["entity"] == "person")
        township = data["townships"][-1]["id"]
        village = data["villages"][0]["id"]
        scopes: list[dict[str, Any]] = [{}, {"township_id": township}, {"village_id": village}]
        for day in AS_OFS:
            for rules in VARIANTS:
                for scope in scopes:
                    what = (day, rules, scope)
                    assert emb.households(day, rules, **scope) == \
                        neo.households(day, rules, **scope), what
                    page = {**scope, "status": "uncovered", "limit": 3, "offset": 1}
                    assert emb.households(day, rules, **page) == \
                        neo.households(day, rules, **page), what
                    page = {**scope, "focus_only": True, "status": "stale", "limit": 2}
                    assert emb.households(day, rules, **page) == \
                        neo.households(day, rules, **page), what
                    assert emb.delegate_audit(day, rules, **scope) == \
                        neo.delegate_audit(day, rules, **scope), what
                    assert emb.member_audit(day, rules, **scope) == \
                        neo.member_audit(day, rules, **scope), what
                    assert emb.committee_member_audit(day, rules, **scope) == \
                        neo.committee_member_audit(day, rules, **scope), what
                for tid in (None, township):
                    assert emb.summary(day, rules, township_id=tid) == \
                        neo.summary(day, rules, township_id=tid), (day, rules, tid)
                    assert emb.pairing_audit(day, township_id=tid) == \
                        neo.pairing_audit(day, township_id=tid), (day, tid)
                for h in hids:
                    assert emb.household(h, day, rules) == \
                        neo.household(h, day, rules), (day, rules, h)
            # impact does not depend on the settings (covered and stale both count as held)
            for p in pids:
                assert emb.impact(p, day, VARIANTS[0]) == \
                    neo.impact(p, day, VARIANTS[0]), (day, p)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(drawn=rule_bundles())
def test_a_scoped_audit_is_the_county_audit_of_the_scope(
        drawn: tuple[dict[str, list[dict[str, Any]]], list[dict[str, Any]]]) -> None:
    """The audits of a township or a village start from the people found by its edges
    (``rules.people_in``): exactly the county-wide rows whose person lies there by the
    township rule (people of their own township, village, or organisation's place)."""
    from graphsvc import rules as R

    data, later = drawn
    with tempfile.TemporaryDirectory() as tmp:
        emb = EmbeddedStore(Path(tmp) / "emb")
        try:
            import_drawn(emb, data, later, Path(tmp))
            G = emb.graph()
        finally:
            emb.close()
    audits = {"delegate_id": R.delegate_audit, "member_id": R.member_audit,
              "committee_member_id": R.committee_member_audit}
    for day in AS_OFS:
        for idf, audit in audits.items():
            county = audit(G, day)
            for t in [r["id"] for r in data["townships"]] + ["T-none"]:
                assert audit(G, day, township_id=t) == \
                    [r for r in county if R.township_of(G, r[idf]) == t], (day, idf, t)
            for v in [r["id"] for r in data["villages"]]:
                assert audit(G, day, village_id=v) == \
                    [r for r in county if R.village_of(G, r[idf]) == v], (day, idf, v)
