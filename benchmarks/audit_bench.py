"""Speed of the audits: through the API against the floor of one hand-written Cypher query.

    python benchmarks/audit_bench.py [--counties 10] [--reads 2000]

On the generated N-county bundle (10 counties: about 100,000 households) in Neo4j,
in one run:

- the full uncovered-household audit through the HTTP API (``GET /api/v1/exports/households
  ?status=uncovered``, one answer; paging through ``/households`` is shown too) and the same
  list from ONE hand-written Cypher query sent with the driver (the floor), and their ratio;
- a one-township page of households (limit 100): p50 / p95 over repeated requests;
- the delegate audit of the whole store through the API;
- requests per second for single-household reads (``GET /api/v1/households/{id}``)
  with 2 server workers and 8 concurrent clients;
- the embedded store on the 1-county bundle: the full household audit.

Neo4j comes from GRAPHSVC_NEO4J_URI, or is started with scripts/dev-neo4j for the run.
The API server is ``graphsvc serve --workers 2`` in a subprocess on a free loopback port.
Nothing here asserts a time: it prints figures.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import datetime as dt
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
AS_OF = dt.date(2026, 6, 30)

FLOOR = """
MATCH (h:Household)
WHERE h.status = 'active' OR (h.inactive_since IS NOT NULL AND $as_of < h.inactive_since)
OPTIONAL MATCH (m:Person)-[l:LIAISES_WITH_HOUSEHOLD]->(h)
WHERE (l.since IS NULL OR l.since <= $as_of) AND (l.until IS NULL OR $as_of < l.until)
WITH h, collect(DISTINCT m) AS members
WITH h, members, [m IN members WHERE m.status = 'active'
                  OR (m.inactive_since IS NOT NULL AND $as_of < m.inactive_since)] AS act
CALL (act) {
  UNWIND act AS m
  MATCH (d:Delegate)-[l:LIAISES_WITH_MEMBER]->(m)
  WHERE (l.since IS NULL OR l.since <= $as_of) AND (l.until IS NULL OR $as_of < l.until)
    AND (d.status = 'active' OR (d.inactive_since IS NOT NULL AND $as_of < d.inactive_since))
  RETURN collect(DISTINCT d) AS dels
}
WITH h, members, act, dels,
     EXISTS {
       UNWIND dels AS d
       MATCH (c:CommitteeMember)-[l:LIAISES_WITH_DELEGATE]->(d)
       WHERE (l.since IS NULL OR l.since <= $as_of) AND (l.until IS NULL OR $as_of < l.until)
         AND (c.status = 'active' OR (c.inactive_since IS NOT NULL AND $as_of < c.inactive_since))
     } AS has_cm
WITH h, members, CASE WHEN size(members) = 0 THEN 'no_member'
                      WHEN size(act) = 0 THEN 'member_inactive'
                      WHEN size(dels) = 0 THEN 'no_delegate'
                      WHEN NOT has_cm THEN 'no_committee_member' END AS reason
WHERE reason IS NOT NULL
OPTIONAL MATCH (c:Person)-[x:CONTACTED]->(h) WHERE x.date <= $as_of
WITH h, members, reason, max(x.date) AS last
RETURN h.id AS household_id, reason, last, [m IN members | m.id] AS member_ids
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, key: str) -> dict:
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"})
    with urllib.request.urlopen(req, timeout=120) as r:
        return json.loads(r.read())


