"""Liaisons of the three-contact chain: add one, end one (it is kept, with ``until``)."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from graphsvc.api import writes
from graphsvc.api.deps import StoreDep, WriterDep
from graphsvc.api.schemas import (
    WRITE_ERRORS,
    LiaisonCreate,
    LiaisonEnd,
    LiaisonRecord,
    end_link,
    error_responses,
)

# what the answer to an add links to: ending it (FastAPI's operationId of the end route)
END = end_link("end_liaison_api_v1_liaisons_end_post", "kind", "from_id", "to_id")

router = APIRouter(prefix="/liaisons", tags=["liaisons"], responses=error_responses(*WRITE_ERRORS))


@router.post("", response_model=LiaisonRecord, status_code=status.HTTP_201_CREATED,
             summary="Add a liaison",
             response_description="the liaison as stored (new)",
             responses={200: {"model": LiaisonRecord, "description": "it existed; dates set",
                             "links": END}, 201: {"links": END}})
def add_liaison(store: StoreDep, principal: WriterDep, body: LiaisonCreate,
                response: Response) -> dict[str, object]:
    """Add a liaison, checked like a row of liaisons.csv (a delegate-member liaison must start
    at a delegate…). 201 when new; 200 when it existed (the dates given are set)."""
    record, new = writes.add_link(store, principal, "liaisons",
                                  body.model_dump(mode="json", exclude_unset=True))
    if not new:
        response.status_code = status.HTTP_200_OK
    return record


@router.post("/end", response_model=LiaisonRecord, summary="End a liaison",
             response_description="the liaison as stored, with until")
def end_liaison(store: StoreDep, principal: WriterDep, body: LiaisonEnd) -> dict[str, object]:
    """Set the liaison's until (default today); from that day it no longer counts."""
    keys = body.model_dump(mode="json", include={"kind", "from_id", "to_id"})
    return writes.end_link(store, principal, "liaisons", keys, body.until)
