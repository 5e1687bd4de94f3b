"""Repair plans: who should take over the households (and members, and delegates) left without
a whole chain, solved as an assignment problem with NetworkX min-cost flow.

A plan answers for the uncovered households of a township (or of the county), or for the
households one person would orphan by leaving (``person_id``: the plan is then made in the
world where that person is inactive). It proposes new liaisons in three steps, each a min-cost
flow, each seeing the liaisons the steps before it proposed:

1. ``committee_member-delegate``: every active delegate without an active committee member gets
   one: of the delegate's own township first, else (county plans) any; those with fewer
   delegates first.
2. ``delegate-member``: every active member in the chain without an active delegate gets one of
   the same township whose chain is whole (has an active committee member, or got one in
   step 1); delegates with fewer members first.
3. ``member-household``: the target households still uncovered after steps 1 and 2 get a member
   whose own chain is whole (after steps 1 and 2): of the household's village first, then of
   its township; members with fewer than ``households_per_member`` households first; never
   above ``cap`` households per member after the plan; focus households first (more focus
   categories first) when there is not room for all.

The preferences are the arc costs of the flow network, not the order of a greedy loop: the
solver sees every household and every member with room at once. Households that no member of
their village or township can take within the cap are listed as ``unassigned``, with why.

Data comes from the store (``people_facts``: ``Store.repair_people``; target households through
``Store.repair_households``/``Store.households``/``Store.impact``), the solver is the same Python
for both stores, and the tests hold the facts and the plans of both stores equal.
"""

from __future__ import annotations

import datetime as dt
import gc
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from graphsvc import rules as R
from graphsvc.model import LIAISON_KINDS, REASONS, UncoveredReason, counts_on
from graphsvc.rules import RuleSettings
from graphsvc.stores.base import Store
from graphsvc.stores.graphreads import Facts

DEFAULT_CAP = 5
KINDS = LIAISON_KINDS
FAST_PATH = True
"""Let ``_solve`` take a flow it can prove optimal without the network simplex (``_fast_flow``);
False: always solve the network (the tests compare the two)."""

# -- the facts a plan is made from ---------------------------------------------------------------


def people_facts(store: Store, as_of: dt.date, township_ids: Sequence[str] | None,
                 ids: Iterable[str] = ()) -> Facts:
    """What a plan needs to know of people, on ``as_of``: every active person who is a committee
    member, or is among ``ids``, or lies in one of ``township_ids`` (all townships: None) and is
    a delegate or in the chain as a member (a counting delegate-member liaison to them, or a
    counting member-household liaison to an active household); then, so that every chain can be
    judged, the delegates above all of those. For each: roles, village and township (the rules
    of DATA_FORMAT.md), ``load`` (households they liaise with), the active ``delegates`` above
    them, the active ``cms`` above them, the active ``members`` below them, the active delegates
    below them (``dels_below``), ``in_chain`` (``Store.repair_people``, read twice)."""
    facts = store.repair_people(as_of, township_ids, ids)
    missing = {d for f in facts.values() for d in f["delegates"]} - facts.keys()
    if missing:
        facts.update(store.repair_people(as_of, [], missing))
    return facts


# -- the solver ----------------------------------------------------------------------------------


@dataclass(slots=True)
class Want:
    """Something to assign (a household, a member, a delegate)."""

    id: str
    weight: int  # priority when there is not room for all: higher first
    groups: list[tuple[tuple[str, ...], int]]  # (group, cost of taking from it)


@dataclass(slots=True)
class Giver:
    """Someone who may take wants: belongs to groups, has a load and room for more."""

    id: str
    groups: tuple[tuple[str, ...], ...]
    load: int
    room: int


@dataclass(slots=True)
class Assigned:
    want: str
    giver: str
    cost: int  # group cost + the cost of the giver's load after taking it
    group: tuple[str, ...]
    load_after: int


@dataclass(slots=True)
class _Class:
    """Givers that no solver could tell apart: same groups, same load, same room."""

    key: tuple[Any, ...]
    groups: tuple[tuple[str, ...], ...]
    load: int
    room: int
    givers: list[str] = field(default_factory=list)


