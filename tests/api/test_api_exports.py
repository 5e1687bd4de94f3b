"""The whole household audit in one answer: JSON like the list, or CSV for Excel."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests_support.api import AS_OF, Api, api_on

from graphsvc.importer import import_path
from graphsvc.keys import Role
from graphsvc.stores.base import Store


@pytest.fixture
def api(store: Store, tiny_dir: Path, tmp_path: Path) -> Iterator[Api]:
    assert import_path(store, tiny_dir).ok
    yield from api_on(store, tmp_path / "api")


def test_export_equals_the_list_without_paging(api: Api) -> None:
    full = api.get("/api/v1/exports/households", status="uncovered", as_of=AS_OF)
    paged = api.get("/api/v1/households", status="uncovered", as_of=AS_OF, limit=5)
    assert full["total"] == paged["total"] == 17 == len(full["items"])
    assert full["items"][:5] == paged["items"]


def test_export_csv_opens_in_excel(api: Api) -> None:
    r = api.client.get("/api/v1/exports/households", headers=api.admin,
                       params={"as_of": AS_OF, "format": "csv", "township_id": "T2"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    text = r.content.decode("utf-8")
    assert text.startswith("\ufeffhousehold_id,")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0]["household_id"] == "H059" and rows[0]["reason"] == "no_member"
    assert {r["township_id"] for r in rows} == {"T2"}


def test_export_respects_the_keys_township(api: Api) -> None:
    t1 = api.headers(Role.VIEWER, townships=("T1",))
    r = api.client.get("/api/v1/exports/households", headers=t1, params={"as_of": AS_OF})
    assert r.status_code == 200 and {i["township_id"] for i in r.json()["items"]} == {"T1"}
    r = api.client.get("/api/v1/exports/households", headers=t1,
                       params={"as_of": AS_OF, "township_id": "T2"})
    assert r.status_code == 403
    r = api.client.get("/api/v1/exports/households", headers=api.admin, params={"format": "pdf"})
    assert r.status_code == 422 and "format" in r.text
