"""Coverage over time (graphsvc.analysis.trends) against the rules run date by date.

The baseline is the store's own audit on each step: ``store.summary(as_of=step, rules)``
for the counts of all households (county or township) and ``store.households(as_of=step,
…, focus_only=True)`` for the focus households (and for a village). The set-wise sweep must
give exactly those numbers on both stores: on the tiny county, on a county whose chain
changes over the weeks (reassignments, people leaving, a household moving away), and on
random counties (Hypothesis) with dates on every bound. Then the API, the chart page
(served behind the diagrams' login, and in Debian's chromium with the network refused)
and ``graphsvc trends``.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from tests_support import ROOT, visual_login
from tests_support.browser import CHROMIUM, LOCAL_HOSTS
from tests_support.counties import write_county
from tests_support.data import AS_OFS, CONTACT_DAYS, DAYS, VARIANTS, import_drawn, rule_bundles

from graphsvc.analysis import trends as T
from graphsvc.api import create_app
from graphsvc.api.routes.trends import visual_router
from graphsvc.config import Settings
from graphsvc.importer import import_path
from graphsvc.keys import KeyStore, Role
from graphsvc.rules import REASONS, RuleSettings, household_statuses, status_counts
from graphsvc.stores.base import Store
from graphsvc.stores.embedded import EmbeddedStore
from visual.render import EXTERNAL_REF

RULES = RuleSettings()
D = dt.date.fromisoformat
KEYS = ("households", "covered", "stale", "uncovered", *REASONS)


def flat(block: dict[str, Any]) -> dict[str, int]:
    return {k: block[k] if k in block else block["uncovered_by_reason"][k] for k in KEYS}


def counted(rows: list[dict[str, Any]]) -> dict[str, int]:
    c = status_counts(rows)
    return {"households": len(rows), **c["households_by_status"], **c["uncovered_by_reason"]}


def baseline(store: Store, day: dt.date, rules: RuleSettings, township_id: str | None = None,
             village_id: str | None = None) -> tuple[dict[str, int], dict[str, int]]:
    """(all, focus) on ``day`` by the store's own audit of that day."""
    if village_id is None:
        s = store.summary(day, rules, township_id=township_id)
        every = {"households": s["households"], **s["households_by_status"],
                 **s["uncovered_by_reason"]}
    else:
        every = counted(store.households(day, rules, village_id=village_id)[1])
    _, focus = store.households(day, rules, township_id=township_id, village_id=village_id,
                                focus_only=True)
    return every, counted(focus)


def check(store: Store, rules: RuleSettings, first: str, last: str, step: str,
          **scope: str | None) -> dict[str, Any]:
    body = T.trends_body(store, rules, first=D(first), last=D(last), step=step, **scope)
    assert body["steps"], body
    for s in body["steps"]:
        every, focus = baseline(store, D(s["as_of"]), rules, **scope)
        assert flat(s["all"]) == every, (s["as_of"], scope)
        assert flat(s["focus"]) == focus, (s["as_of"], scope)
    return body


# -- the steps --------------------------------------------------------------------------------


def test_steps_are_counted_from_the_first_date() -> None:
    assert T.step_dates(D("2025-01-31"), D("2025-05-31"), "month") == [
        D("2025-01-31"), D("2025-02-28"), D("2025-03-31"), D("2025-04-30"), D("2025-05-31")]
    assert T.step_dates(D("2024-11-30"), D("2025-08-30"), "quarter") == [
        D("2024-11-30"), D("2025-02-28"), D("2025-05-30"), D("2025-08-30")]
    assert T.step_dates(D("2026-06-01"), D("2026-06-21"), "week") == [
        D("2026-06-01"), D("2026-06-08"), D("2026-06-15")]
    assert T.step_dates(D("2026-06-01"), D("2026-06-01"), "month") == [D("2026-06-01")]
    assert T.default_from(D("2026-06-30"), "month") == D("2025-06-30")
    assert T.default_from(D("0001-02-01"), "quarter") == dt.date.min
    assert T.step_dates(D("9999-06-30"), D("9999-12-31"), "quarter") == [
        D("9999-06-30"), D("9999-09-30"), D("9999-12-30")]
    with pytest.raises(ValueError, match="after"):
        T.step_dates(D("2026-06-02"), D("2026-06-01"), "week")
    with pytest.raises(ValueError, match="more than 1000"):
        T.step_dates(D("2000-01-01"), D("2026-01-01"), "week")
    with pytest.raises(ValueError, match="step"):
        T.step_dates(D("2026-01-01"), D("2026-06-01"), "day")


