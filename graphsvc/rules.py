"""The coverage rules of ``spec/COVERAGE_RULES.md`` as pure functions over the graph.

This is the reference: the embedded store answers with these functions, and the
Cypher in ``cypher/rules/`` must give exactly the same results (the tests hold
them equal). Every function takes the graph ``G`` first (as ``graphsvc.graph``
builds it), never changes it, and does no I/O.

Vocabulary, on a date ``as_of``:

- a liaison, pairing or support *counts* when its dates hold that day;
- a person or household is *active* (``model.is_active``); an inactive
  household is left out of everything, as if it did not exist;
- a contact counts when dated on or before ``as_of``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from graphsvc import model as M
from graphsvc.graph import Graph
from graphsvc.model import FOCUS_CATEGORIES, REASONS, STATUSES, counts_on, is_active

CM_DELEGATE, DELEGATE_MEMBER, MEMBER_HOUSEHOLD = (
    "LIAISES_WITH_DELEGATE", "LIAISES_WITH_MEMBER", "LIAISES_WITH_HOUSEHOLD")


@dataclass(frozen=True, slots=True)
class RuleSettings:
    """The rule settings of COVERAGE_RULES.md (defaults as there)."""

    min_members_per_delegate: int = 10
    households_per_member: int = 3
    min_delegates_per_committee_member: int = 1
    stale_after_days: int = 90
    focus_categories: tuple[str, ...] = field(default=FOCUS_CATEGORIES)

    def as_dict(self) -> dict[str, int]:
        return {
            "min_members_per_delegate": self.min_members_per_delegate,
            "households_per_member": self.households_per_member,
            "min_delegates_per_committee_member": self.min_delegates_per_committee_member,
            "stale_after_days": self.stale_after_days,
        }


class RuleError(ValueError):
    """A precondition of a rule function does not hold (an unknown id, say)."""


# -- what holds on a date ---------------------------------------------------------------------


class Day:
    """The graph seen on one date: active records, counting liaisons (computed lazily once)."""

    def __init__(self, G: Graph, as_of: dt.date, *,
                 inactive: frozenset[str] = frozenset()) -> None:
        self.G, self.as_of, self.inactive = G, as_of, inactive
        self._active: dict[str, bool] = {}

    def active(self, n: str) -> bool:
        a = self._active.get(n)
        if a is None:
            a = n not in self.inactive and n in self.G and is_active(self.G.nodes[n], self.as_of)
            self._active[n] = a
        return a

    def has_role(self, n: str, role: str) -> bool:
        return role in self.G.nodes[n].get("roles", ())

    def out(self, n: str, rel: str) -> Iterable[str]:
        """Targets of counting ``rel`` liaisons from ``n`` (dropping inactive households)."""
        for _, v, k, e in self.G.out_edges(n, keys=True, data=True):
            if k == rel and counts_on(e.get("since"), e.get("until"), self.as_of):
                if rel == MEMBER_HOUSEHOLD and not self.active(v):
                    continue
                yield v

    def into(self, n: str, rel: str) -> Iterable[str]:
        """Sources of counting ``rel`` liaisons into ``n``."""
        for u, _, k, e in self.G.in_edges(n, keys=True, data=True):
            if k == rel and counts_on(e.get("since"), e.get("until"), self.as_of):
                yield u

    def last_contact(self, h: str) -> dt.date | None:
        best: dt.date | None = None
        for _, _, e in self.G.in_edges(h, data=True):
            if e["type"] == "CONTACTED":
                d = e["date"]
                if d <= self.as_of and (best is None or d > best):
                    best = d
        return best


# -- scope --------------------------------------------------------------------------------------


def village_of(G: Graph, n: str) -> str | None:
    """The village of a household, or of a person (their village, else their organisation's)."""
    a = G.nodes[n]
    v = a.get("village_id")
    if v is None and a.get("organization_id") in G:
        v = G.nodes[a["organization_id"]].get("village_id")
    return v


def township_of(G: Graph, n: str) -> str | None:
    """A record's township, by the rule of DATA_FORMAT.md (``model.township_of``) over the graph."""
    return M.township_of(n, lambda i: (G.nodes[i]["entity"], G.nodes[i]) if i in G else None)


def _in_scope(G: Graph, township_id: str | None,
              village_id: str | None) -> Callable[[str], bool]:
    if township_id is None and village_id is None:
        return lambda n: True

    def ok(n: str) -> bool:
        if village_id is not None and village_of(G, n) != village_id:
            return False
        return township_id is None or township_of(G, n) == township_id

    return ok


def entity_nodes(G: Graph, entity: str, ids: Iterable[str] | None = None) -> list[str]:
    """The nodes of one kind, sorted; only those among ``ids`` when given."""
    if ids is not None:
        return sorted({n for n in ids if n in G and G.nodes[n]["entity"] == entity})
    # kept on the graph, which is rebuilt whenever the data changes (callers never mutate it)
    kept: dict[str, list[str]] = G.graph.setdefault("_nodes_by_entity", {})
    if entity not in kept:
        kept[entity] = sorted(n for n, a in G.nodes(data=True) if a["entity"] == entity)
    return kept[entity]


def households_in(G: Graph, township_id: str | None, village_id: str | None,
                  ) -> list[str] | None:
    """The households of a village, or of a township's villages; None for the whole county."""
    if village_id is not None:
        villages = [village_id] if village_id in G else []
    elif township_id is not None:
        villages = [v for v in entity_nodes(G, "village")
                    if G.nodes[v].get("township_id") == township_id]
    else:
        return None
    return [h for v in villages for h, _, k in G.in_edges(v, keys=True)
            if k == "IN_VILLAGE" and G.nodes[h]["entity"] == "household"]


def people_in(G: Graph, township_id: str | None, village_id: str | None) -> set[str] | None:
    """The people who may lie in a village, or in a township (``_in_scope`` decides): those
    naming it, one of its villages, or an organisation in either, found from its edges; None
    for the whole county, or when the township is not in the graph (then every person is
    asked)."""
    if village_id is not None:
        places = [village_id] if village_id in G else []
    elif township_id is not None:
        if township_id not in G:
            return None
        places = [township_id] + [v for v, _, k in G.in_edges(township_id, keys=True)
                                  if k == "IN_TOWNSHIP" and G.nodes[v]["entity"] == "village"]
    else:
        return None
    orgs = [o for p in places for o, _, _ in G.in_edges(p, keys=True)
            if G.nodes[o]["entity"] == "organization"]
    return {n for p in places + orgs for n, _, _ in G.in_edges(p, keys=True)
            if G.nodes[n]["entity"] == "person"}


def _people(G: Graph, township_id: str | None, village_id: str | None,
            ids: Iterable[str] | None) -> list[str]:
    """The people to audit, sorted: those among ``ids`` (when given) who may lie in the scope."""
    local = people_in(G, township_id, village_id)
    if local is not None:
        ids = local if ids is None else local.intersection(ids)
    return entity_nodes(G, "person", ids)


# -- households ---------------------------------------------------------------------------------


def focus_count(categories: Iterable[str], rules: RuleSettings) -> int:
    return sum(1 for c in categories if c in rules.focus_categories)


def household_order(G: Graph, rules: RuleSettings) -> Callable[[str], tuple[int, str]]:
    """Sort key: focus households first, more focus categories first, then by id."""
    return lambda h: (-focus_count(G.nodes[h].get("categories", ()), rules), h)


def _status(day: Day, h: str, rules: RuleSettings) -> tuple[str, str | None, list[str]]:
    members = sorted(set(day.into(h, MEMBER_HOUSEHOLD)))
    if not members:
        return "uncovered", "no_member", members
    active_members = [m for m in members if day.active(m)]
    if not active_members:
        return "uncovered", "member_inactive", members
    delegates = {d for m in active_members for d in day.into(m, DELEGATE_MEMBER)
                 if day.active(d) and day.has_role(d, "delegate")}
    if not delegates:
        return "uncovered", "no_delegate", members
    if not any(day.active(c) and day.has_role(c, "committee_member")
               for d in delegates for c in day.into(d, CM_DELEGATE)):
        return "uncovered", "no_committee_member", members
    return "covered", None, members


def _household_row(day: Day, h: str, rules: RuleSettings) -> dict[str, Any]:
    G = day.G
    status, reason, members = _status(day, h, rules)
    last = day.last_contact(h)
    if status == "covered" and (last is None or (day.as_of - last).days > rules.stale_after_days):
        status = "stale"
    cats = list(G.nodes[h].get("categories", ()))
    return {
        "household_id": h,
        "village_id": G.nodes[h].get("village_id"),
        "township_id": township_of(G, h),
        "categories": cats,
        "focus": focus_count(cats, rules) > 0,
        "status": status,
        "reason": reason,
        "last_contact": last.isoformat() if last else None,
        "member_ids": members,
    }


def household_statuses(G: Graph, as_of: dt.date, rules: RuleSettings = RuleSettings(), *,
                       township_id: str | None = None, village_id: str | None = None,
                       household_ids: Iterable[str] | None = None,
                       member_ids: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """Every active household's status on ``as_of``, in the household order.

    ``household_ids`` narrows to those households; ``member_ids`` to the households those
    people have a member-household liaison with (at any time: a row's ``member_ids`` tells
    which liaisons count). The township and village narrow any of them.

    Examples
    --------
    >>> from graphsvc.graph import build_graph
    >>> G = build_graph({"townships": [{"id": "T1", "name": "镇"}],
    ...                  "villages": [{"id": "V1", "name": "村", "township_id": "T1"}],
    ...                  "households": [{"id": "H1", "head_name": "王", "village_id": "V1",
    ...                                  "categories": [], "status": "active"}]})
    >>> [(r["household_id"], r["status"], r["reason"])
    ...  for r in household_statuses(G, dt.date(2026, 6, 30))]
    [('H1', 'uncovered', 'no_member')]
    """
    day = Day(G, as_of)
    scope = _in_scope(G, township_id, village_id)
    ids: set[str] | None = None if household_ids is None else set(household_ids)
    local = households_in(G, township_id, village_id)
    if local is not None:
        ids = set(local) if ids is None else ids & set(local)
    if member_ids is not None:
        below = {v for m in member_ids if m in G
                 for _, v, k in G.out_edges(m, keys=True) if k == MEMBER_HOUSEHOLD}
        ids = below if ids is None else ids & below
    hs = [h for h in entity_nodes(G, "household", ids) if day.active(h) and scope(h)]
    hs.sort(key=household_order(G, rules))
    return [_household_row(day, h, rules) for h in hs]


def household_status(G: Graph, household_id: str, as_of: dt.date,
                     rules: RuleSettings = RuleSettings()) -> dict[str, Any] | None:
    """One household's row of ``household_statuses``; None when it is not active on ``as_of``."""
    if household_id not in G or G.nodes[household_id]["entity"] != "household":
        raise RuleError(f"no household with id '{household_id}'")
    day = Day(G, as_of)
    return _household_row(day, household_id, rules) if day.active(household_id) else None


# -- audits -------------------------------------------------------------------------------------


def _member_households(day: Day, m: str) -> set[str]:
    return set(day.out(m, MEMBER_HOUSEHOLD))


def delegate_audit(G: Graph, as_of: dt.date, rules: RuleSettings = RuleSettings(), *,
                   township_id: str | None = None, village_id: str | None = None,
                   ids: Iterable[str] | None = None,
                   ) -> list[dict[str, Any]]:
    """The audit of every active delegate, ordered by id (only those among ``ids`` when given)."""
    day = Day(G, as_of)
    scope = _in_scope(G, township_id, village_id)
    out = []
    for d in _people(G, township_id, village_id, ids):
        if not (day.has_role(d, "delegate") and day.active(d) and scope(d)):
            continue
        cms = sorted({c for c in day.into(d, CM_DELEGATE)
                      if day.active(c) and day.has_role(c, "committee_member")})
        members = sorted({m for m in day.out(d, DELEGATE_MEMBER) if day.active(m)})
        reached: set[str] = set()
        short = []
        for m in members:
            hs = _member_households(day, m)
            reached |= hs
            if len(hs) < rules.households_per_member:
                short.append(m)
        problems = []
        if not cms:
            problems.append("no_committee_member")
        if len(members) < rules.min_members_per_delegate:
            problems.append("too_few_members")
        if short:
            problems.append("members_short")
        out.append({
            "delegate_id": d,
            "name": G.nodes[d].get("name"),
            "township_id": township_of(G, d),
            "committee_member_ids": cms,
            "member_ids": members,
            "member_count": len(members),
            "households_reached": len(reached),
            "focus_households_reached": sum(
                1 for h in reached if focus_count(G.nodes[h].get("categories", ()), rules)),
            "members_short": short,
            "problems": problems,
            "status": "gap" if problems else "ok",
        })
    return out


def member_audit(G: Graph, as_of: dt.date, rules: RuleSettings = RuleSettings(), *,
                 township_id: str | None = None, village_id: str | None = None,
                 ids: Iterable[str] | None = None,
                 ) -> list[dict[str, Any]]:
    """The audit of every active person in the chain as a member, ordered by id (only those
    among ``ids`` when given)."""
    day = Day(G, as_of)
    scope = _in_scope(G, township_id, village_id)
    out = []
    for m in _people(G, township_id, village_id, ids):
        if not (day.active(m) and scope(m)):
            continue
        above = set(day.into(m, DELEGATE_MEMBER))
        hs = _member_households(day, m)
        if not above and not hs:
            continue
        delegates = sorted(d for d in above if day.active(d) and day.has_role(d, "delegate"))
        problems = []
        if not delegates:
            problems.append("no_delegate")
        if len(hs) < rules.households_per_member:
            problems.append("too_few_households")
        out.append({
            "member_id": m,
            "name": G.nodes[m].get("name"),
            "township_id": township_of(G, m),
            "household_count": len(hs),
            "delegate_ids": delegates,
            "problems": problems,
        })
    return out


def committee_member_audit(G: Graph, as_of: dt.date, rules: RuleSettings = RuleSettings(),
                           *, township_id: str | None = None, village_id: str | None = None,
                           ids: Iterable[str] | None = None,
                           ) -> list[dict[str, Any]]:
    """The audit of every active committee member, ordered by id (only those among ``ids``
    when given)."""
    day = Day(G, as_of)
    scope = _in_scope(G, township_id, village_id)
    out = []
    for c in _people(G, township_id, village_id, ids):
        if not (day.has_role(c, "committee_member") and day.active(c) and scope(c)):
            continue
        delegates = sorted({d for d in day.out(c, CM_DELEGATE)
                            if day.active(d) and day.has_role(d, "delegate")})
        reached: set[str] = set()
        for d in delegates:
            for m in day.out(d, DELEGATE_MEMBER):
                if day.active(m):
                    reached |= _member_households(day, m)
        out.append({
            "committee_member_id": c,
            "name": G.nodes[c].get("name"),
            "township_id": township_of(G, c),
            "delegate_ids": delegates,
            "delegate_count": len(delegates),
            "households_reached": len(reached),
            "problems": (["too_few_delegates"]
                         if len(delegates) < rules.min_delegates_per_committee_member else []),
        })
    return out


def pairing_audit(G: Graph, as_of: dt.date, *, township_id: str | None = None,
                  ) -> dict[str, list[str]]:
    """Villages that need a unit and have none; units with no pairing (on ``as_of``).

    With ``township_id``, villages of that township, and units paired (at any
    time, or never) with none of the township's villages are left out.
    """
    paired_villages: set[str] = set()
    paired_units: set[str] = set()
    for u in entity_nodes(G, "unit"):  # units' own edges: never a walk over every contact
        for _, v, k, e in G.out_edges(u, keys=True, data=True):
            if k == "PAIRED_WITH" and counts_on(e.get("since"), e.get("until"), as_of):
                paired_villages.add(v)
                paired_units.add(u)
    villages = [v for v in entity_nodes(G, "village")
                if township_id is None or G.nodes[v].get("township_id") == township_id]
    units = entity_nodes(G, "unit")
    if township_id is not None:
        local = set(villages)
        units = [u for u in units
                 if any(k == "PAIRED_WITH" and v in local for _, v, k in G.out_edges(u, keys=True))]
    return {
        "unpaired_villages": [v for v in villages
                              if G.nodes[v].get("needs_pairing") and v not in paired_villages],
        "idle_units": [u for u in units if u not in paired_units],
    }


def impact(G: Graph, person_id: str, as_of: dt.date, rules: RuleSettings = RuleSettings(),
           ) -> list[dict[str, Any]]:
    """Households covered or stale now that would be uncovered if ``person_id`` left.

    Each comes with the reason it would then have, in the household order.
    """
    if person_id not in G or G.nodes[person_id]["entity"] != "person":
        raise RuleError(f"no person with id '{person_id}'")
    now = Day(G, as_of)
    after = Day(G, as_of, inactive=frozenset([person_id]))
    # only households below the person can change
    below: set[str] = set()
    frontier = {person_id}
    for rel in (CM_DELEGATE, DELEGATE_MEMBER, MEMBER_HOUSEHOLD):
        nxt: set[str] = set()
        for n in frontier:
            for _, v, k in G.out_edges(n, keys=True):
                if k in (CM_DELEGATE, DELEGATE_MEMBER, MEMBER_HOUSEHOLD):
                    nxt.add(v)
        below |= {n for n in nxt if G.nodes[n]["entity"] == "household"}
        frontier = {n for n in nxt if G.nodes[n]["entity"] == "person"}
    out = []
    for h in sorted(below, key=household_order(G, rules)):
        if not now.active(h):
            continue
        if _status(now, h, rules)[0] != "covered":
            continue
        status, reason, _ = _status(after, h, rules)
        if status == "uncovered":
            out.append({"household_id": h, "reason": reason})
    return out


def status_counts(rows: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Households by status and by reason, from ``household_statuses`` rows."""
    by_status = {s: 0 for s in STATUSES}
    by_reason = {r: 0 for r in REASONS}
    for r in rows:
        by_status[r["status"]] += 1
        if r["reason"]:
            by_reason[r["reason"]] += 1
    return {"households_by_status": by_status, "uncovered_by_reason": by_reason}


def _person_brief(day: Day, n: str) -> dict[str, Any]:
    a = day.G.nodes[n]
    return {"id": n, "name": a.get("name"), "roles": list(a.get("roles", ())),
            "active": day.active(n), "township_id": township_of(day.G, n)}


def household_detail(G: Graph, household_id: str, as_of: dt.date,
                     rules: RuleSettings = RuleSettings(), *, recent: int = 20) -> dict[str, Any]:
    """One household with everyone who supports it, as ``GET /households/{id}`` shows it.

    ``chains`` lists each member with a counting liaison to the household, the
    delegates above that member and the committee members above those, each
    with ``active`` so that a break in the chain shows where it is. A household
    that is not active on ``as_of`` has ``status`` None.
    """
    if household_id not in G or G.nodes[household_id]["entity"] != "household":
        raise RuleError(f"no household with id '{household_id}'")
    day = Day(G, as_of)
    a = G.nodes[household_id]
    row = (_household_row(day, household_id, rules) if day.active(household_id) else
           inactive_row(household_id, a, township_of(G, household_id),
                        sorted(set(day.into(household_id, MEMBER_HOUSEHOLD))), rules))
    chains = []
    for m in row["member_ids"]:
        delegates = []
        for d in sorted(set(day.into(m, DELEGATE_MEMBER))):
            if not day.has_role(d, "delegate"):
                continue
            cms = [_person_brief(day, c) for c in sorted(set(day.into(d, CM_DELEGATE)))
                   if day.has_role(c, "committee_member")]
            delegates.append({**_person_brief(day, d), "committee_members": cms})
        chains.append({**_person_brief(day, m), "delegates": delegates})
    cadres = []
    for u, _, k, e in G.in_edges(household_id, keys=True, data=True):
        if k == "SUPPORTS" and counts_on(e.get("since"), e.get("until"), as_of):
            cadres.append({**_person_brief(day, u), "since": _iso(e.get("since")),
                           "until": _iso(e.get("until"))})
    cadres.sort(key=lambda c: c["id"])
    units: list[dict[str, Any]] = []
    village = a.get("village_id")
    if village in G:
        for u, _, k, e in G.in_edges(village, keys=True, data=True):
            if k == "PAIRED_WITH" and counts_on(e.get("since"), e.get("until"), as_of):
                units.append({"id": u, "name": G.nodes[u].get("name"),
                              "sector": G.nodes[u].get("sector"),
                              "since": _iso(e.get("since")), "until": _iso(e.get("until"))})
    units.sort(key=lambda x: x["id"])
    contacts = [
        {"person_id": u, "person_name": G.nodes[u].get("name"), "date": e["date"].isoformat(),
         "channel": e.get("channel"), "request": e.get("request"),
         "resolved": bool(e.get("resolved"))}
        for u, _, e in G.in_edges(household_id, data=True)
        if e["type"] == "CONTACTED" and e["date"] <= as_of
    ]
    contacts.sort(key=lambda c: (c["date"], c["person_id"], c["channel"] or "", c["request"] or ""),
                  reverse=True)
    village_name = G.nodes[village].get("name") if village is not None and village in G else None
    return detail_body(row, a, as_of, village_name, chains, cadres, units, contacts[:recent])


def inactive_row(household_id: str, record: dict[str, Any], township_id: str | None,
                 member_ids: list[str], rules: RuleSettings) -> dict[str, Any]:
    """The status row of a household that is not active on the date: no status at all."""
    cats = list(record.get("categories") or ())
    return {"household_id": household_id, "village_id": record.get("village_id"),
            "township_id": township_id, "categories": cats,
            "focus": focus_count(cats, rules) > 0, "status": None, "reason": None,
            "last_contact": None, "member_ids": member_ids}


def detail_body(row: dict[str, Any], record: dict[str, Any], as_of: dt.date,
                village_name: str | None, chains: list[dict[str, Any]],
                cadres: list[dict[str, Any]], units: list[dict[str, Any]],
                contacts: list[dict[str, Any]]) -> dict[str, Any]:
    """The body of ``household_detail``, from its parts (both stores assemble it here)."""
    return {
        **row,
        "as_of": as_of.isoformat(),
        "head_name": record.get("head_name"),
        "size": record.get("size"),
        "phone": record.get("phone"),
        "address": record.get("address"),
        "household_status": record.get("status"),
        "inactive_since": _iso(record.get("inactive_since")),
        "village_name": village_name,
        "chains": chains,
        "supporting_cadres": cadres,
        "paired_units": units,
        "recent_contacts": contacts,
    }


def _iso(d: dt.date | None) -> str | None:
    return d.isoformat() if d else None
