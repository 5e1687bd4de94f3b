"""Bad input, generated: schemathesis against ``/openapi.json``, every endpoint, both stores.

Every operation the OpenAPI document lists (the reads, and the writes: POST, PATCH and
the bundle upload) gets generated requests, valid and invalid (schemathesis' examples,
coverage and fuzzing phases), sent with an admin key to the app on the tiny county.
Each answer must be no server error (never a 5xx for what a client sent), carry a
status code the document lists for that operation and the content type it names, and
have a body that matches the document's schema for that status.

Bounded by default: ``EXAMPLES`` generated requests per operation on top of the
examples and boundary cases (about 2,000 requests per store), one county per store for
the whole run, under a minute for both stores on an idle machine.
``GRAPHSVC_FUZZ_EXAMPLES=500`` runs the long form with that many per operation;
``GRAPHSVC_FUZZ_SEED`` fixes the seed to replay a run, and
``GRAPHSVC_FUZZ_KEY=editor`` (or ``viewer``) sends a key limited to township T1 instead.

The last tests pin what the fuzzer found, so each stays fixed whatever it generates.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.routing import iter_route_contexts
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.python.asgi import ASGIClient, get_client
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from tests_support import PKG_PARENT, ROOT, clear

from graphsvc.api import create_app
from graphsvc.config import Settings
from graphsvc.importer import import_path
from graphsvc.keys import KeyStore, Role
from graphsvc.stores.base import Store
from graphsvc.stores.embedded import EmbeddedStore

EXAMPLES = int(os.environ.get("GRAPHSVC_FUZZ_EXAMPLES", "12"))
SEED = os.environ.get("GRAPHSVC_FUZZ_SEED")
ROLE = os.environ.get("GRAPHSVC_FUZZ_KEY", "admin")  # editor, viewer: a key limited to T1
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
BASE = "http://testserver"  # the ASGI client's host: requests never leave the process


def _config() -> schemathesis.Config:
    data: dict[str, Any] = {
        "generation": {"mode": "all", "max-examples": EXAMPLES},  # valid and invalid requests
        "phases": {"stateful": {"enabled": False}},
    }
    if SEED is not None:
        data["seed"] = int(SEED)
    return schemathesis.Config.from_dict(data)


def _document() -> dict[str, Any]:
    """The app's OpenAPI document (it depends on neither the store nor the keys)."""
    with tempfile.TemporaryDirectory() as d:
        return create_app(Settings(data_dir=Path(d), neo4j_uri=None)).openapi()


schema = schemathesis.openapi.from_dict(_document(), config=_config())


@dataclass
class Target:
    """A client of the app on the tiny county, and a key for it (an admin's by default)."""

    session: ASGIClient
    token: str
    store: Store

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def request(self, method: str, path: str, headers: dict[str, str] | None = None,
                **kwargs: Any) -> Any:
        return self.session.request(method, BASE + path,
                                    headers={**self.headers, **(headers or {})}, **kwargs)


def _target(store: Store, tiny_dir: Path, tmp_path: Path, role: Role) -> Iterator[Target]:
    assert import_path(store, tiny_dir).ok
    # the fuzzer sends thousands of wrong keys on purpose, all from one client: with the
    # throttle's default every request after the tenth would be a 429 (test_security_auth
    # tests the throttle)
    s = Settings(data_dir=tmp_path / "api", neo4j_uri=None, auth_failure_limit=10**9)
    _, token = KeyStore(s.data_dir).create(role, townships=() if role is Role.ADMIN else ["T1"])
    app: Any = create_app(s, store=store)
    with get_client(app) as session:  # runs the app's lifespan
        yield Target(session, token, store)


