"""The store interface: one small contract, two implementations.

``Neo4jStore`` (a Neo4j server through the official driver) and
``EmbeddedStore`` (SQLite as the durable record, NetworkX as the graph engine)
pass the same test suite. Nothing above this layer sees a driver object: stores
return plain records (dicts of typed values, as ``bundle.validate`` makes them).
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Self

from graphsvc.bundle.validate import Bundle, Record
from graphsvc.graph import Graph, build_graph
from graphsvc.model import Kind, counts_on
from graphsvc.rules import RuleSettings
from graphsvc.stores.graphreads import Facts, HouseholdData, PersonData

Progress = Callable[[str, int, int], None]
"""progress(stage, done, total): called as work advances, for progress bars."""

Row = dict[str, Any]

# the county-wide rows a store computes (``Store.status_rows``): kind -> (the id field of its
# rows, which ids of a write's ``Changes`` can change them: "households" or "people")
ROW_KINDS: dict[str, tuple[str, str]] = {
    "households": ("household_id", "households"),
    "delegates": ("delegate_id", "people"),
    "members": ("member_id", "people"),
    "committee_members": ("committee_member_id", "people"),
}
# a write touching more records than this (an import) is recorded as "everything changed":
# computing the county afresh is then as quick as recomputing that many rows
MEND_LIMIT = 20_000
# changes kept in the store's change log; older ones are pruned by the write that adds one
CHANGES_KEPT = 5_000
# dates whose county numbers every write records its effect on (``Store.county_counts``)
TALLY_DATES_KEPT = 8


@dataclass
class Changes:
    """What the writes after one data version changed, up to ``version`` (``Store.changes``)."""

    version: str  # the data version the writes brought the data to
    households: set[str] = field(default_factory=set)  # whose status rows may have changed
    people: set[str] = field(default_factory=set)  # whose audit rows may have changed
    # per date: how the county's numbers (``summary.flatten``) changed; a date missing: unknown
    deltas: dict[dt.date, Counter[str]] = field(default_factory=dict)
    writes: int = 0


def county_wide(*scope: Any) -> bool:
    """Whether a read is of the whole county (no township, village or ids narrow it)."""
    return all(x is None for x in scope)


def page_of(rows: list[Row], *, status: str | None = None, reason: str | None = None,
            focus_only: bool = False, limit: int | None = None,
            offset: int = 0) -> tuple[int, list[Row]]:
    """(total, page) of household status rows matching the filters, as ``Store.households``."""
    if status is not None or reason is not None or focus_only:
        rows = [r for r in rows if (status is None or r["status"] == status)
                and (reason is None or r["reason"] == reason) and (not focus_only or r["focus"])]
    end = None if limit is None else offset + limit
    return len(rows), rows[offset:end]


Audit = Mapping[str, Any] | Callable[[], Mapping[str, Any]]
"""An audit log entry (``auditlog.build_entry``), or a function making it: called inside the
write's transaction once its write lock is held, so the old values it reads are exactly those
the write replaces."""


class Store(ABC):
    """Where the county's records live."""

    kind: str  # "neo4j" or "embedded"
    parallel_reads: bool = False
    """True when reads from two threads of one process run at the same time (a server answers
    them): an analysis may then issue independent reads together. False for a store that
    reads in this process's own Python, where a second thread only waits for the first."""

    @abstractmethod
    def ping(self) -> None:
        """Raise ``StoreUnavailable`` when the store cannot be reached."""

    @abstractmethod
    def fetch_entities(self, ids: Iterable[str]) -> dict[str, tuple[Kind, Record]]:
        """The stored records among ``ids`` with their kind; unknown ids are left out."""

    @abstractmethod
    def fetch_links(self, name: str,
                    keys: Iterable[tuple[str, ...]]) -> dict[tuple[str, ...], Record]:
        """Stored rows of ``liaisons``/``pairings``/``supports`` by their identifying columns."""

    @abstractmethod
    def versions(self, ids: Iterable[str]) -> dict[str, str]:
        """The ``auditlog.version`` of each stored record among ``ids`` (its values and the
        stamp of the last write that named it); unknown ids are left out."""

    @abstractmethod
    def write(self, bundle: Bundle, *, replace: bool = False, progress: Progress | None = None,
              expect: Mapping[str, str] | None = None,
              audit: Audit | None = None) -> None:
        """Write a validated bundle in one transaction: all of it or, on any failure, nothing.

        Records are upserted by id (relationship rows by their identity, contacts
        by all their columns). With ``replace`` the store first drops everything,
        so that afterwards it holds exactly the bundle.

        Writes are serialised. Every record the bundle names gets a new stamp (see
        ``versions``), even when its values stay the same. ``expect`` maps record ids to the
        ``auditlog.version`` the writer read: checked inside the transaction, a record written
        since (or gone) raises ``VersionConflict`` and nothing is written. ``audit`` (an
        ``Audit``) is appended to the audit log in the same transaction.
        """

    @abstractmethod
    def audit_entries(self, *, since: str | None = None, until: str | None = None,
                      key_id: str | None = None, subject: str | None = None,
                      action: str | None = None, limit: int = 100,
                      offset: int = 0) -> tuple[int, list[dict[str, Any]]]:
        """(total, page) of the audit log entries matching the filters, newest first."""

    @abstractmethod
    def data_version(self) -> str:
        """A token that changes whenever a write commits (by this process or any other), and
        never comes back: results derived from the data may be cached under it. ``""`` for a
        store never written to."""

    # -- what writes changed, for results derived from the data (graphsvc.derived) ----------

    @abstractmethod
    def changes(self, since: str, now: str | None = None) -> Changes | None:
        """What the writes committed after data version ``since`` changed, read from the
        store's change log (every write records its change there, in its own transaction, by
        whichever process made it). None when that cannot be told: ``since`` is unknown or
        pruned, or a write in between changed everything (an import, ``--replace``,
        ``refresh``, a new township). ``now``: the data version the caller has just read (an
        answer up to it, given before, may be given again without asking the store)."""

    @abstractmethod
    def status_rows(self, kind: str, as_of: dt.date, rules: RuleSettings,
                    ids: Collection[str] | None = None) -> list[Row]:
        """The county-wide rows of ``kind`` (``ROW_KINDS``: ``rules.household_statuses`` or
        one of the person audits), computed now; only those of ``ids`` when given."""

    @abstractmethod
    def county_counts(self, as_of: dt.date) -> tuple[str, dict[str, int]]:
        """(data version, the county's numbers on ``as_of`` as ``summary.flatten`` gives them
        at exactly that version). From then on every write records how it changed the numbers
        on ``as_of`` (for the last ``TALLY_DATES_KEPT`` dates asked)."""

    @abstractmethod
    def refresh(self) -> str:
        """Record that anything may have changed (the data was edited outside graphsvc): a new
        data version whose change is "everything", so that every process drops what it derived
        from the data. Returns the new version."""

    def warm_up(self) -> None:
        """Get ready to serve (a server calls it once, before its first request): the embedded
        store builds its graph, so that this process can tell how its writes change the
        county's numbers (``Store.changes``) from the first one on."""

    @abstractmethod
    def records(self) -> dict[str, list[Record]]:
        """Every stored record, per bundle file name (order unspecified)."""

    # -- the coverage rules (COVERAGE_RULES.md); graphsvc.rules is the reference ------------

    @abstractmethod
    def summary(self, as_of: dt.date, rules: RuleSettings | None = None, *,
                township_id: str | None = None) -> dict[str, Any]:
        """The county in numbers on ``as_of``: ``graphsvc.summary.summarize`` plus, when
        ``rules`` is given, ``households_by_status`` and ``uncovered_by_reason``."""

    @abstractmethod
    def households(self, as_of: dt.date, rules: RuleSettings, *, township_id: str | None = None,
                   village_id: str | None = None, status: str | None = None,
                   reason: str | None = None, focus_only: bool = False, limit: int | None = None,
                   offset: int = 0, household_ids: Collection[str] | None = None,
                   member_ids: Collection[str] | None = None) -> tuple[int, list[dict[str, Any]]]:
        """(total, page) of ``rules.household_statuses`` rows matching the filters, in the
        household order; ``total`` counts all matching rows, the page is ``offset``/``limit``.

        ``household_ids`` reads only those households; else ``member_ids`` only the households
        those people have (or had) a member-household liaison with. Township and village
        narrow either."""

    @abstractmethod
    def household(self, household_id: str, as_of: dt.date, rules: RuleSettings) -> dict[str, Any]:
        """``rules.household_detail``; ``NotFound`` for an unknown id."""

    @abstractmethod
    def delegate_audit(self, as_of: dt.date, rules: RuleSettings, *, township_id: str | None = None,
                       village_id: str | None = None,
                       ids: Collection[str] | None = None) -> list[dict[str, Any]]:
        """``rules.delegate_audit``; with ``ids``, the rows of those people only."""

    @abstractmethod
    def member_audit(self, as_of: dt.date, rules: RuleSettings, *, township_id: str | None = None,
                     village_id: str | None = None,
                     ids: Collection[str] | None = None) -> list[dict[str, Any]]:
        """``rules.member_audit``; with ``ids``, the rows of those people only."""

    @abstractmethod
    def committee_member_audit(self, as_of: dt.date, rules: RuleSettings, *,
                               township_id: str | None = None, village_id: str | None = None,
                               ids: Collection[str] | None = None) -> list[dict[str, Any]]:
        """``rules.committee_member_audit``; with ``ids``, the rows of those people only."""

    @abstractmethod
    def pairing_audit(self, as_of: dt.date, *,
                      township_id: str | None = None) -> dict[str, list[str]]:
        """``rules.pairing_audit``."""

    @abstractmethod
    def impact(self, person_id: str, as_of: dt.date, rules: RuleSettings) -> list[dict[str, Any]]:
        """``rules.impact``; ``NotFound`` for an unknown id."""

    def pairing_network(self, as_of: dt.date, *, township_id: str | None = None) -> dict[str, Any]:
        """Unit–village pairing on ``as_of``, for diagrams: ``townships``, ``villages``
        (``id``, ``name``, ``township_id``, ``needs_pairing``), ``units`` (``id``, ``name``,
        ``sector``) and the counting ``pairings`` (``unit_id``, ``village_id``, ``since``,
        ``until``), each sorted by id.

        With ``township_id``: that township's villages, and the units paired (at any
        time) with one of them, as ``pairing_audit`` scopes them. This default builds
        it from ``graph()``; a store may answer it with one query instead.
        """
        G = self.graph()

        def rec(n: str, *fields: str) -> dict[str, Any]:
            a = G.nodes[n]
            return {"id": n, **{f: a.get(f) for f in fields}}

        all_villages, all_units = [], []
        for n, a in G.nodes(data=True):
            if a.get("entity") == "village":
                all_villages.append(n)
            elif a.get("entity") == "unit":
                all_units.append(n)
        villages = sorted(v for v in all_villages
                          if township_id is None or G.nodes[v].get("township_id") == township_id)
        local = set(villages)
        units: set[str] = set() if township_id is not None else set(all_units)
        pairings = []
        for u in all_units:  # a unit's own edges only: never a walk over every contact
            for _, v, k, e in G.out_edges(u, keys=True, data=True):
                if k != "PAIRED_WITH" or v not in local:
                    continue
                units.add(u)
                if counts_on(e.get("since"), e.get("until"), as_of):
                    pairings.append({"unit_id": u, "village_id": v, "since": e.get("since"),
                                     "until": e.get("until")})
        towns = sorted({str(G.nodes[v]["township_id"]) for v in villages
                        if G.nodes[v].get("township_id") is not None}
                       | ({township_id} if township_id is not None and township_id in G
                          else set()))
        return {
            "townships": [rec(t, "name") for t in towns if t in G],
            "villages": [rec(v, "name", "township_id", "needs_pairing") for v in villages],
            "units": [rec(u, "name", "sector") for u in sorted(units)],
            "pairings": sorted(pairings, key=lambda p: (p["unit_id"], p["village_id"])),
        }

    def graph(self) -> Graph:
        """Every record as one NetworkX graph (see ``graphsvc.graph``)."""
        return build_graph(self.records())

    def close(self) -> None:
        """Release connections."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the reads of the analyses (graphsvc.analysis); graphsvc.stores.graphreads is the
    # -- reference, cypher/analysis/ the Neo4j statements -------------------------------------

    @abstractmethod
    def repair_people(self, as_of: dt.date, township_ids: Sequence[str] | None,
                      ids: Iterable[str] = ()) -> Facts:
        """What a repair plan needs to know of people, on ``as_of``: every active person who is
        a committee member, or is among ``ids``, or lies in one of ``township_ids`` (all
        townships: None; none: ``[]``) and is a delegate or in the chain as a member (a
        counting delegate-member liaison to them, or a counting member-household liaison to an
        active household). For each: ``roles``, ``village_id`` and ``township_id`` (the rules of
        DATA_FORMAT.md), ``load`` (the active households they liaise with), the active
        ``delegates`` above them, the active ``cms`` above them, the active ``members`` below
        them, the active delegates below them (``dels_below``), all sorted, and ``in_chain``
        (a counting delegate-member liaison to them, or a load)."""

    def repair_households(self, as_of: dt.date, rules: RuleSettings,
                          township_id: str | None) -> list[dict[str, Any]]:
        """The uncovered households of a township (None: of the county) in the household order,
        each with ``household_id``, ``village_id``, ``township_id``, ``categories`` and
        ``member_ids``, as ``households(status="uncovered")`` gives them. This default reads
        them so; a store may answer with one statement instead."""
        _, rows = self.households(as_of, rules, township_id=township_id, status="uncovered")
        return [{k: r[k] for k in ("household_id", "village_id", "township_id", "categories",
                                   "member_ids")} for r in rows]

    @abstractmethod
    def risk_page(self, as_of: dt.date, rules: RuleSettings, *, township_id: str | None = None,
                  focus_weight: int, limit: int | None = None,
                  offset: int = 0) -> tuple[int, list[dict[str, Any]]]:
        """The single points of failure on ``as_of`` (``graphsvc.analysis.risks``): (how many
        people would leave at least one active household uncovered by leaving, one page of
        them), each with ``person_id``, ``name``, ``roles``, ``township_id``,
        ``households_lost``, ``focus_households_lost`` (households with a category of
        ``rules.focus_categories``) and ``score`` (``graphreads.score``), by score (highest
        first), then by id. With ``township_id`` only that township's households count, and
        only its people are listed."""

    @abstractmethod
    def households_below(self, person_id: str, as_of: dt.date) -> list[str]:
        """The ids, sorted, of the households a request can reach ``person_id`` from on
        ``as_of`` (through liaisons counting that day): those they liaise with as a member,
        those of the members they liaise with as a delegate, and those of the members of the
        delegates they liaise with as a committee member. ``NotFound`` for an unknown person."""

    @abstractmethod
    def chain_households(self, *, township_id: str | None = None, village_id: str | None = None,
                         household_ids: Collection[str] | None = None,
                         contacts: tuple[dt.date, dt.date] | None = None,
                         requests_until: dt.date | None = None) -> dict[str, HouseholdData]:
        """The households in scope (``household_ids``, else the village, else the township,
        else all; the village and township narrow ``household_ids`` too), by id, each with its
        record's fields and its member-household liaisons at any time (``members_in``).

        ``contacts=(first, last)``: each household's distinct contact dates in that range,
        sorted. ``requests_until``: each household's contacts with a request dated on or
        before it (``requests``), and the supports into it at any time (``supports``).
        Lists of links and requests come in no particular order."""

    @abstractmethod
    def chain_people(self, ids: Iterable[str]) -> dict[str, PersonData]:
        """The people among ``ids``, by id, as the chain analyses need them: roles, status,
        ``inactive_since``, township (DATA_FORMAT.md), and the delegate-member
        (``delegates_in``) and committee_member-delegate (``committee_in``) liaisons into them
        at any time, in no particular order. Unknown ids are left out."""
