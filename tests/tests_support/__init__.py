"""Helpers for tests that are not fixtures, shared by the test folders.

The modules beside this one hold the helpers by concept (``api``, ``cli``, ``server``, ``data``,
``counties``, ``uploads``, ``pages``, ``browser``); shared fixtures live in the conftest.py files.
This package is importable because pytest puts ``tests/`` (the folder of the rootdir conftest) on
``sys.path``; there is no ``__init__.py`` in ``tests/``, so the tests import the installed
graphsvc, not the source folder.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from neo4j import Query

import graphsvc
from graphsvc.stores.base import Store

# the repository: benchmarks/, scripts/, docs/, pyproject.toml (two levels above this folder)
ROOT = Path(__file__).resolve().parents[2]
# the folder that holds the graphsvc being tested (site-packages, or the source tree): what a
# subprocess gets as PYTHONPATH so that it runs the same graphsvc
PKG_PARENT = str(Path(graphsvc.__file__).resolve().parents[1])


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
