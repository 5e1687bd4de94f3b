"""The Neo4j store: one driver per process, managed transactions, UNWIND batches.

Every statement lives in ``cypher/`` (see ``graphsvc.cypher``); the model is drawn
in ``docs/model.md``. Driver errors become ``StoreUnavailable``/``StoreError``
here, and values leave as plain Python (``neo4j.time.Date`` -> ``datetime.date``).
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
import uuid
from collections import Counter, OrderedDict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

import neo4j
from neo4j import GraphDatabase, ManagedTransaction, RoutingControl
from neo4j.exceptions import (
    AuthError,
    DriverError,
    Neo4jError,
    ServiceUnavailable,
    SessionExpired,
)

from graphsvc import rules as R
from graphsvc.auditlog import from_row, to_row, version
from graphsvc.bundle.schema import (
    ENTITY_SPECS,
    FILES,
    SPECS,
    FileSpec,
    contact_key,
    link_key,
)
from graphsvc.bundle.validate import Bundle, Record
from graphsvc.config import Settings
from graphsvc.cypher import Queries, queries
from graphsvc.errors import ConfigError, NotFound, StoreError, StoreUnavailable, VersionConflict
from graphsvc.graph import KIND_LABELS
from graphsvc.model import FOCUS_CATEGORIES, LIAISON_KINDS, REASONS, STATUSES, Kind, township_of
from graphsvc.rules import RuleSettings
from graphsvc.stores.base import (
    CHANGES_KEPT,
    MEND_LIMIT,
    TALLY_DATES_KEPT,
    Audit,
    Changes,
    Progress,
    Row,
    Store,
)
from graphsvc.stores.graphreads import (
    Facts,
    HouseholdData,
    Link,
    PersonData,
    RequestRow,
)
from graphsvc.stores.incremental import tallied, touched
from graphsvc.summary import unflatten

T = TypeVar("T")
_LABEL_KIND = {label: kind for kind, label in KIND_LABELS.items()}
_LIAISON_FILE = {k: "liaisons_" + k.replace("-", "_") for k in LIAISON_KINDS}
# a write of at most this many rows and records locks the records it writes and takes the lock
# of the data version only to commit (Neo4jStore.write); a larger one takes that lock first
LOCKED_WRITE_LIMIT = 1_000

# the coverage rules (graphsvc.rules is the reference), one statement each under cypher/rules/
RULE_STATEMENTS = ("household_statuses", "household_detail", "delegate_audit", "member_audit",
                   "committee_member_audit", "pairing_audit", "impact_below")
_RECENT_CONTACTS = 20  # rules.household_detail's default
# the reads of the analyses (graphsvc.stores.graphreads is the reference), under cypher/analysis/
ANALYSIS_STATEMENTS = ("repair_people", "repair_households", "risks", "risks_township",
                       "requests_below", "requests_households", "trends_households",
                       "trends_people")


def _pairs(r: neo4j.Record) -> list[tuple[str, Any]]:
    """A record's (key, value) pairs as the driver holds them (no copy of nested values)."""
    pairs: list[tuple[str, Any]] = r.items()  # type: ignore[no-untyped-call]  # (unannotated)
    return pairs


def _native(v: Any) -> Any:
    if isinstance(v, neo4j.time.Date):
        return v.to_native()
    if isinstance(v, neo4j.time.DateTime):
        return v.to_native().date()
    return v


def _iso(v: Any) -> str | None:
    """A stored date as the ISO text the rules give (None stays None)."""
    return None if v is None else _native(v).isoformat()


def _date(v: str | None) -> dt.date | None:
    """A date the analysis statements send as YYYY-MM-DD text (the driver decodes text much
    faster than its own date objects)."""
    return None if v is None else dt.date.fromisoformat(v)


def _links(rows: Iterable[Any]) -> list[Link]:
    return [(r[0], _date(r[1]), _date(r[2])) for r in rows]


def _record(spec: FileSpec, props: dict[str, Any]) -> Record:
    """A stored map as a complete record of ``spec`` (absent properties = absent values)."""
    out: Record = {}
    for col in spec.columns:
        v = props.get(col.name)
        if v is None:
            out[col.name] = [] if col.type == "list" else None
        elif col.type == "list":
            out[col.name] = list(v)
        else:
            out[col.name] = _native(v)
    return out



def answers(uri: str, timeout: float = 2.0) -> None:
    """Raise ``StoreUnavailable`` unless something accepts connections at the URI's address.

    The driver would retry a refused connection for 30 seconds; this says so at once.
    """
    parts = urlsplit(uri)
    host, port = parts.hostname or "localhost", parts.port or 7687
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as exc:
        raise StoreUnavailable(f"Neo4j at {uri} cannot be reached: {exc.strerror or exc}") from None