def assign(wants: Sequence[Want], givers: Sequence[Giver], slot_cost: Callable[[int], int],
           ) -> tuple[list[Assigned], list[str]]:
    """Assign wants to givers by min-cost flow: (assignments, wants left without one).

    The network: source → each want (1) → one of its groups (the group's cost) → each class of
    interchangeable givers in that group → the class's k-th new load level (as many as givers
    in the class, cost ``slot_cost(load + k)``, strictly increasing in k) → sink; and each want →
    "skip" → sink at a penalty of ``big × weight``, larger than any assignment could cost, so
    the flow assigns as many wants as possible, the heavier first, then the cheapest way.
    Givers are grouped into classes (same groups, load and room), which keeps the network
    small; a giver who is also a want has a class of its own, never offered to itself. Each
    connected part of the network is solved on its own.
    """
    want_ids = {w.id for w in wants}
    classes: dict[tuple[Any, ...], _Class] = {}
    for g in sorted(givers, key=lambda g: g.id):
        if g.room <= 0:
            continue
        key = (g.groups, g.load, g.room, g.id if g.id in want_ids else "")
        c = classes.get(key)
        if c is None:
            c = classes[key] = _Class(key, g.groups, g.load, g.room)
        c.givers.append(g.id)
    by_group: dict[tuple[str, ...], list[_Class]] = defaultdict(list)
    for c in classes.values():
        for grp in c.groups:
            by_group[grp].append(c)
    # connected parts: wants joined through the groups they share with classes
    parent: dict[Any, Any] = {}

    def find(x: Any) -> Any:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(a: Any, b: Any) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb, key=repr)] = min(ra, rb, key=repr)

    for c in classes.values():
        for grp in c.groups:
            union(("g", grp), ("c", c.key))
    parts: dict[Any, list[Want]] = defaultdict(list)
    alone: list[str] = []
    for w in wants:
        usable = [(grp, cost) for grp, cost in w.groups if grp in by_group]
        if not usable:
            alone.append(w.id)
            continue
        for grp, _ in usable[1:]:
            union(("g", usable[0][0]), ("g", grp))
    for w in wants:
        first = next((grp for grp, _ in w.groups if grp in by_group), None)
        if first is not None:
            parts[find(("g", first))].append(w)
    gate_of = {c.key[3] for c in classes.values() if c.key[3]}
    done: list[Assigned] = []
    left = list(alone)
    for root in sorted(parts, key=repr):
        a, rest = _solve(parts[root], by_group, gate_of, slot_cost)
        done += a
        left += rest
    return done, left


def _solve(wants: list[Want], by_group: Mapping[tuple[str, ...], list[_Class]],
           gate_of: set[str], slot_cost: Callable[[int], int],
           ) -> tuple[list[Assigned], list[str]]:
    """One connected part of ``assign``: wants that no solver could tell apart (same groups and
    costs, same weight) are one node too, and each group offers only the classes holding its
    ``n`` cheapest places (n: the wants of the part; no optimal flow through a group needs a
    dearer one, as a cheaper one would be free), so a township's network has a few dozen nodes
    whatever its size. The flow is then handed out to single wants and givers in order (wants
    in the order given, givers by id)."""
    n = len(wants)
    order = {w.id: i for i, w in enumerate(wants)}
    # classes of wants, in the order of their first want
    wclasses: dict[tuple[Any, ...], list[Want]] = {}
    for w in wants:
        own = w.id if w.id in gate_of else ""
        wclasses.setdefault((tuple(w.groups), w.weight, own), []).append(w)
    fast = None if gate_of or not FAST_PATH else _fast_flow(wclasses, by_group, slot_cost)
    if fast is not None:
        f_flow, f_classes, f_levels, f_cost = fast
        return _hand_out([(("w", i), key, ws) for i, (key, ws) in enumerate(wclasses.items())],
                         f_flow, f_cost, f_classes, f_levels, order, slot_cost)
    groups = sorted({grp for w in wants for grp, _ in w.groups if grp in by_group})
    reach: dict[tuple[str, ...], list[_Class]] = {}
    cls: dict[tuple[Any, ...], _Class] = {}
    levels: dict[tuple[Any, ...], int] = {}
    for grp in groups:
        places = sorted(((slot_cost(c.load + k), repr(c.key), c) for c in by_group[grp]
                         for k in range(1, min(c.room, n) + 1)), key=lambda u: u[:2])
        kept: dict[tuple[Any, ...], _Class] = {c.key: c for c in by_group[grp] if c.key[3]}
        room, cutoff = 0, None
        for cost, _, c in places:
            if room >= n:
                break
            if not c.key[3]:  # a gate (kept anyway) is closed to one want: not counted
                kept[c.key] = c
                room += len(c.givers)
                cutoff = cost
        if room < n:
            cutoff = None  # not enough places: every one may be needed
        reach[grp] = sorted(kept.values(), key=lambda c: repr(c.key))
        for c in reach[grp]:
            cls.setdefault(c.key, c)
            usable = [k for k in range(1, min(c.room, n) + 1)
                      if c.key[3] or cutoff is None or slot_cost(c.load + k) <= cutoff]
            levels[c.key] = max(levels.get(c.key, 0), len(usable), 1)
    classes = sorted(cls.values(), key=lambda c: repr(c.key))
    top = max((cost for w in wants for _, cost in w.groups), default=0) + max(
        (slot_cost(c.load + levels[c.key]) for c in classes), default=0)
    big = (top + 1) * (n + 1)
    gated = {c.key for c in classes if c.key[3] in {w.id for w in wants}}
    F: nx.DiGraph[Any] = nx.DiGraph()
    F.add_node("src", demand=-n)
    F.add_node("sink", demand=n)
    F.add_edge("skip", "sink", capacity=n, weight=0)
    wnodes = []
    for i, (key, ws) in enumerate(wclasses.items()):
        node = ("w", i)
        wnodes.append((node, key, ws))
        F.add_edge("src", node, capacity=len(ws), weight=0)
        F.add_edge(node, "skip", capacity=len(ws), weight=big * key[1])
        for grp, cost in key[0]:
            if grp in by_group:
                F.add_edge(node, ("g", grp), capacity=len(ws), weight=cost)
        # a giver who is also a want is reached through a gate of its own, never by itself
        for c in classes:
            if c.key in gated and c.key[3] != key[2]:
                shared = [cost for grp, cost in key[0] if grp in c.groups]
                if shared:
                    F.add_edge(node, ("gate", c.key), capacity=len(ws), weight=min(shared))
    for grp in groups:
        for c in reach[grp]:
            if c.key not in gated:
                F.add_edge(("g", grp), ("c", c.key), capacity=n, weight=0)
    for c in classes:
        if c.key in gated:
            F.add_edge(("gate", c.key), ("c", c.key), capacity=n, weight=0)
        for k in range(1, levels[c.key] + 1):
            F.add_edge(("c", c.key), ("l", c.key, k), capacity=len(c.givers),
                       weight=slot_cost(c.load + k))
            F.add_edge(("l", c.key, k), "sink", capacity=len(c.givers), weight=0)
    flow = nx.min_cost_flow(F)
    arc_cost = {(node, hop): F[node][hop]["weight"] for node, _, _ in wnodes for hop in F[node]}
    return _hand_out(wnodes, flow, arc_cost, classes, levels, order, slot_cost)


