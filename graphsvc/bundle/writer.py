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

In a workbook every cell but a date is a text cell formatted as Text (never a formula,
whatever it starts with; a date is a date cell shown yyyy-mm-dd), carries the same escape,
and characters XML cannot hold (control characters other than tab and line feed, a carriage
return included) are written as OOXML's ``_xHHHH_`` escapes, which the reader decodes; a
literal ``_xHHHH_`` in a value is written ``_x005F_xHHHH_`` as the standard says.

``headers="zh"`` writes the same bundle in Chinese (``zh``): Chinese file and sheet names
(``党员.csv``), headers (``编号, 姓名, …``) and enum, list and boolean values (``在职``,
``县委委员;党代表``, ``是``), always the canonical word of ``zh.FILES_ZH``. Rows keep the
order of the English export (they are ordered before they are translated), so
zh export -> import -> en export gives the bytes of the en export, and zh -> import -> zh
the bytes of the zh export. The formula escape applies as in English.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from graphsvc.bundle import zh
from graphsvc.bundle.report import Report
from graphsvc.bundle.schema import FILES, FORMULA_TRIGGERS, SPECS, FileSpec, unescape_formula


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


def csv_text(spec: FileSpec, rows: list[list[str]], headers: zh.Headers = "en",
             columns: Sequence[str] | None = None) -> str:
    """A file's CSV text: ``rows`` (canonical English cells of ``columns``, default every column
    of the spec) under the header of ``headers``, translated and escaped."""
    cols = list(columns) if columns is not None else list(spec.column_names)
    head = _header_words(spec.name, cols, headers)
    body = _translated(spec.name, cols, rows, headers)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(head)
    w.writerows(map(escaped, body))
    text = buf.getvalue()
    if "\r" not in text:  # the usual case; else quote the rows that hold one
        return text
    buf = io.StringIO()
    write_csv_rows(buf, [head])
    write_csv_rows(buf, map(escaped, _translated(spec.name, cols, rows, headers)))
    return buf.getvalue()


def _header_words(name: str, columns: Sequence[str], headers: zh.Headers) -> list[str]:
    return [zh.column_word(name, c, headers) for c in columns]


def _translated(name: str, columns: Sequence[str], rows: Iterable[list[str]],
                headers: zh.Headers) -> Iterable[list[str]]:
    plan = zh.translator(name, list(columns), headers)
    if not plan:
        return rows
    return (zh.translate_row(list(r), plan) for r in rows)


# characters an XML text node cannot hold (or, for CR, cannot keep), and a "_" that starts
# what would read as an escape: both are written as OOXML _xHHHH_ escapes
_XML_UNSAFE = re.compile(r"_(?=x[0-9A-Fa-f]{4}_)|[\x00-\x08\x0b-\x1f\ufffe\uffff]")


def _ooxml_escape(match: re.Match[str]) -> str:
    return f"_x{ord(match.group()):04X}_"


def xlsx_text(text: str) -> str:
    """A cell's text as an OOXML string (see the module's docstring)."""
    return _XML_UNSAFE.sub(_ooxml_escape, text) if text else text


def write_bundle(records: Mapping[str, Iterable[Mapping[str, Any]]], path: str | Path,
                 headers: zh.Headers = "en") -> dict[str, int]:
    """Write every file of ``FILES`` (empty ones with their header) to a folder, .zip or .xlsx,
    with English or Chinese (``headers="zh"``) names, headers and values. Returns the row
    count per file name written."""
    p = Path(path)
    tables = {spec.name: ordered_rows(spec, records.get(spec.name, ())) for spec in FILES}
    return _write_tables({spec.name: (list(spec.column_names), tables[spec.name])
                          for spec in FILES}, p, headers)


