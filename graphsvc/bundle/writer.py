"""Write records as a bundle: a folder of CSV files, a .zip of it, or an .xlsx workbook.

The output is canonical: every column in the order of ``schema.FILES``, rows
ordered by id (relationship rows by their identifying columns), booleans as
``true``/``false``, so export -> import -> export gives the same bytes.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from graphsvc.bundle.schema import FILES, FileSpec

def format_cell(value: Any) -> str:
    """One typed value as bundle text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ";".join(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()[:10]
    return str(value)


def sort_key(spec: FileSpec, rec: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(format_cell(rec.get(c)) for c in (spec.key if spec.group != "contact"
                                                    else spec.column_names))


def ordered_rows(spec: FileSpec, records: Iterable[Mapping[str, Any]]) -> list[list[str]]:
    """Rows of text cells in canonical order."""
    rows = [[format_cell(r.get(c)) for c in spec.column_names] for r in records]
    if spec.group == "contact":
        rows.sort()
    else:
        idx = [spec.column_names.index(k) for k in spec.key]
        rows.sort(key=lambda row: [row[i] for i in idx])
    return rows


def csv_text(spec: FileSpec, rows: list[list[str]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(spec.column_names)
    w.writerows(rows)
    return buf.getvalue()


def write_bundle(records: Mapping[str, Iterable[Mapping[str, Any]]], path: str | Path) -> dict[str, int]:
    """Write every file of ``FILES`` (empty ones with their header) to a folder, .zip or .xlsx."""
    p = Path(path)
    tables = {spec.name: ordered_rows(spec, records.get(spec.name, ())) for spec in FILES}
    counts = {spec.filename: len(tables[spec.name]) for spec in FILES}
    suffix = p.suffix.lower()
    if suffix == ".xlsx":
        _write_xlsx(tables, p)
    elif suffix == ".zip":
        p.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(p, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for spec in FILES:
                zf.writestr(spec.filename, csv_text(spec, tables[spec.name]).encode("utf-8"))
    else:
        p.mkdir(parents=True, exist_ok=True)
        for spec in FILES:
            (p / spec.filename).write_text(csv_text(spec, tables[spec.name]), encoding="utf-8",
                                           newline="")
    return counts


def _write_xlsx(tables: dict[str, list[list[str]]], p: Path) -> None:
    import openpyxl
    from openpyxl.cell import WriteOnlyCell

    wb = openpyxl.Workbook(write_only=True)
    for spec in FILES:
        ws = wb.create_sheet(spec.name)
        ws.append(list(spec.column_names))
        for row in tables[spec.name]:
            cells = []
            for v in row:
                c = WriteOnlyCell(ws, value=v)
                c.data_type = "s"  # always text: a name like '=1+1' stays text, never a formula
                cells.append(c)
            ws.append(cells)
    p.parent.mkdir(parents=True, exist_ok=True)
    wb.save(p)