@pytest.fixture(scope="module", params=["embedded", "neo4j"])
def target(request: pytest.FixtureRequest, tiny_dir: Path,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    """The app and the fuzzed key (GRAPHSVC_FUZZ_KEY) on each store, one county per store for
    the whole run: what one operation's examples write is there for the next operation's."""
    tmp = tmp_path_factory.mktemp(f"fuzz-{request.param}")
    store: Store
    if request.param == "embedded":
        store = EmbeddedStore(tmp / "data")
    else:
        store = request.getfixturevalue("neo4j_shared")
        clear(store)
    yield from _target(store, tiny_dir, tmp, Role(ROLE))
    if request.param == "embedded":
        store.close()


@pytest.fixture
def admin(store: Store, tiny_dir: Path, tmp_path: Path) -> Iterator[Target]:
    """The app and an admin key."""
    yield from _target(store, tiny_dir, tmp_path, Role.ADMIN)


def test_the_fuzz_run_covers_every_endpoint() -> None:
    """Every operation of the app is in the document the fuzzer reads, writes included."""
    with tempfile.TemporaryDirectory() as d:
        app = create_app(Settings(data_dir=Path(d), neo4j_uri=None))
    routes = {(m, r.path) for r in iter_route_contexts(app.routes)
              if (r.path or "").startswith(("/api/", "/health", "/ready"))
              for m in getattr(r.original_route, "methods", ()) if m != "HEAD"}
    results = list(schema.get_all_operations())
    assert all(isinstance(r, Ok) for r in results), "every operation can be generated"
    fuzzed = {(r.ok().method.upper(), r.ok().path) for r in results if isinstance(r, Ok)}
    assert routes == fuzzed
    assert {m for m, _ in fuzzed} >= {"GET", "POST", "PATCH"}


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_endpoint_survives_generated_requests(case: Any, target: Target) -> None:
    """No 5xx; status code, content type and body as the OpenAPI document says."""
    case.call_and_validate(base_url=BASE, session=target.session, headers=target.headers,
                           checks=CHECKS)


# -- what the fuzzer found (in the API layer, the same on both stores) ------------------------

embedded_only = pytest.mark.parametrize("store", ["embedded"], indirect=True)


@embedded_only
@pytest.mark.parametrize("path", ["/api/v1/contacts", "/api/v1/people/M01/deactivate",
                                  "/api/v1/supports/end"])
def test_a_body_that_is_not_utf8_json_is_422(admin: Target, path: str) -> None:
    """FastAPI answers 400, which no operation documents; the API says 422 and why."""
    r = admin.request("POST", path, data=b"A\xff\xfe\\\x80",
                      headers={"Content-Type": "application/json"})
    assert r.status_code == 422, r.text
    assert "cannot be read" in r.json()["detail"] and "UTF-8" in r.json()["detail"]
    assert r.json()["errors"][0]["field"] is None


@embedded_only
@pytest.mark.parametrize("path,body,field", [
    ("/api/v1/pairings", {"unit_id": "", "village_id": ""}, "unit_id"),
    ("/api/v1/pairings", {"unit_id": " ", "village_id": "\t"}, "village_id"),
    ("/api/v1/supports", {"person_id": " ", "household_id": " "}, "person_id"),
    ("/api/v1/people", {"id": " ", "name": " "}, "id"),
    ("/api/v1/households", {"id": "", "head_name": "x", "village_id": "V1"}, "id"),
])
def test_blank_ids_are_422_not_500(admin: Target, path: str, body: dict[str, Any],
                                   field: str) -> None:
    """A row of only blank cells is a blank line to the bundle format, skipped: the write
    wrote nothing and then failed to find what it wrote (500). Blank ids are refused first."""
    before = admin.store.records()
    r = admin.request("POST", path, json=body)
    assert r.status_code == 422, r.text
    assert field in {e["field"] for e in r.json()["errors"]}
    assert admin.store.records() == before


@embedded_only
@pytest.mark.parametrize("body", [{"inactive_since": 0}, {"inactive_since": "0"},
                                  {"inactive_since": 1700006400}])
def test_a_number_is_not_a_date(admin: Target, body: dict[str, Any]) -> None:
    """pydantic would take 0 for 1970-01-01 (seconds since 1970) and store that."""
    r = admin.request("POST", "/api/v1/households/H002/deactivate", json=body)
    assert r.status_code == 422, r.text
    assert r.json()["detail"].startswith("body field 'inactive_since': write the date as "
                                         "YYYY-MM-DD")
    assert admin.store.fetch_entities(["H002"])["H002"][1]["status"] == "active"


@embedded_only
def test_an_upload_without_its_file_is_422_as_documented(admin: Target) -> None:
    """The 422 of the upload is either the import report or the request problem."""
    r = admin.request("POST", "/api/v1/imports", params={"dry_run": "true"})
    assert r.status_code == 422
    assert r.json()["errors"] == [{"field": "file", "message": "body field 'file' is required"}]
    doc = schema.raw_schema["paths"]["/api/v1/imports"]["post"]["responses"]["422"]
    refs = [s["$ref"].rsplit("/", 1)[1]
            for s in doc["content"]["application/json"]["schema"]["anyOf"]]
    assert refs == ["ImportRefused", "InvalidRequestBody"]


# -- the long run against a real server (benchmarks/fuzz_server.py) ---------------------------

FUZZ_SERVER = ROOT / "benchmarks" / "fuzz_server.py"


def _fuzz_server() -> Any:
    """benchmarks/fuzz_server.py as a module (its summary of schemathesis' report)."""
    import importlib.util
    import sys

    name = "graphsvc_fuzz_server"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, FUZZ_SERVER)
        assert spec and spec.loader
        sys.modules[name] = importlib.util.module_from_spec(spec)  # dataclasses look it up
        spec.loader.exec_module(sys.modules[name])
    return sys.modules[name]


