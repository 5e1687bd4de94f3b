"""Requests travel up the chain: a household's difficulty (困难/诉求) goes to its Party
member first, to their delegate after ``escalate_after_days``, and to the committee member
after twice that, until it is resolved. The definitions are in
``docs/requests-and-trends.md``; in short:

- **A request** is raised by a contact with a non-empty ``request`` (blanks around the text
  do not count). Contacts of the same household with the same text are one *thread*: taken
  by date, the first opens a request (raised that day, by whoever made it); a later one with
  ``resolved`` false is a follow-up; one with ``resolved`` true resolves it that day, by
  whoever made it. After that, the same text opens a new request. Several contacts on one
  day count as one (resolved when any of them says so). A contact that raises and says
  resolved at once is a request resolved the day it was raised.
- A request exists only when its household was active on the day it was raised; an open
  request of a household that is no longer active on the date is left out (as the coverage
  rules leave such households out).
- **Routing on a date** (``as_of``): the request's age is ``as_of − raised`` in days; it is
  *due* with the household's members while younger than ``escalate_after_days``, with
  their delegates until twice that, then with the committee members. The chain is the one
  that stands on ``as_of`` (liaisons that count that day), so a reassignment re-routes
  every open request at once: the members are the people with a counting member-household
  liaison; the delegates, people with the role ``delegate`` and a counting delegate-member
  liaison to one of those members (whether or not that member is still active); the
  committee members, likewise above those delegates. Only active people receive a request.
  When the level it is due at has nobody active, it goes to the next level up that has
  someone and ``chain_broken`` is set; when no level at or above has anyone, ``level`` is
  null (*unrouted*).
- **Overdue** on a date: open and at least ``escalate_after_days`` old (it has left the
  members' hands). The township's list of overdue requests also carries every unrouted
  open request, whatever its age: nobody is there to take it.
- **Resolved by which level**: the level the person who recorded the resolving contact
  held for that household on that day (member, delegate or committee member by the
  counting liaisons above it, whether or not the people between were active), else
  ``cadre`` when they supported it (结穷亲) that day, else ``other``; with several on one
  day, the lowest level.

Reading is the store's (``trends.read_chains``, ``Store.households_below``); everything else
here is one pure function for both stores.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import statistics
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from graphsvc.analysis.trends import read_chains
from graphsvc.model import ChainLevel, counts_on, values
from graphsvc.rules import RuleSettings, focus_count
from graphsvc.stores.base import Store
from graphsvc.stores.graphreads import Chains, HouseholdData

if TYPE_CHECKING:
    from graphsvc.keys import KeyStore

LEVELS = values(ChainLevel)
RESOLVER_LEVELS = (*LEVELS, "cadre", "other")
OPEN_LEVELS = (*LEVELS, "unrouted")


@dataclass(slots=True)
class Request:
    """One request of a household: a thread of contacts with the same text."""

    household: HouseholdData
    text: str
    raised: dt.date
    raised_by: list[str]
    contacts: int  # days with a contact about it, the day it was raised included
    last_contact: dt.date
    resolved: dt.date | None = None
    resolved_by: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        """A short, stable id: the same on both stores and across calls. A plain digest of the
        text, so for this process only: clients see ``keyed``'s."""
        key = f"{self.household.id}\x1f{self.text}\x1f{self.raised.isoformat()}"
        return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def household_requests(h: HouseholdData) -> list[Request]:
    """The requests of one household from its contacts that carry a request (the module
    docstring says how), ordered by the day raised, then by text."""
    days: dict[str, dict[dt.date, tuple[set[str], set[str]]]] = {}
    for r in h.requests:
        text = r.text.strip()
        if not text:
            continue
        made, resolving = days.setdefault(text, {}).setdefault(r.date, (set(), set()))
        made.add(r.person_id)
        if r.resolved:
            resolving.add(r.person_id)
    out: list[Request] = []
    for text, by_day in days.items():
        current: Request | None = None
        for day in sorted(by_day):
            made, resolving = by_day[day]
            if current is None:
                current = Request(h, text, day, sorted(made), 0, day)
            current.contacts += 1
            current.last_contact = day
            if resolving:
                current.resolved, current.resolved_by = day, tuple(sorted(resolving))
                out.append(current)
                current = None
        if current is not None:
            out.append(current)
    out = [r for r in out if h.active(r.raised)]
    out.sort(key=lambda r: (r.raised, r.text))
    return out


# -- the chain on a date ----------------------------------------------------------------------


def chain_on(chains: Chains, h: HouseholdData, day: dt.date) -> tuple[set[str], set[str], set[str]]:
    """(members, delegates, committee members) above household ``h`` on ``day``, by the
    liaisons that count that day, whether or not the people are active (roles as the rules
    check them: ``delegate`` for delegates, ``committee_member`` for committee members)."""
    people = chains.people
    members = {m for m, s, u in h.members_in if counts_on(s, u, day)}
    delegates: set[str] = set()
    for m in members:
        if m in people:
            delegates |= {d for d, s, u in people[m].delegates_in
                          if counts_on(s, u, day) and d in people and "delegate" in people[d].roles}
    committee: set[str] = set()
    for d in delegates:
        committee |= {c for c, s, u in people[d].committee_in
                      if counts_on(s, u, day) and c in people
                      and "committee_member" in people[c].roles}
    return members, delegates, committee


