"""The county in numbers, as a pure function over the graph (the embedded store's engine
and the reference that ``cypher/summary.cypher`` must equal).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import networkx as nx

from graphsvc.bundle.schema import CATEGORIES, FOCUS_CATEGORIES, ORG_KINDS, SECTORS


def counts_on(since: dt.date | None, until: dt.date | None, as_of: dt.date) -> bool:
    """Whether a liaison, pairing or support with these dates counts on ``as_of``."""
    return (since is None or since <= as_of) and (until is None or as_of < until)


def is_active(attrs: dict[str, Any], as_of: dt.date) -> bool:
    """Whether a person or household is active on ``as_of`` (COVERAGE_RULES.md)."""
    if attrs.get("status", "active") == "active":
        return True
    left = attrs.get("inactive_since")
    return left is not None and as_of < left


def summarize(G: nx.MultiDiGraph, as_of: dt.date, *, township_id: str | None = None) -> dict[str, Any]:
    """Counts of the county's records on ``as_of`` (the record counts; see ``rules`` for statuses).

    People and households count when active; pairings and supports when they
    count on that date; contacts when dated on or before it. Supports and
    contacts of a household that is not active are left out, as the rules say
    of such households.

    With ``township_id`` everything is narrowed to that township: its villages;
    organisations, people and households by the township rule of DATA_FORMAT.md;
    pairings with its villages and the units in them; supports and contacts of
    its households.

    Examples
    --------
    >>> from graphsvc.graph import build_graph
    >>> G = build_graph({"townships": [{"id": "T1", "name": "柳树镇"}]})
    >>> summarize(G, dt.date(2026, 6, 30))["townships"]
    1
    """
    from graphsvc.rules import township_of  # rules builds on this module

    nodes = G.nodes
    by: dict[str, list[dict[str, Any]]] = {}
    local: set[str] | None = None
    if township_id is not None:
        local = {n for n, a in G.nodes(data=True)
                 if (a["entity"] == "township" and n == township_id)
                 or (a["entity"] == "village" and a.get("township_id") == township_id)
                 or (a["entity"] in ("organization", "person", "household")
                     and township_of(G, n) == township_id)}
        paired_here = {u for u, v, k in G.edges(keys=True) if k == "PAIRED_WITH" and v in local}
        local |= paired_here
    for n, a in G.nodes(data=True):
        if local is None or n in local:
            by.setdefault(a["entity"], []).append(a)
    people = [a for a in by.get("person", ()) if is_active(a, as_of)]
    households = {n for n, a in G.nodes(data=True)
                  if a["entity"] == "household" and is_active(a, as_of)
                  and (local is None or n in local)}
    focus = set(FOCUS_CATEGORIES)
    orgs = {k: 0 for k in ORG_KINDS}
    for a in by.get("organization", ()):
        orgs[a["kind"]] += 1
    units = {s: 0 for s in SECTORS}
    for a in by.get("unit", ()):
        units[a["sector"]] += 1

    pairings = supports = contacts = raised = resolved = 0
    paired_units: set[str] = set()
    paired_villages: set[str] = set()
    for u, v, e in G.edges(data=True):
        t = e["type"]
        if t == "PAIRED_WITH":
            if counts_on(e["since"], e["until"], as_of) and (local is None or v in local):
                pairings += 1
                paired_units.add(u)
                paired_villages.add(v)
        elif t == "SUPPORTS":
            if v in households and counts_on(e["since"], e["until"], as_of):
                supports += 1
        elif t == "CONTACTED":
            if v in households and e["date"] <= as_of:
                contacts += 1
                if e.get("request"):
                    raised += 1
                    if e.get("resolved"):
                        resolved += 1

    hh = [nodes[n] for n in households]
    return {
        "as_of": as_of.isoformat(),
        "townships": len(by.get("township", ())),
        "villages": len(by.get("village", ())),
        "villages_needing_pairing": sum(1 for a in by.get("village", ()) if a.get("needs_pairing")),
        "organizations": orgs,
        "units": units,
        "people": len(people),
        "committee_members": sum(1 for a in people if "committee_member" in a["roles"]),
        "delegates": sum(1 for a in people if "delegate" in a["roles"]),
        "cadres": sum(1 for a in people if "cadre" in a["roles"]),
        "members_in_hardship": sum(1 for a in people if a.get("hardship")),
        "households": len(hh),
        "focus_households": sum(1 for a in hh if focus.intersection(a["categories"])),
        "households_by_category": {c: sum(1 for a in hh if c in a["categories"]) for c in CATEGORIES},
        "pairings": pairings,
        "paired_units": len(paired_units),
        "paired_villages": len(paired_villages),
        "supports": supports,
        "contacts": contacts,
        "requests_raised": raised,
        "requests_resolved": resolved,
    }
