"""Bundle uploads: a .zip of the bundle folder, an .xlsx workbook, or one bundle .csv file."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Query, UploadFile

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
    relationship rows by their end points). 422 with every error when it is invalid."""
    data = file.file.read(settings.max_upload_bytes + 1)
    if len(data) > settings.max_upload_bytes:
        raise PayloadTooLarge(too_large_message(None, settings.max_upload_bytes))
    report = import_upload(store, file.filename or "", data, dry_run=dry_run,
                           max_unpacked_bytes=settings.max_unpacked_bytes)
    if not report.ok:
        raise BundleError(report)
    return report.as_dict()
