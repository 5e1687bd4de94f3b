"""The diagram pages on both stores: offline (no external reference), escaped, the right
nodes and edges, the served pages behind the session cookie and township scope, the CLI."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests_support import PKG_PARENT, form_token, visual_login
from tests_support.pages import (
    DAY,
    EVIL,
    EVIL_IMG,
    EXPECTED,
    RULES,
    data_of,
    evil_copy,
    layers_of,
    login,
)

from graphsvc.api import create_app
from graphsvc.config import Settings
from graphsvc.importer import import_path
from graphsvc.keys import KeyStore, Role
from graphsvc.stores.base import Store
from visual.render import file_link
from visual.views import VIEWS

EXTERNAL = [
    re.compile(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", re.IGNORECASE),
    re.compile(r"@import\s+url\(\s*[\"']?http", re.IGNORECASE),
    re.compile(r"url\(\s*[\"']?http", re.IGNORECASE),
    re.compile(r"<link\b[^>]*\bhref\s*=\s*[\"']?https?:", re.IGNORECASE),
]


def build(store: Store, view: str, rid: str | None, **kw: Any) -> str:
    args = (rid,) if rid else ()
    return VIEWS[view](store, *args, as_of=DAY, rules=RULES, **kw)


@pytest.mark.parametrize("view,rid", list(EXPECTED))
def test_views_are_offline_and_draw_the_network(tiny: Store, view: str, rid: str | None) -> None:
    page = build(tiny, view, rid)
    for pattern in EXTERNAL:
        assert not pattern.search(page), pattern.pattern
    assert "bootstrap" not in page.lower()
    assert page.startswith("<!DOCTYPE html>") and '<html lang="zh-CN">' in page
    assert 'class="gs-legend"' in page and "<li>" in page  # a legend
    assert "vis.Network" in page  # vis-network inlined, not linked
    nodes, edges = data_of(page)
    assert (len(nodes), len(edges)) == EXPECTED[(view, rid)]
    assert all(n.get("tip") for n in nodes)  # every node has hover text
    assert not any("title" in n for n in nodes)  # never pyvis' unescaped title


def test_chain_view_marks_status_and_gaps(tiny: Store) -> None:
    nodes, _ = data_of(build(tiny, "chain", "C1"))
    by_id = {n["id"]: n for n in nodes}
    assert by_id["C1"]["label"].removesuffix(" ⚑") == "李军秀"  # ⚑: a single point of failure
    assert by_id["C1"]["url"] == "/visual/chain/C1"
    assert by_id["D1"]["url"] == "/visual/delegate/D1"
    assert by_id["H001"]["url"] == "/visual/household/H001"
    assert "已覆盖" in by_id["H001"]["tip"]
    assert "联系过期" in by_id["H007"]["tip"]  # last contact 2026-03-01, more than 90 days
    assert [n["level"] for n in (by_id["C1"], by_id["D1"], by_id["M01"], by_id["H001"])] \
        == [0, 1, 2, 3]
    d2 = {n["id"]: n for n in data_of(build(tiny, "delegate", "D2"))[0]}
    assert "⚠" in d2["D2"]["label"] and "联系党员不足" in d2["D2"]["tip"]  # 4 members, not 10
    assert "⚠2户" in d2["M15"]["label"] and d2["M15"]["borderWidth"] == 4  # 2 households, not 3


def test_household_view_shows_where_the_chain_breaks(tiny: Store) -> None:
    page = build(tiny, "household", "H052")
    nodes = {n["id"]: n for n in data_of(page)[0]}
    assert "（不在岗）" in nodes["C3"]["label"]  # the committee member left: the break
    assert "无县委委员" in page
    assert nodes["U3"]["label"] == "丰源油脂有限公司"
    nodes59 = {n["id"]: n for n in data_of(build(tiny, "household", "H059"))[0]}
    assert nodes59["__break__:member"]["label"] == "断点：无联系党员"
    cadre = {n["id"]: n for n in data_of(build(tiny, "household", "H002"))[0]}
    assert "K1" in cadre and "结穷亲" in cadre["K1"]["label"]


def test_pairings_view_marks_unpaired_villages_and_idle_units(tiny: Store) -> None:
    nodes = {n["id"]: n for n in data_of(build(tiny, "pairings", "T2"))[0]}
    assert nodes["V3"]["label"].startswith("⚠") and "需要结对但没有单位" in nodes["V3"]["tip"]
    assert "（闲置）" in nodes["U2"]["label"]
    assert nodes["U3"]["shape"] == "diamond"  # enterprise
    county = {n["id"]: n for n in data_of(build(tiny, "pairings", None))[0]}
    assert county["U1"]["shape"] == "box" and "（闲置）" in county["U4"]["label"]


def test_township_view_aggregates_households(tiny: Store) -> None:
    nodes = {n["id"]: n for n in data_of(build(tiny, "township", "T1"))[0]}
    assert not any(i.startswith("H") for i in nodes)  # never household nodes
    assert nodes["V1"]["label"] == "双宝村（16户）"
    assert "在册户：16" in nodes["V1"]["tip"]
    county = {n["id"]: n for n in data_of(build(tiny, "township", None))[0]}
    assert county["T1"]["url"] == "/visual/township/T1"


def test_node_cap_is_honest(tiny: Store) -> None:
    nodes, _ = data_of(build(tiny, "chain", "C1", max_nodes=10))
    more = [n for n in nodes if n["id"].startswith("__more__")]
    assert len(nodes) == 10 + len(more)
    assert sum(int(re.search(r"另有 (\d+) 个", n["label"]).group(1)) for n in more) == 42 - 10


def test_masking_hides_household_names(tiny: Store) -> None:
    page = build(tiny, "household", "H001", mask=True)
    assert "李**" in page and "李山淑" not in page


def test_unknown_ids_are_not_found(tiny: Store) -> None:
    from graphsvc.errors import NotFound

    for view, rid in [("chain", "D1"), ("delegate", "M01"), ("household", "X9"),
                      ("township", "T9"), ("pairings", "T9"), ("chain", "nobody")]:
        with pytest.raises(NotFound):
            build(tiny, view, rid)


def test_malicious_names_are_shown_never_run(store: Store, tiny_copy: Path) -> None:
    assert import_path(store, evil_copy(tiny_copy)).ok
    for view, rid in [("chain", "C1"), ("delegate", "D1"), ("household", "H001"),
                      ("pairings", "T1"), ("pairings", None), ("township", "T1"),
                      ("township", None)]:
        page = build(store, view, rid)
        assert EVIL not in page and EVIL_IMG not in page, view
        nodes, _ = data_of(page)
        # shown as text
        assert any(EVIL in n["label"] or EVIL_IMG in n["label"] for n in nodes), view
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in build(store, "chain", "C1")  # the heading


# -- served -----------------------------------------------------------------------------------


@pytest.fixture
def served(tiny: Store, tmp_path: Path) -> Iterator[tuple[TestClient, KeyStore]]:
    settings = Settings(data_dir=tmp_path / "api", neo4j_uri=None)
    with TestClient(create_app(settings, store=tiny)) as client:
        yield client, KeyStore(tmp_path / "api")


def test_pages_need_the_session_cookie(served: tuple[TestClient, KeyStore]) -> None:
    client, keys = served
    r = client.get("/visual/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/visual/login"
    assert "<form" in client.get("/visual/login").text
    _, token = keys.create(Role.ADMIN)
    bearer = client.get("/visual/chain/C1", headers={"Authorization": f"Bearer {token}"},
                        follow_redirects=False)
    assert bearer.status_code == 303  # a Bearer header is no session
    bad = visual_login(client, "gs_" + "x" * 32)
    assert bad.status_code == 401 and "密钥无效" in bad.text
    login(client, keys)
    index = client.get("/visual/", params={"as_of": "2026-06-30"})
    assert index.status_code == 200
    assert "柳树镇" in index.text and "林口镇" in index.text and "/visual/chain/C1" in index.text
    assert "default-src 'none'" in index.headers["content-security-policy"]
    for (view, rid) in EXPECTED:
        url = f"/visual/{view}" + (f"/{rid}" if rid else "")
        r = client.get(url, params={"as_of": "2026-06-30"})
        assert r.status_code == 200, (url, r.text[:300])
        assert (len(data_of(r.text)[0]), len(data_of(r.text)[1])) == EXPECTED[(view, rid)]
    chain = client.get("/visual/chain/C1", params={"as_of": "2026-06-30"}).text
    assert '<a href="/visual/?as_of=2026-06-30">首页</a>' in chain  # links keep the date
    assert {n["id"]: n.get("url") for n in data_of(chain)[0]}["H001"] == \
        "/visual/household/H001?as_of=2026-06-30"
    assert client.get("/visual/household/NOPE").status_code == 404
    assert client.get("/visual/nosuchview/X").status_code == 404
    client.cookies.set("gs_visual", client.cookies["gs_visual"][:-2] + "00", path="/visual")
    assert client.get("/visual/", follow_redirects=False).status_code == 303  # tampered


def test_revoked_key_ends_the_session(served: tuple[TestClient, KeyStore]) -> None:
    client, keys = served
    token = login(client, keys)
    assert client.get("/visual/", follow_redirects=False).status_code == 200
    keys.revoke(token[3:11])
    assert client.get("/visual/", follow_redirects=False).status_code == 303
    login(client, keys)
    r = client.post("/visual/logout", data={"csrf": form_token(client, "/visual/")},
                    follow_redirects=False)
    assert r.status_code == 303 and "gs_visual=" in r.headers["set-cookie"]


def test_the_warmer_starts_and_stops_with_the_app(tiny: Store, tmp_path: Path) -> None:
    """The county pages' warmer runs while the app runs (its lifespan), warms once a page is
    asked, and is stopped before the app's store closes."""
    from visual import warmer as warming

    warmer = warming._warmer
    settings = Settings(data_dir=tmp_path / "api", neo4j_uri=None)
    app = create_app(settings, store=tiny)
    with TestClient(app) as client:
        assert id(app) in warmer._apps and warmer._thread is not None
        assert warmer._thread.is_alive()
        assert id(app) not in warmer._asked
        login(client, KeyStore(tmp_path / "api"))
        rounds = warmer.rounds
        assert client.get("/visual/").status_code == 200
        assert id(app) in warmer._asked
        warmer.kick()
        from visual.cache import store_key

        where = store_key(tiny)
        for _ in range(200):  # a round with the pages asked runs at once, and warms them
            if warmer.rounds > rounds and where in warmer._seen:
                break
            time.sleep(0.05)
        assert where in warmer._seen
        thread = warmer._thread
    assert id(app) not in warmer._apps
    if not warmer._apps:  # (no other app of this process running): the thread ended
        assert not thread.is_alive()


