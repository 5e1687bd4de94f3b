"""Chinese spreadsheets as they are: bundles with Chinese file/sheet names, headers and values
import through the one mapping of ``graphsvc.bundle.zh`` into exactly the store the English
bundle makes, on both stores; errors name the Chinese file and column; a header row mixing
the two languages is refused; ``export --headers zh`` round-trips byte for byte, formula
escape included; the API upload and the CLI (``export``/``generate --headers zh``) do the same.
"""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from tests_support import ROOT
from tests_support.api import Api, api_on
from tests_support.cli import run
from tests_support.counties import HOSTILE

from graphsvc.bundle import zh
from graphsvc.bundle.reader import read_bundle
from graphsvc.bundle.report import Report
from graphsvc.bundle.schema import FILES, SPECS
from graphsvc.bundle.validate import validate
from graphsvc.bundle.writer import convert_bundle, write_bundle
from graphsvc.importer import export_path, import_path
from graphsvc.stores.base import Store
from graphsvc.stores.embedded import EmbeddedStore

FORMS = ["folder", "zip", "xlsx"]
SUFFIX = {"folder": "", "zip": ".zip", "xlsx": ".xlsx"}


def folder_bytes(folder: Path) -> dict[str, bytes]:
    return {f.name: f.read_bytes() for f in sorted(folder.iterdir())}


def exported(store: Store, where: Path, headers: str = "en") -> dict[str, bytes]:
    export_path(store, where, headers=headers)
    return folder_bytes(where)


@pytest.fixture
def emb(tmp_path: Path) -> Iterator[EmbeddedStore]:
    s = EmbeddedStore(tmp_path / "emb")
    yield s
    s.close()


@pytest.fixture
def en_reference(tiny_dir: Path, tmp_path: Path) -> dict[str, bytes]:
    """The English export of the tiny county imported from its English bundle."""
    s = EmbeddedStore(tmp_path / "reference")
    try:
        assert import_path(s, tiny_dir).ok
        return exported(s, tmp_path / "reference-export")
    finally:
        s.close()


@pytest.fixture
def zh_tiny(tiny_dir: Path, tmp_path: Path) -> Path:
    """The tiny county converted as it is (its own columns, rows and odd booleans) to a Chinese
    folder: 党员.csv with 编号, 姓名, 身份 …, values 县委委员, 不在岗, 是 …"""
    dst = tmp_path / "tiny-zh"
    convert_bundle(tiny_dir, dst, "zh")
    return dst


def edit(folder: Path, name: str, old: str, new: str) -> None:
    f = folder / name
    text = f.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {name}"
    f.write_text(text.replace(old, new, 1), encoding="utf-8")


# -- the mapping and its page ---------------------------------------------------------------------

def test_mapping_covers_every_file_column_and_value() -> None:
    for spec in FILES:
        z = zh.FILES_ZH[spec.name]
        assert set(z.headers) == set(spec.column_names)
        assert zh.spec_name(z.names[0]) == spec.name and zh.spec_name(spec.name) == spec.name
        head = zh.read_header(spec.name, zh.header(spec.name, "zh"))
        assert head.lang == "zh" and list(head.index) == list(spec.column_names)
        assert zh.read_header(spec.name, list(spec.column_names)).lang == "en"
        for col in spec.columns:
            if col.type in ("enum", "list"):
                for choice in col.choices:
                    word = zh.value_word(spec.name, col.name, choice, "zh")
                    assert zh.has_chinese(word)
                    assert zh.to_english(spec.name, col.name, word) == choice
    # the vocabulary the issue names is all there
    assert {zh.to_english("households", "categories", w)
            for w in ("军烈属", "特困户", "空巢老人", "贫困户")} \
        == {"military_martyr", "extreme_poverty", "empty_nest_elderly", "poor"}
    assert {zh.to_english("people", "status", w) for w in ("在职", "在岗")} == {"active"}
    assert {zh.to_english("people", "status", w) for w in ("离任", "不在岗", "迁出")} \
        == {"inactive"}
    assert [zh.to_english("units", "sector", w) for w in ("机关", "事业单位", "企业")] \
        == ["agency", "institution", "enterprise"]
    assert [zh.to_english("contacts", "channel", w) for w in ("走访", "电话", "会议", "其他")] \
        == ["visit", "phone", "meeting", "other"]
    assert HEADERS_NAMED <= {w for z in zh.FILES_ZH.values()
                             for ws in z.headers.values() for w in ws}


