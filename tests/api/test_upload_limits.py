"""Uploads that cost the server more than they are worth, through the real API on both stores:
the answer stays small (problems listed per kind, the rest counted), absurd shapes (a header
of a million columns, a line over a mebibyte, an archive that unpacks a hundred times over)
are refused with a sentence before they are built in memory, nothing is written; and an
upload is logged in the audit log as the key that sent it.

The memory these cases cost the server is measured in ``benchmarks/upload_memory_bench.py``.
"""

from __future__ import annotations

import io
import json
import struct
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from tests_support.api import Api, api_on
from tests_support.cli import run
from tests_support.uploads import refused, snapshot, upload, zip_of

from graphsvc.importer import import_path
from graphsvc.keys import Role
from graphsvc.stores.base import Store

CONTACTS_HEAD = b"person_id,household_id,date\n"


@pytest.fixture
def api(store: Store, tiny_dir: Path, tmp_path: Path) -> Iterator[Api]:
    """The API on the tiny county, with the default limits (50 MB uploads, 1 GiB unpacked)."""
    assert import_path(store, tiny_dir).ok
    yield from api_on(store, tmp_path / "api")


def _newest_entry(api: Api) -> dict[str, Any]:
    r = api.client.get("/api/v1/audit-log", headers=api.admin)
    assert r.status_code == 200, r.text
    return r.json()["items"][0]


# -- item 2: an upload is logged as its key -----------------------------------------------------

def test_an_upload_is_logged_as_the_key_that_sent_it(api: Api) -> None:
    rec, token = api.keys.create(Role.ADMIN, name="乡镇办 王会计")
    h = {"Authorization": f"Bearer {token}"}
    # writes only: a read of the log that shows changed values is itself logged (read_pii)
    writes = {"action": "import"}
    before = api.client.get("/api/v1/audit-log", headers=api.admin, params=writes).json()["total"]
    r = api.client.post("/api/v1/imports", headers=h, params={"dry_run": "true"},
                        files={"file": ("contacts.csv", CONTACTS_HEAD + b"M01,H059,2026-06-29\n")})
    assert r.status_code == 200, r.text
    assert api.client.get("/api/v1/audit-log", headers=api.admin,
                          params=writes).json()["total"] == before
    r = api.client.post("/api/v1/imports", headers=h,
                        files={"file": ("contacts.csv", CONTACTS_HEAD + b"M01,H059,2026-06-29\n")})
    assert r.status_code == 200 and r.json()["written"], r.text
    entry = _newest_entry(api)
    assert entry["files"] == {"contacts": 1}
    assert (entry["via"], entry["key_id"], entry["key_name"], entry["role"]) == (
        "api", rec.id, "乡镇办 王会计", "admin")
    # a zip goes the same way
    r = api.client.post("/api/v1/imports", headers=h, files={"file": ("b.zip", zip_of(
        {"contacts.csv": CONTACTS_HEAD + b"M01,H059,2026-06-28\n"}))})
    assert r.status_code == 200, r.text
    entry = _newest_entry(api)
    assert (entry["via"], entry["key_id"], entry["role"]) == ("api", rec.id, "admin")


# -- item 4: the answer is bounded --------------------------------------------------------------

def test_many_bad_rows_get_a_bounded_answer_with_every_one_counted(api: Api) -> None:
    before = snapshot(api.store)
    body = (CONTACTS_HEAD + b"M01,H059,2026-13-45\n" * 5000
            + b"".join(b"M01,H9%03d,2026-06-01\n" % i for i in range(150)))
    r = upload(api, "contacts.csv", body)
    out = refused(r, "is not a real date", "there is no household with id 'H9000'")
    assert len(r.content) < 100_000, len(r.content)  # was 1.5 MB for these 5,150 rows
    assert out["error_count"] == 5150 and out["warning_count"] == 0
    assert "5,150 error(s)" in out["detail"]
    by_column: dict[str, int] = {}
    for e in out["errors"]:
        by_column[e["column"]] = by_column.get(e["column"], 0) + 1
    assert by_column == {"date": 100, "household_id": 100}
    assert [(o["level"], o["file"], o["column"], o["count"]) for o in out["omitted"]] == [
        ("error", "contacts.csv", "date", 4900), ("error", "contacts.csv", "household_id", 50)]
    assert out["omitted"][0]["message"].startswith("... and 4,900 more errors of this kind, "
                                                   "like the one listed at contacts.csv, row 2")
    assert snapshot(api.store) == before


