"""Unit–village pairings (结对帮扶): add one, end one (it is kept, with ``until``)."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from graphsvc.api import writes
from graphsvc.api.deps import StoreDep, WriterDep
from graphsvc.api.schemas import (
    WRITE_ERRORS,
    PairingCreate,
    PairingEnd,
    PairingRecord,
    end_link,
    error_responses,
)

# what the answer to an add links to: ending it (FastAPI's operationId of the end route)
END = end_link("end_pairing_api_v1_pairings_end_post", "unit_id", "village_id")

router = APIRouter(prefix="/pairings", tags=["pairings"], responses=error_responses(*WRITE_ERRORS))


@router.post("", response_model=PairingRecord, status_code=status.HTTP_201_CREATED,
             summary="Add a pairing",
             response_description="the pairing as stored (new)",
             responses={200: {"model": PairingRecord, "description": "it existed; dates set",
                             "links": END}, 201: {"links": END}})
def add_pairing(store: StoreDep, principal: WriterDep, body: PairingCreate,
                response: Response) -> dict[str, object]:
    """Add a pairing, checked like a row of pairings.csv (the unit and the village must exist…).
    201 when new; 200 when it existed (the dates given are set)."""
    record, new = writes.add_link(store, principal, "pairings",
                                  body.model_dump(mode="json", exclude_unset=True))
    if not new:
        response.status_code = status.HTTP_200_OK
    return record


@router.post("/end", response_model=PairingRecord, summary="End a pairing",
             response_description="the pairing as stored, with until")
def end_pairing(store: StoreDep, principal: WriterDep, body: PairingEnd) -> dict[str, object]:
    """Set the pairing's until (default today); from that day it no longer counts."""
    keys = body.model_dump(mode="json", include={"unit_id", "village_id"})
    return writes.end_link(store, principal, "pairings", keys, body.until)