def test_bitsets_hold_the_bounds() -> None:
    m = T._Masks([D("2026-01-01"), D("2026-02-01"), D("2026-03-01")])
    assert m.interval(None, None) == 0b111
    assert m.interval(D("2026-02-01"), None) == 0b110  # since <= day
    assert m.interval(None, D("2026-02-01")) == 0b001  # day < until
    assert m.interval(D("2026-01-02"), D("2026-03-01")) == 0b010
    assert m.active("inactive", D("2026-02-01")) == 0b001 and m.active("inactive", None) == 0
    assert m.fresh([D("2025-10-03")], 90) == 0b001  # 90 days before 01-01: still fresh
    assert m.fresh([D("2025-10-02")], 90) == 0  # 91 days
    assert m.fresh([D("2026-02-15")], 14) == 0b100 and m.fresh([], 90) == 0


# -- against the rules, date by date, on both stores ------------------------------------------


def test_tiny_county_month_by_month(tiny: Store) -> None:
    body = check(tiny, RULES, "2025-06-30", "2026-06-30", "month")
    assert len(body["steps"]) == 13 and body["steps"][-1]["as_of"] == "2026-06-30"
    last = body["steps"][-1]["all"]
    assert (last["households"], last["covered"], last["stale"], last["uncovered"]) == \
        (59, 39, 3, 17)  # expected.json's summary
    assert last["shares"]["covered"] == round(39 / 59, 4)
    check(tiny, RULES, "2025-12-31", "2026-07-31", "month", township_id="T1")
    check(tiny, RULES, "2026-03-02", "2026-07-20", "week", village_id="V1")
    check(tiny, RuleSettings(stale_after_days=30), "2026-05-01", "2026-07-10", "week",
          township_id="T2")


def test_a_changing_chain_week_by_week(store: Store, tmp_path: Path) -> None:
    """Members reassigned and leaving, a delegate and a committee member leaving, a household
    moving away: every week from April to August."""
    assert import_path(store, write_county(tmp_path / "county")).ok
    body = check(store, RULES, "2026-04-01", "2026-08-31", "week")
    check(store, RuleSettings(stale_after_days=7), "2026-04-03", "2026-08-31", "week",
          township_id="T1")
    check(store, RULES, "2026-01-15", "2026-12-15", "month", village_id="V1")
    reasons = {r for s in body["steps"] for r in REASONS if s["all"]["uncovered_by_reason"][r]}
    assert reasons == set(REASONS)  # every reason turns up on some date
    assert len({s["all"]["households"] for s in body["steps"]}) == 2  # H7 moves away


