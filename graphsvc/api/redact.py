"""People outside a key's townships, as its answers name them: not at all.

A key limited to townships reads rows of its townships only (the queries are narrowed to
them), but a row can point across the border: a T1 household served by a member living in
T2, a T1 delegate with a T2 member, a committee member above (who belongs to no township).
In what such a key reads, every person outside its townships becomes a stand-in:
``outside:1``, ``outside:2``… (numbered per answer, so the same person is the same stand-in
throughout one answer), with no name. Counts stay true; the chain's shape stays visible;
who is there does not. Households outside its townships are left out of lists of
households (an impact list), never stood in for. Keys for every township see all.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from graphsvc.api import scope
from graphsvc.bundle.schema import OUTSIDE  # no stored id may have it (bundle/validate.py)
from graphsvc.keys import Principal
from graphsvc.stores.base import Store


class Redactor:
    """One answer's redaction for one key."""

    def __init__(self, store: Store, principal: Principal) -> None:
        self.store = store
        self.principal = principal
        self.active = not principal.every_township
        self._town: dict[str, str | None] = {}
        self._alias: dict[str, str] = {}

    # -- where people and households belong ---------------------------------------------------

    def learn(self, ids: Iterable[str]) -> None:
        """Find the townships of these records (one read, and ``scope.townships_of``'s)."""
        wanted = {i for i in ids if i and i not in self._town and not i.startswith(OUTSIDE)}
        if not self.active or not wanted:
            return
        towns = scope.townships_of(self.store, self.store.fetch_entities(wanted))
        for rid in wanted:
            self._town[rid] = towns.get(rid)

    def sees(self, rid: str) -> bool:
        if not self.active:
            return True
        self.learn([rid])
        return self.principal.sees_township(self._town.get(rid))

    def alias(self, rid: str) -> str:
        """The id this key reads for ``rid``: itself, or a stand-in."""
        if self.sees(rid):
            return rid
        return self._alias.setdefault(rid, f"{OUTSIDE}{len(self._alias) + 1}")

    def ids(self, ids: list[str]) -> list[str]:
        return [self.alias(i) for i in ids]

    # -- answers --------------------------------------------------------------------------------

    def rows(self, rows: list[dict[str, Any]], *fields: str) -> list[dict[str, Any]]:
        """Rows whose ``fields`` are lists of person ids (``member_ids``, ``delegate_ids``…)."""
        if not self.active:
            return rows
        self.learn(i for r in rows for f in fields for i in r.get(f) or [])
        return [{**r, **{f: self.ids(list(r[f])) for f in fields if r.get(f) is not None}}
                for r in rows]

    def person(self, p: dict[str, Any]) -> dict[str, Any]:
        """A person brief (a chain's member, delegate, committee member, a cadre)."""
        if self.sees(p["id"]):
            return p
        return {**p, "id": self.alias(p["id"]), "name": None, "township_id": None}

    def household_detail(self, body: dict[str, Any]) -> dict[str, Any]:
        if not self.active:
            return body
        people = [m["id"] for m in body.get("chains", [])]
        people += [d["id"] for m in body.get("chains", []) for d in m.get("delegates", [])]
        people += [c["id"] for m in body.get("chains", []) for d in m.get("delegates", [])
                   for c in d.get("committee_members", [])]
        people += [k["id"] for k in body.get("supporting_cadres", [])]
        people += [c["person_id"] for c in body.get("recent_contacts", [])]
        self.learn(people + list(body.get("member_ids") or []))
        chains = [{**self.person(m), "delegates": [
            {**self.person(d),
             "committee_members": [self.person(c) for c in d["committee_members"]]}
            for d in m.get("delegates", [])]} for m in body.get("chains", [])]
        contacts = [c if self.sees(c["person_id"]) else
                    {**c, "person_id": self.alias(c["person_id"]), "person_name": None}
                    for c in body.get("recent_contacts", [])]
        out = {**body, "chains": chains,
               "supporting_cadres": [self.person(k) for k in body.get("supporting_cadres", [])],
               "recent_contacts": contacts}
        if body.get("member_ids") is not None:
            out["member_ids"] = self.ids(list(body["member_ids"]))
        return out

    def households(self, items: list[dict[str, Any]], key: str = "household_id",
                   ) -> list[dict[str, Any]]:
        """Only the households this key sees (for lists not already narrowed to them)."""
        if not self.active:
            return items
        self.learn(r[key] for r in items)
        return [r for r in items if self.sees(r[key])]
