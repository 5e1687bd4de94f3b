"""County-wide results derived from the data: kept, shared by every worker, mended from the store.

The county-wide household list, its counts, the county's numbers and the county-wide audits
need every household's status: seconds of work at ten counties, on either store. A clerk's
write changes a few rows of them. ``Derived`` wraps a store (it is a ``Store`` itself, so
callers do not change) and answers these reads from results kept per date and rule settings,
each labelled with the data version it holds for.

* **The store tells what changed.** Every write records its change in the store's own change
  log, in its own transaction, by whichever process made it (``Store.changes``): the
  households and people whose rows it can change and how it changed the county's numbers. A
  write does nothing more, so it answers as soon as it commits.
* **Readers mend lazily.** A reader whose kept result is at version V and finds the store at
  W reads the changes after V in one query, recomputes the rows of their affected ids once
  (``Store.status_rows``) and adds the numbers' deltas. When the store cannot tell (a pruned
  log, an import, ``refresh``), the result is dropped and computed afresh.
* **The first full computation is shared.** A process that computes a result publishes it in
  ``<data dir>/derived/`` (written atomically). Only one process computes a given result at a
  time (a file lock); the others wait, load it and mend it from the change log. So the county
  is computed in full once per date and rule settings, whatever the number of workers.

So every answer is what a fresh computation on the data would give (``tests/test_kept.py``
holds them equal, with writes by two processes). Full computations are logged and counted
(``Derived.counters`` and ``derived/computations.jsonl``). Township-, village- and
id-scoped reads are answered by the store's own query (filtering the kept county-wide rows
instead was measured slower on both stores: docs/performance.md).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import gc
import hashlib
import json
import logging
import marshal
import os
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import (
    Callable,
    Collection,
    Hashable,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graphsvc.bundle.validate import Bundle, Record
from graphsvc.graph import Graph
from graphsvc.model import Kind
from graphsvc.rules import RuleSettings, focus_count
from graphsvc.rules import status_counts as counts_of
from graphsvc.stores.base import (
    MEND_LIMIT,
    ROW_KINDS,
    Audit,
    Changes,
    Progress,
    Row,
    Store,
    county_wide,
    page_of,
)
from graphsvc.stores.graphreads import Facts, HouseholdData, PersonData
from graphsvc.summary import unflatten

log = logging.getLogger(__name__)
# a published result more writes behind than this is published again after a mending, so
# that a process starting later mends it from the change log (which keeps CHANGES_KEPT)
REPUBLISH_AFTER = 1_000
# results of more rows than this are moved out of the cyclic garbage collector's reach
FREEZE_ROWS = 10_000


def sort_key(kind: str, rules: RuleSettings) -> Callable[[Row], Any]:
    """The order of ``kind``'s rows: households in the household order
    (``rules.household_order``), audits by id."""
    if kind == "households":
        return lambda r: (-focus_count(r["categories"], rules), r["household_id"])
    idf = ROW_KINDS[kind][0]
    return lambda r: r[idf]


def copy_rows(rows: list[Row]) -> list[Row]:
    """Rows a caller may change (kept rows are shared): each row and its lists copied."""
    return [{k: (list(v) if isinstance(v, list) else v) for k, v in r.items()} for r in rows]


@dataclass
class _Rows:
    """One kind's county-wide rows on one date, for one data version."""

    version: str
    rows: list[Row]
    sort_key: Callable[[Row], Any]
    id_field: str
    derived: dict[str, Any] = field(default_factory=dict)  # figures computed from the rows
    behind: int = 0  # writes mended in since it was published

    def __post_init__(self) -> None:
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
        self.derived = {}

    def value(self) -> Any:
        return self.rows


@dataclass
class _Tally:
    """The county's numbers on one date (``graphsvc.summary.flatten``'s shape)."""

    version: str
    counts: dict[str, int]
    behind: int = 0

    def mend(self, delta: Counter[str], version: str) -> None:
        counts = dict(self.counts)
        for k, v in delta.items():
            counts[k] = counts.get(k, 0) + v
        self.counts = counts
        self.version = version

    def value(self) -> Any:
        return self.counts


