"""``Neo4jStore.pairing_network`` (one Cypher statement) gives what ``Store.pairing_network``
(built from the whole graph) gives, on Neo4j and on the embedded store."""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from tests_support import clear
from tests_support.data import DAYS, bundles

from graphsvc.bundle.writer import write_bundle
from graphsvc.importer import import_path
from graphsvc.stores.base import Store
from graphsvc.stores.embedded import EmbeddedStore
from graphsvc.stores.neo4j import Neo4jStore

AS_OF = (dt.date(2008, 1, 1), dt.date(2019, 12, 31), dt.date(2026, 6, 30))


def test_tiny_county_same_on_both_stores(neo4j_shared: Neo4jStore, tiny_dir: Path,
                                         tmp_path: Path) -> None:
    clear(neo4j_shared)
    assert import_path(neo4j_shared, tiny_dir).ok
    emb = EmbeddedStore(tmp_path / "emb")
    try:
        assert import_path(emb, tiny_dir).ok
        for as_of in AS_OF:
            for township_id in (None, "T1", "T2"):
                t0 = time.perf_counter()
                got = neo4j_shared.pairing_network(as_of, township_id=township_id)
                took = time.perf_counter() - t0
                print(f"pairing_network({as_of}, {township_id}) on Neo4j: {took * 1000:.1f} ms")
                assert got == Store.pairing_network(neo4j_shared, as_of, township_id=township_id)
                assert got == emb.pairing_network(as_of, township_id=township_id)
        # the tiny county has pairings that count, so the comparison is not of empty lists
        assert Neo4jStore.pairing_network(neo4j_shared, AS_OF[-1])["pairings"]
    finally:
        emb.close()


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=bundles())
def test_random_bundles_same_on_both_stores(data: dict[str, list[dict[str, Any]]],
                                            neo4j_shared: Neo4jStore) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        write_bundle(data, t / "in")
        emb = EmbeddedStore(t / "emb")
        try:
            assert import_path(emb, t / "in").ok
            clear(neo4j_shared)
            assert import_path(neo4j_shared, t / "in").ok
            # T0–T2 are townships; V0 is a record but no township, X9 no record at all
            for as_of in DAYS:
                for township_id in (None, "T0", "T1", "T2", "V0", "X9"):
                    assert neo4j_shared.pairing_network(as_of, township_id=township_id) == \
                        emb.pairing_network(as_of, township_id=township_id), (as_of, township_id)
        finally:
            emb.close()


def test_keys_in_the_default_order(neo4j_shared: Neo4jStore, tiny_dir: Path) -> None:
    clear(neo4j_shared)
    assert import_path(neo4j_shared, tiny_dir).ok
    got = neo4j_shared.pairing_network(AS_OF[-1])
    want = Store.pairing_network(neo4j_shared, AS_OF[-1])
    assert list(got) == list(want)
    for key in want:
        assert [list(m) for m in got[key]] == [list(m) for m in want[key]], key