def _hand_out(wnodes: list[tuple[Any, tuple[Any, ...], list[Want]]],
              flow: Mapping[Any, Mapping[Any, int]], arc_cost: Mapping[tuple[Any, Any], int],
              classes: list[_Class], levels: Mapping[tuple[Any, ...], int], order: dict[str, int],
              slot_cost: Callable[[int], int]) -> tuple[list[Assigned], list[str]]:
    """Hand a flow out to single wants and givers: each class of wants, in order, to the hops
    it sent flow to (the heavier first), each class of givers to its givers by id, the k-th
    new load level to as many givers as flow through it."""
    routed: dict[Any, list[tuple[Want, int, tuple[str, ...]]]] = defaultdict(list)
    left: list[str] = []
    for node, key, ws in wnodes:
        queue = list(ws)
        for hop, f in sorted(flow[node].items(), key=lambda kv: repr(kv[0])):
            if hop == "skip" or f == 0:
                continue
            cost = arc_cost[(node, hop)]
            grp = hop[1] if hop[0] == "g" else min(
                ((g, c) for g, c in key[0] if g in hop[1][0]), key=lambda gc: gc[1])[0]
            for _ in range(f):
                routed[hop].append((queue.pop(0), cost, grp))
        left += [w.id for w in queue]
    into_class: dict[tuple[Any, ...], list[tuple[Want, int, tuple[str, ...]]]] = defaultdict(list)
    for hop in sorted(routed, key=repr):
        queue2 = routed[hop]
        queue2.sort(key=lambda x: (-x[0].weight, order[x[0].id]))
        for target, f in sorted(flow[hop].items(), key=lambda kv: repr(kv[0])):
            for _ in range(f):
                into_class[target[1]].append(queue2.pop(0))
    done: list[Assigned] = []
    for c in classes:
        got = into_class.get(c.key, [])
        if not got:
            continue
        xs = [flow[("c", c.key)][("l", c.key, k)] for k in range(1, levels[c.key] + 1)]
        counts = [sum(1 for x in xs if x > i) for i in range(len(c.givers))]
        i = 0
        for giver, count in zip(c.givers, counts):
            for j in range(1, count + 1):
                w, cost, grp = got[i]
                i += 1
                done.append(Assigned(w.id, giver, cost + slot_cost(c.load + j), grp, c.load + j))
    return done, left


