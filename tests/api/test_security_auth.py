"""Issue 11, authentication and what surrounds it: wrong keys are throttled per address,
redirects never follow ``Host``, a township key cannot tell an unknown township from
another one, the embedded store's files are its owner's only, every answer says
``no-store`` and ``nosniff``, ``keys create`` refuses an unknown township, no log line of a
real server carries a key, and reading the audit log is itself logged."""

from __future__ import annotations

import json
import logging
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from tests_support import form_token, visual_login
from tests_support.cli import run
from tests_support.server import make_key, serving

from graphsvc.api import create_app
from graphsvc.api.errors import TooManyAttempts
from graphsvc.api.routes.visual import VIEW_KINDS
from graphsvc.api.throttle import FailureThrottle
from graphsvc.bundle.schema import Kind
from graphsvc.config import Settings
from graphsvc.importer import import_path
from graphsvc.keys import KeyStore, Role
from graphsvc.stores.base import Store
from graphsvc.stores.embedded import EmbeddedStore

AS_OF = "2026-06-30"
WRONG = "gs_" + "W" * 32  # shaped like a key, but nobody's


@dataclass
class App:
    app: Any
    client: TestClient
    keys: KeyStore

    def token(self, role: Role = Role.ADMIN, townships: tuple[str, ...] = (),
              pii: bool = False) -> str:
        return self.keys.create(role, townships=townships, pii=pii)[1]

    def other_client(self, host: str) -> TestClient:
        """A client of the same running app from another address."""
        return TestClient(self.app, client=(host, 40000), follow_redirects=False)


def _app(store: Store, data_dir: Path) -> Iterator[App]:
    app = create_app(Settings(data_dir=data_dir, neo4j_uri=None), store=store)
    with TestClient(app, follow_redirects=False) as client:
        yield App(app, client, KeyStore(data_dir))


@pytest.fixture
def tiny_api(store: Store, tiny_dir: Path, tmp_path: Path) -> Iterator[App]:
    """The app on the tiny county, on each store."""
    assert import_path(store, tiny_dir).ok
    yield from _app(store, tmp_path / "api")


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    """The app on an empty embedded store (for what does not depend on the store)."""
    store = EmbeddedStore(tmp_path / "data")
    yield from _app(store, tmp_path / "data")
    store.close()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# -- item 6: wrong keys are throttled per address -------------------------------------------------


def test_eleven_wrong_keys_on_the_api_are_429_for_that_address_only(
        app: App, caplog: pytest.LogCaptureFixture) -> None:
    good = app.token(Role.VIEWER)
    caplog.set_level(logging.WARNING, logger="graphsvc")
    for i in range(10):
        r = app.client.get("/api/v1/summary", headers=bearer(WRONG))
        assert r.status_code == 401, (i, r.text)
    r = app.client.get("/api/v1/summary", headers=bearer(WRONG))
    assert r.status_code == 429
    assert 0 < int(r.headers["Retry-After"]) <= 60
    assert "too many wrong API keys" in r.json()["detail"]
    assert f"refused for {r.headers['Retry-After']} more seconds" in r.json()["detail"]
    # while it waits, the address gets 429 whatever it sends: a valid key, or none
    assert app.client.get("/api/v1/summary", headers=bearer(good)).status_code == 429
    assert app.client.get("/api/v1/summary").status_code == 429
    # another address is not affected, and its success frees nobody
    other = app.other_client("10.0.0.2")
    assert other.get("/api/v1/summary", headers=bearer(good)).status_code == 200
    assert other.get("/api/v1/summary", headers=bearer(WRONG)).status_code == 401
    assert app.client.get("/api/v1/summary", headers=bearer(good)).status_code == 429
    # one warning for the address, naming it, never the key
    lines = [r.getMessage() for r in caplog.records if "wrong API keys" in r.getMessage()]
    assert len(lines) == 1 and "testclient" in lines[0], lines
    assert not any(WRONG[3:12] in r.getMessage() or good[3:12] in r.getMessage()
                   for r in caplog.records)