def test_both_stores_give_the_same_body(make_store: Any, tiny_dir: Path, tmp_path: Path) -> None:
    bodies = []
    for kind in ("embedded", "neo4j"):
        s = make_store(kind)
        assert import_path(s, tiny_dir).ok
        got = [T.trends_body(s, RULES, first=None, last=D("2026-06-30"), step=step, **scope)
               for step in ("week", "month", "quarter")
               for scope in ({}, {"township_id": "T2"}, {"village_id": "V3"})]
        got.append(T.trends_body(s, RULES, first=D("0001-01-01"), last=D("0001-03-01"),
                                 step="month"))
        bodies.append(got)
    assert bodies[0] == bodies[1]


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(drawn=rule_bundles())
def test_random_counties_on_every_bound(
        drawn: tuple[dict[str, list[dict[str, Any]]], list[dict[str, Any]]],
        neo4j_shared: Store) -> None:
    """The sweep on every date where something starts or ends (and the days either side)
    equals the rules of that date; Neo4j's reading gives the embedded store's answer."""
    from tests_support import clear

    data, later = drawn
    days = sorted({d + dt.timedelta(days=k) for d in {*DAYS, *CONTACT_DAYS, *AS_OFS}
                   for k in (-1, 0, 1)})
    with tempfile.TemporaryDirectory() as tmp:
        emb = EmbeddedStore(Path(tmp) / "emb")
        try:
            import_drawn(emb, data, later, Path(tmp) / "a")
            G = emb.graph()
            for rules in VARIANTS:
                chains = T.read_chains(emb, contacts=(dt.date.min, dt.date.max))
                masks = T.household_masks(chains, days, rules)
                for i, day in enumerate(days):
                    got = {h: next((k for k, bits in m.items() if bits >> i & 1), None)
                           for h, m in masks.items()}
                    want = {r["household_id"]: r["reason"] or r["status"]
                            for r in household_statuses(G, day, rules)}
                    assert {h: k for h, k in got.items() if k} == want, (day, rules)
            clear(neo4j_shared)
            import_drawn(neo4j_shared, data, later, Path(tmp) / "b")
            town = data["townships"][-1]["id"]
            for scope in ({}, {"township_id": town}):
                args = {"first": D("2024-12-25"), "last": D("2026-07-15"), "step": "week",
                        **scope}
                assert T.trends_body(emb, VARIANTS[1], **args) == \
                    T.trends_body(neo4j_shared, VARIANTS[1], **args), scope
        finally:
            emb.close()


# -- the API and the page ---------------------------------------------------------------------


def trends_app(settings: Settings, store: Store) -> FastAPI:
    """The app, with the chart page in front of the diagrams' ``/visual/{view}`` (until
    graphsvc/api/app.py includes ``visual_router`` itself, before ``visual.router``)."""
    app = create_app(settings, store=store)
    if not any(getattr(r, "path", None) == "/visual/trends" for r in app.router.routes):
        app.router.routes[:0] = visual_router.routes
    return app


@pytest.fixture
def api(tiny: Store, tmp_path: Path) -> Iterator[tuple[TestClient, KeyStore]]:
    settings = Settings(data_dir=tmp_path / "api", neo4j_uri=None)
    with TestClient(trends_app(settings, tiny)) as client:
        yield client, KeyStore(tmp_path / "api")


def _bearer(keys: KeyStore, role: Role, *towns: str) -> dict[str, str]:
    _, token = keys.create(role, townships=towns)
    return {"Authorization": f"Bearer {token}"}


def test_api_answers_the_body_and_refuses_what_is_not_allowed(
        api: tuple[TestClient, KeyStore], tiny: Store) -> None:
    client, keys = api
    admin = _bearer(keys, Role.ADMIN)
    r = client.get("/api/v1/trends", headers=admin,
                   params={"from": "2025-12-31", "to": "2026-06-30", "step": "quarter",
                           "village_id": "V1"})
    assert r.status_code == 200, r.text
    assert r.json() == T.trends_body(tiny, RULES, first=D("2025-12-31"), last=D("2026-06-30"),
                                     step="quarter", village_id="V1")
    assert [s["as_of"] for s in r.json()["steps"]] == ["2025-12-31", "2026-03-31", "2026-06-30"]
    for params in ({"step": "day"}, {"from": "2026-07-01", "to": "2026-06-30"},
                   {"from": "1900-01-01", "step": "week"}, {"to": "2026-13-01"},
                   {"from": "yesterday"}):
        r = client.get("/api/v1/trends", headers=admin, params=params)
        assert r.status_code == 422 and r.json()["detail"], (params, r.text)
    t1 = _bearer(keys, Role.VIEWER, "T1")
    r = client.get("/api/v1/trends", headers=t1, params={"to": "2026-06-30"})
    assert r.status_code == 200 and r.json()["township_id"] == "T1"  # the key's township
    assert r.json()["steps"][-1]["all"]["households"] == 37
    r = client.get("/api/v1/trends", headers=t1, params={"township_id": "T2"})
    assert r.status_code == 403
    assert client.get("/api/v1/trends").status_code == 401


