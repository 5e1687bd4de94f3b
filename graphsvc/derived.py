"""County-wide results kept between reads and mended after each write.

The county-wide household list, its counts and the county-wide audits need every household's
status: seconds of work at ten counties, on either store. A clerk's write changes a few rows
of them. So a store keeps these results per date and rule settings, labelled with the data
version (``Store.data_version``) they hold for, and after each of its own writes recomputes
only the rows the write can change (``graphsvc.stores.incremental.affected``), moving the
label from the version before the write to the version after it.

A write by another process breaks that chain: the label no longer matches, and the next
reader computes the result afresh. So every answer is exactly what a fresh computation on the
current data would give (``tests/test_kept.py`` holds them equal).

Township- and village-scoped reads never come here: they are answered by the store's query,
scoped there.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Collection, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from graphsvc.rules import RuleSettings, focus_count
from graphsvc.summary import unflatten

log = logging.getLogger(__name__)
Row = dict[str, Any]
# recompute(kind, as_of, rules, ids): the rows of ``kind`` for those ids only (None: all)
Recompute = Callable[[str, dt.date, RuleSettings, Collection[str] | None], list[Row]]
# kind -> (id field of its rows, the rows of which writes' affected ids: "households"/"people")
KINDS: dict[str, tuple[str, str]] = {
    "households": ("household_id", "households"),
    "delegates": ("delegate_id", "people"),
    "members": ("member_id", "people"),
    "committee_members": ("committee_member_id", "people"),
}
_HISTORY = 64  # versions an entry remembers having held (a reader may have read an older one)
# a write touching more records than this (an import) is not mended in: computing the county
# afresh is then as quick as recomputing that many rows
MEND_LIMIT = 20_000


def county_wide(*scope: Any) -> bool:
    """Whether a read is of the whole county (no township, village or ids narrow it)."""
    return all(x is None for x in scope)


def sort_key(kind: str, rules: RuleSettings) -> Callable[[Row], Any]:
    """The order of ``kind``'s rows: households in the household order
    (``rules.household_order``), audits by id."""
    if kind == "households":
        return lambda r: (-focus_count(r["categories"], rules), r["household_id"])
    idf = KINDS[kind][0]
    return lambda r: r[idf]


def status_counts(e: _Entry) -> dict[str, Any]:
    """``rules.status_counts`` of a kept entry of household rows (computed once per version)."""
    from graphsvc.rules import status_counts as counts_of

    counts = e.derived.get("status_counts")
    if counts is None:
        counts = e.derived["status_counts"] = counts_of(e.rows)
    return {k: dict(v) for k, v in counts.items()}


def page_of(rows: list[Row], *, status: str | None = None, reason: str | None = None,
            focus_only: bool = False, limit: int | None = None,
            offset: int = 0) -> tuple[int, list[Row]]:
    """(total, page) of household status rows matching the filters, as ``Store.households``."""
    if status is not None or reason is not None or focus_only:
        rows = [r for r in rows if (status is None or r["status"] == status)
                and (reason is None or r["reason"] == reason) and (not focus_only or r["focus"])]
    end = None if limit is None else offset + limit
    return len(rows), rows[offset:end]


def copy_rows(rows: list[Row]) -> list[Row]:
    """Rows a caller may change (kept rows are shared): each row and its lists copied."""
    return [{k: (list(v) if isinstance(v, list) else v) for k, v in r.items()} for r in rows]


@dataclass
class _Entry:
    version: str
    rows: list[Row]
    sort_key: Callable[[Row], Any]
    id_field: str
    seen: list[str] = field(default_factory=list)
    derived: dict[str, Any] = field(default_factory=dict)  # figures computed from the rows

    def __post_init__(self) -> None:
        self.seen = [self.version]
        self.pos = {r[self.id_field]: i for i, r in enumerate(self.rows)}

    def mend(self, ids: Collection[str], fresh: list[Row], version: str) -> None:
        """Rows of ``ids`` replaced by ``fresh`` (a missing one dropped, a new one added)."""
        new = {r[self.id_field]: r for r in fresh}
        here = [i for i in ids if i in self.pos or i in new]  # ids with no row before or after
        in_place = all(i in self.pos and i in new                # (a member in the delegates'
                       and self.sort_key(new[i]) == self.sort_key(self.rows[self.pos[i]])
                       for i in here)                            # audit) change nothing
        if in_place:
            rows = list(self.rows)  # readers may hold the old list
            for i in here:
                rows[self.pos[i]] = new[i]
            self.rows = rows
        else:
            keep = [r for r in self.rows if r[self.id_field] not in ids]
            keep.extend(new[i] for i in ids if i in new)
            keep.sort(key=self.sort_key)
            self.rows = keep
            self.pos = {r[self.id_field]: i for i, r in enumerate(keep)}
        self.version = version
        self.seen = (self.seen + [version])[-_HISTORY:]
        self.derived = {}


@dataclass
class _Tally:
    """The county's numbers on one date (``graphsvc.summary.flatten``'s shape)."""

    version: str
    counts: dict[str, int]
    seen: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.seen = [self.version]

    def mend(self, delta: Counter[str], version: str) -> None:
        counts = dict(self.counts)
        for k, v in delta.items():
            counts[k] = counts.get(k, 0) + v
        self.counts = counts
        self.version = version
        self.seen = (self.seen + [version])[-_HISTORY:]


class KeptResults:
    """Per (kind, date, rule settings): the county-wide rows, by data version; per date: the
    county's numbers (``summary``)."""

    def __init__(self, max_dates: int = 3) -> None:
        # a date's results are about 135 MB at ten counties (104,000 household rows): only the
        # dates asked for last are kept (today, in practice)
        self.max_dates = max_dates
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()  # _Entry or _Tally
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._writing = 0  # writes of this process in flight (their mending still to come)
        # writes are mended in the order they committed, each after the one before: a write
        # takes a ticket as it commits (under the store's write lock) and mends on its turn,
        # while the next write's transaction may already run
        self._issued = self._done = 0
        self._turn = threading.Condition(self._lock)
        # the store's write lock: held by a write from its transaction's start to its ticket,
        # and by a full computation (so that no write of this process commits during it)
        self.write_lock = threading.Lock()
        self._computing: dict[Hashable, threading.Event] = {}
        self.hits = self.misses = self.mends = 0

    @staticmethod
    def key(kind: str, as_of: dt.date, rules: RuleSettings) -> Hashable:
        return (kind, as_of, rules)

    def rows(self, kind: str, as_of: dt.date, rules: RuleSettings,
             version_of: Callable[[], str], compute: Callable[[], list[Row]],
             sort_key: Callable[[Row], Any]) -> _Entry:
        """The entry holding ``kind``'s county-wide rows for the data version now
        (``version_of()``, or a later version of this process's writes): kept, or computed by
        ``compute`` now. Callers must not change the rows."""
        return self._get(self.key(kind, as_of, rules), version_of,
                         lambda v: _Entry(v, compute(), sort_key, KINDS[kind][0]))

    def tally(self, as_of: dt.date, version_of: Callable[[], str],
              compute: Callable[[], dict[str, int]]) -> dict[str, int]:
        """The county's numbers on ``as_of`` (``summary.flatten``) for the data version now:
        kept, or computed by ``compute`` now."""
        e = self._get(("summary", as_of), version_of, lambda v: _Tally(v, compute()))
        return dict(e.counts)

    def tally_dates(self) -> list[dt.date]:
        """The dates whose numbers are kept (a write tallies its records on each)."""
        with self._lock:
            return [k[1] for k in self._entries if k[0] == "summary"]

    def _get(self, key: Hashable, version_of: Callable[[], str],
             make: Callable[[str], Any]) -> Any:
        version = version_of()
        if not version:  # a store never written to (or emptied behind our back): nothing to keep
            return make(version)
        deadline = time.monotonic() + 10
        while True:
            with self._lock:
                e = self._found(key, version)
                if e is not None:
                    self.hits += 1
                    return e
                if self._writing and key in self._entries and time.monotonic() < deadline:
                    # a write of ours committed this version and is being mended in: wait for
                    # it (bounded) rather than computing the whole county again
                    self._changed.wait(timeout=max(0.05, deadline - time.monotonic()))
                    continue
                busy = self._computing.get(key)
                mine = busy is None
                if busy is None:
                    busy = self._computing[key] = threading.Event()
            if not mine:
                busy.wait(timeout=300)
                version, deadline = version_of(), time.monotonic() + 10
                continue
            try:
                return self._compute(key, version_of, make)
            finally:
                with self._lock:
                    self._computing.pop(key, None)
                busy.set()

    def _compute(self, key: Hashable, version_of: Callable[[], str],
                 make: Callable[[str], Any]) -> Any:
        """Compute an entry while no write of this process can commit and after every one
        that did is mended in, so that it holds for exactly the version it is labelled with:
        mending it later applies each later write once. (A write of another process meanwhile
        makes the label older than the data: the next mending then drops the entry.)"""
        with self.write_lock:
            with self._lock:
                self._turn.wait_for(lambda: self._done >= self._issued, timeout=60)
            version = version_of()
            with self._lock:
                e = self._found(key, version)
            if e is not None:
                return e
            e = make(version)
            if not version:
                return e
            with self._lock:
                self.misses += 1
                self._entries[key] = e
                self._entries.move_to_end(key)
                recent: list[Any] = []
                for k in reversed(self._entries):  # the dates, most recently used first
                    if k[1] not in recent:
                        recent.append(k[1])
                for k in [k for k in self._entries if k[1] not in recent[:self.max_dates]]:
                    del self._entries[k]
            return e

    def _found(self, key: Hashable, version: str) -> Any:
        e = self._entries.get(key)
        if e is not None and version in e.seen:
            self._entries.move_to_end(key)
            return e
        return None

    # -- writes --------------------------------------------------------------------------------

    @contextmanager
    def writing(self) -> Iterator[None]:
        """``with kept.writing():`` around a write and its ``mend``: readers who find their
        version not yet mended in wait for it rather than computing the county again."""
        with self._lock:
            self._writing += 1
        try:
            yield
        finally:
            with self._lock:
                self._writing -= 1
                self._changed.notify_all()

    def ticket(self) -> int:
        """A committed write's place in the order of mending (take it under the write lock,
        right after the commit)."""
        with self._lock:
            self._issued += 1
            return self._issued - 1

    def mend(self, ticket: int, before: str, after: str,
             recompute: Recompute,
             affected: Callable[[], tuple[set[str], set[str]] | None],
             deltas: Callable[[list[dt.date]], dict[dt.date, Counter[str]] | None],
             *, replaced: bool = False) -> None:
        """``_mend`` on this write's turn (``replaced``: drop everything instead). If it fails
        (the store went away right after the commit), everything kept is dropped instead: the
        write has committed and must not be reported as failed."""
        with self._lock:
            waited = self._turn.wait_for(lambda: self._done >= ticket, timeout=60)
        try:
            if replaced or not waited:  # (not waited: an earlier mending hangs; start afresh)
                self.clear()
            else:
                self._mend(before, after, recompute, affected, deltas)
        except Exception:  # the next reader computes afresh
            log.warning("could not mend the kept county-wide results after a write; "
                        "dropping them", exc_info=True)
            self.clear()
        finally:
            with self._lock:
                self._done = max(self._done, ticket + 1)
                self._turn.notify_all()

    def _mend(self, before: str, after: str, recompute: Recompute,
              affected: Callable[[], tuple[set[str], set[str]] | None],
              deltas: Callable[[list[dt.date]], dict[dt.date, Counter[str]] | None]) -> None:
        """After a write that moved the data from ``before`` to ``after``: entries that held for
        ``before`` follow it and hold for ``after``, the others are dropped.

        Rows: those of the affected households or people (``affected()``; None: all of them
        may have changed) are recomputed by ``recompute(kind, as_of, rules, ids)``. The county's
        numbers: ``deltas(dates)`` gives, per date, how the write changed them (None, or a
        date missing: unknown)."""
        with self._lock:
            current = [(k, e) for k, e in self._entries.items() if before and e.version == before]
            for k in [k for k, e in self._entries.items() if e.version not in (before, after)]:
                del self._entries[k]
        if not current:
            return
        tallies = [(k, e) for k, e in current if isinstance(e, _Tally)]
        current = [(k, e) for k, e in current if not isinstance(e, _Tally)]
        if tallies:
            by_date = deltas([k[1] for k, _ in tallies]) or {}
            with self._lock:
                for k, e in tallies:
                    if self._entries.get(k) is not e or e.version != before:
                        continue
                    if k[1] in by_date:
                        e.mend(by_date[k[1]], after)
                        self.mends += 1
                    else:
                        del self._entries[k]
        if not current:
            return
        which = affected()
        if which is None:
            with self._lock:
                for k, _ in current:
                    self._entries.pop(k, None)
            return
        households, people = which
        for k, e in current:
            kind = k[0]
            ids = households if KINDS[kind][1] == "households" else people
            if len(ids) > MEND_LIMIT:
                with self._lock:
                    self._entries.pop(k, None)
                continue
            fresh = recompute(kind, k[1], k[2], ids) if ids else []
            with self._lock:
                if self._entries.get(k) is e and e.version == before:
                    e.mend(ids, fresh, after)
                    self.mends += 1

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class CountyWide:
    """The county-wide reads a store answers from its ``KeptResults`` (a mixin before
    ``Store``). The store provides ``_kept``, ``data_version`` and ``_compute(kind, as_of,
    rules, ids)``: the rows of ``kind`` (``KINDS``) computed afresh, for ``ids`` only when
    given; and ``_affected(bundle)``: ``incremental.affected`` of a write, or None."""

    _kept: KeptResults
    data_version: Callable[[], str]
    _compute: Recompute
    _affected: Callable[[Any], tuple[set[str], set[str]] | None]

    def _county_entry(self, kind: str, as_of: dt.date, rules: RuleSettings) -> _Entry:
        """``kind``'s county-wide rows: kept for the current data version, or computed now."""
        return self._kept.rows(kind, as_of, rules, self.data_version,
                               lambda: self._compute(kind, as_of, rules, None),
                               sort_key(kind, rules))

    def _county_rows(self, kind: str, as_of: dt.date, rules: RuleSettings) -> list[Row]:
        """A copy of ``kind``'s county-wide rows, for a caller."""
        return copy_rows(self._county_entry(kind, as_of, rules).rows)

    def _county_households(self, as_of: dt.date, rules: RuleSettings,
                           **filters: Any) -> tuple[int, list[Row]]:
        """``Store.households`` of the whole county (``filters``: those of ``page_of``)."""
        total, page = page_of(self._county_entry("households", as_of, rules).rows, **filters)
        return total, copy_rows(page)

    def _county_summary(self, as_of: dt.date, rules: RuleSettings | None,
                        counts: Callable[[], dict[str, int]]) -> dict[str, Any]:
        """``Store.summary`` of the whole county: the numbers kept (``counts()`` computes
        them, as ``summary.flatten`` gives them) and, with ``rules``, the kept statuses'
        counts."""
        out = unflatten(self._kept.tally(as_of, self.data_version, counts), as_of)
        if rules is not None:
            out.update(status_counts(self._county_entry("households", as_of, rules)))
        return out

    def _mend(self, ticket: int, before: str, after: str, bundle: Any,
              deltas: Callable[[list[dt.date]], dict[dt.date, Counter[str]] | None],
              replaced: bool) -> None:
        """``KeptResults.mend`` after this store's write of ``bundle``."""
        self._kept.mend(ticket, before, after, self._compute, lambda: self._affected(bundle),
                        deltas, replaced=replaced)
