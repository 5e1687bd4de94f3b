"""The bodies of the answers, shared by the HTTP API and ``graphsvc … --format json``.

Each function takes a store and already-checked parameters and returns the exact
JSON body that ``spec/API.md`` names, so the command line and the API can never
drift apart. Paging and filtering that the rules do not define happen here.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from graphsvc.rules import RuleSettings
from graphsvc.stores.base import Store


def households_body(store: Store, as_of: dt.date, rules: RuleSettings, *,
                    township_id: str | None = None, village_id: str | None = None,
                    status: str | None = None, reason: str | None = None, focus_only: bool = False,
                    limit: int | None = 100, offset: int = 0) -> dict[str, Any]:
    """``GET /api/v1/households``."""
    total, items = store.households(as_of, rules, township_id=township_id, village_id=village_id,
                                    status=status, reason=reason, focus_only=focus_only,
                                    limit=limit, offset=offset)
    return {"as_of": as_of.isoformat(), "total": total, "items": items}


def household_body(store: Store, household_id: str, as_of: dt.date,
                   rules: RuleSettings) -> dict[str, Any]:
    """``GET /api/v1/households/{id}``."""
    return store.household(household_id, as_of, rules)


def _page(items: list[dict[str, Any]], limit: int | None, offset: int) -> list[dict[str, Any]]:
    return items[offset: None if limit is None else offset + limit]


def delegates_body(store: Store, as_of: dt.date, rules: RuleSettings, *,
                   township_id: str | None = None, village_id: str | None = None,
                   status: str | None = None, limit: int | None = None,
                   offset: int = 0) -> dict[str, Any]:
    """``GET /api/v1/audit/delegates``; ``status`` is ``ok`` or ``gap``."""
    items = store.delegate_audit(as_of, rules, township_id=township_id, village_id=village_id)
    if status is not None:
        items = [i for i in items if i["status"] == status]
    return {"as_of": as_of.isoformat(), "total": len(items), "items": _page(items, limit, offset)}


def members_body(store: Store, as_of: dt.date, rules: RuleSettings, *,
                 township_id: str | None = None, village_id: str | None = None,
                 problem: str | None = None, limit: int | None = None,
                 offset: int = 0) -> dict[str, Any]:
    """``GET /api/v1/audit/members``; ``problem`` keeps the members that have it."""
    items = store.member_audit(as_of, rules, township_id=township_id, village_id=village_id)
    if problem is not None:
        items = [i for i in items if problem in i["problems"]]
    return {"as_of": as_of.isoformat(), "total": len(items), "items": _page(items, limit, offset)}


def committee_members_body(store: Store, as_of: dt.date, rules: RuleSettings, *,
                           township_id: str | None = None, village_id: str | None = None,
                           problem: str | None = None, limit: int | None = None,
                           offset: int = 0) -> dict[str, Any]:
    """``GET /api/v1/audit/committee-members``."""
    items = store.committee_member_audit(as_of, rules, township_id=township_id,
                                         village_id=village_id)
    if problem is not None:
        items = [i for i in items if problem in i["problems"]]
    return {"as_of": as_of.isoformat(), "total": len(items), "items": _page(items, limit, offset)}


def pairings_body(store: Store, as_of: dt.date, *,
                  township_id: str | None = None) -> dict[str, Any]:
    """``GET /api/v1/audit/pairings``."""
    return {"as_of": as_of.isoformat(), **store.pairing_audit(as_of, township_id=township_id)}


def impact_body(store: Store, person_id: str, as_of: dt.date,
                rules: RuleSettings) -> dict[str, Any]:
    """``GET /api/v1/people/{id}/impact``."""
    items = store.impact(person_id, as_of, rules)
    return {"person_id": person_id, "as_of": as_of.isoformat(), "total": len(items), "items": items}


def summary_body(store: Store, as_of: dt.date, rules: RuleSettings, *,
                 township_id: str | None = None) -> dict[str, Any]:
    """``GET /api/v1/summary``."""
    body = store.summary(as_of, rules, township_id=township_id)
    if township_id is not None:
        body["township_id"] = township_id
    return body