def _login(client: TestClient, keys: KeyStore, role: Role, *towns: str) -> None:
    client.cookies.clear()
    _, token = keys.create(role, townships=towns)
    r = visual_login(client, token)  # through the form, with its token
    assert r.status_code == 303


def test_chart_page_behind_the_login(api: tuple[TestClient, KeyStore]) -> None:
    client, keys = api
    r = client.get("/visual/trends", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/visual/login"
    _login(client, keys, Role.ADMIN)
    r = client.get("/visual/trends", params={"township_id": "T1", "to": "2026-06-30"})
    assert r.status_code == 200 and r.headers["content-security-policy"].startswith(
        "default-src 'none'")
    page = r.text
    assert "覆盖率趋势 · 柳树镇" in page and page.count('<svg class="chart"') == 2
    assert not EXTERNAL_REF.search(page) and "http" not in page and "<script" not in page
    assert page.count("<tr><td class=day>") == 2 * 13  # two tables, 13 months
    county = client.get("/visual/trends", params={"to": "2026-06-30", "step": "quarter"}).text
    assert "覆盖率趋势 · 全县" in county
    # with the date the diagrams' links carry as the last date
    r = client.get("/visual/trends", params={"township_id": "T1", "as_of": "2026-06-30"})
    assert r.status_code == 200 and "柳树镇" in r.text
    assert r.text.count("<tr><td class=day>") == 2 * 13 and "<td class=day>2026-06-30<" in r.text
    assert client.get("/visual/trends", params={"township_id": "T9"}).status_code == 404
    assert client.get("/visual/trends", params={"step": "day"}).status_code == 422
    _login(client, keys, Role.VIEWER, "T1")
    r = client.get("/visual/trends", params={"to": "2026-06-30"})
    assert r.status_code == 200 and "柳树镇" in r.text and "林口镇" not in r.text
    assert client.get("/visual/trends", params={"township_id": "T2"}).status_code == 404
    _login(client, keys, Role.VIEWER, "T1", "T2")
    assert client.get("/visual/trends").status_code == 404  # several townships: name one
    assert client.get("/visual/trends", params={"township_id": "T2"}).status_code == 200


def test_names_are_shown_never_run(tmp_path: Path, tiny_copy: Path) -> None:
    from visual.trends import trends_page

    evil = "<script>alert(1)</script>"
    rows = list(csv.DictReader((tiny_copy / "townships.csv").open(encoding="utf-8")))
    rows[0]["name"] = evil
    with (tiny_copy / "townships.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    s = EmbeddedStore(tmp_path / "data")
    assert import_path(s, tiny_copy).ok
    body = T.trends_body(s, RULES, first=None, last=D("2026-06-30"), township_id="T1")
    body["township_id"] = '"><b onmouseover=alert(1)>'  # even an id from the data
    page = trends_page(body, place_name=evil, link=lambda v, r: f"/visual/{v}?x=<i>",
                       form_action="/visual/trends")
    assert evil not in page and "<b onmouseover" not in page and "<i>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    s.close()


# -- the CLI ----------------------------------------------------------------------------------


def _cli(args: list[str], data: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRAPHSVC_")}
    env.update({"GRAPHSVC_DATA_DIR": str(data), "PYTHONPATH": str(ROOT)})
    return subprocess.run([sys.executable, "-m", "graphsvc", *args], env=env, cwd=data,
                          capture_output=True, text=True, timeout=300, check=False)


def test_cli_prints_the_api_body_and_writes_the_page(tmp_path: Path, tiny_dir: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    assert _cli(["import", str(tiny_dir)], data).returncode == 0
    with EmbeddedStore(data) as s:
        want = T.trends_body(s, RULES, first=D("2025-06-30"), last=D("2026-06-30"),
                             step="quarter", township_id="T2")
    args = ["trends", "--township-id", "T2", "--from", "2025-06-30", "--to", "2026-06-30",
            "--step", "quarter"]
    r = _cli([*args, "--format", "json", "--html", str(tmp_path / "t.html")], data)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == want
    page = (tmp_path / "t.html").read_text(encoding="utf-8")
    assert "林口镇" in page and not EXTERNAL_REF.search(page) and "<form" not in page
    r = _cli([*args, "--format", "csv"], data)
    lines = r.stdout.lstrip("\ufeff").splitlines()
    assert lines[0].startswith("as_of,households,covered,stale,uncovered,no_member")
    assert len(lines) == 1 + len(want["steps"])
    r = _cli(["trends", "--to", "2026-06-30"], data)
    assert r.returncode == 0 and "covered share" in r.stdout and "66.1%" in r.stdout
    r = _cli(["trends", "--from", "1990-01-01", "--step", "week"], data)
    assert r.returncode == 2 and "more than 1000 dates" in r.stderr


# -- in a real browser ------------------------------------------------------------------------

@contextmanager
def served(app: FastAPI) -> Iterator[str]:
    """The app under uvicorn on a free loopback port, in a thread."""
    import socket

    import uvicorn

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.mark.system  # uvicorn in a thread, driven by chromium
def test_chart_page_in_chromium(tiny_copy: Path, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Debian's chromium is missing: apt-get install chromium"
    rows = list(csv.DictReader((tiny_copy / "townships.csv").open(encoding="utf-8")))
    rows[0]["name"] = '柳树镇<img src=x onerror="alert(2)">'
    with (tiny_copy / "townships.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    store = EmbeddedStore(tmp_path / "data")
    assert import_path(store, tiny_copy).ok
    settings = Settings(data_dir=tmp_path / "api", neo4j_uri=None)
    _, key = KeyStore(tmp_path / "api").create(Role.VIEWER, townships=["T1"])
    shots = Path(os.environ.get("GRAPHSVC_SCREENSHOTS") or tmp_path / "shots")
    shots.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    refused: list[str] = []
    dialogs: list[str] = []

    def route(r: Any) -> None:
        parts = urlsplit(r.request.url)
        if parts.scheme in ("data", "about", "blob") or parts.hostname in LOCAL_HOSTS:
            r.continue_()
        else:
            refused.append(r.request.url)
            r.abort()

    try:
        with served(trends_app(settings, store)) as base, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                        args=["--no-sandbox", "--disable-gpu", "--no-first-run",
                                              "--disable-background-networking"])
            context = browser.new_context(viewport={"width": 1200, "height": 900})
            context.route("**/*", route)
            page = context.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto(f"{base}/visual/trends?to=2026-06-30")
            assert page.url.endswith("/visual/login")
            page.fill("input[name=key]", key)
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/visual/")
            page.goto(f"{base}/visual/trends?to=2026-06-30&step=month")
            charts = page.locator("svg.chart")
            assert charts.count() == 2
            assert '柳树镇<img src=x onerror="alert(2)">' in page.inner_text("h1")
            for which in ("all", "focus"):
                box = page.locator(f'svg[data-chart="{which}"]').bounding_box()
                assert box and box["width"] > 800 and box["height"] > 200
                series = page.locator(f'svg[data-chart="{which}"] polygon.series')
                assert series.count() >= 3  # covered, stale and at least one reason
                assert page.locator(f'svg[data-chart="{which}"] rect.step').count() == 13
            tip = page.locator('svg[data-chart="all"] rect.step title').last.text_content()
            assert tip and tip.startswith("2026-06-30 · 在册 37 户") and "已覆盖：28" in tip
            # the period form asks again, by quarter
            page.select_option("select[name=step]", "quarter")
            page.click("form.period button")
            page.wait_for_url(re.compile(r".*step=quarter.*"))
            assert page.locator('svg[data-chart="all"] rect.step').count() == 5
            page.screenshot(path=str(shots / "trends-T1.png"), full_page=True)
            browser.close()
    finally:
        store.close()
    assert not errors and not refused and not dialogs, (errors, refused, dialogs)
