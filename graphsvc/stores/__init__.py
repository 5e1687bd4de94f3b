"""Stores: where the records live. ``open_store`` picks one from the settings."""

from __future__ import annotations

from graphsvc.config import Settings, get_settings
from graphsvc.stores.base import Store


def open_store(settings: Settings | None = None) -> Store:
    """Neo4j when ``GRAPHSVC_NEO4J_URI`` is set, else the embedded store in
    ``GRAPHSVC_DATA_DIR``."""
    s = settings or get_settings()
    if s.neo4j_uri:
        from graphsvc.stores.neo4j import Neo4jStore, answers

        answers(s.neo4j_uri)  # at once, where the driver would retry for 30 s
        return Neo4jStore.from_settings(s)
    from graphsvc.stores.embedded import EmbeddedStore

    return EmbeddedStore(s.data_dir)


__all__ = ["Store", "open_store"]
