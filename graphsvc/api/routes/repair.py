"""Repair plans: who should take over what lost its chain (graphsvc.analysis.repair), and
applying one (all or part) in one write."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from graphsvc.analysis import repair
from graphsvc.api import scope, writes
from graphsvc.api.deps import (
    AsOfDep,
    PrincipalDep,
    RulesDep,
    SettingsDep,
    StoreDep,
    TownshipDep,
    WriterDep,
)
from graphsvc.api.errors import Conflict, WriteRefused
from graphsvc.api.schemas import NOT_BLANK, READ_ERRORS, WRITE_ERRORS, Day, error_responses
from graphsvc.model import Kind

router = APIRouter(prefix="/repair-plans", tags=["repair plans"])

Kinds = Literal["committee_member-delegate", "delegate-member", "member-household"]


class ProposedLiaison(BaseModel):
    """A liaison the plan proposes."""

    kind: Kinds = Field(description="which link of the chain", examples=["member-household"])
    from_id: str = Field(description="the person above, who takes over", examples=["M19"])
    to_id: str = Field(description="the person or household below", examples=["H059"])
    township_id: str | None = Field(default=None, description="the township of the one below")
    village_id: str | None = Field(default=None, description="member-household: the household's "
                                                             "village")
    cost: int = Field(description="the solver's cost of this choice (lower: preferred)")
    reason: str = Field(description="why this person, in words (Chinese, then English)")


class Unassigned(BaseModel):
    household_id: str = Field(description="a household no one can take", examples=["H059"])
    why: str = Field(description="why, in words")


class UnassignedMember(BaseModel):
    member_id: str = Field(description="a member left without a delegate")
    why: str = Field(description="why no delegate could take them")


class UnassignedDelegate(BaseModel):
    delegate_id: str = Field(description="a delegate left without a committee member")
    why: str = Field(description="why no committee member could take them")


class PlanCounts(BaseModel):
    targeted: int = Field(description="households the plan is for")
    covered_by_plan: int = Field(description="of those, covered once the plan is applied")
    covered_by_upper_links: int = Field(description="of those, covered by a proposed delegate or "
                                                    "committee member alone")
    unassigned: int = Field(description="left uncovered: see unassigned")


class RepairPlan(BaseModel):
    """Proposed liaisons, with reasons, and what no one can take."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "as_of": "2026-06-30", "township_id": "T1", "person_id": None, "cap": 5,
        "households": {"targeted": 7, "covered_by_plan": 7, "covered_by_upper_links": 6,
                       "unassigned": 0},
        "items": [{"kind": "delegate-member", "from_id": "D1", "to_id": "M16",
                   "township_id": "T1", "cost": 110,
                   "reason": "党员M16没有在岗的党代表联系；建议由同乡镇党代表D1联系。"
                             "Member M16 has no active delegate; D1 of the same township "
                             "would take them."}],
        "unassigned": [], "unassigned_members": [], "unassigned_delegates": []}]})
    as_of: str = Field(description="the date the plan is for")
    township_id: str | None = Field(description="the township planned for (None: the county)")
    person_id: str | None = Field(description="the leaving person planned for, if any")
    cap: int = Field(description="no member gets more households than this")
    households: PlanCounts = Field(
        description="the households the plan is for, and how many it covers")
    items: list[ProposedLiaison] = Field(description="committee members for delegates, then "
                                                     "delegates for members, then members for "
                                                     "households (focus households first)")
    unassigned: list[Unassigned] = Field(description="households no one can take, and why")
    unassigned_members: list[UnassignedMember] = Field(
        description="members without a delegate that no delegate can take")
    unassigned_delegates: list[UnassignedDelegate] = Field(
        description="delegates without a committee member that no committee member can take")


class ApplyItem(BaseModel):
    """One proposed liaison to write (the other fields of a plan's item may be sent too)."""

    model_config = ConfigDict(extra="ignore")
    kind: Kinds = Field(description="which liaison: member-household, delegate-member or "
                                    "committee_member-delegate", examples=["member-household"])
    from_id: str = Field(min_length=1, pattern=NOT_BLANK, description="who takes it over",
                         examples=["M19"])
    to_id: str = Field(min_length=1, pattern=NOT_BLANK, description="whom they take over",
                       examples=["H059"])


class ApplyBody(BaseModel):
    """The liaisons to write: all of a plan's items, or some."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "since": "2026-07-01",
        "items": [{"kind": "member-household", "from_id": "M19", "to_id": "H059"}]}]})
    since: Day | None = Field(default=None, description="the day they begin (default today)")
    items: list[ApplyItem] = Field(min_length=1, max_length=100_000,
                                   description="the proposed liaisons to write, all or some")


class Applied(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "since": "2026-06-30", "applied": 1,
        "items": [{"kind": "member-household", "from_id": "M19", "to_id": "H059"}]}]})

    since: str = Field(description="the day the written liaisons begin")
    applied: int = Field(description="liaisons written (one that already counted on that day is "
                                     "left as it was and not counted; when none is written the "
                                     "answer is 409)")
    items: list[ApplyItem] = Field(description="the liaisons written")


@router.get("", response_model=RepairPlan, response_model_exclude_unset=True,
            summary="A repair plan",
            response_description="the proposed liaisons, and what no one can take",
            responses=error_responses(*READ_ERRORS))
def get_plan(
    store: StoreDep, rules: RulesDep, settings: SettingsDep, principal: PrincipalDep,
    as_of: AsOfDep, township_id: TownshipDep,
    person_id: Annotated[str | None, Query(
        description="plan for the households this person's leaving would orphan (they are "
                    "never proposed)", examples=["D1"])] = None,
    cap: Annotated[int | None, Query(
        ge=1, le=100, description="most households a member may have after the plan (default "
                                  "GRAPHSVC_REPAIR_CAP, 5)", examples=[5])] = None,
) -> dict[str, object]:
    """Who should take over: committee members for delegates without one, delegates for members
    without one, and members for the uncovered households of the township (or those a leaving
    person would orphan): same village first, then the township; the least loaded first; never
    above the cap; focus households first. Solved as one min-cost flow per step."""
    if person_id is not None:
        scope.visible(store, principal, Kind.PERSON, person_id)
    return repair.plan(store, as_of, rules, township_id=township_id, person_id=person_id,
                       cap=cap or settings.repair_cap)


@router.post("/apply", response_model=Applied, summary="Apply a repair plan (all or part)",
             response_description="what was written",
             responses=error_responses(*WRITE_ERRORS))
def apply_plan(store: StoreDep, principal: WriterDep, body: ApplyBody) -> dict[str, object]:
    """Write the given proposed liaisons in one import, checked like liaisons.csv (all or
    nothing), recorded in the audit log under this key. A key limited to townships may only
    write liaisons to people and households of its townships (else 403, nothing written). A
    liaison that already counts on ``since`` is left as it is; when that is so of every one
    given (the plan was applied already, or they were added since), nothing is written and the
    answer is 409 naming them."""
    items = [i.model_dump() for i in body.items]
    since = body.since or dt.date.today()
    # a key limited to townships: an unknown id reads as one outside them (the same 403)
    scope.ensure_reaches(store, principal, [
        ref for i in items for ref in (
            (Kind.HOUSEHOLD if i["kind"] == "member-household" else Kind.PERSON, i["to_id"], False),
            (Kind.PERSON, i["from_id"], True))])
    report, written = repair.apply_items(store, items, since, actor=writes.actor(principal))
    if not report.ok:
        raise WriteRefused(report)
    if not written:
        raise Conflict(repair.nothing_applied(items, since))
    return {"since": since.isoformat(), "applied": len(written), "items": written}

