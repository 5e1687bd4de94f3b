"""Households: their coverage status, one household's support, and the clerk's changes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Header, Path, Query, Request, Response, status

from graphsvc import service
from graphsvc.api import masking, writes
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
from graphsvc.api.paths import PATH_ID
from graphsvc.api.redact import Redactor
from graphsvc.api.schemas import (
    READ_ERRORS,
    WRITE_ERRORS,
    Deactivate,
    HouseholdCreate,
    HouseholdDetail,
    HouseholdList,
    HouseholdRecord,
    HouseholdUpdate,
    error_responses,
)
from graphsvc.bundle.validate import Record
from graphsvc.keys import Principal
from graphsvc.model import HouseholdStatus, Kind, UncoveredReason

router = APIRouter(prefix="/households", tags=["households"])

HouseholdId = Annotated[str, Path(description="the household's id (a '/' in it is sent as %2F)",
                                     examples=["H002"]), PATH_ID]


@router.get("", response_model=HouseholdList, response_model_exclude_unset=True,
            summary="Household statuses",
            response_description="one page of household statuses, with the total",
            responses=error_responses(*READ_ERRORS))
def list_households(
    store: StoreDep, rules: RulesDep, as_of: AsOfDep, place: PlaceDep, principal: PrincipalDep,
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
    body = service.households_body(
        store, as_of, rules, township_id=place.township_id, village_id=place.village_id,
        status=status_ and status_.value, reason=reason and reason.value, focus_only=focus_only,
        limit=limit, offset=offset)
    return {**body, "items": Redactor(store, principal).rows(body["items"], "member_ids")}


@router.get("/{household_id}", response_model=HouseholdDetail, response_model_exclude_unset=True,
            summary="One household and everyone who supports it",
            response_description="the household, its chains, cadres, units and contacts",
            responses=error_responses(*READ_ERRORS))
def get_household(request: Request, response: Response, store: StoreDep, rules: RulesDep,
                  principal: PrincipalDep, as_of: AsOfDep,
                  household_id: HouseholdId) -> dict[str, object]:
    """The household with its chains upward (members, their delegates, their committee members),
    supporting cadres, its village's paired units and recent contacts. Its name, phone and
    address are masked for keys without --pii. The ETag header is the stored record's version:
    send it as If-Match with a change."""
    _, version = writes.visible(store, principal, Kind.HOUSEHOLD, household_id)
    response.headers["ETag"] = writes.etag_header(request.app.state.keys, version)
    body = Redactor(store, principal).household_detail(
        service.household_body(store, household_id, as_of, rules))
    return _shown(request, principal, body, "GET /households/{id}")


@router.post("", response_model=HouseholdRecord, status_code=status.HTTP_201_CREATED,
             summary="Add a household",
             response_description="the household as stored",
             responses=error_responses(*WRITE_ERRORS))
def create_household(request: Request, response: Response, store: StoreDep,
                     principal: WriterDep, body: HouseholdCreate) -> dict[str, object]:
    """Add a household, checked like a row of households.csv; returns it as stored."""
    record = writes.create_entity(store, principal, Kind.HOUSEHOLD,
                                  body.model_dump(mode="json", exclude_unset=True))
    return _record(request, response, principal, record, "POST /households")


@router.patch("/{household_id}", response_model=HouseholdRecord, summary="Change a household",
              response_description="the household as stored",
              responses=error_responses(*WRITE_ERRORS))
def update_household(request: Request, response: Response, store: StoreDep,
                     principal: WriterDep, household_id: HouseholdId, body: HouseholdUpdate,
    if_match: Annotated[str | None, Header(
        description="the ETag of the version you read (GET); if it changed since, 409 and "
                    "nothing is written", examples=['"3f2a9c0d1e4b5a6c7d8e"'])] = None,
                     ) -> dict[str, object]:
    """Change the fields given; the others keep their stored values. Returns it as stored.
    Send the ETag you read as If-Match: if someone changed the household meanwhile, 409 and
    nothing is written (read it again and retry)."""
    record = writes.update_entity(store, principal, Kind.HOUSEHOLD, household_id,
                                  body.model_dump(mode="json", exclude_unset=True), if_match,
                                  keys=request.app.state.keys)
    return _record(request, response, principal, record, "PATCH /households/{id}")


@router.post("/{household_id}/deactivate", response_model=HouseholdRecord,
             summary="Mark a household inactive",
             response_description="the household as stored",
             responses=error_responses(*WRITE_ERRORS))
def deactivate_household(request: Request, response: Response, store: StoreDep,
                         principal: WriterDep, household_id: HouseholdId,
                         body: Annotated[Deactivate | None, Body()] = None,
    if_match: Annotated[str | None, Header(
        description="the ETag of the version you read (GET); if it changed since, 409 and "
                    "nothing is written", examples=['"3f2a9c0d1e4b5a6c7d8e"'])] = None,
                         ) -> dict[str, object]:
    """The household moved away or dissolved on inactive_since (default today); it is kept."""
    record = writes.deactivate(store, principal, Kind.HOUSEHOLD, household_id,
                               body.inactive_since if body else None, if_match,
                               keys=request.app.state.keys)
    return _record(request, response, principal, record, "POST /households/{id}/deactivate")


def _shown(request: Request, principal: Principal, body: dict[str, object],
           what: str) -> dict[str, object]:
    """The household as this key may see it; a read of unmasked personal data is logged."""
    if principal.pii:
        request.app.state.keys.log_pii_read(principal, what, [str(body.get("household_id")
                                                                   or body.get("id"))])
    return masking.household(body, principal.pii)


def _record(request: Request, response: Response, principal: Principal,
            written: tuple[Record, str], what: str) -> dict[str, object]:
    record, version = written
    response.headers["ETag"] = writes.etag_header(request.app.state.keys, version)
    return _shown(request, principal, record, what)
