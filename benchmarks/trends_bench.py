"""Speed of coverage over time: the set-wise trends against the baseline of one full audit
per step, on both stores.

    python benchmarks/trends_bench.py [--counties 10] [--steps 24] [--no-neo4j] [--no-embedded]

On the generated N-county bundle (``graphsvc generate PATH --counties N``; 10 counties:
about 100,000 households), for ``--steps`` monthly dates ending 2026-06-30:

- **trends**: ``graphsvc.analysis.trends.trends_body`` for the county, then for one township
  (what ``GET /api/v1/trends`` runs);
- **baseline**: for every step, ``store.summary(as_of=step, rules)`` (all households by
  status and reason) and ``store.households(as_of=step, rules, focus_only=True)`` (the focus
  households): the audit re-run per step, which is how the tests check the trends. The
  run checks that both give the same counts.

The embedded store imports the bundle in this process and its graph is built before the
clock starts (the service keeps it between requests). Neo4j comes from
GRAPHSVC_NEO4J_URI, or is started with scripts/dev-neo4j for the run (heap from
GRAPHSVC_NEO4J_HEAP; 4g is enough, since the bundle is imported in parts: every file but
the contacts, then the contacts in slices). Nothing here asserts a time: it prints figures.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import gc
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from graphsvc.analysis.trends import shift, trends_body
from graphsvc.importer import import_path
from graphsvc.rules import REASONS, RuleSettings, status_counts
from graphsvc.stores.base import Store

LAST = dt.date(2026, 6, 30)
RULES = RuleSettings()
KEYS = ("households", "covered", "stale", "uncovered", *REASONS)


def bundle(counties: int) -> Path:
    """The generated bundle, made once and kept in the temporary folder."""
    folder = Path(tempfile.gettempdir()) / f"graphsvc-bench-trends-{counties}"
    if not (folder / "contacts.csv").is_file():
        subprocess.run([sys.executable, "-m", "graphsvc", "generate", str(folder), "--counties",
                        str(counties), "--seed", "1"], check=True, cwd=ROOT,
                       env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True)
    return folder


def parts(folder: Path, slices: int) -> list[Path]:
    """The bundle as folders: every file but the contacts, then the contacts in slices."""
    out = folder.parent / f"{folder.name}-parts"
    if not (out / "done").is_file():
        shutil.rmtree(out, ignore_errors=True)
        (out / "0").mkdir(parents=True)
        for f in folder.glob("*.csv"):
            if f.name != "contacts.csv":
                shutil.copy(f, out / "0" / f.name)
        with (folder / "contacts.csv").open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.reader(fh))
        head, body = rows[0], rows[1:]
        size = -(-len(body) // slices)
        for i in range(slices):
            (out / str(i + 1)).mkdir()
            with (out / str(i + 1) / "contacts.csv").open("w", encoding="utf-8",
                                                          newline="") as fh:
                csv.writer(fh).writerows([head, *body[i * size:(i + 1) * size]])
        (out / "done").write_text("")
    return sorted((p for p in out.iterdir() if p.is_dir()), key=lambda p: int(p.name))


def timed(f: Callable[[], Any]) -> tuple[float, Any]:
    t = time.perf_counter()
    r = f()
    return time.perf_counter() - t, r


def counted(rows: list[dict[str, Any]]) -> dict[str, int]:
    c = status_counts(rows)
    return {"households": len(rows), **c["households_by_status"], **c["uncovered_by_reason"]}


def flat(block: dict[str, Any]) -> dict[str, int]:
    return {k: block[k] if k in block else block["uncovered_by_reason"][k] for k in KEYS}


def baseline(store: Store, days: list[dt.date], township_id: str | None) -> list[Any]:
    out = []
    for day in days:
        s = store.summary(day, RULES, township_id=township_id)
        every = {"households": s["households"], **s["households_by_status"],
                 **s["uncovered_by_reason"]}
        _, focus = store.households(day, RULES, township_id=township_id, focus_only=True)
        out.append((every, counted(focus)))
    return out


def measure(store: Store, steps: int, township: str) -> list[tuple[str, float, float]]:
    first = shift(LAST, "month", -(steps - 1))
    rows = []
    for scope in (None, township):
        took, body = timed(lambda s=scope: trends_body(store, RULES, first=first, last=LAST,
                                                       step="month", township_id=s))
        days = [dt.date.fromisoformat(s["as_of"]) for s in body["steps"]]
        assert len(days) == steps, (first, days)
        base_took, base = timed(lambda s=scope, d=days: baseline(store, d, s))
        for s, (every, focus) in zip(body["steps"], base):
            assert flat(s["all"]) == every and flat(s["focus"]) == focus, (store.kind, s["as_of"])
        rows.append((scope or "county", took, base_took))
        print(f"  {store.kind:8} {scope or 'county':10} trends {took:7.2f} s   "
              f"baseline ({steps} audits) {base_took:8.2f} s   x{base_took / took:5.1f}   "
              f"(same counts)", flush=True)
    return rows


def embedded(folder: Path, steps: int, township: str) -> list[tuple[str, float, float]]:
    from graphsvc.stores.embedded import EmbeddedStore

    with tempfile.TemporaryDirectory() as tmp:
        emb = EmbeddedStore(Path(tmp) / "data")
        took, report = timed(lambda: import_path(emb, folder))
        assert report.ok
        built, _ = timed(emb.graph)
        print(f"  embedded import {took:.1f} s, graph built in {built:.1f} s", flush=True)
        try:
            return measure(emb, steps, township)
        finally:
            emb.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--counties", type=int, default=10)
    ap.add_argument("--steps", type=int, default=24)
    ap.add_argument("--no-neo4j", action="store_true", help="the embedded store only")
    ap.add_argument("--no-embedded", action="store_true", help="Neo4j only")
    args = ap.parse_args()
    folder = bundle(args.counties)
    township = "c01-T01"
    print(f"{args.counties}-county bundle {folder}; {args.steps} monthly steps to "
          f"{LAST.isoformat()}", flush=True)
    results: list[tuple[str, str, float, float]] = []

    if not args.no_embedded:
        results += [("embedded", *r) for r in embedded(folder, args.steps, township)]
        gc.collect()  # the graph is gone before Neo4j starts

    if not args.no_neo4j:
        from _neo4j import neo4j_env, stop

        from graphsvc.stores.neo4j import Neo4jStore

        env, started = neo4j_env()
        try:
            neo = Neo4jStore(env["GRAPHSVC_NEO4J_URI"], env.get("GRAPHSVC_NEO4J_USER", "neo4j"),
                             env.get("GRAPHSVC_NEO4J_PASSWORD"))
            sys.path.insert(0, str(ROOT / "tests"))
            from tests_support import clear

            clear(neo)
            t = time.perf_counter()
            for part in parts(folder, 4):
                report = import_path(neo, part)
                assert report.ok, [str(p) for p in report.errors[:5]]
            print(f"  neo4j import (in parts) {time.perf_counter() - t:.1f} s", flush=True)
            results += [("neo4j", *r) for r in measure(neo, args.steps, township)]
            neo.close()
        finally:
            if started:
                stop(env)

    print(f"\n| store | scope | trends ({args.steps} steps) | baseline ({args.steps} audits) "
          "| speed-up |\n| --- | --- | --- | --- | --- |")
    for kind, scope, took, base in results:
        print(f"| {kind} | {scope} | {took:.2f} s | {base:.1f} s | {base / took:.0f}x |")


if __name__ == "__main__":
    main()