def _write_tables(tables: Mapping[str, tuple[list[str], list[list[str]]]], p: Path,
                  headers: zh.Headers) -> dict[str, int]:
    """Write tables of canonical English cells (per file: its columns and rows, in the order
    of ``FILES``) as a folder, .zip or .xlsx in the words of ``headers``."""
    if headers not in zh.HEADER_LANGUAGES:
        raise ValueError(f"headers must be one of {', '.join(zh.HEADER_LANGUAGES)}, "
                         f"not {headers!r}")
    specs = [spec for spec in FILES if spec.name in tables]
    counts = {zh.filename(spec.name, headers): len(tables[spec.name][1]) for spec in specs}
    suffix = p.suffix.lower()
    if suffix == ".xlsx":
        _write_xlsx(tables, p, headers)
    elif suffix == ".zip":
        p.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(p, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for spec in specs:
                cols, rows = tables[spec.name]
                zf.writestr(zh.filename(spec.name, headers),
                            csv_text(spec, rows, headers, cols).encode("utf-8"))
    else:
        p.mkdir(parents=True, exist_ok=True)
        for spec in specs:
            cols, rows = tables[spec.name]
            (p / zh.filename(spec.name, headers)).write_text(
                csv_text(spec, rows, headers, cols), encoding="utf-8", newline="")
    return counts


MAX_WIDTH = 60  # the widest a column is made, in characters (a longer cell wraps on demand)


def _width(text: str) -> int:
    """How many character widths ``text`` takes in a spreadsheet: a Chinese character (three
    bytes in UTF-8) takes two."""
    return len(text) + (len(text.encode("utf-8")) - len(text)) // 2


# U+FFFE and U+FFFF: no XML may hold them, and xlsxwriter, which escapes the other characters
# XML cannot hold, writes them as they are; a bundle holding one is written with openpyxl
_NONCHARACTER = re.compile("[\ufffe\uffff]")


@dataclass(frozen=True, slots=True)
class _Sheet:
    """One file of a workbook export, ready to write: its name, header, escaped rows, the
    positions of its date columns and the width of each column."""

    name: str
    head: list[str]
    body: list[list[str]]
    dates: set[int]
    widths: list[int]


def _sheets(tables: Mapping[str, tuple[list[str], list[list[str]]]],
            headers: zh.Headers) -> list[_Sheet]:
    out = []
    for spec in FILES:
        if spec.name not in tables:
            continue
        cols, rows = tables[spec.name]
        head = _header_words(spec.name, cols, headers)
        body = [escaped(r) for r in _translated(spec.name, cols, rows, headers)]
        dates = {i for i, c in enumerate(cols) if spec.column(c).type == "date"}
        widths = []  # as wide as the widest value or the header (+ 3: the filter's button)
        for i, h in enumerate(head):
            widest = 10 if i in dates else max((_width(r[i]) for r in body if r[i]), default=0)
            widths.append(min(max(widest, _width(h) + 3), MAX_WIDTH) + 2)
        out.append(_Sheet(zh.file_stem(spec.name, headers), head, body, dates, widths))
    return out


def _write_xlsx(tables: Mapping[str, tuple[list[str], list[list[str]]]], p: Path,
                headers: zh.Headers) -> None:
    """One sheet per file, as a clerk expects a workbook: a bold header row that stays in
    view (frozen) with a filter on it, columns as wide as their values, dates as date cells
    (yyyy-mm-dd), every other cell a text cell formatted as 文本 (Text), so ids and phones keep
    their leading zeros, also when a clerk types a new one below. Written with xlsxwriter,
    which escapes control characters and literal ``_xHHHH_`` itself, as the module says."""
    import xlsxwriter

    sheets = _sheets(tables, headers)
    if any(_NONCHARACTER.search("".join(r)) for sheet in sheets for r in sheet.body):
        _write_xlsx_openpyxl(sheets, p)
        return
    p.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(p), {"constant_memory": True, "strings_to_numbers": False,
                                      "strings_to_formulas": False, "strings_to_urls": False})
    bold = wb.add_format({"bold": True})
    text = wb.add_format({"num_format": "@"})
    day = wb.add_format({"num_format": "yyyy-mm-dd"})
    for sheet in sheets:
        ws = wb.add_worksheet(sheet.name)
        for i, width in enumerate(sheet.widths):
            ws.set_column(i, i, width)
        ws.freeze_panes(1, 0)
        ws.autofilter(0, 0, len(sheet.body), max(len(sheet.head) - 1, 0))
        for i, h in enumerate(sheet.head):
            ws.write_string(0, i, h, bold)
        for r, row in enumerate(sheet.body, start=1):
            for i, v in enumerate(row):
                if i in sheet.dates and v:
                    ws.write_datetime(r, i, dt.datetime.fromisoformat(v), day)
                else:
                    ws.write_string(r, i, v, text)
    wb.close()


def _write_xlsx_openpyxl(sheets: list[_Sheet], p: Path) -> None:
    """The same workbook written with openpyxl, which escapes every character XML cannot
    hold (``xlsx_text``); for the rare bundle holding U+FFFE or U+FFFF."""
    import openpyxl
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = openpyxl.Workbook(write_only=True)
    bold = Font(bold=True)
    for sheet in sheets:
        ws = wb.create_sheet(sheet.name)
        for i, width in enumerate(sheet.widths):  # before the first row
            ws.column_dimensions[get_column_letter(i + 1)].width = width
        ws.freeze_panes = "A2"
        ws.auto_filter.ref = (f"A1:{get_column_letter(max(len(sheet.head), 1))}"
                              f"{len(sheet.body) + 1}")
        header = []
        for h in sheet.head:
            c = WriteOnlyCell(ws, value=h)
            c.font = bold
            header.append(c)
        ws.append(header)
        for row in sheet.body:
            cells = []
            for i, v in enumerate(row):
                if i in sheet.dates and v:
                    c = WriteOnlyCell(ws, value=dt.datetime.fromisoformat(v))
                    c.number_format = "yyyy-mm-dd"
                else:
                    c = WriteOnlyCell(ws, value=xlsx_text(v))
                    c.data_type = "s"  # always text: '=1+1' stays text, never a formula
                    c.number_format = "@"
                cells.append(c)
            ws.append(cells)
    p.parent.mkdir(parents=True, exist_ok=True)
    wb.save(p)