def test_township_keys_see_only_their_townships(served: tuple[TestClient, KeyStore]) -> None:
    client, keys = served
    login(client, keys, Role.VIEWER, townships=["T1"])
    index = client.get("/visual/").text
    assert "柳树镇" in index and "林口镇" not in index
    ok = ["/visual/township/T1", "/visual/pairings/T1", "/visual/household/H001",
          "/visual/delegate/D1"]
    hidden = ["/visual/township/T2", "/visual/pairings/T2", "/visual/household/H031",
              "/visual/delegate/D2", "/visual/township", "/visual/pairings", "/visual/chain/C1"]
    for url in ok:
        assert client.get(url).status_code == 200, url
    for url in hidden:
        assert client.get(url).status_code == 404, url
    page = client.get("/visual/household/H001").text  # no --pii: names masked
    assert "李**" in page and "李山淑" not in page


def test_township_pages_name_no_one_outside_the_keys_townships(
        served: tuple[TestClient, KeyStore], tiny: Store) -> None:
    """Every page a T1 key may open: no id or name of a person or household outside T1
    (committee members belong to no township: they are outside too), only stand-ins."""
    from graphsvc.rules import township_of

    client, keys = served
    login(client, keys, Role.EDITOR, townships=["T1"])
    G = tiny.graph()
    outside_ids, outside_names, inside = set(), set(), {"H": [], "D": []}
    for n, a in G.nodes(data=True):
        if a["entity"] not in ("person", "household"):
            continue
        if township_of(G, n) == "T1":
            if a["entity"] == "household":
                inside["H"].append(n)
            elif "delegate" in a.get("roles", ()):
                inside["D"].append(n)
            continue
        outside_ids.add(n)
        outside_names.add(a.get("name") or a.get("head_name"))
    assert inside["H"] and inside["D"] and len(outside_ids) > 20
    urls = (["/visual/", "/visual/township/T1", "/visual/pairings/T1"]
            + [f"/visual/household/{h}" for h in inside["H"]]
            + [f"/visual/delegate/{d}" for d in inside["D"]])
    # any outside id, standing alone (one pass over each page, not one per id)
    outside = re.compile(r"(?<![A-Za-z0-9_])(?:"
                         + "|".join(re.escape(i) for i in sorted(outside_ids, key=len,
                                                                  reverse=True))
                         + r")(?![A-Za-z0-9_])")
    stand_ins = 0
    for url in urls:
        r = client.get(url, params={"as_of": "2026-06-30"})
        assert r.status_code == 200, (url, r.text[:300])
        found = outside.search(r.text)
        assert found is None, (url, found.group(0) if found else None)
        for name in outside_names - {None}:
            assert name not in r.text, (url, name)
        if url != "/visual/":
            stand_ins += sum(1 for n in data_of(r.text)[0] if n["id"].startswith("__outside__:"))
    assert stand_ins > 0  # the chains do reach outside T1, and show it without names


