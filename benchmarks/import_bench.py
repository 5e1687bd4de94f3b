"""Import speed of both stores, with a naive baseline, on generated bundles.

    python benchmarks/import_bench.py [--counties 1 10] [--naive-rows 3000]

Prints, for each bundle and store: rows, seconds (read / validate / write), rows per
second, and the peak memory of the importing process (each import runs in a fresh
subprocess, so peaks do not mix). In the same run, a naive baseline on a 1-county
sample: one auto-commit ``MERGE`` per row through the driver, the way a first
attempt would do it. Neo4j comes from GRAPHSVC_NEO4J_URI, or is started with
scripts/dev-neo4j for the run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def one_import(kind: str, bundle: str) -> dict[str, float]:
    """Import ``bundle`` into an empty store of ``kind``; runs inside a subprocess."""
    from graphsvc.bundle.reader import read_bundle
    from graphsvc.bundle.report import Report
    from graphsvc.bundle.validate import validate
    from graphsvc.importer import paused_gc

    if kind == "embedded":
        from graphsvc.stores.embedded import EmbeddedStore

        store = EmbeddedStore(tempfile.mkdtemp(prefix="bench-emb-"))
    else:
        from graphsvc.config import Settings
        from graphsvc.stores.neo4j import Neo4jStore

        store = Neo4jStore.from_settings(Settings())
        with store.driver.session() as s:
            s.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 20000 ROWS").consume()
    t0 = time.perf_counter()
    with paused_gc():  # as graphsvc.importer does
        report = Report()
        tables = read_bundle(bundle, report)
        t1 = time.perf_counter()
        data = validate(tables, store, report)
        t2 = time.perf_counter()
        assert report.ok, [str(p) for p in report.errors[:5]]
        store.write(data)
        t3 = time.perf_counter()
    store.close()
    rows = data.count()
    return {"rows": rows, "read": t1 - t0, "validate": t2 - t1, "write": t3 - t2, "total": t3 - t0,
            "rows_per_s": rows / (t3 - t0),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def naive(bundle: str, limit: int) -> dict[str, float]:
    """One auto-commit MERGE per row through the driver (no UNWIND, no batching)."""
    import csv

    from graphsvc.config import Settings
    from graphsvc.stores.neo4j import Neo4jStore

    store = Neo4jStore.from_settings(Settings())  # schema (constraints) applied, to be fair
    drv = store.driver
    with drv.session() as s:
        s.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 20000 ROWS").consume()

    def rows(name: str) -> list[dict[str, str]]:
        with open(Path(bundle) / name, encoding="utf-8") as f:
            return list(csv.DictReader(f))

    people = rows("people.csv")
    households = rows("households.csv")
    liaisons = [r for r in rows("liaisons.csv") if r["kind"] == "member-household"]
    third = limit // 3
    t0 = time.perf_counter()
    n = 0
    with drv.session() as s:
        for r in people[:third]:
            s.run("MERGE (p:Person {id: $id}) "
                  "SET p.name = $name, p.status = $status, p.phone = $phone, p:Entity",
                  id=r["id"], name=r["name"], status=r["status"], phone=r["phone"]).consume()
            n += 1
        for r in households[:third]:
            s.run("MERGE (h:Household {id: $id}) SET h.head_name = $n, h.status = $s, h:Entity",
                  id=r["id"], n=r["head_name"], s=r["status"]).consume()
            n += 1
        for r in liaisons[:third]:
            s.run("MATCH (p:Person {id: $a}) MATCH (h:Household {id: $b}) "
                  "MERGE (p)-[x:LIAISES_WITH_HOUSEHOLD {key: $key}]->(h) SET x.since = $since",
                  a=r["from_id"], b=r["to_id"],
                  key=f"member-household\x1f{r['from_id']}\x1f{r['to_id']}",
                  since=r["since"] or None).consume()
            n += 1
    t = time.perf_counter() - t0
    store.close()
    return {"rows": n, "total": t, "rows_per_s": n / t}


def sub(args: list[str], env: dict[str, str]) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, *args], env=env, capture_output=True,
                         text=True, check=False)  # a failure is reported below, with its stderr
    if out.returncode != 0:
        raise SystemExit(f"benchmark step {args} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def neo4j_rss_mb(env: dict[str, str]) -> float | None:
    pid_file = Path(env.get("GRAPHSVC_NEO4J_STATE", "/tmp/graphsvc-dev-neo4j")) / "pid"
    try:
        import psutil

        return psutil.Process(int(pid_file.read_text().strip())).memory_info().rss / 1024 / 1024
    except Exception:  # noqa: BLE001 - a figure we print only when we can
        return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--counties", type=int, nargs="+", default=[1, 10])
    ap.add_argument("--naive-rows", type=int, default=3000)
    ap.add_argument("--stores", nargs="+", default=["embedded", "neo4j"])
    ap.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "graphsvc-bench"))
    ap.add_argument("--_one", nargs=2, help=argparse.SUPPRESS)
    ap.add_argument("--_naive", nargs=2, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a._one:
        print(json.dumps(one_import(*a._one)))
        return
    if a._naive:
        print(json.dumps(naive(a._naive[0], int(a._naive[1]))))
        return

    from _neo4j import neo4j_env, stop

    from graphsvc.generate import generate_bundle

    env, started = neo4j_env("neo4j" in a.stores)
    results = []
    try:
        work = Path(a.work)
        for n in a.counties:
            bundle = work / f"county-x{n}"
            if not (bundle / "contacts.csv").exists():
                t = time.perf_counter()
                generate_bundle(bundle, counties=n, seed=1)
                print(f"generated {n} count{'y' if n == 1 else 'ies'} "
                      f"in {time.perf_counter() - t:.1f} s", flush=True)
            for kind in a.stores:
                r = sub(["--_one", kind, str(bundle)], env if kind == "neo4j" else
                        {k: v for k, v in env.items() if k != "GRAPHSVC_NEO4J_URI"})
                r.update(store=kind, counties=n)
                if kind == "neo4j":
                    r["server_rss_mb"] = neo4j_rss_mb(env) or float("nan")
                results.append(r)
                print(f"{kind:9} x{n:<3} {r['rows']:>9,} rows  read {r['read']:6.1f}s  "
                      f"validate {r['validate']:6.1f}s  write {r['write']:6.1f}s  "
                      f"total {r['total']:6.1f}s  {r['rows_per_s']:>9,.0f} rows/s  "
                      f"peak {r['peak_rss_mb']:,.0f} MB"
                      + (f"  (Neo4j server RSS {r['server_rss_mb']:,.0f} MB)"
                         if kind == "neo4j" else ""),
                      flush=True)
        if "neo4j" in a.stores:
            base = sub(["--_naive", str(Path(a.work) / f"county-x{a.counties[0]}"),
                        str(a.naive_rows)], env)
            print(f"naive     x1   {base['rows']:>9,} rows  one MERGE per row: "
                  f"{base['total']:.1f}s  {base['rows_per_s']:>9,.0f} rows/s", flush=True)
            for r in results:
                if r["store"] == "neo4j":
                    print(f"neo4j x{r['counties']}: "
                          f"{r['rows_per_s'] / base['rows_per_s']:.0f}x the naive baseline")
    finally:
        if started:
            stop(env)


if __name__ == "__main__":
    main()
