"""Repair plans (graphsvc.analysis.repair): the min-cost-flow solver, the plan on both stores,
and applying it.

- The solver, on its own: it never breaks a rule (groups, room, nobody for themselves), it
  assigns as many as can be, focus first, at the least cost (checked against every possible
  assignment of small random cases), and it does better than greedy where greedy goes wrong.
- The plan: the same facts and the same plan on both stores (tiny county, the generated
  county); applied, every household it targets is covered except those it lists as
  unassigned, and for those no member of their village or township with a whole chain has
  room under the cap (an oracle built from the store's own audits, not from the plan's facts).
- The person mode: the plan made before a person leaves, applied after they left, covers what
  they orphaned.
- The API and the CLI: the same body; township keys see and change their township only; the
  write is one import with the key in the audit log; applying twice writes nothing.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests_support.data import AS_OFS, drawn_in_both, rule_bundles
from typer.testing import CliRunner

from graphsvc import rules as R
from graphsvc.analysis import repair
from graphsvc.analysis.repair import Giver, Want, assign, assign_greedy
from graphsvc.api import create_app
from graphsvc.auditlog import Actor
from graphsvc.bundle.writer import write_bundle
from graphsvc.config import Settings
from graphsvc.importer import import_path
from graphsvc.keys import KeyStore, Role
from graphsvc.rules import RuleSettings
from graphsvc.stores.base import Store
from graphsvc.stores.embedded import EmbeddedStore

DAY = dt.date(2026, 6, 30)
RULES = RuleSettings()


def slot(n: int) -> int:
    return 10 * n if n <= 3 else 100 + 10 * n


# -- the solver ---------------------------------------------------------------------------------


def _check_rules(wants: list[Want], givers: list[Giver], done: list[repair.Assigned],
                 left: list[str]) -> None:
    by_id = {g.id: g for g in givers}
    assert sorted([a.want for a in done] + left) == sorted(w.id for w in wants)
    taken: dict[str, int] = {}
    wmap = {w.id: w for w in wants}
    for a in done:
        g = by_id[a.giver]
        assert a.giver != a.want
        assert a.group in g.groups and a.group in dict(wmap[a.want].groups)
        taken[a.giver] = taken.get(a.giver, 0) + 1
    for gid, n in taken.items():
        assert n <= by_id[gid].room


def _best(wants: list[Want], givers: list[Giver]) -> tuple[int, int]:
    """(total weight assigned, least cost at that weight) over every possible assignment."""
    options = []
    for w in wants:
        opts: list[tuple[str, int] | None] = [None]
        for g in givers:
            shared = [c for grp, c in w.groups if grp in g.groups]
            if shared and g.id != w.id:
                opts.append((g.id, min(shared)))
        options.append(opts)
    best = (0, 0)
    for choice in itertools.product(*options):
        count: dict[str, int] = {}
        cost = weight = 0
        for w, c in zip(wants, choice):
            if c is None:
                continue
            count[c[0]] = count.get(c[0], 0) + 1
            cost += c[1]
            weight += w.weight
        room = {g.id: g for g in givers}
        if any(n > room[g].room for g, n in count.items()):
            continue
        cost += sum(slot(room[g].load + j) for g, n in count.items() for j in range(1, n + 1))
        if (weight, -cost) > (best[0], -best[1]):
            best = (weight, cost)
    return best


GROUPS = [("v", "V1"), ("v", "V2"), ("t", "T1")]


@st.composite
def instances(draw: st.DrawFn) -> tuple[list[Want], list[Giver]]:
    givers = []
    for i in range(draw(st.integers(0, 4))):
        groups = tuple(draw(st.lists(st.sampled_from(GROUPS), min_size=1, max_size=2, unique=True)))
        load = draw(st.integers(0, 5))
        givers.append(Giver(f"G{i}", groups, load, draw(st.integers(0, 3))))
    wants = []
    for i in range(draw(st.integers(0, 5))):
        groups = draw(st.lists(st.sampled_from(GROUPS), min_size=1, max_size=3, unique=True))
        wid = draw(st.sampled_from([f"W{i}", f"W{i}", "G0"])) if i == 0 else f"W{i}"
        wants.append(Want(wid, draw(st.integers(1, 3)),
                          [(g, 1000 if g[0] == "t" else draw(st.integers(0, 5))) for g in groups]))
    return wants, givers


@settings(max_examples=300, deadline=None)
@given(case=instances())
def test_the_flow_is_optimal_on_small_cases(case: tuple[list[Want], list[Giver]]) -> None:
    wants, givers = case
    done, left = assign(wants, givers, slot)
    _check_rules(wants, givers, done, left)
    weight = {w.id: w.weight for w in wants}
    got = (sum(weight[a.want] for a in done), sum(a.cost for a in done))
    assert got == _best(wants, givers)
    g_done, g_left = assign_greedy(wants, givers, slot)
    _check_rules(wants, givers, g_done, g_left)
    greedy = (sum(weight[a.want] for a in g_done), sum(a.cost for a in g_done))
    assert (got[0], -got[1]) >= (greedy[0], -greedy[1])


@st.composite
def village_instances(draw: st.DrawFn) -> tuple[list[Want], list[Giver]]:
    """Shaped like a plan's third step: households of villages V1..V3 (cost 0) in township T1
    (the township's cost, above any difference of places), members of a village and the
    township with loads and room; often room enough in every village, sometimes not."""
    tcost = slot(5) + 100
    villages = [("v", f"V{i}") for i in range(1, 4)]
    givers = [Giver(f"G{i}", (draw(st.sampled_from(villages)), ("t", "T1")),
                    (load := draw(st.integers(0, 4))), 5 - load)
              for i in range(draw(st.integers(0, 6)))]
    wants = [Want(f"H{i}", draw(st.integers(1, 4)),
                  [(draw(st.sampled_from(villages)), 0), (("t", "T1"), tcost)])
             for i in range(draw(st.integers(0, 12)))]
    return wants, givers


@settings(max_examples=300, deadline=None)
@given(case=village_instances())
def test_the_fast_path_is_the_networks_optimum(case: tuple[list[Want], list[Giver]],
                                               ) -> None:
    """``_fast_flow`` (no network simplex, when it can prove its flow optimal) assigns the same
    wants' weight at the same cost as the network solved, and breaks no rule."""
    wants, givers = case
    fast = assign(wants, givers, slot)
    _check_rules(wants, givers, *fast)
    repair.FAST_PATH = False
    try:
        net = assign(wants, givers, slot)
    finally:
        repair.FAST_PATH = True
    weight = {w.id: w.weight for w in wants}
    assert sorted(fast[1]) == sorted(net[1]) or \
        sum(weight[w] for w in fast[1]) == sum(weight[w] for w in net[1])
    assert sum(a.cost for a in fast[0]) == sum(a.cost for a in net[0])
    assert len(fast[0]) == len(net[0])


def test_the_fast_path_is_taken_when_every_village_has_room(monkeypatch: pytest.MonkeyPatch,
                                                            ) -> None:
    """Every village has room for its households: no network is solved, and the flow is that of
    the network (the least loaded first, each household in its village)."""
    calls: list[int] = []
    real = repair.nx.min_cost_flow
    monkeypatch.setattr(repair.nx, "min_cost_flow", lambda F: calls.append(1) or real(F))
    t = ("t", "T1")
    givers = [Giver("A", (("v", "V1"), t), 3, 2), Giver("B", (("v", "V1"), t), 0, 5),
              Giver("C", (("v", "V2"), t), 0, 5)]
    wants = [Want(f"H{i}", 1 + i % 2, [(("v", "V1" if i < 3 else "V2"), 0), (t, 1000)])
             for i in range(5)]
    done, left = assign(wants, givers, slot)
    assert calls == [] and left == []
    assert sorted((a.want, a.giver) for a in done) == [
        ("H0", "B"), ("H1", "B"), ("H2", "B"), ("H3", "C"), ("H4", "C")]
    assert sorted(a.load_after for a in done if a.giver == "B") == [1, 2, 3]
    repair.FAST_PATH = False
    try:
        net, _ = assign(wants, givers, slot)
    finally:
        repair.FAST_PATH = True
    assert calls and sum(a.cost for a in net) == sum(a.cost for a in done)
    # one village short of room: the network is solved
    calls.clear()
    assign(wants + [Want("H9", 1, [(("v", "V2"), 0), (t, 1000)])],
           [*givers[:2], Giver("C", (("v", "V2"), t), 0, 2)], slot)
    assert calls


def test_the_flow_does_better_than_greedy() -> None:
    """The focus household F (village V3, no member there) may take X (V1) or Y (V2) at the
    township's cost; the ordinary household H (V1) may take X in its village. Greedy serves F
    first and gives it X (lower id), which sends H to Y across the township; the flow gives F
    Y and H X."""
    X = Giver("X", (("v", "V1"), ("t", "T1")), 1, 1)
    Y = Giver("Y", (("v", "V2"), ("t", "T1")), 1, 1)
    F = Want("F", 2, [(("v", "V3"), 0), (("t", "T1"), 1000)])
    H = Want("H", 1, [(("v", "V1"), 0), (("t", "T1"), 1000)])
    done, _ = assign([F, H], [X, Y], slot)
    assert {(a.want, a.giver) for a in done} == {("F", "Y"), ("H", "X")}
    g_done, _ = assign_greedy([F, H], [X, Y], slot)
    assert {(a.want, a.giver) for a in g_done} == {("F", "X"), ("H", "Y")}
    assert sum(a.cost for a in done) < sum(a.cost for a in g_done)


def test_focus_first_least_loaded_first_and_the_room() -> None:
    a = Giver("A", (("v", "V1"),), 3, 1)  # at households_per_member: room for one
    b = Giver("B", (("v", "V1"),), 1, 2)  # under: asked first
    ws = [Want(f"H{i}", 1, [(("v", "V1"), 0)]) for i in range(3)] + [
        Want("F1", 2, [(("v", "V1"), 0)]), Want("F2", 4, [(("v", "V1"), 0)])]
    done, left = assign(ws, [a, b], slot)
    assert {x.want for x in done} == {"F2", "F1", "H0"}  # three places: the focus ones first
    assert sorted(left) == ["H1", "H2"]
    by_giver = {}
    for x in done:
        by_giver.setdefault(x.giver, []).append(x.load_after)
    assert sorted(by_giver["B"]) == [2, 3] and by_giver["A"] == [4]


def test_nobody_is_proposed_for_themselves() -> None:
    """A delegate without a committee member who is one themselves: another one is chosen, and
    when there is none, nobody."""
    ws = [Want("C1", 1, [(("county",), 0)])]
    done, left = assign(ws, [Giver("C1", (("county",),), 0, 1)], slot)
    assert done == [] and left == ["C1"]
    done, left = assign(ws, [Giver("C1", (("county",),), 0, 1), Giver("C2", (("county",),), 5, 1)],
                        slot)
    assert [(x.want, x.giver) for x in done] == [("C1", "C2")]


# -- the plan on both stores --------------------------------------------------------------------


def _load(store: Store, bundle: Path) -> Store:
    report = import_path(store, bundle)
    assert report.ok, [str(p.message) for p in report.errors[:5]]
    return store


def _townships(store: Store) -> list[str]:
    return sorted(n for n, a in store.graph().nodes(data=True) if a["entity"] == "township")


def _people(store: Store) -> list[str]:
    return sorted(n for n, a in store.graph().nodes(data=True) if a["entity"] == "person")


def test_tiny_county_same_facts_and_plans_on_both_stores(make_store: Any, tiny_dir: Path) -> None:
    emb = _load(make_store("embedded"), tiny_dir)
    neo = _load(make_store("neo4j"), tiny_dir)
    for day in (dt.date(2025, 7, 20), DAY):
        for towns in (None, ["T1"], []):
            assert repair.people_facts(emb, day, towns, ["H001", "M01"]) == \
                repair.people_facts(neo, day, towns, ["H001", "M01"])
        for township_id in (None, *_townships(emb)):
            for cap in (5, 3):
                assert repair.plan(emb, day, RULES, township_id=township_id, cap=cap) == \
                    repair.plan(neo, day, RULES, township_id=township_id, cap=cap)
        for p in _people(emb):
            assert (repair.plan(emb, day, RULES, person_id=p)
                    == repair.plan(neo, day, RULES, person_id=p))


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(drawn=rule_bundles())
def test_random_bundles_same_facts_and_plans_on_both_stores(
        drawn: tuple[dict[str, list[dict[str, Any]]], list[dict[str, Any]]],
        neo4j_shared: Store) -> None:
    data, later = drawn
    with drawn_in_both(data, later, neo4j_shared) as emb:
        township = data["townships"][-1]["id"]
        people = _people(emb)
        for day in AS_OFS:
            for towns in (None, [township], []):
                assert repair.people_facts(emb, day, towns, people[:2]) == \
                    repair.people_facts(neo4j_shared, day, towns, people[:2]), (day, towns)
            for tid in (None, township):
                assert repair.uncovered(emb, day, RULES, tid) == \
                    repair.uncovered(neo4j_shared, day, RULES, tid), (day, tid)
                for cap in (5, 1):
                    assert repair.plan(emb, day, RULES, township_id=tid, cap=cap) == \
                        repair.plan(neo4j_shared, day, RULES, township_id=tid, cap=cap)
            for p in people[:4]:
                assert repair.plan(emb, day, RULES, person_id=p) == \
                    repair.plan(neo4j_shared, day, RULES, person_id=p), (day, p)


def _covered_after(store: Store, ids: list[str]) -> dict[str, str]:
    _, rows = store.households(DAY, RULES, household_ids=ids)
    return {r["household_id"]: r["status"] for r in rows}


def test_tiny_county_plan_applied_covers_every_household(store: Store, tiny_dir: Path) -> None:
    _load(store, tiny_dir)
    plan = repair.plan(store, DAY, RULES)
    targeted = [r["household_id"] for r in store.households(DAY, RULES, status="uncovered")[1]]
    assert plan["households"]["targeted"] == len(targeted) > 0
    kinds = {i["kind"] for i in plan["items"]}
    assert kinds == set(repair.KINDS)  # the tiny county has every kind of break
    assert plan["unassigned"] == []
    report, written = repair.apply_items(store, plan["items"], DAY,
                                         actor=Actor("api", "K1", "test", "editor"))
    assert report.ok and len(written) == len(plan["items"])
    assert set(_covered_after(store, targeted).values()) <= {"covered", "stale"}
    assert store.households(DAY, RULES, status="uncovered")[0] == 0
    assert store.member_audit(DAY, RULES) and not any(
        "no_delegate" in m["problems"] for m in store.member_audit(DAY, RULES))
    assert not any("no_committee_member" in d["problems"] for d in store.delegate_audit(DAY, RULES))
    total, entries = store.audit_entries(key_id="K1")
    assert total == 1 and entries[0]["files"] == {"liaisons": len(written)}
    # applied again: every liaison counts already, nothing is written
    report, written = repair.apply_items(store, plan["items"], DAY)
    assert report.ok and written == []
    assert store.audit_entries(key_id="K1")[0] == 1
    assert repair.plan(store, DAY, RULES)["items"] == []


def _fresh(store: Store, tmp_path: Path, tiny_dir: Path, n: int) -> Store:
    if store.kind == "neo4j":
        from tests_support import clear

        clear(store)
        return _load(store, tiny_dir)
    return _load(EmbeddedStore(tmp_path / f"fresh{n}"), tiny_dir)


def test_person_plan_made_before_they_leave_covers_what_they_orphan(store: Store, tmp_path: Path,
                                                                   tiny_dir: Path) -> None:
    _load(store, tiny_dir)
    leaving = [p for p in _people(store) if store.impact(p, DAY, RULES)]
    assert len(leaving) >= 10
    for n, p in enumerate(leaving):
        s = _fresh(store, tmp_path, tiny_dir, n)
        lost = [h["household_id"] for h in s.impact(p, DAY, RULES)]
        plan = repair.plan(s, DAY, RULES, person_id=p)
        assert plan["households"]["targeted"] == len(lost)
        assert all(p not in (i["from_id"], i["to_id"]) for i in plan["items"])
        # they leave; the plan is applied
        _kind, rec = s.fetch_entities([p])[p]
        write_bundle({"people": [{**rec, "status": "inactive", "inactive_since": DAY}]},
                     tmp_path / f"leave{n}")
        _load(s, tmp_path / f"leave{n}")
        report, _ = repair.apply_items(s, plan["items"], DAY)
        assert report.ok, [e.message for e in report.errors]
        unassigned = {u["household_id"] for u in plan["unassigned"]}
        after = _covered_after(s, lost)
        assert {h for h, st_ in after.items() if st_ == "uncovered"} == unassigned, p
        if s is not store:
            s.close()


# -- the generated county -----------------------------------------------------------------------


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from graphsvc.generate import generate_bundle

    path = tmp_path_factory.mktemp("generated") / "county"
    generate_bundle(path, counties=1, seed=1)
    return path


def _takers(store: Store, day: dt.date, cap: int) -> dict[tuple[str, str], set[str]]:
    """Oracle, from the store's own audits: the members with a whole chain (an active delegate
    with an active committee member) and fewer than ``cap`` households, by ("v", village) and
    ("t", township)."""
    G = store.graph()
    members = store.member_audit(day, RULES)
    delegates = {d["delegate_id"]: d for d in store.delegate_audit(
        day, RULES, ids={d for m in members for d in m["delegate_ids"]})}
    out: dict[tuple[str, str], set[str]] = {}
    for m in members:
        whole = any(delegates[d]["committee_member_ids"] for d in m["delegate_ids"])
        if whole and m["household_count"] < cap:
            for key in (("v", R.village_of(G, m["member_id"])), ("t", m["township_id"])):
                out.setdefault(key, set()).add(m["member_id"])  # type: ignore[arg-type]
    return out


def test_generated_county_same_plan_on_both_stores_and_applied(
        make_store: Any, generated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    emb = _load(make_store("embedded"), generated)
    neo = _load(make_store("neo4j"), generated)
    assert repair.people_facts(emb, DAY, None) == repair.people_facts(neo, DAY, None)
    town = _townships(emb)[0]
    plans = {}
    for kw in ({}, {"township_id": town}, {"cap": 3}):
        plans[str(kw)] = a = repair.plan(emb, DAY, RULES, **kw)
        assert a == repair.plan(neo, DAY, RULES, **kw), kw
    # a tight cap: the plan leaves households out, and only where nobody had room
    tight = plans[str({"cap": 3})]
    assert tight["unassigned"], "cap 3 leaves some households uncovered in the generated county"
    load_after: dict[str, int] = {}
    for i in tight["items"]:
        if i["kind"] == "member-household":
            load_after[i["from_id"]] = max(load_after.get(i["from_id"], 0),
                                           int(i["reason"].split("→")[1].split("户")[0]))
    assert all(n <= 3 for n in load_after.values())
    # every unassigned household: each member who could take it is full after the plan
    takers = _takers(emb, DAY, 3)
    _, rows = emb.households(DAY, RULES,
                             household_ids=[u["household_id"] for u in tight["unassigned"]])
    for r in rows:
        could = (takers.get(("v", r["village_id"]), set())
                 | takers.get(("t", r["township_id"]), set()))
        assert could <= set(load_after), (r["household_id"], could - set(load_after))
    # the county plan, applied to each store
    full = plans[str({})]
    for s in (emb, neo):
        before = {m["member_id"]: m["household_count"] for m in s.member_audit(DAY, RULES)}
        report, written = repair.apply_items(s, full["items"], DAY)
        assert report.ok and len(written) == len(full["items"])
        _total, rows = s.households(DAY, RULES, status="uncovered")
        left = {r["household_id"] for r in rows}
        assert left == {u["household_id"] for u in full["unassigned"]}
        takers = _takers(s, DAY, repair.DEFAULT_CAP)
        for r in rows:  # nobody of its village or township with a whole chain has room left
            assert not takers.get(("v", r["village_id"]))
            assert not takers.get(("t", r["township_id"]))
        after = {m["member_id"]: m["household_count"] for m in s.member_audit(DAY, RULES)}
        assert all(n <= max(repair.DEFAULT_CAP, before.get(m, 0)) for m, n in after.items())
    with capsys.disabled():
        print(f"\n[generated county] targeted {full['households']['targeted']}, covered by the "
              f"plan {full['households']['covered_by_plan']}, left uncovered "
              f"{len(full['unassigned'])}; cap 3: {len(tight['unassigned'])} left")


# -- the API and the CLI ------------------------------------------------------------------------


@pytest.fixture
def tiny(store: Store, tiny_dir: Path) -> Store:
    return _load(store, tiny_dir)


@pytest.fixture
def client(tiny: Store, tmp_path: Path) -> Iterator[tuple[TestClient, KeyStore]]:
    s = Settings(data_dir=tmp_path / "api", neo4j_uri=None)
    with TestClient(create_app(s, store=tiny)) as c:
        yield c, KeyStore(tmp_path / "api")


def _auth(keys: KeyStore, role: Role = Role.ADMIN, *townships: str) -> tuple[str, dict[str, str]]:
    key, token = keys.create(role, townships=townships)
    return key.id, {"Authorization": f"Bearer {token}"}


def test_api_plan(client: tuple[TestClient, KeyStore], tiny: Store) -> None:
    c, keys = client
    _, admin = _auth(keys)
    body = c.get("/api/v1/repair-plans", headers=admin, params={"as_of": "2026-06-30"}).json()
    assert body == repair.plan(tiny, DAY, RULES)
    assert {"as_of", "township_id", "items", "unassigned"} <= set(body)
    assert {"kind", "from_id", "to_id", "reason", "cost"} <= set(body["items"][0])
    capped = c.get("/api/v1/repair-plans", headers=admin,
                   params={"as_of": "2026-06-30", "township_id": "T2", "cap": 2}).json()
    assert capped == repair.plan(tiny, DAY, RULES, township_id="T2", cap=2)
    person = c.get("/api/v1/repair-plans", headers=admin,
                   params={"as_of": "2026-06-30", "person_id": "D1"}).json()
    assert person == repair.plan(tiny, DAY, RULES, person_id="D1") and person["person_id"] == "D1"
    assert c.get("/api/v1/repair-plans", headers=admin,
                 params={"person_id": "nobody"}).status_code == 404
    assert c.get("/api/v1/repair-plans", headers=admin, params={"cap": 0}).status_code == 422
    assert c.get("/api/v1/repair-plans").status_code == 401


def test_api_township_keys(client: tuple[TestClient, KeyStore], tiny: Store) -> None:
    c, keys = client
    _, viewer = _auth(keys, Role.VIEWER, "T1")
    body = c.get("/api/v1/repair-plans", headers=viewer, params={"as_of": "2026-06-30"}).json()
    assert body == repair.plan(tiny, DAY, RULES, township_id="T1")
    assert c.get("/api/v1/repair-plans", headers=viewer,
                 params={"township_id": "T2"}).status_code == 403
    t2_person = next(p for p in _people(tiny) if p.startswith("D") and
                     R.township_of(tiny.graph(), p) == "T2")
    assert c.get("/api/v1/repair-plans", headers=viewer,
                 params={"person_id": t2_person}).status_code == 404
    items = [{k: i[k] for k in ("kind", "from_id", "to_id")} for i in body["items"]]
    assert c.post("/api/v1/repair-plans/apply", headers=viewer,
                  json={"items": items}).status_code == 403


def test_api_apply(client: tuple[TestClient, KeyStore], tiny: Store) -> None:
    c, keys = client
    key_id, editor = _auth(keys, Role.EDITOR, "T1")
    plan = c.get("/api/v1/repair-plans", headers=editor, params={"as_of": "2026-06-30"}).json()
    t2 = repair.plan(tiny, DAY, RULES, township_id="T2")
    outside = next(i for i in t2["items"] if i["kind"] == "member-household")
    before = tiny.records()
    # one item outside the key's township: 403, nothing written
    r = c.post("/api/v1/repair-plans/apply", headers=editor,
               json={"since": "2026-06-30", "items": plan["items"] + [outside]})
    assert r.status_code == 403, r.text
    # an item the rules refuse: 422, nothing written
    bad = {"kind": "delegate-member", "from_id": "M01", "to_id": plan["items"][0]["to_id"]}
    r = c.post("/api/v1/repair-plans/apply", headers=editor,
               json={"since": "2026-06-30", "items": plan["items"] + [bad]})
    assert r.status_code == 422, r.text
    assert tiny.records() == before
    # the whole plan (items as the plan gives them): one write, logged under the key
    r = c.post("/api/v1/repair-plans/apply", headers=editor,
               json={"since": "2026-06-30", "items": plan["items"]})
    assert r.status_code == 200, r.text
    assert r.json()["applied"] == len(plan["items"]) > 0
    total, entries = tiny.audit_entries(key_id=key_id)
    assert total == 1 and entries[0]["files"] == {"liaisons": len(plan["items"])}
    assert tiny.households(DAY, RULES, status="uncovered", township_id="T1")[0] == 0
    # applied again: nothing to write is refused (409) with why, not answered as a success
    after = tiny.records()
    again = c.post("/api/v1/repair-plans/apply", headers=editor,
                   json={"since": "2026-06-30", "items": plan["items"]})
    assert again.status_code == 409, again.text
    detail = again.json()["detail"]
    assert detail.startswith(f"nothing was written: all {len(plan['items'])} liaisons given "
                             "already count on 2026-06-30"), detail
    first = plan["items"][0]
    assert f"{first['kind']} {first['from_id']} → {first['to_id']}" in detail
    assert tiny.records() == after and tiny.audit_entries(key_id=key_id)[0] == 1
    # one of them again, on a later day: still counts, still refused, named
    one = c.post("/api/v1/repair-plans/apply", headers=editor,
                 json={"since": "2026-07-15", "items": [first, first]})
    assert one.status_code == 409 and "the liaison given already counts on 2026-07-15" in \
        one.json()["detail"]
    assert c.post("/api/v1/repair-plans/apply", headers=editor,
                  json={"items": []}).status_code == 422


def test_api_apply_part_of_an_applied_plan(client: tuple[TestClient, KeyStore],
                                           tiny: Store) -> None:
    """Some items already applied, some not: only the new ones are written (200)."""
    c, keys = client
    _, admin = _auth(keys)
    items = [{k: i[k] for k in ("kind", "from_id", "to_id")}
             for i in repair.plan(tiny, DAY, RULES)["items"]]
    assert len(items) > 1
    r = c.post("/api/v1/repair-plans/apply", headers=admin,
               json={"since": "2026-06-30", "items": items[:1]})
    assert r.status_code == 200 and r.json()["applied"] == 1
    r = c.post("/api/v1/repair-plans/apply", headers=admin,
               json={"since": "2026-06-30", "items": items})
    assert r.status_code == 200, r.text
    assert r.json()["applied"] == len(items) - 1 and r.json()["items"] == items[1:]


def test_cli_plan_json_and_apply(tiny: Store, client: tuple[TestClient, KeyStore],
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from graphsvc import cli
    from graphsvc.cli import common
    from graphsvc.config import get_settings

    c, keys = client
    _, admin = _auth(keys)
    monkeypatch.setattr(common, "open_store", lambda _settings: _Unclosed(tiny))
    get_settings.cache_clear()
    try:
        args = ["repair", "plan", "--township-id", "T1", "--as-of", "2026-06-30"]
        res = CliRunner().invoke(cli.app, [*args, "--format", "json"])
        assert res.exit_code == 0, res.output
        api = c.get("/api/v1/repair-plans", headers=admin,
                    params={"as_of": "2026-06-30", "township_id": "T1"}).json()
        assert json.loads(res.stdout) == api
        res = CliRunner().invoke(cli.app, [*args, "--apply"])
        assert res.exit_code == 0, res.output
        assert tiny.households(DAY, RULES, status="uncovered", township_id="T1")[0] == 0
        _total, entries = tiny.audit_entries()
        assert entries[0]["via"] == "cli" and entries[0]["files"] == {"liaisons": len(api["items"])}
        res = CliRunner().invoke(cli.app, ["repair", "plan", "--person-id", "nobody"])
        assert res.exit_code == 1
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


