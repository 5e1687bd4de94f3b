"""The API in process: FastAPI's TestClient on a store (the app's lifespan runs), with keys."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from graphsvc.api import create_app
from graphsvc.config import Settings
from graphsvc.keys import KeyStore, Role
from graphsvc.stores.base import Store

AS_OF = "2026-06-30"


@dataclass
class Api:
    """A running app on a store, with a way to make keys."""

    client: TestClient
    keys: KeyStore
    store: Store

    def headers(self, role: Role | str = Role.ADMIN, townships: tuple[str, ...] = (),
                pii: bool = False) -> dict[str, str]:
        _, token = self.keys.create(role, townships=townships, pii=pii)
        return {"Authorization": f"Bearer {token}"}

    def get(self, url: str, headers: dict[str, str] | None = None, **params: Any) -> Any:
        r = self.client.get(url, headers=headers or self.admin, params=params)
        assert r.status_code == 200, r.text
        return r.json()

    @property
    def admin(self) -> dict[str, str]:
        if not hasattr(self, "_admin"):
            self._admin = self.headers(Role.ADMIN)
        return self._admin


def api_on(store: Store, data_dir: Path, **settings: Any) -> Iterator[Api]:
    """The app on ``store`` with its keys in ``data_dir``, running while the caller iterates
    (``yield from api_on(...)`` in a fixture, ``for api in api_on(...)`` in a test)."""
    s = Settings(data_dir=data_dir, neo4j_uri=None, **settings)
    with TestClient(create_app(s, store=store)) as client:
        yield Api(client, KeyStore(data_dir), store)
