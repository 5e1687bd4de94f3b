"""The county (or one township) in numbers."""

from __future__ import annotations

from fastapi import APIRouter

from graphsvc import service
from graphsvc.api.deps import AsOfDep, RulesDep, StoreDep, TownshipDep
from graphsvc.api.schemas import READ_ERRORS, Summary, error_responses

router = APIRouter(prefix="/summary", tags=["summary"])


@router.get("", response_model=Summary, response_model_exclude_unset=True,
            summary="The county in numbers",
            response_description="counts on the date",
            responses=error_responses(*READ_ERRORS))
def summary(store: StoreDep, rules: RulesDep, as_of: AsOfDep,
            township_id: TownshipDep) -> dict[str, object]:
    """Townships, villages, organisations, units, people, households by status and reason,
    pairings, supports, contacts and requests, on the date."""
    return service.summary_body(store, as_of, rules, township_id=township_id)
