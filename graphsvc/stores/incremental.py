"""A write's rows applied to a kept graph, instead of building the whole graph again.

The embedded store keeps the county as one NetworkX graph (``graphsvc.graph.build_graph``
of every stored record). At ten counties that build takes 10–20 s, and a clerk's write is a
handful of rows: ``apply_bundle`` makes the graph the build would give after the write from
the graph before it, in milliseconds.

Readers never see a graph change under them: the graph after the write is a new object
that shares every untouched part with the one before (copy on write: the outer node and
adjacency maps are copied, which is a few milliseconds for a county, and only the inner maps
of the touched nodes). A reader holding the old graph keeps a consistent snapshot.

``affected`` tells which household status rows and which people's audit rows a write can
change, for the county-wide results kept above the store (``graphsvc.derived``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import networkx as nx

from graphsvc.bundle.schema import ENTITY_SPECS, FILES
from graphsvc.bundle.validate import Bundle
from graphsvc.graph import REFERENCE_REL, Graph, link_edges, node_attrs
from graphsvc.model import Kind

# what other records name (REFERENCE_REL targets): a new one of these may turn a reference of
# a stored record into an edge, which only a full build finds
_TARGET_KINDS = frozenset({Kind.TOWNSHIP, Kind.VILLAGE, Kind.ORGANIZATION})
_CHAIN = ("LIAISES_WITH_DELEGATE", "LIAISES_WITH_MEMBER", "LIAISES_WITH_HOUSEHOLD")
# the files whose rows can change a household's status or a person's audit row
_CHAIN_FILES = frozenset({"people", "households", "liaisons", "contacts", "supports"})


class _Cow:
    """A new graph sharing every part of ``G`` that is not written to."""

    def __init__(self, G: Graph) -> None:
        # NetworkX's own dicts (it has no public names for them), hence Any: the copy shares
        # each node's maps until they are written to
        H: Any = nx.MultiDiGraph()
        g: Any = G
        H._node = g._node.copy()
        H._adj = g._adj.copy()  # also _succ
        H._pred = g._pred.copy()
        self.H = H
        self.graph = dict(G.graph)
        self._outer: set[tuple[str, str]] = set()  # ("s"|"p", node): the node's own map
        self._inner: set[tuple[str, str, str]] = set()  # ("s"|"p", node, other): its key map
        self.new_nodes: set[str] = set()

    def _map(self, side: str, n: str) -> dict[str, Any]:
        outer = self.H._succ if side == "s" else self.H._pred
        if (side, n) not in self._outer:
            outer[n] = dict(outer[n])
            self._outer.add((side, n))
        found: dict[str, Any] = outer[n]
        return found

    def _keys(self, side: str, n: str, other: str) -> dict[str, Any]:
        m = self._map(side, n)
        if (side, n, other) not in self._inner:
            m[other] = dict(m.get(other, {}))
            self._inner.add((side, n, other))
        found: dict[str, Any] = m[other]
        return found

    def _ensure(self, n: str) -> None:
        if n not in self.H._node:  # as nx.add_edge does: a bare node
            self.set_node(n, {})

    def set_node(self, n: str, attrs: dict[str, Any]) -> None:
        if n not in self.H._node:
            self.H._succ[n] = {}
            self.H._pred[n] = {}
            self._outer.update({("s", n), ("p", n)})
            self.new_nodes.add(n)
        self.H._node[n] = attrs

    def has_edge(self, u: str, v: str, key: str) -> bool:
        return key in self.H._succ.get(u, {}).get(v, {})

    def set_edge(self, u: str, v: str, key: str, attrs: dict[str, Any]) -> None:
        self._ensure(u)
        self._ensure(v)
        self._keys("s", u, v)[key] = attrs
        self._keys("p", v, u)[key] = attrs

    def drop_edge(self, u: str, v: str, key: str) -> None:
        if not self.has_edge(u, v, key):
            return
        for side, a, b in (("s", u, v), ("p", v, u)):
            keys = self._keys(side, a, b)
            del keys[key]
            if not keys:
                del self._map(side, a)[b]
                self._inner.discard((side, a, b))

    def result(self) -> Graph:
        kept = self.graph.get("_nodes_by_entity")
        if kept is not None:  # rules' sorted node lists: drop those of kinds that gained nodes
            gained = {self.H._node[n].get("entity") for n in self.new_nodes}
            self.graph["_nodes_by_entity"] = {k: v for k, v in kept.items() if k not in gained}
        self.H.graph.update(self.graph)
        made: Graph = self.H
        return made


def apply_bundle(G: Graph, bundle: Bundle) -> Graph | None:
    """The graph ``build_graph`` would give after ``bundle`` was written (upserted, as the
    stores write) onto the records ``G`` was built from; ``G`` itself is left as it was.

    None when only a full build can tell: the bundle adds a township, village or organisation
    (a stored record may name it already).
    """
    for kind in _TARGET_KINDS:
        if any(r["id"] not in G for r in bundle.rows(ENTITY_SPECS[kind].name)):
            return None
    c = _Cow(G)
    H = c.H
    # records first (every reference below may name one written here), then their references
    for kind, spec in ENTITY_SPECS.items():
        for rec in bundle.rows(spec.name):
            c.set_node(rec["id"], node_attrs(kind, rec))
    for (kind, column), rel in REFERENCE_REL.items():
        for rec in bundle.rows(ENTITY_SPECS[kind].name):
            n = rec["id"]
            for _, old, k in list(H.out_edges(n, keys=True)) if n in G else ():
                if k == rel and old != rec.get(column):
                    c.drop_edge(n, old, rel)
            target = rec.get(column)
            if target is not None and target in H._node:
                c.set_edge(n, target, rel, {"type": rel})
    for u, v, key, attrs in link_edges(bundle.records):
        if attrs["type"] == "CONTACTED" and c.has_edge(u, v, key):
            continue  # stored already: the stores keep the first (INSERT OR IGNORE)
        c.set_edge(u, v, key, attrs)
    return c.result()


def touched(bundle: Bundle) -> tuple[set[str], bool]:
    """(ids of the people and households the bundle writes or links, whether it writes
    anything else that status rows or audit rows read: townships, villages, organisations,
    units; pairings change neither)."""
    ids: set[str] = set()
    for spec in FILES:
        rows = bundle.rows(spec.name)
        if not rows:
            continue
        if spec.name not in _CHAIN_FILES:
            if spec.name != "pairings":
                return ids, True
            continue
        if spec.group == "entity":
            ids.update(r["id"] for r in rows)
        elif spec.name == "liaisons":
            ids.update(x for r in rows for x in (r["from_id"], r["to_id"]))
        else:  # supports, contacts
            ids.update(x for r in rows for x in (r["person_id"], r["household_id"]))
    return ids, False


def tallied(bundle: Bundle) -> set[str]:
    """The records whose tally (``graphsvc.summary.tally``) a bundle can change: every record
    it writes, the households its supports and contacts are of, and the units and villages
    of its pairings (liaisons count in none of the county's numbers)."""
    ids: set[str] = set()
    for spec in ENTITY_SPECS.values():
        ids.update(r["id"] for r in bundle.rows(spec.name))
    ids.update(r["household_id"] for name in ("supports", "contacts") for r in bundle.rows(name))
    ids.update(x for r in bundle.rows("pairings") for x in (r["unit_id"], r["village_id"]))
    return ids


def affected(G: Graph, ids: Iterable[str]) -> tuple[set[str], set[str]]:
    """(households, people) whose rows a write touching ``ids`` can change, read from the graph
    after the write (liaisons are never deleted, only ended, so it holds every link there was).

    By the rules: a household's status reads its chain up to three liaisons above it (member,
    delegates, committee members) and its own contacts; a delegate's audit row reads one
    liaison above and two below, a member's one above and one below, a committee member's
    three below. So a write touching a record changes the households among ``ids`` and those
    up to three liaisons below a person among them; the people among ``ids``, those up to
    three liaisons above any of ``ids``, and those one liaison below a person among them.
    ``cypher/meta/changes.cypher`` is the same walk.
    """
    seeds = [n for n in ids if n in G]
    households = {n for n in seeds if G.nodes[n].get("entity") == "household"}
    people = {n for n in seeds if G.nodes[n].get("entity") == "person"}

    def walk(start: set[str], hops: int, down: bool) -> set[str]:
        seen: set[str] = set()
        frontier = start
        for _ in range(hops):
            edges = (G.out_edges(frontier, keys=True) if down else G.in_edges(frontier, keys=True))
            frontier = {(v if down else u) for u, v, k in edges if k in _CHAIN} - seen
            seen |= frontier
        return seen

    below = walk(people, 3, True)
    households |= {n for n in below if G.nodes[n].get("entity") == "household"}
    people |= walk(set(seeds), 3, False)
    people |= {n for n in walk(people & set(seeds), 1, True)
               if G.nodes[n].get("entity") == "person"}
    return households, people