def test_a_header_wider_than_any_bundle_file_is_refused(api: Api) -> None:
    before = snapshot(api.store)
    head = ",".join(["person_id", "household_id", "date"] + [f"remark{i}" for i in range(300)])
    r = upload(api, "b.zip", zip_of({"contacts.csv": head + "\nM01,H059,2026-06-29\n"}))
    out = refused(r, "the header row has 303 columns", "at most 10", "right file")
    assert out["errors"][0]["file"] == "contacts.csv" and out["errors"][0]["row"] == 1
    assert out["warnings"] == [] and out["error_count"] == 1  # not 300 warnings
    assert snapshot(api.store) == before


def test_a_header_of_a_million_columns_is_refused_at_once(api: Api) -> None:
    """7.9 MB of header made a 228 MB answer (a warning per column) and +1 GB on the server."""
    before = snapshot(api.store)
    head = ",".join(["person_id", "household_id", "date"] + [f"c{i}" for i in range(1_000_000)])
    assert len(head) > 7_000_000
    r = upload(api, "b.zip", zip_of({"contacts.csv": head + "\nM01,H059,2026-06-29\n"}))
    out = refused(r, "longer than 1,048,576 bytes", "right file")
    assert [(e["file"], e["row"]) for e in out["errors"]] == [("contacts.csv", 1)]
    assert len(r.content) < 5_000
    assert snapshot(api.store) == before


def test_a_line_over_a_mebibyte_is_refused_naming_its_row(api: Api) -> None:
    before = snapshot(api.store)
    big = b"x" * (1 << 21)
    data = CONTACTS_HEAD + b"M01,H059,2026-06-29\nM01,H059," + big + b"\n"
    r = upload(api, "contacts.csv", data)
    out = refused(r, "longer than 1,048,576 bytes")
    assert (out["errors"][0]["file"], out["errors"][0]["row"]) == ("contacts.csv", 3)
    assert len(r.content) < 5_000  # the old answer quoted the 2 MiB cell back
    # a quoted cell over a mebibyte made of many short lines is refused too
    cell = b'"' + b"y\n" * 600_000 + b'"'
    r = upload(api, "contacts.csv", CONTACTS_HEAD + b"M01,H059," + cell + b"\n")
    refused(r, "contacts.csv", "field larger than field limit", "check the quotes")
    assert len(r.content) < 5_000
    assert snapshot(api.store) == before


# -- item 5: zip bombs --------------------------------------------------------------------------