def test_eleven_wrong_keys_on_the_login_form_are_429(app: App) -> None:
    good = app.token(Role.VIEWER)
    for _ in range(10):
        r = visual_login(app.client, WRONG)
        assert r.status_code == 401
    r = visual_login(app.client, good)
    assert r.status_code == 429 and 0 < int(r.headers["Retry-After"]) <= 60
    assert "text/html" in r.headers["content-type"] and "秒后再试" in r.text
    assert "Set-Cookie" not in r.headers  # no session for a waiting address, even a valid key
    # the form and the API count together: the address waits on the API too
    assert app.client.get("/api/v1/summary", headers=bearer(good)).status_code == 429
    other = app.other_client("10.0.0.3")
    r = visual_login(other, good)
    assert r.status_code == 303 and r.headers["location"] == "/visual/"


def test_the_wait_doubles_and_the_memory_is_bounded() -> None:
    now = [0.0]
    throttle = FailureThrottle(3, max_clients=100, clock=lambda: now[0])
    waits = []
    for _ in range(3):
        for _ in range(3):
            throttle.check("a")
            throttle.failed("a")
        with pytest.raises(TooManyAttempts) as refused:
            throttle.check("a")
        waits.append(refused.value.retry_after)
        now[0] += waits[-1]
    assert waits == [60, 120, 240]
    for i in range(5000):  # an attacker changing addresses
        throttle.failed(f"10.{i // 256}.{i % 256}.1")
    assert len(throttle) == 100


# -- item 9: redirects stay on this server --------------------------------------------------------


def test_no_redirect_follows_the_host_header(app: App) -> None:
    """Every GET route of the app asked with a trailing slash (Starlette's redirect), the
    diagram pages without a session, login and logout: each Location is a path here."""
    evil = {"Host": "evil.example"}
    paths = {r.path.replace("{view}", "township").replace("{rid}", "T1").replace(
        "{household_id}", "H1").replace("{person_id}", "P1")
        for r in iter_route_contexts(app.app.routes)
        if "GET" in (getattr(r.original_route, "methods", None) or ())}
    seen = 0
    for path in sorted(paths):
        for url in (path, path.rstrip("/") + "/", path + "?as_of=2026-06-30"):
            r = app.client.get(url, headers=evil)
            if 300 <= r.status_code < 400:
                seen += 1
                where = r.headers["location"]
                assert "evil" not in where and where.startswith("/"), (url, where)
                assert not where.startswith(("//", "/\\")), (url, where)
    assert seen >= len(paths) // 2  # the trailing-slash redirects were met
    r = app.client.get("/api/v1/households/", headers=evil, params={"as_of": AS_OF})
    assert r.status_code == 307 and r.headers["location"] == f"/api/v1/households?as_of={AS_OF}"
    r = visual_login(app.client, app.token(), headers=evil)
    assert r.status_code == 303 and r.headers["location"] == "/visual/"
    r = app.client.post("/visual/logout", headers=evil,
                        data={"csrf": form_token(app.client, "/visual/")})
    assert r.status_code == 303 and r.headers["location"] == "/visual/login"


# -- item 10: an unknown township reads as another township --------------------------------------


def _township_urls(app: Any) -> list[str]:
    """Every GET route that takes a township id, from the app's own routes: the API's
    (``township_id`` in the query, as the OpenAPI document lists them) and the diagram
    pages' (``/visual/{view}/{rid}`` for the township views, ``/visual/trends``)."""
    urls = []
    for path, ops in app.openapi()["paths"].items():
        op = ops.get("get")
        if op and any(p["name"] == "township_id" for p in op.get("parameters", [])):
            assert not any(p.get("required") for p in op["parameters"]), path
            urls.append(path + "?township_id={t}")
    visual = {r.path for r in iter_route_contexts(app.routes) if r.path.startswith("/visual")}
    assert {"/visual/{view}/{rid}", "/visual/trends"} <= visual
    urls += [f"/visual/{view}/{{t}}" for view, kind in VIEW_KINDS.items()
             if kind is Kind.TOWNSHIP]
    urls.append("/visual/trends?township_id={t}")
    return urls


