"""Households: their coverage status, one household's support, and the clerk's changes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Query, status

from graphsvc import service
from graphsvc.api import scope, writes
from graphsvc.api.deps import (
    AsOfDep,
    Limit,
    Offset,
    PlaceDep,
    PrincipalDep,
    RulesDep,
    StoreDep,
    WriterDep,
)
from graphsvc.api.schemas import (
    READ_ERRORS,
    WRITE_ERRORS,
    Deactivate,
    HouseholdCreate,
    HouseholdDetail,
    HouseholdList,
    HouseholdRecord,
    HouseholdStatus,
    HouseholdUpdate,
    UncoveredReason,
    error_responses,
)
from graphsvc.bundle.schema import Kind

router = APIRouter(prefix="/households", tags=["households"])

HouseholdId = Annotated[str, Path(description="the household's id", examples=["H002"])]


@router.get("", response_model=HouseholdList, response_model_exclude_unset=True,
            summary="Household statuses",
            response_description="one page of household statuses, with the total",
            responses=error_responses(*READ_ERRORS))
def list_households(
    store: StoreDep, rules: RulesDep, as_of: AsOfDep, place: PlaceDep,
    status_: Annotated[HouseholdStatus | None, Query(
        alias="status", description="only households with this status",
        examples=["uncovered"])] = None,
    reason: Annotated[UncoveredReason | None, Query(
        description="only uncovered households with this reason", examples=["no_delegate"])] = None,
    focus_only: Annotated[bool, Query(description="only focus households",
                                      examples=[True])] = False,
    limit: Limit = 100, offset: Offset = 0,
) -> dict[str, object]:
    """Every active household's status on the date: focus households first, then by id."""
    return service.households_body(
        store, as_of, rules, township_id=place.township_id, village_id=place.village_id,
        status=status_ and status_.value, reason=reason and reason.value, focus_only=focus_only,
        limit=limit, offset=offset)


@router.get("/{household_id}", response_model=HouseholdDetail, response_model_exclude_unset=True,
            summary="One household and everyone who supports it",
            response_description="the household, its chains, cadres, units and contacts",
            responses=error_responses(*READ_ERRORS))
def get_household(store: StoreDep, rules: RulesDep, principal: PrincipalDep, as_of: AsOfDep,
                  household_id: HouseholdId) -> dict[str, object]:
    """The household with its chains upward (members, their delegates, their committee members),
    supporting cadres, its village's paired units and recent contacts."""
    scope.visible(store, principal, Kind.HOUSEHOLD, household_id)
    return service.household_body(store, household_id, as_of, rules)


@router.post("", response_model=HouseholdRecord, status_code=status.HTTP_201_CREATED,
             summary="Add a household",
             response_description="the household as stored",
             responses=error_responses(*WRITE_ERRORS))
def create_household(store: StoreDep, principal: WriterDep,
                     body: HouseholdCreate) -> dict[str, object]:
    """Add a household, checked like a row of households.csv; returns it as stored."""
    return writes.create_entity(store, principal, Kind.HOUSEHOLD,
                                body.model_dump(mode="json", exclude_unset=True))


@router.patch("/{household_id}", response_model=HouseholdRecord, summary="Change a household",
              response_description="the household as stored",
              responses=error_responses(*WRITE_ERRORS))
def update_household(store: StoreDep, principal: WriterDep, household_id: HouseholdId,
                     body: HouseholdUpdate) -> dict[str, object]:
    """Change the fields given; the others keep their stored values. Returns it as stored."""
    return writes.update_entity(store, principal, Kind.HOUSEHOLD, household_id,
                                body.model_dump(mode="json", exclude_unset=True))


@router.post("/{household_id}/deactivate", response_model=HouseholdRecord,
             summary="Mark a household inactive",
             response_description="the household as stored",
             responses=error_responses(*WRITE_ERRORS))
def deactivate_household(store: StoreDep, principal: WriterDep, household_id: HouseholdId,
                         body: Annotated[Deactivate | None, Body()] = None) -> dict[str, object]:
    """The household moved away or dissolved on inactive_since (default today); it is kept."""
    return writes.deactivate(store, principal, Kind.HOUSEHOLD, household_id,
                             body.inactive_since if body else None)
