"""Bundles as spreadsheet programs really write them: dates as serial numbers in a workbook
(Gnumeric, some Excel styles), dates as 2025/8/1 in a re-saved CSV (Excel on Chinese
Windows), ids and phones typed as numbers, CSVs in GB18030. Each imports into both stores
as the tidy bundle does, or says what it could not know."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from tests_support.cli import run
from tests_support.uploads import snapshot

from graphsvc.bundle.report import Report
from graphsvc.bundle.schema import SPECS
from graphsvc.importer import export_path, import_path
from graphsvc.stores.base import Store

EXCEL_EPOCH = dt.date(1899, 12, 30)  # serial 1 is 1900-01-01 (past Excel's 1900 leap day)


def _rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


def _date_columns(name: str, header: list[str]) -> list[int]:
    spec = SPECS[name]
    return [i for i, h in enumerate(header) if h in spec.column_names
            and spec.column(h).type == "date"]


def _serial(text: str) -> int:
    return (dt.date.fromisoformat(text) - EXCEL_EPOCH).days


def _workbook_with_serial_dates(bundle: Path, out: Path) -> int:
    """The bundle as one workbook whose date cells are numbers (what openpyxl reads from a
    workbook Gnumeric saved); the number of such cells."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    serials = 0
    for f in sorted(bundle.glob("*.csv")):
        header, *rows = _rows(f)
        dates = _date_columns(f.stem, header)
        ws = wb.create_sheet(f.stem)
        ws.append(header)
        for row in rows:
            cells: list[object] = list(row)
            for i in dates:
                if i < len(row) and row[i]:
                    cells[i] = _serial(row[i])
                    serials += 1
            ws.append(cells)
    wb.save(out)
    return serials


def _import(store: Store, path: Path) -> Report:
    report = import_path(store, path)
    assert report.ok, [str(p) for p in report.errors[:5]]
    return report


def test_a_workbook_with_dates_as_serial_numbers_imports_as_the_csv_bundle(
        store: Store, tiny_dir: Path, tmp_path: Path, make_store) -> None:  # type: ignore[no-untyped-def]
    _import(store, tiny_dir)
    expected = snapshot(store)
    store = make_store(store.kind)  # empty again (Neo4j: the same store, cleared)
    book = tmp_path / "gnumeric.xlsx"
    serials = _workbook_with_serial_dates(tiny_dir, book)
    assert serials > 50
    loaded = openpyxl.load_workbook(book, read_only=True)  # the cells really are numbers
    header, first = list(loaded["contacts"].iter_rows(max_row=2, values_only=True))
    assert isinstance(first[header.index("date")], int)
    loaded.close()
    report = _import(store, book)
    assert not report.warnings, [str(p) for p in report.warnings]
    assert snapshot(store) == expected


def _reformat_dates(src: Path, dst: Path, shape: str) -> int:
    """Copy the bundle with every date written in ``shape`` (strftime without zero padding
    where the shape has {m}/{d}); the number of dates rewritten."""
    dst.mkdir()
    changed = 0
    for f in sorted(src.glob("*.csv")):
        header, *rows = _rows(f)
        for i in _date_columns(f.stem, header):
            for row in rows:
                if i < len(row) and row[i]:
                    d = dt.date.fromisoformat(row[i])
                    row[i] = shape.format(y=d.year, m=d.month, d=d.day)
                    changed += 1
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\r\n").writerows([header, *rows])
        (dst / f.name).write_text(buf.getvalue(), encoding="utf-8")
    return changed


@pytest.mark.parametrize("shape", ["{y}/{m}/{d}", "{y}-{m}-{d}", "{y}.{m:02}.{d:02}",
                                   "{y}年{m}月{d}日", "{y}/{m}/{d} 0:00"])
def test_a_csv_with_dates_as_spreadsheets_write_them_imports_as_the_tidy_one(
        store: Store, tiny_dir: Path, tmp_path: Path, shape: str,
        make_store) -> None:  # type: ignore[no-untyped-def]
    _import(store, tiny_dir)
    expected = snapshot(store)
    store = make_store(store.kind)  # empty again (Neo4j: the same store, cleared)
    assert _reformat_dates(tiny_dir, tmp_path / "saved", shape) > 50
    _import(store, tmp_path / "saved")
    assert snapshot(store) == expected


