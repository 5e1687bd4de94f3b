"""The county in numbers, as a pure function over the graph (the embedded store's engine
and the reference that ``cypher/summary.cypher`` must equal).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from typing import Any

from graphsvc.graph import Graph
from graphsvc.model import CATEGORIES, FOCUS_CATEGORIES, ORG_KINDS, SECTORS, counts_on, is_active
from graphsvc.rules import township_of


def summarize(G: Graph, as_of: dt.date, *, township_id: str | None = None) -> dict[str, Any]:
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
    nodes = G.nodes
    by: dict[str, list[dict[str, Any]]] = {}
    local: set[str] | None = None
    if township_id is None:
        items: Iterable[Any] = G.nodes(data=True)  # (id, attributes)
        edges: Iterable[tuple[str, str, dict[str, Any]]] = G.edges(data=True)
    else:
        local = _township_records(G, township_id)
        items = ((n, nodes[n]) for n in local)
        # the only edges counted here end in a village or household of the township
        edges = G.in_edges([n for n in local if nodes[n]["entity"] in ("village", "household")],
                           data=True)
    for n, a in items:
        by.setdefault(a["entity"], []).append(a)
    people = [a for a in by.get("person", ()) if is_active(a, as_of)]
    households = {n for n, a in (G.nodes(data=True) if local is None
                                  else ((n, nodes[n]) for n in local))
                  if a["entity"] == "household" and is_active(a, as_of)}
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
    for u, v, e in edges:
        t = e["type"]
        if t == "PAIRED_WITH":
            if counts_on(e["since"], e["until"], as_of) and (local is None or v in local):
                pairings += 1
                paired_units.add(u)
                paired_villages.add(v)
        elif t == "SUPPORTS":
            if v in households and counts_on(e["since"], e["until"], as_of):
                supports += 1
        elif t == "CONTACTED" and v in households and e["date"] <= as_of:
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
        "households_by_category": {c: sum(1 for a in hh if c in a["categories"])
                                   for c in CATEGORIES},
        "pairings": pairings,
        "paired_units": len(paired_units),
        "paired_villages": len(paired_villages),
        "supports": supports,
        "contacts": contacts,
        "requests_raised": raised,
        "requests_resolved": resolved,
    }


def _township_records(G: Graph, township_id: str) -> set[str]:
    """The township, its villages, the organisations, people and households of it by the
    township rule (``rules.township_of``), and the units paired (at any time) with one of its
    villages: found from the township's and its villages' own edges, never a walk over the
    whole graph. Every way ``township_of`` can name the township is an edge into it, into
    one of its villages, or into one of its organisations."""
    if township_id not in G or G.nodes[township_id].get("entity") != "township":
        # no such township: only records naming it outright (no edge was made to it)
        return {n for n, a in G.nodes(data=True)
                if (a["entity"] == "village" and a.get("township_id") == township_id)
                or (a["entity"] in ("organization", "person", "household")
                    and township_of(G, n) == township_id)}
    nodes = G.nodes
    villages = {u for u, _, k in G.in_edges(township_id, keys=True)
                if k == "IN_TOWNSHIP" and nodes[u]["entity"] == "village"
                and nodes[u].get("township_id") == township_id}
    near = {u for u, _, k in G.in_edges(township_id, keys=True) if k == "IN_TOWNSHIP"}
    near |= {u for u, _, k in G.in_edges(villages, keys=True) if k == "IN_VILLAGE"}
    orgs = {n for n in near if nodes[n]["entity"] == "organization"}
    near |= {u for u, _, k in G.in_edges(orgs, keys=True) if k == "BELONGS_TO"}
    local = {township_id} | villages
    local |= {n for n in near if nodes[n]["entity"] in ("organization", "person", "household")
              and township_of(G, n) == township_id}
    local |= {u for u, v, k in G.in_edges(villages, keys=True) if k == "PAIRED_WITH"}
    return local


# -- the county's numbers kept across writes (graphsvc.derived) ----------------------------------


def flatten(summary: dict[str, Any]) -> dict[str, int]:
    """``summarize``'s counts as one flat map (``org_<kind>``, ``unit_<sector>``, ``cat_<c>``),
    the columns of ``cypher/summary.cypher``."""
    out = {k: v for k, v in summary.items() if isinstance(v, int) and not isinstance(v, bool)}
    out.update({f"org_{k}": v for k, v in summary["organizations"].items()})
    out.update({f"unit_{k}": v for k, v in summary["units"].items()})
    out.update({f"cat_{k}": v for k, v in summary["households_by_category"].items()})
    return out


def unflatten(flat: dict[str, int], as_of: dt.date) -> dict[str, Any]:
    """``flatten`` undone: the shape ``summarize`` gives."""
    g = flat.get
    return {
        "as_of": as_of.isoformat(),
        "townships": g("townships", 0),
        "villages": g("villages", 0),
        "villages_needing_pairing": g("villages_needing_pairing", 0),
        "organizations": {k: g(f"org_{k}", 0) for k in ORG_KINDS},
        "units": {k: g(f"unit_{k}", 0) for k in SECTORS},
        "people": g("people", 0),
        "committee_members": g("committee_members", 0),
        "delegates": g("delegates", 0),
        "cadres": g("cadres", 0),
        "members_in_hardship": g("members_in_hardship", 0),
        "households": g("households", 0),
        "focus_households": g("focus_households", 0),
        "households_by_category": {c: g(f"cat_{c}", 0) for c in CATEGORIES},
        "pairings": g("pairings", 0),
        "paired_units": g("paired_units", 0),
        "paired_villages": g("paired_villages", 0),
        "supports": g("supports", 0),
        "contacts": g("contacts", 0),
        "requests_raised": g("requests_raised", 0),
        "requests_resolved": g("requests_resolved", 0),
    }


def tally(G: Graph, as_of: dt.date, nodes: Iterable[str]) -> Counter[str]:
    """What the records ``nodes`` add to the county's ``flatten(summarize(G, as_of))``.

    Each count belongs to one record: a record itself to its own count; a household's
    supports and contacts to the household; a pairing, and whether a unit is paired, to the
    unit; whether a village is paired to the village. So the county's numbers are the tally
    of every record, and after a write they change by the tally of the written records (and
    the records the written links end at) after it, less their tally before
    (``tests/test_kept.py``; ``cypher/meta/tally.cypher`` is the same on Neo4j).
    """
    c: Counter[str] = Counter()
    focus = set(FOCUS_CATEGORIES)
    for n in set(nodes):
        if n not in G:
            continue
        a = G.nodes[n]
        e = a.get("entity")
        if e == "township":
            c["townships"] += 1
        elif e == "village":
            c["villages"] += 1
            c["villages_needing_pairing"] += bool(a.get("needs_pairing"))
            c["paired_villages"] += any(
                k == "PAIRED_WITH" and counts_on(d.get("since"), d.get("until"), as_of)
                for _, _, k, d in G.in_edges(n, keys=True, data=True))
        elif e == "organization":
            c[f"org_{a['kind']}"] += 1
        elif e == "unit":
            c[f"unit_{a['sector']}"] += 1
            k = sum(1 for _, _, key, d in G.out_edges(n, keys=True, data=True)
                    if key == "PAIRED_WITH" and counts_on(d.get("since"), d.get("until"), as_of))
            c["pairings"] += k
            c["paired_units"] += k > 0
        elif e == "person" and is_active(a, as_of):
            roles = a.get("roles", ())
            c["people"] += 1
            c["committee_members"] += "committee_member" in roles
            c["delegates"] += "delegate" in roles
            c["cadres"] += "cadre" in roles
            c["members_in_hardship"] += bool(a.get("hardship"))
        elif e == "household" and is_active(a, as_of):
            cats = a.get("categories", ())
            c["households"] += 1
            c["focus_households"] += bool(focus.intersection(cats))
            for cat in cats:
                c[f"cat_{cat}"] += 1
            for _, _, d in G.in_edges(n, data=True):
                t = d["type"]
                if t == "SUPPORTS" and counts_on(d.get("since"), d.get("until"), as_of):
                    c["supports"] += 1
                elif t == "CONTACTED" and d["date"] <= as_of:
                    c["contacts"] += 1
                    if d.get("request"):
                        c["requests_raised"] += 1
                        c["requests_resolved"] += bool(d.get("resolved"))
    return c
