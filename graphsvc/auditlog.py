"""The audit log: who changed what, when, from which value to which.

Every write (an import from the CLI or the API, a clerk's edit) appends one entry, written
in the same transaction as the data, so the log and the data never disagree: an import that
fails leaves no entry, and no change lands without one. An entry holds:

- ``id``, ``at`` (UTC, ISO 8601), ``action`` (``import``, ``replace`` or ``write``) and
  ``via`` (``api`` or ``cli``);
- who: ``key_id``, ``key_name`` and ``role`` of the API key (for the CLI: the operating
  system's user in ``key_name``);
- ``files``: records per bundle file; ``subjects``: the ids the change touches (records,
  and both ends of each relationship), by which the log is filtered;
- ``changes``: for each record, ``op`` (``create`` or ``update``), its ``id`` (or ``key``
  for a relationship) and the ``old`` and ``new`` values of the columns that changed. A
  large import (more than ``DETAIL_LIMIT`` records, or changes of more than ``DETAIL_BYTES``
  as JSON) lists its counts only (``detailed: false``): the bundle itself is the record of
  what it held.

Reads of unmasked personal data are logged beside the keys (``graphsvc.keys``), not in
the store: a read must not become a write to the database.

``version(record, stamp)`` is what a stored record is at, for optimistic concurrency: it
changes whenever a value of the record changes and whenever a write names the record (every
write gives the records it names a new random ``stamp``). The API hands out
``etag(keys, version)`` as ``ETag``, and a change sent with ``If-Match`` is refused (409) when
the record was written in between; the stores check the version inside the write's
transaction. The version itself never leaves the server: a plain digest of the values could
be searched offline for the masked ones (a head's name, phone, address: issue 11). The ETag
is an HMAC under the install's secret, so nobody without the secret can test a guess against
it, and, since the stamp is new on every write, a client that writes a guess cannot learn
whether the record came back to a version it saw before (its old ETag never matches again).
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from graphsvc.bundle.schema import SPECS
from graphsvc.bundle.validate import Bundle, Record

if TYPE_CHECKING:
    from graphsvc.keys import KeyStore

DETAIL_LIMIT = 500  # records whose old and new values an entry lists
DETAIL_BYTES = 64 * 1024  # and at most this much of them (as JSON): a page of entries stays small
SUBJECT_LIMIT = 5000  # ids an entry can be found by


@dataclass(frozen=True, slots=True)
class Actor:
    """Who makes a change."""

    via: str  # "api" or "cli"
    key_id: str | None = None
    key_name: str | None = None
    role: str | None = None

    @classmethod
    def cli(cls) -> Actor:
        try:
            user = getpass.getuser()
        except (KeyError, OSError):  # no user name in a bare container
            user = "unknown"
        return cls("cli", None, user, None)


def _plain(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v) for v in value]
    return value


def version(record: Mapping[str, Any], stamp: str | None) -> str:
    """What a stored record is at: changes whenever any value changes, and with ``stamp`` (new
    on every write that names the record; None for a record stored before stamps were kept).
    For the server only: this is unkeyed, a client sees ``etag``."""
    text = json.dumps({"record": {k: _plain(v) for k, v in record.items()}, "stamp": stamp},
                      sort_keys=True, ensure_ascii=False)
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


def etag(keys: KeyStore, version: str) -> str:
    """The ``ETag`` of a record at ``version``: an HMAC under this install's secret (the same
    file, ``GRAPHSVC_DATA_DIR/keys.secret``, for every server process of the install), so it
    cannot be computed, nor a guess of a masked value tested, without that secret; and two
    installs give the same record different tags."""
    return keys.mac("etag", version)[:32]


def _key_of(name: str, rec: Record) -> tuple[str, ...]:
    return tuple(str(rec[k]) for k in SPECS[name].key)


def build_entry(store: Any, bundle: Bundle, actor: Actor, *, replace: bool = False,
                ) -> dict[str, Any]:
    """The entry for writing ``bundle`` to ``store`` (asked for the old values first)."""
    files = {name: len(rows) for name, rows in bundle.records.items() if rows}
    total = sum(files.values())
    detailed = total <= DETAIL_LIMIT and not replace
    subjects: list[str] = []
    changes: list[dict[str, Any]] = []

    def subject(*ids: Any) -> None:
        for i in ids:
            if i is not None and len(subjects) < SUBJECT_LIMIT:
                subjects.append(str(i))

    entity_ids = [r["id"] for name, rows in bundle.records.items()
                  if SPECS[name].group == "entity" for r in rows]
    old_entities = store.fetch_entities(entity_ids) if detailed else {}
    for name, rows in bundle.records.items():
        spec = SPECS[name]
        if spec.group == "entity":
            for r in rows:
                subject(r["id"])
                if detailed:
                    found = old_entities.get(r["id"])
                    changes.append(_change(name, {"id": r["id"]}, found[1] if found else None, r))
        elif spec.group == "link":
            old_links = (store.fetch_links(name, [_key_of(name, r) for r in rows])
                         if detailed else {})
            for r in rows:
                key = _key_of(name, r)
                subject(*key[-2:] if name == "liaisons" else key)
                if detailed:
                    changes.append(_change(name, {"key": list(key)}, old_links.get(key), r))
        else:  # contacts: each is new or already there, never changed
            for r in rows:
                subject(r.get("person_id"), r.get("household_id"))
                if detailed:
                    changes.append({"file": name, "op": "record",
                                    "new": {k: _plain(v) for k, v in r.items()}})
    changes = [c for c in changes if c.get("op") != "same"]
    if detailed and len(json.dumps(changes, ensure_ascii=False).encode("utf-8")) > DETAIL_BYTES:
        detailed, changes = False, []  # counts only, as for a large import
    return {
        "id": uuid.uuid4().hex,
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
        "action": "replace" if replace else ("write" if actor.via == "api" and total <= 5
                                              else "import"),
        "via": actor.via,
        "key_id": actor.key_id,
        "key_name": actor.key_name,
        "role": actor.role,
        "files": files,
        "records": total,
        "subjects": sorted(dict.fromkeys(subjects)),
        "detailed": detailed,
        "changes": changes,
    }


def _change(name: str, ident: dict[str, Any], old: Record | None, new: Record) -> dict[str, Any]:
    if old is None:
        return {"file": name, "op": "create", **ident,
                "new": {k: _plain(v) for k, v in new.items() if v is not None}}
    changed = [k for k in new if _plain(new.get(k)) != _plain(old.get(k))]
    if not changed:
        return {"op": "same"}
    return {"file": name, "op": "update", **ident,
            "old": {k: _plain(old.get(k)) for k in changed},
            "new": {k: _plain(new.get(k)) for k in changed}}


def to_row(entry: Mapping[str, Any]) -> dict[str, Any]:
    """What a store keeps of an entry: the fields it filters on, and the whole as JSON."""
    return {"id": entry["id"], "at": entry["at"], "key_id": entry.get("key_id"),
            "action": entry["action"], "subjects": list(entry.get("subjects", [])),
            "entry": json.dumps(entry, ensure_ascii=False, sort_keys=True)}


def from_row(text: str) -> dict[str, Any]:
    return dict(json.loads(text))


def entries(store: Any, keys: Any, *, since: str | None = None, until: str | None = None,
            key_id: str | None = None, record_id: str | None = None, action: str | None = None,
            limit: int = 100, offset: int = 0) -> dict[str, Any]:
    """The audit log's body (``GET /api/v1/audit-log``, ``graphsvc audit-log``): the store's
    write entries and the key database's reads of personal data, merged newest first."""
    want = offset + limit
    total, items = 0, list[dict[str, Any]]()
    if action != "read_pii":
        n, rows = store.audit_entries(since=since, until=until, key_id=key_id, subject=record_id,
                                      action=action, limit=want)
        total, items = total + n, items + rows
    if action in (None, "read_pii"):
        n, rows = keys.pii_reads(since=since, until=until, key_id=key_id, subject=record_id,
                                 limit=want)
        total, items = total + n, items + rows
    items.sort(key=lambda e: e["at"], reverse=True)
    return {"total": total, "items": items[offset:want]}


def instant(value: str | None) -> str | None:
    """A date or a date and time with its zone, as the UTC instant the log compares with;
    ``ValueError`` with a sentence for anything else."""
    if value is None:
        return None
    try:
        if len(value) == 10:
            return dt.date.fromisoformat(value).isoformat()
        t = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"'{value}' is not a date (YYYY-MM-DD) or a date and time "
                         "(YYYY-MM-DDTHH:MM:SS+08:00)") from None
    if t.tzinfo is None:
        raise ValueError(f"'{value}' has no time zone; add one, e.g. +08:00")
    return t.astimezone(dt.UTC).isoformat(timespec="milliseconds")