def timed(fn, n: int = 1) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--counties", type=int, default=10)
    ap.add_argument("--reads", type=int, default=2000, help="single-household reads for req/s")
    ap.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "graphsvc-bench"))
    a = ap.parse_args()

    from _neo4j import neo4j_env, stop

    from graphsvc.config import Settings
    from graphsvc.generate import generate_bundle
    from graphsvc.importer import import_path
    from graphsvc.rules import RuleSettings
    from graphsvc.stores.embedded import EmbeddedStore
    from graphsvc.stores.neo4j import Neo4jStore

    env, started = neo4j_env(True)
    server = None
    try:
        work = Path(a.work)
        big = work / f"county-x{a.counties}"
        one = work / "county-x1"
        for n, path in ((a.counties, big), (1, one)):
            if not (path / "contacts.csv").exists():
                generate_bundle(path, counties=n, seed=1)

        # -- embedded, 1 county
        emb = EmbeddedStore(tempfile.mkdtemp(prefix="bench-emb-"))
        import_path(emb, one)
        rules = RuleSettings()
        t_graph = timed(emb.graph)[0]
        t_emb = timed(lambda: emb.households(AS_OF, rules), 3)
        print(f"embedded x1: graph built from SQLite in {t_graph:.2f} s (once, then cached); "
              f"full household audit {min(t_emb):.3f} s (best of 3), "
              f"{emb.households(AS_OF, rules)[0]:,} households")
        emb.close()

        # -- Neo4j, N counties
        s = Settings(neo4j_uri=env["GRAPHSVC_NEO4J_URI"],
                     neo4j_user=env.get("GRAPHSVC_NEO4J_USER", "neo4j"),
                     neo4j_password=env.get("GRAPHSVC_NEO4J_PASSWORD"))
        store = Neo4jStore.from_settings(s)
        have = store.summary(AS_OF)["households"]
        if have < 1000 * a.counties:
            with store.driver.session() as ss:
                ss.run("MATCH (n) CALL (n) { DETACH DELETE n } "
                       "IN TRANSACTIONS OF 20000 ROWS").consume()
            t = time.perf_counter()
            rep = import_path(store, big)
            assert rep.ok, rep.errors[:3]
            print(f"imported {a.counties} counties into Neo4j in {time.perf_counter() - t:.1f} s")
        households = store.summary(AS_OF)["households"]
        floor_rows: list = []

        def floor() -> None:
            floor_rows[:] = store.driver.execute_query(FLOOR, as_of=AS_OF,
                                                       database_=store.database)[0]

        t_floor = timed(floor, 3)
        data_dir = tempfile.mkdtemp(prefix="bench-api-")
        env_api = {**env, "GRAPHSVC_DATA_DIR": data_dir}
        key = subprocess.run([sys.executable, "-m", "graphsvc", "keys", "create", "--role", "admin",
                              "--name", "bench"], env=env_api, capture_output=True, text=True,
                             check=True).stdout.strip().splitlines()[-1]
        port = free_port()
        server = subprocess.Popen([sys.executable, "-m", "graphsvc", "serve", "--port", str(port),
                                   "--workers", "2"], env=env_api, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        for _ in range(120):
            try:
                urllib.request.urlopen(base + "/health", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        api_rows: list = []

        def api_uncovered() -> None:
            body = get(f"{base}/api/v1/exports/households?status=uncovered&as_of={AS_OF}", key)
            api_rows[:] = body["items"]

        def api_paged() -> None:
            offset = 0
            while True:
                body = get(f"{base}/api/v1/households?status=uncovered&as_of={AS_OF}&limit=1000"
                           f"&offset={offset}", key)
                offset += 1000
                if offset >= body["total"]:
                    break

        api_uncovered()  # warm-up (plans cached)
        t_api = timed(api_uncovered, 3)
        assert (sorted(r["household_id"] for r in api_rows)
                == sorted(r["household_id"] for r in floor_rows)), \
            "the API and the floor query disagree"
        print(f"neo4j x{a.counties}: {households:,} households, {len(api_rows):,} uncovered")
        print(f"  uncovered audit: API {min(t_api):.2f} s (GET /exports/households, best of 3) "
              f"vs one hand-written Cypher query {min(t_floor):.2f} s  ->  "
              f"{min(t_api) / min(t_floor):.2f}x the floor")
        t_paged = timed(api_paged, 1)
        print(f"  (paging through GET /households 1000 at a time instead: {t_paged[0]:.2f} s)")
        township = get(f"{base}/api/v1/summary?as_of={AS_OF}", key)
        tid = "c01-T01"
        page = [timed(lambda: get(f"{base}/api/v1/households?township_id={tid}"
                                  f"&as_of={AS_OF}&limit=100", key))[0]
                for _ in range(60)]
        print(f"  one-township page (limit 100): p50 {pct(page, 50) * 1000:.0f} ms, "
              f"p95 {pct(page, 95) * 1000:.0f} ms")
        t_del = timed(lambda: get(f"{base}/api/v1/audit/delegates?as_of={AS_OF}&limit=1000",
                                  key), 3)
        print(f"  delegate audit, whole store: {min(t_del):.2f} s (best of 3)")
        ids = [r["household_id"]
               for r in get(f"{base}/api/v1/households?as_of={AS_OF}&limit=1000", key)["items"]]

        def one(i: int) -> None:
            get(f"{base}/api/v1/households/{ids[i % len(ids)]}?as_of={AS_OF}", key)

        t = time.perf_counter()
        with cf.ThreadPoolExecutor(8) as pool:
            list(pool.map(one, range(a.reads)))
        el = time.perf_counter() - t
        print(f"  single-household reads, 2 workers, 8 clients: {a.reads / el:,.0f} req/s "
              f"({a.reads} reads in {el:.1f} s)")
        del township
        store.close()
    finally:
        if server is not None:
            server.terminate()
            server.wait(30)
        if started:
            stop(env)


if __name__ == "__main__":
    main()
