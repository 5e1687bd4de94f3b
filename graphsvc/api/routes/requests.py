"""Requests travel up the chain (graphsvc.analysis.requests): a person's open requests, a
township's overdue ones, and what was raised and resolved in a period.

A request's text is the household's difficulty (often about health or money): keys without
``--pii`` see its first character and ``**``, as they see households' names; a read that
shows it unmasked is logged beside the other reads of personal data. A key limited to
townships sees only its townships' households, and every person outside its townships
(county committee members included) is a stand-in, ``outside:N`` (``graphsvc.api.redact``).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from graphsvc.analysis import requests as R
from graphsvc.api import scope
from graphsvc.api.deps import (
    AsOfDep,
    Limit,
    Offset,
    PlaceDep,
    PrincipalDep,
    RulesDep,
    SettingsDep,
    StoreDep,
    parse_day,
)
from graphsvc.api.errors import InvalidParameter
from graphsvc.api.redact import Redactor
from graphsvc.api.schemas import READ_ERRORS, _examples, _f, error_responses
from graphsvc.keys import Principal
from graphsvc.model import Kind
from graphsvc.stores.base import Store

router = APIRouter(prefix="/requests", tags=["requests"], responses=error_responses(*READ_ERRORS))

Level = Literal["member", "delegate", "committee_member"]

ITEM = {
    "request_id": "0e300b4aa7f843c0", "household_id": "H041", "village_id": "V3",
    "township_id": "T2", "focus": False, "request": "申请低保", "raised": "2026-06-20",
    "raised_by": ["M14"], "contacts": 1, "last_contact": "2026-06-20", "age_days": 10,
    "due_level": "member", "level": "delegate", "routed_to": ["D2"], "chain_broken": True,
    "overdue": False,
}


class RequestItem(BaseModel):
    """An open request and where it is on the date."""

    model_config = _examples(ITEM)
    request_id: str = _f("a short id of the request (its household, text and day raised, "
                         "keyed with the install's secret)",
                         "0e300b4aa7f843c0")
    household_id: str = _f("the household that raised it", "H041")
    village_id: str | None = _f("its village", "V3")
    township_id: str | None = _f("its village's township", "T2")
    focus: bool = _f("whether the household is a focus household", False)
    request: str = _f("the difficulty, as recorded (keys without --pii: its first character "
                      "and **)", "申请低保")
    raised: dt.date = _f("the day of the first contact that recorded it", "2026-06-20")
    raised_by: list[str] = _f("who recorded it that day (for a key limited to townships, "
                              "anyone outside them is a stand-in, outside:N)", ["M14"])
    contacts: int = _f("days with a contact about it, the first included", 1)
    last_contact: dt.date = _f("the latest contact about it", "2026-06-20")
    age_days: int = _f("days from raised to as_of", 10)
    due_level: Level = _f("where it is due by its age: member (younger than "
                          "escalate_after_days), delegate (younger than twice that), else "
                          "committee_member", "member")
    level: Level | None = _f("where it is: due_level, or the next level up with someone active "
                             "when nobody is there; null: nobody at or above (unrouted)",
                             "delegate")
    routed_to: list[str] = _f("the active people at that level in the household's chain on "
                              "as_of, sorted (for a key limited to townships, anyone outside "
                              "them is a stand-in, outside:N)", ["D2"])
    chain_broken: bool = _f("true when level is not due_level (the chain is broken there)", True)
    overdue: bool = _f("open for escalate_after_days or more", False)


class OpenRequests(BaseModel):
    """The open requests a person holds on the date, oldest first."""

    model_config = _examples({"person_id": "D2", "as_of": "2026-06-30",
                              "escalate_after_days": 14, "total": 1, "items": [ITEM]})
    person_id: str = _f("the person asked about", "D2")
    as_of: dt.date = _f("the date the answer holds on", "2026-06-30")
    escalate_after_days: int = _f("days after which a request goes up one level", 14)
    total: int = _f("how many requests (all pages)", 1)
    items: list[RequestItem] = _f("this page of requests (limit, offset)")


class OverdueRequests(BaseModel):
    """Open requests on the date that are overdue or unrouted, oldest first."""

    model_config = _examples({"as_of": "2026-07-15", "township_id": "T2",
                              "escalate_after_days": 14, "total": 1, "items": [
                                  {**ITEM, "age_days": 25, "due_level": "delegate",
                                   "chain_broken": False, "overdue": True}]})
    as_of: dt.date = _f("the date the answer holds on", "2026-07-15")
    township_id: str | None = _f("present when narrowed to a township", "T2", default=None)
    village_id: str | None = _f("present when narrowed to a village", None, default=None)
    escalate_after_days: int = _f("days after which a request goes up one level", 14)
    total: int = _f("how many requests (all pages)", 1)
    items: list[RequestItem] = _f("this page of requests (limit, offset)")


class ResolvedByLevel(BaseModel):
    member: int = _f("resolved by one of the household's members", 1)
    delegate: int = _f("by a delegate above its members", 0)
    committee_member: int = _f("by a committee member above those delegates", 0)
    cadre: int = _f("by a cadre supporting the household (结穷亲)", 0)
    other: int = _f("by anyone else", 0)


class OpenByLevel(BaseModel):
    member: int = _f("open, with the household's members", 4)
    delegate: int = _f("open, with delegates", 1)
    committee_member: int = _f("open, with committee members", 0)
    unrouted: int = _f("open, with nobody active at or above the level due", 0)


class RequestSummary(BaseModel):
    """Requests raised and resolved in a period, how fast and by which level, and those open
    and overdue at its end."""

    model_config = _examples({
        "from": None, "to": "2026-06-30", "escalate_after_days": 14, "raised": 6,
        "raised_and_resolved": 1, "resolved_within_days": 14, "resolved_within": 1,
        "median_days_to_resolve": 0.0, "resolved": 1,
        "resolved_by_level": {"member": 1, "delegate": 0, "committee_member": 0, "cadre": 0,
                              "other": 0},
        "open": 5, "overdue": 0,
        "open_by_level": {"member": 4, "delegate": 1, "committee_member": 0, "unrouted": 0}})
    from_: dt.date | None = _f("the first day of the period (null: from the first request)",
                               None, alias="from")
    to: dt.date = _f("the last day of the period", "2026-06-30")
    township_id: str | None = _f("present when narrowed to a township", None, default=None)
    village_id: str | None = _f("present when narrowed to a village", None, default=None)
    escalate_after_days: int = _f("days after which a request goes up one level", 14)
    raised: int = _f("requests raised in the period", 6)
    raised_and_resolved: int = _f("of those, resolved by the end of the period", 1)
    resolved_within_days: int = _f("the N of resolved_within", 14)
    resolved_within: int = _f("of those raised, resolved within N days", 1)
    median_days_to_resolve: float | None = _f("of those raised and resolved: the median days "
                                              "from raised to resolved", 0.0)
    resolved: int = _f("requests resolved in the period (whenever raised)", 1)
    resolved_by_level: ResolvedByLevel = _f("those by the level of who resolved them, for the "
                                            "household on that day")
    open: int = _f("requests open at the end of the period (whenever raised)", 5)
    overdue: int = _f("of those, open for escalate_after_days or more", 0)
    open_by_level: OpenByLevel = _f("those by where they are routed")


def _towns(principal: Principal) -> tuple[str, ...] | None:
    return None if principal.every_township else principal.townships


def _shown(request: Request, store: Store, principal: Principal, body: dict[str, Any],
           what: str) -> dict[str, Any]:
    """The body as this key may see it: request ids keyed (``R.keyed``); people outside a
    township key's townships as stand-ins; request texts masked without --pii, and a read
    that shows them unmasked logged (the households named)."""
    body = R.keyed(body, request.app.state.keys)
    body = {**body, "items": Redactor(store, principal).rows(body["items"], "raised_by",
                                                             "routed_to")}
    if not principal.pii:
        return R.masked(body)
    if body["items"]:
        request.app.state.keys.log_pii_read(principal, what,
                                            [i["household_id"] for i in body["items"]])
    return body


@router.get("/open", response_model=OpenRequests, summary="A person's open requests",
            response_description="the open requests the person holds on the date")
def open_requests(
    request: Request, store: StoreDep, rules: RulesDep, settings: SettingsDep,
    principal: PrincipalDep, as_of: AsOfDep,
    person_id: Annotated[str, Query(min_length=1, description="whose requests: a member, "
                                    "delegate or committee member", examples=["D2"])],
    limit: Limit = 100, offset: Offset = 0,
) -> dict[str, Any]:
    """The open requests routed to this person on the date, at whatever level (as a member,
    a delegate or a committee member of the household's chain as it stands that day),
    oldest first."""
    scope.visible(store, principal, Kind.PERSON, person_id)
    body = R.open_body(store, person_id, as_of, rules,
                       escalate_after_days=settings.escalate_after_days,
                       townships=_towns(principal), limit=limit, offset=offset)
    return _shown(request, store, principal, body, "GET /requests/open")


@router.get("/overdue", response_model=OverdueRequests, response_model_exclude_unset=True,
            summary="Overdue requests",
            response_description="overdue and unrouted open requests on the date")
def overdue_requests(
    request: Request, store: StoreDep, rules: RulesDep, settings: SettingsDep,
    principal: PrincipalDep, as_of: AsOfDep, place: PlaceDep,
    limit: Limit = 100, offset: Offset = 0,
) -> dict[str, Any]:
    """Open requests of the township's (or village's, or county's) households that are open
    for escalate_after_days or more, or that nobody active can take (level null), oldest
    first."""
    body = R.overdue_body(store, as_of, rules, escalate_after_days=settings.escalate_after_days,
                          township_id=place.township_id, village_id=place.village_id,
                          townships=_towns(principal), limit=limit, offset=offset)
    return _shown(request, store, principal, body, "GET /requests/overdue")


@router.get("/summary", response_model=RequestSummary, response_model_exclude_unset=True,
            response_model_by_alias=True, summary="Requests raised and resolved",
            response_description="the period's requests in numbers")
def requests_summary(
    store: StoreDep, settings: SettingsDep, place: PlaceDep,
    from_: Annotated[str | None, Query(
        alias="from", description="the first day, YYYY-MM-DD (default: from the first request)",
        examples=["2026-01-01"], json_schema_extra={"format": "date"})] = None,
    to: Annotated[str | None, Query(
        description="the last day, YYYY-MM-DD (default: today)", examples=["2026-06-30"],
        json_schema_extra={"format": "date"})] = None,
    within_days: Annotated[int | None, Query(
        ge=0, le=36500, description="N of resolved_within (default: escalate_after_days)",
        examples=[14])] = None,
) -> dict[str, Any]:
    """Requests raised in the period and how many of them were resolved (within N days, and
    the median days taken); requests resolved in the period by the level of who resolved
    them (member, delegate, committee member, a supporting cadre, other); requests open and
    overdue at its end, by where they are."""
    first = parse_day("from", from_)
    last = parse_day("to", to) or dt.date.today()
    if first is not None and first > last:
        raise InvalidParameter("from", f"'{first.isoformat()}' is after to "
                                       f"('{last.isoformat()}')")
    return R.summary_body(store, first, last, escalate_after_days=settings.escalate_after_days,
                          within_days=within_days, township_id=place.township_id,
                          village_id=place.village_id)