# -- converting a bundle between English and Chinese ----------------------------------------------

def _canonical(name: str, column: str, text: str, lang: zh.Headers) -> str:
    """A cell of a file in ``lang`` as canonical English bundle text; a value that is not one of
    the column's words is kept as it is (the import will name it)."""
    col = SPECS[name].column(column)
    if not text or col.type not in ("enum", "list", "bool"):
        return text
    if col.type == "bool":
        v = text.strip().lower()
        if v in zh.TRUE_WORDS:
            return "true"
        if v in zh.FALSE_WORDS:
            return "false"
        return text

    def one(p: str) -> str:
        if lang == "zh":
            en = zh.to_english(name, column, p)
            return en if en is not None else p
        low = p.strip().lower()
        return next((c for c in col.choices if c.lower() == low), p)

    if col.type == "enum":
        return one(text)
    split = zh.ZH_LIST_SPLIT if lang == "zh" else zh.LIST_SPLIT
    parts = [one(x) for x in split.split(text) if x.strip()]
    order = {c: i for i, c in enumerate(col.choices)}
    known = sorted({x for x in parts if x in order}, key=order.__getitem__)
    return ";".join(known + [x for x in parts if x not in order])


def convert_bundle(src: str | Path, dst: str | Path, headers: zh.Headers,
                   report: Report | None = None) -> dict[str, int]:
    """Write the bundle at ``src`` (folder, .zip or .xlsx, in either language, any subset of
    files and columns) again at ``dst`` with the names, headers and values of ``headers``.

    Rows and their order stay as they are; columns keep the spec's order; remarks columns
    are dropped; nothing is checked beyond reading (import the result to check it). Problems
    found while reading go to ``report``; a file that cannot be read is left out."""
    from graphsvc.bundle.reader import read_bundle

    report = report if report is not None else Report()
    tables = read_bundle(src, report)
    out: dict[str, tuple[list[str], list[list[str]]]] = {}
    for spec in FILES:
        t = tables.get(spec.name)
        if t is None:
            continue
        head = zh.read_header(spec.name, t.header)
        if head.mixed:
            report.error(t.source, 1, None, "the header row mixes English and Chinese column names")
            continue
        cols = [c for c in spec.column_names if c in head.index]
        where = [head.index[c] for c in cols]
        rows = []
        for _, cells in t.rows:
            if not any(c.strip() for c in cells):
                continue
            rows.append([_canonical(spec.name, c, cells[i] if i < len(cells) else "", head.lang)
                         for c, i in zip(cols, where)])
        out[spec.name] = (cols, rows)
    return _write_tables(out, Path(dst), headers)


def translate_folder(folder: str | Path, headers: zh.Headers) -> dict[str, int]:
    """Rewrite a folder of canonical English bundle CSV files (``graphsvc generate``'s) in
    place in the words of ``headers``, one file at a time and row by row (a 10-county bundle
    never has to fit in memory). Returns the row count per file name written."""
    folder = Path(folder)
    counts: dict[str, int] = {}
    if headers == "en":
        for spec in FILES:
            f = folder / spec.filename
            if f.exists():
                with f.open(encoding="utf-8-sig", newline="") as fh:
                    counts[spec.filename] = sum(1 for _ in csv.reader(fh)) - 1
        return counts
    for spec in FILES:
        src = folder / spec.filename
        if not src.exists():
            continue
        dst = folder / zh.filename(spec.name, headers)
        n = 0
        with src.open(encoding="utf-8-sig", newline="") as fin, \
                dst.open("w", encoding="utf-8", newline="") as fout:
            reader = csv.reader(fin)
            cols = [c.strip().lower() for c in next(reader)]
            plan = zh.translator(spec.name, cols, headers)
            writer = csv.writer(fout, lineterminator="\n")
            writer.writerow(_header_words(spec.name, cols, headers))
            for row in reader:
                cells = [_canonical(spec.name, c, unescape_formula(v), "en")
                         for c, v in zip(cols, row)]
                writer.writerow(escaped(zh.translate_row(cells, plan)))
                n += 1
        src.unlink()
        counts[dst.name] = n
    return counts