def _fast_flow(wclasses: Mapping[tuple[Any, ...], list[Want]],
               by_group: Mapping[tuple[str, ...], list[_Class]], slot_cost: Callable[[int], int],
               ) -> tuple[dict[Any, dict[Any, int]], list[_Class], dict[tuple[Any, ...], int],
                          dict[tuple[Any, Any], int]] | None:
    """A min-cost flow of ``_solve`` found without the network simplex, when one is certain to be
    optimal; None otherwise (then the network is solved). The usual case of a county's plan:
    every want is served by its cheapest group (a household by its own village) and that
    group's cheapest places, because

    (i) each want has one cheapest group (no tie) with givers, and the wants whose cheapest
        group it is fit in its places;
    (ii) those groups share no class of givers (two villages never do), and no giver is a want;
    (iii) for every want, any other group costs at least as much even at that group's cheapest
        place as its own group at the dearest place taken there.

    Then no flow does better: of the n wants of a cheapest group g, the a sent through g pay at
    least its a cheapest places, and each of the other n - a at least (iii)'s bound, while this
    flow pays g's n cheapest places, each at most that bound; skipping a want costs more than
    any full assignment. The flow is returned in the shape ``_hand_out`` reads (places taken by
    cost, then class, then level: strictly increasing levels, so a class's levels fill in
    order, as the network's would). Wants are never skipped here."""
    first: dict[tuple[str, ...], list[tuple[Any, int, int]]] = {}
    for i, (key, ws) in enumerate(wclasses.items()):
        if key[2]:
            return None
        costs = sorted(c for _, c in key[0])
        g1, c1 = min(key[0], key=lambda gc: gc[1]) if key[0] else (None, 0)
        if g1 is None or g1 not in by_group or (len(costs) > 1 and costs[0] == costs[1]):
            return None
        first.setdefault(g1, []).append((("w", i), c1, len(ws)))
    flow: dict[Any, dict[Any, int]] = defaultdict(dict)
    levels: dict[tuple[Any, ...], int] = {}
    used: dict[tuple[Any, ...], _Class] = {}
    seen: set[tuple[Any, ...]] = set()
    dearest: dict[tuple[str, ...], int] = {}
    arc_cost: dict[tuple[Any, Any], int] = {}
    for g1, entries in first.items():
        need = sum(n for _, _, n in entries)
        places = []
        for c in by_group[g1]:
            if c.key[3] or c.key in seen:
                return None
            seen.add(c.key)
            for k in range(1, min(c.room, need) + 1):
                places.append((slot_cost(c.load + k), repr(c.key), k, c))
        places.sort(key=lambda u: u[:3])
        left, top = need, 0
        into = flow[("g", g1)]
        for cost, _, k, c in places:
            if not left:
                break
            take = min(len(c.givers), left)
            left -= take
            flow[("c", c.key)][("l", c.key, k)] = take
            into[("c", c.key)] = into.get(("c", c.key), 0) + take
            levels[c.key] = max(levels.get(c.key, 0), k)
            used[c.key] = c
            top = cost
        if left:
            return None
        dearest[g1] = top
        for node, c1, n in entries:
            flow[node][("g", g1)] = n
            arc_cost[(node, ("g", g1))] = c1
    cheapest: dict[tuple[str, ...], int] = {}
    for key in wclasses:
        g1, c1 = min(key[0], key=lambda gc: gc[1])
        for g, cost in key[0]:
            if g == g1 or g not in by_group:
                continue
            if g not in cheapest:
                if any(c.key[3] for c in by_group[g]):
                    return None
                cheapest[g] = min(slot_cost(c.load + 1) for c in by_group[g])
            if cost + cheapest[g] < c1 + dearest[g1]:
                return None
    return flow, sorted(used.values(), key=lambda c: repr(c.key)), levels, arc_cost


def assign_greedy(wants: Sequence[Want], givers: Sequence[Giver], slot_cost: Callable[[int], int],
                  ) -> tuple[list[Assigned], list[str]]:
    """The baseline ``assign`` is measured against (benchmarks/analysis_bench.py): wants one at
    a time, heavier first, each to the giver that is cheapest for it at that moment (group cost
    plus the giver's next load), never looking back. Same inputs, same output shape."""
    import heapq

    load = {g.id: g.load for g in givers}
    room = {g.id: g.room for g in givers}
    groups_of = {g.id: g.groups for g in givers}
    heaps: dict[tuple[str, ...], list[tuple[int, str]]] = defaultdict(list)
    for g in givers:
        if g.room > 0:
            for grp in g.groups:
                heaps[grp].append((slot_cost(g.load + 1), g.id))
    for h in heaps.values():
        heapq.heapify(h)
    done: list[Assigned] = []
    left: list[str] = []
    order = {w.id: i for i, w in enumerate(wants)}
    for w in sorted(wants, key=lambda w: (-w.weight, order[w.id])):
        best: tuple[int, str, tuple[str, ...]] | None = None
        for grp, cost in w.groups:
            h = heaps.get(grp, [])
            skipped = []
            while h:
                c, gid = h[0]
                if room[gid] <= 0 or c != slot_cost(load[gid] + 1):
                    heapq.heappop(h)  # stale: full, or its load changed (pushed again)
                elif gid == w.id:
                    skipped.append(heapq.heappop(h))  # never oneself
                else:
                    break
            if h and (best is None or (cost + h[0][0], h[0][1]) < best[:2]):
                best = (cost + h[0][0], h[0][1], grp)
            for x in skipped:
                heapq.heappush(h, x)
        if best is None:
            left.append(w.id)
            continue
        cost, gid, grp = best
        load[gid] += 1
        room[gid] -= 1
        done.append(Assigned(w.id, gid, cost, grp, load[gid]))
        if room[gid] > 0:
            for g2 in groups_of[gid]:
                heapq.heappush(heaps[g2], (slot_cost(load[gid] + 1), gid))
    return done, left


