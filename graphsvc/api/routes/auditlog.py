"""The audit log, for admins: every write (who, with which key, when, old and new values) and
every read of households' unmasked personal data."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from graphsvc.api.deps import Limit, Offset, PrincipalDep, StoreDep
from graphsvc.api.errors import Forbidden, InvalidParameter
from graphsvc.api.schemas import READ_ERRORS, error_responses
from graphsvc.auditlog import SUBJECT_LIMIT, entries, instant
from graphsvc.keys import Principal, Role

router = APIRouter(prefix="/audit-log", tags=["audit log"])


class AuditAction(StrEnum):
    import_ = "import"
    replace_ = "replace"  # (`replace` would hide str.replace)
    write = "write"
    read_pii = "read_pii"


class AuditEntry(BaseModel):
    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{
        "id": "5f0c…", "at": "2026-11-26T09:30:12.345+00:00", "action": "write", "via": "api",
        "key_id": "Ab12Cd34", "key_name": "柳树镇 clerk", "role": "editor",
        "files": {"households": 1}, "records": 1, "subjects": ["H002"], "detailed": True,
        "changes": [{"file": "households", "op": "update", "id": "H002",
                     "old": {"phone": "15800000002"}, "new": {"phone": "15800000022"}}]}]})

    at: str = Field(description="when (UTC, ISO 8601)")
    action: str = Field(description="import, replace, write, or read_pii")
    via: str = Field(description="api or cli")
    key_id: str | None = Field(None, description="the API key's id (none for the CLI)")
    key_name: str | None = Field(None, description="the key's name, or the CLI's system user")
    subjects: list[str] = Field(default_factory=list, description="the ids the entry touches")


class AuditLog(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"total": 1, "items": [
        {"at": "2026-11-26T09:30:12.345+00:00", "action": "read_pii", "via": "api",
         "key_id": "Ab12Cd34", "key_name": "county office", "what": "GET /households/{id}",
         "subjects": ["H002"]}]}]})

    total: int = Field(description="entries matching the filters")
    items: list[AuditEntry] = Field(description="one page of entries, newest first")


def get_admin(principal: PrincipalDep) -> Principal:
    """Only admins read the audit log."""
    if principal.role is not Role.ADMIN:
        raise Forbidden(f"this key's role is {principal.role.value}: only admin keys may read "
                        "the audit log")
    return principal


def _instant(name: str, value: str | None) -> str | None:
    try:
        return instant(value)
    except ValueError as exc:
        raise InvalidParameter(name, str(exc)) from None


@router.get("", response_model=AuditLog, summary="The audit log (admins)",
            response_description="matching entries, newest first, with the total",
            responses=error_responses(*READ_ERRORS))
def audit_log(
    request: Request, store: StoreDep, principal: Annotated[Principal, Depends(get_admin)],
    since: Annotated[str | None, Query(description="from this date or instant on",
                                       examples=["2026-11-01"])] = None,
    until: Annotated[str | None, Query(description="before this date or instant",
                                       examples=["2026-12-01"])] = None,
    key_id: Annotated[str | None, Query(description="by this key", examples=["Ab12Cd34"])] = None,
    record_id: Annotated[str | None, Query(description="touching this record (an id)",
                                           examples=["H002"])] = None,
    action: Annotated[AuditAction | None, Query(
        description="only this kind of entry: import, replace, write (a change through the "
                    "API) or read_pii (a read of unmasked personal data)",
        examples=["write"])] = None,
    limit: Limit = 100, offset: Offset = 0,
) -> dict[str, Any]:
    """Every write (import, replace, or a clerk's change through the API, with the old and new
    values) and every read of households' unmasked personal data, newest first. A read of
    this log that shows old or new values is itself logged as a read of personal data
    (``read_pii``, what ``GET /audit-log``, the records those entries touch)."""
    body = entries(store, request.app.state.keys, since=_instant("since", since),
                   until=_instant("until", until), key_id=key_id, record_id=record_id,
                   action=action.value if action else None, limit=limit, offset=offset)
    # the values a change lists are unmasked (names, phones, addresses): who saw them is
    # logged like any other such read; entries listing no values (reads, large imports) are not
    shown = [s for e in body["items"] if e.get("changes") for s in e.get("subjects", [])]
    if shown:
        request.app.state.keys.log_pii_read(principal, "GET /audit-log",
                                            list(dict.fromkeys(shown))[:SUBJECT_LIMIT])
    return body
