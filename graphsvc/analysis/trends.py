"""Coverage over time: every household's status on many dates at once, set-wise.

The coverage rules (``graphsvc.rules``) answer for one date. Asking them once per step
re-reads the whole county per step. Here the store is read once: every household in
scope with the intervals its status depends on (its member-household liaisons, the
delegate-member and committee_member-delegate liaisons above, the people's and the
household's active intervals, its contact dates), and the dates are swept together.

Every interval becomes a *bitset over the steps* (a Python ``int``: bit ``i`` set when
the thing holds on ``steps[i]``), so each rule of COVERAGE_RULES.md is an ``and``/``or``
of bitsets, evaluated for all steps at once:

- ``active[p]``: person or household active on the step;
- a liaison's mask: it counts on the step (``since <= d < until``);
- ``delegated[m]``: ``active[m]`` and some liaison from an active delegate counts;
- ``anchored[d]``: an active delegate with a counting liaison from an active committee
  member; ``anchored_member[m]``: ``active[m]`` and a counting liaison from an anchored
  delegate;
- for a household: rule 1 (no member) is the complement of the ``or`` of its liaisons'
  masks, rule 2 of the same ``and`` the members' ``active``, rules 3 and 4 likewise with
  ``delegated`` and ``anchored_member``; ``fresh`` (a contact within
  ``stale_after_days`` on or before the step) splits covered from stale.

Reading is the only store-specific part (``read_chains``: Cypher on Neo4j, the NetworkX
graph on the embedded store); the sweep is one function for both, and the tests hold
its counts equal to ``store.summary``/``store.households`` run step by step.
The chain data read here is shared with ``graphsvc.analysis.requests``.
"""

from __future__ import annotations

import calendar
import datetime as dt
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from graphsvc.model import REASONS, TrendStep, is_active, values
from graphsvc.rules import (
    CM_DELEGATE,
    DELEGATE_MEMBER,
    MEMBER_HOUSEHOLD,
    RuleSettings,
    focus_count,
    township_of,
)
from graphsvc.stores.base import Store

STEPS = values(TrendStep)
MAX_STEPS = 1000  # dates per answer
DEFAULT_STEPS = 12  # without ``from``: this many steps before ``to``

# -- the chain data, as both stores give it ---------------------------------------------------

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


def _date(v: str | None) -> dt.date | None:
    """A date the analysis statements send as YYYY-MM-DD text (the driver decodes text much
    faster than its own date objects)."""
    return None if v is None else dt.date.fromisoformat(v)


def _links(rows: Iterable[Any]) -> list[Link]:
    return [(r[0], _date(r[1]), _date(r[2])) for r in rows]


def read_chains(store: Store, *, township_id: str | None = None, village_id: str | None = None,
                household_ids: Collection[str] | None = None,
                contacts: tuple[dt.date, dt.date] | None = None,
                requests_until: dt.date | None = None) -> Chains:
    """The households in scope (``household_ids``, else the village, else the township, else
    all; the village and township narrow ``household_ids`` too) with the chain above them.

    ``contacts=(first, last)``: each household's distinct contact dates in that range.
    ``requests_until``: each household's contacts with a request dated on or before it,
    and the supports into it; the people who made those contacts or support it are read
    too (for their township)."""
    if store.kind == "neo4j":
        return _read_neo4j(store, township_id, village_id, household_ids, contacts, requests_until)
    return _read_graph(store, township_id, village_id, household_ids, contacts, requests_until)


def _read_neo4j(store: Store, township_id: str | None, village_id: str | None,
                household_ids: Collection[str] | None, contacts: tuple[dt.date, dt.date] | None,
                requests_until: dt.date | None) -> Chains:
    q = store.query  # type: ignore[attr-defined]
    scope = {"township_id": township_id, "village_id": village_id,
             "household_ids": None if household_ids is None else sorted(set(household_ids))}
    households: dict[str, HouseholdData] = {}
    if requests_until is not None:
        rows = q("analysis/requests_households", **scope, last=requests_until)
    else:
        first, last = contacts if contacts else (dt.date.max, dt.date.min)
        rows = q("analysis/trends_households", **scope, first=first, last=last)
    for r in rows:
        h = HouseholdData(r["id"], r["village_id"], r["township_id"], list(r["categories"]),
                          r["status"], _date(r["inactive_since"]), _links(r["members"]))
        if requests_until is not None:
            h.requests = [RequestRow(p, _date(d), text, bool(res))  # type: ignore[arg-type]
                          for p, d, text, res in r["requests"]]
            h.supports = _links(r["supports"])
        else:
            h.contacts = sorted(set(map(dt.date.fromisoformat, r["contacts"])))
        households[h.id] = h
    people: dict[str, PersonData] = {}

    def fetch(ids: Iterable[str]) -> None:
        wanted = sorted(set(ids) - people.keys())
        if not wanted:
            return
        for r in q("analysis/trends_people", ids=wanted):
            people[r["id"]] = PersonData(r["id"], frozenset(r["roles"]), r["status"],
                                         _date(r["inactive_since"]), r["township_id"],
                                         _links(r["delegates"]), _links(r["committee_members"]))

    _fetch_up(households, people, fetch)
    return Chains(households, people)


