"""Every answer carries a request id: the client's when usable, else a new one; the 500 of
an unexpected error says it too, so a clerk's report can be found in the log."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from graphsvc.api.app import create_app
from graphsvc.config import Settings
from graphsvc.stores.embedded import EmbeddedStore

HEX = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def client(tmp_path: Path):  # type: ignore[no-untyped-def]
    store = EmbeddedStore(tmp_path / "data")
    app = create_app(Settings(data_dir=tmp_path / "data", neo4j_uri=None), store=store)

    @app.get("/boom", include_in_schema=False)
    def boom() -> None:
        raise RuntimeError("a bug")

    with TestClient(app, raise_server_exceptions=False) as c:
        yield c
    store.close()


def test_the_clients_id_comes_back_on_every_kind_of_answer(client: TestClient) -> None:
    sent = {"X-Request-ID": "phone-app.42_A"}
    for method, url in [("GET", "/health"), ("GET", "/api/v1/summary"),  # 200, 401
                        ("GET", "/api/v1/nowhere"), ("POST", "/api/v1/contacts")]:  # 404, 401
        r = client.request(method, url, headers=sent)
        assert r.headers["x-request-id"] == "phone-app.42_A", (url, r.status_code)


def test_a_missing_or_unusable_id_is_replaced_by_a_new_one(client: TestClient) -> None:
    ids = set()
    for headers in [{}, {"X-Request-ID": "two words"}, {"X-Request-ID": "x" * 129},
                    {"X-Request-ID": "id\u4e00".encode()}]:
        r = client.get("/health", headers=headers)
        assert HEX.fullmatch(r.headers["x-request-id"]), r.headers
        ids.add(r.headers["x-request-id"])
    assert len(ids) == 4  # a new one each time
    assert client.get("/health", headers={"X-Request-ID": "x" * 128}).headers[
        "x-request-id"] == "x" * 128


def test_an_unexpected_error_answers_500_with_the_id(client: TestClient,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    r = client.get("/boom", headers={"X-Request-ID": "report-me"})
    assert r.status_code == 500
    assert r.headers["x-request-id"] == "report-me"
    assert "report-me" in r.json()["detail"]
    assert any("unexpected error in GET /boom" in m for m in caplog.messages)
