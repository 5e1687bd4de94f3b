"""Reading and checking bundles: every kind of bad input gets a clear, located error."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import openpyxl
import pytest

from graphsvc.auditlog import Actor
from graphsvc.bundle.schema import FILES
from graphsvc.bundle.writer import write_bundle
from graphsvc.importer import export_path, import_path, import_upload
from graphsvc.stores.embedded import EmbeddedStore


@pytest.fixture
def emb(tmp_path: Path) -> EmbeddedStore:
    s = EmbeddedStore(tmp_path / "store")
    yield s
    s.close()


def edit(folder: Path, name: str, old: str, new: str) -> None:
    f = folder / name
    text = f.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {name}"
    f.write_text(text.replace(old, new, 1), encoding="utf-8")


# (file, old text, new text, expected file, row, column, words in the message)
CASES = [
    ("people.csv", "M01,吴凤金,,", "M01,吴凤金,boss,",
     "people.csv", 10, "roles", "'boss' is not allowed"),
    ("people.csv", "M02,徐建福,,,", "M02,徐建福,,retired,",
     "people.csv", 11, "status", "use one of: active, inactive"),
    ("people.csv", "C1,李军秀,committee_member,,,,O1", "C1,李军秀,committee_member,,,maybe,O1",
     "people.csv", 2, "hardship", "not yes or no"),
    ("households.csv", "H002,张国强,V1,extreme_poverty;poor,3",
     "H002,张国强,V1,extreme_poverty;poor,0",
     "households.csv", 3, "size", "1 or more"),
    ("households.csv", "H002,张国强,V1,extreme_poverty;poor,3",
     "H002,张国强,V1,extreme_poverty;poor,three",
     "households.csv", 3, "size", "not a whole number"),
    ("households.csv", "H003,刘军秀,V1", "H003,刘军秀,V77",
     "households.csv", 4, "village_id", "no village with id 'V77'"),
    ("households.csv", "H003,刘军秀,V1", "H003,,V1",
     "households.csv", 4, "head_name", "required but the cell is empty"),
    ("households.csv", "H003,刘军秀,V1", "H003,刘军秀,T1",
     "households.csv", 4, "village_id", "'T1' is a township, not a village"),
    ("liaisons.csv", "delegate-member,D1,M01,2008-01-01", "delegate-member,D1,M01,01/02/2008",
     "liaisons.csv", 6, "since", "YYYY-MM-DD"),
    ("liaisons.csv", "delegate-member,D1,M01,2008-01-01", "delegate-member,D1,M01,2008-02-30",
     "liaisons.csv", 6, "since", "not a real date"),
    ("liaisons.csv", "delegate-member,D1,M01,2008-01-01,",
     "delegate-member,D1,M01,2008-01-01,2007-01-01",
     "liaisons.csv", 6, "until", "must be after"),
    ("liaisons.csv", "delegate-member,D1,M01", "delegate-member,M02,M01",
     "liaisons.csv", 6, "from_id", "does not have the role delegate"),
    ("liaisons.csv", "delegate-member,D1,M01", "delegate-member,D1,D1",
     "liaisons.csv", 6, "to_id", "cannot liaise with themself"),
    ("liaisons.csv", "committee_member-delegate,C1,D1", "committee_member-delegate,D1,D2",
     "liaisons.csv", 2, "from_id", "does not have the role committee_member"),
    ("liaisons.csv", "committee_member-delegate,C1,D1", "committee_member-delegate,C1,M01",
     "liaisons.csv", 2, "to_id", "does not have the role delegate"),
    ("liaisons.csv", "member-household,M01,H001", "member-household,M01,M02",
     "liaisons.csv", 7, "to_id", "'M02' is a person, not a household"),
    ("liaisons.csv", "member-household,M01,H001", "member_household,M01,H001",
     "liaisons.csv", 7, "kind", "use one of: committee_member-delegate"),
    ("contacts.csv", "M01,H001,2026-06-02,visit", "M01,H001,2026-06-02,fax",
     "contacts.csv", 2, "channel", "'fax' is not allowed"),
    ("contacts.csv", "M01,H001,2026-06-02", "M01,H001,", "contacts.csv", 2, "date", "required"),
    ("pairings.csv", "U1,V1,", "U9,V1,", "pairings.csv", 2, "unit_id", "no unit with id 'U9'"),
    ("supports.csv", "K1,H002", "K1,V1",
     "supports.csv", 2, "household_id", "a village, not a household"),
    ("villages.csv", "V4,小盘道村,T2,", "V4,小盘道村,T2,perhaps",
     "villages.csv", 5, "needs_pairing", "not yes or no"),
    ("organizations.csv", "O4,双宝村党支部,branch", "O4,双宝村党支部,cell",
     "organizations.csv", 5, "kind", "use one of: committee"),
    ("organizations.csv", "O2,柳树镇党委,committee,township,O1",
     "O2,柳树镇党委,committee,township,O2",
     "organizations.csv", 3, "parent_id", "its own parent"),
    ("units.csv", "U4,县委宣传部,agency,", "H001,县委宣传部,agency,",
     "households.csv", 2, "id", "already used in units.csv row 5"),
    ("units.csv", "U4,县委宣传部,agency,", " U4,县委宣传部,agency,",
     "units.csv", 5, "id", "spaces at its start or end"),
    ("units.csv", "U3,丰源油脂有限公司,enterprise,", "U3,丰源油脂有限公司,enterprise,O999",
     "units.csv", 4, "organization_id", "no organization with id 'O999'"),
    ("townships.csv", "T2,林口镇", "T2,林口镇,extra,cells",
     "townships.csv", 3, None, "header names only 2 columns"),
    ("people.csv", "id,name,roles", "id,nom,roles",
     "people.csv", 1, "name", "required column 'name' is missing"),
    ("contacts.csv", 'M03,H007,2026-03-01,visit,屋顶漏雨,true',
     'M03,H007,2026-03-01,visit,"屋顶漏雨,true',
     "contacts.csv", None, None, "cannot be read"),
]


@pytest.mark.parametrize("file,old,new,efile,row,column,words", CASES,
                         ids=[f"{c[3]}:{c[5]}:{c[6][:24]}" for c in CASES])
def test_each_bad_cell_is_located(emb: EmbeddedStore, tiny_copy: Path, file: str, old: str,
                                  new: str, efile: str, row: int | None, column: str | None,
                                  words: str) -> None:
    edit(tiny_copy, file, old, new)
    report = import_path(emb, tiny_copy)
    assert not report.written
    hits = [p for p in report.errors
            if p.file == efile and p.column == column and words in p.message]
    assert hits, [str(p) for p in report.errors]
    if row is not None:
        assert hits[0].row == row, str(hits[0])
    assert emb.records()["townships"] == []  # nothing written


def test_every_error_is_listed_at_once(emb: EmbeddedStore, tiny_copy: Path) -> None:
    applied = 0
    for c in CASES[:8]:
        if c[1] in (tiny_copy / c[0]).read_text(encoding="utf-8"):
            edit(tiny_copy, c[0], c[1], c[2])
            applied += 1
    report = import_path(emb, tiny_copy)
    assert applied == 5 and len(report.errors) == applied, [str(p) for p in report.errors]
    assert all(p.file and p.message for p in report.errors)


def test_warnings_do_not_stop_import(emb: EmbeddedStore, tiny_copy: Path) -> None:
    edit(tiny_copy, "townships.csv", "id,name", "id,name,备注")
    (tiny_copy / "townships.csv").write_text("id,name,备注\nT1,柳树镇,x\nT2,林口镇,\n",
                                             encoding="utf-8")
    with (tiny_copy / "liaisons.csv").open("a", encoding="utf-8") as fh:
        fh.write("member-household,M01,H001,2009-01-01,\n")
    with (tiny_copy / "contacts.csv").open("a", encoding="utf-8") as fh:
        fh.write("M01,H001,2026-06-02,visit,,\n")
    (tiny_copy / "notes.csv").write_text("a\n1\n", encoding="utf-8")
    report = import_path(emb, tiny_copy)
    assert report.ok and report.written
    texts = [str(w) for w in report.warnings]
    assert any("townships.csv, row 1, column 备注" in t and "ignored" in t for t in texts)
    assert any("liaisons.csv, row 84" in t and "row 7" in t for t in texts)  # later row wins
    assert any("contacts.csv, row 49" in t for t in texts)
    assert any("notes.csv" in t for t in texts)
    link = next(r for r in emb.records()["liaisons"]
                if (r["from_id"], r["to_id"]) == ("M01", "H001"))
    assert str(link["since"]) == "2009-01-01"
    assert len(emb.records()["contacts"]) == 47


def test_gbk_file_is_read_as_gb18030_with_a_warning(emb: EmbeddedStore, tiny_copy: Path) -> None:
    text = (tiny_copy / "townships.csv").read_text(encoding="utf-8")
    (tiny_copy / "townships.csv").write_bytes(text.encode("gbk"))
    report = import_path(emb, tiny_copy)
    assert report.ok, report.errors
    assert [p.file for p in report.warnings if "GB18030" in p.message] == ["townships.csv"]
    header, *rows = text.splitlines()
    names = {r["id"]: r["name"] for r in emb.records()["townships"]}
    col = header.split(",").index("name")
    assert {r.split(",")[0]: r.split(",")[col] for r in rows} == names


def test_a_file_in_utf8_and_then_gbk_is_refused(emb: EmbeddedStore, tiny_copy: Path) -> None:
    """UTF-8 Chinese before a GBK line: not one encoding, so not guessed."""
    path = tiny_copy / "townships.csv"
    path.write_bytes(path.read_bytes() + "T99,乙镇\n".encode("gbk"))
    report = import_path(emb, tiny_copy)
    assert any(p.file == "townships.csv" and "not UTF-8 text" in p.message
               for p in report.errors)
    # the other files are still checked, without a flood of "no township" errors
    assert not any("no township" in p.message for p in report.errors)


def test_bom_is_accepted(emb: EmbeddedStore, tiny_copy: Path) -> None:
    f = tiny_copy / "townships.csv"
    f.write_bytes(b"\xef\xbb\xbf" + f.read_bytes())
    assert import_path(emb, tiny_copy).ok


def test_empty_file_is_an_error(emb: EmbeddedStore, tiny_copy: Path) -> None:
    (tiny_copy / "pairings.csv").write_text("", encoding="utf-8")
    report = import_path(emb, tiny_copy)
    assert any(p.file == "pairings.csv" and "empty" in p.message for p in report.errors)


def test_zip_bundle(emb: EmbeddedStore, tiny_dir: Path, tmp_path: Path) -> None:
    z = tmp_path / "bundle.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for f in sorted(tiny_dir.glob("*.csv")):
            zf.write(f, f"tiny-county/{f.name}")
    report = import_path(emb, z)
    assert report.ok and report.counts["households"] == 60


def test_zip_with_path_outside_bundle_is_refused(emb: EmbeddedStore, tiny_dir: Path,
                                                 tmp_path: Path) -> None:
    z = tmp_path / "evil.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.write(tiny_dir / "townships.csv", "townships.csv")
        zf.writestr("../../etc/people.csv", "id,name\nX,y\n")
    report = import_path(emb, z)
    assert not report.ok and "outside the bundle" in report.errors[0].message
    assert emb.records()["townships"] == []


def test_zip_bomb_is_refused(emb: EmbeddedStore, tmp_path: Path) -> None:
    z = tmp_path / "bomb.zip"
    with zipfile.ZipFile(z, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("townships.csv", "id,name\n" + "0" * 5_000_000)
    assert z.stat().st_size < 100_000
    report = import_path(emb, z, max_unpacked_bytes=1_000_000)
    assert not report.ok and "more than the limit" in report.errors[0].message


def test_xlsx_round_trip_and_formula_refused(emb: EmbeddedStore, tiny_dir: Path,
                                             tmp_path: Path) -> None:
    assert import_path(emb, tiny_dir).ok
    x = tmp_path / "bundle.xlsx"
    export_path(emb, x)
    other = EmbeddedStore(tmp_path / "other")
    assert import_path(other, x).ok
    export_path(emb, tmp_path / "a")
    export_path(other, tmp_path / "b")
    for spec in FILES:
        assert (tmp_path / "a" / spec.filename).read_bytes() == \
            (tmp_path / "b" / spec.filename).read_bytes()
    wb = openpyxl.load_workbook(x)
    wb["households"]["F3"] = "=1+1"
    wb.save(x)
    report = import_path(other, x)
    assert any(p.file == "sheet households" and p.row == 3 and "formula" in p.message
               for p in report.errors), report.errors
    other.close()


def test_xlsx_typed_cells(emb: EmbeddedStore, tmp_path: Path) -> None:
    """Excel stores dates, numbers and booleans as such; they read as the bundle's text."""
    import datetime as dt

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "townships"
    ws.append(["id", "name"])
    ws.append(["T1", "柳树镇"])
    ws2 = wb.create_sheet("villages")
    ws2.append(["id", "name", "township_id", "needs_pairing"])
    ws2.append(["V1", "双宝村", "T1", True])
    ws3 = wb.create_sheet("households")
    ws3.append(["id", "head_name", "village_id", "size", "phone", "inactive_since", "status"])
    ws3.append(["H1", "王某", "V1", 3, 15800000001, dt.datetime(2026, 2, 1), "inactive"])
    x = tmp_path / "typed.xlsx"
    wb.save(x)
    report = import_path(emb, x)
    assert report.ok, report.errors
    h = emb.records()["households"][0]
    assert h["size"] == 3 and h["phone"] == "15800000001" and \
        str(h["inactive_since"]) == "2026-02-01"
    assert emb.records()["villages"][0]["needs_pairing"] is True