def _fetch_up(households: dict[str, HouseholdData], people: dict[str, PersonData],
              fetch: Any) -> None:
    """Read the members of the households, the delegates above them, the committee members
    above those (and the people of their requests and supports)."""
    members = {m for h in households.values() for m, _, _ in h.members_in}
    fetch(members)
    delegates = {d for m in members if m in people for d, _, _ in people[m].delegates_in}
    fetch(delegates)
    fetch({c for d in delegates if d in people for c, _, _ in people[d].committee_in})
    fetch({r.person_id for h in households.values() for r in h.requests}
          | {p for h in households.values() for p, _, _ in h.supports})


def _read_graph(store: Store, township_id: str | None, village_id: str | None,
                household_ids: Collection[str] | None, contacts: tuple[dt.date, dt.date] | None,
                requests_until: dt.date | None) -> Chains:
    G = store.graph()
    # the adjacency itself (NetworkX's ``G.pred`` without a view object per node): read-only
    nodes, pred = G.nodes, G._pred
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
    people: dict[str, PersonData] = {}

    def fetch(ids: Iterable[str]) -> None:
        for p in set(ids) - people.keys():
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

    _fetch_up(households, people, fetch)
    return Chains(households, people)


# -- the steps --------------------------------------------------------------------------------


def _add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved by whole months, the day of the month clamped to the month's length
    (2025-01-31 + 1 month = 2025-02-28)."""
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def shift(day: dt.date, step: str, k: int) -> dt.date:
    """``day`` moved by ``k`` steps (negative: back)."""
    if step == "week":
        return day + dt.timedelta(weeks=k)
    return _add_months(day, k * (3 if step == "quarter" else 1))


def step_dates(first: dt.date, last: dt.date, step: str) -> list[dt.date]:
    """``first``, ``first`` + 1 step, … up to ``last`` (each step counted from ``first``, so
    2025-01-31 by month gives 2025-02-28, 2025-03-31, …). ``ValueError`` when there
    would be more than ``MAX_STEPS`` dates, or ``first`` is after ``last``."""
    if step not in STEPS:
        raise ValueError(f"step must be one of {', '.join(STEPS)}, not '{step}'")
    if first > last:
        raise ValueError(f"from ({first.isoformat()}) is after to ({last.isoformat()})")
    out: list[dt.date] = []
    k = 0
    while True:
        try:
            day = shift(first, step, k)
        except (OverflowError, ValueError):  # past year 9999
            break
        if day > last:
            break
        if len(out) == MAX_STEPS:
            raise ValueError(f"from {first.isoformat()} to {last.isoformat()} by {step} is more "
                             f"than {MAX_STEPS} dates: choose a longer step or a shorter period")
        out.append(day)
        k += 1
    return out


def default_from(last: dt.date, step: str) -> dt.date:
    """Without ``from``: ``DEFAULT_STEPS`` steps before ``to`` (so the last date is ``to``)."""
    try:
        return shift(last, step, -DEFAULT_STEPS)
    except (OverflowError, ValueError):
        return dt.date.min


# -- the sweep --------------------------------------------------------------------------------


class _Masks:
    """Bitsets over ``steps``: bit ``i`` set when something holds on ``steps[i]``."""

    def __init__(self, steps: list[dt.date]) -> None:
        self.steps = steps
        self.full = (1 << len(steps)) - 1

    def upto(self, i: int) -> int:
        return (1 << i) - 1

    def interval(self, since: dt.date | None, until: dt.date | None) -> int:
        """The steps on which ``since <= day < until`` (COVERAGE_RULES.md "counts")."""
        lo = 0 if since is None else bisect_left(self.steps, since)
        hi = len(self.steps) if until is None else bisect_left(self.steps, until)
        return 0 if hi <= lo else (1 << hi) - (1 << lo)

    def active(self, status: str | None, inactive_since: dt.date | None) -> int:
        """The steps on which a person or household with these fields is active."""
        if (status or "active") == "active":
            return self.full
        if inactive_since is None:
            return 0
        return self.upto(bisect_left(self.steps, inactive_since))

    def fresh(self, contacts: list[dt.date], stale_after_days: int) -> int:
        """The steps with a contact on or before them and at most ``stale_after_days`` old."""
        m = 0
        steps, days = self.steps, dt.timedelta(days=stale_after_days)
        for c in contacts:
            lo = bisect_left(steps, c)
            try:
                hi = bisect_right(steps, c + days, lo)
            except OverflowError:
                hi = len(steps)
            if hi > lo:
                m |= (1 << hi) - (1 << lo)
        return m


STATUS_KEYS = ("covered", "stale", *REASONS)


def household_masks(chains: Chains, steps: list[dt.date], rules: RuleSettings,
                    ) -> dict[str, dict[str, int]]:
    """For each household: for each of covered, stale and the four uncovered reasons, the
    bitset of the steps on which that is its status (no bit at all: not active then)."""
    M = _Masks(steps)
    people = chains.people
    active = {p: M.active(d.status, d.inactive_since) for p, d in people.items()}
    is_delegate = {p: active[p] if "delegate" in d.roles else 0 for p, d in people.items()}
    is_cm = {p: active[p] if "committee_member" in d.roles else 0 for p, d in people.items()}
    interval = M.interval
    anchored: dict[str, int] = {}  # active delegates with an active committee member above

    def anchored_delegate(p: str) -> int:
        a = anchored.get(p)
        if a is None:
            up = 0
            for c, since, until in people[p].committee_in:
                up |= interval(since, until) & is_cm.get(c, 0)
            a = anchored[p] = is_delegate[p] & up
        return a

    delegated: dict[str, int] = {}  # active members with an active delegate above
    anchored_member: dict[str, int] = {}  # … with an anchored delegate above

    def member(p: str) -> tuple[int, int]:
        if p not in delegated:
            if p not in people:
                delegated[p] = anchored_member[p] = 0
            else:
                dm = am = 0
                for d, since, until in people[p].delegates_in:
                    if d not in people:
                        continue
                    iv = interval(since, until)
                    dm |= iv & is_delegate[d]
                    am |= iv & anchored_delegate(d)
                delegated[p], anchored_member[p] = dm & active[p], am & active[p]
        return delegated[p], anchored_member[p]

    out: dict[str, dict[str, int]] = {}
    for h, d in chains.households.items():
        alive = M.active(d.status, d.inactive_since)
        if not alive:
            continue
        has = has_active = has_delegate = has_cm = 0
        for m, since, until in d.members_in:
            iv = interval(since, until)
            has |= iv
            has_active |= iv & active.get(m, 0)
            dm, am = member(m)
            has_delegate |= iv & dm
            has_cm |= iv & am
        held = alive & has_cm
        fresh = M.fresh(d.contacts, rules.stale_after_days)
        out[h] = {
            "covered": held & fresh,
            "stale": held & ~fresh,
            "no_member": alive & ~has,
            "member_inactive": alive & has & ~has_active,
            "no_delegate": alive & has_active & ~has_delegate,
            "no_committee_member": alive & has_delegate & ~has_cm,
        }
    return out


def _counts(masks: Iterable[dict[str, int]], n: int) -> list[dict[str, int]]:
    """Per step, how many households have each status (distinct bitsets counted once)."""
    seen: dict[str, Counter[int]] = {k: Counter() for k in STATUS_KEYS}
    for m in masks:
        for k in STATUS_KEYS:
            if m[k]:
                seen[k][m[k]] += 1
    out = [dict.fromkeys(STATUS_KEYS, 0) for _ in range(n)]
    for k, counter in seen.items():
        for bits, times in counter.items():
            i = 0
            while bits:
                if bits & 1:
                    out[i][k] += times
                bits >>= 1
                i += 1
    return out


def _block(c: dict[str, int]) -> dict[str, Any]:
    uncovered = sum(c[r] for r in REASONS)
    total = c["covered"] + c["stale"] + uncovered

    def share(x: int) -> float | None:
        return round(x / total, 4) if total else None

    return {
        "households": total,
        "covered": c["covered"],
        "stale": c["stale"],
        "uncovered": uncovered,
        "uncovered_by_reason": {r: c[r] for r in REASONS},
        "shares": {"covered": share(c["covered"]), "stale": share(c["stale"]),
                   "uncovered": share(uncovered), **{r: share(c[r]) for r in REASONS}},
    }


def trends(chains: Chains, steps: list[dt.date], rules: RuleSettings) -> list[dict[str, Any]]:
    """Per step: ``as_of``, then ``all`` and ``focus`` households' counts and shares."""
    masks = household_masks(chains, steps, rules)
    focus = {h for h, d in chains.households.items() if focus_count(d.categories, rules) > 0}
    every = _counts(masks.values(), len(steps))
    only_focus = _counts((m for h, m in masks.items() if h in focus), len(steps))
    return [{"as_of": day.isoformat(), "all": _block(every[i]), "focus": _block(only_focus[i])}
            for i, day in enumerate(steps)]


def trends_body(store: Store, rules: RuleSettings, *, first: dt.date | None, last: dt.date,
                step: str = "month", township_id: str | None = None,
                village_id: str | None = None) -> dict[str, Any]:
    """``GET /api/v1/trends``: coverage per step from ``first`` to ``last`` (both dates
    included when on the grid; ``first`` default: ``DEFAULT_STEPS`` steps before ``last``).
    ``ValueError`` for a step, period or number of dates that is not allowed."""
    first = default_from(last, step) if first is None else first
    steps = step_dates(first, last, step)  # never empty: first <= last
    try:
        since = steps[0] - dt.timedelta(days=rules.stale_after_days)
    except OverflowError:
        since = dt.date.min
    chains = read_chains(store, township_id=township_id, village_id=village_id,
                         contacts=(since, steps[-1]))
    rows = trends(chains, steps, rules)
    body: dict[str, Any] = {"from": first.isoformat(), "to": last.isoformat(), "step": step}
    if township_id is not None:
        body["township_id"] = township_id
    if village_id is not None:
        body["village_id"] = village_id
    body["stale_after_days"] = rules.stale_after_days
    body["steps"] = rows
    return body

