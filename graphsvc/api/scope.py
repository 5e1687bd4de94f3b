"""Which township a record belongs to, and what a key limited to townships may reach.

A key limited to townships sees only what lies in them. This module is the one
place that decides it: it narrows the ``township_id`` filter of lists, hides
records outside the key's townships from reads (404, as if they did not exist),
and refuses writes that name them (403, in the same words as for an id that does
not exist: a write must not tell a key what exists outside its reach).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from graphsvc import model as M
from graphsvc.api.errors import Forbidden, InvalidParameter
from graphsvc.bundle.validate import Record
from graphsvc.errors import NotFound
from graphsvc.keys import Principal
from graphsvc.model import Kind
from graphsvc.stores.base import Store


def not_found(kind: Kind, rid: str) -> NotFound:
    return NotFound(f"no {kind.value} with id '{rid}'")


def township_of(store: Store, kind: Kind, rec: Record) -> str | None:
    """A record's township by the rule of DATA_FORMAT.md (``model.township_of``; None: it
    belongs to no township)."""
    return townships_of(store, {"": (kind, rec)})[""]


def townships_of(store: Store, records: Mapping[str, tuple[Kind, Record]]) -> dict[str, str | None]:
    """``township_of`` for many records at once, by id: at most two reads of the store (the
    records' villages and organisations, then those organisations' villages)."""

    def needs_places(kind: Kind, rec: Record) -> bool:
        return kind not in (Kind.TOWNSHIP, Kind.VILLAGE) and not (
            kind in (Kind.PERSON, Kind.ORGANIZATION) and rec.get("township_id"))

    refs = {r for kind, rec in records.values() if needs_places(kind, rec)
            for r in (rec.get("village_id"), rec.get("organization_id")) if r}
    places = dict(store.fetch_entities(refs)) if refs else {}
    org_villages = {str(rec["village_id"]) for kind, rec in places.values()
                    if kind is Kind.ORGANIZATION and needs_places(kind, rec)
                    and rec.get("village_id")} - places.keys()
    if org_villages:
        places.update(store.fetch_entities(org_villages))
    return {rid: _township(kind, rec, places) for rid, (kind, rec) in records.items()}


def _township(kind: Kind, rec: Record, places: Mapping[str, tuple[Kind, Record]]) -> str | None:
    """``township_of`` (``model.township_of``) with the villages and organisations a record
    names already read; the record is taken as given (it may be one not yet written)."""
    rid = str(rec.get("id") or "")
    return M.township_of(rid, lambda i: (kind, rec) if i == rid else places.get(i))


def fetch(store: Store, kind: Kind, rid: str) -> Record:
    """The stored record of that kind; ``NotFound`` otherwise."""
    found = store.fetch_entities([rid]).get(rid)
    if found is None or found[0] is not kind:
        raise not_found(kind, rid)
    return found[1]


def visible(store: Store, principal: Principal, kind: Kind, rid: str) -> Record:
    """The stored record, if this key may see it; else ``NotFound``, as if it did not exist."""
    rec = fetch(store, kind, rid)
    if not principal.every_township and not principal.sees_township(township_of(store, kind, rec)):
        raise not_found(kind, rid)
    return rec


def unreachable(principal: Principal, kind: Kind, rid: str, *, county: bool = False) -> Forbidden:
    """The one answer to a key limited to townships that names a record it may not write to:
    the same whether the record does not exist or lies in another township, so that writes
    cannot be used to learn what exists outside the key's reach."""
    where = f"your townships ({', '.join(principal.townships)})"
    if county:
        where += " or of the county level"
    return Forbidden(f"no {kind.value} '{rid}' among the records of {where}")


