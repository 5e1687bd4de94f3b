"""graphsvc/model.py's rules written once: the township rule of DATA_FORMAT.md over any lookup,
and the same answer from the graph (rules), the store's records (the API's scope) and both
stores for the tiny county."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from graphsvc.api import scope
from graphsvc.importer import import_path
from graphsvc.model import Kind, counts_on, is_active, township_of
from graphsvc.rules import township_of as graph_township_of
from graphsvc.stores.base import Store

RECORDS: dict[str, tuple[str, dict[str, Any]]] = {
    "T1": ("township", {"name": "柳树镇"}),
    "V1": ("village", {"township_id": "T1"}),
    "V9": ("village", {}),  # a village of no township
    "O1": ("organization", {"township_id": "T2"}),
    "O2": ("organization", {"village_id": "V1"}),
    "O3": ("organization", {}),  # county level
    "P1": ("person", {"township_id": "T3", "village_id": "V1", "organization_id": "O1"}),
    "P2": ("person", {"village_id": "V1", "organization_id": "O1"}),
    "P3": ("person", {"organization_id": "O1"}),
    "P4": ("person", {"organization_id": "O2"}),
    "P5": ("person", {"organization_id": "O3"}),
    "P6": ("person", {"village_id": "V404", "organization_id": "O1"}),  # an unknown village
    "P7": ("person", {"village_id": "O2"}),  # a reference to no village
    "H1": ("household", {"village_id": "V1", "township_id": "T3"}),  # households: the village's
    "H2": ("household", {"village_id": "V9"}),
    "U1": ("unit", {"organization_id": "O1"}),  # units serve every township
}
EXPECTED = {"T1": "T1", "V1": "T1", "V9": None, "O1": "T2", "O2": "T1", "O3": None, "P1": "T3",
            "P2": "T1", "P3": "T2", "P4": "T1", "P5": None, "P6": "T2", "P7": None, "H1": "T1",
            "H2": None, "U1": None, "nobody": None}


def test_the_township_rule_of_data_format() -> None:
    assert {rid: township_of(rid, RECORDS.get) for rid in EXPECTED} == EXPECTED


def test_the_date_rules() -> None:
    day = dt.date(2026, 6, 30)
    assert counts_on(None, None, day) and counts_on(day, None, day)
    assert not counts_on(None, day, day) and not counts_on(day + dt.timedelta(1), None, day)
    assert is_active({}, day)
    assert is_active({"status": "inactive", "inactive_since": day + dt.timedelta(1)}, day)
    assert not is_active({"status": "inactive"}, day)
    assert not is_active({"status": "inactive", "inactive_since": day}, day)


def test_graph_and_store_records_give_the_same_townships(store: Store, tiny_dir: Path) -> None:
    """The rules (over the graph) and the API's scope (over the store's records, two reads)
    name the same township for every person, household, village and organisation of the tiny
    county, on both stores."""
    assert import_path(store, tiny_dir).ok
    G = store.graph()
    ids = [n for n, a in G.nodes(data=True)
           if a["entity"] in ("person", "household", "village", "organization")]
    found = store.fetch_entities(ids)
    by_store = scope.townships_of(store, found)
    by_graph = {n: graph_township_of(G, n) for n in ids}
    assert by_store == by_graph
    assert {by_graph[n] for n in ids} == {"T1", "T2", None}
    one = next(n for n in ids if found[n][0] is Kind.HOUSEHOLD)
    assert scope.township_of(store, Kind.HOUSEHOLD, found[one][1]) == by_graph[one]
    assert scope.township_of(store, Kind.TOWNSHIP, {"id": "T1", "name": "柳树镇"}) == "T1"


@pytest.mark.parametrize("changed,expected", [
    ({"township_id": None, "village_id": "V3"}, "T2"),  # moved to a village of T2
    ({"township_id": "T1"}, "T1"),
])
def test_scope_judges_a_record_as_it_will_be(store: Store, tiny_dir: Path,
                                             changed: dict[str, Any], expected: str) -> None:
    """A write is judged on the record as it will be (not yet stored): its own fields, and the
    stored villages and organisations it names."""
    assert import_path(store, tiny_dir).ok
    kind, rec = store.fetch_entities(["M01"])["M01"]
    assert scope.township_of(store, kind, {**rec, **changed}) == expected