def test_pages_show_a_write_at_once(tiny: Store, tmp_path: Path) -> None:
    """The pages' reads are kept until the data changes: a write shows on the next page."""
    from visual import cache

    cache.clear()
    before = build(tiny, "township", None)
    assert build(tiny, "township", None) == before  # the same data: the same page
    hits = cache._memo.hits
    assert hits > 0
    change = tmp_path / "change"
    change.mkdir()
    (change / "households.csv").write_text(
        "id,head_name,village_id,categories,status\nH999,新户,V1,,active\n", encoding="utf-8")
    assert not import_path(tiny, change).errors
    after = build(tiny, "township", None)
    assert after != before
    nodes = {n["id"]: n for n in data_of(after)[0]}
    was = {n["id"]: n for n in data_of(before)[0]}
    # T1 gained one household (uncovered: no member), in its label and its tip
    assert re.search(r"（(\d+)户）", nodes["T1"]["label"]).group(1) == str(
        int(re.search(r"（(\d+)户）", was["T1"]["label"]).group(1)) + 1)


def test_chain_and_township_views_mark_single_points_of_failure(tiny: Store) -> None:
    """The top of the risk ranking is marked (⚑, orange border, the households at stake)."""
    from graphsvc.analysis.risks import ranking

    top = ranking(tiny, DAY, RULES)
    assert top, "the tiny county has single points of failure"
    page = build(tiny, "chain", "C1")
    nodes = {n["id"]: n for n in data_of(page)[0]}
    marked = {i for i, n in nodes.items() if n["label"].endswith(" ⚑")}
    ranked = {r["person_id"]: r for r in top[:20]}
    assert marked and marked == set(nodes) & set(ranked)
    pid = next(iter(marked))
    assert f"若离开，{ranked[pid]['households_lost']} 户失去覆盖" in nodes[pid]["tip"]
    town = build(tiny, "township", "T1")
    town_ranked = {r["person_id"] for r in ranking(tiny, DAY, RULES, township_id="T1")[:20]}
    town_marked = {n["id"] for n in data_of(town)[0] if n["label"].endswith(" ⚑")}
    assert town_marked == {n["id"] for n in data_of(town)[0]} & town_ranked