@pytest.mark.system  # the fuzz run against a real graphsvc serve
@pytest.mark.parametrize("kind", ["embedded", "neo4j"])
def test_the_long_run_in_short_form(kind: str, tiny_dir: Path, tmp_path: Path,
                                    request: pytest.FixtureRequest) -> None:
    """``python benchmarks/fuzz_server.py`` for 15 s: a real ``graphsvc serve`` on the tiny
    county answers every generated request (three keys) without a failure, exit code 0."""
    import re
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("GRAPHSVC_")}
    env["PYTHONPATH"] = PKG_PARENT
    args = [sys.executable, str(FUZZ_SERVER), "--store", kind, "--minutes", "0.25", "--seed", "1",
            "--bundle", str(tiny_dir), "--keep", str(tmp_path / "run")]
    if kind == "neo4j":
        clear(request.getfixturevalue("neo4j_shared"))
        env.update(request.getfixturevalue("neo4j_env"))
    r = subprocess.run(args, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=900,
                       stdin=subprocess.DEVNULL, check=False)
    out = r.stdout
    assert r.returncode == 0, f"{out[-5000:]}\n{r.stderr[-3000:]}"
    assert f"graphsvc serve on the {kind} store" in out
    assert "failures: 0 in 0 kind(s)" in out
    sent = re.search(r"requests sent: ([\d,]+)", out)
    assert sent and int(sent[1].replace(",", "")) > 100, out[-3000:]
    # every key was used (the table's admin, editor and viewer columns; the rest went without
    # a valid key), and the table covers the requests sent
    rows = [[int(g.replace(",", "")) for g in m.groups()] for m in re.finditer(
        r"^(?:GET|POST|PATCH|\(methods).*?  +([\d,]+)  +([\d,]+) +([\d,]+) +([\d,]+) ", out,
        re.MULTILINE)]
    n, admin, editor, viewer = (sum(col) for col in zip(*rows))
    assert n == int(sent[1].replace(",", "")) >= admin + editor + viewer
    assert min(admin, editor, viewer) > 0, out[-3000:]


