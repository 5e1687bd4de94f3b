"""Bundle uploads: a .zip of the bundle folder, an .xlsx workbook, or one bundle .csv file."""

from __future__ import annotations

import os
from typing import Annotated

from fastapi import APIRouter, File, Query, UploadFile

from graphsvc.api import writes
from graphsvc.api.deps import CountyWriterDep, SettingsDep, StoreDep
from graphsvc.api.errors import PayloadTooLarge
from graphsvc.api.limits import too_large_message
from graphsvc.api.schemas import ImportRefused, ImportReport, InvalidRequestBody, error_responses
from graphsvc.errors import BundleError
from graphsvc.importer import import_upload

router = APIRouter(prefix="/imports", tags=["imports"])


@router.post("", response_model=ImportReport, summary="Import a bundle",
             response_description="the report: counts per file, errors (none), warnings",
             responses={**error_responses(401, 403, 413, 503),
                        422: {"model": ImportRefused | InvalidRequestBody,
                              "description": "the bundle has errors (the report), or the request "
                                             "has no readable file; nothing was written"}})
def import_bundle(
    store: StoreDep, settings: SettingsDep, principal: CountyWriterDep,
    file: Annotated[UploadFile, File(description="the bundle: a .zip of the folder of CSV files, "
                                                 "an .xlsx workbook (one sheet per file), or one "
                                                 "bundle .csv file such as contacts.csv")],
    dry_run: Annotated[bool, Query(description="only check: report every problem, write nothing",
                                   examples=[True])] = False,
) -> dict[str, object]:
    """Validate the whole bundle, then write all of it or nothing (records matched by id,
    relationship rows by their end points). 422 when it is invalid, with its errors: at most
    100 of each kind are listed, and every one is counted (error_count, omitted)."""
    # the upload is spooled to a temporary file; it is read from there as it is parsed
    size = file.file.seek(0, os.SEEK_END)
    if size > settings.max_upload_bytes:
        raise PayloadTooLarge(too_large_message(None, settings.max_upload_bytes))
    file.file.seek(0)
    report = import_upload(store, file.filename or "", file.file, dry_run=dry_run,
                           max_unpacked_bytes=settings.max_unpacked_bytes,
                           actor=writes.actor(principal))
    if not report.ok:
        raise BundleError(report)
    return report.as_dict()
