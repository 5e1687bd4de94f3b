"""County-wide results kept across writes (graphsvc.derived, over the store's change log) and the
embedded store's graph kept across writes (graphsvc.stores.incremental) give exactly what a
fresh computation on the stored data gives, after every kind of write, on both stores, with
writes and reads in different store objects (as in different worker processes).

A random walk of clerks' writes (contacts, people and households changed, left and moved,
focus categories changed, liaisons added and ended, new households and people, supports,
pairings, a village renamed) runs against the tiny county; after each write the store's
county-wide list, summary and audits are compared with a store object that has kept nothing.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

from graphsvc.bundle.validate import Bundle
from graphsvc.config import Settings
from graphsvc.derived import Derived
from graphsvc.graph import build_graph
from graphsvc.importer import import_path
from graphsvc.stores.base import Store
from graphsvc.stores.embedded import EmbeddedStore
from graphsvc.stores.incremental import affected, apply_bundle

RULES = Settings().rules()
DAYS = [dt.date(2026, 6, 30), dt.date(2026, 12, 31)]
KINDS = ["contact", "person", "leader", "household", "focus", "liaison", "end_liaison",
         "new_household", "new_person", "support", "pairing", "village", "several"]
FOCUS = ["military_martyr", "extreme_poverty", "empty_nest_elderly", "poor"]


def _fresh(store: Store, tmp_path: Path, neo4j_env: dict[str, str] | None) -> Store:
    """Another store object on the same data, with nothing kept."""
    if isinstance(store, Derived):
        store = store.store
    if isinstance(store, EmbeddedStore):
        return EmbeddedStore(store.path.parent)
    from graphsvc.stores.neo4j import Neo4jStore

    assert neo4j_env is not None
    return Neo4jStore(neo4j_env["GRAPHSVC_NEO4J_URI"],
                      neo4j_env.get("GRAPHSVC_NEO4J_USER", "neo4j"),
                      neo4j_env.get("GRAPHSVC_NEO4J_PASSWORD"))


def _county(store: Store, as_of: dt.date) -> dict[str, Any]:
    return {
        "households": store.households(as_of, RULES),
        "uncovered": store.households(as_of, RULES, status="uncovered", limit=7, offset=3),
        "focus": store.households(as_of, RULES, focus_only=True, reason="no_member"),
        "summary": store.summary(as_of, RULES),
        "delegates": store.delegate_audit(as_of, RULES),
        "members": store.member_audit(as_of, RULES),
        "committee_members": store.committee_member_audit(as_of, RULES),
        **_local(store, as_of),
    }


def _local(store: Store, as_of: dt.date) -> dict[str, Any]:
    """Every township's and village's lists and audits (answered from the kept county-wide
    rows when they are kept, by the store's own query otherwise)."""
    rec = store.records()
    out: dict[str, Any] = {}
    for t in sorted(r["id"] for r in rec["townships"]) + ["T-none"]:
        out[f"households {t}"] = store.households(as_of, RULES, township_id=t)
        out[f"uncovered {t}"] = store.households(as_of, RULES, township_id=t,
                                                 status="uncovered", limit=3, offset=1)
        out[f"delegates {t}"] = store.delegate_audit(as_of, RULES, township_id=t)
        out[f"members {t}"] = store.member_audit(as_of, RULES, township_id=t)
        out[f"committee_members {t}"] = store.committee_member_audit(as_of, RULES,
                                                                     township_id=t)
    for v in sorted(r["id"] for r in rec["villages"]):
        out[f"households {v}"] = store.households(as_of, RULES, village_id=v, focus_only=True)
    return out


def same_graph(A: nx.MultiDiGraph, B: nx.MultiDiGraph) -> list[str]:
    """Differences between two graphs' nodes, attributes and edges (empty when equal): for
    tests holding ``apply_bundle`` to ``build_graph``."""
    out: list[str] = []
    if dict(A.nodes(data=True)) != dict(B.nodes(data=True)):
        a, b = dict(A.nodes(data=True)), dict(B.nodes(data=True))
        out += [f"node {n}: {a.get(n)} != {b.get(n)}" for n in sorted(set(a) | set(b), key=str)
                if a.get(n) != b.get(n)][:10]
    ea = {(u, v, k): d for u, v, k, d in A.edges(keys=True, data=True)}
    eb = {(u, v, k): d for u, v, k, d in B.edges(keys=True, data=True)}
    if ea != eb:
        out += [f"edge {e}: {ea.get(e)} != {eb.get(e)}" for e in sorted(set(ea) | set(eb), key=str)
                if ea.get(e) != eb.get(e)][:10]
    pa = {(u, v, k) for u, v, k in A.in_edges(keys=True)}
    if pa != set(ea):
        out.append("predecessor maps differ from successor maps")
    return out


class Clerk:
    """Random writes of every kind a clerk or an import makes, on records that exist."""

    def __init__(self, store: Store, seed: int) -> None:
        self.rng = random.Random(seed)
        self.store = store
        self.n = 0
        self.plan = self.rng.sample(KINDS, k=len(KINDS))  # every kind once, then at random

    def _records(self) -> dict[str, list[dict[str, Any]]]:
        return self.store.records()

    def write(self) -> tuple[str, Bundle]:
        rec = self._records()
        rng = self.rng
        people, households = rec["people"], rec["households"]
        villages = [v["id"] for v in rec["villages"]]
        members = sorted({r["from_id"] for r in rec["liaisons"] if r["kind"] == "member-household"})
        delegates = [p["id"] for p in people if "delegate" in p["roles"]]
        cms = [p["id"] for p in people if "committee_member" in p["roles"]]
        day = dt.date(2026, rng.randint(1, 12), rng.randint(1, 28))
        self.n += 1
        what = self.plan.pop() if self.plan else rng.choice(KINDS + ["contact", "leader"])
        if what == "several":
            parts = [self.write()[1] for _ in range(3)]
            merged: dict[str, dict[Any, dict[str, Any]]] = {}
            for b in parts:  # one row per record, as a validated bundle has
                for name, rows in b.records.items():
                    for r in rows:
                        ident = r.get("id") or tuple(sorted((k, str(v)) for k, v in r.items()
                                                            if k not in ("since", "until")))
                        merged.setdefault(name, {})[ident] = r
            return "several", Bundle({k: list(v.values()) for k, v in merged.items()})
        if what == "contact":
            h = rng.choice(households)["id"]
            return what, Bundle({"contacts": [{
                "person_id": rng.choice(members), "household_id": h, "date": day,
                "channel": rng.choice(["visit", "phone"]), "request": f"困难 {self.n}",
                "resolved": rng.random() < 0.3}]})
        if what == "leader":  # a committee member or delegate leaves or comes back
            p = dict(rng.choice([p for p in people if p["id"] in set(cms) | set(delegates)]))
            if p["status"] == "active":
                p.update(status="inactive", inactive_since=day)
            else:
                p.update(status="active", inactive_since=None)
            return what, Bundle({"people": [p]})
        if what == "person":
            p = dict(rng.choice(people))
            change = rng.choice(["leave", "back", "move", "role"])
            if change == "leave":
                p.update(status="inactive", inactive_since=day)
            elif change == "back":
                p.update(status="active", inactive_since=None)
            elif change == "move":
                p.update(village_id=rng.choice(villages), township_id=None)
            else:
                p["roles"] = ([r for r in p["roles"] if r != "delegate"] if p["roles"]
                              else ["delegate"])
            return f"person-{change}", Bundle({"people": [p]})
        if what in ("household", "focus"):
            h = dict(rng.choice(households))
            if what == "focus":
                h["categories"] = rng.sample(FOCUS, k=rng.randint(0, 2))
            elif rng.random() < 0.5:
                h.update(status=rng.choice(["active", "inactive"]), inactive_since=day)
            else:
                h["village_id"] = rng.choice(villages)
            return what, Bundle({"households": [h]})
        if what == "liaison":
            kind = rng.choice(["member-household", "delegate-member", "committee_member-delegate"])
            frm = {"member-household": members, "delegate-member": delegates,
                   "committee_member-delegate": cms}[kind]
            to = {"member-household": [h["id"] for h in households],
                  "delegate-member": members, "committee_member-delegate": delegates}[kind]
            return what, Bundle({"liaisons": [{"kind": kind, "from_id": rng.choice(frm),
                                               "to_id": rng.choice(to), "since": day,
                                               "until": None}]})
        if what == "end_liaison":
            li = dict(rng.choice(rec["liaisons"]))
            li["until"] = day
            return what, Bundle({"liaisons": [li]})
        if what == "new_household":
            hid = f"HX{self.n}"
            return what, Bundle({
                "households": [{"id": hid, "head_name": "测试", "village_id": rng.choice(villages),
                                "categories": rng.sample(FOCUS, k=rng.randint(0, 1)), "size": 3,
                                "status": "active", "inactive_since": None, "phone": None,
                                "address": None}],
                "liaisons": [{"kind": "member-household", "from_id": rng.choice(members),
                              "to_id": hid, "since": None, "until": None}]})
        if what == "new_person":
            pid = f"PX{self.n}"
            return what, Bundle({
                "people": [{"id": pid, "name": "测试", "roles": ["delegate"], "status": "active",
                            "inactive_since": None, "hardship": False, "organization_id": None,
                            "township_id": None, "village_id": rng.choice(villages),
                            "phone": None}],
                "liaisons": [{"kind": "delegate-member", "from_id": pid,
                              "to_id": rng.choice(members),
                              "since": None, "until": None},
                             {"kind": "committee_member-delegate", "from_id": rng.choice(cms),
                              "to_id": pid, "since": day, "until": None}]})
        if what == "support":
            return what, Bundle({"supports": [{"person_id": rng.choice(people)["id"],
                                               "household_id": rng.choice(households)["id"],
                                               "since": day, "until": None}]})
        if what == "pairing":
            return what, Bundle({"pairings": [{"unit_id": rng.choice(rec["units"])["id"],
                                               "village_id": rng.choice(villages),
                                               "since": day, "until": None}]})
        v = dict(rng.choice(rec["villages"]))
        v["name"] = v["name"] + "新"
        return "village", Bundle({"villages": [v]})


@pytest.fixture
def tiny_raw(store: Store, tiny_dir: Path) -> Store:
    import_path(store, tiny_dir)
    return store


@pytest.fixture
def tiny_store(tiny_raw: Store, tmp_path: Path) -> Derived:
    """The tiny county behind the derived layer, publishing in ``tmp_path/derived``."""
    return Derived(tiny_raw, tmp_path / "derived", owns=False)


def _other(store: Derived, tmp_path: Path, env: dict[str, str] | None) -> Derived:
    """Another worker: its own store object and derived layer, sharing the derived folder."""
    return Derived(_fresh(store.store, tmp_path, env), store.published.folder)


@pytest.mark.parametrize("seed", [1, 2])
def test_kept_results_equal_a_fresh_computation_after_every_write(
        tiny_store: Store, tmp_path: Path, request: pytest.FixtureRequest, seed: int) -> None:
    store = tiny_store
    env = request.getfixturevalue("neo4j_env") if store.kind == "neo4j" else None
    for day in DAYS:
        _county(store, day)  # kept from here on
    clerk = Clerk(store, seed)
    kinds: set[str] = set()
    for step in range(30):
        what, bundle = clerk.write()
        kinds.add(what)
        store.write(bundle)
        fresh = _fresh(store, tmp_path, env)
        try:
            for day in DAYS:
                got, want = _county(store, day), _county(fresh, day)
                for name in want:
                    assert got[name] == want[name], f"step {step} ({what}), {day}: {name} differ"
        finally:
            fresh.close()
    assert set(KINDS) - {"person"} <= kinds, kinds
    assert store.mends > 0, "no write was mended in: the kept path was not exercised"
    if isinstance(store.store, EmbeddedStore):
        assert store.graph_builds == 1, "the graph was built again: it did not follow the writes"


@pytest.mark.parametrize("seed", [3])
def test_two_workers_writing_and_reading_stay_exact_without_computing_again(
        tiny_store: Derived, tmp_path: Path, request: pytest.FixtureRequest, seed: int) -> None:
    """Two workers (store objects with their own derived layers, one derived folder): writes
    through either are followed by both from the change log, every answer equals a fresh
    computation, and neither computes the county again after the first time."""
    a = tiny_store
    env = request.getfixturevalue("neo4j_env") if a.kind == "neo4j" else None
    b = _other(a, tmp_path, env)
    try:
        for day in DAYS:
            _county(a, day)
            _county(b, day)
        # the first full computation is shared: b loaded what a computed
        assert sum(b.computed.values()) == 0 and b.loads > 0
        computed = sum(a.computed.values())
        clerks = [Clerk(a, seed), Clerk(b, seed + 1)]
        for step in range(24):
            writer, reader = (a, b) if step % 2 == 0 else (b, a)
            what, bundle = clerks[step % 2].write()
            if what in ("village", "several", "pairing"):  # (those change everything or
                continue                                   # nothing kept: seen above)
            writer.write(bundle)
            fresh = _fresh(a.store, tmp_path, env)
            try:
                for day in DAYS:
                    want = _county(fresh, day)
                    for who in (reader, writer):
                        got = _county(who, day)
                        for name in want:
                            assert got[name] == want[name], f"step {step} ({what}), {day}: {name}"
            finally:
                fresh.close()
        assert sum(a.computed.values()) == computed, a.counters()
        assert sum(b.computed.values()) == 0, b.counters()
        assert a.mends > 0 and b.mends > 0
    finally:
        b.close()


def test_a_write_by_a_process_that_never_read_is_mended_in(
        tiny_store: Derived, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """A write from a process that has computed nothing (a CLI import, a worker whose first
    request is a write) is followed by the readers without computing the county again."""
    store = tiny_store
    env = request.getfixturevalue("neo4j_env") if store.kind == "neo4j" else None
    day = DAYS[0]
    _county(store, day)
    computed = dict(store.computed)
    rec = store.records()
    members = sorted({r["from_id"] for r in rec["liaisons"] if r["kind"] == "member-household"})
    cli = _fresh(store, tmp_path, env)  # no graph, nothing kept
    try:
        cli.write(Bundle({"contacts": [{
            "person_id": members[0], "household_id": rec["households"][0]["id"], "date": day,
            "channel": "visit", "request": "从命令行", "resolved": False}]}))
        got = _county(store, day)
        assert got == _county(cli, day)
    finally:
        cli.close()
    assert dict(store.computed) == computed, store.counters()


def test_a_broken_chain_computes_again(tiny_store: Derived, tmp_path: Path,
                                       request: pytest.FixtureRequest) -> None:
    """A write that changes everything (here: a new village) cannot be mended in: the kept
    results are dropped and computed afresh, and equal a fresh computation."""
    store = tiny_store
    env = request.getfixturevalue("neo4j_env") if store.kind == "neo4j" else None
    day = DAYS[0]
    _county(store, day)
    before = dict(store.computed)
    town = store.records()["townships"][0]["id"]
    store.write(Bundle({"villages": [{"id": "VX", "name": "新村", "township_id": town,
                                      "needs_pairing": True}]}))
    fresh = _fresh(store.store, tmp_path, env)
    try:
        assert _county(store, day) == _county(fresh, day)
    finally:
        fresh.close()
    assert store.drops > 0
    assert store.computed[("households", str(day))] == before[("households", str(day))] + 1


def test_a_hand_edit_is_seen_after_refresh(tiny_store: Derived, tmp_path: Path,
                                           request: pytest.FixtureRequest) -> None:
    """A change made to the data outside graphsvc (no new data version) is not seen by kept
    results; ``refresh`` (``graphsvc refresh``) records "everything changed", and every
    process computes afresh."""
    store = tiny_store
    env = request.getfixturevalue("neo4j_env") if store.kind == "neo4j" else None
    other = _other(store, tmp_path, env)
    day = DAYS[0]
    try:
        total, rows = store.households(day, RULES)
        assert other.households(day, RULES)[0] == total
        hid = rows[0]["household_id"]
        raw = store.store
        if isinstance(raw, EmbeddedStore):  # by hand, as a clerk with a database tool would
            raw._db.execute("UPDATE households SET status = 'inactive', inactive_since = ? "
                            "WHERE id = ?", (day.isoformat(), hid))
        else:
            with raw.driver.session(database=raw.database) as s:  # type: ignore[attr-defined]
                s.run("MATCH (h:Household {id: $id}) SET h.status = 'inactive', "
                      "h.inactive_since = date($day)", id=hid, day=day.isoformat()).consume()
        version = store.data_version()
        assert store.households(day, RULES)[0] == total  # not seen: the version is the same
        new = other.refresh()
        assert new != version and store.data_version() == new
        assert store.changes(version) is None  # everything changed
        for who in (store, other):
            got = who.households(day, RULES)
            assert got[0] == total - 1 and hid not in {r["household_id"] for r in got[1]}
    finally:
        other.close()


def test_a_failed_write_records_no_change(tiny_store: Derived) -> None:
    from graphsvc.errors import VersionConflict

    store = tiny_store
    day = DAYS[0]
    store.households(day, RULES)
    version = store.data_version()
    h = store.records()["households"][0]
    with pytest.raises(VersionConflict):
        store.write(Bundle({"households": [{**h, "status": "inactive", "inactive_since": day}]}),
                    expect={h["id"]: "not-the-version"})
    assert store.data_version() == version
    ch = store.changes(version)
    assert ch is not None and ch.writes == 0 and ch.version == version
    store.write(Bundle({"households": [{**h, "status": "inactive", "inactive_since": day}]}))
    ch = store.changes(version)
    assert ch is not None and ch.writes == 1 and h["id"] in ch.households


def test_embedded_graph_follows_writes_without_a_rebuild(tmp_path: Path, tiny_dir: Path) -> None:
    store = EmbeddedStore(tmp_path / "data")
    import_path(store, tiny_dir)
    store.graph()
    builds = store.graph_builds
    clerk = Clerk(store, 7)
    followed = 0
    for step in range(60):
        what, bundle = clerk.write()
        before = store.graph()
        snapshot = {n: dict(a) for n, a in before.nodes(data=True)}
        store.write(bundle)
        after = store.graph()
        assert same_graph(after, build_graph(store.records())) == [], f"step {step} ({what})"
        # the graph a reader held before the write did not change under it
        assert {n: dict(a) for n, a in before.nodes(data=True)} == snapshot
        if what != "village":
            followed += 1
    assert followed > 40
    # village renames do not add villages: only new townships, villages or organisations
    # make a full build; none of the clerk's writes does
    assert store.graph_builds == builds
    store.close()


def test_a_new_village_makes_a_full_build_and_other_writers_are_seen(tmp_path: Path,
                                                                      tiny_dir: Path) -> None:
    store = EmbeddedStore(tmp_path / "data")
    import_path(store, tiny_dir)
    G = store.graph()
    town = store.records()["townships"][0]["id"]
    new = Bundle({"villages": [{"id": "VX", "name": "新村", "township_id": town,
                                "needs_pairing": False}]})
    assert apply_bundle(G, new) is None
    store.write(new)
    assert "VX" in store.graph() and store.graph_builds == 2
    # another process (here: another store object) writes: this one's kept results follow
    day = DAYS[0]
    before = store.households(day, RULES)
    other = EmbeddedStore(tmp_path / "data")
    hid = before[1][0]["household_id"]
    h = next(r for r in other.records()["households"] if r["id"] == hid)
    other.write(Bundle({"households": [{**h, "status": "inactive", "inactive_since": day}]}))
    other.close()
    after = store.households(day, RULES)
    assert after[0] == before[0] - 1 and hid not in {r["household_id"] for r in after[1]}
    store.close()


def test_affected_is_the_chain_around_a_write(tmp_path: Path, tiny_dir: Path) -> None:
    store = EmbeddedStore(tmp_path / "data")
    import_path(store, tiny_dir)
    G = store.graph()
    li = store.records()["liaisons"]
    cm, d = next((r["from_id"], r["to_id"]) for r in li if r["kind"] == "committee_member-delegate")
    households, people = affected(G, [cm])
    # every household below the committee member (three liaisons down), and the delegates
    below = {r["to_id"] for r in li if r["kind"] == "delegate-member" and r["from_id"] == d}
    hs = {r["to_id"] for r in li if r["kind"] == "member-household" and r["from_id"] in below}
    assert hs <= households and d in people and cm in people
    h = next(iter(hs))
    households, people = affected(G, [h])
    assert households == {h}
    assert {r["from_id"] for r in li
            if r["kind"] == "member-household" and r["to_id"] == h} <= people
    store.close()


def test_other_writers_are_seen_on_both_stores(tiny_store: Store, tmp_path: Path,
                                               request: pytest.FixtureRequest) -> None:
    store = tiny_store
    env = request.getfixturevalue("neo4j_env") if store.kind == "neo4j" else None
    day = DAYS[0]
    total, rows = store.households(day, RULES)
    audit = store.delegate_audit(day, RULES)
    other = _fresh(store, tmp_path, env)
    try:
        h = next(r for r in other.records()["households"] if r["id"] == rows[0]["household_id"])
        other.write(Bundle({"households": [{**h, "status": "inactive", "inactive_since": day}]}))
        assert store.households(day, RULES)[0] == total - 1
        assert store.delegate_audit(day, RULES) == other.delegate_audit(day, RULES)
        assert audit  # the fixture has delegates
    finally:
        other.close()


@pytest.mark.parametrize("day", DAYS + [dt.date(2024, 1, 1)], ids=str)
def test_the_county_numbers_are_the_tally_of_every_record(tmp_path: Path, tiny_dir: Path,
                                                         day: dt.date) -> None:
    from graphsvc.summary import flatten, summarize, tally, unflatten

    store = EmbeddedStore(tmp_path / "data")
    import_path(store, tiny_dir)
    G = store.graph()
    want = flatten(summarize(G, day))
    got = tally(G, day, G.nodes)
    assert {k: got.get(k, 0) for k in want} == want and set(got) <= set(want)
    assert unflatten(want, day) == summarize(G, day)
    store.close()


def test_concurrent_writers_keep_the_results(tiny_store: Store, tmp_path: Path,
                                             request: pytest.FixtureRequest) -> None:
    """Writes from many threads at once are mended in, in the order they committed: nothing
    kept is dropped (a full computation again) and the results stay exact."""
    import threading

    store = tiny_store
    env = request.getfixturevalue("neo4j_env") if store.kind == "neo4j" else None
    day = DAYS[0]
    _county(store, day)
    misses = sum(store.computed.values())
    rec = store.records()
    members = sorted({r["from_id"] for r in rec["liaisons"] if r["kind"] == "member-household"})
    households = [h["id"] for h in rec["households"]]
    errors: list[BaseException] = []

    def clerk(n: int) -> None:
        try:
            for i in range(6):
                store.write(Bundle({"contacts": [{
                    "person_id": members[(n * 7 + i) % len(members)],
                    "household_id": households[(n * 11 + i * 3) % len(households)],
                    "date": day, "channel": "visit", "request": f"并发 {n}-{i}",
                    "resolved": False}]}))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=clerk, args=(n,)) for n in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    got = _county(store, day)
    assert sum(store.computed.values()) == misses, "a kept result was computed again"
    fresh = _fresh(store, tmp_path, env)
    try:
        assert got == _county(fresh, day)
    finally:
        fresh.close()


def test_a_failed_mending_drops_what_is_kept_and_the_write_stands(tmp_path: Path,
                                                                    tiny_dir: Path) -> None:
    store = Derived(EmbeddedStore(tmp_path / "data"))
    import_path(store, tiny_dir)
    day = DAYS[0]
    total, rows = store.households(day, RULES)

    def broken(*_: Any) -> Any:
        raise ConnectionError("the store went away")

    h = next(r for r in store.records()["households"] if r["id"] == rows[0]["household_id"])
    store.write(Bundle({"households": [{**h, "status": "inactive", "inactive_since": day}]}))
    store.store.changes = broken  # type: ignore[method-assign]
    drops = store.drops
    assert store.households(day, RULES)[0] == total - 1
    assert store.drops == drops + 1  # what was kept was dropped, not mended with a guess
    store.close()


def test_only_the_dates_asked_for_last_are_kept(tmp_path: Path, tiny_dir: Path) -> None:
    store = Derived(EmbeddedStore(tmp_path / "data"))
    import_path(store, tiny_dir)
    days = [dt.date(2026, 1, d) for d in range(1, 6)]
    for day in days:
        store.households(day, RULES)
        store.summary(day, RULES)
    assert {k[1] for k in store._entries} == set(days[-store.max_dates:])  # type: ignore[index]
    assert {k[0] for k in store._entries} == {"households", "summary"}  # type: ignore[index]
    store.close()


def test_readers_computing_while_clerks_write_stay_exact(tiny_store: Store, tmp_path: Path,
                                                         request: pytest.FixtureRequest) -> None:
    """Full computations of the county (the kept results dropped again and again) run while
    three clerks write: each computed result holds for exactly the version it is kept under,
    so the writes mended into it afterwards are counted once."""
    import threading

    store = tiny_store
    env = request.getfixturevalue("neo4j_env") if store.kind == "neo4j" else None
    day = DAYS[1]
    rec = store.records()
    members = sorted({r["from_id"] for r in rec["liaisons"] if r["kind"] == "member-household"})
    households = [h["id"] for h in rec["households"]]
    stop = threading.Event()
    errors: list[BaseException] = []

    def clerk(n: int) -> None:
        try:
            for i in range(8):
                store.write(Bundle({"contacts": [{
                    "person_id": members[(n * 5 + i) % len(members)],
                    "household_id": households[(n * 13 + i * 7) % len(households)],
                    "date": day, "channel": "phone", "request": f"读写 {n}-{i}",
                    "resolved": i % 2 == 0}]}))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    def reader() -> None:
        try:
            while not stop.is_set():
                store.clear()
                store.summary(day, RULES)
                store.households(day, RULES, status="stale", limit=5)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    readers = [threading.Thread(target=reader) for _ in range(2)]
    clerks = [threading.Thread(target=clerk, args=(n,)) for n in range(3)]
    for t in readers + clerks:
        t.start()
    for t in clerks:
        t.join()
    stop.set()
    for t in readers:
        t.join()
    assert not errors, errors
    for _ in range(3):  # and mended on: a few more writes after the last computation
        clerk(9)
    fresh = _fresh(store, tmp_path, env)
    try:
        assert _county(store, day) == _county(fresh, day)
    finally:
        fresh.close()


def test_a_write_that_waits_holds_back_no_reads(tiny_store: Derived) -> None:
    """While a clerk's write is open (here: stopped in its audit entry, read under its locks),
    other threads read the data as committed before it, kept results included; afterwards
    they read the write."""
    import threading

    from graphsvc.auditlog import Actor, build_entry

    store = tiny_store
    day = DAYS[0]
    before = store.summary(day, RULES)
    v0 = store.data_version()
    rec = store.records()
    member = next(r["from_id"] for r in rec["liaisons"] if r["kind"] == "member-household")
    bundle = Bundle({"contacts": [{"person_id": member, "household_id": rec["households"][0]["id"],
                                   "date": day, "channel": "visit", "request": "等一等",
                                   "resolved": False}]})
    inside, go = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def entry() -> dict[str, Any]:
        inside.set()
        assert go.wait(60)
        return build_entry(store, bundle, Actor.cli())

    def write() -> None:
        try:
            store.write(bundle, audit=entry)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        assert inside.wait(30)
        seen: dict[str, Any] = {}

        def read() -> None:
            seen["version"] = store.data_version()
            seen["summary"] = store.summary(day, RULES)
            seen["households"] = store.households(day, RULES, limit=5)

        reader = threading.Thread(target=read)
        reader.start()
        reader.join(20)
        assert not reader.is_alive(), "a read waited for an open write"
        assert seen["version"] == v0 and seen["summary"] == before
    finally:
        go.set()
        writer.join(60)
    assert not errors, errors
    assert store.data_version() != v0
    assert store.summary(day, RULES)["contacts"] == before["contacts"] + 1
