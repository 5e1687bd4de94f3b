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

The store reads the ranking (``Store.risk_page``): the NetworkX functions of
``graphsvc.stores.graphreads`` (``dependents``, ``losses``) are the reference,
``cypher/analysis/risks.cypher`` computes the same aggregate on Neo4j, and the tests hold both
equal to ``impact`` person by person.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from graphsvc.rules import RuleSettings
from graphsvc.stores.base import Store

DEFAULT_FOCUS_WEIGHT = 3
"""A focus household (military/martyr family, extremely poor, empty-nest elderly) counts this
many times an ordinary one in the score (``graphsvc.stores.graphreads.score``)."""


def page(store: Store, as_of: dt.date, rules: RuleSettings, *, township_id: str | None = None,
         focus_weight: int = DEFAULT_FOCUS_WEIGHT, limit: int | None = None, offset: int = 0,
         ) -> tuple[int, list[dict[str, Any]]]:
    """(how many people would leave at least one household uncovered by leaving, one page of
    them): by score (highest first), then by id. With ``township_id`` only that township's
    households count, and only its people are listed (``Store.risk_page``). Runs with Python's
    cyclic collector paused (``repair.gc_paused``: many small objects, no cycles)."""
    from graphsvc.analysis.repair import gc_paused

    with gc_paused():
        return store.risk_page(as_of, rules, township_id=township_id, focus_weight=focus_weight,
                               limit=limit, offset=offset)


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