def _deflated_zip(name: str, pattern: bytes, size: int) -> bytes:
    """A zip of one member holding ``pattern`` repeated to ``size`` bytes, packed without
    holding it whole in memory."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf, \
            zf.open(name, "w", force_zip64=True) as dst:
        block = pattern * ((1 << 20) // len(pattern))
        left = size
        while left > 0:
            dst.write(block[:left])
            left -= len(block)
    return buf.getvalue()


def test_a_zip_bomb_within_the_unpacked_limit_is_refused_before_it_is_inflated(api: Api) -> None:
    """Under GRAPHSVC_MAX_UNPACKED_BYTES (1 GiB) but a thousand times its packed size: 900 MiB
    of NULs in 0.9 MB took the server to 2.1 GB before it was refused."""
    before = snapshot(api.store)
    nuls = _deflated_zip("contacts.csv", b"\0", 200 << 20)
    assert len(nuls) < 250_000
    r = upload(api, "nuls.zip", nuls)
    out = refused(r, "'contacts.csv' in the archive would unpack to 209,715,200 bytes",
                  "more than 100 times its packed size", "zip bomb")
    assert out["counts"] == {}
    # the same made of rows: each would have been read (a million rows, a million errors)
    rows = _deflated_zip("townships.csv", b"T1,x\n", 5 << 20)
    r = upload(api, "rows.zip", rows)
    refused(r, "'townships.csv' in the archive", "zip bomb")
    assert len(r.content) < 5_000
    assert snapshot(api.store) == before


def test_a_workbook_bomb_within_the_limit_is_refused(api: Api) -> None:
    before = snapshot(api.store)
    wb = openpyxl.Workbook()
    wb.active.title = "townships"
    wb.active.append(["id", "name"])
    wb.active.append(["T9", "新镇"])
    buf = io.BytesIO()
    wb.save(buf)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as src, \
            zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for info in src.infolist():
            zf.writestr(info.filename, src.read(info.filename))
        zf.writestr("xl/media/image1.png", b"\0" * (20 << 20))
    refused(upload(api, "t.xlsx", out.getvalue()), "xl/media/image1.png", "zip bomb")
    assert snapshot(api.store) == before


def test_a_nul_in_a_member_that_packs_normally_is_refused_from_its_first_block(api: Api) -> None:
    """A member read block by block: the NUL stops it where it is, with its line."""
    body = CONTACTS_HEAD + b"M01,H059,2026-06-29\n" * 3 + b"M01,\0\n"
    out = refused(upload(api, "n.zip", zip_of({"contacts.csv": body})), "NUL character")
    assert [(e["file"], e["row"]) for e in out["errors"]] == [("contacts.csv", 5)]


# -- the CLI's report file is bounded too, but lists more ---------------------------------------

def test_cli_report_file_lists_more_and_the_terminal_stays_short(
        cli_env: dict[str, str], tmp_path: Path) -> None:
    folder = tmp_path / "bundle"
    folder.mkdir()
    (folder / "townships.csv").write_text("id,name\n" + "T1,x\n" * 12_001, encoding="utf-8")
    report = tmp_path / "report.json"
    r = run(["import", str(folder), "--report", str(report)], cli_env, tmp_path)
    assert r.returncode == 1, r.stderr
    # one kind of problem: one line, with the count and the first rows
    assert r.stderr.count("ERROR") == 1, r.stderr
    assert "townships.csv, column id: 12,000 rows (rows 3, 4, 5, 6, 7, …), like row 3: " \
        in r.stderr
    assert "The bundle has 12,000 error(s); nothing was written." in r.stderr
    body = json.loads(report.read_text(encoding="utf-8"))
    assert body["error_count"] == 12_000 and len(body["errors"]) == 10_000
    assert [(o["column"], o["count"]) for o in body["omitted"]] == [("id", 2000)]
    r = run(["summary", "--format", "json"], cli_env, tmp_path)
    assert json.loads(r.stdout)["townships"] == 0


def _lie_about(data: bytes, member: str, size: int) -> bytes:
    """The archive with ``member``'s unpacked size stated as ``size``, in its local header and
    in the central directory."""
    out = bytearray(data)
    at = out.find(b"PK\x01\x02")
    while at != -1:
        name_len, = struct.unpack_from("<H", out, at + 28)
        if out[at + 46: at + 46 + name_len] == member.encode():
            local, = struct.unpack_from("<I", out, at + 42)
            struct.pack_into("<I", out, at + 24, size)
            struct.pack_into("<I", out, local + 22, size)
            return bytes(out)
        at = out.find(b"PK\x01\x02", at + 46)
    raise AssertionError(member)


def test_a_workbook_whose_sizes_lie_is_read_no_further_than_stated(api: Api) -> None:
    """zipfile inflates a member to its stated size at most (then its checksum fails), so the
    limits checked on the stated sizes hold for workbooks, which openpyxl unpacks itself."""
    before = snapshot(api.store)
    wb = openpyxl.Workbook()
    wb.active.title = "townships"
    wb.active.append(["id", "name"])
    for i in range(20_000):
        wb.active.append([f"T{i}", "新镇"])
    buf = io.BytesIO()
    wb.save(buf)
    liar = _lie_about(buf.getvalue(), "xl/worksheets/sheet1.xml", 300)
    r = upload(api, "liar.xlsx", liar)
    assert r.status_code == 422, r.text
    said = json.dumps(r.json()["errors"], ensure_ascii=False)
    assert "liar.xlsx" in said and "cannot be opened" in said and "CRC" in said, said
    assert snapshot(api.store) == before
