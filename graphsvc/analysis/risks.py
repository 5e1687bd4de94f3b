"""Single points of failure: who would leave households uncovered if they left, everyone at once.

``rules.impact(G, p)`` answers for one person: the households whose chain holds now (status
``covered`` or ``stale``) and would be ``uncovered`` if ``p`` were inactive. Asking it for
every person is one graph walk per person. This module answers it for everyone in one pass:

- a *valid chain* of a household ``h`` on ``as_of`` is a triple (member ``m``, delegate ``d``,
  committee member ``c``) with counting liaisons ``c → d → m → h``, all three active, ``d``
  with the role ``delegate`` and ``c`` with the role ``committee_member`` (COVERAGE_RULES.md:
  ``h`` is covered or stale exactly when it has one);
- ``h`` becomes uncovered when ``p`` leaves exactly when ``p`` is in *every* valid chain of
  ``h``: the people ``h`` depends on are the intersection of ``{m, d, c}`` over its chains;
- that intersection is computed bottom-up without listing chains: for a delegate,
  ``{d}`` plus its committee member when it has exactly one; for a member, ``{m}`` plus the
  intersection over its delegates; for a household, the intersection over its members. Each
  delegate and member is looked at once.

Then each person counts the households that depend on them (``households_lost``) and the focus
households among them (``focus_households_lost``); the ``score`` weighs a focus household
``focus_weight`` times an ordinary one. Stale households count like covered ones, as in
``rules.impact``: their chain holds, they are only overdue for a visit.

The NetworkX functions here are the reference; ``cypher/analysis/risks.cypher`` computes the
same aggregate on Neo4j, and the tests hold both equal to ``impact`` person by person.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from typing import Any

import networkx as nx

from graphsvc import rules as R
from graphsvc.rules import CM_DELEGATE, DELEGATE_MEMBER, MEMBER_HOUSEHOLD, RuleSettings
from graphsvc.stores.base import Store

DEFAULT_FOCUS_WEIGHT = 3
"""A focus household (military/martyr family, extremely poor, empty-nest elderly) counts this
many times an ordinary one in the score."""
_RULES = RuleSettings()


def dependents(G: nx.MultiDiGraph, as_of: dt.date, *, township_id: str | None = None,
               ) -> dict[str, frozenset[str]]:
    """Every active household (of the township, when given) whose chain holds on ``as_of``,
    with the people present in every one of its valid chains.

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
    ...         ("committee_member-delegate", "C1", "D1"), ("committee_member-delegate", "C2", "D1"),
    ...         ("delegate-member", "D1", "M1"), ("delegate-member", "D1", "M2"),
    ...         ("member-household", "M1", "H1"), ("member-household", "M2", "H1")]]})
    >>> sorted(dependents(G, dt.date(2026, 6, 30))["H1"])   # two members, two committee members
    ['D1']
    """
    day = R._Day(G, as_of)
    households = R._households_in(G, township_id, None)
    if households is None:
        households = R._nodes(G, "household")
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


def losses(G: nx.MultiDiGraph, as_of: dt.date, rules: RuleSettings = _RULES, *,
           township_id: str | None = None) -> dict[str, tuple[int, int]]:
    """person -> (households lost, focus households lost) if that person left, for every person
    who would leave at least one household uncovered; with ``township_id``, only the households
    of that township count (the people may be anywhere)."""
    lost: Counter[str] = Counter()
    focus: Counter[str] = Counter()
    for h, people in dependents(G, as_of, township_id=township_id).items():
        is_focus = R.focus_count(G.nodes[h].get("categories") or (), rules) > 0
        for p in people:
            lost[p] += 1
            if is_focus:
                focus[p] += 1
    return {p: (n, focus[p]) for p, n in lost.items()}


def _rows_graph(G: nx.MultiDiGraph, as_of: dt.date, rules: RuleSettings,
                township_id: str | None) -> list[dict[str, Any]]:
    rows = []
    for p, (n, f) in losses(G, as_of, rules, township_id=township_id).items():
        town = R.township_of(G, p)
        if township_id is not None and town != township_id:
            continue
        a = G.nodes[p]
        rows.append({"person_id": p, "name": a.get("name"), "roles": list(a.get("roles") or ()),
                     "township_id": town, "households_lost": n, "focus_households_lost": f})
    return rows


def _page_neo4j(store: Store, as_of: dt.date, rules: RuleSettings, township_id: str | None,
                focus_weight: int, limit: int | None, offset: int,
                ) -> tuple[int, list[dict[str, Any]]]:
    params: dict[str, Any] = {"as_of": as_of, "focus_categories": list(rules.focus_categories),
                              "focus_weight": focus_weight, "limit": limit, "offset": offset}
    if township_id is None:  # top-down over the county; bottom-up from a township's households
        (r,) = store.query("analysis/risks", **params)  # type: ignore[attr-defined]
    else:
        (r,) = store.query("analysis/risks_township",  # type: ignore[attr-defined]
                           township_id=township_id, **params)
    rows = [{"person_id": x["person_id"], "name": x["name"], "roles": list(x["roles"] or ()),
             "township_id": x["township_id"], "households_lost": int(x["households_lost"]),
             "focus_households_lost": int(x["focus_households_lost"]), "score": int(x["score"])}
            for x in r["page"]]
    rows.sort(key=lambda x: (-x["score"], x["person_id"]))
    return int(r["total"]), rows


def score(households_lost: int, focus_households_lost: int,
          focus_weight: int = DEFAULT_FOCUS_WEIGHT) -> int:
    """An ordinary household counts 1, a focus household ``focus_weight``."""
    return households_lost - focus_households_lost + focus_weight * focus_households_lost


def page(store: Store, as_of: dt.date, rules: RuleSettings, *, township_id: str | None = None,
         focus_weight: int = DEFAULT_FOCUS_WEIGHT, limit: int | None = None, offset: int = 0,
         ) -> tuple[int, list[dict[str, Any]]]:
    """(how many people would leave at least one household uncovered by leaving, one page of
    them): by score (highest first), then by id. With ``township_id`` only that township's
    households count, and only its people are listed. On Neo4j the page is cut in the
    statement, so that only its people's names and townships are read. Runs with Python's
    cyclic collector paused (``repair.gc_paused``: many small objects, no cycles)."""
    from graphsvc.analysis.repair import gc_paused

    with gc_paused():
        if store.kind == "neo4j":
            return _page_neo4j(store, as_of, rules, township_id, focus_weight, limit, offset)
        rows = _rows_graph(store.graph(), as_of, rules, township_id)
        for r in rows:
            r["score"] = score(r["households_lost"], r["focus_households_lost"], focus_weight)
        rows.sort(key=lambda r: (-r["score"], r["person_id"]))
        return len(rows), rows[offset: None if limit is None else offset + limit]


def ranking(store: Store, as_of: dt.date, rules: RuleSettings, *, township_id: str | None = None,
            focus_weight: int = DEFAULT_FOCUS_WEIGHT) -> list[dict[str, Any]]:
    """The whole ranking (see ``page``)."""
    return page(store, as_of, rules, township_id=township_id, focus_weight=focus_weight)[1]


def risks_body(store: Store, as_of: dt.date, rules: RuleSettings, *,
               township_id: str | None = None, focus_weight: int = DEFAULT_FOCUS_WEIGHT,
               limit: int | None = 100, offset: int = 0) -> dict[str, Any]:
    """``GET /api/v1/risks/people``: one page of the ranking, with the total."""
    total, rows = page(store, as_of, rules, township_id=township_id, focus_weight=focus_weight,
                       limit=limit, offset=offset)
    body: dict[str, Any] = {"as_of": as_of.isoformat(), "focus_weight": focus_weight,
                            "total": total, "items": rows}
    if township_id is not None:
        body["township_id"] = township_id
    return body


def risky_people(store: Store, as_of: dt.date, rules: RuleSettings,
                 township_id: str | None = None, *,
                 focus_weight: int = DEFAULT_FOCUS_WEIGHT) -> dict[str, int]:
    """person id -> score, for everyone whose leaving would uncover a household (for diagrams:
    highlight these). Scoped as ``ranking``."""
    return {r["person_id"]: r["score"]
            for r in ranking(store, as_of, rules, township_id=township_id,
                             focus_weight=focus_weight)}


def brute_force(store: Store, as_of: dt.date, rules: RuleSettings,
                people: Iterable[str]) -> dict[str, tuple[int, int]]:
    """The baseline: ``store.impact`` person by person (for tests and the benchmark)."""
    out = {}
    for p in people:
        hs = store.impact(p, as_of, rules)
        if hs:
            _, rows = store.households(as_of, rules, household_ids=[h["household_id"] for h in hs])
            out[p] = (len(hs), sum(1 for r in rows if r["focus"]))
    return out
