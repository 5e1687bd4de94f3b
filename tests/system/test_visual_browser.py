"""The diagram pages in a real browser: Debian's chromium, headless, driven by playwright,
with every request that is not to the local server (or a local file) refused.

Each view of the tiny county, served by a real ``graphsvc serve`` after logging in
through the login form, loads with no console error and no attempt to reach the
internet, holds the expected nodes and edges, and draws its canvas; clicking a
node opens that node's page. Screenshots go to ``GRAPHSVC_SCREENSHOTS`` when set
(``docs/screenshots`` keeps the ones the README shows), else to a temporary folder.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from tests_support.browser import Watched
from tests_support.cli import run
from tests_support.pages import DAY, EVIL, EXPECTED, RULES, evil_copy
from tests_support.server import make_key, serving

from graphsvc.importer import import_path
from graphsvc.stores.embedded import EmbeddedStore
from visual.render import file_link, write_page
from visual.views import VIEWS

DRAWN = """() => {
  const c = document.querySelector('#mynetwork canvas');
  if (!c) return 0;
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0;
  for (let i = 3; i < d.length; i += 4) { if (d[i] > 0) n++; }
  return n;
}"""


def shots_dir(tmp_path: Path) -> Path:
    d = Path(os.environ.get("GRAPHSVC_SCREENSHOTS") or tmp_path / "screenshots")
    d.mkdir(parents=True, exist_ok=True)
    return d


def test_every_view_in_chromium(browser: Any, tiny_dir: Path, tmp_path: Path) -> None:
    env = {"GRAPHSVC_DATA_DIR": str(tmp_path / "data")}
    assert run(["import", str(tiny_dir)], env, tmp_path).returncode == 0
    key = make_key(env, tmp_path, "--role", "admin")
    shots = shots_dir(tmp_path)
    with serving([], env, tmp_path) as (base, _):
        w = Watched(browser)
        try:
            w.page.goto(f"{base}/visual/")
            assert w.page.url.endswith("/visual/login")
            w.page.fill("input[name=key]", key)
            w.page.click("button[type=submit]")
            w.page.wait_for_url(f"{base}/visual/")
            assert "柳树镇" in w.page.inner_text("body")
            cookie = next(c for c in w.context.cookies() if c["name"] == "gs_visual")
            assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
            assert w.page.evaluate("document.cookie") == ""  # HttpOnly: scripts cannot read it
            for (view, rid), expected in EXPECTED.items():
                url = f"{base}/visual/{view}" + (f"/{rid}" if rid else "") + f"?as_of={DAY}"
                assert w.load(url) == expected, url
                w.page.wait_for_timeout(400)  # let physics settle before the picture
                assert w.page.evaluate(DRAWN) > 2000, f"{url}: the canvas is blank"
                w.page.screenshot(path=str(shots / f"{view}{'-' + rid if rid else ''}.png"))
                assert not w.errors, (url, w.errors)
            # a click on a node opens its page
            w.load(f"{base}/visual/chain/C1?as_of={DAY}")
            x, y = w.page.evaluate("""() => {
              const p = network.canvasToDOM(network.getPosition('D1'));
              const r = document.getElementById('mynetwork').getBoundingClientRect();
              return [p.x + r.left, p.y + r.top];
            }""")
            w.page.mouse.click(x, y)
            w.page.wait_for_url(f"{base}/visual/delegate/D1?as_of={DAY}")  # the date is kept
            assert not w.errors and not w.refused and not w.dialogs
        finally:
            w.close()


def test_malicious_names_do_not_run_in_chromium(browser: Any, tiny_copy: Path,
                                                tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "data")
    try:
        assert import_path(store, evil_copy(tiny_copy)).ok
        pages = {}
        for view, rid in [("chain", "C1"), ("household", "H001"), ("township", "T1")]:
            path = tmp_path / file_link(view, rid)
            write_page(str(path), VIEWS[view](store, rid, as_of=DAY, rules=RULES, link=file_link))
            pages[view] = path
    finally:
        store.close()
    w = Watched(browser)
    try:
        for view, path in pages.items():
            w.load(path.as_uri())
            assert w.page.evaluate(DRAWN) > 500
        w.load(pages["chain"].as_uri())
        assert EVIL in w.page.inner_text("h1")  # shown as text
        labels = w.page.evaluate("network.body.data.nodes.get().map(n => n.label)")
        assert any(EVIL in label for label in labels)  # (a ⚑ may follow a risky person's name)
        # the hover text is a text node, not markup
        tip = w.page.evaluate("network.body.data.nodes.get('C1').title.textContent")
        assert EVIL in tip
        assert w.page.evaluate("document.querySelectorAll('img').length") == 0  # no <img> injected
        assert not w.dialogs and not w.errors and not w.refused
    finally:
        w.close()


def test_screenshot_shows_chinese(tmp_path: Path) -> None:
    """The CJK fonts the labels need are installed (else chromium draws empty boxes)."""
    fc = shutil.which("fc-list")
    assert fc, "fontconfig is missing"
    import subprocess

    out = subprocess.run([fc, ":lang=zh"], capture_output=True, text=True, check=True).stdout
    assert "Noto Sans CJK" in out or "Noto Serif CJK" in out, "apt-get install fonts-noto-cjk"


def test_capped_page_draws_in_chromium(browser: Any, tiny_dir: Path, tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "data")
    try:
        assert import_path(store, tiny_dir).ok
        path = tmp_path / "chain.html"
        write_page(str(path), VIEWS["chain"](store, "C1", as_of=DAY, rules=RULES, max_nodes=8))
    finally:
        store.close()
    w = Watched(browser)
    try:
        nodes, _ = w.load(path.as_uri())
        more = w.page.evaluate(
            "network.body.data.nodes.get().filter(n => n.id.startsWith('__more__')).length")
        assert nodes == 8 + more and more >= 1
        assert w.page.evaluate(DRAWN) > 500
        assert not w.errors and not w.refused
    finally:
        w.close()


def test_plan_and_request_pages_in_chromium(browser: Any, tiny_dir: Path, tmp_path: Path) -> None:
    """The township overview with its repair plan switched on by ``?plan=1`` and off and on
    by its checkbox, and the household, member and delegate pages with open requests: no
    console error, nothing fetched from elsewhere, a drawn canvas, a screenshot of each."""
    env = {"GRAPHSVC_DATA_DIR": str(tmp_path / "data")}
    assert run(["import", str(tiny_dir)], env, tmp_path).returncode == 0
    key = make_key(env, tmp_path, "--role", "admin")
    shots = shots_dir(tmp_path)
    later = "2026-07-20"  # the five open requests are overdue: with committee member C2
    with serving([], env, tmp_path) as (base, _):
        w = Watched(browser)
        try:
            w.page.goto(f"{base}/visual/login")
            w.page.fill("input[name=key]", key)
            w.page.click("button[type=submit]")
            w.page.wait_for_url(f"{base}/visual/")
            for town, (nodes, edges) in [("T1", EXPECTED[("township", "T1")]), ("T2", (6, 5))]:
                url = f"{base}/visual/township/{town}?as_of={DAY}&plan=1"
                w.load(url)
                w.page.wait_for_selector("body[data-layer-plan='1']", state="attached",
                                         timeout=15000)
                shown = w.page.evaluate("[network.body.data.nodes.length, "
                                        "network.body.data.edges.length]")
                extra = w.page.evaluate("[window.gsLayers.plan.nodes.length, "
                                        "window.gsLayers.plan.edges.length]")
                assert extra[0] > 0 and shown == [nodes + extra[0], edges + extra[1]], url
                assert w.page.is_checked("input[data-layer=plan]")
                assert w.page.is_visible("div[data-layer-part=plan]")
                dashed = w.page.evaluate(
                    "network.body.data.edges.get().filter(e => e.dashes && e.title).length")
                assert dashed > 0  # the proposed liaisons, with their reasons as hover text
                w.page.wait_for_timeout(400)
                assert w.page.evaluate(DRAWN) > 2000, f"{url}: the canvas is blank"
                w.page.screenshot(path=str(shots / f"township-{town}-plan.png"))
                # the checkbox takes the plan away and brings it back; the address follows
                w.page.uncheck("input[data-layer=plan]")
                w.page.wait_for_selector("body[data-layer-plan='0']", state="attached")
                assert w.page.evaluate("network.body.data.nodes.length") == nodes
                assert "plan=1" not in w.page.url and not w.page.is_visible(
                    "div[data-layer-part=plan]")
                w.page.check("input[data-layer=plan]")
                w.page.wait_for_selector("body[data-layer-plan='1']", state="attached",
                                         timeout=15000)
                assert w.page.evaluate("network.body.data.nodes.length") == nodes + extra[0]
                assert "plan=1" in w.page.url
                assert not w.errors, (url, w.errors)
            plain = w.load(f"{base}/visual/township/T1?as_of={DAY}")  # without ?plan=1: off
            assert plain == EXPECTED[("township", "T1")]
            assert not w.page.is_checked("input[data-layer=plan]")
            for view, rid, requests in [("household", "H041", 1), ("member", "M11", 1),
                                        ("delegate", "D2", 4)]:
                url = f"{base}/visual/{view}/{rid}?as_of={later}"
                w.load(url)
                found = w.page.evaluate("network.body.data.nodes.get().filter("
                                        "n => n.id.startsWith('__request__:'))"
                                        ".map(n => [n.shape, n.title.textContent])")
                assert len(found) == requests, url
                assert all(shape == "triangle" and "现由：县委委员" in tip for shape, tip in found)
                w.page.wait_for_timeout(400)
                assert w.page.evaluate(DRAWN) > 2000, f"{url}: the canvas is blank"
                w.page.screenshot(path=str(shots / f"{view}-{rid}-requests.png"))
                assert not w.errors, (url, w.errors)
            assert not w.refused and not w.dialogs
        finally:
            w.close()
