"""The diagram pages on both stores: offline (no external reference), escaped, the right
nodes and edges, the served pages behind the session cookie and township scope, the CLI."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from graphsvc.api import create_app
from graphsvc.config import Settings
from graphsvc.importer import import_path
from graphsvc.keys import KeyStore, Role
from graphsvc.rules import RuleSettings
from graphsvc.stores.base import Store
from visual.render import file_link
from visual.views import VIEWS

DAY = dt.date(2026, 6, 30)
RULES = RuleSettings()

# (view, id) -> (nodes, edges) drawn for the tiny county on DAY
EXPECTED: dict[tuple[str, str | None], tuple[int, int]] = {
    ("chain", "C1"): (42, 41),  # C1, D1 (D3 inactive), 10 members, 30 households
    ("delegate", "D2"): (18, 17),  # C2 above; M11, M12, M13, M15 and their 12 households below
    ("member", "M01"): (6, 5),  # C1 -> D1 -> M01 -> 3 households
    ("household", "H052"): (6, 5),  # M18 -> D4 -> C3 (inactive), village V4 <- U3
    ("household", "H059"): (4, 3),  # no member: a break node; village V4 <- U3
    ("pairings", None): (8, 3),
    ("pairings", "T2"): (4, 1),  # U2's pairing with V3 ended: V3 needs a unit, U2 idle
    ("township", "T1"): (5, 6),  # T1, V1, V2, U1, D1
    ("township", None): (4, 2),  # T1, T2, U1, U3
}

EXTERNAL = [
    re.compile(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", re.I),
    re.compile(r"@import\s+url\(\s*[\"']?http", re.I),
    re.compile(r"url\(\s*[\"']?http", re.I),
    re.compile(r"<link\b[^>]*\bhref\s*=\s*[\"']?https?:", re.I),
]
EVIL = "<script>alert(1)</script>"
EVIL_IMG = '<img src=x onerror="alert(2)">'


def build(store: Store, view: str, rid: str | None, **kw: Any) -> str:
    args = (rid,) if rid else ()
    return VIEWS[view](store, *args, as_of=DAY, rules=RULES, **kw)


def data_of(page: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The node and edge data a page hands to vis-network."""
    nodes = re.search(r"nodes = new vis\.DataSet\((.*?)\);\n", page)
    edges = re.search(r"edges = new vis\.DataSet\((.*?)\);\n", page)
    assert nodes and edges
    return json.loads(nodes.group(1)), json.loads(edges.group(1))


@pytest.fixture
def tiny(store: Store, tiny_dir: Path) -> Store:
    assert import_path(store, tiny_dir).ok
    return store


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
    assert [n["level"] for n in (by_id["C1"], by_id["D1"], by_id["M01"], by_id["H001"])] == [0, 1, 2, 3]
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


def _evil_copy(tiny_copy: Path) -> Path:
    """The tiny county with script-like names (as a spreadsheet might hold)."""
    for name, column, ids in [("people.csv", "name", {"C1", "D1", "M01"}),
                              ("households.csv", "head_name", {"H001"}),
                              ("villages.csv", "name", {"V1"}), ("townships.csv", "name", {"T1"}),
                              ("units.csv", "name", {"U1"})]:
        path = tiny_copy / name
        with path.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
        for r in rows:
            if r["id"] in ids:
                r[column] = EVIL if r["id"] != "H001" else EVIL_IMG
        with path.open("w", encoding="utf-8", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
    return tiny_copy


def test_malicious_names_are_shown_never_run(store: Store, tiny_copy: Path) -> None:
    assert import_path(store, _evil_copy(tiny_copy)).ok
    for view, rid in [("chain", "C1"), ("delegate", "D1"), ("household", "H001"),
                      ("pairings", "T1"), ("pairings", None), ("township", "T1"), ("township", None)]:
        page = build(store, view, rid)
        assert EVIL not in page and EVIL_IMG not in page, view
        nodes, _ = data_of(page)
        assert any(EVIL in n["label"] or EVIL_IMG in n["label"] for n in nodes), view  # shown as text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in build(store, "chain", "C1")  # the heading


# -- served -----------------------------------------------------------------------------------


@pytest.fixture
def served(tiny: Store, tmp_path: Path) -> Iterator[tuple[TestClient, KeyStore]]:
    settings = Settings(data_dir=tmp_path / "api", neo4j_uri=None)
    with TestClient(create_app(settings, store=tiny)) as client:
        yield client, KeyStore(tmp_path / "api")


def login(client: TestClient, keys: KeyStore, role: Role = Role.ADMIN, **kw: Any) -> str:
    _, token = keys.create(role, **kw)
    r = client.post("/visual/login", data={"key": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/visual/"
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/visual" in cookie
    return token


def test_pages_need_the_session_cookie(served: tuple[TestClient, KeyStore]) -> None:
    client, keys = served
    r = client.get("/visual/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/visual/login"
    assert "<form" in client.get("/visual/login").text
    _, token = keys.create(Role.ADMIN)
    bearer = client.get("/visual/chain/C1", headers={"Authorization": f"Bearer {token}"},
                        follow_redirects=False)
    assert bearer.status_code == 303  # a Bearer header is no session
    bad = client.post("/visual/login", data={"key": "gs_" + "x" * 32})
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
    r = client.post("/visual/logout", follow_redirects=False)
    assert r.status_code == 303 and "gs_visual=" in r.headers["set-cookie"]


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
    stand_ins = 0
    for url in urls:
        r = client.get(url, params={"as_of": "2026-06-30"})
        assert r.status_code == 200, (url, r.text[:300])
        for rid in outside_ids:
            assert not re.search(rf"(?<![A-Za-z0-9_]){re.escape(rid)}(?![A-Za-z0-9_])", r.text), \
                (url, rid)
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
    hits = cache._memo.hits  # noqa: SLF001 - the second page was read from the cache
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


def test_visualize_command_writes_utf8_files(tiny_dir: Path, tmp_path: Path) -> None:
    import graphsvc

    env = {"GRAPHSVC_DATA_DIR": str(tmp_path / "data"), "PYTHONIOENCODING": "ascii",
           "PYTHONPATH": str(Path(graphsvc.__file__).resolve().parents[1]),
           "PATH": "/usr/bin:/bin"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "graphsvc", *args], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=300, check=False)

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
