"""Coverage over time (graphsvc.analysis.trends): ``GET /api/v1/trends``, and its chart page
``GET /visual/trends`` (``visual_router``: not under ``/api/v1``; it logs in with the session
cookie of the other diagram pages)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from graphsvc.analysis.trends import trends_body
from graphsvc.api import scope
from graphsvc.api.deps import PlaceDep, RulesDep, StoreDep, parse_day
from graphsvc.api.errors import InvalidParameter
from graphsvc.api.routes.visual import _html, _principal, _to_login
from graphsvc.api.schemas import READ_ERRORS, ReasonCounts, _examples, _f, error_responses
from graphsvc.errors import NotFound
from graphsvc.model import Kind
from graphsvc.rules import RuleSettings
from graphsvc.stores.base import Store

router = APIRouter(prefix="/trends", tags=["trends"], responses=error_responses(*READ_ERRORS))
visual_router = APIRouter(prefix="/visual", include_in_schema=False)


class Step(StrEnum):
    """The distance between two dates of the answer."""

    week = "week"
    month = "month"
    quarter = "quarter"


class Shares(BaseModel):
    """Each status as a share of the households (0 to 1, 4 decimals; null: no households)."""

    covered: float | None = _f("covered", 0.7568)
    stale: float | None = _f("stale", 0.0541)
    uncovered: float | None = _f("uncovered (all reasons)", 0.1892)
    no_member: float | None = _f("uncovered: no member", 0.027)
    member_inactive: float | None = _f("uncovered: members all inactive", 0.0)
    no_delegate: float | None = _f("uncovered: no active delegate", 0.1622)
    no_committee_member: float | None = _f("uncovered: no active committee member", 0.0)


class Coverage(BaseModel):
    """Households by status on one date (as ``GET /summary`` counts them)."""

    households: int = _f("active households", 37)
    covered: int = _f("covered", 28)
    stale: int = _f("covered but not contacted within stale_after_days", 2)
    uncovered: int = _f("uncovered", 7)
    uncovered_by_reason: ReasonCounts = _f("uncovered households by reason")
    shares: Shares = _f("the same as shares of households")


class TrendStep(BaseModel):
    as_of: dt.date = _f("the date", "2026-06-30")
    all: Coverage = _f("every active household")
    focus: Coverage = _f("active focus households (military_martyr, extreme_poverty, "
                         "empty_nest_elderly)")


_BLOCK = {"households": 37, "covered": 28, "stale": 2, "uncovered": 7,
          "uncovered_by_reason": {"no_member": 1, "member_inactive": 0, "no_delegate": 6,
                                  "no_committee_member": 0},
          "shares": {"covered": 0.7568, "stale": 0.0541, "uncovered": 0.1892, "no_member": 0.027,
                     "member_inactive": 0.0, "no_delegate": 0.1622, "no_committee_member": 0.0}}
_FOCUS = {"households": 16, "covered": 11, "stale": 2, "uncovered": 3,
          "uncovered_by_reason": {"no_member": 0, "member_inactive": 0, "no_delegate": 3,
                                  "no_committee_member": 0},
          "shares": {"covered": 0.6875, "stale": 0.125, "uncovered": 0.1875, "no_member": 0.0,
                     "member_inactive": 0.0, "no_delegate": 0.1875, "no_committee_member": 0.0}}


class Trends(BaseModel):
    """Coverage on every step from ``from`` to ``to``."""

    model_config = _examples({"from": "2026-03-30", "to": "2026-06-30", "step": "quarter",
                              "township_id": "T1", "stale_after_days": 90, "steps": [
                                  {"as_of": "2026-03-30", "all": _BLOCK, "focus": _FOCUS},
                                  {"as_of": "2026-06-30", "all": _BLOCK, "focus": _FOCUS}]})
    from_: dt.date = _f("the first date", "2026-03-30", alias="from")
    to: dt.date = _f("the last date asked for (a date of the answer when on the grid)",
                     "2026-06-30")
    step: Step = _f("week, month or quarter", "quarter")
    township_id: str | None = _f("present when narrowed to a township", "T1", default=None)
    village_id: str | None = _f("present when narrowed to a village", None, default=None)
    stale_after_days: int = _f("the rule setting used", 90)
    steps: list[TrendStep] = _f("from, from + 1 step, … up to to (months and quarters counted "
                                "from from's day, clamped to the month's length)")




FromQuery = Annotated[str | None, Query(
    alias="from", description="the first date, YYYY-MM-DD (default: 12 steps before to)",
    examples=["2025-06-30"], json_schema_extra={"format": "date"})]
ToQuery = Annotated[str | None, Query(
    description="the last date, YYYY-MM-DD (default: today)", examples=["2026-06-30"],
    json_schema_extra={"format": "date"})]
StepQuery = Annotated[Step, Query(description="week, month or quarter", examples=["month"])]


def _body(store: Store, rules: RuleSettings, from_: str | None, to: str | None, step: Step,
          township_id: str | None, village_id: str | None) -> dict[str, Any]:
    last = parse_day("to", to) or dt.date.today()
    first = parse_day("from", from_)
    try:
        return trends_body(store, rules, first=first, last=last, step=step.value,
                           township_id=township_id, village_id=village_id)
    except ValueError as exc:
        raise InvalidParameter("from", str(exc)) from None


@router.get("", response_model=Trends, response_model_exclude_unset=True,
            response_model_by_alias=True, summary="Coverage over time",
            response_description="households by status on every step of the period")
def trends(store: StoreDep, rules: RulesDep, place: PlaceDep, from_: FromQuery = None,
           to: ToQuery = None, step: StepQuery = Step.month) -> dict[str, Any]:
    """Households covered, stale and uncovered by reason, for all and for focus households,
    on every step from `from` to `to` (at most 1000 dates), each as `GET /summary` would
    count them on that date. Computed at once for all dates: the store is read once."""
    return _body(store, rules, from_, to, step, place.township_id, place.village_id)


@visual_router.get("/trends")
def trends_chart(request: Request, store: StoreDep, rules: RulesDep,
                 township_id: Annotated[str | None, Query()] = None, from_: FromQuery = None,
                 to: ToQuery = None, step: StepQuery = Step.month,
                 as_of: Annotated[str | None, Query()] = None) -> Response:
    """The chart page of ``GET /api/v1/trends`` (a township, or the county for keys that see
    every township). ``as_of`` (the date the diagram pages pass on in their links) is the
    default of ``to``."""
    from visual.render import served_link, with_query
    from visual.trends import trends_page

    principal = _principal(request)
    if principal is None:
        return _to_login()
    to = to if to is not None else as_of
    if township_id is None and not principal.every_township:
        if len(principal.townships) != 1:
            raise NotFound(f"this key sees only {', '.join(principal.townships)}: "
                           "name one as township_id")
        township_id = principal.townships[0]
    name = None
    if township_id is not None:
        name = scope.visible(store, principal, Kind.TOWNSHIP, township_id).get("name")
    body = _body(store, rules, from_, to, step, township_id, None)

    def link(view: str, rid: str | None) -> str:
        if view == "index":
            return served_link(view, rid)
        return with_query(served_link(view, rid), "as_of=" + body["to"])

    return _html(trends_page(body, place_name=name, link=link, form_action="/visual/trends"))

