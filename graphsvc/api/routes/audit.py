"""The audits of COVERAGE_RULES.md: delegates, members, committee members, pairings."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from graphsvc import service
from graphsvc.api.deps import (
    AsOfDep,
    Limit,
    Offset,
    PlaceDep,
    PrincipalDep,
    RulesDep,
    StoreDep,
    TownshipDep,
)
from graphsvc.api.redact import Redactor
from graphsvc.api.schemas import (
    READ_ERRORS,
    CommitteeMemberAudit,
    DelegateAudit,
    MemberAudit,
    PairingAudit,
    error_responses,
)
from graphsvc.model import CommitteeMemberProblem, DelegateStatus, MemberProblem

router = APIRouter(prefix="/audit", tags=["audit"], responses=error_responses(*READ_ERRORS))


@router.get("/delegates", response_model=DelegateAudit, response_model_exclude_unset=True,
            summary="Delegate audit",
            response_description="one page of delegates, with the total")
def delegates(
    store: StoreDep, rules: RulesDep, as_of: AsOfDep, place: PlaceDep, principal: PrincipalDep,
    status: Annotated[DelegateStatus | None, Query(
        description="ok: no problem; gap: at least one", examples=["gap"])] = None,
    limit: Limit = 100, offset: Offset = 0,
) -> dict[str, object]:
    """Every active delegate: their committee members, members, households reached, problems."""
    body = service.delegates_body(store, as_of, rules, township_id=place.township_id,
                                  village_id=place.village_id, status=status and status.value,
                                  limit=limit, offset=offset)
    return {**body, "items": Redactor(store, principal).rows(
        body["items"], "committee_member_ids", "member_ids", "members_short")}


@router.get("/members", response_model=MemberAudit, response_model_exclude_unset=True,
            summary="Member audit",
            response_description="one page of members, with the total")
def members(
    store: StoreDep, rules: RulesDep, as_of: AsOfDep, place: PlaceDep, principal: PrincipalDep,
    problem: Annotated[MemberProblem | None, Query(
        description="only members with this problem", examples=["no_delegate"])] = None,
    limit: Limit = 100, offset: Offset = 0,
) -> dict[str, object]:
    """Every active person in the chain as a member: households, delegates above, problems."""
    body = service.members_body(store, as_of, rules, township_id=place.township_id,
                                village_id=place.village_id, problem=problem and problem.value,
                                limit=limit, offset=offset)
    return {**body, "items": Redactor(store, principal).rows(body["items"], "delegate_ids")}


@router.get("/committee-members", response_model=CommitteeMemberAudit,
            response_model_exclude_unset=True, summary="Committee-member audit",
            response_description="one page of committee members, with the total")
def committee_members(
    store: StoreDep, rules: RulesDep, as_of: AsOfDep, place: PlaceDep, principal: PrincipalDep,
    problem: Annotated[CommitteeMemberProblem | None, Query(
        description="only committee members with this problem",
        examples=["too_few_delegates"])] = None,
    limit: Limit = 100, offset: Offset = 0,
) -> dict[str, object]:
    """Every active county committee member: the delegates they liaise with, households reached."""
    body = service.committee_members_body(
        store, as_of, rules, township_id=place.township_id, village_id=place.village_id,
        problem=problem and problem.value, limit=limit, offset=offset)
    return {**body, "items": Redactor(store, principal).rows(body["items"], "delegate_ids")}


@router.get("/pairings", response_model=PairingAudit, response_model_exclude_unset=True,
            summary="Pairing audit",
            response_description="unpaired villages and idle units")
def pairings(store: StoreDep, as_of: AsOfDep, township_id: TownshipDep) -> dict[str, object]:
    """Villages that need a unit and have none; units with no pairing."""
    return service.pairings_body(store, as_of, township_id=township_id)