def test_a_township_key_cannot_tell_an_unknown_township_from_another(tiny_api: App) -> None:
    urls = _township_urls(tiny_api.app)
    for needed in ("/trends", "/requests/overdue", "/requests/summary", "/repair-plans",
                   "/risks/people", "/exports/households", "/summary", "/households",
                   "/visual/township/", "/visual/pairings/"):
        assert any(needed in u for u in urls), needed
    for role in (Role.VIEWER, Role.EDITOR):
        token = tiny_api.token(role, townships=("T1",))
        client = tiny_api.other_client("10.0.1.1")
        r = visual_login(client, token)
        assert r.status_code == 303
        client.cookies = r.cookies
        for url in urls:
            def get(town: str, url: str = url, client: TestClient = client,
                    token: str = token) -> httpx.Response:
                path, _, query = url.format(t=town).partition("?")
                params = dict(q.split("=") for q in query.split("&") if q)
                return client.get(path, headers=bearer(token),
                                  params={"as_of": AS_OF, **params})

            other, unknown = get("T2"), get("c01-T99")
            assert other.status_code in (403, 404), (url, other.text)
            assert unknown.status_code == other.status_code, (url, other.text, unknown.text)
            assert unknown.json()["detail"].replace("c01-T99", "X") == \
                other.json()["detail"].replace("T2", "X"), url
            mine = get("T1")
            assert mine.status_code == 200, (url, mine.text)