@dataclass(slots=True)
class Routed:
    """Where an open request is on a date."""

    request: Request
    age_days: int
    due_level: str
    level: str | None  # None: unrouted
    routed_to: list[str]

    @property
    def chain_broken(self) -> bool:
        return self.level != self.due_level

    def overdue(self, escalate_after_days: int) -> bool:
        return self.age_days >= escalate_after_days


def route(chains: Chains, req: Request, as_of: dt.date, escalate_after_days: int) -> Routed:
    """Who holds the open request ``req`` on ``as_of`` (the module docstring says how)."""
    age = (as_of - req.raised).days
    due = min(age // escalate_after_days, len(LEVELS) - 1)
    tiers = chain_on(chains, req.household, as_of)
    for i in range(due, len(LEVELS)):
        here = sorted(p for p in tiers[i] if p in chains.people and chains.people[p].active(as_of))
        if here:
            return Routed(req, age, LEVELS[due], LEVELS[i], here)
    return Routed(req, age, LEVELS[due], None, [])


def resolver_level(chains: Chains, req: Request) -> str:
    """The level of whoever resolved ``req``, for its household on the day it was resolved."""
    assert req.resolved is not None
    day = req.resolved
    members, delegates, committee = chain_on(chains, req.household, day)
    cadres = {p for p, s, u in req.household.supports if counts_on(s, u, day)}
    best = len(RESOLVER_LEVELS) - 1
    for p in req.resolved_by:
        for i, held in enumerate((members, delegates, committee, cadres)):
            if p in held:
                best = min(best, i)
                break
    return RESOLVER_LEVELS[best]


def open_on(chains: Chains, as_of: dt.date, escalate_after_days: int) -> list[Routed]:
    """Every open request on ``as_of`` of the households read, routed; oldest first."""
    out = []
    for h in chains.households.values():
        if not h.active(as_of):
            continue
        for req in household_requests(h):
            if req.raised <= as_of and (req.resolved is None or req.resolved > as_of):
                out.append(route(chains, req, as_of, escalate_after_days))
    out.sort(key=lambda r: (r.request.raised, r.request.household.id, r.request.text))
    return out


# -- the answers ------------------------------------------------------------------------------


def _visible(townships: Collection[str] | None) -> Any:
    """Whether a key limited to ``townships`` (None: every township) sees a household."""
    if townships is None:
        return lambda h: True
    towns = set(townships)
    return lambda h: h.township_id in towns


def _item(r: Routed, rules: RuleSettings, escalate_after_days: int) -> dict[str, Any]:
    q, h = r.request, r.request.household
    return {
        "request_id": q.id,
        "household_id": h.id,
        "village_id": h.village_id,
        "township_id": h.township_id,
        "focus": focus_count(h.categories, rules) > 0,
        "request": q.text,
        "raised": q.raised.isoformat(),
        "raised_by": q.raised_by,
        "contacts": q.contacts,
        "last_contact": q.last_contact.isoformat(),
        "age_days": r.age_days,
        "due_level": r.due_level,
        "level": r.level,
        "routed_to": r.routed_to,
        "chain_broken": r.chain_broken,
        "overdue": r.overdue(escalate_after_days),
    }


def _page(items: list[dict[str, Any]], limit: int | None, offset: int) -> list[dict[str, Any]]:
    return items[offset: None if limit is None else offset + limit]


def open_body(store: Store, person_id: str, as_of: dt.date, rules: RuleSettings, *,
              escalate_after_days: int, townships: Collection[str] | None = None,
              limit: int | None = None, offset: int = 0) -> dict[str, Any]:
    """``GET /api/v1/requests/open?person_id=``: the open requests that person holds on
    ``as_of`` (at whatever level), oldest first. ``townships``: those the key may see (None:
    every one); other townships' households are left out (the people named in the items are
    the caller's to redact: ``graphsvc.api.redact``)."""
    below = store.households_below(person_id, as_of)
    chains = read_chains(store, household_ids=below, requests_until=as_of)
    sees = _visible(townships)
    items = [_item(r, rules, escalate_after_days)
             for r in open_on(chains, as_of, escalate_after_days)
             if person_id in r.routed_to and sees(r.request.household)]
    return {"person_id": person_id, "as_of": as_of.isoformat(),
            "escalate_after_days": escalate_after_days, "total": len(items),
            "items": _page(items, limit, offset)}


def overdue_body(store: Store, as_of: dt.date, rules: RuleSettings, *, escalate_after_days: int,
                 township_id: str | None = None, village_id: str | None = None,
                 townships: Collection[str] | None = None, limit: int | None = None,
                 offset: int = 0) -> dict[str, Any]:
    """``GET /api/v1/requests/overdue``: the open requests on ``as_of`` that are overdue (at
    least ``escalate_after_days`` old) or unrouted, oldest first."""
    chains = read_chains(store, township_id=township_id, village_id=village_id,
                         requests_until=as_of)
    sees = _visible(townships)
    items = [_item(r, rules, escalate_after_days)
             for r in open_on(chains, as_of, escalate_after_days)
             if (r.overdue(escalate_after_days) or r.level is None)
             and sees(r.request.household)]
    body: dict[str, Any] = {"as_of": as_of.isoformat()}
    if township_id is not None:
        body["township_id"] = township_id
    if village_id is not None:
        body["village_id"] = village_id
    body.update({"escalate_after_days": escalate_after_days, "total": len(items),
                 "items": _page(items, limit, offset)})
    return body


def open_of_households(store: Store, household_ids: Collection[str], as_of: dt.date,
                       rules: RuleSettings, *, escalate_after_days: int
                       ) -> tuple[list[dict[str, Any]], dict[str, str | None]]:
    """The open requests on ``as_of`` of these households, routed, oldest first (items as
    ``GET /requests/overdue`` gives them, texts unmasked), and the township of every person
    they name (``raised_by``, ``routed_to``; None: no township). What the diagrams draw beside
    a household; one read of those households and the chain above them."""
    if not household_ids:
        return [], {}
    chains = read_chains(store, household_ids=household_ids, requests_until=as_of)
    items = [_item(r, rules, escalate_after_days)
             for r in open_on(chains, as_of, escalate_after_days)]
    named = {p for i in items for p in (*i["raised_by"], *i["routed_to"])}
    towns = {p: (chains.people[p].township_id if p in chains.people else None) for p in named}
    return items, towns


def summary_body(store: Store, first: dt.date | None, last: dt.date, *, escalate_after_days: int,
                 within_days: int | None = None, township_id: str | None = None,
                 village_id: str | None = None) -> dict[str, Any]:
    """``GET /api/v1/requests/summary``: requests raised and resolved from ``first`` (None: ever)
    to ``last``, how fast and by which level, and those open and overdue on ``last``."""
    within = escalate_after_days if within_days is None else within_days
    chains = read_chains(store, township_id=township_id, village_id=village_id,
                         requests_until=last)
    every = [r for h in chains.households.values() for r in household_requests(h)]

    def in_period(day: dt.date | None) -> bool:
        return day is not None and (first is None or first <= day) and day <= last

    raised = [r for r in every if in_period(r.raised)]
    raised_resolved = [r for r in raised if r.resolved is not None]
    took = [(r.resolved - r.raised).days for r in raised_resolved]  # type: ignore[operator]
    resolved = [r for r in every if in_period(r.resolved)]
    by_level = dict.fromkeys(RESOLVER_LEVELS, 0)
    for r in resolved:
        by_level[resolver_level(chains, r)] += 1
    still_open = open_on(chains, last, escalate_after_days)
    open_levels = dict.fromkeys(OPEN_LEVELS, 0)
    for o in still_open:
        open_levels[o.level or "unrouted"] += 1
    body: dict[str, Any] = {"from": None if first is None else first.isoformat(),
                            "to": last.isoformat()}
    if township_id is not None:
        body["township_id"] = township_id
    if village_id is not None:
        body["village_id"] = village_id
    body.update({
        "escalate_after_days": escalate_after_days,
        "raised": len(raised),
        "raised_and_resolved": len(raised_resolved),
        "resolved_within_days": within,
        "resolved_within": sum(1 for d in took if d <= within),
        "median_days_to_resolve": float(statistics.median(took)) if took else None,
        "resolved": len(resolved),
        "resolved_by_level": by_level,
        "open": len(still_open),
        "overdue": sum(1 for o in still_open if o.overdue(escalate_after_days)),
        "open_by_level": open_levels,
    })
    return body


def mask_request(text: str | None) -> str | None:
    """A request as a key without ``--pii`` sees it: the first character and ``**`` (the
    difficulty is the household's personal data, often about health or money)."""
    return None if not text else text[0] + "**"


def keyed(body: dict[str, Any], keys: KeyStore) -> dict[str, Any]:
    """A list body with each item's ``request_id`` as the API and the CLI give it: ``Request.id``
    under an HMAC with the install's secret. Still stable across calls and stores of the
    install, but no longer a digest of the text that a key without ``--pii`` could test
    guesses of a masked request against (with its household and day, both shown)."""
    return {**body, "items": [{**i, "request_id": keys.mac("request", i["request_id"])[:16]}
                              for i in body["items"]]}


def masked(body: dict[str, Any]) -> dict[str, Any]:
    """A list body with every item's request text masked."""
    return {**body, "items": [{**i, "request": mask_request(i["request"])} for i in body["items"]]}
