"""Single points of failure: who would leave households uncovered by leaving
(graphsvc.analysis.risks)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from graphsvc.analysis.risks import DEFAULT_FOCUS_WEIGHT, risks_body
from graphsvc.api.deps import AsOfDep, Limit, Offset, RulesDep, StoreDep, TownshipDep
from graphsvc.api.schemas import READ_ERRORS, error_responses

router = APIRouter(prefix="/risks", tags=["risks"], responses=error_responses(*READ_ERRORS))


class RiskPerson(BaseModel):
    """One person, with the households that depend on them alone."""

    person_id: str = Field(description="the person's id", examples=["D1"])
    name: str | None = Field(description="the person's name", examples=["陈金兰"])
    roles: list[str] = Field(description="their roles as stored", examples=[["delegate"]])
    township_id: str | None = Field(description="their township (None: the county level)",
                                    examples=["T1"])
    households_lost: int = Field(
        description="households covered or stale on the date that would be uncovered if this "
                    "person left (as GET /people/{id}/impact counts them; with township_id, "
                    "that township's only)", examples=[30])
    focus_households_lost: int = Field(description="how many of those are focus households",
                                       examples=[13])
    score: int = Field(description="households_lost, with each focus household counted "
                                   "focus_weight times", examples=[56])


class RiskRanking(BaseModel):
    """People ranked by how much coverage hangs on them alone."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "as_of": "2026-06-30", "focus_weight": 3, "total": 18, "items": [
            {"person_id": "C1", "name": "李军秀", "roles": ["committee_member"],
             "township_id": None, "households_lost": 30, "focus_households_lost": 13,
             "score": 56}]}]})
    as_of: str = Field(description="the date the answer holds on")
    township_id: str | None = Field(default=None, description="the township it is narrowed to")
    focus_weight: int = Field(description="what a focus household counts in the score")
    total: int = Field(description="people who would leave at least one household uncovered")
    items: list[RiskPerson] = Field(description="by score (highest first), then by id")


@router.get("/people", response_model=RiskRanking, response_model_exclude_unset=True,
            summary="Single points of failure",
            response_description="one page of the ranking, with the total")
def people(
    store: StoreDep, rules: RulesDep, as_of: AsOfDep, township_id: TownshipDep,
    focus_weight: Annotated[int, Query(
        ge=1, le=100, description="a focus household (military/martyr family, extremely poor, "
                                  "empty-nest elderly) counts this many times an ordinary one",
        examples=[3])] = DEFAULT_FOCUS_WEIGHT,
    limit: Limit = 100, offset: Offset = 0,
) -> dict[str, object]:
    """Everyone whose leaving would leave households uncovered (they are in every chain that
    holds those households up), ranked by score: every person's impact at once. With a
    township, only its households count and only its people are listed."""
    return risks_body(store, as_of, rules, township_id=township_id, focus_weight=focus_weight,
                      limit=limit, offset=offset)