# -- item 11: the embedded store's files are its owner's only -------------------------------------


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_embedded_store_files_are_600_in_a_700_folder(
        tmp_path: Path, tiny_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    old = os.umask(0o022)  # the usual umask, which made them 644
    try:
        data = tmp_path / "new" / "data"
        store = EmbeddedStore(data)
        try:
            assert import_path(store, tiny_dir).ok  # a write: the WAL and SHM exist now
            files = {p.name: _mode(p) for p in data.iterdir()}
            assert ({"graphsvc.sqlite3", "graphsvc.sqlite3-wal", "graphsvc.sqlite3-shm"}
                    <= set(files))
            KeyStore(data).create(Role.VIEWER)
            files = {p.name: _mode(p) for p in data.iterdir()}
            assert files == dict.fromkeys(files, 0o600), files
            assert _mode(data) == 0o700
        finally:
            store.close()
        # a database left readable by others (an older version, a copy) is tightened on open
        for p in data.iterdir():
            p.chmod(0o644)
        caplog.set_level(logging.WARNING, logger="graphsvc")
        store = EmbeddedStore(data)
        try:
            assert _mode(data / "graphsvc.sqlite3") == 0o600
            assert store.fetch_entities(["H001"])  # the data is still there
        finally:
            store.close()
        KeyStore(data).authenticate(WRONG)  # reads the secret
        assert {p.name: _mode(p) for p in data.iterdir()} == dict.fromkeys(
            (p.name for p in data.iterdir()), 0o600)
        warned = " ".join(r.getMessage() for r in caplog.records)
        assert "graphsvc.sqlite3 was readable by others (mode 644)" in warned
        assert "keys.sqlite3 was readable by others" in warned
    finally:
        os.umask(old)


# -- item 13: every answer says no-store and nosniff ----------------------------------------------


def test_every_answer_says_no_store_and_nosniff(app: App) -> None:
    token = app.token()
    answers = {
        "200 health": app.client.get("/health"),
        "200 read": app.client.get("/api/v1/summary", headers=bearer(token)),
        "200 docs": app.client.get("/docs"),
        "401": app.client.get("/api/v1/summary"),
        "403": app.client.get("/api/v1/audit-log", headers=bearer(app.token(Role.VIEWER))),
        "404 id": app.client.get("/api/v1/households/H404", headers=bearer(token)),
        "404 endpoint": app.client.get("/api/v1/nothing", headers=bearer(token)),
        "405": app.client.delete("/api/v1/summary", headers=bearer(token)),
        "422": app.client.get("/api/v1/summary", headers=bearer(token),
                              params={"as_of": "soon"}),
        "307": app.client.get("/api/v1/summary/", headers=bearer(token)),
        "page": app.client.get("/visual/login"),
    }
    for what, r in answers.items():
        assert what.split()[0] in (str(r.status_code), "page"), (what, r.status_code)
        assert r.headers.get_list("Cache-Control") == ["no-store"], what
        assert r.headers.get_list("X-Content-Type-Options") == ["nosniff"], what
    # the diagram pages keep their own headers
    assert "default-src 'none'" in answers["page"].headers["Content-Security-Policy"]
    # same-origin: a same-site form post must carry its Origin for the CSRF check
    assert answers["page"].headers["Referrer-Policy"] == "same-origin"


# -- item 16: keys create refuses an unknown township ----------------------------------------------


@pytest.fixture(params=["embedded", "neo4j"])
def cli_env(request: pytest.FixtureRequest, tmp_path: Path, tiny_dir: Path) -> dict[str, str]:
    """Settings of the command line on the tiny county, on each store."""
    env = {"GRAPHSVC_DATA_DIR": str(tmp_path / "data")}
    if request.param == "neo4j":
        from tests_support import clear

        clear(request.getfixturevalue("neo4j_shared"))
        env.update(request.getfixturevalue("neo4j_env"))
    assert run(["import", str(tiny_dir)], env, tmp_path).returncode == 0
    return env


def test_keys_create_refuses_an_unknown_township(cli_env: dict[str, str], tmp_path: Path) -> None:
    r = run(["keys", "create", "--role", "viewer", "--township-id", "T1",
             "--township-id", "NO-SUCH-TOWNSHIP"], cli_env, tmp_path)
    assert r.returncode == 1, r.stdout
    said = " ".join(r.stderr.split())
    assert "no township 'NO-SUCH-TOWNSHIP' in the store" in said
    assert "the townships are: T1 (" in said and "No key was made" in said
    assert "gs_" not in r.stdout
    listed = json.loads(run(["keys", "list", "--json"], cli_env, tmp_path).stdout)
    assert listed == []
    key = make_key(cli_env, tmp_path, "--role", "viewer", "--township-id", "T1")
    assert KeyStore(cli_env["GRAPHSVC_DATA_DIR"]).authenticate(key) is not None


# -- keys never reach the server's log ------------------------------------------------------------


@pytest.mark.system  # a real graphsvc serve
def test_a_real_server_logs_no_key_in_any_form(tmp_path: Path, tiny_dir: Path) -> None:
    env = {"GRAPHSVC_DATA_DIR": str(tmp_path / "data")}
    assert run(["import", str(tiny_dir)], env, tmp_path).returncode == 0
    key = make_key(env, tmp_path, "--role", "admin")
    secret = key[3:]
    with serving([], env, tmp_path) as (base, log), \
            httpx.Client(base_url=base, timeout=60) as c:
        assert c.get("/api/v1/summary", headers=bearer(key)).status_code == 200
        for name in ("key", "api_key", "token"):  # a key put in the URL by mistake
            r = c.get("/api/v1/summary", params={name: key}, headers=bearer(key))
            assert r.status_code == 200
        c.get(f"/api/v1/households/{key}", headers=bearer(key))  # or in the path
        c.get("/api/v1/summary", params={"key": key.replace("_", "%5F")})  # sent as %255F
        c.get(f"/api/v1/summary?api_key={key.replace('_', '%5F')}")
        r = visual_login(c, key)  # the form's body
        assert r.status_code == 303
        c.get("/visual/", cookies=r.cookies)  # the session cookie
        for _ in range(11):  # wrong keys: graphsvc's own warning, then 429
            c.get("/api/v1/summary", params={"key": WRONG}, headers=bearer(WRONG))
    text = log.read_text()
    assert "GET /api/v1/summary?key=gs_[redacted]" in text  # the access log is on
    assert "/api/v1/households/gs_[redacted]" in text
    assert "wrong API keys from 127.0.0.1" in text and " 429" in text
    assert secret not in text and WRONG[3:] not in text and key[3:11] not in text


# -- reading the audit log is itself logged -------------------------------------------------------


def test_reading_the_audit_log_is_logged_as_a_read_of_personal_data(tiny_api: App) -> None:
    admin = bearer(tiny_api.token())

    def log(**params: str) -> dict[str, Any]:
        r = tiny_api.client.get("/api/v1/audit-log", headers=admin, params=params)
        assert r.status_code == 200, r.text
        return r.json()

    assert log(action="read_pii")["total"] == 0  # showed no changed values: not logged
    assert log(action="read_pii")["total"] == 0
    shown = log(action="import")  # the import lists every record's values
    assert shown["items"][0]["changes"]
    reads = log(action="read_pii")
    assert reads["total"] == 1
    entry = reads["items"][0]
    assert entry["what"] == "GET /audit-log" and entry["via"] == "api"
    assert entry["key_id"] == admin["Authorization"][10:18]
    assert {"H001", "M01", "T1"} <= set(entry["subjects"])
    assert log(record_id="H001", action="read_pii")["total"] == 1  # found by the record
