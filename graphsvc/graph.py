"""The data as one NetworkX graph: the shape both stores share.

Nodes are records keyed by id, with ``entity`` (a ``Kind`` value: township,
village, organization, unit, person, household) and the record's fields as
attributes. Edges carry ``type`` (the Neo4j relationship
type of ``docs/model.md``) and, for liaisons, pairings, supports and contacts,
their dates; the edge key is the type (contacts: the contact's key, since a
person may visit a household many times).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, TypeAlias

import networkx as nx

from graphsvc.bundle.schema import ENTITY_SPECS, contact_key
from graphsvc.model import Kind

Graph: TypeAlias = "nx.MultiDiGraph[str]"
"""The county as one graph: nodes are record ids (see the module docstring)."""
Adjacency: TypeAlias = dict[str, dict[str, dict[str, dict[str, Any]]]]
"""node -> neighbour -> edge key -> edge attributes"""


def adjacency(G: Graph) -> tuple[Adjacency, Adjacency]:
    """(successors, predecessors): NetworkX's own adjacency dicts, to read only. Walking them
    skips the view object ``G.succ``/``G.pred`` make per node, which the county-wide reads
    feel: they walk every household's chain."""
    return G._succ, G._pred  # type: ignore[attr-defined]  # NetworkX has no public name for them

LIAISON_REL: dict[str, str] = {
    "committee_member-delegate": "LIAISES_WITH_DELEGATE",
    "delegate-member": "LIAISES_WITH_MEMBER",
    "member-household": "LIAISES_WITH_HOUSEHOLD",
}
REL_LIAISON: dict[str, str] = {v: k for k, v in LIAISON_REL.items()}

# (column of an entity file) -> relationship type from the record to the record it names
REFERENCE_REL: dict[tuple[Kind, str], str] = {
    (Kind.VILLAGE, "township_id"): "IN_TOWNSHIP",
    (Kind.ORGANIZATION, "parent_id"): "PART_OF",
    (Kind.ORGANIZATION, "township_id"): "IN_TOWNSHIP",
    (Kind.ORGANIZATION, "village_id"): "IN_VILLAGE",
    (Kind.UNIT, "organization_id"): "HAS_ORGANIZATION",
    (Kind.PERSON, "organization_id"): "BELONGS_TO",
    (Kind.PERSON, "township_id"): "IN_TOWNSHIP",
    (Kind.PERSON, "village_id"): "IN_VILLAGE",
    (Kind.HOUSEHOLD, "village_id"): "IN_VILLAGE",
}

ROLE_LABELS: dict[str, str] = {
    "committee_member": "CommitteeMember",
    "delegate": "Delegate",
    "cadre": "Cadre",
}
KIND_LABELS: dict[Kind, str] = {
    Kind.TOWNSHIP: "Township",
    Kind.VILLAGE: "Village",
    Kind.ORGANIZATION: "Organization",
    Kind.UNIT: "Unit",
    Kind.PERSON: "Person",
    Kind.HOUSEHOLD: "Household",
}


def build_graph(records: Mapping[str, Iterable[Mapping[str, Any]]]) -> Graph:
    """A graph of every record, as described in the module docstring.

    Examples
    --------
    >>> G = build_graph({"townships": [{"id": "T1", "name": "柳树镇"}]})
    >>> G.nodes["T1"]["entity"]
    'township'
    """
    G: Graph = nx.MultiDiGraph()
    for kind, spec in ENTITY_SPECS.items():
        for rec in records.get(spec.name, ()):
            G.add_node(rec["id"], **node_attrs(kind, rec))
    for (kind, column), rel in REFERENCE_REL.items():
        for rec in records.get(ENTITY_SPECS[kind].name, ()):
            target = rec.get(column)
            if target is not None and target in G:
                G.add_edge(rec["id"], target, key=rel, type=rel)
    for u, v, key, attrs in link_edges(records):
        G.add_edge(u, v, key=key, **attrs)
    return G


def node_attrs(kind: Kind, rec: Mapping[str, Any]) -> dict[str, Any]:
    """A record's node attributes: ``entity`` and every field but the id."""
    return {"entity": kind.value, **{k: v for k, v in rec.items() if k != "id"}}


def link_edges(records: Mapping[str, Iterable[Mapping[str, Any]]],
               ) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    """(from, to, key, attributes) of the edge of every liaison, pairing, support and contact."""
    for rec in records.get("liaisons", ()):
        rel = LIAISON_REL[rec["kind"]]
        yield rec["from_id"], rec["to_id"], rel, {"type": rel, "since": rec.get("since"),
                                                  "until": rec.get("until")}
    for name, frm, to, rel in (("pairings", "unit_id", "village_id", "PAIRED_WITH"),
                               ("supports", "person_id", "household_id", "SUPPORTS")):
        for rec in records.get(name, ()):
            yield rec[frm], rec[to], rel, {"type": rel, "since": rec.get("since"),
                                           "until": rec.get("until")}
    for rec in records.get("contacts", ()):
        yield rec["person_id"], rec["household_id"], contact_key(rec), {
            "type": "CONTACTED", "date": rec["date"], "channel": rec.get("channel"),
            "request": rec.get("request"), "resolved": rec.get("resolved")}
