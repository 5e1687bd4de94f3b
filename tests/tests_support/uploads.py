"""Uploads through the in-process API, and what the store holds before and after one."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from httpx import Response

from graphsvc.bundle.schema import FILES
from graphsvc.bundle.writer import csv_text, ordered_rows
from graphsvc.stores.base import Store
from tests_support.api import Api


def snapshot(store: Store) -> dict[str, str]:
    """Everything the store holds, as canonical bundle text."""
    recs = store.records()
    return {s.name: csv_text(s, ordered_rows(s, recs.get(s.name, ()))) for s in FILES}


def upload(api: Api, filename: str, data: bytes, **params: Any) -> Response:
    return api.client.post("/api/v1/imports", headers=api.admin, params=params,
                           files={"file": (filename, data)})


def refused(r: Response, *words: str) -> dict[str, Any]:
    """A 422 refusal whose errors say all of ``words``."""
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["ok"] is False and body["written"] is False
    said = json.dumps(body["errors"], ensure_ascii=False)
    for w in words:
        assert w in said, (w, said)
    return body


def zip_of(members: dict[str, bytes | str], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data.encode("utf-8") if isinstance(data, str) else data)
    return buf.getvalue()
