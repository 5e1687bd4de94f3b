"""Speed (and, for repair plans, quality) of the risk ranking and the repair plan, on both stores,
with their baselines in the same run.

    python benchmarks/analysis_bench.py [--counties 10] [--sample 150] [--bundle DIR]
                                        [--no-neo4j] [--no-embedded] [--repeat 3]
                                        [--embedded-from graphsvc.sqlite3] [--neo4j-loaded]
                                        [--apply-neo4j] [--only-apply]

On the generated N-county bundle (10 counties: about 104,000 households, 140,000 people):

- risk ranking (``graphsvc.analysis.risks.ranking``) of the whole store and of its largest
  township, against the baseline: ``Store.impact`` person by person, timed over a sample of
  people (the top of the ranking and random others, checked equal to the ranking) and
  extrapolated to every person;
- repair plan (``graphsvc.analysis.repair.plan``) of the largest township and of the whole
  store, split into reading households, reading people and solving; against a greedy
  assignment (``assign_greedy``: heaviest first, each to its cheapest member at that moment)
  on the same data, comparing households covered, focus households left out, members taken
  from the household's own village and the total cost, at the default cap (5) and a tight
  one (3).

- applied: the county plan through the API as a user would (cap 3, then cap 5 on what is
  left), on the embedded store (a copy) and, with --apply-neo4j, on Neo4j (it writes there):
  the households still uncovered, each with why, checked against an oracle from the store's
  own audits (none may have a member of its village or township with a whole chain and room
  under the cap), and applying the same plan again refused (409).

Neo4j comes from GRAPHSVC_NEO4J_URI, or is started with scripts/dev-neo4j for the run (set
GRAPHSVC_NEO4J_HEAP; 4g is enough, as the bundle is imported file by file and the contacts
in chunks, each one transaction). Each analysis runs --repeat times; every run's wall time,
CPU time (client, and Neo4j server when it is ours: GRAPHSVC_NEO4J_STATE/pid) and load
average are printed (the first run includes Neo4j planning the statement).
Nothing here asserts a time: it prints figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from graphsvc.analysis import repair, risks
from graphsvc.bundle.reader import RawTable, read_bundle
from graphsvc.bundle.report import Report
from graphsvc.importer import import_tables
from graphsvc.rules import RuleSettings
from graphsvc.stores.base import Store

AS_OF = dt.date(2026, 6, 30)
RULES = RuleSettings()
CHUNK = 100_000  # contacts per import transaction on Neo4j
GROUPS = [["townships", "villages", "organizations", "units"], ["people"], ["households"],
          ["liaisons", "pairings", "supports"]]


SERVER_PID: list[int] = []  # the Neo4j server's process, when it is ours (dev-neo4j)
CPU: dict[str, float] = {}  # CPU seconds of the last _timed call: client, server


def _server_cpu() -> float:
    if not SERVER_PID:
        return 0.0
    with open(f"/proc/{SERVER_PID[0]}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _timed(fn: Any, *args: Any, **kw: Any) -> tuple[float, Any]:
    """Wall seconds, and the result; CPU seconds of this process and of the Neo4j server in
    CPU (on a busy machine the wall time is mostly waiting for a core: the CPU time is what the
    work costs)."""
    c, s = time.process_time(), _server_cpu()
    t = time.perf_counter()
    out = fn(*args, **kw)
    wall = time.perf_counter() - t
    CPU["client"], CPU["server"] = time.process_time() - c, _server_cpu() - s
    return wall, out


def _cpu() -> str:
    return (f"cpu {CPU['client']:.2f} s" + (f" + server {CPU['server']:.2f} s" if SERVER_PID
                                            else "") + f"; load {os.getloadavg()[0]:.1f}")


def load(store: Store, bundle: Path, *, whole: bool) -> float:
    """Import the bundle: in one go (embedded), or file group by file group with the contacts
    in chunks (Neo4j, so that no transaction needs more heap than a small server has)."""
    t = time.perf_counter()
    report = Report()
    tables = read_bundle(bundle, report)
    assert report.ok, report.errors[:3]
    if whole:
        parts = [tables]
    else:
        parts = [{n: tables[n] for n in g if n in tables} for g in GROUPS]
        c = tables["contacts"]
        for i in range(0, len(c.rows), CHUNK):
            parts.append({"contacts": RawTable(c.name, c.source, c.header, c.rows[i:i + CHUNK])})
    for part in parts:
        r = import_tables(store, part, Report())
        assert r.ok, [p.message for p in r.errors[:3]]
        gc.collect()
    return time.perf_counter() - t


def from_bundle(bundle: Path) -> tuple[list[str], str, int]:
    """(every person's id, the township with the most households, how many), read from the
    bundle's files (the same for both stores)."""
    import csv

    def rows(name: str) -> list[dict[str, str]]:
        with (bundle / f"{name}.csv").open(encoding="utf-8-sig", newline="") as f:
            return list(csv.DictReader(f))

    town = {v["id"]: v["township_id"] for v in rows("villages")}
    n = Counter(town[h["village_id"]] for h in rows("households"))
    top, count = n.most_common(1)[0]
    return sorted(p["id"] for p in rows("people")), top, count


REPEAT = [3]  # runs of each timed analysis (--repeat)


def _runs(fn: Any, *args: Any, **kw: Any) -> tuple[str, str, Any]:
    """Run ``fn`` REPEAT times: (wall seconds of each run, their CPU seconds and load average,
    the last result). The first run includes Neo4j planning the statement."""
    walls, cpus, out = [], [], None
    for _ in range(REPEAT[0]):
        t, out = _timed(fn, *args, **kw)
        walls.append(f"{t:.2f}")
        cpus.append(f"{CPU['client']:.2f}" + (f"+{CPU['server']:.2f}" if SERVER_PID else "")
                    + f" @{os.getloadavg()[0]:.1f}")
    return (" / ".join(walls) + " s",
            "cpu " + ("client+server" if SERVER_PID else "client") + " @load: "
            + " / ".join(cpus), out)


def bench_risks(store: Store, township: str, people: list[str], sample: int,
                out: list[list[str]]) -> None:
    for scope in (None, township):
        wall, cpu, (total, _page) = _runs(risks.page, store, AS_OF, RULES, township_id=scope,
                                          limit=100)
        out.append([store.kind, "risks (first 100)", scope or "county", f"{total:,} people",
                    wall, cpu])
        wall, cpu, ranking = _runs(risks.ranking, store, AS_OF, RULES, township_id=scope)
        out.append([store.kind, "risks (all)", scope or "county", f"{len(ranking):,} people",
                    wall, cpu])
    ranking = risks.ranking(store, AS_OF, RULES)
    mine = {r["person_id"]: (r["households_lost"], r["focus_households_lost"]) for r in ranking}
    rnd = random.Random(1)
    chosen = sorted(set([r["person_id"] for r in ranking[: sample // 3]]
                        + rnd.sample(people, min(len(people), sample - sample // 3))))
    t, base = _timed(risks.brute_force, store, AS_OF, RULES, chosen)
    assert all(base.get(p) == mine.get(p) for p in chosen), "the ranking differs from impact()"
    per = t / len(chosen)
    out.append([store.kind, "risks baseline", "county",
                f"impact() x {len(chosen)} people, equal",
                f"{t:.2f} s ({per * 1000:.0f} ms/person)",
                f"extrapolated to {len(people):,} people: {per * len(people):,.0f} s; "
                + _cpu()])


def _quality(p: dict[str, Any]) -> str:
    hh = [i for i in p["items"] if i["kind"] == "member-household"]
    village = sum(1 for i in hh if "同村" in i["reason"])
    focus_left = sum(1 for u in p["unassigned"] if u.get("focus"))
    return (f"{p['households']['covered_by_plan']:,}/{p['households']['targeted']:,} covered, "
            f"{len(p['unassigned']):,} left ({focus_left} focus), {len(hh):,} members given, "
            f"{village:,} of the same village, cost {sum(i['cost'] for i in p['items']):,}")


def bench_repair(store: Store, township: str, out: list[list[str]]) -> None:
    for scope in (township, None):
        for cap in (repair.DEFAULT_CAP, 3):
            for solver in (repair.assign, repair.assign_greedy):
                spent: dict[str, float] = {}
                wall, cpu, p = _runs(repair.plan, store, AS_OF, RULES, township_id=scope,
                                     cap=cap, solver=solver, timings=spent)
                _mark_focus(store, p)
                name = "repair" if solver is repair.assign else "repair greedy"
                out.append([store.kind, f"{name} cap {cap}", scope or "county", _quality(p),
                            wall,
                            (f"last run: households {spent['households']:.2f} s, people "
                             f"{spent['people']:.2f} s, solve {spent['solve']:.2f} s; " + cpu)])


def _api(store: Store, tmp: Path) -> tuple[Any, dict[str, str]]:
    """A test client of the HTTP API on ``store``, and an admin key's header (as a user would)."""
    from fastapi.testclient import TestClient

    from graphsvc.api import create_app
    from graphsvc.config import Settings
    from graphsvc.keys import KeyStore, Role

    s = Settings(data_dir=tmp, neo4j_uri=None)
    client = TestClient(create_app(s, store=store))
    client.__enter__()  # the app's lifespan: it holds the store
    _key, token = KeyStore(tmp).create(Role.ADMIN, name="analysis_bench")
    return client, {"Authorization": f"Bearer {token}"}


def _members_with_room(store: Store, cap: int) -> dict[tuple[str, Any], set[str]]:
    """Oracle, from the store's own audits (not from the plan's facts): the members with a
    whole chain (an active delegate with an active committee member) and fewer than ``cap``
    households, by ("v", village) and ("t", township); and, under ("whole", ...), every
    member with a whole chain."""
    members = store.member_audit(AS_OF, RULES)
    delegates = {d["delegate_id"]: d for d in store.delegate_audit(
        AS_OF, RULES, ids={d for m in members for d in m["delegate_ids"]})}
    recs = store.fetch_entities([m["member_id"] for m in members])
    orgs = store.fetch_entities({r.get("organization_id") for _, r in recs.values()
                                 if r.get("organization_id") and not r.get("village_id")})
    out: dict[tuple[str, Any], set[str]] = {}
    for m in members:
        if not any(delegates[d]["committee_member_ids"] for d in m["delegate_ids"]
                   if d in delegates):
            continue
        rec = recs[m["member_id"]][1]
        village = rec.get("village_id")
        if village is None and rec.get("organization_id") in orgs:
            village = orgs[rec["organization_id"]][1].get("village_id")
        for key in (("v", village), ("t", m["township_id"])):
            out.setdefault(("whole", *key), set()).add(m["member_id"])
            if m["household_count"] < cap:
                out.setdefault(key, set()).add(m["member_id"])
    return out


def check_applied(store: Store, tmp: Path, out: list[list[str]]) -> None:
    """Apply the county plan through the API as a user would (GET the plan, POST all its items
    to /repair-plans/apply), first with a tight cap (3), then with the default one (5) on
    what is left; after each, count the households still uncovered (the store's own audit)
    and say for each why, checking against an oracle built from the store's audits that no
    member of its village or township with a whole chain has room under the cap (else the
    benchmark fails). Writes to ``store``."""
    client, admin = _api(store, tmp)
    day = AS_OF.isoformat()
    for cap in (3, repair.DEFAULT_CAP):
        before, _ = store.households(AS_OF, RULES, status="uncovered", limit=0)
        c, s0 = time.process_time(), _server_cpu()
        t = time.perf_counter()
        r = client.get("/api/v1/repair-plans", headers=admin, params={"as_of": day, "cap": cap})
        assert r.status_code == 200, r.text
        plan = r.json()
        t_plan = time.perf_counter() - t
        t = time.perf_counter()
        r = client.post("/api/v1/repair-plans/apply", headers=admin,
                        json={"since": day, "items": plan["items"]})
        assert r.status_code == 200, r.text
        t_apply = time.perf_counter() - t
        cpu = f"cpu {time.process_time() - c:.2f} s" + (
            f" + server {_server_cpu() - s0:.2f} s" if SERVER_PID else "")
        written = r.json()["applied"]
        total, rows = store.households(AS_OF, RULES, status="uncovered")
        left = {r_["household_id"] for r_ in rows}
        assert left == {u["household_id"] for u in plan["unassigned"]}, \
            "the households left uncovered are not the plan's unassigned ones"
        room = _members_with_room(store, cap)
        why: Counter[str] = Counter()
        wrong = []
        for h in rows:
            v, tw = ("v", h["village_id"]), ("t", h["township_id"])
            if room.get(v) or room.get(tw):
                wrong.append(h["household_id"])
            elif h["township_id"] is None:
                why["its village is in no township"] += 1
            elif not room.get(("whole", *v)) and not room.get(("whole", *tw)):
                why["no member of its village or township has a whole chain"] += 1
            else:
                why[f"every member of its village and township with a whole chain holds "
                    f"{cap} or more households"] += 1
        assert not wrong, f"{len(wrong)} uncovered households a member could take: {wrong[:5]}"
        focus = sum(1 for h in rows if h["focus"])
        out.append([store.kind, f"repair applied, cap {cap}", "county",
                    (f"{before:,} uncovered -> plan of {len(plan['items']):,} liaisons, "
                     f"{written:,} written in one import -> {total:,} uncovered "
                     f"({focus:,} focus); none that a member with room could take"
                     + "".join(f"; {n:,}: {w}" for w, n in why.most_common())),
                    f"plan {t_plan:.2f} s, apply {t_apply:.2f} s",
                    cpu + f"; load {os.getloadavg()[0]:.1f}"])
    # applied twice: nothing to write is refused, not answered as a success
    r = client.post("/api/v1/repair-plans/apply", headers=admin,
                    json={"since": day, "items": plan["items"]})
    assert r.status_code == 409, r.text
    client.__exit__(None, None, None)


def _mark_focus(store: Store, p: dict[str, Any]) -> None:
    ids = [u["household_id"] for u in p["unassigned"]]
    if ids:
        _, rows = store.households(AS_OF, RULES, household_ids=ids)
        focus = {r["household_id"] for r in rows if r["focus"]}
        for u in p["unassigned"]:
            u["focus"] = u["household_id"] in focus


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--counties", type=int, default=10)
    ap.add_argument("--sample", type=int, default=150, help="people asked impact() one by one")
    ap.add_argument("--bundle", type=Path, help="a generated bundle to use (else one is made)")
    ap.add_argument("--no-neo4j", action="store_true")
    ap.add_argument("--no-embedded", action="store_true")
    ap.add_argument("--neo4j-loaded", action="store_true",
                    help="Neo4j (GRAPHSVC_NEO4J_URI) holds the bundle already: do not import it")
    ap.add_argument("--embedded-from", type=Path,
                    help="a ready embedded store of the bundle (graphsvc.sqlite3): copied into "
                         "the run's own folder instead of importing the bundle")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each timed analysis")
    ap.add_argument("--apply-neo4j", action="store_true",
                    help="also apply the county plans to Neo4j through the API and check what "
                         "is left (WRITES to that database)")
    ap.add_argument("--only-apply", action="store_true",
                    help="skip the timings: only apply the plans and check (see --apply-neo4j)")
    args = ap.parse_args()
    REPEAT[0] = args.repeat
    out: list[list[str]] = []
    with tempfile.TemporaryDirectory(prefix="analysis-bench-") as tmp:
        bundle = args.bundle
        if bundle is None:
            from graphsvc.generate import generate_bundle

            bundle = Path(tmp) / "bundle"
            print(f"generating {args.counties} count(ies) ...", flush=True)
            generate_bundle(bundle, counties=args.counties, seed=1)
        people, town, n = from_bundle(bundle)
        print(f"{len(people):,} people; the largest township: {town} ({n:,} households)",
              flush=True)
        if not args.no_embedded:
            from graphsvc.stores.embedded import EmbeddedStore

            if args.embedded_from:
                import shutil

                (Path(tmp) / "embedded").mkdir()
                shutil.copy(args.embedded_from, Path(tmp) / "embedded" / "graphsvc.sqlite3")
                emb = EmbeddedStore(Path(tmp) / "embedded")
                print(f"embedded: a copy of {args.embedded_from}", flush=True)
            else:
                emb = EmbeddedStore(Path(tmp) / "embedded")
                print(f"embedded: imported in {load(emb, bundle, whole=True):.1f} s", flush=True)
            t, _ = _timed(emb.graph)
            print(f"embedded: graph built in {t:.1f} s (kept until the data changes)", flush=True)
            if not args.only_apply:
                bench_risks(emb, town, people, args.sample, out)
                bench_repair(emb, town, out)
            check_applied(emb, Path(tmp) / "api-embedded", out)
            emb.close()
            del emb
            gc.collect()
        if not args.no_neo4j:
            from _neo4j import neo4j_env, stop

            from graphsvc.stores.neo4j import Neo4jStore

            env, started = neo4j_env()
            pidfile = Path(env.get("GRAPHSVC_NEO4J_STATE", "/tmp/graphsvc-bench-neo4j")) / "pid"
            if pidfile.is_file():
                SERVER_PID.append(int(pidfile.read_text().split()[0]))
            try:
                neo = Neo4jStore(env["GRAPHSVC_NEO4J_URI"], env.get("GRAPHSVC_NEO4J_USER", "neo4j"),
                                 env.get("GRAPHSVC_NEO4J_PASSWORD"))
                if not args.neo4j_loaded:
                    with neo.driver.session() as s:
                        s.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 "
                              "ROWS").consume()
                    print(f"neo4j: imported in {load(neo, bundle, whole=False):.1f} s", flush=True)
                if not args.only_apply:
                    bench_risks(neo, town, people, args.sample, out)
                    bench_repair(neo, town, out)
                if args.apply_neo4j:
                    check_applied(neo, Path(tmp) / "api-neo4j", out)
                neo.close()
            finally:
                if started:
                    stop(env)
    widths = [max((len(r[i]) for r in out if len(r[i]) < 100), default=0) for i in range(4)]
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores "
          "(each row gives the load average after each run)")
    for r in out:
        print("  ".join(c.ljust(w) for c, w in zip(r[:4], widths)), " ", r[4], " ", r[5])


if __name__ == "__main__":
    main()