class Neo4jStore(Store):
    """A Neo4j 5 server (Community or Enterprise), reached with the official driver."""

    kind = "neo4j"
    parallel_reads = True  # each statement runs on the server, on a core of its own

    # every statement this class runs, checked when the store opens
    REQUIRED = (
        ["schema", "summary", "import/delete_all", "import/organization_parents", "fetch/entities"]
        + ["fetch/any_data", "fetch/existing_ids", "fetch/existing_contacts"]
        + [f"import/{p}{s.name}" for s in FILES if s.name != "liaisons" for p in ("", "create_")]
        + [f"import/{p}{n}" for n in _LIAISON_FILE.values() for p in ("", "create_")]
        + [f"fetch/{n}" for n in _LIAISON_FILE.values()]
        + ["fetch/pairings", "fetch/supports"]
        + [f"export/{s.name}" for s in FILES]
        + [f"rules/{n}" for n in RULE_STATEMENTS]
        + ["rules/pairing_network", "meta/data_version", "meta/hold",
           "meta/commit", "meta/audit_list", "meta/tally", "meta/stamp",
           "meta/changes", "meta/count_date"]
        + [f"analysis/{n}" for n in ANALYSIS_STATEMENTS]
    )

    def __init__(self, uri: str, user: str | None, password: str | None,
                 database: str | None = None, *, batch_size: int = 10_000,
                 queries_: Queries | None = None) -> None:
        self.q = queries_ or queries()
        self.q.require(self.REQUIRED)
        # the write transaction of this thread, while its audit entry reads the old values
        # (Store.write's ``audit``): those reads run in it, under its locks
        self._local = threading.local()
        # the last answers of changes(): the county-wide results follow together, each asks
        self._answers: OrderedDict[tuple[str, str], Changes | None] = OrderedDict()
        self._answers_lock = threading.Lock()
        self.database = database or None
        self.batch_size = batch_size
        auth = (user or "neo4j", password) if password is not None else None
        try:
            # short timeouts: when the server is gone, a request should hear 503 in seconds,
            # not after the driver's default 30 s of retries
            self.driver = GraphDatabase.driver(
                uri, auth=auth, max_connection_lifetime=3600, connection_timeout=5.0,
                connection_acquisition_timeout=10.0, max_transaction_retry_time=5.0,
                # "property key does not exist" on an empty database is noise, not news
                notifications_min_severity="OFF")
        except (ValueError, DriverError) as exc:
            raise ConfigError(f"GRAPHSVC_NEO4J_URI '{uri}' is not usable: {exc}") from exc
        self.uri = uri
        try:
            self.ensure_schema()
        except BaseException:
            self.driver.close()
            raise

    @classmethod
    def from_settings(cls, s: Settings) -> Neo4jStore:
        if not s.neo4j_uri:
            raise ConfigError("GRAPHSVC_NEO4J_URI is not set")
        return cls(s.neo4j_uri, s.neo4j_user, s.neo4j_password, s.neo4j_database,
                   batch_size=s.import_batch_size)

    # -- plumbing ----------------------------------------------------------------------------

    @contextmanager
    def _translate(self, doing: str) -> Iterator[None]:
        try:
            yield
        except AuthError as exc:
            raise StoreUnavailable(
                f"Neo4j at {self.uri} refused the user name or password while {doing}; "
                "check GRAPHSVC_NEO4J_USER and GRAPHSVC_NEO4J_PASSWORD") from exc
        except (ServiceUnavailable, SessionExpired, ConnectionError, OSError) as exc:
            raise StoreUnavailable(
                f"Neo4j at {self.uri} cannot be reached while {doing}: {exc}") from exc
        except Neo4jError as exc:
            raise StoreError(f"Neo4j failed while {doing}: {exc.message or exc}") from exc
        except DriverError as exc:
            raise StoreUnavailable(f"the Neo4j driver failed while {doing}: {exc}") from exc

    def _records(self, name: str, params: dict[str, Any]) -> list[neo4j.Record]:
        text = self.q.text(name, params)
        tx: ManagedTransaction | None = getattr(self._local, "tx", None)
        if tx is not None:  # inside this thread's write (its errors are the write's)
            return list(tx.run(text, params))
        with self._translate(f"running {name}"):
            records, _, _ = self.driver.execute_query(
                text, params, database_=self.database, routing_=RoutingControl.READ)
        return records

    def _read(self, name: str, **params: Any) -> list[dict[str, Any]]:
        return [r.data() for r in self._records(name, params)]

    def _read_values(self, name: str, **params: Any) -> list[dict[str, Any]]:
        """``_read`` for statements that return no nodes or relationships, only values, maps and
        lists: the driver's values as they come (``Record.data()`` would copy them all again)."""
        return [dict(_pairs(r)) for r in self._records(name, params)]

    def _write_tx(self, work: Callable[[ManagedTransaction], T], doing: str) -> T:
        with self._translate(doing), self.driver.session(database=self.database) as session:
            return session.execute_write(work)

    def ensure_schema(self) -> None:
        """Create the constraints and indexes of ``cypher/schema.cypher`` (idempotent)."""
        with self._translate("creating the schema"):
            for stmt in self.q.statements("schema"):
                self.driver.execute_query(stmt, database_=self.database)

    def ping(self) -> None:
        answers(self.uri)
        with self._translate("checking the connection"):
            self.driver.verify_connectivity()

    def close(self) -> None:
        self.driver.close()

    def audit_entries(self, *, since: str | None = None, until: str | None = None,
                      key_id: str | None = None, subject: str | None = None,
                      action: str | None = None, limit: int = 100,
                      offset: int = 0) -> tuple[int, list[dict[str, Any]]]:
        (r,) = self._read_values("meta/audit_list", since=since, until=until, key_id=key_id,
                                 subject=subject, action=action, limit=limit, offset=offset)
        return int(r["total"]), [from_row(e) for e in r["page"]]

    def data_version(self) -> str:
        rows = self._read_values("meta/data_version")
        return str(rows[0]["version"] or "") if rows else ""

    # -- reading -----------------------------------------------------------------------------

    def fetch_entities(self, ids: Iterable[str]) -> dict[str, tuple[Kind, Record]]:
        out: dict[str, tuple[Kind, Record]] = {}
        all_ids = list(ids)
        for i in range(0, len(all_ids), 50_000):
            for row in self._read("fetch/entities", ids=all_ids[i : i + 50_000]):
                kind = next((_LABEL_KIND[lb] for lb in row["labels"] if lb in _LABEL_KIND), None)
                if kind is None:
                    continue
                rec = _record(ENTITY_SPECS[kind], row["rec"])
                out[rec["id"]] = (kind, rec)
        return out

    def versions(self, ids: Iterable[str]) -> dict[str, str]:
        return _versions(self._read("fetch/entities", ids=list(ids)))

    def fetch_links(self, name: str,
                    keys: Iterable[tuple[str, ...]]) -> dict[tuple[str, ...], Record]:
        spec = SPECS[name]
        groups: dict[str, list[tuple[str, ...]]] = {}
        for key in keys:
            file = _LIAISON_FILE[key[0]] if name == "liaisons" else name
            groups.setdefault(file, []).append(key)
        out: dict[tuple[str, ...], Record] = {}
        for file, ks in groups.items():
            bykey = {link_key(spec, dict(zip(spec.key, k))): k for k in ks}
            for row in self._read(f"fetch/{file}", keys=list(bykey)):
                key = bykey[row["key"]]
                rec = dict(zip(spec.key, key))
                rec["since"], rec["until"] = _native(row["since"]), _native(row["until"])
                out[key] = rec
        return out

    def records(self) -> dict[str, list[Record]]:
        return {spec.name: [_record(spec, row["rec"]) for row in self._read(f"export/{spec.name}")]
                for spec in FILES}

    def summary(self, as_of: dt.date, rules: RuleSettings | None = None, *,
                township_id: str | None = None) -> dict[str, Any]:
        (r,) = self._read_values("summary", as_of=as_of, focus_categories=list(FOCUS_CATEGORIES),
                                 township_id=township_id)
        out = unflatten({k: int(v) for k, v in r.items()}, as_of)
        if rules is not None:
            s = self._statuses(as_of, rules, township_id=township_id, limit=0)
            out["households_by_status"] = {k: s[k] for k in STATUSES}
            out["uncovered_by_reason"] = {k: s[k] for k in REASONS}
        return out

    # -- what writes changed, for results derived from the data (graphsvc.derived) ----------

    def status_rows(self, kind: str, as_of: dt.date, rules: RuleSettings,
                    ids: Collection[str] | None = None) -> list[Row]:
        if kind == "households":
            if ids is not None and not ids:
                return []
            rows: list[dict[str, Any]] = self._statuses(
                as_of, rules, household_ids=None if ids is None else sorted(ids),
                counts=False)["page"]
            return rows
        audit = {"delegates": self._delegate_audit, "members": self._member_audit,
                 "committee_members": self._committee_member_audit}[kind]
        return audit(as_of, rules, None, None, ids)

    def county_counts(self, as_of: dt.date) -> tuple[str, dict[str, int]]:
        q = self.q

        def work(tx: ManagedTransaction) -> tuple[str, dict[str, int]]:
            found = tx.run(q.text("meta/count_date", ["day", "keep"]), day=as_of.isoformat(),
                           keep=TALLY_DATES_KEPT).single()
            r = tx.run(q.text("summary", ["as_of", "focus_categories", "township_id"]),
                       as_of=as_of, focus_categories=list(FOCUS_CATEGORIES),
                       township_id=None).single(strict=True)
            return (str(found["version"] or "") if found else "",
                    {k: int(v) for k, v in _pairs(r)})

        return self._write_tx(work, "counting the county")

    def changes(self, since: str, now: str | None = None) -> Changes | None:
        if now is not None and since != now:  # the kept kinds follow together: asked once
            with self._answers_lock:
                if (since, now) in self._answers:
                    return self._answers[(since, now)]
        (r,) = self._read_values("meta/changes", since=since, limit=MEND_LIMIT)
        version = str(r["version"])
        if since == version:
            return Changes(version)
        if not r["found"]:
            return None
        with self._answers_lock:
            if (since, version) in self._answers:  # (callers do not change the answer)
                return self._answers[(since, version)]
        out = self._changes(since, version, r)
        if out is not None and out.version != version:  # (partial: asked again next time)
            return out
        with self._answers_lock:
            self._answers[(since, version)] = out
            while len(self._answers) > 16:
                self._answers.popitem(last=False)
        return out

    def _changes(self, since: str, version: str, r: Mapping[str, Any]) -> Changes | None:
        """``changes(since)`` from meta/changes's answer ``r``."""
        out = Changes(version)
        prev = since
        deltas: dict[str, Counter[str]] | None = None
        for c in r["changes"]:
            if prev == version:  # (a write committed while the log was read: the next time)
                break
            if c["before"] != prev or c["everything"]:
                return None
            prev = c["after"]
            out.writes += 1
            if c["ids"] is None:  # an entry of an earlier graphsvc, walked by its writer
                out.households.update(c["household_ids"] or ())
                out.people.update(c["person_ids"] or ())
            mine = {day: Counter(d) for day, d in json.loads(c["deltas"]).items()} \
                if c["deltas"] else {}
            if deltas is None:
                deltas = mine
            else:  # a date not recorded by every write: unknown
                for day in [d for d in deltas if d not in mine]:
                    del deltas[day]
                for day, d in deltas.items():
                    d.update(mine[day])  # (update keeps negative counts; + would not)
        if r["too_many"]:
            return None
        # a write committing while the log was read can show its new version before its entry
        # (Neo4j reads committed data, not a snapshot): the changes up to the last entry read
        out.version = prev
        # the rows they can change (walked from the ids of every entry read: when a write
        # committed meanwhile, from more than these, which recomputes a few rows more)
        out.households.update(r["household_ids"])
        out.people.update(r["person_ids"])
        out.deltas = {dt.date.fromisoformat(day): d for day, d in (deltas or {}).items()}
        return out

    def refresh(self) -> str:
        after = str(uuid.uuid4())

        def work(tx: ManagedTransaction) -> str:
            tx.run(self.q.text("meta/hold")).consume()
            self._commit(tx, after, everything=True)
            return after

        return self._write_tx(work, "refreshing the data version")

    def _commit(self, tx: ManagedTransaction, after: str, *, everything: bool,
                ids: Collection[str] = (), deltas: dict[dt.date, Counter[str]] | None = None,
                unlocked: int | None = None, locks_records: bool = False,
                stamped: Sequence[str] = (), audit: Mapping[str, Any] | None = None) -> None:
        """The write's last statement (meta/commit): the new data version ``after``, its change
        log entry (``ids``: the people and households written or linked; ``everything``: any
        row may have changed; ``deltas``: the county's numbers' change on the kept dates, None
        when not known), the stamps of ``stamped`` and the ``audit`` entry."""
        tx.run(self.q.text("meta/commit", ["after", "everything", "ids", "deltas", "unlocked",
                                           "locks_records", "keep", "stamped", "audit"]),
               after=after, everything=everything, ids=sorted(ids),
               deltas=None if deltas is None else json.dumps(
                   {d.isoformat(): {k: v for k, v in c.items() if v} for d, c in deltas.items()}),
               unlocked=unlocked, locks_records=locks_records, keep=CHANGES_KEPT,
               stamped=list(stamped), audit=None if audit is None else to_row(audit)).consume()

    # -- the coverage rules (COVERAGE_RULES.md; graphsvc.rules is the reference) ------------

    def _statuses(self, as_of: dt.date, rules: RuleSettings, *,
                  household_ids: list[str] | None = None,
                  member_ids: Collection[str] | None = None, township_id: str | None = None,
                  village_id: str | None = None,
                  excluded: str | None = None, status: str | None = None, reason: str | None = None,
                  focus_only: bool = False, limit: int | None = None, offset: int = 0,
                  counts: bool = True) -> dict[str, Any]:
        """One run of rules/household_statuses: total, page (rows as the rules give them), counts
        (those of covered and stale are None unless ``counts``)."""
        (r,) = self._read_values(
            "rules/household_statuses", as_of=as_of, focus_categories=list(rules.focus_categories),
            stale_after_days=rules.stale_after_days,
            household_ids=None if household_ids is None else list(dict.fromkeys(household_ids)),
            member_ids=None if member_ids is None else sorted(set(member_ids)),
            township_id=township_id, village_id=village_id, excluded=excluded, status=status,
            reason=reason, focus_only=bool(focus_only), limit=limit, offset=offset,
            counts=counts)
        r["page"] = [{
            "household_id": x["household_id"],
            "village_id": x["village_id"],
            "township_id": x["township_id"],
            "categories": list(x["categories"]),
            "focus": x["focus"],
            "status": x["status"],
            "reason": x["reason"],
            "last_contact": _iso(x["last_contact"]),
            "member_ids": list(x["member_ids"]),
        } for x in r["page"]]
        return r

    def households(self, as_of: dt.date, rules: RuleSettings, *, township_id: str | None = None,
                   village_id: str | None = None, status: str | None = None,
                   reason: str | None = None, focus_only: bool = False, limit: int | None = None,
                   offset: int = 0, household_ids: Collection[str] | None = None,
                   member_ids: Collection[str] | None = None) -> tuple[int, list[dict[str, Any]]]:
        r = self._statuses(as_of, rules, township_id=township_id, village_id=village_id,
                           household_ids=None if household_ids is None else sorted(household_ids),
                           member_ids=member_ids, status=status, reason=reason,
                           focus_only=focus_only, limit=limit, offset=offset, counts=False)
        return r["total"], r["page"]

    def household(self, household_id: str, as_of: dt.date, rules: RuleSettings) -> dict[str, Any]:
        found = self._read_values("rules/household_detail", household_id=household_id, as_of=as_of,
                           recent=_RECENT_CONTACTS)
        if not found:
            raise NotFound(f"no household with id '{household_id}'")
        d = found[0]
        a = d["household"]
        people = {p["id"]: p for p in d["people"]}

        def brief(pid: str) -> dict[str, Any]:
            p = people[pid]
            return {"id": pid, "name": p["name"], "roles": list(p["roles"]), "active": p["active"],
                    "township_id": p["township_id"]}

        page = self._statuses(as_of, rules, household_ids=[household_id])["page"]
        row = page[0] if page else R.inactive_row(
            household_id, a, d["township_id"], [c["member_id"] for c in d["chains"]], rules)
        chains = [{**brief(c["member_id"]), "delegates": [
            {**brief(x["delegate_id"]),
             "committee_members": [brief(c) for c in x["committee_member_ids"]]}
            for x in c["delegates"]]} for c in d["chains"]]
        return R.detail_body(
            row, a, as_of, d["village_name"], chains,
            cadres=[{**brief(c["id"]), "since": _iso(c["since"]), "until": _iso(c["until"])}
                    for c in d["cadres"]],
            units=[{"id": u["id"], "name": u["name"], "sector": u["sector"],
                    "since": _iso(u["since"]), "until": _iso(u["until"])} for u in d["units"]],
            contacts=[{"person_id": c["person_id"], "person_name": c["person_name"],
                       "date": _iso(c["date"]), "channel": c["channel"],
                       "request": c["request"], "resolved": bool(c["resolved"])}
                      for c in d["contacts"]])

    def delegate_audit(self, as_of: dt.date, rules: RuleSettings, *, township_id: str | None = None,
                       village_id: str | None = None,
                       ids: Collection[str] | None = None) -> list[dict[str, Any]]:
        return self._delegate_audit(as_of, rules, township_id, village_id, ids)

    def _delegate_audit(self, as_of: dt.date, rules: RuleSettings, township_id: str | None,
                        village_id: str | None,
                        ids: Collection[str] | None) -> list[dict[str, Any]]:
        return [{
            "delegate_id": r["delegate_id"],
            "name": r["name"],
            "township_id": r["township_id"],
            "committee_member_ids": r["committee_member_ids"],
            "member_ids": r["member_ids"],
            "member_count": r["member_count"],
            "households_reached": r["households_reached"],
            "focus_households_reached": r["focus_households_reached"],
            "members_short": r["members_short"],
            "problems": r["problems"],
            "status": r["status"],
        } for r in self._read_values(
            "rules/delegate_audit", as_of=as_of, township_id=township_id, village_id=village_id,
            ids=_ids(ids),
            focus_categories=list(rules.focus_categories),
            households_per_member=rules.households_per_member,
            min_members_per_delegate=rules.min_members_per_delegate)]

    def member_audit(self, as_of: dt.date, rules: RuleSettings, *, township_id: str | None = None,
                     village_id: str | None = None,
                     ids: Collection[str] | None = None) -> list[dict[str, Any]]:
        return self._member_audit(as_of, rules, township_id, village_id, ids)

    def _member_audit(self, as_of: dt.date, rules: RuleSettings, township_id: str | None,
                      village_id: str | None, ids: Collection[str] | None) -> list[dict[str, Any]]:
        return [{
            "member_id": r["member_id"],
            "name": r["name"],
            "township_id": r["township_id"],
            "household_count": r["household_count"],
            "delegate_ids": r["delegate_ids"],
            "problems": r["problems"],
        } for r in self._read_values(
            "rules/member_audit", as_of=as_of, township_id=township_id, village_id=village_id,
            ids=_ids(ids),
            households_per_member=rules.households_per_member)]

    def committee_member_audit(self, as_of: dt.date, rules: RuleSettings, *,
                               township_id: str | None = None, village_id: str | None = None,
                               ids: Collection[str] | None = None) -> list[dict[str, Any]]:
        return self._committee_member_audit(as_of, rules, township_id, village_id, ids)

    def _committee_member_audit(self, as_of: dt.date, rules: RuleSettings, township_id: str | None,
                                village_id: str | None,
                                ids: Collection[str] | None) -> list[dict[str, Any]]:
        return [{
            "committee_member_id": r["committee_member_id"],
            "name": r["name"],
            "township_id": r["township_id"],
            "delegate_ids": r["delegate_ids"],
            "delegate_count": r["delegate_count"],
            "households_reached": r["households_reached"],
            "problems": r["problems"],
        } for r in self._read_values(
            "rules/committee_member_audit", as_of=as_of, township_id=township_id,
            village_id=village_id, ids=_ids(ids),
            min_delegates_per_committee_member=rules.min_delegates_per_committee_member)]

    def pairing_audit(self, as_of: dt.date, *,
                      township_id: str | None = None) -> dict[str, list[str]]:
        (r,) = self._read_values("rules/pairing_audit", as_of=as_of, township_id=township_id)
        return {"unpaired_villages": r["unpaired_villages"], "idle_units": r["idle_units"]}

    def pairing_network(self, as_of: dt.date, *, township_id: str | None = None) -> dict[str, Any]:
        """``Store.pairing_network`` in one statement, without exporting the whole graph."""
        (r,) = self._read_values("rules/pairing_network", as_of=as_of, township_id=township_id)
        # Cypher maps come back in no set key order: give the default's order (JSON output)
        fields = {"townships": ("id", "name"),
                  "villages": ("id", "name", "township_id", "needs_pairing"),
                  "units": ("id", "name", "sector"),
                  "pairings": ("unit_id", "village_id", "since", "until")}
        return {key: [{f: _native(m[f]) for f in fs} for m in r[key]] for key, fs in fields.items()}

    def impact(self, person_id: str, as_of: dt.date, rules: RuleSettings) -> list[dict[str, Any]]:
        """Three runs: the households below the person; their statuses now; and, for those
        covered or stale now, their statuses with the person treated as inactive."""
        found = self._read_values("rules/impact_below", person_id=person_id)
        if not found:
            raise NotFound(f"no person with id '{person_id}'")
        below = found[0]["household_ids"]
        if not below:
            return []
        now = self._statuses(as_of, rules, household_ids=below)["page"]
        held = [r["household_id"] for r in now if r["status"] in ("covered", "stale")]
        if not held:
            return []
        after = self._statuses(as_of, rules, household_ids=held, excluded=person_id,
                               status="uncovered")["page"]
        return [{"household_id": r["household_id"], "reason": r["reason"]} for r in after]

    # -- writing -----------------------------------------------------------------------------

    def _plan(self, bundle: Bundle) -> list[_Step]:
        """The import's statements in the order they must run."""
        plan: list[_Step] = []
        for spec in FILES:
            rows = bundle.rows(spec.name)
            if not rows:
                continue
            if spec.group == "entity":
                plan.append(_Step(spec.name, spec.name, "fetch/existing_ids", "ids",
                                  [{**r} for r in rows], "id"))
                if spec.name == "organizations":
                    plan.append(_Step(spec.name, "", "", "", [
                        {"id": r["id"], "parent_id": r["parent_id"]} for r in rows], "id",
                        only="import/organization_parents"))
            elif spec.name == "liaisons":
                by_kind: dict[str, list[dict[str, Any]]] = {}
                for r in rows:
                    by_kind.setdefault(r["kind"], []).append({**r, "key": link_key(spec, r)})
                for kind, krows in by_kind.items():
                    name = _LIAISON_FILE[kind]
                    plan.append(_Step(spec.name, name, f"fetch/{name}", "keys", krows, "key"))
            elif spec.group == "link":
                plan.append(_Step(spec.name, spec.name, f"fetch/{spec.name}", "keys",
                                  [{**r, "key": link_key(spec, r)} for r in rows], "key"))
            else:
                plan.append(_Step(spec.name, "contacts", "fetch/existing_contacts", "keys",
                                  [{**r, "key": contact_key(r)} for r in rows], "key",
                                  update=False))
        return plan

    def write(self, bundle: Bundle, *, replace: bool = False, progress: Progress | None = None,
              expect: Mapping[str, str] | None = None,
              audit: Audit | None = None) -> None:
        """One managed transaction: new records are CREATEd, stored ones updated (MERGE).

        Writes commit one after the other: each ends with meta/commit, which takes the write
        lock of the data version node and records the write in the change log, which every
        process reads to follow it (``Store.changes``). A small write (a clerk's, up to
        ``LOCKED_WRITE_LIMIT`` records) holds that lock for that one statement only: it starts
        by locking the records it writes and counts (meta/tally), so that what ``expect`` checks,
        the audit entry's old values and the numbers it counts before and after cannot change
        under it, while writes of other records run side by side. A large import, and a small
        write creating a record, take the lock first (meta/hold)."""
        plan = self._plan(bundle)
        total = sum(len(step.rows) for step in plan if not step.only)
        written, everything = touched(bundle)
        everything = everything or replace or len(written) > MEND_LIMIT
        ids = sorted(tallied(bundle))
        small = not replace and len(ids) <= MEND_LIMIT
        locked = sorted(set(ids) | written)
        locking = small and total <= LOCKED_WRITE_LIMIT and len(locked) <= LOCKED_WRITE_LIMIT
        q = self.q

        def part(tx: ManagedTransaction, dates: list[str] | None,
                 lock: list[str] | None = None) -> tuple[list[str], int, dict[str, Counter[str]]]:
            """(the ids of ``lock`` found, ``unlocked``, the written records' tally on each of
            ``dates``, None: the kept dates), after locking the records ``lock``
            (meta/tally)."""
            if not lock and (dates == [] or not ids):  # nothing to lock, nothing to count
                return [], 0, {d: Counter() for d in dates or ()}
            rows = list(tx.run(q.text("meta/tally", ["ids", "lock", "dates", "focus_categories"]),
                               ids=ids, lock=lock or [], dates=dates,
                               focus_categories=list(FOCUS_CATEGORIES)))
            tallies = {str(r["day"]): Counter({k: int(v) for k, v in _pairs(r)
                                               if k not in ("day", "found", "unlocked")})
                       for r in rows if r["day"] is not None}
            return list(rows[0]["found"]), int(rows[0]["unlocked"]), tallies
        size = self.batch_size
        stamped = [r["id"] for spec in FILES if spec.group == "entity"
                   for r in bundle.rows(spec.name)]

        def work(tx: ManagedTransaction) -> None:
            self._local.tx = tx  # the audit entry's reads run in this transaction
            try:
                steps(tx)
            finally:
                self._local.tx = None

        def steps(tx: ManagedTransaction) -> None:
            after = str(uuid.uuid4())  # the data version this write makes
            # how the write changes the county's numbers on the kept dates: the written
            # records' tally after it less before it, both read under its locks
            unlocked: int | None = None
            if locking:
                present, unlocked, tallied_before = part(tx, None, locked)
                dates = list(tallied_before)
                if len(present) < len(locked):  # a new record: nothing to lock it by
                    tx.run(q.text("meta/hold")).consume()
                    unlocked = None
                    tallied_before = part(tx, dates)[2]  # (counted again under that lock)
            else:
                r = tx.run(q.text("meta/hold")).single(strict=True)
                dates = list(r["tally_dates"]) if small else []
                tallied_before = part(tx, dates)[2]
            if expect:
                found = _versions(tx.run(q.text("fetch/entities", ["ids"]), ids=list(expect)))
                for rid, tag in expect.items():
                    if found.get(rid) != tag:
                        raise VersionConflict(rid, found.get(rid))
            # the audit entry's old values: read now, under the write's locks, before any row
            # is written
            entry = audit() if callable(audit) else audit
            if replace:
                tx.run(q.text("import/delete_all")).consume()
                has_data = False
            else:  # (a few rows: the store is not asked whether it is empty)
                has_data = locking or bool(
                    tx.run(q.text("fetch/any_data")).single(strict=True)["any"])
            # a few records and contacts are MERGEd (import/<name> upserts them), nothing asked
            # first; else what is stored already is asked before anything is written: index
            # seeks are fast on committed data and slow against a large transaction state
            merged = [locking and (step.check == "fetch/existing_ids" or not step.update)
                      for step in plan]
            stored: list[set[str]] = [self._stored_keys(tx, step) if has_data and not merge
                                      else set() for step, merge in zip(plan, merged)]
            done = 0
            for step, known, merge in zip(plan, stored, merged):
                if step.only:
                    text = q.text(step.only, ["rows"])
                    for i in range(0, len(step.rows), size):
                        tx.run(text, rows=step.rows[i : i + size]).consume()
                    continue
                new, old = step.rows, []
                if merge:
                    new, old = [], step.rows
                elif known:
                    new = [r for r in step.rows if r[step.key] not in known]
                    old = [r for r in step.rows if r[step.key] in known]
                for name, rows in ((f"import/create_{step.name}", new),
                                   (f"import/{step.name}", old if step.update or merge
                                    else [])):
                    if not rows:
                        continue
                    text = q.text(name, ["rows"])
                    for i in range(0, len(rows), size):
                        tx.run(text, rows=rows[i : i + size]).consume()
                        done += min(size, len(rows) - i)
                        if progress:
                            progress(step.stage, done, total)
                if not step.update and old and not merge:
                    done += len(old)
            if not locking and stamped:  # new on every write, even of the same values
                text = q.text("meta/stamp", ["ids", "stamp"])
                for i in range(0, len(stamped), size):
                    tx.run(text, ids=stamped[i : i + size], stamp=after).consume()
            deltas: dict[dt.date, Counter[str]] | None = None
            if small:
                deltas = {}
                for day, now in part(tx, dates)[2].items():
                    now.subtract(tallied_before.get(day, Counter()))
                    deltas[dt.date.fromisoformat(day)] = now
            self._commit(tx, after, everything=everything, ids=() if everything else written,
                         deltas=deltas, unlocked=unlocked, locks_records=locking,
                         stamped=stamped if locking else (), audit=entry)

        self._write_tx(work, "writing the import")

    def _stored_keys(self, tx: ManagedTransaction, step: _Step) -> set[str]:
        if step.only:
            return set()
        check = self.q.text(step.check, [step.check_param])
        keys = [r[step.key] for r in step.rows]
        found: set[str] = set()
        for i in range(0, len(keys), 50_000):
            found.update(rec["key"]
                         for rec in tx.run(check, {step.check_param: keys[i : i + 50_000]}))
        return found

    # -- the reads of the analyses: cypher/analysis/ (graphsvc.stores.graphreads is the
    # -- reference) ---------------------------------------------------------------------------

    def repair_people(self, as_of: dt.date, township_ids: Sequence[str] | None,
                      ids: Iterable[str] = ()) -> Facts:
        (row,) = self._read_values(
            "analysis/repair_people", as_of=as_of,
            township_ids=None if township_ids is None else sorted(set(township_ids)),
            ids=sorted(set(ids)))
        # places by DATA_FORMAT.md, as graphreads reads them (rules.village_of, and the one
        # township rule, model.township_of, over the places the statement read)
        orgs = {o: (t, v) for o, t, v in row["organizations"]}
        places: dict[str, tuple[str, dict[str, Any]]] = {
            **{v: ("village", {"township_id": t}) for v, t in row["villages"]},
            **{o: ("organization", {"township_id": t, "village_id": v})
               for o, (t, v) in orgs.items()}}
        towns = None if township_ids is None else set(township_ids)
        out: Facts = {}
        for (pid, roles, village, town, org, wanted, load, above, delegates, cms, members,
             dels_below) in row["people"]:
            o = orgs.get(org) if org is not None else None
            places[pid] = ("person", {"township_id": town, "village_id": village,
                                      "organization_id": org})
            town = township_of(pid, places.get)
            if (towns is not None and not wanted and "committee_member" not in roles
                    and town not in towns):
                continue
            out[pid] = {
                "roles": roles,
                "village_id": village if village is not None or o is None else o[1],
                "township_id": town,
                "load": load,
                "delegates": sorted(delegates) if len(delegates) > 1 else delegates,
                "cms": sorted(cms) if len(cms) > 1 else cms,
                "members": sorted(members) if len(members) > 1 else members,
                "dels_below": sorted(dels_below) if len(dels_below) > 1 else dels_below,
                "in_chain": above or load > 0,
            }
        return out

    def repair_households(self, as_of: dt.date, rules: RuleSettings,
                          township_id: str | None) -> list[dict[str, Any]]:
        """The county is read with one set-wise statement (``analysis/repair_households``)
        rather than every household's status; a township as ``Store`` reads it."""
        if township_id is not None:
            return super().repair_households(as_of, rules, township_id)
        (row,) = self._read_values("analysis/repair_households", as_of=as_of)
        rows = [{"household_id": r["household_id"], "village_id": r["village_id"],
                 "township_id": r["township_id"], "categories": list(r["categories"] or ()),
                 "member_ids": sorted(r["member_ids"])}
                for r in row["households"]]
        rows.sort(key=lambda r: (-R.focus_count(r["categories"], rules), r["household_id"]))
        return rows

    def risk_page(self, as_of: dt.date, rules: RuleSettings, *, township_id: str | None = None,
                  focus_weight: int, limit: int | None = None,
                  offset: int = 0) -> tuple[int, list[dict[str, Any]]]:
        """The page is cut in the statement, so that only its people's names and townships are
        read."""
        params: dict[str, Any] = {"as_of": as_of, "focus_categories": list(rules.focus_categories),
                                  "focus_weight": focus_weight, "limit": limit, "offset": offset}
        if township_id is None:  # top-down over the county; bottom-up from a township's households
            (r,) = self._read_values("analysis/risks", **params)
        else:
            (r,) = self._read_values("analysis/risks_township", township_id=township_id, **params)
        rows = [{"person_id": x["person_id"], "name": x["name"], "roles": list(x["roles"] or ()),
                 "township_id": x["township_id"], "households_lost": int(x["households_lost"]),
                 "focus_households_lost": int(x["focus_households_lost"]),
                 "score": int(x["score"])}
                for x in r["page"]]
        rows.sort(key=lambda x: (-x["score"], x["person_id"]))
        return int(r["total"]), rows

    def households_below(self, person_id: str, as_of: dt.date) -> list[str]:
        rows = self._read_values("analysis/requests_below", person_id=person_id, as_of=as_of)
        if not rows:
            raise NotFound(f"no person with id '{person_id}'")
        return sorted(rows[0]["household_ids"])

    def chain_households(self, *, township_id: str | None = None, village_id: str | None = None,
                         household_ids: Collection[str] | None = None,
                         contacts: tuple[dt.date, dt.date] | None = None,
                         requests_until: dt.date | None = None) -> dict[str, HouseholdData]:
        scope = {"township_id": township_id, "village_id": village_id,
                 "household_ids": _ids(household_ids)}
        if requests_until is not None:
            rows = self._read_values("analysis/requests_households", **scope,
                                     last=requests_until)
        else:
            first, last = contacts if contacts else (dt.date.max, dt.date.min)
            rows = self._read_values("analysis/trends_households", **scope, first=first,
                                     last=last)
        households: dict[str, HouseholdData] = {}
        for r in rows:
            h = HouseholdData(r["id"], r["village_id"], r["township_id"], list(r["categories"]),
                              r["status"], _date(r["inactive_since"]), _links(r["members"]))
            if requests_until is not None:
                h.requests = [RequestRow(p, dt.date.fromisoformat(d), text, bool(res))
                              for p, d, text, res in r["requests"]]
                h.supports = _links(r["supports"])
            else:
                h.contacts = sorted(set(map(dt.date.fromisoformat, r["contacts"])))
            households[h.id] = h
        return households

    def chain_people(self, ids: Iterable[str]) -> dict[str, PersonData]:
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        return {r["id"]: PersonData(r["id"], frozenset(r["roles"]), r["status"],
                                    _date(r["inactive_since"]), r["township_id"],
                                    _links(r["delegates"]), _links(r["committee_members"]))
                for r in self._read_values("analysis/trends_people", ids=wanted)}


def _versions(rows: Iterable[Any]) -> dict[str, str]:
    """``auditlog.version`` of each record of ``fetch/entities``'s rows."""
    out: dict[str, str] = {}
    for row in rows:
        kind = next((_LABEL_KIND[lb] for lb in row["labels"] if lb in _LABEL_KIND), None)
        if kind is not None:
            props = dict(row["rec"])
            rec = _record(ENTITY_SPECS[kind], props)
            out[rec["id"]] = version(rec, props.get("_stamp"))
    return out


def _ids(ids: Collection[str] | None) -> list[str] | None:
    return None if ids is None else sorted(set(ids))


@dataclass(slots=True)
class _Step:
    """One file's rows: checked for what is stored, then created or updated."""

    stage: str  # bundle file, for progress
    name: str  # import/create_<name> for new rows, import/<name> for stored ones
    check: str  # statement returning the stored keys among $<check_param>
    check_param: str
    rows: list[dict[str, Any]]
    key: str  # row field matched against the stored keys
    update: bool = True  # contacts: a stored one is identical, nothing to update
    only: str = ""  # a statement run on all rows, no check (organisation parents)
