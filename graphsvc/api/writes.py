"""The writes a township clerk makes, each checked exactly as an import checks it.

Every write becomes a one-row table of the right bundle file (``people``,
``liaisons``, …) holding only the columns the request gives, and goes through
``importer.import_tables``: the same rules, the same sentences, all or nothing.
Columns a request leaves out keep their stored values, as in a partial import.
Nothing is ever deleted: deactivating sets ``status`` and ``inactive_since``,
ending a liaison, pairing or support sets ``until``.
"""

from __future__ import annotations

import datetime as dt
import hmac
from collections.abc import Callable
from typing import Any

from graphsvc.api import scope
from graphsvc.api.errors import Conflict, WriteRefused
from graphsvc.auditlog import Actor, etag
from graphsvc.bundle.reader import RawTable
from graphsvc.bundle.report import Report
from graphsvc.bundle.schema import SPECS
from graphsvc.bundle.validate import Record
from graphsvc.errors import NotFound, VersionConflict
from graphsvc.importer import import_tables
from graphsvc.keys import KeyStore, Principal
from graphsvc.model import Kind
from graphsvc.stores.base import Store

ENTITY_FILE = {Kind.PERSON: "people", Kind.HOUSEHOLD: "households"}
# what a write may name for a key limited to townships: (column, kind, county) -- county: a
# record of no township will do too (the county's committee members, cadres and units serve
# every township); the end below (a link's subject) must lie in the key's townships
ENTITY_REFS: dict[Kind, tuple[tuple[str, Kind, bool], ...]] = {
    Kind.PERSON: (("organization_id", Kind.ORGANIZATION, True),
                  ("township_id", Kind.TOWNSHIP, False), ("village_id", Kind.VILLAGE, False)),
    Kind.HOUSEHOLD: (("village_id", Kind.VILLAGE, False),),
}
LINK_REFS: dict[str, tuple[tuple[str, Kind | None, bool], ...]] = {  # the end below first
    "liaisons": (("to_id", None, False), ("from_id", Kind.PERSON, True)),  # to_id: by kind
    "pairings": (("village_id", Kind.VILLAGE, False), ("unit_id", Kind.UNIT, True)),
    "supports": (("household_id", Kind.HOUSEHOLD, False), ("person_id", Kind.PERSON, True)),
    "contacts": (("household_id", Kind.HOUSEHOLD, False), ("person_id", Kind.PERSON, True)),
}
LINK_WORDS = {"liaisons": "liaison", "pairings": "pairing", "supports": "support"}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ";".join(str(v) for v in value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def actor(principal: Principal) -> Actor:
    """The audit log's name for a key."""
    return Actor("api", principal.key_id, principal.name, principal.role.value)


def _apply(store: Store, name: str, fields: dict[str, Any], *, dry_run: bool = False,
           principal: Principal | None = None, expect: dict[str, str] | None = None) -> None:
    """Import one row of bundle file ``name`` with these columns; ``WriteRefused`` on any
    error, ``Conflict`` when a record of ``expect`` changed since the caller read it."""
    header = list(fields)
    table = RawTable(name, SPECS[name].filename, header, [(2, [_cell(fields[c]) for c in header])])
    try:
        report = import_tables(store, {name: table}, Report(), dry_run=dry_run,
                               actor=actor(principal) if principal else None, expect=expect)
    except VersionConflict as exc:
        raise Conflict(str(exc)) from None
    if not report.ok:
        raise WriteRefused(report)


def _checked(store: Store, principal: Principal, name: str, fields: dict[str, Any],
             after: Record, kind: Kind, expect: dict[str, str] | None = None) -> None:
    """Write, after making sure that the record as it will be lies in the key's townships.

    For a key limited to townships, every place the record names is checked first: one
    unknown and one of another township are refused alike (403), then the import's rules
    (422), then where the record would be (403: e.g. a person of no township)."""
    if not principal.every_township:
        scope.ensure_reaches(store, principal, [(ref, str(fields[col]), county)
                                                for col, ref, county in ENTITY_REFS[kind]
                                                if fields.get(col)])
        _apply(store, name, fields, dry_run=True)
        scope.ensure_may_change(store, principal, kind, after)
    _apply(store, name, fields, principal=principal, expect=expect)


def etag_header(keys: KeyStore, version: str) -> str:
    """The ``ETag`` header of a record at ``version`` (``auditlog.etag``, quoted)."""
    return f'"{etag(keys, version)}"'


def _versioned(store: Store, rid: str, read: Callable[[], Record]) -> tuple[Record, str]:
    """``read()`` (the record) and the version of ``rid``, the version read first: an ETag
    older than the body it comes with can cost a needless 409, never a lost change."""
    before = store.versions([rid]).get(rid)
    record = read()
    return record, before if before is not None else store.versions([rid])[rid]


def visible(store: Store, principal: Principal, kind: Kind, rid: str) -> tuple[Record, str]:
    """``scope.visible``'s record and its version (for the ETag)."""
    return _versioned(store, rid, lambda: scope.visible(store, principal, kind, rid))


def _if_match(keys: KeyStore, rid: str, if_match: str | None,
              current: str | None) -> dict[str, str] | None:
    """What the write must find stored: the version the client read (``If-Match``), given
    ``current``, the version read before the record the write starts from."""
    if if_match is None:
        return None
    tags = [t.strip().removeprefix("W/").strip('"') for t in if_match.split(",")]
    if "*" in tags:
        return None
    # compared as a MAC is (constant time), though a key that may write here may read the tag
    if current is None or not any(hmac.compare_digest(etag(keys, current).encode("ascii"),
                                                      t.encode("utf-8", "replace"))
                                  for t in tags):
        raise Conflict(f"'{rid}' was changed by someone else since you read it; read it again "
                       "(GET) and send your change with the new ETag in If-Match")
    return {rid: current}


# -- people and households --------------------------------------------------------------------


def create_entity(store: Store, principal: Principal, kind: Kind,
                  fields: dict[str, Any]) -> tuple[Record, str]:
    """Add a person or household; 409 when the id is taken. Returns it as stored, with its
    version."""
    rid = fields["id"]
    taken = store.fetch_entities([rid]).get(rid)
    if taken is not None and not principal.every_township and (
            taken[0] is not kind
            or not principal.sees_township(scope.township_of(store, kind, taken[1]))):
        # ids are unique across the county: say no more of a record outside the key's reach
        raise Conflict(f"the id '{rid}' is already in use in the county; choose another id")
    if taken is not None and taken[0] is kind:
        raise Conflict(f"a {kind.value} with id '{rid}' exists already; change it with PATCH")
    _checked(store, principal, ENTITY_FILE[kind], fields, fields, kind)
    return _versioned(store, rid, lambda: scope.fetch(store, kind, rid))


def update_entity(store: Store, principal: Principal, kind: Kind, rid: str,
                  changes: dict[str, Any], if_match: str | None = None, *,
                  keys: KeyStore) -> tuple[Record, str]:
    """Change the given fields of a stored person or household; the others stay. Returns it
    as stored, with its version.

    With ``if_match`` (the ETag the client read; ``keys`` made it), 409 when the record was
    written meanwhile: checked again inside the write's transaction, so of two clerks who
    read the same version, the second to write gets 409 and nothing of theirs is written."""
    current = store.versions([rid]).get(rid) if if_match is not None else None
    old = scope.writable(store, principal, kind, rid)
    expect = _if_match(keys, rid, if_match, current)
    # a bundle file must have its required columns: those not changed keep their stored value
    spec = SPECS[ENTITY_FILE[kind]]
    kept = {c.name: old.get(c.name) for c in spec.columns if c.required and c.name not in changes}
    fields = {**kept, **changes, "id": rid}
    _checked(store, principal, ENTITY_FILE[kind], fields, {**old, **fields}, kind, expect)
    return _versioned(store, rid, lambda: scope.fetch(store, kind, rid))


def deactivate(store: Store, principal: Principal, kind: Kind, rid: str,
               since: dt.date | None, if_match: str | None = None, *,
               keys: KeyStore) -> tuple[Record, str]:
    """Mark a person or household inactive from ``since`` (default today) on."""
    return update_entity(store, principal, kind, rid,
                         {"status": "inactive", "inactive_since": since or dt.date.today()},
                         if_match, keys=keys)


# -- liaisons, pairings, supports, contacts ---------------------------------------------------


def _link_key(name: str, fields: dict[str, Any]) -> tuple[str, ...]:
    return tuple(str(fields[k]) for k in SPECS[name].key)


def _check_link(store: Store, principal: Principal, name: str, fields: dict[str, Any]) -> None:
    """A key limited to townships may change links only of what lies below in its townships,
    naming above only people and units of its townships or of the county level: anything
    else, and an id that names nothing, is one and the same 403 (``scope.ensure_reaches``)."""
    if principal.every_township:
        return
    refs: list[tuple[Kind, str, bool]] = []
    for column, kind, county in LINK_REFS[name]:
        if kind is None:  # a liaison's to_id: a household or a person, by the liaison's kind
            kind = Kind.HOUSEHOLD if fields.get("kind") == "member-household" else Kind.PERSON
        refs.append((kind, str(fields[column]), county))
    scope.ensure_reaches(store, principal, refs)


def _describe(name: str, key: tuple[str, ...]) -> str:
    if name == "liaisons":
        return f"{key[0]} liaison from '{key[1]}' to '{key[2]}'"
    a, b = SPECS[name].key
    return f"{LINK_WORDS[name]} of {a} '{key[0]}' and {b} '{key[1]}'"


def add_link(store: Store, principal: Principal, name: str,
             fields: dict[str, Any]) -> tuple[Record, bool]:
    """Add a liaison, pairing or support (or set the dates of one that exists).

    Returns the stored row and whether it is new.
    """
    key = _link_key(name, fields)
    _check_link(store, principal, name, fields)
    existed = key in store.fetch_links(name, [key])
    _apply(store, name, fields, principal=principal)
    return store.fetch_links(name, [key])[key], not existed


def end_link(store: Store, principal: Principal, name: str, key_fields: dict[str, Any],
             until: dt.date | None) -> Record:
    """End a liaison, pairing or support on ``until`` (default today); it is kept."""
    key = _link_key(name, key_fields)
    _check_link(store, principal, name, key_fields)  # before saying whether the link exists
    old = store.fetch_links(name, [key]).get(key)
    if old is None:
        raise NotFound(f"there is no {_describe(name, key)}")
    if old.get("until") is not None:
        raise Conflict(f"the {_describe(name, key)} already ended on {old['until'].isoformat()}; "
                       "to correct the date, add it again with the right 'until'")
    _apply(store, name, {**key_fields, "until": until or dt.date.today()}, principal=principal)
    return store.fetch_links(name, [key])[key]


def add_contact(store: Store, principal: Principal, fields: dict[str, Any]) -> Record:
    """Record a contact (the same contact twice is kept once); returns it as stored."""
    _check_link(store, principal, "contacts", fields)
    _apply(store, "contacts", fields, principal=principal)
    spec = SPECS["contacts"]
    return {c.name: fields.get(c.name) if fields.get(c.name) is not None else c.default
            for c in spec.columns}