class Published:
    """The results one process computed, for the others: ``<folder>/<name>.marshal`` holding
    (data version, value), replaced atomically; ``<name>.lock`` taken (``flock``) by the
    process computing it; ``computations.jsonl`` a line per full computation."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        if folder is not None:
            try:
                folder.mkdir(parents=True, exist_ok=True, mode=0o700)  # household data
            except OSError:  # kept in this process only: slower with several workers, not wrong
                log.warning("cannot use %s for results shared between workers", folder,
                            exc_info=True)
                self.folder = None

    def load(self, name: str) -> tuple[str, Any] | None:
        if self.folder is None:
            return None
        try:
            with (self.folder / f"{name}.marshal").open("rb") as fh:
                version, value = marshal.load(fh)
        except (OSError, EOFError, ValueError, TypeError):
            return None
        return str(version), value

    def publish(self, name: str, version: str, value: Any) -> None:
        if self.folder is None:
            return
        path = self.folder / f"{name}.marshal"
        tmp = path.with_name(f".{name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # household data
            with os.fdopen(fd, "wb") as fh:
                marshal.dump((version, value), fh)
            os.replace(tmp, path)
        except OSError:  # a result not shared is computed again elsewhere, nothing worse
            log.warning("could not publish %s in %s", name, self.folder, exc_info=True)
            with contextlib.suppress(OSError):
                tmp.unlink()

    @contextlib.contextmanager
    def computing(self, name: str, *, wait: bool = True) -> Iterator[bool]:
        """Hold ``name``'s lock across processes (yields False when ``wait`` is off and
        another process holds it)."""
        if self.folder is None:
            yield True
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)  # (deleted meanwhile)
            fd = os.open(self.folder / f"{name}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:  # not shared this time: computed here, nothing worse
            log.warning("cannot lock %s in %s", name, self.folder, exc_info=True)
            yield True
            return
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                yield False
                return
            yield True
        finally:
            os.close(fd)  # (releases the lock)

    def record(self, entry: dict[str, Any]) -> None:
        if self.folder is None:
            return
        line = json.dumps(entry, default=str) + "\n"
        with contextlib.suppress(OSError), \
                open(self.folder / "computations.jsonl", "a", encoding="utf-8") as fh:
            fh.write(line)  # one short append: whole lines, whatever the process


class Derived(Store):
    """``store`` with its county-wide reads answered from kept results (see the module).

    ``folder``: where results are published for other processes (``<data dir>/derived``;
    None: kept in this process only). ``owns``: close ``store`` on ``close``."""

    def __init__(self, store: Store, folder: Path | None = None, *, max_dates: int = 3,
                 owns: bool = True) -> None:
        self.store = store
        self.kind = store.kind
        self.parallel_reads = store.parallel_reads
        self.published = Published(folder)
        self.owns = owns
        # a date's results are about 135 MB at ten counties (104,000 household rows): only the
        # dates asked for last are kept (today, in practice)
        self.max_dates = max_dates
        self._entries: OrderedDict[Hashable, _Rows | _Tally] = OrderedDict()
        self._lock = threading.Lock()
        self._key_locks: dict[Hashable, threading.Lock] = {}
        # full computations per (kind, date); hits, mends (readers following writes), loads
        # (a result another process published), drops (the store could not tell the change)
        self.computed: Counter[tuple[str, str]] = Counter()
        self.hits = self.mends = self.loads = self.drops = 0

    def __getattr__(self, name: str) -> Any:
        # what only one store has (Neo4jStore.query, EmbeddedStore.path, ...)
        if name == "store":
            raise AttributeError(name)
        return getattr(self.store, name)

    def counters(self) -> dict[str, Any]:
        """The counts of this process: full computations per kind and date, hits, mends,
        loads and drops."""
        with self._lock:
            return {"full_computations": {f"{k}@{d}": n for (k, d), n in self.computed.items()},
                    "hits": self.hits, "mends": self.mends, "loads": self.loads,
                    "drops": self.drops}

    # -- the county-wide reads -----------------------------------------------------------------

    def households(self, as_of: dt.date, rules: RuleSettings, *, township_id: str | None = None,
                   village_id: str | None = None, status: str | None = None,
                   reason: str | None = None, focus_only: bool = False, limit: int | None = None,
                   offset: int = 0, household_ids: Collection[str] | None = None,
                   member_ids: Collection[str] | None = None) -> tuple[int, list[dict[str, Any]]]:
        if county_wide(township_id, village_id, household_ids, member_ids):
            rows = self._rows("households", as_of, rules)
            total, page = page_of(rows, status=status, reason=reason, focus_only=focus_only,
                                  limit=limit, offset=offset)
            return total, copy_rows(page)
        return self.store.households(as_of, rules, township_id=township_id,
                                     village_id=village_id, status=status, reason=reason,
                                     focus_only=focus_only, limit=limit, offset=offset,
                                     household_ids=household_ids, member_ids=member_ids)

    def summary(self, as_of: dt.date, rules: RuleSettings | None = None, *,
                township_id: str | None = None) -> dict[str, Any]:
        if township_id is not None:
            return self.store.summary(as_of, rules, township_id=township_id)
        out = unflatten(dict(self._tally(as_of)), as_of)
        if rules is not None:
            e = self._entry("households", as_of, rules)
            assert isinstance(e, _Rows)
            counts = e.derived.get("status_counts")
            if counts is None:  # once per version
                counts = e.derived["status_counts"] = counts_of(e.rows)
            out.update({k: dict(v) for k, v in counts.items()})
        return out

    def delegate_audit(self, as_of: dt.date, rules: RuleSettings, *, township_id: str | None = None,
                       village_id: str | None = None,
                       ids: Collection[str] | None = None) -> list[dict[str, Any]]:
        if county_wide(township_id, village_id, ids):
            return copy_rows(self._rows("delegates", as_of, rules))
        return self.store.delegate_audit(as_of, rules, township_id=township_id,
                                         village_id=village_id, ids=ids)

    def member_audit(self, as_of: dt.date, rules: RuleSettings, *, township_id: str | None = None,
                     village_id: str | None = None,
                     ids: Collection[str] | None = None) -> list[dict[str, Any]]:
        if county_wide(township_id, village_id, ids):
            return copy_rows(self._rows("members", as_of, rules))
        return self.store.member_audit(as_of, rules, township_id=township_id,
                                       village_id=village_id, ids=ids)

    def committee_member_audit(self, as_of: dt.date, rules: RuleSettings, *,
                               township_id: str | None = None, village_id: str | None = None,
                               ids: Collection[str] | None = None) -> list[dict[str, Any]]:
        if county_wide(township_id, village_id, ids):
            return copy_rows(self._rows("committee_members", as_of, rules))
        return self.store.committee_member_audit(as_of, rules, township_id=township_id,
                                                 village_id=village_id, ids=ids)

    def close(self) -> None:
        if self.owns:
            self.store.close()

    # -- everything else is the store's --------------------------------------------------------

    def ping(self) -> None:
        self.store.ping()

    def fetch_entities(self, ids: Iterable[str]) -> dict[str, tuple[Kind, Record]]:
        return self.store.fetch_entities(ids)

    def fetch_links(self, name: str,
                    keys: Iterable[tuple[str, ...]]) -> dict[tuple[str, ...], Record]:
        return self.store.fetch_links(name, keys)

    def versions(self, ids: Iterable[str]) -> dict[str, str]:
        return self.store.versions(ids)

    def write(self, bundle: Bundle, *, replace: bool = False, progress: Progress | None = None,
              expect: Mapping[str, str] | None = None, audit: Audit | None = None) -> None:
        # the store records the change in its change log; readers follow it from there
        self.store.write(bundle, replace=replace, progress=progress, expect=expect, audit=audit)

    def audit_entries(self, *, since: str | None = None, until: str | None = None,
                      key_id: str | None = None, subject: str | None = None,
                      action: str | None = None, limit: int = 100,
                      offset: int = 0) -> tuple[int, list[dict[str, Any]]]:
        return self.store.audit_entries(since=since, until=until, key_id=key_id,
                                        subject=subject, action=action, limit=limit,
                                        offset=offset)

    def data_version(self) -> str:
        return self.store.data_version()

    def changes(self, since: str, now: str | None = None) -> Changes | None:
        return self.store.changes(since, now)

    def status_rows(self, kind: str, as_of: dt.date, rules: RuleSettings,
                    ids: Collection[str] | None = None) -> list[Row]:
        return self.store.status_rows(kind, as_of, rules, ids)

    def county_counts(self, as_of: dt.date) -> tuple[str, dict[str, int]]:
        return self.store.county_counts(as_of)

    def refresh(self) -> str:
        return self.store.refresh()

    def warm_up(self) -> None:
        self.store.warm_up()

    def records(self) -> dict[str, list[Record]]:
        return self.store.records()

    def household(self, household_id: str, as_of: dt.date,
                  rules: RuleSettings) -> dict[str, Any]:
        return self.store.household(household_id, as_of, rules)

    def pairing_audit(self, as_of: dt.date, *,
                      township_id: str | None = None) -> dict[str, list[str]]:
        return self.store.pairing_audit(as_of, township_id=township_id)

    def impact(self, person_id: str, as_of: dt.date,
               rules: RuleSettings) -> list[dict[str, Any]]:
        return self.store.impact(person_id, as_of, rules)

    def pairing_network(self, as_of: dt.date, *,
                        township_id: str | None = None) -> dict[str, Any]:
        return self.store.pairing_network(as_of, township_id=township_id)

    def graph(self) -> Graph:
        return self.store.graph()

    # -- the analyses' reads (never kept here: each is one read of the store) ------------------

    def repair_people(self, as_of: dt.date, township_ids: Sequence[str] | None,
                      ids: Iterable[str] = ()) -> Facts:
        return self.store.repair_people(as_of, township_ids, ids)

    def repair_households(self, as_of: dt.date, rules: RuleSettings,
                          township_id: str | None) -> list[dict[str, Any]]:
        return self.store.repair_households(as_of, rules, township_id)

    def risk_page(self, as_of: dt.date, rules: RuleSettings, *, township_id: str | None = None,
                  focus_weight: int, limit: int | None = None,
                  offset: int = 0) -> tuple[int, list[dict[str, Any]]]:
        return self.store.risk_page(as_of, rules, township_id=township_id,
                                    focus_weight=focus_weight, limit=limit, offset=offset)

    def households_below(self, person_id: str, as_of: dt.date) -> list[str]:
        return self.store.households_below(person_id, as_of)

    def chain_households(self, *, township_id: str | None = None, village_id: str | None = None,
                         household_ids: Collection[str] | None = None,
                         contacts: tuple[dt.date, dt.date] | None = None,
                         requests_until: dt.date | None = None) -> dict[str, HouseholdData]:
        return self.store.chain_households(township_id=township_id, village_id=village_id,
                                           household_ids=household_ids, contacts=contacts,
                                           requests_until=requests_until)

    def chain_people(self, ids: Iterable[str]) -> dict[str, PersonData]:
        return self.store.chain_people(ids)

    # -- kept results ------------------------------------------------------------------------

    def _rows(self, kind: str, as_of: dt.date, rules: RuleSettings) -> list[Row]:
        e = self._entry(kind, as_of, rules)
        assert isinstance(e, _Rows)
        return e.rows

    def _tally(self, as_of: dt.date) -> dict[str, int]:
        def full() -> tuple[str, Any]:
            return self.store.county_counts(as_of)

        def mend(e: _Rows | _Tally, ch: Changes) -> bool:
            delta = ch.deltas.get(as_of)
            if delta is None or not isinstance(e, _Tally):
                return False
            e.mend(delta, ch.version)
            return True

        e = self._get(("summary", as_of), f"summary-{as_of}", full,
                      lambda v, value: _Tally(v, value), mend)
        assert isinstance(e, _Tally)
        return e.counts

    def _entry(self, kind: str, as_of: dt.date, rules: RuleSettings) -> _Rows | _Tally:
        order, idf = sort_key(kind, rules), ROW_KINDS[kind][0]
        which = ROW_KINDS[kind][1]

        def full() -> tuple[str, Any]:
            # labelled with the version before: a write committing during the computation is
            # mended in afterwards, and recomputing a row twice gives the same row
            version = self.store.data_version()
            return version, self.store.status_rows(kind, as_of, rules)

        def mend(e: _Rows | _Tally, ch: Changes) -> bool:
            ids = ch.households if which == "households" else ch.people
            if len(ids) > MEND_LIMIT or not isinstance(e, _Rows):
                return False
            fresh = self.store.status_rows(kind, as_of, rules, ids) if ids else []
            e.mend(ids, fresh, ch.version)
            return True

        digest = hashlib.sha1(repr(rules).encode()).hexdigest()[:12]
        return self._get((kind, as_of, rules), f"{kind}-{as_of}-{digest}", full,
                         lambda v, value: _Rows(v, value, order, idf), mend)

    def _get(self, key: Hashable, name: str, full: Callable[[], tuple[str, Any]],
             make: Callable[[str, Any], _Rows | _Tally],
             mend: Callable[[_Rows | _Tally, Changes], bool]) -> _Rows | _Tally:
        """The kept entry of ``key`` for the data version now: kept here (mended), published
        by another process (loaded and mended), or computed in full by ``full``."""
        version = self.store.data_version()
        if not version:  # a store never written to (or emptied behind our back): nothing kept
            return make(*full())
        name = f"{self.kind}-{name}"
        with self._lock:
            lock = self._key_locks.setdefault(key, threading.Lock())
        with lock:  # one thread of this process follows or computes a key at a time
            with self._lock:
                e = self._entries.get(key)
            if e is not None:
                if e.version == version:
                    with self._lock:
                        self.hits += 1
                        self._entries.move_to_end(key)
                    return e
                if self._follow(e, mend, name, version):
                    return e
                with self._lock:
                    self.drops += 1
                    self._entries.pop(key, None)
            e = self._load(name, make, mend)
            if e is None:
                with self.published.computing(name):
                    e = self._load(name, make, mend)  # published while we waited
                    if e is None:
                        e = self._compute(key, name, full, make)
            self._keep(key, e)
            # a county's rows are a million objects without cycles (freed by their reference
            # counts): out of the cyclic collector's passes, which would otherwise walk them all
            # again and again, holding every request of the process for a second each time
            if isinstance(e, _Rows) and len(e.rows) > FREEZE_ROWS:
                gc.freeze()
            return e

    def _follow(self, e: _Rows | _Tally, mend: Callable[[_Rows | _Tally, Changes], bool],
                name: str, now: str | None = None) -> bool:
        """Mend ``e`` from the store's change log up to the version now (``now``, when just
        read); False when the store cannot tell what changed."""
        try:
            ch = self.store.changes(e.version, now)
            if ch is None:
                return self._dropped(name, e.version, "the change log cannot tell")
            if ch.writes == 0 or ch.version == e.version:
                return True
            if not mend(e, ch):
                return self._dropped(name, e.version, f"{ch.writes} write(s) not mendable")
        except Exception as exc:  # the store failing mid-way: computed afresh (or the error)
            log.warning("could not mend a kept county-wide result; dropping it", exc_info=True)
            return self._dropped(name, e.version, f"{type(exc).__name__}: {exc}")
        with self._lock:
            self.mends += 1
        e.behind += ch.writes
        if e.behind > REPUBLISH_AFTER:  # keep the published one within the change log's reach
            with self.published.computing(name, wait=False) as mine:
                if mine:
                    self.published.publish(name, e.version, e.value())
                    e.behind = 0
        return True

    def _dropped(self, name: str, version: str, why: str) -> bool:
        """False, after saying why a kept result (at ``version``) could not be mended."""
        log.info("cannot mend %s from version %s: %s", name, version, why)
        self.published.record({"event": "dropped", "pid": os.getpid(), "name": name,
                               "version": version, "why": why})
        return False

    def _load(self, name: str, make: Callable[[str, Any], _Rows | _Tally],
              mend: Callable[[_Rows | _Tally, Changes], bool]) -> _Rows | _Tally | None:
        t0 = time.monotonic()
        found = self.published.load(name)
        if found is None:
            return None
        e = make(*found)
        loaded = time.monotonic() - t0
        if not self._follow(e, mend, name):
            return None
        with self._lock:
            self.loads += 1
        log.info("loaded %s in %.1f s and mended it in %.1f s", name, loaded,
                 time.monotonic() - t0 - loaded)
        self.published.record({"event": "loaded", "pid": os.getpid(), "name": name,
                               "seconds": round(loaded, 3),
                               "mended_s": round(time.monotonic() - t0 - loaded, 3)})
        return e

    def _compute(self, key: Hashable, name: str, full: Callable[[], tuple[str, Any]],
                 make: Callable[[str, Any], _Rows | _Tally]) -> _Rows | _Tally:
        t0 = time.monotonic()
        version, value = full()
        seconds = time.monotonic() - t0
        e = make(version, value)
        kind, day = str(key[0]), str(key[1])  # type: ignore[index]
        with self._lock:
            self.computed[(kind, day)] += 1
        log.info("computed %s on %s for the whole county in %.1f s (version %s)", kind, day,
                 seconds, version)
        self.published.record({"event": "computed", "pid": os.getpid(), "kind": kind,
                               "date": day,
                               "seconds": round(seconds, 3), "version": version,
                               "at": dt.datetime.now(dt.UTC).isoformat()})
        if version:
            self.published.publish(name, version, value)
        return e

    def _keep(self, key: Hashable, e: _Rows | _Tally) -> None:
        if not e.version:
            return
        with self._lock:
            self._entries[key] = e
            self._entries.move_to_end(key)
            recent: list[Any] = []
            for k in reversed(self._entries):  # the dates, most recently used first
                if k[1] not in recent:  # type: ignore[index]
                    recent.append(k[1])  # type: ignore[index]
            for k in [k for k in self._entries
                      if k[1] not in recent[:self.max_dates]]:  # type: ignore[index]
                del self._entries[k]

    def clear(self) -> None:
        """Forget what this process keeps (not what it published)."""
        with self._lock:
            self._entries.clear()
