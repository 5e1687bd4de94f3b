"""Cadres supporting poor households (结穷亲): add one, end one (it is kept, with ``until``)."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from graphsvc.api import writes
from graphsvc.api.deps import StoreDep, WriterDep
from graphsvc.api.schemas import (
    WRITE_ERRORS,
    SupportCreate,
    SupportEnd,
    SupportRecord,
    end_link,
    error_responses,
)

# what the answer to an add links to: ending it (FastAPI's operationId of the end route)
END = end_link("end_support_api_v1_supports_end_post", "person_id", "household_id")

router = APIRouter(prefix="/supports", tags=["supports"], responses=error_responses(*WRITE_ERRORS))


@router.post("", response_model=SupportRecord, status_code=status.HTTP_201_CREATED,
             summary="Add a support",
             response_description="the support as stored (new)",
             responses={200: {"model": SupportRecord, "description": "it existed; dates set",
                             "links": END}, 201: {"links": END}})
def add_support(store: StoreDep, principal: WriterDep, body: SupportCreate,
                response: Response) -> dict[str, object]:
    """Add a support, checked like a row of supports.csv (the person and the household must exist…).
    201 when new; 200 when it existed (the dates given are set)."""
    record, new = writes.add_link(store, principal, "supports",
                                  body.model_dump(mode="json", exclude_unset=True))
    if not new:
        response.status_code = status.HTTP_200_OK
    return record


@router.post("/end", response_model=SupportRecord, summary="End a support",
             response_description="the support as stored, with until")
def end_support(store: StoreDep, principal: WriterDep, body: SupportEnd) -> dict[str, object]:
    """Set the support's until (default today); from that day it no longer counts."""
    keys = body.model_dump(mode="json", include={"person_id", "household_id"})
    return writes.end_link(store, principal, "supports", keys, body.until)