def cli(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run ``python -m graphsvc ARGS`` in ``tmp_path`` with its own data directory, ASCII stdout."""
    env = {"GRAPHSVC_DATA_DIR": str(tmp_path / "data"), "PYTHONIOENCODING": "ascii",
           "PYTHONPATH": PKG_PARENT, "PATH": "/usr/bin:/bin"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "graphsvc", *args], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=300, check=False)

    return run


def test_visualize_command_writes_utf8_files(tiny_dir: Path, tmp_path: Path) -> None:
    run = cli(tmp_path)
    assert run("import", str(tiny_dir)).returncode == 0
    out = tmp_path / "h.html"
    r = run("visualize", "household", "H059", "-o", str(out), "--as-of", "2026-06-30")
    assert r.returncode == 0, r.stderr
    page = out.read_bytes().decode("utf-8")
    assert "谁在帮扶 姜霞建（H059）" in page  # the heading, written as UTF-8
    nodes, _ = data_of(page)
    assert "断点：无联系党员" in {n["label"] for n in nodes}
    assert {n["id"]: n.get("url") for n in nodes}["V4"] == file_link("township", "T2")
    assert run("visualize", "chain", "NOBODY", "-o", str(out)).returncode == 1
    assert run("visualize", "chain", "-o", str(out)).returncode == 2


def test_capped_hierarchy_keeps_levels_on_every_node() -> None:
    """vis-network refuses a hierarchical layout where only some nodes have a level."""
    from visual.render import Diagram

    d = Diagram("t", layout="UD", max_nodes=40)
    for p in range(30):
        d.node(f"P{p}", f"P{p}", tip="p", color="#123456", level=0)
        for c in range(3):
            d.node(f"P{p}C{c}", "c", tip="c", color="#123456", level=1, parent=f"P{p}")
    nodes, _ = data_of(d.html("t"))
    more = [n for n in nodes if n["id"].startswith("__more__")]
    assert len(more) == 1 and "另有 80 个未显示" == more[0]["label"]
    assert all("level" in n for n in nodes)


# -- repair plans and requests in the diagrams --------------------------------------------------


def test_township_plan_layer_draws_the_repair_plan(tiny: Store) -> None:
    """Every proposed liaison is a dashed edge with its reason; every uncovered household is
    drawn, ✚ when the plan covers it, ✖ (with why) when it cannot; the base drawing is the
    page without the plan."""
    from graphsvc.analysis.repair import plan

    for town, cap in [("T1", 5), ("T2", 5), ("T1", 3), ("T2", 3)]:
        body = plan(tiny, DAY, RULES, township_id=town, cap=cap)
        page = build(tiny, "township", town, cap=cap)
        layer = layers_of(page)["plan"]
        assert layer["param"] == "plan" and layer["on"] is False and layer["physics"] is True
        assert 'data-layer="plan"' in page and "显示补链方案" in page
        base = data_of(page)
        assert (len(base[0]), len(base[1])) == ((5, 6) if town == "T1" else (6, 5))
        nodes = {n["id"]: n for n in layer["nodes"]} | {n["id"]: n for n in base[0]}
        dashed = {(e["from"], e["to"]): e for e in layer["edges"] if e["dashes"]}
        assert set(dashed) == {(i["from_id"], i["to_id"]) for i in body["items"]}
        for i in body["items"]:
            e = dashed[(i["from_id"], i["to_id"])]
            assert i["reason"] in e["tip"] and e["color"] == "#d500f9" and e["width"] == 3
        _, rows = tiny.households(DAY, RULES, township_id=town, status="uncovered")
        cannot = {u["household_id"]: u["why"] for u in body["unassigned"]}
        for r in rows:
            h = nodes[r["household_id"]]
            if r["household_id"] in cannot:
                assert h["label"].startswith("✖ ") and cannot[r["household_id"]] in h["tip"]
                assert h["color"]["border"] == "#d50000"
            else:
                assert h["label"].startswith("✚ ") and h["color"]["border"] == "#d500f9"
        assert {n["label"][:1] for n in layer["nodes"] if n["id"].startswith("H")} <= {"✚", "✖"}
        assert bool(cannot) == (cap == 3)  # at a cap of 3 some stay uncovered, visibly
        assert f"无法覆盖 {len(cannot)} 户" in page
    # T1 at cap 5: D1 takes M16 and M17, whose 6 households are covered through them
    layer = layers_of(build(tiny, "township", "T1"))["plan"]
    solid = {(e["from"], e["to"]) for e in layer["edges"] if not e["dashes"]}
    assert {("M16", "H045"), ("M17", "H050")} <= solid
    # plan=True: on when the page opens; plan=False: no layer at all
    on = build(tiny, "township", "T1", plan=True)
    assert layers_of(on)["plan"]["on"] is True and 'data-layer="plan" checked' in on
    assert layers_of(build(tiny, "township", "T1", plan=False)) == {}
    assert layers_of(build(tiny, "township", None)) == {}  # the county: no plan layer


def test_plan_layer_masks_names_and_keeps_township_keys_inside(tiny: Store) -> None:
    head = tiny.fetch_entities(["H060"])["H060"][1]["head_name"]
    page = build(tiny, "township", "T1", mask=True, townships=["T1"])
    labels = {n["id"]: n["label"] for n in layers_of(page)["plan"]["nodes"]}
    assert labels["H060"] == f"✚ {head[0]}**" and head not in decoded(page)
    unmasked = {n["id"]: n["label"]
                for n in layers_of(build(tiny, "township", "T1"))["plan"]["nodes"]}
    assert unmasked["H060"] == f"✚ {head}"


def decoded(page: str) -> str:
    """The page with the data it hands to vis-network decoded (pyvis writes non-ASCII
    characters there as \\u escapes), to look for a name or a text in."""
    return page + json.dumps([data_of(page), layers_of(page)], ensure_ascii=False)


REQUEST_COLORS = {"member": "#29b6f6", "delegate": "#ff9800", "committee_member": "#e64a19",
                  "unrouted": "#6a1b9a"}


def _requests_on_page(page: str) -> dict[str, dict[str, Any]]:
    return {n["id"]: n for n in data_of(page)[0] if n["id"].startswith("__request__:")}


@pytest.mark.parametrize("day", [DAY, dt.date(2026, 7, 10), dt.date(2026, 7, 20)])
def test_requests_show_where_they_are(tiny: Store, day: dt.date) -> None:
    """Each open request of a household on the page is a triangle below it, coloured by how
    overdue it is, its hover text saying when it was raised, for how long and who holds it
    now, with a dashed edge to them: as ``graphsvc.analysis.requests`` routes it."""
    from graphsvc.analysis.requests import open_on, overdue_body
    from graphsvc.analysis.trends import read_chains

    chains = read_chains(tiny, requests_until=day)
    by_household: dict[str, list[Any]] = {}
    for r in open_on(chains, day, 14):
        by_household.setdefault(r.request.household.id, []).append(r)
    # a request's node is numbered within its household (its id is a digest of the text)
    routed = {f"{h}:{i}": r for h, rs in by_household.items() for i, r in enumerate(rs, 1)}
    assert routed  # T2's households have open requests
    names = {p: rec.get("name") for p, (_, rec) in tiny.fetch_entities(
        sorted({p for r in routed.values() for p in r.routed_to})).items()}
    for view, rid in [("household", "H041"), ("member", "M11"), ("delegate", "D2")]:
        page = VIEWS[view](tiny, rid, as_of=day, rules=RULES)
        shown = _requests_on_page(page)
        assert shown, (view, day)
        _, edges = data_of(page)
        for nid, n in shown.items():
            r = routed[nid.split(":", 1)[1]]
            state = "unrouted" if r.level is None else r.due_level
            assert n["color"]["background"] == REQUEST_COLORS[state]
            assert n["shape"] == "triangle"
            assert f"提出：{r.request.raised.isoformat()}（已 {r.age_days} 天" in n["tip"]
            assert "申请低保" in n["tip"]
            for p in r.routed_to:
                assert f"{names[p]}（{p}）" in n["tip"]
                if any(x["id"] == p for x in data_of(page)[0]):
                    assert any(e["from"] == nid and e["to"] == p and e["dashes"] for e in edges)
            assert any(e["from"] == r.request.household.id and e["to"] == nid for e in edges)
            assert ("状态：逾期" in n["tip"]) == r.overdue(14)
    # H041's member left: its request is with delegate D2 from the first day (a red border)
    h041 = next(iter(_requests_on_page(build(tiny, "household", "H041")).values()))
    assert "现由：党代表 杨强春（D2）" in h041["tip"] and h041["color"]["border"] == "#d50000"
    body = overdue_body(tiny, dt.date(2026, 7, 20), RULES, escalate_after_days=14)
    assert body["total"] == 5  # all five are overdue on 07-20: each with C2
    assert all(i["routed_to"] == ["C2"] for i in body["items"])
    assert "未办结诉求 1 件" in build(tiny, "household", "H041")


def test_request_texts_are_masked_like_names(tiny: Store) -> None:
    for view, rid in [("household", "H041"), ("member", "M11"), ("delegate", "D2")]:
        masked = decoded(build(tiny, view, rid, mask=True))
        assert "申请低保" not in masked and "申**" in masked, view
        assert all(n["label"].startswith("诉求 申**") and "诉求：申**" in n["tip"]
                   for n in _requests_on_page(build(tiny, view, rid, mask=True)).values())
        assert "申请低保" in decoded(build(tiny, view, rid))


def test_served_pages_mask_requests_and_switch_on_the_plan(
        served: tuple[TestClient, KeyStore]) -> None:
    client, keys = served
    login(client, keys, Role.VIEWER, townships=["T2"])  # no --pii
    page = decoded(client.get("/visual/household/H041", params={"as_of": "2026-07-20"}).text)
    assert "申请低保" not in page and "诉求 申**" in page
    town = client.get("/visual/township/T2", params={"as_of": "2026-06-30", "plan": "1"}).text
    assert layers_of(town)["plan"]["edges"] and "显示补链方案" in town
    assert "姜霞建" not in decoded(town) and "姜**" in decoded(town)  # H059's head, masked


def _with_request(tiny_copy: Path) -> Path:
    """The tiny county where H001 (T1, chain M01 → D1 → C1) raised a request on 2026-06-01."""
    with (tiny_copy / "contacts.csv").open("a", encoding="utf-8", newline="") as fh:
        fh.write("M01,H001,2026-06-01,visit,修缮危房,false\n")
    return tiny_copy


def test_a_township_key_sees_no_one_outside_in_requests_or_plans(
        store: Store, tiny_copy: Path, tmp_path: Path) -> None:
    """H001's request is with committee member C1 (of no township) on 2026-06-30: a T1 key's
    pages show a stand-in, never C1's id or name; the plan layer names no one outside T1."""
    from graphsvc.rules import township_of

    assert import_path(store, _with_request(tiny_copy)).ok
    settings = Settings(data_dir=tmp_path / "api", neo4j_uri=None)
    G = store.graph()
    outside = {n: (a.get("name") or a.get("head_name")) for n, a in G.nodes(data=True)
               if a["entity"] in ("person", "household") and township_of(G, n) != "T1"}
    assert "C1" in outside
    with TestClient(create_app(settings, store=store)) as client:
        keys = KeyStore(tmp_path / "api")
        login(client, keys, Role.EDITOR, townships=["T1"], pii=True)
        pages = {url: client.get(url, params={"as_of": "2026-06-30", "plan": "1"}).text
                 for url in ["/visual/household/H001", "/visual/member/M01",
                             "/visual/delegate/D1", "/visual/township/T1"]}
    for url, page in pages.items():
        page = decoded(page)
        for rid, name in outside.items():
            assert not re.search(rf"(?<![A-Za-z0-9_]){re.escape(rid)}(?![A-Za-z0-9_])", page), \
                (url, rid)
            assert not name or name not in page, (url, name)
    for url in ["/visual/household/H001", "/visual/member/M01", "/visual/delegate/D1"]:
        req = next(iter(_requests_on_page(pages[url]).values()))
        assert "修缮危房" in req["tip"]  # a --pii key reads the text
        assert "现由：县委委员（其他乡镇，不显示姓名）" in req["tip"]
        assert req["color"]["background"] == REQUEST_COLORS["committee_member"]
    edges = data_of(pages["/visual/household/H001"])[1]
    assert any(e["from"].startswith("__request__:") and e["to"].startswith("__outside__:")
               for e in edges)  # to the stand-in drawn for C1


def test_a_write_shows_on_the_next_page(tiny: Store, tmp_path: Path) -> None:
    """Requests and plans go through the page cache: a new request, or the plan applied,
    shows on the next page."""
    from graphsvc.analysis.repair import apply_items, plan
    from visual import cache

    cache.clear()
    assert not _requests_on_page(build(tiny, "household", "H001"))
    before = build(tiny, "township", "T1")
    assert build(tiny, "township", "T1") == before and cache._memo.hits
    change = tmp_path / "change"
    change.mkdir()
    (change / "contacts.csv").write_text(
        "person_id,household_id,date,channel,request,resolved\n"
        "M01,H001,2026-06-25,visit,修缮危房,false\n", encoding="utf-8")
    assert not import_path(tiny, change).errors
    shown = _requests_on_page(build(tiny, "household", "H001"))
    assert len(shown) == 1 and "修缮危房" in next(iter(shown.values()))["tip"]
    body = plan(tiny, DAY, RULES, township_id="T1")
    report, _ = apply_items(tiny, body["items"], DAY)
    assert report.ok
    after = layers_of(build(tiny, "township", "T1"))["plan"]
    assert not after["edges"] and not after["nodes"]  # nothing left uncovered in T1
    assert "未覆盖 0 户" in build(tiny, "township", "T1")


def test_visualize_township_plan_command(tiny_dir: Path, tmp_path: Path) -> None:
    run = cli(tmp_path)
    assert run("import", str(tiny_dir)).returncode == 0
    out = tmp_path / "t.html"
    r = run("visualize", "township", "T1", "--plan", "--cap", "3", "-o", str(out),
            "--as-of", "2026-06-30", "--mask")
    assert r.returncode == 0, r.stderr
    page = out.read_text(encoding="utf-8")
    layer = layers_of(page)["plan"]
    assert layer["on"] is True and any(n["label"] == "✖ 范**" for n in layer["nodes"])
    r = run("visualize", "household", "H041", "-o", str(out), "--as-of", "2026-07-20")
    assert r.returncode == 0 and "申请低保" in decoded(out.read_text(encoding="utf-8"))
    assert run("visualize", "chain", "C1", "--plan", "-o", str(out)).returncode == 2
