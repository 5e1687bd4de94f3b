"""Helpers for tests that are not fixtures."""

from __future__ import annotations

import re
from typing import Any

from neo4j import Query

from graphsvc.stores.base import Store


def clear(store: Store) -> None:
    """Empty a Neo4j store (an auto-commit query, as CALL IN TRANSACTIONS needs)."""
    with store.driver.session(database=store.database) as s:  # type: ignore[attr-defined]
        s.run(Query("MATCH (n) CALL (n) { DETACH DELETE n } "
                    "IN TRANSACTIONS OF 10000 ROWS")).consume()


def form_token(client: Any, page: str = "/visual/login") -> str:
    """The form token a diagram page gives this client (its pre-session cookie kept in the
    client), as a browser reads it from the page's hidden field."""
    found = re.search(r'<input type="hidden" name="csrf" value="([0-9a-f]+)">',
                      client.get(page).text)
    assert found, f"{page} has no form token"
    return found.group(1)


def visual_login(client: Any, token: str, **kw: Any) -> Any:
    """Log in to the diagram pages as a browser does: open the login form, send it back."""
    return client.post("/visual/login", data={"key": token, "csrf": form_token(client)},
                       follow_redirects=False, **kw)