def ensure_reaches(store: Store, principal: Principal,
                   refs: Iterable[tuple[Kind, str, bool]]) -> dict[str, Record]:
    """For a key limited to townships: every ``(kind, id, county)`` a write names must be a
    stored record of that kind in the key's townships (or, where ``county`` is true, one of
    no township: the county's committee members, cadres and units, who serve every
    township). Otherwise ``Forbidden`` with one sentence (``unreachable``) whether the id is
    unknown, of another kind or of another township. A township named directly must be one
    of the key's. Keys for every township pass (their unknown ids get the import's 422, or
    404 for an id in the path). Returns the records found, by id."""
    if principal.every_township:
        return {}
    wanted = [(kind, rid, county) for kind, rid, county in refs if rid]
    for kind, rid, _ in wanted:
        if kind is Kind.TOWNSHIP and rid not in principal.townships:
            raise Forbidden(f"township '{rid}' is not one of your townships "
                            f"({', '.join(principal.townships)})")
    found = store.fetch_entities({rid for kind, rid, _ in wanted if kind is not Kind.TOWNSHIP})
    towns = townships_of(store, found)
    out: dict[str, Record] = {}
    for kind, rid, county in wanted:
        if kind is Kind.TOWNSHIP:
            continue
        got = found.get(rid)
        if got is None or got[0] is not kind:
            raise unreachable(principal, kind, rid, county=county)
        town = towns[rid]
        if not (principal.sees_township(town) or (county and town is None)):
            raise unreachable(principal, kind, rid, county=county)
        out[rid] = got[1]
    return out


def writable(store: Store, principal: Principal, kind: Kind, rid: str) -> Record:
    """The stored record a write names by id (in the path): ``NotFound`` for a key of every
    township when there is none; for a key limited to townships, ``Forbidden`` alike for an
    unknown id and for a record outside its townships (``ensure_reaches``)."""
    if principal.every_township:
        return fetch(store, kind, rid)
    return ensure_reaches(store, principal, [(kind, rid, False)])[rid]


def ensure_may_change(store: Store, principal: Principal, kind: Kind, rec: Record) -> None:
    """``Forbidden`` unless the record (as it will be after a change) is in the key's townships."""
    if principal.every_township:
        return
    town = township_of(store, kind, rec)
    if not principal.sees_township(town):
        where = f"township '{town}'" if town else "no township"
        raise Forbidden(f"{kind.value} '{rec.get('id')}' would be in {where}, outside this key's "
                        f"townships ({', '.join(principal.townships)})")


def narrow(store: Store, principal: Principal, township_id: str | None,
           village_id: str | None = None) -> tuple[str | None, str | None]:
    """The township and village filters of a list, checked against the store and the key.

    Unknown ids are 404; for a key limited to townships, an unknown township or village is
    the 403 of one outside them, in the same words, so that it cannot list which townships
    exist. A key limited to townships may filter only inside them (else 403); without a
    filter it gets its township when it has one, and must name one when it has several.
    """
    allowed = ", ".join(principal.townships)
    if (township_id is not None and not principal.every_township
            and township_id not in principal.townships):
        # asked before the store is: neither the answer nor its time tells whether it exists
        raise Forbidden(f"township_id: this key may see only townships {allowed}, "
                        f"not '{township_id}'")
    wanted = [x for x in (township_id, village_id) if x is not None]
    found = store.fetch_entities(wanted) if wanted else {}
    village_town: str | None = None
    if township_id is not None:
        t = found.get(township_id)
        if t is None or t[0] is not Kind.TOWNSHIP:
            raise NotFound(f"township_id: no township with id '{township_id}'")
    if village_id is not None:
        v = found.get(village_id)
        if (v is None or v[0] is not Kind.VILLAGE) and not principal.every_township:
            # a village is no township: say of an unknown one what is said of one outside
            raise Forbidden(f"village_id: village '{village_id}' is not in this key's "
                            f"townships ({allowed})")
        if v is None or v[0] is not Kind.VILLAGE:
            raise NotFound(f"village_id: no village with id '{village_id}'")
        village_town = v[1].get("township_id")
    if principal.every_township:
        return township_id, village_id
    if village_id is not None and village_town not in principal.townships:
        raise Forbidden(f"village_id: village '{village_id}' is not in this key's townships "
                        f"({allowed})")
    if township_id is None and village_id is None:
        if len(principal.townships) == 1:
            return principal.townships[0], None
        raise InvalidParameter("township_id", f"this key is limited to several townships; "
                                              f"give township_id, one of: {allowed}")
    return township_id, village_id