# -- the plan ------------------------------------------------------------------------------------


def _slot_members(rules: RuleSettings) -> Callable[[int], int]:
    """A member's cost of having ``n`` households: small while under households_per_member,
    then larger; strictly increasing, so the least loaded are asked first."""
    return lambda n: 10 * n if n <= rules.households_per_member else 100 + 10 * n


def _slot_people(n: int) -> int:
    """A delegate's (committee member's) cost of having ``n`` members (delegates)."""
    return 10 * n


def _words(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


@dataclass
class _World:
    """The people as the plan sees them: facts without the leaving person, plus what the plan
    proposed so far."""

    facts: Facts
    gone: str | None
    new_cm: set[str] = field(default_factory=set)  # delegates given a committee member
    new_delegate: set[str] = field(default_factory=set)  # members given a delegate

    def active(self, p: str) -> bool:
        return p in self.facts and p != self.gone

    def cms(self, d: str) -> list[str]:
        return [c for c in self.facts[d]["cms"] if c != self.gone] if self.active(d) else []

    def delegates(self, m: str) -> list[str]:
        return [d for d in self.facts[m]["delegates"] if d != self.gone] if self.active(m) else []

    def anchored(self, d: str) -> bool:
        return (self.active(d) and "delegate" in self.facts[d]["roles"]
                and (d in self.new_cm or bool(self.cms(d))))

    def whole(self, m: str) -> bool:
        return self.active(m) and (m in self.new_delegate
                                   or any(self.anchored(d) for d in self.delegates(m)))

    def covered(self, member_ids: Iterable[str]) -> bool:
        return any(self.whole(m) for m in member_ids)

    def reason(self, member_ids: Sequence[str]) -> str:
        """Why a household with these members (counting liaisons) is uncovered, as the rules
        say it (the plan's own proposals aside)."""
        active = [m for m in member_ids if self.active(m)]
        if not member_ids:
            return "no_member"
        if not active:
            return "member_inactive"
        delegates = {d for m in active for d in self.delegates(m)}
        if not delegates:
            return "no_delegate"
        if not any(self.cms(d) for d in delegates if self.active(d)):
            return "no_committee_member"
        return "covered"


def uncovered(store: Store, as_of: dt.date, rules: RuleSettings,
              township_id: str | None) -> list[dict[str, Any]]:
    """The uncovered households of a township (None: of the county) in the household order,
    each with ``household_id``, ``village_id``, ``township_id``, ``categories`` and
    ``member_ids`` (as ``Store.households`` gives them; read by ``Store.repair_households``)."""
    return store.repair_households(as_of, rules, township_id)


Solver = Callable[[Sequence[Want], Sequence[Giver], Callable[[int], int]],
                  tuple[list[Assigned], list[str]]]


_gc_lock = threading.Lock()
_gc_paused = [0]  # plans running with the cyclic collector paused (it is one per process)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a plan (or a ranking) runs: reading a
    county allocates hundreds of thousands of small lists, tuples and dicts, none of them in a
    cycle, and the collector would walk all of them again each time a generation fills (half
    the client's CPU time at 10 counties). Nested and concurrent uses count: the collector is
    enabled again when the last one ends, if it was enabled before the first."""
    with _gc_lock:
        if _gc_paused[0] == 0:
            _gc_paused.append(gc.isenabled())
            gc.disable()
        _gc_paused[0] += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_paused[0] -= 1
            if _gc_paused[0] == 0 and _gc_paused.pop():
                gc.enable()


def plan(store: Store, as_of: dt.date, rules: RuleSettings, *, township_id: str | None = None,
         person_id: str | None = None, cap: int = DEFAULT_CAP,
         solver: Solver = assign, timings: dict[str, float] | None = None) -> dict[str, Any]:
    """The repair plan (``GET /api/v1/repair-plans``): see the module docstring.

    Without ``person_id``: the uncovered households, members without a delegate and delegates
    without a committee member of ``township_id`` (or of the county). With ``person_id``: those
    that person's leaving would break (households covered or stale now, uncovered then;
    delegates whose only committee member they are; members whose only delegate they are,
    when that chain was whole), of ``township_id`` when given; the plan never proposes them.
    ``NotFound`` for an unknown person. ``solver``: ``assign`` (min-cost flow) or, to compare,
    ``assign_greedy``. ``timings``, when given, receives the seconds spent reading the
    households (``households``), the people (``people``; for the county on Neo4j, read at the
    same time as the households: the time still waited for them after) and solving
    (``solve``).
    """
    with gc_paused():
        return _plan(store, as_of, rules, township_id=township_id, person_id=person_id,
                     cap=cap, solver=solver, timings=timings)


def _plan(store: Store, as_of: dt.date, rules: RuleSettings, *, township_id: str | None,
          person_id: str | None, cap: int, solver: Solver,
          timings: dict[str, float] | None) -> dict[str, Any]:
    clock = time.perf_counter()
    spent = timings if timings is not None else {}
    spent["solve"] = 0.0
    towns = None if township_id is None else [township_id]
    ahead = None
    if store.parallel_reads and person_id is None and township_id is None:
        # the county on a server store: people and households are two reads that do not wait
        # for each other (each asks the server for a core). Asking for the households' members
        # (``ids``) changes nothing here: an active member of an uncovered household liaises
        # with an active household, so is listed in any case.
        pool = ThreadPoolExecutor(1, thread_name_prefix="repair-people")
        ahead = pool.submit(people_facts, store, as_of, towns, ())
        pool.shutdown(wait=False)
    try:
        if person_id is not None:
            lost = store.impact(person_id, as_of, rules)
            ids = [h["household_id"] for h in lost]
            _, rows = (store.households(as_of, rules, household_ids=ids, township_id=township_id)
                       if ids else (0, []))
        else:
            rows = uncovered(store, as_of, rules, township_id)
    except BaseException:
        if ahead is not None:
            ahead.cancel() or ahead.exception()  # never leave it running unseen
        raise
    spent["households"] = time.perf_counter() - clock
    clock = time.perf_counter()
    if ahead is not None:
        facts = ahead.result()  # the time still waited for it, after the households
    else:
        listed = {m for r in rows for m in r["member_ids"]}
        if person_id is not None:
            listed.add(person_id)
        facts = people_facts(store, as_of, towns, listed)
    spent["people"] = time.perf_counter() - clock
    before = _World(facts, None)
    world = _World(facts, person_id)
    ordered = [(p, facts[p]) for p in sorted(facts)]  # by id, once

    def in_scope(p: str) -> bool:
        return township_id is None or facts[p]["township_id"] == township_id

    def solve(wants: Sequence[Want], givers: Sequence[Giver], slot_cost: Callable[[int], int],
              ) -> tuple[list[Assigned], list[str]]:
        """``solver``, its time added to ``spent["solve"]``."""
        clock = time.perf_counter()
        out = solver(wants, givers, slot_cost)
        spent["solve"] += time.perf_counter() - clock
        return out

    # what to repair
    if person_id is None:
        lone_delegates = [d for d, f in ordered
                          if "delegate" in f["roles"] and in_scope(d) and not world.cms(d)]
        lone_members = [m for m, f in ordered
                        if f["in_chain"] and in_scope(m) and not world.delegates(m)]
    else:
        lone_delegates = [d for d, f in ordered
                          if d != person_id and "delegate" in f["roles"] and in_scope(d)
                          and before.cms(d) and not world.cms(d)]
        lone_members = [m for m, f in ordered
                        if m != person_id and f["in_chain"] and in_scope(m)
                        and before.whole(m) and not world.delegates(m)]
    items: list[dict[str, Any]] = []
    unassigned_delegates: list[dict[str, Any]] = []
    unassigned_members: list[dict[str, Any]] = []

    # 1. committee members for delegates without one
    # a township's plan stays in the township: its own committee members only
    cms = [c for c, f in ordered
           if world.active(c) and "committee_member" in f["roles"] and in_scope(c)]
    county = [(("county",), 50)] if township_id is None else []
    wants = [Want(d, 1, [(("t", facts[d]["township_id"]), 0), *county]) for d in lone_delegates]
    givers = [Giver(c, tuple([("county",)] + ([("t", facts[c]["township_id"])]
                                              if facts[c]["township_id"] else [])),
                    len([x for x in facts[c]["dels_below"] if x != person_id]), len(wants))
              for c in cms]
    done, left = solve(wants, givers, _slot_people)
    for a in sorted(done, key=lambda a: a.want):
        same = a.group != ("county",)
        world.new_cm.add(a.want)
        items.append({
            "kind": "committee_member-delegate", "from_id": a.giver, "to_id": a.want,
            "township_id": facts[a.want]["township_id"], "cost": a.cost,
            "reason": (f"党代表{a.want}没有在岗的县委委员联系；建议由"
                       f"{'同乡镇' if same else '县级'}县委委员{a.giver}联系（联系党代表"
                       f"{a.load_after - 1}名→{a.load_after}名）。Delegate {a.want} has no active "
                       f"committee member; {a.giver} ({'same township' if same else 'county'}) "
                       f"would take them: {_words(a.load_after - 1, 'delegate', 'delegates')} "
                       f"now, {a.load_after} after."),
        })
    for d in sorted(left):
        unassigned_delegates.append({
            "delegate_id": d,
            "why": (f"本乡镇没有在岗的县委委员可联系该党代表（全县方案可从别处安排）。No active "
                    f"committee member of township {township_id} can take this delegate (the "
                    "county's plan, without township_id, may propose one from elsewhere)."
                    if township_id else
                    "没有可联系该党代表的在岗县委委员。No active committee member can take this "
                    "delegate."),
        })

    # 2. delegates for members without one
    delegates = [d for d, f in ordered
                 if d != person_id and "delegate" in f["roles"] and in_scope(d)
                 and world.anchored(d)]
    wants = [Want(m, 1, [(("t", facts[m]["township_id"]), 0)]) for m in lone_members
             if facts[m]["township_id"] is not None]
    givers = [Giver(d, (("t", facts[d]["township_id"]),),
                    len([x for x in facts[d]["members"] if x != person_id]), len(wants))
              for d in delegates if facts[d]["township_id"] is not None]
    done, left = solve(wants, givers, _slot_people)
    for a in sorted(done, key=lambda a: a.want):
        world.new_delegate.add(a.want)
        items.append({
            "kind": "delegate-member", "from_id": a.giver, "to_id": a.want,
            "township_id": facts[a.want]["township_id"], "cost": a.cost,
            "reason": (f"党员{a.want}没有在岗的党代表联系；建议由同乡镇党代表{a.giver}联系"
                       f"（联系党员{a.load_after - 1}名→{a.load_after}名，其上县委委员在岗）。"
                       f"Member {a.want} has no active delegate; {a.giver} of the same township, "
                       f"whose chain is whole, would take them: "
                       f"{_words(a.load_after - 1, 'member', 'members')} now, "
                       f"{a.load_after} after."),
        })
    for m in sorted(set(lone_members) - {a.want for a in done}):
        unassigned_members.append({
            "member_id": m,
            "why": ("本乡镇没有链条完整的党代表。No delegate of the member's township has an "
                    "active committee member above, so none can take this member."),
        })

    # 3. members for the households still uncovered
    targets = [r for r in rows if not world.covered(r["member_ids"])]
    covered_above = len(rows) - len(targets)
    members = [m for m, f in ordered
               if m != person_id and in_scope(m) and world.whole(m)]
    hpm = rules.households_per_member
    slot = _slot_members(rules)
    township_cost = slot(max(cap, 1)) + 100
    wants = []
    for r in targets:
        grps: list[tuple[tuple[str, ...], int]] = []
        if r["village_id"] is not None:
            grps.append((("v", r["village_id"]), 0))
        if r["township_id"] is not None:
            grps.append((("t", r["township_id"]), township_cost))
        wants.append(Want(r["household_id"], 1 + R.focus_count(r["categories"], rules), grps))
    givers = []
    for m in members:
        f = facts[m]
        grps2 = tuple(g for g in ((("v", f["village_id"]) if f["village_id"] else None),
                                  (("t", f["township_id"]) if f["township_id"] else None)) if g)
        if grps2:
            givers.append(Giver(m, grps2, f["load"], cap - f["load"]))
    done, left = solve(wants, givers, slot)
    row_of = {r["household_id"]: r for r in rows}
    rank = {r["household_id"]: i for i, r in enumerate(rows)}  # rows come in the household order
    for a in sorted(done, key=lambda a: rank[a.want]):
        r = row_of[a.want]
        f = facts[a.giver]
        same_village = f["village_id"] is not None and f["village_id"] == r["village_id"]
        where_zh = f"同村（{r['village_id']}）" if same_village else f"同乡镇（{r['township_id']}）"
        where_en = (f"the same village ({r['village_id']})" if same_village
                    else f"the same township ({r['township_id']})")
        focus = " 重点户优先。A focus household." if R.focus_count(r["categories"], rules) else ""
        reason = world.reason(r["member_ids"])
        # "covered": the plan's upper links aside, the chain above the household is whole
        why = UncoveredReason(reason).label if reason in REASONS else "链条完整"
        items.append({
            "kind": "member-household", "from_id": a.giver, "to_id": a.want,
            "township_id": r["township_id"], "village_id": r["village_id"], "cost": a.cost,
            "reason": (f"该户未覆盖（{why}）；建议由"
                       f"{where_zh}链条完整的党员{a.giver}联系（联系{a.load_after - 1}户→"
                       f"{a.load_after}户，上限{cap}户）。The household is uncovered; "
                       f"{a.giver}, a member of {where_en} whose chain is whole, would take it: "
                       f"{_words(a.load_after - 1, 'household', 'households')} now, "
                       f"{a.load_after} after (at most {cap}).{focus}"
                       + (f" Under {hpm} households now." if a.load_after - 1 < hpm else "")),
        })
    unassigned = []
    room_before: dict[tuple[str, Any], int] = defaultdict(int)  # members with room, by group
    whole_in: dict[tuple[str, Any], int] = defaultdict(int)  # members with a whole chain
    for m in members:
        f = facts[m]
        for g in (("v", f["village_id"]), ("t", f["township_id"])):
            whole_in[g] += 1
            if f["load"] < cap:
                room_before[g] += 1
    for h in sorted(left, key=lambda h: rank[h]):
        r = row_of[h]
        v, t = ("v", r["village_id"]), ("t", r["township_id"])
        if r["township_id"] is None:
            why = "该户所在村不属于任何乡镇。The household's village belongs to no township."
        elif not whole_in[v] and not whole_in[t]:
            why = ("本村本乡镇没有链条完整的党员（有在岗党代表、其上有在岗县委委员）。"
                   "No member of "
                   f"village {r['village_id']} or township {r['township_id']} has a whole chain "
                   "(an active delegate with an active committee member above).")
        elif not room_before[v] and not room_before[t]:
            why = (f"本村本乡镇链条完整的党员都已联系{cap}户（上限）。Every member of village "
                   f"{r['village_id']} and township {r['township_id']} with a whole chain already "
                   f"liaises with {cap} households (the cap).")
        else:
            why = (f"本村本乡镇有余量的党员已被安排给其他户（重点户优先），均已达上限{cap}户。The "
                   f"members of village {r['village_id']} and township {r['township_id']} who had "
                   f"room were all given other households by this plan (focus households first) "
                   f"and are at the cap of {cap}.")
        unassigned.append({"household_id": h, "why": why})
    body: dict[str, Any] = {
        "as_of": as_of.isoformat(),
        "township_id": township_id,
        "person_id": person_id,
        "cap": cap,
        "households": {
            "targeted": len(rows),
            "covered_by_plan": len(rows) - len(unassigned),
            "covered_by_upper_links": covered_above,
            "unassigned": len(unassigned),
        },
        "items": items,
        "unassigned": unassigned,
        "unassigned_members": unassigned_members,
        "unassigned_delegates": unassigned_delegates,
    }
    return body


# -- applying a plan -----------------------------------------------------------------------------


def liaison_table(items: Iterable[Mapping[str, Any]], since: dt.date) -> Any:
    """The proposed liaisons as one ``liaisons`` table of a bundle (``until`` empty: a liaison
    that had ended counts again from ``since``)."""
    from graphsvc.bundle.reader import RawTable
    from graphsvc.bundle.schema import SPECS

    header = ["kind", "from_id", "to_id", "since", "until"]
    rows: list[tuple[int, list[str]]] = []
    seen: set[tuple[str, str, str]] = set()
    for it in items:
        key = (str(it["kind"]), str(it["from_id"]), str(it["to_id"]))
        if key in seen:
            continue
        seen.add(key)
        rows.append((len(rows) + 2, [*key, since.isoformat(), ""]))
    return RawTable("liaisons", SPECS["liaisons"].filename, header, rows)


def apply_items(store: Store, items: Sequence[Mapping[str, Any]], since: dt.date, *,
                actor: Any = None, dry_run: bool = False) -> tuple[Any, list[dict[str, str]]]:
    """Write the proposed liaisons (all of a plan's ``items``, or some) in ONE import, checked
    like any import, logged in the audit log under ``actor`` (default: this system user, as for
    the CLI). A liaison that already counts on ``since`` is left as it is (applying a plan twice
    changes nothing). Returns the import's ``Report`` (nothing is written when it has errors)
    and the liaisons written, as ``{kind, from_id, to_id}``."""
    from graphsvc.bundle.report import Report
    from graphsvc.importer import import_tables

    wanted = list(dict.fromkeys((str(i["kind"]), str(i["from_id"]), str(i["to_id"]))
                                for i in items))
    stored = store.fetch_links("liaisons", wanted)
    new = [k for k in wanted
           if not (k in stored
                   and counts_on(stored[k].get("since"), stored[k].get("until"), since))]
    written = [{"kind": k, "from_id": f, "to_id": t} for k, f, t in new]
    if not new:
        report = Report()
        report.dry_run = dry_run
        return report, []
    report = import_tables(store, {"liaisons": liaison_table(written, since)}, Report(),
                           dry_run=dry_run, actor=actor)
    return report, written if report.ok and not dry_run else []


def nothing_applied(items: Sequence[Mapping[str, Any]], since: dt.date) -> str:
    """Why applying ``items`` wrote nothing (``apply_items`` gave no liaison written and no
    error): each of them already counts on ``since``. The API answers it as 409, the CLI exits
    with it."""
    keys = list(dict.fromkeys(f"{i['kind']} {i['from_id']} → {i['to_id']}" for i in items))
    shown = "; ".join(keys[:5]) + (f"; and {len(keys) - 5} more" if len(keys) > 5 else "")
    which = "the liaison" if len(keys) == 1 else f"all {len(keys)} liaisons"
    return (f"nothing was written: {which}"
            f" given already count{'s' if len(keys) == 1 else ''} on {since.isoformat()} "
            f"(the plan was applied already, or they were added since it was made): {shown}. "
            "Make a new plan for what is still uncovered.")