HEADERS_NAMED = {"编号", "姓名", "所属村", "类别", "联系人"}


def test_the_page_holds_the_generated_mapping() -> None:
    page = (ROOT / "docs" / "chinese-spreadsheets.md").read_text(encoding="utf-8")
    start = page.index("-->\n", page.index("<!-- mapping:")) + 4
    end = page.index("<!-- end of mapping -->")
    assert page[start:end] == zh.mapping_markdown(), \
        "docs/chinese-spreadsheets.md is out of date: paste `python -m graphsvc.bundle.zh` into it"


# -- the tiny county in Chinese imports to the same store -----------------------------------------

@pytest.mark.parametrize("form", FORMS)
def test_zh_tiny_county_imports_to_the_same_store(store: Store, form: str, tiny_dir: Path,
                                                  tmp_path: Path,
                                                  en_reference: dict[str, bytes]) -> None:
    bundle = tmp_path / f"tiny-zh{SUFFIX[form]}"
    counts = convert_bundle(tiny_dir, bundle, "zh")
    assert "党员.csv" in counts and "户.csv" in counts and "people.csv" not in counts
    report = Report()
    tables = read_bundle(bundle, report)
    assert tables["people"].header[:3] == ["编号", "姓名", "身份"], tables["people"].header
    assert tables["people"].source in ("党员.csv", "sheet 党员")
    assert any(len(cells) > 3 and cells[3] == "不在岗" for _, cells in tables["people"].rows)
    report = import_path(store, bundle)
    assert report.ok and report.written, [str(p) for p in report.errors]
    assert not report.warnings, [str(p) for p in report.warnings]
    assert exported(store, tmp_path / "back-en") == en_reference


ZH_HAND = {  # written by hand: other accepted names, headers and words, remarks, 、 lists
    "乡镇.csv": "乡镇编号,乡镇名称\nT1,柳树镇\n",
    "村.csv": "编号*, 村名 ,所属乡镇,需结对,备注\nV1,双宝村,T1,是,重点村\nV2,复兴村,T1,否,\n",
    "党组织.csv": "编号,名称,组织类型,级别,上级\nO1,中共某县委员会,党(工)委,县直,\n"
                  "O2,双宝村党支部,支部,村,O1\nO3,县林业局党总支,总支部,单位级,O1\n",
    "单位.csv": "编号,单位名称,单位性质,所属党组织\nU1,县林业局,机关,O3\nU2,农技中心,事业,\n",
    "人员.csv": "编号,姓名,职务,状态,离任日期,困难党员,所属党组织,所属乡镇,所属村,电话\n"
                "C1,李军秀,县委委员、党代表,在岗,,否,O1,,,13900000001\n"
                "D1,陈金兰,党代表；干部,不在岗,2025-12-31,,O2,T1,,\n"
                "M1,吴凤金,,,,是,,,V1,+8613900000009\n",
    "农户.csv": "户编号,户主姓名,所属村,重点类别,家庭人口,状态,注销日期,电话,地址\n"
                "H1,李山淑,V1,农村空巢老人、军烈属,2,正常,,,双宝村1号\n"
                "H2,张国强,V1,贫困户,3,注销,2026-01-01,,=双宝村2号\n",
    "三联系.csv": "类型,联系人,联系对象,起始日期,终止日期\n县委委员-党代表,C1,D1,2007-06-01,\n"
                  "党代表-党员,D1,M1,2008-01-01,2025-12-31\n党员联系群众,M1,H1,2008-02-01,\n",
    "结对帮扶.csv": "帮扶单位,结对村,开始日期,结束日期\nU1,V1,2008-03-01,\n",
    "结穷亲.csv": "干部,贫困户,开始日期\nD1,H2,2015-01-01\n",
    "走访记录.csv": "联系人,户编号,联系日期,联系方式,困难,是否解决\n"
                    "M1,H1,2026-06-02,电话,屋顶漏雨,是\nM1,H1,2026-06-03,,,\n",
}

