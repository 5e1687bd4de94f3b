"""People: who leaves a gap if they go, and the clerk's changes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Header, Path, Request, Response, status

from graphsvc import service
from graphsvc.api import masking, scope, writes
from graphsvc.api.deps import AsOfDep, PrincipalDep, RulesDep, StoreDep, WriterDep
from graphsvc.api.paths import PATH_ID
from graphsvc.api.redact import Redactor
from graphsvc.api.schemas import (
    READ_ERRORS,
    WRITE_ERRORS,
    Deactivate,
    Impact,
    PersonCreate,
    PersonRecord,
    PersonUpdate,
    error_responses,
)
from graphsvc.bundle.validate import Record
from graphsvc.keys import Principal
from graphsvc.model import Kind

router = APIRouter(prefix="/people", tags=["people"])

PersonId = Annotated[str, Path(description="the person's id (a '/' in it is sent as %2F)",
                               examples=["M01"]), PATH_ID]


@router.get("/{person_id}", response_model=PersonRecord, summary="One person as stored",
            response_description="the person as stored",
            responses=error_responses(*READ_ERRORS))
def get_person(request: Request, store: StoreDep, principal: PrincipalDep, person_id: PersonId,
               response: Response) -> dict[str, object]:
    """The person's record, as people.csv holds it; the phone is masked for keys without
    --pii."""
    return _tagged(request, response, principal,
                   writes.visible(store, principal, Kind.PERSON, person_id), "GET /people/{id}")


@router.get("/{person_id}/impact", response_model=Impact, response_model_exclude_unset=True,
            summary="Who loses coverage if this person leaves",
            response_description="the households that would become uncovered, with why",
            responses=error_responses(*READ_ERRORS))
def get_impact(store: StoreDep, rules: RulesDep, principal: PrincipalDep, as_of: AsOfDep,
               person_id: PersonId) -> dict[str, object]:
    """Households covered or stale on the date that would be uncovered if the person were
    inactive, each with the reason it would then have."""
    scope.visible(store, principal, Kind.PERSON, person_id)
    body = service.impact_body(store, person_id, as_of, rules)
    return {**body, "items": Redactor(store, principal).households(body["items"])}


@router.post("", response_model=PersonRecord, status_code=status.HTTP_201_CREATED,
             summary="Add a person",
             response_description="the person as stored",
             responses=error_responses(*WRITE_ERRORS))
def create_person(request: Request, store: StoreDep, principal: WriterDep, body: PersonCreate,
                  response: Response) -> dict[str, object]:
    """Add a person, checked like a row of people.csv; returns them as stored."""
    return _tagged(request, response, principal, writes.create_entity(
        store, principal, Kind.PERSON, body.model_dump(mode="json", exclude_unset=True)),
        "POST /people")


@router.patch("/{person_id}", response_model=PersonRecord, summary="Change a person",
              response_description="the person as stored",
              responses=error_responses(*WRITE_ERRORS))
def update_person(request: Request, store: StoreDep, principal: WriterDep, person_id: PersonId,
                  body: PersonUpdate, response: Response,
    if_match: Annotated[str | None, Header(
        description="the ETag of the version you read (GET); if it changed since, 409 and "
                    "nothing is written", examples=['"3f2a9c0d1e4b5a6c7d8e"'])] = None,
                  ) -> dict[str, object]:
    """Change the fields given; the others keep their stored values. Returns them as stored.
    Send the ETag you read as If-Match: if someone changed the person meanwhile, 409."""
    return _tagged(request, response, principal, writes.update_entity(
        store, principal, Kind.PERSON, person_id, body.model_dump(mode="json", exclude_unset=True),
        if_match, keys=request.app.state.keys), "PATCH /people/{id}")


@router.post("/{person_id}/deactivate", response_model=PersonRecord,
             summary="Mark a person inactive",
             response_description="the person as stored",
             responses=error_responses(*WRITE_ERRORS))
def deactivate_person(request: Request, store: StoreDep, principal: WriterDep,
                      person_id: PersonId,
                      response: Response, body: Annotated[Deactivate | None, Body()] = None,
    if_match: Annotated[str | None, Header(
        description="the ETag of the version you read (GET); if it changed since, 409 and "
                    "nothing is written", examples=['"3f2a9c0d1e4b5a6c7d8e"'])] = None,
                      ) -> dict[str, object]:
    """The person left on inactive_since (default today): from then on they no longer count,
    and the households below them show it. Nothing is deleted."""
    return _tagged(request, response, principal, writes.deactivate(
        store, principal, Kind.PERSON, person_id, body.inactive_since if body else None, if_match,
        keys=request.app.state.keys), "POST /people/{id}/deactivate")


def _tagged(request: Request, response: Response, principal: Principal,
            read: tuple[Record, str], what: str) -> dict[str, object]:
    """The record as this key may see it (the phone masked without --pii; a read of it
    unmasked logged, as a household's), its version as the ETag header (send it back as
    If-Match to change it)."""
    record, version = read
    response.headers["ETag"] = writes.etag_header(request.app.state.keys, version)
    if principal.pii and record.get("phone"):
        request.app.state.keys.log_pii_read(principal, what, [str(record["id"])])
    return masking.person(record, principal.pii)
