"""Contacts: visits, calls and meetings with households."""

from __future__ import annotations

from fastapi import APIRouter, status

from graphsvc.api import writes
from graphsvc.api.deps import StoreDep, WriterDep
from graphsvc.api.schemas import WRITE_ERRORS, ContactCreate, ContactRecord, error_responses

router = APIRouter(prefix="/contacts", tags=["contacts"])


@router.post("", response_model=ContactRecord, status_code=status.HTTP_201_CREATED,
             summary="Record a contact",
             response_description="the contact as stored",
             responses=error_responses(*WRITE_ERRORS))
def add_contact(store: StoreDep, principal: WriterDep, body: ContactCreate) -> dict[str, object]:
    """Record a contact with a household, checked like a row of contacts.csv; the same contact
    (all fields equal) is kept once."""
    return writes.add_contact(store, principal, body.model_dump(mode="json", exclude_unset=True))
