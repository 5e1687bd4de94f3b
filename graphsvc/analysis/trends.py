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

Reading is the only store-specific part (``read_chains``: ``Store.chain_households`` and
``Store.chain_people``); the sweep is one function for both stores, and the tests hold
its counts equal to ``store.summary``/``store.households`` run step by step.
The chain data read here is shared with ``graphsvc.analysis.requests``.
"""

from __future__ import annotations

import calendar
import datetime as dt
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Collection, Iterable
from typing import Any

from graphsvc.model import REASONS, TrendStep, values
from graphsvc.rules import RuleSettings, focus_count
from graphsvc.stores.base import Store
from graphsvc.stores.graphreads import Chains, PersonData

STEPS = values(TrendStep)
MAX_STEPS = 1000  # dates per answer
DEFAULT_STEPS = 12  # without ``from``: this many steps before ``to``

# -- the chain data, as both stores give it ---------------------------------------------------


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
    households = store.chain_households(township_id=township_id, village_id=village_id,
                                        household_ids=household_ids, contacts=contacts,
                                        requests_until=requests_until)
    people: dict[str, PersonData] = {}

    def fetch(ids: Iterable[str]) -> None:
        people.update(store.chain_people(set(ids) - people.keys()))

    # the members of the households, the delegates above them, the committee members above
    # those (and the people of their requests and supports)
    members = {m for h in households.values() for m, _, _ in h.members_in}
    fetch(members)
    delegates = {d for m in members if m in people for d, _, _ in people[m].delegates_in}
    fetch(delegates)
    fetch({c for d in delegates if d in people for c, _, _ in people[d].committee_in})
    fetch({r.person_id for h in households.values() for r in h.requests}
          | {p for h in households.values() for p, _, _ in h.supports})
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