def test_upload_of_zip_in_memory(emb: EmbeddedStore, tiny_dir: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for f in sorted(tiny_dir.glob("*.csv")):
            zf.write(f, f.name)
    report = import_upload(emb, "bundle.zip", buf.getvalue(), dry_run=True, actor=Actor.cli())
    assert report.ok and not report.written
    bad = import_upload(emb, "bundle.txt", b"hello", actor=Actor.cli())
    assert not bad.ok and ".zip" in bad.errors[0].message


def test_ids_with_quotes_and_cypher_words_are_data(emb: EmbeddedStore, tmp_path: Path) -> None:
    b = tmp_path / "odd"
    b.mkdir()
    odd = "T'}) DETACH DELETE n //`{x}"
    (b / "townships.csv").write_text(f'id,name\n"{odd}","镇""名"\n', encoding="utf-8")
    assert import_path(emb, b).ok
    assert emb.records()["townships"] == [{"id": odd, "name": '镇"名'}]


def test_writer_orders_rows_and_columns(tmp_path: Path) -> None:
    counts = write_bundle({"townships": [{"id": "T2", "name": "b"}, {"id": "T1", "name": "a"}]},
                          tmp_path / "o")
    assert counts["townships.csv"] == 2 and counts["people.csv"] == 0
    assert (tmp_path / "o" / "townships.csv").read_text(encoding="utf-8") == "id,name\nT1,a\nT2,b\n"
    assert (tmp_path / "o" / "people.csv").read_text(encoding="utf-8").startswith(
        "id,name,roles,status")
