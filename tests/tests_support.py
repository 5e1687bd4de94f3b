"""Helpers for tests that are not fixtures."""

from __future__ import annotations

from neo4j import Query

from graphsvc.stores.base import Store


def clear(store: Store) -> None:
    """Empty a Neo4j store (an auto-commit query, as CALL IN TRANSACTIONS needs)."""
    with store.driver.session(database=store.database) as s:  # type: ignore[attr-defined]
        s.run(Query("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS")).consume()
