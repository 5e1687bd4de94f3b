"""``graphsvc serve`` as users run it: a real uvicorn server in its own process, real HTTP,
keys made with ``graphsvc keys create``, both stores; the demo; Neo4j out of reach."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests_support.cli import run
from tests_support.server import free_port, make_key, serving

import graphsvc

AS_OF = "2026-06-30"


@pytest.fixture(params=["embedded", "neo4j"])
def serve_env(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    """Settings of a server on an empty store of each kind (keys always in the data dir)."""
    env = {"GRAPHSVC_DATA_DIR": str(tmp_path / "data")}
    if request.param == "neo4j":
        from tests_support import clear

        clear(request.getfixturevalue("neo4j_shared"))
        env.update(request.getfixturevalue("neo4j_env"))
    return env


def test_real_server(serve_env: dict[str, str], tiny_dir: Path, tmp_path: Path) -> None:
    expected: dict[str, Any] = json.loads((tiny_dir / "expected.json").read_text("utf-8"))
    kind = "neo4j" if "GRAPHSVC_NEO4J_URI" in serve_env else "embedded"
    assert run(["import", str(tiny_dir)], serve_env, tmp_path).returncode == 0
    viewer = make_key(serve_env, tmp_path, "--role", "viewer", "--name", "test viewer")
    editor = make_key(serve_env, tmp_path, "--role", "editor", "--township-id", "T1")
    workers = ["--workers", "2"] if kind == "embedded" else []
    with serving(workers, serve_env, tmp_path) as (base, log):
        assert httpx.get(f"{base}/health").json() == {"status": "ok", "store": kind,
                                                      "version": graphsvc.__version__}
        assert httpx.get(f"{base}/ready").json()["status"] == "ready"
        r = httpx.get(f"{base}/api/v1/households", params={"as_of": AS_OF})
        assert r.status_code == 401
        h = {"Authorization": f"Bearer {viewer}"}
        for _ in range(4):  # whichever worker answers
            body = httpx.get(f"{base}/api/v1/households", headers=h,
                             params={"as_of": AS_OF, "limit": 1000}).json()
            rows = [{k: i[k] for k in expected["households"][0]} for i in body["items"]]
            assert rows == expected["households"]
        r = httpx.get(f"{base}/api/v1/audit/pairings", headers=h, params={"as_of": AS_OF})
        assert r.json() == {"as_of": AS_OF, **expected["pairing"]}
        r = httpx.get(f"{base}/api/v1/people/C1/impact", headers=h, params={"as_of": AS_OF})
        assert r.json()["items"] == expected["impact"]["C1"]
        r = httpx.post(f"{base}/api/v1/contacts", headers=h,
                       json={"person_id": "M03", "household_id": "H007", "date": AS_OF})
        assert r.status_code == 403
        e = {"Authorization": f"Bearer {editor}"}
        r = httpx.post(f"{base}/api/v1/contacts", headers=e,
                       json={"person_id": "M03", "household_id": "H007", "date": AS_OF})
        assert r.status_code == 201, r.text
        r = httpx.get(f"{base}/api/v1/households/H007", headers=h, params={"as_of": AS_OF})
        assert (r.json()["status"], r.json()["last_contact"]) == ("covered", AS_OF)
        doc = httpx.get(f"{base}/openapi.json").json()
        assert "/api/v1/households" in doc["paths"]
        assert httpx.get(f"{base}/docs").status_code == 200
        # a key revoked with the command stops working at once
        listed = json.loads(run(["keys", "list", "--json"], serve_env, tmp_path).stdout)
        (mine,) = [k for k in listed if k["name"] == "test viewer"]
        assert mine["last_used_at"] and viewer not in json.dumps(listed)
        assert run(["keys", "revoke", mine["id"]], serve_env, tmp_path).returncode == 0
        assert httpx.get(f"{base}/api/v1/summary", headers=h).status_code == 401
    assert "Traceback" not in log.read_text()


def test_serve_demo(tmp_path: Path) -> None:
    env = {"GRAPHSVC_DATA_DIR": str(tmp_path / "data")}
    with serving(["--demo"], env, tmp_path) as (base, log):
        printed = log.read_text()
        key = next(line.split()[2] for line in printed.splitlines()
                   if line.strip().startswith("API key:"))
        assert f"{base}/docs" in printed
        assert f'curl -H "Authorization: Bearer {key}" {base}/api/v1/summary' in printed
        h = {"Authorization": f"Bearer {key}"}
        body = httpx.get(f"{base}/api/v1/summary", headers=h, params={"as_of": AS_OF},
                         timeout=60).json()
        assert (body["townships"], body["villages"], body["people"]) == (12, 200, 13787)
        assert body["households_by_status"]["uncovered"] > 0
        r = httpx.get(f"{base}/api/v1/households", headers=h,
                      params={"as_of": AS_OF, "status": "uncovered", "limit": 5}, timeout=60)
        assert r.status_code == 200 and len(r.json()["items"]) == 5
        assert httpx.get(f"{base}/docs").status_code == 200
    # a second demo reuses the data and the key
    with serving(["--demo"], env, tmp_path) as (base, log):
        again = log.read_text()
        assert "holds data already" in again and key in again
        r = httpx.get(f"{base}/api/v1/summary", headers=h, params={"as_of": AS_OF}, timeout=60)
        assert r.json()["people"] == 13787


def test_demo_refuses_neo4j(tmp_path: Path) -> None:
    env = {"GRAPHSVC_DATA_DIR": str(tmp_path), "GRAPHSVC_NEO4J_URI": "bolt://127.0.0.1:9"}
    r = run(["serve", "--demo", "--port", str(free_port())], env, tmp_path)
    assert r.returncode == 2
    assert "GRAPHSVC_NEO4J_URI" in r.stderr and "embedded" in r.stderr


def test_unreachable_neo4j_answers_503(tmp_path: Path) -> None:
    env = {"GRAPHSVC_DATA_DIR": str(tmp_path / "data"), "GRAPHSVC_NEO4J_URI": "bolt://127.0.0.1:9",
           "GRAPHSVC_NEO4J_PASSWORD": "secret"}
    key = make_key(env, tmp_path, "--role", "admin")
    with serving([], env, tmp_path) as (base, log):
        r = httpx.get(f"{base}/health")
        assert r.status_code == 503
        assert r.json()["status"] == "unavailable" and "127.0.0.1:9" in r.json()["detail"]
        h = {"Authorization": f"Bearer {key}"}
        for url in ("/api/v1/households", "/api/v1/summary", "/api/v1/audit/members",
                    "/api/v1/households/H001", "/api/v1/people/M01/impact"):
            r = httpx.get(f"{base}{url}", headers=h, timeout=30)
            assert r.status_code == 503, (url, r.text)
            assert "cannot be reached" in r.json()["detail"]
        r = httpx.post(f"{base}/api/v1/imports", headers=h,
                       files={"file": ("contacts.csv", b"person_id,household_id,date\n")})
        assert r.status_code == 503
        assert httpx.get(f"{base}/api/v1/summary").status_code == 401
    assert "Traceback" not in log.read_text()


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_every_log_line_has_the_request_id(tmp_path: Path, log_format: str) -> None:
    """The server's log says which request each line is of: the id sent back in
    X-Request-ID, in JSON lines or in text."""
    env = {"GRAPHSVC_DATA_DIR": str(tmp_path / "data"), "GRAPHSVC_LOG_FORMAT": log_format}
    key = make_key(env, tmp_path, "--role", "viewer")
    with serving(["--workers", "2"], env, tmp_path) as (base, log):
        r = httpx.get(f"{base}/api/v1/summary", headers={"X-Request-ID": "county-clerk-1",
                                                          "Authorization": f"Bearer {key}"})
        assert r.status_code == 200 and r.headers["x-request-id"] == "county-clerk-1"
        r = httpx.get(f"{base}/api/v1/summary?key=gs_abcdefghijk")  # no key sent: 401
        assert r.status_code == 401
        made = r.headers["x-request-id"]
    lines = [line for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]
    if log_format == "json":
        first = next(i for i, line in enumerate(lines) if line.startswith("{"))
        assert lines[0].startswith("graphsvc serves")  # the banner, on stdout, then the log
        records = [json.loads(line) for line in lines[first:]]  # every line one JSON object
        access = [x for x in records if x["logger"] == "uvicorn.access"]
        assert {(x["request_id"], x["path"], x["status"]) for x in access} >= {
            ("county-clerk-1", "/api/v1/summary", 200),
            (made, "/api/v1/summary?key=gs_[redacted]", 401)}, access
        assert all({"time", "level", "message", "request_id"} <= set(x) for x in records)
    else:
        assert any("/api/v1/summary" in line and line.endswith("[county-clerk-1]")
                   for line in lines), lines
        assert any(line.endswith(f"[{made}]") and "401" in line for line in lines), lines
    assert "gs_abcdefghijk" not in log.read_text(encoding="utf-8")
