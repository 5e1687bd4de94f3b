"""Speed of the diagram pages: server-side build time of every view, and the browser's time
to a drawn canvas for the largest township overview.

    python benchmarks/visual_bench.py [--counties 10] [--repeat 5] [--bundle DIR] [--no-browser]

For the tiny county and for the generated N-county bundle, on the embedded store and on
Neo4j, it builds each view (chain of the committee member with the most delegates, the
delegate with the most members, an uncovered household, a household with an overdue
request, the member of the largest township with the most households, pairings and overview
of the largest township (with its repair plan layer, as served, and the same page without
it: ``township, no plan``), the county overview and pairings, the index page) and prints,
per view:

- ``first``: the first build with nothing cached (on a fresh server this includes Neo4j
  planning each statement the first time it sees it);
- ``uncached``: a second build with the views' cache emptied again: what a reader waits
  right after the data changed; ``reads``: the part of it spent in store reads, and
  ``calls`` how many store calls the page made;
- ``cached`` (median) / ``max`` over ``--repeat`` further builds: the views' reads are kept
  until the data changes (``visual.cache``), so this is what the next reader of the page
  (or of another page needing the same reads) waits.
All times in milliseconds.

Then the largest township overview is opened in headless Chromium (Debian's
``/usr/bin/chromium``, network beyond loopback refused): time from navigation to a
drawn canvas (vis-network's ``afterDrawing`` after stabilisation).

Neo4j comes from GRAPHSVC_NEO4J_URI, or is started with scripts/dev-neo4j for the run.
``--bundle`` reuses an already generated bundle; ``--skip-import`` reuses a store
that already holds it (``--data-dir`` for the embedded one). Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from graphsvc.rules import RuleSettings
from graphsvc.stores.base import Store

AS_OF = dt.date(2026, 6, 30)
TINY = ROOT.parent / "shared" / "examples" / "tiny-county"


class Timed:
    """A store whose every public call is counted and timed (to show where a page's time goes)."""

    def __init__(self, inner: Store) -> None:
        self._inner = inner
        self.calls: Counter[str] = Counter()
        self.seconds: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if name.startswith("_") or not callable(attr):
            return attr

        def timed(*a: Any, **k: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return attr(*a, **k)
            finally:
                self.calls[name] += 1
                self.seconds[name] += time.perf_counter() - t0

        return timed


def pick(store: Store, rules: RuleSettings) -> dict[str, tuple[str, str | None]]:
    """The page of each view worth timing: the biggest of its kind."""
    cms = store.committee_member_audit(AS_OF, rules)
    cm = max(cms, key=lambda r: (r["delegate_count"],
                                 r["households_reached"]))["committee_member_id"]
    dels = store.delegate_audit(AS_OF, rules)
    de = max(dels, key=lambda r: (r["member_count"], r["households_reached"]))["delegate_id"]
    _, unc = store.households(AS_OF, rules, status="uncovered", limit=1)
    net = store.pairing_network(AS_OF)
    per_town = Counter(v.get("township_id") for v in net["villages"])
    town = max(per_town, key=lambda t: (per_town[t], t or ""))
    from graphsvc.analysis.requests import overdue_body

    asked = overdue_body(store, AS_OF, rules, escalate_after_days=14, township_id=town, limit=1)
    waiting = asked["items"][0]["household_id"] if asked["items"] else unc[0]["household_id"]
    mems = store.member_audit(AS_OF, rules, township_id=town)
    me = max(mems, key=lambda r: (r["household_count"], r["member_id"]))["member_id"]
    return {"chain": ("chain", cm), "delegate": ("delegate", de),
            "household": ("household", unc[0]["household_id"]),
            "household+req": ("household", waiting), "member": ("member", me),
            "township": ("township", town), "township, no plan": ("township-noplan", town),
            "pairings": ("pairings", town),
            "county overview": ("township", None), "county pairings": ("pairings", None),
            "index": ("index", None)}


def build(store: Any, view: str, rid: str | None, rules: RuleSettings) -> str:
    from visual.pages import index_page
    from visual.views import VIEWS

    if view == "index":
        return index_page(store, as_of=AS_OF, rules=rules)
    args = (rid,) if rid is not None else ()
    if view == "township-noplan":  # the overview without its repair plan layer
        return VIEWS["township"](store, *args, as_of=AS_OF, rules=rules, mask=True, plan=False)
    return VIEWS[view](store, *args, as_of=AS_OF, rules=rules, mask=True)


def measure(store: Store, label: str, rules: RuleSettings, repeat: int) -> dict[str, str | None]:
    from visual import cache

    pages = pick(store, rules)
    print(f"\n{label}")
    print(f"  {'view':<19}{'first':>8}{'uncached':>10}{'reads':>8}{'calls':>6}"
          f"{'cached':>8}{'max':>7}  nodes  (slowest reads)")
    for name, (view, rid) in pages.items():
        cache.clear()
        t0 = time.perf_counter()
        html = build(store, view, rid, rules)
        first = time.perf_counter() - t0
        cache.clear()
        timed = Timed(store)
        t0 = time.perf_counter()
        build(timed, view, rid, rules)
        uncached = time.perf_counter() - t0
        reads = sum(timed.seconds.values())
        runs = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            build(store, view, rid, rules)
            runs.append(time.perf_counter() - t0)
        nodes = html.count('"id": ') if view != "index" else 0
        slow = ", ".join(f"{k} {v * 1000:.0f}" for k, v in timed.seconds.most_common(3))
        print(f"  {name:<19}{first * 1000:>8.0f}{uncached * 1000:>10.0f}{reads * 1000:>8.0f}"
              f"{sum(timed.calls.values()):>6}{statistics.median(runs) * 1000:>8.0f}"
              f"{max(runs) * 1000:>7.0f}  {nodes or '':>5}  ({slow})")
    return {"township": pages["township"][1]}


def browser_draw(store: Store, township_id: str, rules: RuleSettings) -> None:
    """Open the township overview from a file in headless Chromium; time to a drawn canvas."""
    from playwright.sync_api import sync_playwright

    from visual.views import township_view

    html = township_view(store, township_id, as_of=AS_OF, rules=rules, mask=True,
                         link=lambda v, r: "#")
    with tempfile.TemporaryDirectory() as tmp:
        page_file = Path(tmp) / "township.html"
        page_file.write_text(html, encoding="utf-8")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                        args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page()
            page.route("**/*", lambda route: route.continue_()
                       if route.request.url.startswith("file:") else route.abort())
            times = []
            for _ in range(3):
                t0 = time.perf_counter()
                page.goto(page_file.as_uri())
                # the page marks <body data-drawn="1"> on vis-network's first afterDrawing
                page.wait_for_function("document.body.getAttribute('data-drawn') === '1'",
                                       timeout=60_000, polling=20)
                times.append(time.perf_counter() - t0)
                n = page.evaluate("() => window.network.body.data.nodes.length")
            browser.close()
    print(f"\nbrowser: township overview {township_id} ({n} nodes, {len(html) // 1024} KB): "
          f"navigation to drawn canvas {min(times):.2f}–{max(times):.2f} s over {len(times)} loads")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--counties", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--bundle", type=Path, help="an already generated N-county bundle")
    ap.add_argument("--skip-import", action="store_true",
                    help="the stores already hold the bundle (Neo4j in GRAPHSVC_NEO4J_URI, "
                         "the embedded one in --data-dir)")
    ap.add_argument("--data-dir", type=Path, help="the embedded store's folder")
    ap.add_argument("--no-neo4j", action="store_true")
    ap.add_argument("--no-browser", action="store_true")
    args = ap.parse_args()

    from _neo4j import neo4j_env, stop

    from graphsvc.config import Settings
    from graphsvc.generate import generate_bundle
    from graphsvc.importer import import_path
    from graphsvc.stores import open_store
    from graphsvc.stores.embedded import EmbeddedStore

    rules = Settings().rules()
    tmp = Path(tempfile.mkdtemp(prefix="visual-bench-"))
    bundle = args.bundle
    if bundle is None:
        bundle = tmp / "bundle"
        generate_bundle(bundle, counties=args.counties, seed=1)
    env, started = neo4j_env(not args.no_neo4j)
    try:
        # the tiny county, both stores
        with EmbeddedStore(tmp / "tiny-emb") as st:
            import_path(st, TINY)
            measure(st, "tiny county · embedded", rules, args.repeat)
        if not args.no_neo4j:
            os.environ.update({k: v for k, v in env.items() if k.startswith("GRAPHSVC_NEO4J")})
            with open_store(Settings()) as st:
                if not args.skip_import:
                    import_path(st, TINY, replace=True)
                    measure(st, "tiny county · Neo4j", rules, args.repeat)
                    import_path(st, bundle, replace=True)
                big = measure(st, f"{args.counties} counties · Neo4j", rules, args.repeat)
                if not args.no_browser:
                    browser_draw(st, str(big["township"]), rules)
        data_dir = args.data_dir or tmp / "big-emb"
        with EmbeddedStore(data_dir) as st:
            if not args.skip_import:
                import_path(st, bundle, replace=True)
            measure(st, f"{args.counties} counties · embedded", rules, args.repeat)
    finally:
        if started:
            stop(env)


if __name__ == "__main__":
    main()
