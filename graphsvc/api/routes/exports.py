"""Whole lists in one answer, for downloading an audit (into Excel, say).

The CSV never makes a spreadsheet run a formula: a cell starting with ``=``, ``+``, ``-``,
``@``, a tab, a carriage return or a line feed gets a ``'`` in front, exactly as the
bundle writer does (``graphsvc.bundle.schema.escape_formula``); ids come from
spreadsheets too.
"""

from __future__ import annotations

import csv
import io
from enum import Enum
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response

from graphsvc import service
from graphsvc.api.deps import AsOfDep, PlaceDep, PrincipalDep, RulesDep, StoreDep
from graphsvc.api.redact import Redactor
from graphsvc.api.schemas import READ_ERRORS, error_responses
from graphsvc.bundle.schema import escape_formula
from graphsvc.model import HouseholdStatus, UncoveredReason

router = APIRouter(prefix="/exports", tags=["exports"])

COLUMNS = ("household_id", "village_id", "township_id", "categories", "focus", "status", "reason",
           "last_contact", "member_ids")


class ExportFormat(str, Enum):
    json = "json"
    csv = "csv"


def _cell(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)  # a number is never run
    if isinstance(v, list):
        return escape_formula(";".join(str(x) for x in v))
    return escape_formula(str(v))


@router.get("/households", summary="Every matching household status in one answer",
            response_description="the same body as GET /households with every row (json), "
                                 "or those rows as a CSV file with a BOM for Excel (csv)",
            responses={200: {"description": "the rows, as JSON or CSV",
                             "content": {"application/json": {"example": {
                                 "as_of": "2026-06-30", "total": 1, "items": [{
                                     "household_id": "H059", "village_id": "V4",
                                     "township_id": "T2",
                                     "categories": ["military_martyr", "extreme_poverty",
                                                    "empty_nest_elderly"],
                                     "focus": True, "status": "uncovered", "reason": "no_member",
                                     "last_contact": None, "member_ids": []}]}},
                                         "text/csv": {
                                             "example": "household_id,village_id,...\r\n"}}},
                       **error_responses(*READ_ERRORS)})
def export_households(
    store: StoreDep, rules: RulesDep, as_of: AsOfDep, place: PlaceDep, principal: PrincipalDep,
    status_: Annotated[HouseholdStatus | None, Query(
        alias="status", description="only households with this status",
        examples=["uncovered"])] = None,
    reason: Annotated[UncoveredReason | None, Query(
        description="only uncovered households with this reason",
        examples=["no_delegate"])] = None,
    focus_only: Annotated[bool, Query(
        description="only focus households", examples=[True])] = False,
    format_: Annotated[ExportFormat, Query(
        alias="format", description="json (the body of GET /households, every row) or csv "
                                    "(UTF-8 with a BOM, for Excel)",
        examples=["csv"])] = ExportFormat.json,
) -> Response:
    """The full household audit without paging: one query to the store, one answer."""
    body = service.households_body(
        store, as_of, rules, township_id=place.township_id, village_id=place.village_id,
        status=status_ and status_.value, reason=reason and reason.value, focus_only=focus_only,
        limit=None, offset=0)
    body["items"] = Redactor(store, principal).rows(body["items"], "member_ids")
    if format_ is ExportFormat.json:
        return JSONResponse(body)
    buf = io.StringIO()
    buf.write("\ufeff")
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(COLUMNS)
    for row in body["items"]:
        w.writerow([_cell(row.get(c)) for c in COLUMNS])
    name = f"households-{body['as_of']}.csv"
    return Response(buf.getvalue().encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