def test_the_long_runs_summary_sees_a_failure(tmp_path: Path) -> None:
    """The summary is not vacuous: a failed check in schemathesis' report (NDJSON, as 4.x
    writes it) is counted, with a curl line that sends the request again (the key by its
    role, the body as sent); uvicorn's own 400 for malformed HTTP is listed apart."""
    import base64
    import json
    import shlex

    fs = _fuzz_server()
    keys = {"gs_admin": "admin", "gs_editor": "editor"}

    def exchange(status: int, body: bytes, ctype: str, key: str) -> dict[str, Any]:
        return {"request": {"method": "POST", "uri": "http://127.0.0.1:1/api/v1/contacts",
                            "headers": {"Authorization": [f"Bearer {key}"],
                                        "Content-Type": ["application/json"]},
                            "body": {"$base64": base64.b64encode(b'{"a": "x\'y"}').decode()}},
                "response": {"status_code": status, "headers": {"content-type": [ctype]},
                             "content": {"$base64": base64.b64encode(body).decode()}}}

    checks = ["not_a_server_error", "status_code_conformance"]
    cases = {c: {"value": {"method": "POST", "path": "/api/v1/contacts", "id": c}}
             for c in ("ok", "bad", "nothttp")}
    event = {"ScenarioFinished": {"phase": "fuzzing", "status": "failure", "recorder": {
        "label": "POST /api/v1/contacts", "cases": cases,
        "checks": {
            "ok": [{"name": n, "status": "success"} for n in checks],
            "bad": [{"name": "not_a_server_error", "status": "failure", "failure_info": {
                "failure": {"title": "Server error", "message": "Received: 500"}}}],
            "nothttp": [{"name": "status_code_conformance", "status": "failure",
                         "failure_info": {"failure": {"title": "Undocumented status code"}}}]},
        "interactions": {
            "ok": exchange(201, b"{}", "application/json", "gs_admin"),
            "bad": exchange(500, b"Internal Server Error", "text/plain", "gs_editor"),
            "nothttp": exchange(400, b"Invalid HTTP request received.",
                                "text/plain; charset=utf-8", "gs_admin")}}}}
    report = tmp_path / "report.ndjson"
    report.write_text(json.dumps({"Initialize": {}}) + "\n" + json.dumps(event) + "\n")
    s = fs.read_report(report, keys)
    assert s.requests == {"POST /api/v1/contacts": 3}
    assert s.by_role["POST /api/v1/contacts"] == {"admin": 2, "editor": 1}
    assert list(s.failures) == [("not_a_server_error", "POST /api/v1/contacts")]
    failure = s.failures[("not_a_server_error", "POST /api/v1/contacts")]
    assert (failure.count, failure.status, failure.title) == (1, 500, "Server error")
    assert shlex.split(failure.curl) == [
        "curl", "-sS", "-i", "-X", "POST", "http://127.0.0.1:1/api/v1/contacts",
        "-H", "Authorization: Bearer $EDITOR_KEY", "-H", "Content-Type: application/json",
        "--data-binary", '{"a": "x\'y"}']
    assert s.not_http == {"POST /api/v1/contacts": 1}


@pytest.mark.parametrize("path,new", [
    ("/api/v1/liaisons", {"kind": "member-household", "from_id": "M19", "to_id": "H059"}),
    ("/api/v1/pairings", {"unit_id": "U4", "village_id": "V3"}),
    ("/api/v1/supports", {"person_id": "K1", "household_id": "H059"}),
])
def test_an_add_links_to_ending_what_it_added(admin: Target, path: str,
                                              new: dict[str, str]) -> None:
    """The document's links (what stateful fuzzing follows): the answer to an add, new (201)
    or existing (200), links to ending that very liaison, pairing or support. Following the
    link ends it: 200, with until set."""
    doc = schema.raw_schema
    operations = {o["operationId"]: (m, p) for p, ops in doc["paths"].items()
                  for m, o in ops.items()}
    add = doc["paths"][path]["post"]
    new = {**new, "since": "2026-07-01"}
    first = admin.request("POST", path, json=new)
    again = admin.request("POST", path, json=new)
    assert (first.status_code, again.status_code) == (201, 200), first.text
    assert again.json()["until"] is None
    links = {code: add["responses"][code]["links"]["End"] for code in ("200", "201")}
    assert links["200"] == links["201"]
    method, end = operations[links["200"]["operationId"]]
    assert (method, end) == ("post", f"{path}/end")
    body = {k: again.json()[v.removeprefix("$response.body#/")]
            for k, v in links["200"]["requestBody"].items()}
    r = admin.request("POST", end, json=body)
    assert r.status_code == 200, r.text
    assert r.json()["until"] is not None
    assert {k: r.json()[k] for k in body} == body
