"""Issue 11, the diagram pages: their forms refuse other sites (login CSRF), logging out ends
the session on the server, a key's reads of unmasked households are logged household by
household, and every id the data format allows opens its page and its node links.

The pages are asked through FastAPI's TestClient (on both stores where the store matters)
and, for what only a browser decides (which Origin it sends, which cookies it keeps, how it
reads a link), through a real ``graphsvc serve`` driven by Debian's chromium.
"""

from __future__ import annotations

import csv
import http.server
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from fastapi.testclient import TestClient
from tests_support import form_token, visual_login
from tests_support.browser import Watched
from tests_support.cli import run
from tests_support.pages import DAY, data_of, layers_of
from tests_support.server import make_key, serving

from graphsvc.api import create_app
from graphsvc.config import Settings
from graphsvc.importer import import_path
from graphsvc.keys import KeyStore, Role
from graphsvc.sessions import SESSION_SECONDS, SessionStore
from graphsvc.stores.base import Store
from visual.render import served_link, with_query

EVIL = "https://evil.example"


@pytest.fixture
def served(tiny: Store, tmp_path: Path) -> Iterator[tuple[TestClient, KeyStore]]:
    """The app on the tiny county, on each store."""
    settings = Settings(data_dir=tmp_path / "api", neo4j_uri=None)
    with TestClient(create_app(settings, store=tiny)) as client:
        yield client, KeyStore(settings.data_dir)


def _no_session_cookie(r: Any) -> None:
    assert "gs_visual" not in r.headers.get("set-cookie", ""), r.headers.get("set-cookie")


# -- 7. login CSRF ------------------------------------------------------------------------------


def test_a_login_from_another_site_is_refused(served: tuple[TestClient, KeyStore]) -> None:
    """Another site's page posting our login form (with its owner's key) signs no one in,
    whatever it sends along; the form of this site's own page still works."""
    client, keys = served
    _, attacker = keys.create(Role.VIEWER, townships=["T1"])
    # a foreign page cannot read the token; with the header the browser sets, no cookie
    for headers in ({"Origin": EVIL}, {"Origin": "null"}, {"Referer": f"{EVIL}/login.html"},
                    {}):  # {}: a browser that says nothing, and no token: refused as well
        client.cookies.clear()
        r = client.post("/visual/login", data={"key": attacker}, headers=headers,
                        follow_redirects=False)
        assert r.status_code == 403, (headers, r.status_code)
        _no_session_cookie(r)
        assert "已拒绝" in r.text and "Refused" in r.text
        assert client.get("/visual/", follow_redirects=False).status_code == 303
    # even with a token of this site (a planted cookie and its token), a foreign Origin fails
    client.cookies.clear()
    token = form_token(client)
    r = client.post("/visual/login", data={"key": attacker, "csrf": token},
                    headers={"Origin": EVIL}, follow_redirects=False)
    assert r.status_code == 403 and f"sent from {EVIL}" in r.text
    _no_session_cookie(r)
    # a token of another browser (cookie) is no token
    other = "0" * 64
    r = client.post("/visual/login", data={"key": attacker, "csrf": other},
                    follow_redirects=False)
    assert r.status_code == 403 and "token" in r.text
    _no_session_cookie(r)
    # the same form from this site's own page: signed in, landing on the index
    r = visual_login(client, attacker, headers={"Origin": "http://testserver"})
    assert r.status_code == 303 and r.headers["location"] == "/visual/"
    assert client.get("/visual/").status_code == 200
    form_cookie = next(c for c in client.cookies.jar if c.name == "gs_form")
    assert form_cookie.path == "/visual" and form_cookie.has_nonstandard_attr("HttpOnly")


def test_behind_a_proxy_the_public_origin_is_trusted(tiny: Store, tmp_path: Path) -> None:
    """Behind a reverse proxy that rewrites Host, the browser's Origin is the public address:
    trusted once GRAPHSVC_PUBLIC_ORIGIN names it, and then only it."""
    proxied = {"Host": "127.0.0.1:8000", "Origin": "https://graphsvc.county.example"}
    for public, expect in ((None, 403), ("https://graphsvc.county.example", 303)):
        settings = Settings(data_dir=tmp_path / "api", neo4j_uri=None, public_origin=public)
        with TestClient(create_app(settings, store=tiny)) as client:
            _, key = KeyStore(settings.data_dir).create(Role.ADMIN)
            r = visual_login(client, key, headers=proxied)
            assert r.status_code == expect, (public, r.text[:300])
            if public:  # the Host header no longer vouches for an Origin
                client.cookies.clear()
                r = visual_login(client, key, headers={"Origin": "http://testserver"})
                assert r.status_code == 403
                assert "GRAPHSVC_PUBLIC_ORIGIN" in r.text
    with pytest.raises(ValueError, match="is not an address like"):
        Settings(public_origin="https://graphsvc.county.example/visual")