def test_a_date_column_of_serial_numbers_in_a_csv_is_said_once(tiny_copy: Path,
                                                                 store: Store) -> None:
    header, *rows = _rows(tiny_copy / "contacts.csv")
    (i,) = _date_columns("contacts", header)
    for row in rows:
        row[i] = str(_serial(row[i]))
    buf = io.StringIO()
    csv.writer(buf).writerows([header, *rows])
    (tiny_copy / "contacts.csv").write_text(buf.getvalue(), encoding="utf-8")
    before = snapshot(store)
    report = import_path(store, tiny_copy)
    assert report.error_count == len(rows)  # every row is refused, and counted
    (group,) = report.groups("error")
    assert group.count == len(rows) and group.rows == [2, 3, 4, 5, 6]
    assert "serial number" in group.first.message and "yyyy-mm-dd" in group.first.message
    assert str(group).startswith(f"contacts.csv, column date: {len(rows):,} rows (rows 2, 3, 4,")
    assert not report.written and snapshot(store) == before


def test_numbers_in_id_and_phone_columns_are_read_as_text_with_a_warning(
        store: Store, tmp_path: Path) -> None:
    """0012 typed into a number cell is 12: read as '12', and the column is named once."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    towns = wb.create_sheet("townships")
    towns.append(["id", "name"])
    towns.append([12, "甲镇"])  # was 0012 before the spreadsheet made it a number
    towns.append(["T2", "乙镇"])
    villages = wb.create_sheet("villages")
    villages.append(["id", "name", "township_id"])
    for n in range(7):
        villages.append([100 + n, f"村{n}", 12])
    people = wb.create_sheet("people")
    people.append(["id", "name", "village_id", "roles", "phone"])
    people.append(["P1", "甲", 100, "", 13900000001])  # a mobile survives as a number
    book = tmp_path / "numbers.xlsx"
    wb.save(book)
    report = _import(store, book)
    said = {(p.file, p.column): p for p in report.warnings}
    assert set(said) == {("sheet townships", "id"), ("sheet villages", "id"),
                         ("sheet villages", "township_id"), ("sheet people", "village_id"),
                         ("sheet people", "phone")}, [str(p) for p in report.warnings]
    v = said[("sheet villages", "id")]
    assert v.row == 2 and "7 cells" in v.message and "rows 2, 3, 4, 5, 6, …" in v.message
    assert "leading zero" in v.message and "文本" in v.message
    assert "1 cell of this column is a number" in said[("sheet townships", "id")].message
    recs = store.records()
    assert sorted(t["id"] for t in recs["townships"]) == ["12", "T2"]
    assert {v["township_id"] for v in recs["villages"]} == {"12"}
    assert [p["phone"] for p in recs["people"]] == ["13900000001"]


def _column(ws: object, header: list[str], name: str) -> list[object]:
    """The cells below the header of the column headed ``name``."""
    letter = openpyxl.utils.get_column_letter(header.index(name) + 1)
    return list(ws[letter][1:])  # type: ignore[index]


def test_the_exported_workbook_is_laid_out_for_a_clerk_and_reads_back(
        tiny: Store, tmp_path: Path, make_store) -> None:  # type: ignore[no-untyped-def]
    book = tmp_path / "county.xlsx"
    export_path(tiny, book, headers="zh")
    wb = openpyxl.load_workbook(book)  # not read-only: the sheets' layout is read too
    people = wb["党员"]
    assert people.freeze_panes == "A2"
    header = [c.value for c in people[1]]
    last = openpyxl.utils.get_column_letter(len(header))
    assert people.auto_filter.ref == f"A1:{last}{people.max_row}"
    assert all(c.font.b for c in people[1])
    widths = {h: people.column_dimensions[openpyxl.utils.get_column_letter(i + 1)].width
              for i, h in enumerate(header)}
    assert all(8 <= w <= 62 for w in widths.values()), widths
    ids = _column(people, header, "编号")
    assert ids and all(c.data_type == "s" and c.number_format == "@" for c in ids)
    phones = [c for c in _column(people, header, "联系电话") if c.value]
    assert phones and all(isinstance(c.value, str) and c.number_format == "@" for c in phones)
    contacts = wb["联系记录"]
    days = _column(contacts, [c.value for c in contacts[1]], "日期")
    assert days and all(isinstance(c.value, dt.datetime) and c.is_date
                        and c.number_format == "yyyy-mm-dd" for c in days)
    # a column is as wide as its widest value (a Chinese character counts two)
    names = [c.value for c in _column(people, header, "姓名")]
    assert widths["姓名"] >= 2 * max(len(n) for n in names)
    wb.close()
    # and it reads back as the store it came from
    other = make_store("embedded")
    report = import_path(other, book)
    assert report.ok and not report.warnings, [str(p) for p in report.warnings]
    assert snapshot(other) == snapshot(tiny)


def test_a_workbook_without_styles_imports_with_no_library_warning_on_the_terminal(
        cli_env: dict[str, str], tiny_dir: Path, tmp_path: Path) -> None:
    """Workbooks written by other programs often lack what openpyxl expects (a default
    style): openpyxl warns, and the terminal is for the bundle's problems only."""
    book = tmp_path / "plain.xlsx"
    _workbook_with_serial_dates(tiny_dir, book)
    bare = tmp_path / "bare.xlsx"  # a stylesheet without named styles, as Gnumeric writes
    with zipfile.ZipFile(book) as src, zipfile.ZipFile(bare, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/styles.xml":
                data = re.sub(rb"<cellStyles .*?</cellStyles>", b"", data)
            dst.writestr(info, data)
    with pytest.warns(UserWarning, match="no default style"):  # what openpyxl says of it
        openpyxl.load_workbook(bare, read_only=True).close()
    r = run(["import", str(bare)], cli_env, tmp_path)
    assert r.returncode == 0, r.stderr
    assert "Warning" not in r.stderr and "openpyxl" not in r.stderr, r.stderr
    assert "warning" not in r.stderr.lower(), r.stderr
    r = run(["summary", "--format", "json"], cli_env, tmp_path)
    assert json.loads(r.stdout)["townships"] == 2


def test_a_value_no_xml_can_hold_still_round_trips_through_a_workbook(tmp_path: Path) -> None:
    """U+FFFF (and U+FFFE) are escaped by openpyxl, not by xlsxwriter: such a bundle is
    written with openpyxl, and reads back as it was."""
    from graphsvc.bundle.reader import read_bundle
    from graphsvc.bundle.writer import write_bundle

    records = {"townships": [{"id": "T1", "name": "甲\uffff镇"}, {"id": "T2", "name": "_x0041_\r"}]}
    write_bundle(records, tmp_path / "odd.xlsx")
    tables = read_bundle(tmp_path / "odd.xlsx", Report())
    assert [cells for _, cells in tables["townships"].rows] == [["T1", "甲\uffff镇"],
                                                                ["T2", "_x0041_\r"]]
    write_bundle({"townships": [records["townships"][1]]}, tmp_path / "plain.xlsx")
    tables = read_bundle(tmp_path / "plain.xlsx", Report())  # the same through xlsxwriter
    assert [cells for _, cells in tables["townships"].rows] == [["T2", "_x0041_\r"]]


def test_a_bundle_goes_through_a_pipe_both_ways(cli_env: dict[str, str], tiny_dir: Path,
                                                 tmp_path: Path) -> None:
    """graphsvc export - --format zip|xlsx > file, and graphsvc import - < file."""
    from tests_support.cli import run_bytes

    assert run(["import", str(tiny_dir)], cli_env, tmp_path).returncode == 0
    before = json.loads(run(["summary", "--format", "json"], cli_env, tmp_path).stdout)
    piped = {}
    for fmt in ("zip", "xlsx"):
        r = run_bytes(["export", "-", "--format", fmt], cli_env, tmp_path)
        assert r.returncode == 0, r.stderr
        assert r.stdout[:4] == b"PK\x03\x04" and b"exported to standard output" in r.stderr
        piped[fmt] = r.stdout
    with zipfile.ZipFile(io.BytesIO(piped["zip"])) as zf:
        assert "people.csv" in zf.namelist()  # a folder's bundle, in English
    with zipfile.ZipFile(io.BytesIO(piped["xlsx"])) as zf:
        assert "xl/workbook.xml" in zf.namelist()
    for fmt, data in piped.items():  # each imports again through standard input, unchanged
        r = run_bytes(["import", "-"], cli_env, tmp_path, stdin=data)
        assert r.returncode == 0, (fmt, r.stderr)
        assert json.loads(run(["summary", "--format", "json"], cli_env, tmp_path).stdout) == before
    r = run_bytes(["import", "-"], cli_env, tmp_path, stdin=b"id,name\nT1,x\n")
    assert r.returncode == 1 and b"neither a .zip nor an .xlsx" in r.stderr
    r = run_bytes(["export", "-"], cli_env, tmp_path)
    assert r.returncode == 2 and b"--format" in r.stderr and not r.stdout
