"""Random bundles: every rule method answers the same on the embedded store and on Neo4j.

The bundles of ``test_property.bundles`` are extended here with what the rules care
about: organisations (so that a person's township may come from their organisation),
people with several roles, inactive people and households on both sides of each ``as_of``,
delegate-member cycles both ways, households shared by several members, duplicate rows,
contacts after ``as_of`` and exactly on the stale bound, and a second import that takes
roles away from people who already start liaisons (stored liaisons from people without
the role, which the rules must ignore).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_property import DAYS, bundles

from graphsvc.bundle.schema import ORG_KINDS, ORG_LEVELS
from graphsvc.bundle.writer import write_bundle
from graphsvc.importer import import_path
from graphsvc.rules import RuleSettings
from graphsvc.stores.base import Store
from graphsvc.stores.embedded import EmbeddedStore

# 2025-07-20, 2026-01-01, 2026-06-30: all also dates in the data
AS_OFS = [DAYS[2], DAYS[4], DAYS[6]]
VARIANTS = [RuleSettings(), RuleSettings(min_members_per_delegate=2, households_per_member=1,
                                         stale_after_days=30)]
# contacts on, just inside and just outside each stale bound, and on and after each as_of
CONTACT_DAYS = sorted({d + dt.timedelta(days=k) for d in AS_OFS
                       for k in (-91, -90, -31, -30, 0, 1)})
ROLES = ["committee_member", "delegate", "cadre"]


@st.composite
def rule_bundles(draw: st.DrawFn) -> tuple[dict[str, list[dict[str, Any]]], list[dict[str, Any]]]:
    """(bundle, people after a second import that changes some roles)."""
    data = draw(bundles())
    tids = [t["id"] for t in data["townships"]]
    vids = [v["id"] for v in data["villages"]]
    orgs = [{"id": f"O{i}", "name": f"支部{i}", "kind": draw(st.sampled_from(ORG_KINDS)),
             "level": draw(st.sampled_from(ORG_LEVELS)), "parent_id": None,
             "township_id": draw(st.one_of(st.none(), st.sampled_from(tids))),
             "village_id": draw(st.one_of(st.none(), st.sampled_from(vids)))}
            for i in range(draw(st.integers(0, 3)))]
    data["organizations"] = orgs
    oids = [o["id"] for o in orgs]
    people = data["people"]
    # more people: several roles each, inactive on every side of the as_of dates
    for i in range(len(people), len(people) + draw(st.integers(0, 4))):
        status = draw(st.sampled_from(["active", "inactive"]))
        people.append({
            "id": f"P{i}", "name": f"人{i}",
            "roles": draw(st.lists(st.sampled_from(ROLES), min_size=2, unique=True)),
            "status": status,
            "inactive_since": (draw(st.one_of(st.none(), st.sampled_from(DAYS + CONTACT_DAYS)))
                               if status == "inactive" else None),
            "hardship": draw(st.booleans()), "village_id": None})
    for p in people:  # the township rule: own township, else village, else organisation
        p["organization_id"] = draw(st.one_of(st.none(), st.sampled_from(oids))) if oids else None
        p["township_id"] = draw(st.one_of(st.none(), st.none(), st.sampled_from(tids)))
    for u in data["units"]:
        u["organization_id"] = draw(st.one_of(st.none(), st.sampled_from(oids))) if oids else None
    pids = [p["id"] for p in people]
    hids = [h["id"] for h in data["households"]]
    dels = [p["id"] for p in people if "delegate" in p["roles"]]
    cms = [p["id"] for p in people if "committee_member" in p["roles"]]

    def span() -> tuple[dt.date | None, dt.date | None]:
        s = draw(st.one_of(st.none(), st.sampled_from(DAYS)))
        u = draw(st.one_of(st.none(), st.sampled_from(DAYS)))
        return (s, u) if s is None or u is None or u > s else (s, None)

    liaisons = data["liaisons"]
    # cycles: delegate-member both ways between two delegates; committee member <-> delegate
    if len(dels) >= 2 and draw(st.booleans()):
        a, b = draw(st.permutations(dels))[:2]
        liaisons += [{"kind": "delegate-member", "from_id": a, "to_id": b,
                      "since": None, "until": None},
                     {"kind": "delegate-member", "from_id": b, "to_id": a,
                      "since": None, "until": None}]
    both = [p for p in cms if p in dels]
    if both and len(dels) >= 2 and draw(st.booleans()):
        a = draw(st.sampled_from(both))
        b = draw(st.sampled_from([d for d in dels if d != a]))
        liaisons.append({"kind": "committee_member-delegate", "from_id": a, "to_id": b,
                         "since": None, "until": None})
        if b in cms:
            liaisons.append({"kind": "committee_member-delegate", "from_id": b, "to_id": a,
                             "since": None, "until": None})
    # a household shared by several members
    if len(pids) >= 2 and draw(st.booleans()):
        h = draw(st.sampled_from(hids))
        for m in draw(st.lists(st.sampled_from(pids), min_size=2, max_size=4, unique=True)):
            s, u = span()
            liaisons.append({"kind": "member-household", "from_id": m, "to_id": h,
                             "since": s, "until": u})
    # a full chain, so that some households are covered
    if dels and cms and draw(st.booleans()):
        c, d_ = draw(st.sampled_from(cms)), draw(st.sampled_from(dels))
        m, h = draw(st.sampled_from(pids)), draw(st.sampled_from(hids))
        if c != d_ and d_ != m:
            liaisons += [{"kind": "committee_member-delegate", "from_id": c, "to_id": d_,
                          "since": None, "until": None},
                         {"kind": "delegate-member", "from_id": d_, "to_id": m,
                          "since": None, "until": None},
                         {"kind": "member-household", "from_id": m, "to_id": h,
                          "since": None, "until": None}]
    # duplicate rows: the later row's dates are used
    for row in draw(st.lists(st.sampled_from(liaisons), max_size=3)) if liaisons else []:
        s, u = span()
        liaisons.append({**row, "since": s, "until": u})
    # contacts on the stale bounds and after as_of; some duplicated
    contacts = data["contacts"]
    for _ in range(draw(st.integers(0, 12))):
        contacts.append({"person_id": draw(st.sampled_from(pids)),
                         "household_id": draw(st.sampled_from(hids)),
                         "date": draw(st.sampled_from(CONTACT_DAYS)),
                         "channel": draw(st.sampled_from(["visit", "phone", "meeting", "other"])),
                         "request": draw(st.sampled_from([None, "申请低保"])),
                         "resolved": draw(st.booleans())})
    contacts += draw(st.lists(st.sampled_from(contacts), max_size=2)) if contacts else []
    # a second import: some people lose roles they start liaisons with
    later = []
    for p in people:
        if p["roles"] and draw(st.integers(0, 4)) == 0:
            later.append({**p, "roles": draw(st.lists(st.sampled_from(p["roles"]), unique=True))})
    return data, later


def _load(store: Store, data: dict[str, list[dict[str, Any]]], later: list[dict[str, Any]],
          folder: Path) -> None:
    write_bundle(data, folder / "in")
    r = import_path(store, folder / "in")
    assert r.ok, [str(p) for p in r.errors]
    if later:
        write_bundle({"people": later}, folder / "later")
        r = import_path(store, folder / "later")
        assert r.ok, [str(p) for p in r.errors]


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(drawn=rule_bundles())
def test_every_rule_method_is_the_same_on_both_stores(
        drawn: tuple[dict[str, list[dict[str, Any]]], list[dict[str, Any]]],
        neo4j_shared: Store) -> None:
    from tests_support import clear

    data, later = drawn
    neo = neo4j_shared
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        emb = EmbeddedStore(t / "emb")
        try:
            clear(neo)
            _load(emb, data, later, t / "a")
            _load(neo, data, later, t / "b")
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
        finally:
            emb.close()