EN_HAND = {
    "townships.csv": "id,name\nT1,柳树镇\n",
    "villages.csv": "id,name,township_id,needs_pairing\nV1,双宝村,T1,true\nV2,复兴村,T1,false\n",
    "organizations.csv": "id,name,kind,level,parent_id\nO1,中共某县委员会,committee,county,\n"
                         "O2,双宝村党支部,branch,village,O1\nO3,县林业局党总支,general_branch,unit,O1\n",
    "units.csv": "id,name,sector,organization_id\n"
                 "U1,县林业局,agency,O3\nU2,农技中心,institution,\n",
    "people.csv": "id,name,roles,status,inactive_since,hardship,organization_id,township_id,"
                  "village_id,phone\nC1,李军秀,committee_member;delegate,active,,false,O1,,,13900000001\n"
                  "D1,陈金兰,delegate;cadre,inactive,2025-12-31,,O2,T1,,\n"
                  "M1,吴凤金,,,,true,,,V1,'+8613900000009\n",
    "households.csv": "id,head_name,village_id,categories,size,status,inactive_since,"
                      "phone,address\n"
                      "H1,李山淑,V1,military_martyr;empty_nest_elderly,2,active,,,双宝村1号\n"
                      "H2,张国强,V1,poor,3,inactive,2026-01-01,,'=双宝村2号\n",
    "liaisons.csv": "kind,from_id,to_id,since,until\ncommittee_member-delegate,C1,D1,2007-06-01,\n"
                    "delegate-member,D1,M1,2008-01-01,2025-12-31\nmember-household,M1,H1,2008-02-01,\n",
    "pairings.csv": "unit_id,village_id,since,until\nU1,V1,2008-03-01,\n",
    "supports.csv": "person_id,household_id,since\nD1,H2,2015-01-01\n",
    "contacts.csv": "person_id,household_id,date,channel,request,resolved\n"
                    "M1,H1,2026-06-02,phone,屋顶漏雨,true\nM1,H1,2026-06-03,visit,,false\n",
}


