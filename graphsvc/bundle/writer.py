"""Write records as a bundle: a folder of CSV files, a .zip of it, or an .xlsx workbook.

The output is canonical: every column in the order of ``schema.FILES``, rows
ordered by id (relationship rows by their identifying columns), booleans as
``true``/``false``, so export -> import -> export gives the same bytes.

No cell is ever run by a spreadsheet. A cell whose text starts with ``=``, ``+``,
``-``, ``@``, a tab, a carriage return or a line feed (or with ``'`` followed by one
of those or by another ``'``) is written with one ``'`` in front (``=cmd|...`` is
written ``'=cmd|...``, ``+8613800000000`` is written ``'+8613800000000``), in every
column, ids included; the reader takes exactly that quote off again, so every value
comes back as it was (``schema.escape_formula``, ``schema.unescape_formula``). Rows
are ordered by their values, before the escape.

In a workbook every cell is a text cell (never a formula, whatever it starts with),
carries the same escape, and characters XML cannot hold (control characters other
than tab and line feed, a carriage return included) are written as OOXML's
``_xHHHH_`` escapes, which the reader decodes; a literal ``_xHHHH_`` in a value is
written ``_x005F_xHHHH_`` as the standard says.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from graphsvc.bundle.schema import FILES, FORMULA_TRIGGERS, FileSpec


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


_SECOND = FORMULA_TRIGGERS | {"'"}


def escaped(row: list[str]) -> list[str]:
    """The cells of a row as written: none of them runs as a formula in a spreadsheet
    (``escape_formula`` on every cell, inlined: an export writes millions of cells)."""
    return ["'" + c if c and (c[0] in FORMULA_TRIGGERS or (c[0] == "'" and c[1:2] in _SECOND))
            else c for c in row]


def write_csv_rows(out: IO[str], rows: Iterable[Sequence[Any]], lineterminator: str = "\n") -> None:
    """Write rows as CSV, quoting every cell of a row that holds a carriage return.

    Python's csv writer quotes a cell only for the characters of its own line terminator,
    so with ``\n`` a lone ``\r`` inside a value would go out bare, and every CSV reader
    (Excel's too) would end the row there: the rest of the value would become cells of a
    new row, starting with whatever text followed, a formula included.
    """
    plain = csv.writer(out, lineterminator=lineterminator)
    quoted = csv.writer(out, lineterminator=lineterminator, quoting=csv.QUOTE_ALL)
    for row in rows:
        if any(isinstance(c, str) and "\r" in c for c in row):
            quoted.writerow(row)
        else:
            plain.writerow(row)


def csv_text(spec: FileSpec, rows: list[list[str]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(spec.column_names)
    w.writerows(map(escaped, rows))
    text = buf.getvalue()
    if "\r" not in text:  # the usual case; else quote the rows that hold one
        return text
    buf = io.StringIO()
    write_csv_rows(buf, [list(spec.column_names)])
    write_csv_rows(buf, map(escaped, rows))
    return buf.getvalue()


# characters an XML text node cannot hold (or, for CR, cannot keep), and a "_" that starts
# what would read as an escape: both are written as OOXML _xHHHH_ escapes
_XML_UNSAFE = re.compile(r"_(?=x[0-9A-Fa-f]{4}_)|[\x00-\x08\x0b-\x1f\ufffe\uffff]")


def _ooxml_escape(match: re.Match[str]) -> str:
    return f"_x{ord(match.group()):04X}_"


def xlsx_text(text: str) -> str:
    """A cell's text as an OOXML string (see the module's docstring)."""
    return _XML_UNSAFE.sub(_ooxml_escape, text) if text else text


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
            for v in escaped(row):
                c = WriteOnlyCell(ws, value=xlsx_text(v))
                c.data_type = "s"  # always text: a name like '=1+1' stays text, never a formula
                cells.append(c)
            ws.append(cells)
    p.parent.mkdir(parents=True, exist_ok=True)
    wb.save(p)
