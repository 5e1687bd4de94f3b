"""The embedded store: SQLite (standard library) keeps the record, NetworkX is the engine.

No server needed. The database file is ``GRAPHSVC_DATA_DIR/graphsvc.sqlite3``;
each import is one SQLite transaction, so a crash (even ``kill -9``) leaves
the store as it was before the import. The NetworkX graph is built from the
tables on demand and kept across writes: every write records its rows in the ``change``
table, in its own transaction, and a process whose graph is older than the data version
applies the rows written since to it (``graphsvc.stores.incremental``) instead of building it
again. The same change log tells any process what a write changed (``Store.changes``), for
the county-wide results kept above the store (``graphsvc.derived``).
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import logging
import sqlite3
import threading
import uuid
from collections import Counter, OrderedDict
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

from graphsvc import rules as R
from graphsvc.auditlog import from_row, to_row, version
from graphsvc.bundle.schema import (
    ENTITY_SPECS,
    FILES,
    SPECS,
    Column,
    FileSpec,
    contact_key,
    link_key,
)
from graphsvc.bundle.validate import Bundle, Record
from graphsvc.errors import NotFound, StoreError, StoreUnavailable, VersionConflict
from graphsvc.files import private_dir, private_file, tighten
from graphsvc.graph import Graph, build_graph
from graphsvc.model import Kind
from graphsvc.rules import RuleError, RuleSettings
from graphsvc.stores import graphreads
from graphsvc.stores.base import (
    CHANGES_KEPT,
    MEND_LIMIT,
    TALLY_DATES_KEPT,
    Audit,
    Changes,
    Progress,
    Row,
    Store,
    page_of,
)
from graphsvc.stores.graphreads import Facts, HouseholdData, PersonData
from graphsvc.stores.incremental import affected, apply_bundle, tallied, touched
from graphsvc.summary import flatten, summarize, tally

SCHEMA_VERSION = 1
log = logging.getLogger(__name__)


def _sql_type(col: Column) -> str:
    return {"bool": "INTEGER", "int": "INTEGER"}.get(col.type, "TEXT")


def _to_sql(col: Column, v: Any) -> Any:
    if v is None:
        return None
    t = col.type
    if t == "date":
        return v.isoformat()
    if t == "bool":
        return 1 if v else 0
    if t == "list":
        return ";".join(v)
    return v


def _from_sql(col: Column, v: Any) -> Any:
    t = col.type
    if t == "list":
        return v.split(";") if v else []
    if v is None:
        return None
    if t == "date":
        return dt.date.fromisoformat(v)
    if t == "bool":
        return bool(v)
    return v


def _ddl(spec: FileSpec) -> str:
    cols = [f'"{c.name}" {_sql_type(c)}' for c in spec.columns]
    if spec.group == "entity":
        cols[0] = '"id" TEXT PRIMARY KEY'
        return f'CREATE TABLE IF NOT EXISTS "{spec.name}" ({", ".join(cols)}) WITHOUT ROWID'
    return (f'CREATE TABLE IF NOT EXISTS "{spec.name}" ("key" TEXT PRIMARY KEY, {", ".join(cols)})'
            " WITHOUT ROWID")


class EmbeddedStore(Store):
    """SQLite + NetworkX. Safe to share between threads.

    Two connections: one for reads (under ``_lock``, with the kept graph), one for writes
    (under ``_wlock``). A write's transaction holds only the write lock, so reads (and the
    county-wide results mended from the change log) go on while a clerk's write runs: they
    see the data as committed before it (SQLite's WAL), and the write's graph afterwards."""

    kind = "embedded"

    def __init__(self, data_dir: str | Path) -> None:
        self.path = Path(data_dir) / "graphsvc.sqlite3"
        try:
            # every household's name, phone and address is in here: the owner's only (SQLite
            # makes the -wal and -shm files with the database's mode)
            private_dir(self.path.parent)
            private_file(self.path)
            for extra in ("-wal", "-shm"):
                tighten(self.path.with_name(self.path.name + extra))
            self._local = threading.local()  # .writing: this thread is in a write (_writing)
            self._rdb = self._connect()
            self._wdb = self._connect()
            self._create()
        except (sqlite3.Error, OSError) as exc:
            raise StoreUnavailable(f"cannot open the embedded store at {self.path}: {exc}") from exc
        self._lock = threading.RLock()  # the read connection and the kept graph
        self._wlock = threading.RLock()  # the write connection: one write at a time
        self._graph: Graph | None = None
        self._graph_version: str | None = None
        # how each write this process followed (or made) changed the county's numbers on the
        # kept dates, computed from its graphs before and after: for a write whose own process
        # had no graph to tell (its change log row has no deltas)
        self._deltas: OrderedDict[str, dict[str, dict[str, int]]] = OrderedDict()
        self._unrecorded: list[str] = []  # of those, writes whose change log row has none
        # the last answers of changes(): the county-wide results follow together, each asks
        self._answers: OrderedDict[tuple[str, str], Changes | None] = OrderedDict()
        self.graph_builds = 0  # full builds of the graph (for tests and benchmarks)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA foreign_keys=OFF")
        return db

    @property
    def _db(self) -> sqlite3.Connection:
        """The connection of this thread: the write connection inside a write (its reads see
        what it wrote so far), else the read connection."""
        return self._wdb if getattr(self._local, "writing", False) else self._rdb

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """The write lock held, and this thread's statements on the write connection."""
        with self._wlock:
            self._local.writing = True
            try:
                yield self._wdb
            finally:
                self._local.writing = False

    def _reading(self) -> AbstractContextManager[Any]:
        """What a read of the database holds: the read lock, or nothing inside a write (its
        reads are on the write connection, under the write lock: they must not wait for the
        readers, whom nothing holds back)."""
        return nullcontext() if getattr(self._local, "writing", False) else self._lock

    def _create(self) -> None:
        with self._db:
            self._db.execute("BEGIN")
            self._db.execute('CREATE TABLE IF NOT EXISTS "entity" '
                             '("id" TEXT PRIMARY KEY, "kind" TEXT NOT NULL) WITHOUT ROWID')
            # the stamp of the last write naming the record (auditlog.version): a store made
            # before stamps were kept gets the column; its records have none until written
            if "stamp" not in {r[1] for r in self._db.execute('PRAGMA table_info("entity")')}:
                self._db.execute('ALTER TABLE "entity" ADD COLUMN "stamp" TEXT')
            self._db.execute('CREATE TABLE IF NOT EXISTS "meta" '
                             '("name" TEXT PRIMARY KEY, "value" TEXT)')
            self._db.execute('CREATE TABLE IF NOT EXISTS "audit_log" '
                             '("id" TEXT PRIMARY KEY, "at" TEXT NOT NULL, "key_id" TEXT, '
                             '"action" TEXT NOT NULL, "entry" TEXT NOT NULL) WITHOUT ROWID')
            self._db.execute('CREATE INDEX IF NOT EXISTS "audit_log_at" ON "audit_log" ("at")')
            # the change log (Store.changes): per write, the versions before and after it and
            # the rows it wrote (NULL: everything may have changed), and how it changed the
            # county's numbers on the dates asked for (meta 'tally_dates')
            self._db.execute('CREATE TABLE IF NOT EXISTS "change" ("seq" INTEGER PRIMARY KEY, '
                             '"before" TEXT NOT NULL, "after" TEXT NOT NULL UNIQUE, '
                             '"bundle" TEXT, "deltas" TEXT)')
            self._db.execute('CREATE TABLE IF NOT EXISTS "audit_subject" ("subject" TEXT NOT NULL, '
                             '"entry_id" TEXT NOT NULL, PRIMARY KEY ("subject", "entry_id")) '
                             'WITHOUT ROWID')
            for spec in FILES:
                self._db.execute(_ddl(spec))
            self._db.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)",
                             (str(SCHEMA_VERSION),))
            self._db.execute("COMMIT")

    # -- reading -----------------------------------------------------------------------------

    def ping(self) -> None:
        try:
            with self._lock:
                self._db.execute("SELECT 1").fetchone()
        except sqlite3.Error as exc:
            raise StoreUnavailable(
                f"the embedded store at {self.path} cannot be read: {exc}") from exc

    def _rows(self, spec: FileSpec, where: str = "", params: Iterable[Any] = ()) -> list[Record]:
        names = ", ".join(f'"{c.name}"' for c in spec.columns)
        cur = self._db.execute(f'SELECT {names} FROM "{spec.name}" {where}', tuple(params))
        cols = spec.columns
        return [{c.name: _from_sql(c, v) for c, v in zip(cols, row)} for row in cur]

    def fetch_entities(self, ids: Iterable[str]) -> dict[str, tuple[Kind, Record]]:
        ids = list(ids)
        out: dict[str, tuple[Kind, Record]] = {}
        with self._reading():
            kinds: dict[str, list[str]] = {}
            for chunk in _chunks(ids, 900):
                marks = ",".join("?" * len(chunk))
                for rid, kind in self._db.execute(
                        f"SELECT id, kind FROM entity WHERE id IN ({marks})", chunk):
                    kinds.setdefault(kind, []).append(rid)
            for kind, kids in kinds.items():
                spec = ENTITY_SPECS[Kind(kind)]
                for chunk in _chunks(kids, 900):
                    marks = ",".join("?" * len(chunk))
                    for rec in self._rows(spec, f"WHERE id IN ({marks})", chunk):
                        out[rec["id"]] = (Kind(kind), rec)
        return out

    def versions(self, ids: Iterable[str]) -> dict[str, str]:
        ids = list(ids)
        with self._reading():
            found = self.fetch_entities(ids)
            stamps: dict[str, str | None] = {}
            for chunk in _chunks(ids, 900):
                marks = ",".join("?" * len(chunk))
                stamps.update(self._db.execute(
                    f"SELECT id, stamp FROM entity WHERE id IN ({marks})", chunk).fetchall())
        return {rid: version(rec, stamps.get(rid)) for rid, (_, rec) in found.items()}

    def fetch_links(self, name: str,
                    keys: Iterable[tuple[str, ...]]) -> dict[tuple[str, ...], Record]:
        spec = SPECS[name]
        out: dict[tuple[str, ...], Record] = {}
        keymap = {link_key(spec, dict(zip(spec.key, k))): k for k in keys}
        with self._reading():
            for chunk in _chunks(list(keymap), 900):
                marks = ",".join("?" * len(chunk))
                for rec in self._rows(spec, f"WHERE key IN ({marks})", chunk):
                    out[tuple(rec[k] for k in spec.key)] = rec
        return out

    def data_version(self) -> str:
        with self._lock:
            return self._token()

    def _token(self) -> str:
        try:
            row = self._db.execute("SELECT value FROM meta WHERE name = 'data_version'").fetchone()
        except sqlite3.Error as exc:
            raise StoreUnavailable(
                f"the embedded store at {self.path} cannot be read: {exc}") from exc
        return row[0] if row else ""

    def audit_entries(self, *, since: str | None = None, until: str | None = None,
                      key_id: str | None = None, subject: str | None = None,
                      action: str | None = None, limit: int = 100,
                      offset: int = 0) -> tuple[int, list[dict[str, Any]]]:
        where, params = [], []
        for clause, value in (('"at" >= ?', since), ('"at" < ?', until), ('"key_id" = ?', key_id),
                              ('"action" = ?', action)):
            if value is not None:
                where.append(clause)
                params.append(value)
        if subject is not None:
            where.append('"id" IN (SELECT "entry_id" FROM "audit_subject" WHERE "subject" = ?)')
            params.append(subject)
        cond = ("WHERE " + " AND ".join(where)) if where else ""
        with self._reading():
            total = self._db.execute(f'SELECT count(*) FROM "audit_log" {cond}',
                                     params).fetchone()[0]
            rows = self._db.execute(f'SELECT "entry" FROM "audit_log" {cond} '
                                    'ORDER BY "at" DESC, "id" DESC LIMIT ? OFFSET ?',
                                    [*params, limit, offset]).fetchall()
        return int(total), [from_row(r[0]) for r in rows]

    def records(self) -> dict[str, list[Record]]:
        with self._reading():
            return {spec.name: self._rows(spec) for spec in FILES}

    def graph(self) -> Graph:
        return self._current()[1]

    def _current(self) -> tuple[str, Graph]:
        """(data version, the graph of the data at exactly that version). The graph is never
        changed once returned: a write makes a new one."""
        with self._lock:
            if self._graph is not None and self._token() == self._graph_version:
                return self._graph_version, self._graph
            # one read transaction: the version and the rows read for it are one snapshot
            # (or the caller's transaction, when it has one)
            own = not self._db.in_transaction
            if own:
                self._db.execute("BEGIN")
            try:
                version = self._token()
                try:
                    G = self._follow(version)
                except Exception:  # a build is the answer to anything odd in the log
                    log.exception("could not follow the change log; building the graph")
                    G = None
                if G is None:
                    G = build_graph(self.records())
                    self.graph_builds += 1
                    # millions of dicts and no cycles: kept out of the cyclic collector's full
                    # passes (seconds each, holding every request of the process)
                    if G.number_of_nodes() > 100_000:
                        gc.freeze()
            finally:
                if own:
                    self._db.execute("COMMIT")
            self._graph, self._graph_version = G, version
            if own:
                self._write_back()
            return version, G

    def _write_back(self) -> None:
        """The deltas this process computed for writes whose change log row has none, stored
        there for the other processes (best effort: they compute the county's numbers again
        without them)."""
        if not self._unrecorded or not self._wlock.acquire(blocking=False):
            return  # (a write is running: the next time)
        todo, self._unrecorded = self._unrecorded, []
        try:
            with self._writing() as db, db:
                db.executemany('UPDATE "change" SET "deltas" = ? WHERE "after" = ? '
                                     'AND "deltas" IS NULL',
                                     [(json.dumps(self._deltas[a]), a) for a in todo
                                      if a in self._deltas])
        except sqlite3.Error:
            log.warning("could not record the deltas of followed writes", exc_info=True)
        finally:
            self._wlock.release()

    def warm_up(self) -> None:
        self._current()

    def _follow(self, version: str) -> Graph | None:
        """The kept graph brought forward to ``version`` by the rows written since (read from
        the change log inside the caller's transaction); None when only a full build can tell
        (the log does not reach back, or a write changed everything or added a township,
        village or organisation)."""
        if self._graph is None or self._graph_version is None:
            return None
        if version == self._graph_version:
            return self._graph
        rows = self._changes_after(self._graph_version)
        if not rows or rows[-1][1] != version:
            return None
        G: Graph | None = self._graph
        dates = [dt.date.fromisoformat(d) for d in self._tally_dates()]
        for _, after, bundle, recorded in rows:
            if bundle is None or G is None:
                return None
            written = _decode(bundle)
            G1 = apply_bundle(G, written)
            if G1 is not None:
                self._remember(after, _tally_deltas(G, G1, written, dates))
                if recorded is None and dates:
                    self._unrecorded.append(after)
            G = G1
        return G

    def _remember(self, after: str, deltas: dict[dt.date, Counter[str]]) -> None:
        self._deltas[after] = {d.isoformat(): {k: v for k, v in c.items() if v}
                               for d, c in deltas.items()}
        while len(self._deltas) > CHANGES_KEPT:
            self._deltas.popitem(last=False)

    def _changes_after(self, since: str) -> list[tuple[str, str, str | None, str | None]] | None:
        """The change log's rows (before, after, bundle, deltas) of the writes after ``since``,
        in order; None when ``since`` is not in the log or the chain of versions is broken."""
        found = self._db.execute('SELECT "seq" FROM "change" WHERE "after" = ?',
                                 (since,)).fetchone()
        if found is None:
            return None
        rows = self._db.execute('SELECT "before", "after", "bundle", "deltas" FROM "change" '
                                'WHERE "seq" > ? ORDER BY "seq"', (found[0],)).fetchall()
        prev = since
        for before, after, _, _ in rows:
            if before != prev:
                return None
            prev = after
        return [(r[0], r[1], r[2], r[3]) for r in rows]

    def changes(self, since: str, now: str | None = None) -> Changes | None:
        with self._lock:
            # the graph first: following the log computes the numbers' deltas of the writes
            # whose writer could not (below, up to the version the graph is at)
            version, G = self._current()
            if (since, version) in self._answers:  # (callers do not change the answer)
                return self._answers[(since, version)]
            self._db.execute("BEGIN")
            try:
                rows = [] if since == version else self._changes_after(since)
            finally:
                self._db.execute("COMMIT")
            known = {r[1]: self._deltas.get(r[1], {}) for r in rows or ()}
        # the rest works on the rows read and the graph of that version (never changed once
        # made): other readers need not wait for it
        out = self._changes(since, version, G, rows, known)
        with self._lock:
            self._answers[(since, version)] = out
            while len(self._answers) > 16:
                self._answers.popitem(last=False)
        return out

    def _changes(self, since: str, version: str, G: Graph,
                 rows: list[tuple[str, str, str | None, str | None]] | None,
                 known: dict[str, dict[str, dict[str, int]]]) -> Changes | None:
        """``changes(since)`` from the change log's ``rows`` after it, up to ``version``, whose
        graph is ``G``; ``known``: the deltas this process computed, per version."""
        if rows is None:
            return None
        upto = next((i for i, r in enumerate(rows) if r[1] == version), None)
        if rows and upto is None:
            return None
        rows = rows[:upto + 1] if upto is not None else []
        out = Changes(version, writes=len(rows))
        if not rows:
            return out
        ids: set[str] = set()
        deltas: dict[str, Counter[str]] | None = None
        for _, after, bundle, dated in rows:
            if bundle is None:
                return None
            written, everything = touched(_decode(bundle))
            if everything:
                return None
            ids |= written
            # recorded by the writer, or computed here when this process followed it
            found = json.loads(dated) if dated else known.get(after, {})
            mine = {day: Counter(d) for day, d in found.items()}
            if deltas is None:
                deltas = mine
            else:  # a date not recorded by every write: unknown
                for day in [d for d in deltas if d not in mine]:
                    del deltas[day]
                for day, d in deltas.items():
                    d.update(mine[day])  # (update keeps negative counts; + would not)
        if len(ids) > MEND_LIMIT:
            return None
        # liaisons are never deleted, only ended: the graph now holds every link there was
        out.households, out.people = affected(G, ids)
        out.deltas = {dt.date.fromisoformat(day): d for day, d in (deltas or {}).items()}
        return out

    def status_rows(self, kind: str, as_of: dt.date, rules: RuleSettings,
                    ids: Collection[str] | None = None) -> list[Row]:
        G = self.graph()
        if kind == "households":
            return R.household_statuses(G, as_of, rules, household_ids=ids)
        audit = {"delegates": R.delegate_audit, "members": R.member_audit,
                 "committee_members": R.committee_member_audit}[kind]
        return audit(G, as_of, rules, ids=ids)

    def _tally_dates(self) -> list[str]:
        row = self._db.execute("SELECT value FROM meta WHERE name = 'tally_dates'").fetchone()
        return list(json.loads(row[0])) if row else []

    def county_counts(self, as_of: dt.date) -> tuple[str, dict[str, int]]:
        day = as_of.isoformat()
        for _ in range(3):  # another process may write between the graph and the registration
            version, G = self._current()
            with self._writing() as db:
                try:
                    db.execute("BEGIN IMMEDIATE")
                    dates = self._tally_dates()
                    if day not in dates:  # every write from now on records its delta on it
                        dates = (dates + [day])[-TALLY_DATES_KEPT:]
                        db.execute("INSERT OR REPLACE INTO meta VALUES ('tally_dates', ?)",
                                   (json.dumps(dates),))
                    now = self._token()
                    db.execute("COMMIT")
                except sqlite3.Error as exc:
                    if db.in_transaction:
                        db.execute("ROLLBACK")
                    raise StoreError(f"the embedded store could not be read: {exc}") from exc
            if now == version:
                return version, flatten(summarize(G, as_of))
        return "", flatten(summarize(self.graph(), as_of))  # "": not to be kept

    def refresh(self) -> str:
        with self._writing() as db:
            try:
                db.execute("BEGIN IMMEDIATE")
                before, after = self._token(), uuid.uuid4().hex
                db.execute("INSERT OR REPLACE INTO meta VALUES ('data_version', ?)", (after,))
                self._log_change(before, after, None, None)
                db.execute("COMMIT")
            except sqlite3.Error as exc:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise StoreError(f"the embedded store could not be refreshed: {exc}") from exc
        return after

    def _log_change(self, before: str, after: str, bundle: Bundle | None,
                    deltas: dict[dt.date, Counter[str]] | None) -> None:
        """The change log's row of a write (inside its transaction), and the oldest pruned."""
        cur = self._db.execute(
            'INSERT INTO "change" ("before", "after", "bundle", "deltas") VALUES (?, ?, ?, ?)',
            (before, after, None if bundle is None else _encode(bundle),
             None if deltas is None else json.dumps(
                 {d.isoformat(): {k: v for k, v in c.items() if v} for d, c in deltas.items()})))
        self._db.execute('DELETE FROM "change" WHERE "seq" <= ?',
                         ((cur.lastrowid or 0) - CHANGES_KEPT,))

    def summary(self, as_of: dt.date, rules: RuleSettings | None = None, *,
                township_id: str | None = None) -> dict[str, Any]:
        G = self.graph()
        out = summarize(G, as_of, township_id=township_id)
        if rules is not None:
            out.update(R.status_counts(R.household_statuses(G, as_of, rules,
                                                            township_id=township_id)))
        return out

    def households(self, as_of: dt.date, rules: RuleSettings, *, township_id: str | None = None,
                   village_id: str | None = None, status: str | None = None,
                   reason: str | None = None, focus_only: bool = False, limit: int | None = None,
                   offset: int = 0, household_ids: Collection[str] | None = None,
                   member_ids: Collection[str] | None = None) -> tuple[int, list[dict[str, Any]]]:
        if household_ids is not None:
            member_ids = None  # as the Cypher statement: the households asked for win
        return page_of(R.household_statuses(self.graph(), as_of, rules, township_id=township_id,
                                            village_id=village_id, household_ids=household_ids,
                                            member_ids=member_ids),
                       status=status, reason=reason, focus_only=focus_only, limit=limit,
                       offset=offset)

    def household(self, household_id: str, as_of: dt.date, rules: RuleSettings) -> dict[str, Any]:
        try:
            return R.household_detail(self.graph(), household_id, as_of, rules)
        except RuleError as exc:
            raise NotFound(str(exc)) from None

    def delegate_audit(self, as_of: dt.date, rules: RuleSettings, *, township_id: str | None = None,
                       village_id: str | None = None,
                       ids: Collection[str] | None = None) -> list[dict[str, Any]]:
        return R.delegate_audit(self.graph(), as_of, rules, township_id=township_id,
                                village_id=village_id, ids=ids)

    def member_audit(self, as_of: dt.date, rules: RuleSettings, *, township_id: str | None = None,
                     village_id: str | None = None,
                     ids: Collection[str] | None = None) -> list[dict[str, Any]]:
        return R.member_audit(self.graph(), as_of, rules, township_id=township_id,
                              village_id=village_id, ids=ids)

    def committee_member_audit(self, as_of: dt.date, rules: RuleSettings, *,
                               township_id: str | None = None, village_id: str | None = None,
                               ids: Collection[str] | None = None) -> list[dict[str, Any]]:
        return R.committee_member_audit(self.graph(), as_of, rules, township_id=township_id,
                                        village_id=village_id, ids=ids)

    def pairing_audit(self, as_of: dt.date, *,
                      township_id: str | None = None) -> dict[str, list[str]]:
        return R.pairing_audit(self.graph(), as_of, township_id=township_id)

    def impact(self, person_id: str, as_of: dt.date, rules: RuleSettings) -> list[dict[str, Any]]:
        try:
            return R.impact(self.graph(), person_id, as_of, rules)
        except RuleError as exc:
            raise NotFound(str(exc)) from None

    # -- writing -----------------------------------------------------------------------------

    def write(self, bundle: Bundle, *, replace: bool = False, progress: Progress | None = None,
              expect: Mapping[str, str] | None = None,
              audit: Audit | None = None) -> None:
        """The transaction, recording its change in the change log (``Store.changes``). Readers
        of every process follow it from there, so the write does nothing more."""
        total = bundle.count()
        small = not replace and total <= MEND_LIMIT
        done = 0
        with self._writing() as db:
            try:
                db.execute("BEGIN IMMEDIATE")  # the write lock first: what we read now holds
                before = self._token()
                if expect:
                    found = self.versions(expect)
                    for rid, tag in expect.items():
                        if found.get(rid) != tag:
                            raise VersionConflict(rid, found.get(rid))
                # the audit entry's old values: read now, under the write lock, before any row
                entry = audit() if callable(audit) else audit
                if replace:
                    db.execute("DELETE FROM entity")
                    for spec in FILES:
                        db.execute(f'DELETE FROM "{spec.name}"')
                # a new data version, committed with the data (random: never repeats); also
                # the stamp of every record written (auditlog.version)
                after = uuid.uuid4().hex
                for spec in FILES:
                    rows = bundle.rows(spec.name)
                    if not rows:
                        continue
                    self._write_file(spec, rows, after)
                    done += len(rows)
                    if progress:
                        progress(spec.name, done, total)
                db.execute("INSERT OR REPLACE INTO meta VALUES ('data_version', ?)", (after,))
                if entry:
                    row = to_row(entry)
                    db.execute('INSERT INTO "audit_log" VALUES (?, ?, ?, ?, ?)',
                               (row["id"], row["at"], row["key_id"], row["action"], row["entry"]))
                    db.executemany('INSERT OR IGNORE INTO "audit_subject" VALUES (?, ?)',
                                   [(x, row["id"]) for x in row["subjects"]])
                # the graph and the county's numbers follow in every process, this one too, from
                # the change log (_follow): nothing of them is worked out under the write lock,
                # which every write waits for
                self._log_change(before, after, bundle if small else None, None)
                db.execute("COMMIT")
            except BaseException as exc:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise StoreError(
                        f"the embedded store could not save the import: {exc}") from exc
                raise

    def _write_file(self, spec: FileSpec, rows: list[Record], stamp: str) -> None:
        db = self._db
        cols = spec.columns
        names = ", ".join(f'"{c.name}"' for c in cols)
        marks = ", ".join("?" * len(cols))
        if spec.group == "entity":
            updates = ", ".join(f'"{c.name}" = excluded."{c.name}"' for c in cols[1:])
            db.executemany(
                f'INSERT INTO "{spec.name}" ({names}) VALUES ({marks}) '
                f"ON CONFLICT(id) DO UPDATE SET {updates}",
                ([_to_sql(c, r[c.name]) for c in cols] for r in rows),
            )
            kind = spec.kind.value  # type: ignore[union-attr]
            db.executemany("INSERT INTO entity (id, kind, stamp) VALUES (?, ?, ?) "
                           "ON CONFLICT(id) DO UPDATE SET stamp = excluded.stamp",
                           ((r["id"], kind, stamp) for r in rows))
            return
        keyf = contact_key if spec.group == "contact" else (lambda r: link_key(spec, r))
        values = ([keyf(r)] + [_to_sql(c, r[c.name]) for c in cols] for r in rows)
        if spec.group == "contact":
            db.executemany(
                f'INSERT OR IGNORE INTO "{spec.name}" (key, {names}) VALUES (?, {marks})', values)
        else:
            db.executemany(
                f'INSERT INTO "{spec.name}" (key, {names}) VALUES (?, {marks}) '
                'ON CONFLICT(key) DO UPDATE SET "since" = excluded."since", '
                '"until" = excluded."until"',
                values,
            )

    def close(self) -> None:
        with self._wlock, self._lock:
            self._wdb.close()
            self._rdb.close()

    # -- the reads of the analyses: graphsvc.stores.graphreads over the graph -----------------

    def repair_people(self, as_of: dt.date, township_ids: Sequence[str] | None,
                      ids: Iterable[str] = ()) -> Facts:
        return graphreads.repair_people(self.graph(), as_of, township_ids, ids)

    def risk_page(self, as_of: dt.date, rules: RuleSettings, *, township_id: str | None = None,
                  focus_weight: int, limit: int | None = None,
                  offset: int = 0) -> tuple[int, list[dict[str, Any]]]:
        return graphreads.risk_page(self.graph(), as_of, rules, township_id=township_id,
                                    focus_weight=focus_weight, limit=limit, offset=offset)

    def households_below(self, person_id: str, as_of: dt.date) -> list[str]:
        return graphreads.households_below(self.graph(), person_id, as_of)

    def chain_households(self, *, township_id: str | None = None, village_id: str | None = None,
                         household_ids: Collection[str] | None = None,
                         contacts: tuple[dt.date, dt.date] | None = None,
                         requests_until: dt.date | None = None) -> dict[str, HouseholdData]:
        return graphreads.chain_households(self.graph(), township_id=township_id,
                                           village_id=village_id, household_ids=household_ids,
                                           contacts=contacts, requests_until=requests_until)

    def chain_people(self, ids: Iterable[str]) -> dict[str, PersonData]:
        return graphreads.chain_people(self.graph(), ids)


def _tally_deltas(G0: Graph, G1: Graph, bundle: Bundle,
                  dates: list[dt.date]) -> dict[dt.date, Counter[str]]:
    """How writing ``bundle`` (``G0`` before, ``G1`` after) changed the county's numbers on
    each of ``dates``: the written records' tally after less before."""
    ids = tallied(bundle)
    out = {}
    for day in dates:
        d = tally(G1, day, ids)
        d.subtract(tally(G0, day, ids))
        out[day] = d
    return out


def _encode(bundle: Bundle) -> str:
    """A bundle's rows as the change log keeps them (JSON of the columns' SQL values)."""
    return json.dumps({spec.name: [[_to_sql(c, r.get(c.name)) for c in spec.columns]
                                   for r in bundle.rows(spec.name)]
                       for spec in FILES if bundle.rows(spec.name)}, ensure_ascii=False)


def _decode(text: str) -> Bundle:
    return Bundle({name: [{c.name: _from_sql(c, v) for c, v in zip(SPECS[name].columns, row)}
                          for row in rows] for name, rows in json.loads(text).items()})


def _chunks(items: list[Any], n: int) -> Iterable[list[Any]]:
    for i in range(0, len(items), n):
        yield items[i : i + n]