def write_files(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_a_hand_written_chinese_bundle_reads_like_its_english_twin(store: Store,
                                                                   tmp_path: Path) -> None:
    twin = EmbeddedStore(tmp_path / "twin")
    try:
        assert import_path(twin, write_files(tmp_path / "en", EN_HAND)).ok
        want = exported(twin, tmp_path / "want")
    finally:
        twin.close()
    report = import_path(store, write_files(tmp_path / "zh", ZH_HAND))
    assert report.ok, [str(p) for p in report.errors]
    # the remarks column is the one warning, named as written, with the accepted headers
    assert [(w.file, w.column) for w in report.warnings] == [("村.csv", "备注")]
    assert "编号 (or 村编号), 名称 (or 村名, 村名称)" in report.warnings[0].message
    assert exported(store, tmp_path / "got") == want
    people = {r["id"]: r for r in store.records()["people"]}
    assert people["C1"]["roles"] == ["committee_member", "delegate"]
    assert people["M1"]["phone"] == "+8613900000009"
    hh = {r["id"]: r for r in store.records()["households"]}
    assert hh["H2"]["address"] == "=双宝村2号" and hh["H2"]["status"] == "inactive"


# -- round trips ----------------------------------------------------------------------------------

def test_zh_export_round_trips_byte_for_byte(store: Store, tiny_dir: Path, tmp_path: Path,
                                            en_reference: dict[str, bytes]) -> None:
    source = EmbeddedStore(tmp_path / "source")
    try:
        assert import_path(source, tiny_dir).ok
        zh_export = exported(source, tmp_path / "zh", "zh")
        export_path(source, tmp_path / "zh.zip", headers="zh")
        export_path(source, tmp_path / "zh.xlsx", headers="zh")
    finally:
        source.close()
    assert set(zh_export) == {zh.filename(s.name, "zh") for s in FILES}
    assert zh_export["党员.csv"].decode().startswith(",".join(zh.header("people", "zh")) + "\n")
    assert "C3,刘胜海,县委委员,不在岗,,否,O1" in zh_export["党员.csv"].decode()
    for i, form in enumerate(["zh", "zh.zip", "zh.xlsx"]):
        report = import_path(store, tmp_path / form, replace=i > 0)
        assert report.ok and report.written, [str(p) for p in report.errors]
        assert exported(store, tmp_path / f"en-again-{i}") == en_reference
        assert exported(store, tmp_path / f"zh-again-{i}", "zh") == zh_export
    wb = openpyxl.load_workbook(tmp_path / "zh.xlsx", read_only=True)
    try:
        assert wb.sheetnames == [zh.file_stem(s.name, "zh") for s in FILES]
        assert [c.value for c in next(wb["联系"].iter_rows(max_row=1))] == \
            zh.header("liaisons", "zh")
    finally:
        wb.close()
    with zipfile.ZipFile(tmp_path / "zh.zip") as zf:
        assert sorted(zf.namelist()) == sorted(zh_export)


def test_formula_escape_holds_in_chinese_files(store: Store, tmp_path: Path) -> None:
    """The hostile records of test_csv_injection, written in Chinese: every trigger cell has its
    quote, and zh -> import -> zh / en gives the bytes of the direct exports."""
    write_bundle(HOSTILE, tmp_path / "zh", headers="zh")
    write_bundle(HOSTILE, tmp_path / "en")
    text = (tmp_path / "zh" / "党员.csv").read_text(encoding="utf-8")
    assert "'=C1,'-2+3,县委委员,在岗" in text and "'+86 139 0000 0001" in text
    assert "\n'=T1,'=cmd|" in (tmp_path / "zh" / "乡镇.csv").read_text(encoding="utf-8")
    for i, form in enumerate(["zh", "zh.xlsx"]):
        if form.endswith(".xlsx"):
            write_bundle(HOSTILE, tmp_path / form, headers="zh")
        report = import_path(store, tmp_path / form, replace=i > 0)
        assert report.ok, [str(p) for p in report.errors]
        assert exported(store, tmp_path / f"zh-{i}", "zh") == folder_bytes(tmp_path / "zh")
        assert exported(store, tmp_path / f"en-{i}") == folder_bytes(tmp_path / "en")


# -- errors in the file's own words ---------------------------------------------------------------

# (file, old, new, expected file, row, column, words)
ZH_CASES = [
    ("党员.csv", "C3,刘胜海,县委委员,不在岗", "C3,刘胜海,县委委员,退休", "党员.csv", 4, "状态",
     "'退休' is not allowed here; use one of: 在岗 (or 在职), 不在岗 (or 离任, 迁出, 调离)"),
    ("党员.csv", "C3,刘胜海,县委委员,不在岗", "C3,刘胜海,县委委员,inactive", "党员.csv", 4,
     "状态", "this file has Chinese headers and so takes Chinese values: write 不在岗"),
    ("党员.csv", "M01,吴凤金,,", "M01,吴凤金,老板,", "党员.csv", 10, "身份",
     "use one of: 县委委员, 党代表, 干部"),
    ("户.csv", "H003,刘军秀,V1", "H003,刘军秀,V77", "户.csv", 4, "所属村",
     "no village with id 'V77'"),
    ("户.csv", "H003,刘军秀,V1", "H003,,V1", "户.csv", 4, "户主",
     "'户主' is required but the cell is empty"),
    ("户.csv", "H004,陈志军,V1,空巢老人", "H004,陈志军,V1,五保户", "户.csv", 5, "类别",
     "use one of: 军烈属, 特困户, 空巢老人 (or 农村空巢老人), 贫困户"),
    ("户.csv", "H002,张国强,V1,特困户;贫困户,3", "H002,张国强,V1,特困户;贫困户,0",
     "户.csv", 3, "人口", "1 or more"),
    ("联系.csv", "党代表联系党员,D1,M01", "党代表联系党员,M02,M01", "联系.csv", 6, "联系人",
     ("'M02' does not have the role 党代表, so cannot start a 党代表联系党员 liaison; "
      "add 党代表 to their 身份 in 党员.csv or correct the 联系类型")),
    ("联系.csv", "党员联系户,M01,H001", "党员联系户,M01,M02", "联系.csv", 7, "联系对象",
     "'M02' is a person, not a household"),
    ("联系.csv", "党员联系户,M01,H001", "党员户,M01,H001", "联系.csv", 7, "联系类型",
     "use one of: 县委委员联系党代表"),
    ("联系.csv", "党代表联系党员,D1,M01,2008-01-01,",
     "党代表联系党员,D1,M01,2008-01-01,2007-01-01",
     "联系.csv", 6, "结束日期", "'结束日期' (2007-01-01) must be after '开始日期' (2008-01-01)"),
    ("联系记录.csv", "M01,H001,2026-06-02,走访", "M01,H001,2026-06-02,传真",
     "联系记录.csv", 2, "方式", "use one of: 走访, 电话, 会议, 其他"),
    ("联系记录.csv", "M01,H001,2026-06-02", "M01,H999,2026-06-02", "联系记录.csv", 2, "户",
     "no household with id 'H999'"),
    ("结对.csv", "U1,V1,", "U9,V1,", "结对.csv", 2, "帮扶单位", "no unit with id 'U9'"),
    ("结穷亲.csv", "K1,H002", "K1,V1", "结穷亲.csv", 2, "贫困户", "a village, not a household"),
    ("行政村.csv", "V4,小盘道村,T2,", "V4,小盘道村,T2,也许", "行政村.csv", 5, "需要结对",
     "not yes or no"),
    ("党组织.csv", "O4,双宝村党支部,党支部", "O4,双宝村党支部,小组", "党组织.csv", 5, "类型",
     "use one of: 党(工)委"),
    ("党组织.csv", "O2,柳树镇党委,党(工)委,乡镇级,O1", "O2,柳树镇党委,党(工)委,乡镇级,O2",
     "党组织.csv", 3, "上级党组织", "its own parent"),
    ("帮扶单位.csv", "U4,县委宣传部,机关", "H001,县委宣传部,机关", "户.csv", 2, "编号",
     "already used in 帮扶单位.csv row 5"),
    ("党员.csv", "编号,姓名", "代号,姓名", "党员.csv", 1, "编号",
     ("the required column '编号' is missing from the header (the columns of 党员.csv are: "
      "编号 (or 党员编号), 姓名")),
]


@pytest.mark.parametrize("file,old,new,efile,row,column,words", ZH_CASES,
                         ids=[f"{c[3]}:{c[5]}" for c in ZH_CASES])
def test_zh_errors_name_the_chinese_file_and_column(emb: EmbeddedStore, zh_tiny: Path, file: str,
                                                   old: str, new: str, efile: str, row: int,
                                                   column: str, words: str) -> None:
    edit(zh_tiny, file, old, new)
    report = import_path(emb, zh_tiny)
    assert not report.written
    hits = [p for p in report.errors
            if p.file == efile and p.column == column and words in p.message]
    assert hits, [str(p) for p in report.errors]
    assert hits[0].row == row, str(hits[0])
    assert emb.records()["townships"] == []


def test_an_accepted_header_is_named_as_written(emb: EmbeddedStore, zh_tiny: Path) -> None:
    edit(zh_tiny, "户.csv", "编号,户主,所属村", "编号,户主姓名 ,所属村")
    edit(zh_tiny, "户.csv", "H003,刘军秀,V1", "H003,,V1")
    report = import_path(emb, zh_tiny)
    assert [(p.file, p.row, p.column) for p in report.errors] == [("户.csv", 4, "户主姓名")]
    assert "'户主姓名' is required" in report.errors[0].message


def test_chinese_values_in_an_english_file_name_the_english_word(emb: EmbeddedStore,
                                                                 tiny_copy: Path) -> None:
    edit(tiny_copy, "people.csv", "C3,刘胜海,committee_member,inactive",
         "C3,刘胜海,committee_member,离任")
    edit(tiny_copy, "households.csv", "H004,陈志军,V1,empty_nest_elderly",
         "H004,陈志军,V1,空巢老人")
    report = import_path(emb, tiny_copy)
    got = {(p.file, p.row, p.column): p.message for p in report.errors}
    assert set(got) == {("people.csv", 4, "status"), ("households.csv", 5, "categories")}, got
    assert "'离任' is a Chinese value, but this file has English headers" in \
        got[("people.csv", 4, "status")]
    assert "write inactive" in got[("people.csv", 4, "status")]
    assert "write empty_nest_elderly" in got[("households.csv", 5, "categories")]


def test_a_header_row_mixing_the_languages_is_refused(emb: EmbeddedStore, zh_tiny: Path,
                                                      tmp_path: Path) -> None:
    edit(zh_tiny, "党员.csv", "编号,姓名,身份,状态", "编号,name,身份,status")
    report = import_path(emb, zh_tiny)
    assert not report.written
    mixed = [p for p in report.errors if p.file == "党员.csv"]
    assert len(mixed) == 1 and mixed[0].row == 1, [str(p) for p in report.errors]
    assert "mixes English and Chinese column names (English: name, status; Chinese: 编号, 身份" \
        in mixed[0].message
    # the other files are still checked, without a flood of "no person" errors
    assert not any("no person" in p.message for p in report.errors), [str(p) for p in report.errors]
    # the same in a workbook sheet
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "乡镇"
    ws.append(["编号", "name"])
    ws.append(["T1", "柳树镇"])
    wb.save(tmp_path / "mixed.xlsx")
    report = import_path(emb, tmp_path / "mixed.xlsx")
    assert [(p.file, p.row) for p in report.errors] == [("sheet 乡镇", 1)]
    assert "English: name; Chinese: 编号" in report.errors[0].message


def test_unknown_chinese_header_and_file_are_warned_with_the_accepted_ones(emb: EmbeddedStore,
                                                                           zh_tiny: Path) -> None:
    (zh_tiny / "乡镇.csv").write_text("编号,名称,备注\nT1,柳树镇,x\nT2,林口镇,\n", encoding="utf-8")
    (zh_tiny / "台账说明.csv").write_text("说明\n随便\n", encoding="utf-8")
    report = import_path(emb, zh_tiny)
    assert report.ok and report.written, [str(p) for p in report.errors]
    by = {(w.file, w.column): w.message for w in report.warnings}
    assert "The columns of 乡镇.csv are: 编号 (or 乡镇编号), 名称 (or 乡镇名称)" in \
        by[("乡镇.csv", "备注")]
    assert "党员.csv, 人员.csv" in by[("台账说明.csv", None)]


def test_the_same_file_twice_in_two_languages_is_refused(emb: EmbeddedStore, zh_tiny: Path,
                                                          tiny_dir: Path) -> None:
    shutil.copy(tiny_dir / "people.csv", zh_tiny / "people.csv")
    report = import_path(emb, zh_tiny)
    assert not report.written
    assert any("both" in p.message and "党员.csv" in p.message and "people.csv" in p.message
               for p in report.errors), [str(p) for p in report.errors]
    (zh_tiny / "people.csv").unlink()
    shutil.copy(zh_tiny / "党员.csv", zh_tiny / "人员.csv")
    assert not import_path(emb, zh_tiny).written


def test_a_sheet_error_names_the_chinese_sheet_and_column(emb: EmbeddedStore, tiny_dir: Path,
                                                          tmp_path: Path) -> None:
    convert_bundle(tiny_dir, tmp_path / "zh.xlsx", "zh")
    wb = openpyxl.load_workbook(tmp_path / "zh.xlsx")
    ws = wb["党员"]
    assert ws["D4"].value == "不在岗"
    ws["D4"].value = "退休"
    wb.save(tmp_path / "bad-value.xlsx")
    ws["D4"].value = "不在岗"
    ws["G5"].value = "=1+1"  # a formula: refused, named by its Chinese column
    wb.save(tmp_path / "formula.xlsx")
    for name, where in (("bad-value.xlsx", ("sheet 党员", 4, "状态")),
                        ("formula.xlsx", ("sheet 党员", 5, "所属党组织"))):
        report = import_path(emb, tmp_path / name)
        assert [(p.file, p.row, p.column) for p in report.errors] == [where], \
            [str(p) for p in report.errors]


def test_a_zip_with_gbk_file_names_reads(emb: EmbeddedStore, tmp_path: Path, tiny_dir: Path,
                                         en_reference: dict[str, bytes]) -> None:
    """Windows' "compressed folder" on Chinese Windows writes names in GBK, unflagged."""
    convert_bundle(tiny_dir, tmp_path / "zh", "zh")
    stand_ins: dict[bytes, bytes] = {}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for i, f in enumerate(sorted((tmp_path / "zh").iterdir())):
            gbk = f.name.encode("gbk")
            stand_in = (chr(ord("A") + i) * (len(gbk) - 4) + ".csv").encode()
            stand_ins[stand_in] = gbk
            zf.writestr(stand_in.decode(), f.read_bytes())
    data = buf.getvalue()
    for stand_in, gbk in stand_ins.items():
        assert data.count(stand_in) == 2  # local header and central directory
        data = data.replace(stand_in, gbk)
    (tmp_path / "gbk.zip").write_bytes(data)
    with zipfile.ZipFile(tmp_path / "gbk.zip") as zf:
        assert not any(i.flag_bits & 0x800 for i in zf.infolist())
    report = import_path(emb, tmp_path / "gbk.zip")
    assert report.ok and not report.warnings, [str(p) for p in report.errors + report.warnings]
    assert exported(emb, tmp_path / "back") == en_reference


# -- the API upload and the CLI -------------------------------------------------------------------

def test_api_upload_takes_chinese_bundles(store: Store, tiny_dir: Path, tmp_path: Path,
                                          en_reference: dict[str, bytes]) -> None:
    convert_bundle(tiny_dir, tmp_path / "zh.zip", "zh")
    convert_bundle(tiny_dir, tmp_path / "zh.xlsx", "zh")
    api: Api
    for api in api_on(store, tmp_path / "api"):
        for name in ("zh.zip", "zh.xlsx"):
            r = api.client.post("/api/v1/imports", headers=api.admin,
                                files={"file": (name, (tmp_path / name).read_bytes())})
            assert r.status_code == 200, r.text
            assert r.json()["counts"]["people"] == 28
            assert exported(store, tmp_path / f"back-{name[3:]}") == en_reference
        bad = tmp_path / "bad"
        convert_bundle(tiny_dir, bad, "zh")
        edit(bad, "户.csv", "H003,刘军秀,V1", "H003,刘军秀,V77")
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            for f in bad.iterdir():
                zf.writestr(f.name, f.read_bytes())
        r = api.client.post("/api/v1/imports", headers=api.admin,
                            files={"file": ("bad.zip", buf.getvalue())})
        assert r.status_code == 422, r.text
        errors = r.json()["errors"]
        assert [(e["file"], e["row"], e["column"]) for e in errors] == [("户.csv", 4, "所属村")]


def test_cli_export_headers_zh(tiny_dir: Path, tmp_path: Path,
                               en_reference: dict[str, bytes]) -> None:
    env = {"GRAPHSVC_DATA_DIR": str(tmp_path / "data")}
    assert run(["import", str(tiny_dir)], env, tmp_path).returncode == 0
    r = run(["export", str(tmp_path / "zh"), "--headers", "zh"], env, tmp_path)
    assert r.returncode == 0, r.stderr
    assert "党员.csv" in r.stdout and "28" in r.stdout
    r = run(["export", str(tmp_path / "en")], env, tmp_path)
    assert r.returncode == 0, r.stderr
    assert folder_bytes(tmp_path / "en") == en_reference
    assert (tmp_path / "zh" / "户.csv").read_text(encoding="utf-8").startswith(
        "编号,户主,所属村,类别,人口,状态,迁出日期,联系电话,住址\n")
    r = run(["export", str(tmp_path / "x"), "--headers", "fr"], env, tmp_path)
    assert r.returncode == 2 and "fr" in r.stderr
    # the Chinese export imports back into a fresh store with the same English export
    env2 = {"GRAPHSVC_DATA_DIR": str(tmp_path / "data2")}
    r = run(["import", str(tmp_path / "zh")], env2, tmp_path)
    assert r.returncode == 0, r.stderr
    assert run(["export", str(tmp_path / "en2")], env2, tmp_path).returncode == 0
    assert folder_bytes(tmp_path / "en2") == en_reference


def test_cli_generate_headers_zh(tmp_path: Path) -> None:
    """The generated county in Chinese is the English one in other words, file for file."""
    for headers in ("en", "zh"):
        r = run(["generate", str(tmp_path / headers), "--seed", "3", "--headers", headers], {},
                tmp_path)
        assert r.returncode == 0, r.stderr
    names = sorted(p.name for p in (tmp_path / "zh").iterdir())
    assert names == sorted(zh.filename(s.name, "zh") for s in FILES), names
    assert "联系记录.csv" in r.stdout
    people = (tmp_path / "zh" / "党员.csv").read_text(encoding="utf-8").splitlines()
    assert people[0] == ",".join(zh.header("people", "zh"))
    assert any(",县委委员;党代表,在岗," in line for line in people[:50])
    convert_bundle(tmp_path / "zh", tmp_path / "back", "en")
    assert folder_bytes(tmp_path / "back") == folder_bytes(tmp_path / "en")
    # and it is a valid bundle, checked as an import would check it
    report = Report()
    tables = read_bundle(tmp_path / "zh", report)
    bundle = validate(tables, None, report)
    assert report.ok and not report.warnings, \
        [str(p) for p in (report.errors + report.warnings)[:5]]
    assert len(bundle.rows("people")) == len(people) - 1


def test_convert_rejects_nothing_silently(tmp_path: Path) -> None:
    """An unknown word is carried over as it is, so that the import names it."""
    write_files(tmp_path / "en", {"people.csv": "id,name,status\nP1,某,retired\n"})
    convert_bundle(tmp_path / "en", tmp_path / "zh", "zh")
    assert (tmp_path / "zh" / "党员.csv").read_text(encoding="utf-8") == \
        "编号,姓名,状态\nP1,某,retired\n"
    report = Report()
    validate(read_bundle(tmp_path / "zh", report), None, report)
    assert [(p.file, p.column) for p in report.errors] == [("党员.csv", "状态")]
    assert SPECS["people"].filename == "people.csv"
    assert json.dumps(report.as_dict(), ensure_ascii=False).count("状态") >= 1


def test_one_chinese_file_imports_on_its_own(emb: EmbeddedStore, zh_tiny: Path) -> None:
    report = import_path(emb, zh_tiny / "乡镇.csv")
    assert report.ok and report.counts == {"townships": 2}, [str(p) for p in report.errors]
    report = import_path(emb, zh_tiny / "行政村.csv")
    assert report.ok and \
        [r["needs_pairing"] for r in emb.records()["villages"]] == [True] * 3 + [False]


def test_a_single_chinese_named_csv_upload(tmp_path: Path) -> None:
    """POST /imports with one file named in Chinese (乡镇.csv) reads it as townships.csv."""
    from graphsvc.auditlog import Actor
    from graphsvc.importer import import_upload
    from graphsvc.stores.embedded import EmbeddedStore

    with EmbeddedStore(tmp_path / "s") as store:
        report = import_upload(store, "乡镇.csv", "编号,名称\nT9,新镇\n".encode(),
                               actor=Actor("api", "K1", "test", "admin"))
        assert report.ok, report.errors
        assert store.records()["townships"] == [{"id": "T9", "name": "新镇"}]