# -- 8. logout ends the session -----------------------------------------------------------------


def test_logout_ends_the_session_on_the_server(served: tuple[TestClient, KeyStore],
                                               tmp_path: Path) -> None:
    """A copy of the cookie taken before logging out opens nothing after, in this worker
    or another one of the same data folder; a cross-site logout is refused."""
    client, keys = served
    _, key = keys.create(Role.ADMIN)
    assert visual_login(client, key).status_code == 303
    old = client.cookies["gs_visual"]
    assert "logout" in client.get("/visual/").text
    r = client.post("/visual/logout", data={"csrf": form_token(client, "/visual/")},
                    headers={"Origin": EVIL}, follow_redirects=False)
    assert r.status_code == 403  # another site cannot log this browser out either
    assert client.get("/visual/", follow_redirects=False).status_code == 200
    r = client.post("/visual/logout", data={"csrf": form_token(client, "/visual/")},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/visual/login"
    client.cookies.set("gs_visual", old, path="/visual")  # the old cookie, replayed
    r = client.get("/visual/chain/C1", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/visual/login"
    # another worker process of the same data folder: the session is gone there too
    settings = Settings(data_dir=keys.dir, neo4j_uri=None)
    with TestClient(create_app(settings, store=client.app.state.store.get())) as other:
        other.cookies.set("gs_visual", old, path="/visual")
        assert other.get("/visual/", follow_redirects=False).status_code == 303


def test_a_revoked_keys_session_is_dead(served: tuple[TestClient, KeyStore]) -> None:
    client, keys = served
    record, key = keys.create(Role.VIEWER, townships=["T1"])
    assert visual_login(client, key).status_code == 303
    assert client.get("/visual/township/T1", follow_redirects=False).status_code == 200
    keys.revoke(record.id)
    r = client.get("/visual/township/T1", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/visual/login"


def test_a_session_ends_after_eight_hours(tmp_path: Path) -> None:
    """Sessions expire on the server too (not only the cookie's Max-Age); old ones are
    cleared away at the next login."""
    keys = KeyStore(tmp_path)
    record, _ = keys.create(Role.ADMIN)
    sessions = SessionStore(keys)
    stale = sessions.create(record.id, now=time.time() - SESSION_SECONDS - 1)
    fresh = sessions.create(record.id)
    assert sessions.principal(stale) is None and sessions.principal(fresh) is not None
    with sessions._db() as db:  # only the fresh one is kept, and only as a hash
        rows = db.execute("SELECT hash FROM sessions").fetchall()
    assert len(rows) == 1 and fresh not in rows[0][0]


# -- 12. reads of unmasked households, household by household -----------------------------------


def _households_on(page: str) -> set[str]:
    """The households a page draws (base and layers): the nodes that link to a household."""
    nodes = list(data_of(page)[0])
    for layer in layers_of(page).values():
        nodes += layer["nodes"]
    out = set()
    for n in nodes:
        path = urlsplit(n.get("url") or "").path
        if path.startswith("/visual/household/"):
            out.add(unquote(path.removeprefix("/visual/household/")))
    return out


def test_pii_pages_log_every_household_they_show(served: tuple[TestClient, KeyStore]) -> None:
    client, keys = served
    _, admin = keys.create(Role.ADMIN)
    bearer = {"Authorization": f"Bearer {admin}"}

    def reads() -> list[dict[str, Any]]:
        r = client.get("/api/v1/audit-log", headers=bearer,
                       params={"action": "read_pii", "limit": 1000})
        assert r.status_code == 200, r.text
        return r.json()["items"]  # type: ignore[no-any-return]

    # a key that sees names masked reads nothing personal: nothing logged
    _, masked = keys.create(Role.VIEWER)
    assert visual_login(client, masked).status_code == 303
    for url in ("/visual/member/M01", "/visual/township/T1", "/visual/household/H001"):
        assert client.get(url, params={"as_of": DAY.isoformat()}).status_code == 200
    assert reads() == []
    client.cookies.clear()
    _, pii = keys.create(Role.VIEWER, pii=True)
    assert visual_login(client, pii).status_code == 303
    pages = {"/visual/chain/C1": 30, "/visual/delegate/D1": 30, "/visual/member/M01": 3,
             "/visual/household/H001": 1, "/visual/township/T1": 0}
    for url, at_least in pages.items():
        page = client.get(url, params={"as_of": DAY.isoformat()}).text
        shown = _households_on(page)
        assert len(shown) >= at_least, url
        view, rid = url.split("/")[2:]
        if view == "township":  # its repair plan names the township's uncovered households
            assert shown and all(h.startswith("H0") for h in shown)
        newest = reads()[0]
        assert newest["what"] == f"/visual/{view}/{{id}}", url
        assert set(newest["subjects"]) == shown | {rid}, url  # every household drawn
    # a page of units and villages shows no household: nothing logged for it
    before = len(reads())
    assert client.get("/visual/pairings/T1").status_code == 200
    assert len(reads()) == before


# -- 15. ids holding '/', '?', '#', '%', spaces, Chinese, '..' ----------------------------------

T, V, U = "镇/1?x=1#top", "村 2/%", "单位/3#"
C, D, M = "C/1", "党代表?D=2", "M%2F3 党员"  # M: a literal '%2F', never read as a '/'
H1, H2, H3, H4 = "H/1?a#b%", "户/2", "..", "H#4"  # H4: no member, so in the repair plan
ROWS = {
    "townships": [["id", "name"], [T, "斜杠镇"]],
    "villages": [["id", "name", "township_id", "needs_pairing"], [V, "问号村", T, "true"]],
    "units": [["id", "name", "sector"], [U, "县某局", "agency"]],
    "pairings": [["unit_id", "village_id", "since"], [U, V, "2020-01-01"]],
    "people": [["id", "name", "roles", "township_id", "village_id"],
               [C, "委员甲", "committee_member", "", ""], [D, "代表乙", "delegate", T, ""],
               [M, "党员丙", "", T, V]],
    "households": [["id", "head_name", "village_id"], [H1, "王小明", V], [H2, "李小红", V],
                   [H3, "赵小刚", V], [H4, "孙小丽", V]],
    "liaisons": [["kind", "from_id", "to_id", "since"],
                 ["committee_member-delegate", C, D, "2020-01-01"],
                 ["delegate-member", D, M, "2020-01-01"],
                 *[["member-household", M, h, "2020-01-01"] for h in (H1, H2, H3)]],
    "contacts": [["person_id", "household_id", "date", "channel"],
                 *[[M, h, "2026-06-01", "visit"] for h in (H1, H2, H3)]],
}


def write_odd_bundle(dst: Path) -> Path:
    dst.mkdir(parents=True)
    for name, rows in ROWS.items():
        with (dst / f"{name}.csv").open("w", encoding="utf-8", newline="") as f:
            csv.writer(f).writerows(rows)
    return dst


@pytest.fixture
def odd(store: Store, tmp_path: Path) -> Iterator[TestClient]:
    assert import_path(store, write_odd_bundle(tmp_path / "odd")).ok
    settings = Settings(data_dir=tmp_path / "api", neo4j_uri=None)
    with TestClient(create_app(settings, store=store)) as client:
        _, key = KeyStore(settings.data_dir).create(Role.ADMIN)
        assert visual_login(client, key).status_code == 303
        yield client


def _node_urls(page: str) -> dict[str, str]:
    nodes = list(data_of(page)[0])
    for layer in layers_of(page).values():
        nodes += layer["nodes"]
    return {n["id"]: n["url"] for n in nodes if n.get("url")}


def test_links_encode_the_whole_id() -> None:
    assert served_link("household", H1) == "/visual/household/H%2F1%3Fa%23b%25"
    assert served_link("member", M) == "/visual/member/M%252F3%20%E5%85%9A%E5%91%98"
    assert served_link("household", "..") == "/visual/household?rid=.."
    assert served_link("household", ".") == "/visual/household?rid=."


def test_every_view_opens_for_odd_ids_and_its_links_round_trip(odd: TestClient) -> None:
    client = odd
    day = f"as_of={DAY}"  # (httpx's params= would drop the query of a link: ?rid=..)
    pages = [("chain", C), ("delegate", D), ("member", M), ("household", H1),
             ("household", H2), ("household", H3), ("household", H4), ("township", T),
             ("pairings", T)]
    for view, rid in pages:
        r = client.get(with_query(served_link(view, rid), day))
        assert r.status_code == 200, (view, rid, r.text[:300])
        assert rid in _node_urls(r.text) or view == "pairings", (view, rid)
    # every node link of the member's page opens the page of that node, about that node
    member = client.get(with_query(served_link("member", M), day)).text
    links = _node_urls(member)
    assert {H1, H2, H3, D, C, M} <= set(links)
    for nid, url in links.items():
        r = client.get(url)
        assert r.status_code == 200, (nid, url)
        assert nid in _node_urls(r.text), (nid, url)
    assert links[H1] == f"/visual/household/H%2F1%3Fa%23b%25?as_of={DAY}"
    assert links[H3] == f"/visual/household?rid=..&as_of={DAY}"
    # the township's page, its plan layer holding H4 (uncovered), and its links
    town = client.get(with_query(served_link("township", T), day + "&plan=1")).text
    assert H4 in _node_urls(town)
    assert client.get(_node_urls(town)[H4]).status_code == 200
    # an id that is not there still answers 404 (and one that only decodes to it, too)
    assert client.get("/visual/household/H%2F9").status_code == 404
    assert client.get("/visual/member/M%2F3%20党员").status_code == 404  # M/3 is not M%2F3


# -- in a real browser --------------------------------------------------------------------------


@pytest.fixture
def foreign_site(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A second web site (another origin: http://localhost, not http://127.0.0.1)."""
    root = tmp_path / "evil"
    root.mkdir()

    def handler(*args: Any, **kw: Any) -> http.server.SimpleHTTPRequestHandler:
        return http.server.SimpleHTTPRequestHandler(*args, directory=str(root), **kw)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_address[1]}", root
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.system  # a real graphsvc serve, driven by chromium
def test_forms_and_odd_links_in_chromium(browser: Any, foreign_site: tuple[str, Path],
                                         tmp_path: Path) -> None:
    """In chromium: another site's auto-submitting login form signs no one in; this site's
    own form does, and its logout ends the session; a node link to an odd id opens it."""
    env = {"GRAPHSVC_DATA_DIR": str(tmp_path / "data")}
    assert run(["import", str(write_odd_bundle(tmp_path / "odd"))], env, tmp_path).returncode == 0
    attacker = make_key(env, tmp_path, "--role", "viewer")
    key = make_key(env, tmp_path, "--role", "admin")
    evil, root = foreign_site
    with serving([], env, tmp_path) as (base, _):
        (root / "login.html").write_text(
            f'<form id="f" method="post" action="{base}/visual/login">'
            f'<input name="key" value="{attacker}"></form>'
            "<script>document.getElementById('f').submit()</script>", "utf-8")
        w = Watched(browser)
        try:
            w.page.goto(f"{base}/visual/login")  # the victim has the login page's cookie
            with w.page.expect_navigation(url=f"{base}/visual/login"):
                w.page.goto(f"{evil}/login.html")
            assert "已拒绝" in w.page.inner_text("body")
            assert not any(c["name"] == "gs_visual" for c in w.context.cookies())
            refused = "Failed to load resource: the server responded with a status of 403"
            assert [e[: len(refused)] for e in w.errors] == [refused]  # the refusal, no more
            w.errors.clear()
            w.page.goto(f"{base}/visual/")
            assert w.page.url == f"{base}/visual/login"  # not signed in as anyone
            # this site's own form
            w.page.fill("input[name=key]", key)
            w.page.click("button[type=submit]")
            w.page.wait_for_url(f"{base}/visual/")
            assert "斜杠镇" in w.page.inner_text("body")
            old = next(c for c in w.context.cookies() if c["name"] == "gs_visual")
            # a click on a household with '/', '?', '#' and '%' in its id opens its page
            w.load(f"{base}{served_link('member', M)}?as_of={DAY}")
            x, y = w.page.evaluate("""(id) => {
              const p = network.canvasToDOM(network.getPosition(id));
              const r = document.getElementById('mynetwork').getBoundingClientRect();
              return [r.left + p.x, r.top + p.y];
            }""", H1)
            w.page.mouse.click(x, y)
            w.page.wait_for_url(f"{base}/visual/household/H%2F1%3Fa%23b%25?as_of={DAY}")
            w.page.wait_for_selector("body[data-drawn='1']", state="attached", timeout=15000)
            assert f"（{H1}）" in w.page.inner_text("h1")
            # logging out through the index page's button ends the session for good
            w.page.goto(f"{base}/visual/")
            w.page.click("form[action='/visual/logout'] button")
            w.page.wait_for_url(f"{base}/visual/login")
            w.context.add_cookies([old])  # the cookie as it was before logging out
            w.page.goto(f"{base}/visual/")
            assert w.page.url == f"{base}/visual/login"
            assert not w.errors, w.errors
        finally:
            w.close()
