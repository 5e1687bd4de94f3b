"""The reads the analyses need (``graphsvc.analysis``), as pure functions over the graph.

This is the reference for them, as ``graphsvc.rules`` is for the coverage rules: the embedded
store answers ``Store.repair_people``, ``Store.risk_page``, ``Store.households_below``,
``Store.chain_households`` and ``Store.chain_people`` with these functions, and the Neo4j
store with ``cypher/analysis/*.cypher``; the tests hold both equal. Every function takes the
graph ``G`` first (as ``graphsvc.graph`` builds it), never changes it, and does no I/O.

The records they return (``Facts``, ``PersonData``, ``HouseholdData``, ``Chains``) are the
shapes both stores give.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from graphsvc.errors import NotFound
from graphsvc.graph import Graph, adjacency
from graphsvc.model import counts_on, is_active
from graphsvc.rules import (
    CM_DELEGATE,
    DELEGATE_MEMBER,
    MEMBER_HOUSEHOLD,
    Day,
    RuleSettings,
    entity_nodes,
    focus_count,
    households_in,
    township_of,
    village_of,
)

# -- repair plans: what a plan needs to know of people -------------------------------------------

Facts = dict[str, dict[str, Any]]
"""person id -> {roles, village_id, township_id, load, delegates, cms, members, dels_below,
in_chain}, for active people only (see ``Store.repair_people``)."""


def repair_people(G: Graph, as_of: dt.date, township_ids: Sequence[str] | None,
                  ids: Iterable[str]) -> Facts:
    """``Store.repair_people`` (read its docstring) over the graph."""
    day = Day(G, as_of)
    wanted = set(ids)
    towns = None if township_ids is None else set(township_ids)
    succ, pred = adjacency(G)

    def linked(adj: Any, n: str, rel: str) -> set[str]:
        """The other ends of the counting ``rel`` liaisons of ``n`` (as ``rules.Day`` finds
        them, reading only the edges of that type)."""
        out = set()
        for v, keys in adj[n].items():
            e = keys.get(rel)
            if e is not None and counts_on(e.get("since"), e.get("until"), as_of):
                out.add(v)
        return out

    out: Facts = {}
    for p in entity_nodes(G, "person"):
        roles = G.nodes[p].get("roles") or ()
        listed = "committee_member" in roles or p in wanted
        if not listed and towns is not None and (not towns or township_of(G, p) not in towns):
            continue
        if not day.active(p):
            continue
        above = linked(pred, p, DELEGATE_MEMBER)
        load = sum(1 for h in linked(succ, p, MEMBER_HOUSEHOLD) if day.active(h))
        if not (listed or "delegate" in roles or above or load > 0):
            continue
        out[p] = {
            "roles": list(roles),
            "village_id": village_of(G, p),
            "township_id": township_of(G, p),
            "load": load,
            "delegates": sorted(d for d in above if day.active(d) and day.has_role(d, "delegate")),
            "cms": sorted(c for c in linked(pred, p, CM_DELEGATE)
                          if day.active(c) and day.has_role(c, "committee_member")),
            "members": sorted(m for m in linked(succ, p, DELEGATE_MEMBER) if day.active(m)),
            "dels_below": sorted(d for d in linked(succ, p, CM_DELEGATE)
                                 if day.active(d) and day.has_role(d, "delegate")),
            "in_chain": bool(above) or load > 0,
        }
    return out


# -- single points of failure --------------------------------------------------------------------


def dependents(G: Graph, as_of: dt.date, *, township_id: str | None = None,
               ) -> dict[str, frozenset[str]]:
    """Every active household (of the township, when given) whose chain holds on ``as_of``,
    with the people present in every one of its valid chains (``graphsvc.analysis.risks``
    says how, and why that is who would leave it uncovered).

    Examples
    --------
    >>> from graphsvc.graph import build_graph
    >>> G = build_graph({
    ...     "townships": [{"id": "T1", "name": "镇"}],
    ...     "villages": [{"id": "V1", "name": "村", "township_id": "T1"}],
    ...     "people": [{"id": i, "name": i, "roles": r, "status": "active"} for i, r in
    ...                [("C1", ["committee_member"]), ("C2", ["committee_member"]),
    ...                 ("D1", ["delegate"]), ("M1", []), ("M2", [])]],
    ...     "households": [{"id": "H1", "village_id": "V1", "status": "active"}],
    ...     "liaisons": [{"kind": k, "from_id": a, "to_id": b} for k, a, b in [
    ...         ("committee_member-delegate", "C1", "D1"),
    ...         ("committee_member-delegate", "C2", "D1"),
    ...         ("delegate-member", "D1", "M1"), ("delegate-member", "D1", "M2"),
    ...         ("member-household", "M1", "H1"), ("member-household", "M2", "H1")]]})
    >>> sorted(dependents(G, dt.date(2026, 6, 30))["H1"])   # two members, two committee members
    ['D1']
    """
    day = Day(G, as_of)
    households = households_in(G, township_id, None)
    if households is None:
        households = entity_nodes(G, "household")
    held_by_delegate: dict[str, frozenset[str] | None] = {}
    held_by_member: dict[str, frozenset[str] | None] = {}

    def delegate_held(d: str) -> frozenset[str] | None:
        """{d} and its committee member if it has exactly one; None: no chain through d."""
        if d not in held_by_delegate:
            held: frozenset[str] | None = None
            if day.active(d) and day.has_role(d, "delegate"):
                cms = {c for c in day.into(d, CM_DELEGATE)
                       if day.active(c) and day.has_role(c, "committee_member")}
                if cms:
                    held = frozenset({d} | cms) if len(cms) == 1 else frozenset({d})
            held_by_delegate[d] = held
        return held_by_delegate[d]

    def member_held(m: str) -> frozenset[str] | None:
        """{m} and who is in every chain above m; None: no chain through m."""
        if m not in held_by_member:
            held: frozenset[str] | None = None
            if day.active(m):
                above = [s for s in map(delegate_held, set(day.into(m, DELEGATE_MEMBER)))
                         if s is not None]
                if above:
                    held = frozenset({m}) | frozenset.intersection(*above)
            held_by_member[m] = held
        return held_by_member[m]

    out: dict[str, frozenset[str]] = {}
    for h in households:
        if not day.active(h):
            continue
        sets = [s for s in map(member_held, set(day.into(h, MEMBER_HOUSEHOLD))) if s is not None]
        if sets:
            out[h] = frozenset.intersection(*sets)
    return out


def losses(G: Graph, as_of: dt.date, rules: RuleSettings, *,
           township_id: str | None = None) -> dict[str, tuple[int, int]]:
    """person -> (households lost, focus households lost) if that person left, for every person
    who would leave at least one household uncovered; with ``township_id``, only the households
    of that township count (the people may be anywhere)."""
    lost: Counter[str] = Counter()
    focus: Counter[str] = Counter()
    for h, people in dependents(G, as_of, township_id=township_id).items():
        is_focus = focus_count(G.nodes[h].get("categories") or (), rules) > 0
        for p in people:
            lost[p] += 1
            if is_focus:
                focus[p] += 1
    return {p: (n, focus[p]) for p, n in lost.items()}


def score(households_lost: int, focus_households_lost: int, focus_weight: int) -> int:
    """An ordinary household counts 1, a focus household ``focus_weight``."""
    return households_lost - focus_households_lost + focus_weight * focus_households_lost


def risk_page(G: Graph, as_of: dt.date, rules: RuleSettings, *,
              township_id: str | None, focus_weight: int, limit: int | None,
              offset: int) -> tuple[int, list[dict[str, Any]]]:
    """``Store.risk_page`` (read its docstring) over the graph."""
    rows: list[dict[str, Any]] = []
    for p, (n, f) in losses(G, as_of, rules, township_id=township_id).items():
        town = township_of(G, p)
        if township_id is not None and town != township_id:
            continue
        a = G.nodes[p]
        rows.append({"person_id": p, "name": a.get("name"), "roles": list(a.get("roles") or ()),
                     "township_id": town, "households_lost": n, "focus_households_lost": f,
                     "score": score(n, f, focus_weight)})
    rows.sort(key=lambda r: (-r["score"], r["person_id"]))
    return len(rows), rows[offset: None if limit is None else offset + limit]


# -- requests: the households below someone ------------------------------------------------------


def households_below(G: Graph, person_id: str, as_of: dt.date) -> list[str]:
    """``Store.households_below`` (read its docstring) over the graph."""
    if person_id not in G or G.nodes[person_id]["entity"] != "person":
        raise NotFound(f"no person with id '{person_id}'")

    def down(nodes: set[str], rel: str) -> set[str]:
        return {v for n in nodes for _, v, k, e in G.out_edges(n, keys=True, data=True)
                if k == rel and counts_on(e.get("since"), e.get("until"), as_of)}

    me = {person_id}
    found = (down(me, MEMBER_HOUSEHOLD) | down(down(me, DELEGATE_MEMBER), MEMBER_HOUSEHOLD)
             | down(down(down(me, CM_DELEGATE), DELEGATE_MEMBER), MEMBER_HOUSEHOLD))
    return sorted(h for h in found if G.nodes[h]["entity"] == "household")


# -- the chain data of trends and requests -------------------------------------------------------

Link = tuple[str, "dt.date | None", "dt.date | None"]
"""(the other end's id, since, until) of a liaison or support."""


@dataclass(slots=True)
class PersonData:
    """A person as the chain analyses need them."""

    id: str
    roles: frozenset[str]
    status: str
    inactive_since: dt.date | None
    township_id: str | None
    delegates_in: list[Link] = field(default_factory=list)  # delegate-member liaisons into them
    committee_in: list[Link] = field(default_factory=list)  # committee_member-delegate into them

    def active(self, day: dt.date) -> bool:
        return is_active({"status": self.status, "inactive_since": self.inactive_since}, day)


@dataclass(slots=True)
class RequestRow:
    """A contact that carries a request (its text as stored)."""

    person_id: str
    date: dt.date
    text: str
    resolved: bool


@dataclass(slots=True)
class HouseholdData:
    """A household with the links into it that its coverage depends on."""

    id: str
    village_id: str | None
    township_id: str | None
    categories: list[str]
    status: str
    inactive_since: dt.date | None
    members_in: list[Link] = field(default_factory=list)  # member-household liaisons into it
    contacts: list[dt.date] = field(default_factory=list)  # distinct dates, sorted (trends)
    requests: list[RequestRow] = field(default_factory=list)  # (requests)
    supports: list[Link] = field(default_factory=list)  # cadres supporting it (requests)

    def active(self, day: dt.date) -> bool:
        return is_active({"status": self.status, "inactive_since": self.inactive_since}, day)


@dataclass(slots=True)
class Chains:
    """Households in scope and every person above them in the chain (and, for requests, the
    people who raised, resolved or support)."""

    households: dict[str, HouseholdData]
    people: dict[str, PersonData]


def chain_households(G: Graph, *, township_id: str | None = None,
                     village_id: str | None = None,
                     household_ids: Collection[str] | None = None,
                     contacts: tuple[dt.date, dt.date] | None = None,
                     requests_until: dt.date | None = None) -> dict[str, HouseholdData]:
    """``Store.chain_households`` (read its docstring) over the graph."""
    nodes, pred = G.nodes, adjacency(G)[1]
    if household_ids is not None:
        hs = [h for h in set(household_ids) if h in G and nodes[h]["entity"] == "household"]
    elif village_id is not None or township_id is not None:
        villages = ([village_id] if village_id is not None else
                    [v for v, a in G.nodes(data=True) if a["entity"] == "village"
                     and a.get("township_id") == township_id])
        hs = [h for v in villages if v in G for h, _, k in G.in_edges(v, keys=True)
              if k == "IN_VILLAGE" and nodes[h]["entity"] == "household"]
    else:
        hs = [n for n, a in G.nodes(data=True) if a["entity"] == "household"]
    households: dict[str, HouseholdData] = {}
    for h in hs:
        a = nodes[h]
        town = township_of(G, h)
        if village_id is not None and a.get("village_id") != village_id:
            continue
        if township_id is not None and town != township_id:
            continue
        d = HouseholdData(h, a.get("village_id"), town, list(a.get("categories") or ()),
                          a.get("status") or "active", a.get("inactive_since"))
        dates: set[dt.date] = set()
        for u, edges in pred[h].items():
            for k, e in edges.items():
                if k == MEMBER_HOUSEHOLD:
                    d.members_in.append((u, e.get("since"), e.get("until")))
                elif k == "SUPPORTS":
                    if requests_until is not None:
                        d.supports.append((u, e.get("since"), e.get("until")))
                elif e.get("type") == "CONTACTED":
                    if requests_until is not None:
                        if e.get("request") is not None and e["date"] <= requests_until:
                            d.requests.append(RequestRow(u, e["date"], e["request"],
                                                         bool(e.get("resolved"))))
                    elif contacts is not None and contacts[0] <= e["date"] <= contacts[1]:
                        dates.add(e["date"])
        d.contacts = sorted(dates)
        households[h] = d
    return households


def chain_people(G: Graph, ids: Iterable[str]) -> dict[str, PersonData]:
    """``Store.chain_people`` (read its docstring) over the graph."""
    nodes, pred = G.nodes, adjacency(G)[1]
    people: dict[str, PersonData] = {}
    for p in set(ids):
        if p not in G or nodes[p]["entity"] != "person":
            continue
        a = nodes[p]
        rec = PersonData(p, frozenset(a.get("roles") or ()), a.get("status") or "active",
                         a.get("inactive_since"), township_of(G, p))
        for u, edges in pred[p].items():
            for k, e in edges.items():
                if k == DELEGATE_MEMBER:
                    rec.delegates_in.append((u, e.get("since"), e.get("until")))
                elif k == CM_DELEGATE:
                    rec.committee_in.append((u, e.get("since"), e.get("until")))
        people[p] = rec
    return people
