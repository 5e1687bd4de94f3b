"""Random bundles: both stores hold the same records and give the same summary.

Hypothesis makes small counties with inactive people at every level, people
with several roles, cycles, duplicate rows, shared households, contacts after
``as_of`` and dates on the bounds; each is imported into the embedded store and
into Neo4j, and the two must export the same bytes and count the same.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from tests_support.data import DAYS, bundles

from graphsvc.bundle.schema import FILES
from graphsvc.bundle.writer import write_bundle
from graphsvc.importer import export_path, import_path
from graphsvc.stores.embedded import EmbeddedStore


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=bundles())
def test_both_stores_hold_and_count_the_same(data: dict[str, list[dict[str, Any]]],
                                             neo4j_shared) -> None:
    from tests_support import clear

    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        write_bundle(data, t / "in")
        emb = EmbeddedStore(t / "emb")
        try:
            r1 = import_path(emb, t / "in")
            assert r1.ok, [str(p) for p in r1.errors]
            clear(neo4j_shared)
            r2 = import_path(neo4j_shared, t / "in")
            assert r2.ok, [str(p) for p in r2.errors]
            assert [str(w) for w in r1.warnings] == [str(w) for w in r2.warnings]
            export_path(emb, t / "emb_out")
            export_path(neo4j_shared, t / "neo_out")
            for spec in FILES:
                assert (t / "emb_out" / spec.filename).read_bytes() == \
                    (t / "neo_out" / spec.filename).read_bytes(), spec.name
            for day in DAYS:
                assert emb.summary(day) == neo4j_shared.summary(day), day
            # importing the same bundle again changes nothing, on both
            assert import_path(neo4j_shared, t / "in").ok
            export_path(neo4j_shared, t / "neo_again")
            for spec in FILES:
                assert (t / "neo_out" / spec.filename).read_bytes() == \
                    (t / "neo_again" / spec.filename).read_bytes(), spec.name
        finally:
            emb.close()
