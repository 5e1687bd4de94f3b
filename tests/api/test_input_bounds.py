"""Bounded bodies and fields, strict input, no stand-in ids (issue 11, items 3, 14 and 17).

Through the real API (TestClient, and ``graphsvc serve`` where the wire matters) and real
bundle imports, on both stores: a body over its limit is 413 whether its size is announced or
streamed; every text field has a length that fits it, on the API (422 naming the field) and
in a bundle (an error naming file, row and column); a write's JSON is read strictly; a phone
has a Chinese number's shape; a date in full-width digits is told so; no new record may take
an id of the ``outside:`` stand-ins. Whatever is refused writes nothing and logs nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from httpx import Response
from tests_support.api import AS_OF, Api, api_on
from tests_support.server import make_key, serving
from tests_support.uploads import snapshot

from graphsvc.bundle.schema import (
    ADDRESS_MAX,
    ID_MAX,
    PERSON_NAME_MAX,
    PHONE_MAX,
    REQUEST_MAX,
    SPECS,
)
from graphsvc.config import Settings
from graphsvc.importer import import_path
from graphsvc.keys import Role
from graphsvc.stores.base import Store

MB = 1024 * 1024
FULL_WIDTH = "２０２６-０６-３０"
FULL_WIDTH_SENTENCE = ("write the date with ordinary digits 0-9 (the date has full-width digits "
                       "such as ２)")


@pytest.fixture
def api(store: Store, tiny_dir: Path, tmp_path: Path) -> Iterator[Api]:
    """The API on the tiny county, with the default limits."""
    assert import_path(store, tiny_dir).ok
    yield from api_on(store, tmp_path / "api")


def _audit_total(api: Api) -> int:
    return int(api.get("/api/v1/audit-log", limit=0)["total"])


def _fields(r: Response) -> set[str | None]:
    assert r.status_code == 422, r.text
    return {e["field"] for e in r.json()["errors"]}


# -- item 3: bodies ------------------------------------------------------------------------------


def test_default_body_limit_is_1_mib_and_uploads_keep_theirs() -> None:
    s = Settings(neo4j_uri=None)
    assert s.max_body_bytes == MB and s.max_upload_bytes == 50 * MB


def test_a_30_mb_head_name_is_refused_and_nothing_is_written(store: Store, tiny_dir: Path,
                                                             tmp_path: Path) -> None:
    """The review's case: 30 MB in head_name was stored (200) and logged twice over. Now the
    body is over the 1 MiB limit (413); with the body limit raised far above it, the field's
    own bound still refuses it (422 naming head_name), and the answer does not repeat it."""
    assert import_path(store, tiny_dir).ok
    huge = "张" * (30 * MB // 3)  # 30 MB of UTF-8
    before = snapshot(store)
    for settings in ({}, {"max_body_bytes": 100 * MB}):
        app = api_on(store, tmp_path / f"api{len(settings)}", **settings)
        api = next(app)
        try:
            logged = _audit_total(api)
            for method, url, body in (
                    ("post", "/api/v1/households", {"id": "H100", "head_name": huge,
                                                    "village_id": "V1"}),
                    ("patch", "/api/v1/households/H002", {"head_name": huge})):
                r = api.client.request(method, url, headers=api.admin, json=body)
                if not settings:
                    assert r.status_code == 413, r.text[:500]
                    assert "GRAPHSVC_MAX_BODY_BYTES" in r.json()["detail"]
                    assert "1.0 MB" in r.json()["detail"]
                else:
                    assert _fields(r) == {"head_name"}
                    assert len(r.content) < 1000  # 30 MB is not sent back
                    assert (f"at most {PERSON_NAME_MAX} characters"
                            in r.json()["detail"]), r.json()["detail"]
            assert _audit_total(api) == logged
        finally:
            app.close()
    assert snapshot(store) == before


def test_a_body_over_the_limit_is_413_announced_or_streamed(store: Store, tiny_dir: Path,
                                                            tmp_path: Path) -> None:
    """Content-Length over the limit: 413 before reading. No Content-Length (chunked): cut off
    at the limit and 413, even where what came before the cut is a complete, valid write."""
    assert import_path(store, tiny_dir).ok
    limit = 2_000
    app = api_on(store, tmp_path / "api", max_body_bytes=limit)
    api = next(app)
    try:
        before = snapshot(store)
        logged = _audit_total(api)
        write = json.dumps({"phone": "13900000077"}).encode()
        padded = write + b" " * (limit + 1 - len(write))  # valid JSON, one byte too many
        h = {**api.admin, "Content-Type": "application/json"}
        r = api.client.patch("/api/v1/people/M01", headers=h, content=padded)
        assert r.status_code == 413, r.text
        assert r.json()["detail"].startswith(f"the request body is {limit + 1:,} bytes; this "
                                             f"server accepts at most {limit:,} bytes "
                                             "(GRAPHSVC_MAX_BODY_BYTES)")

        def chunks() -> Iterator[bytes]:
            yield write
            for _ in range(10):
                yield b" " * 500

        r = api.client.patch("/api/v1/people/M01", headers=h, content=chunks())
        assert r.status_code == 413, r.text
        assert "GRAPHSVC_MAX_BODY_BYTES" in r.json()["detail"]
        assert snapshot(store) == before and _audit_total(api) == logged
        # at the limit it is read and written
        r = api.client.patch("/api/v1/people/M01", headers=h, content=padded[:limit])
        assert r.status_code == 200, r.text
        assert store.fetch_entities(["M01"])["M01"][1]["phone"] == "13900000077"
    finally:
        app.close()


@pytest.mark.system  # a real graphsvc serve
@pytest.mark.parametrize("kind", ["embedded", "neo4j"])
def test_body_limit_holds_on_a_real_server(kind: str, request: pytest.FixtureRequest,
                                           tiny_dir: Path, tmp_path: Path) -> None:
    """uvicorn, GRAPHSVC_MAX_BODY_BYTES from the environment: announced and chunked bodies
    over it are 413 and write nothing; the server logs no traceback."""
    env = {"GRAPHSVC_DATA_DIR": str(tmp_path / "data"), "GRAPHSVC_MAX_BODY_BYTES": "4000"}
    if kind == "neo4j":
        from tests_support import clear

        clear(request.getfixturevalue("neo4j_shared"))
        env.update(request.getfixturevalue("neo4j_env"))
    key = make_key(env, tmp_path, "--role", "admin")
    h = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    person = json.dumps({"id": "N1", "name": "王小梅"}).encode()

    def chunks() -> Iterator[bytes]:  # the last chunk crosses the limit: nothing is left to
        yield person                    # send when the 413 comes (else the send may fail)
        for _ in range(4):
            yield b" " * 1000

    with serving([], env, tmp_path) as (base, log):
        r = httpx.post(f"{base}/api/v1/people", headers=h, content=person + b" " * 5000,
                       timeout=60)
        assert r.status_code == 413 and "GRAPHSVC_MAX_BODY_BYTES" in r.json()["detail"], r.text
        r = httpx.post(f"{base}/api/v1/people", headers=h, content=chunks(), timeout=60)
        assert r.status_code == 413 and "GRAPHSVC_MAX_BODY_BYTES" in r.json()["detail"], r.text
        r = httpx.get(f"{base}/api/v1/summary", headers=h, params={"as_of": AS_OF})
        assert r.status_code == 200 and r.json()["people"] == 0  # nothing written
        r = httpx.post(f"{base}/api/v1/people", headers=h, content=person, timeout=60)
        assert r.status_code == 201, r.text
    assert "Traceback" not in log.read_text()


# -- item 3: fields ------------------------------------------------------------------------------


BOUNDS = [  # (file, column, the most characters)
    ("people", "name", PERSON_NAME_MAX), ("people", "phone", PHONE_MAX),
    ("households", "head_name", PERSON_NAME_MAX), ("households", "address", ADDRESS_MAX),
    ("contacts", "request", REQUEST_MAX), ("townships", "name", 100), ("units", "name", 100),
]


def test_every_text_column_has_a_bound() -> None:
    """No text column of any bundle file is unbounded; ids and references have 64."""
    for spec in SPECS.values():
        for col in spec.columns:
            if col.type in ("text", "id", "ref"):
                assert col.max_length, (spec.name, col.name)
            if col.type in ("id", "ref"):
                assert col.max_length == ID_MAX
    for file, column, most in BOUNDS:
        assert SPECS[file].column(column).max_length == most


@pytest.mark.parametrize("method,url,body,field,most", [
    ("post", "/api/v1/people", {"id": "N1", "name": "x" * 51}, "name", PERSON_NAME_MAX),
    ("patch", "/api/v1/people/M01", {"name": "王" * 51}, "name", PERSON_NAME_MAX),
    ("patch", "/api/v1/households/H002", {"address": "路" * 201}, "address", ADDRESS_MAX),
    ("patch", "/api/v1/households/H002", {"phone": "1" * 33}, "phone", PHONE_MAX),
    ("post", "/api/v1/contacts", {"person_id": "M01", "household_id": "H001", "date": AS_OF,
                                  "request": "漏" * 1001}, "request", REQUEST_MAX),
    ("post", "/api/v1/households", {"id": "H" * 65, "head_name": "x", "village_id": "V1"},
     "id", ID_MAX),
    ("post", "/api/v1/liaisons", {"kind": "member-household", "from_id": "M01",
                                  "to_id": "H" * 65}, "to_id", ID_MAX),
])
def test_a_field_over_its_length_is_422_naming_it(api: Api, method: str, url: str,
                                                  body: dict[str, Any], field: str,
                                                  most: int) -> None:
    before = snapshot(api.store)
    r = api.client.request(method, url, headers=api.admin, json=body)
    assert _fields(r) == {field}
    assert f"at most {most:,} characters" in r.json()["detail"], r.json()["detail"]
    assert snapshot(api.store) == before


def test_a_field_at_its_length_is_stored(api: Api) -> None:
    r = api.client.patch("/api/v1/households/H002", headers=api.admin, json={
        "head_name": "张" * PERSON_NAME_MAX, "address": "路" * ADDRESS_MAX})
    assert r.status_code == 200, r.text
    assert r.json()["head_name"] == "张" * PERSON_NAME_MAX
    r = api.client.post("/api/v1/contacts", headers=api.admin, json={
        "person_id": "M01", "household_id": "H001", "date": AS_OF, "request": "漏" * REQUEST_MAX})
    assert r.status_code == 201, r.text


def test_an_audit_entry_of_a_write_is_bounded(api: Api) -> None:
    """An entry of an API write holds one record's old and new values: with every text at its
    bound it stays a few KB, so a page of 100 entries of writes cannot reach 65 MB again."""
    r = api.client.patch("/api/v1/households/H002", headers=api.admin, json={
        "head_name": "张" * PERSON_NAME_MAX, "address": "路" * ADDRESS_MAX,
        "phone": "0571-88881234转123456"})
    assert r.status_code == 200, r.text
    page = api.client.get("/api/v1/audit-log", headers=api.admin,
                          params={"record_id": "H002", "action": "write", "limit": 1})
    assert page.status_code == 200 and page.json()["total"] == 1
    assert page.json()["items"][0]["changes"][0]["new"]["address"] == "路" * ADDRESS_MAX
    assert len(page.content) < 8_000, len(page.content)


def test_an_audit_entry_of_an_import_is_bounded_in_bytes(store: Store, tiny_copy: Path) -> None:
    """500 contacts with 1,000-character requests are under DETAIL_LIMIT records but 1.5 MB of
    values: the entry lists counts only, so a page of 100 import entries cannot reach 150 MB;
    a small import still lists its values."""
    from graphsvc.auditlog import DETAIL_BYTES, entries

    assert import_path(store, tiny_copy).ok
    path = tiny_copy / "contacts.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    first = lines[1].split(",")
    rows = []
    for i in range(500):
        cells = list(first)
        cells[header.index("date")] = f"2026-0{1 + i % 6}-{1 + i % 28:02d}"
        cells[header.index("request")] = f"{i:04d}" + "难" * (REQUEST_MAX - 4)
        rows.append(",".join(cells))
    for f in tiny_copy.iterdir():
        if f.name != "contacts.csv":
            f.unlink()
    path.write_text("\n".join([lines[0], *rows]) + "\n", encoding="utf-8")
    assert import_path(store, tiny_copy).ok
    newest = entries(store, None, action="import", limit=1)["items"][0]
    assert newest["records"] == 500 and newest["detailed"] is False and newest["changes"] == []
    assert len(json.dumps(newest, ensure_ascii=False).encode("utf-8")) < DETAIL_BYTES
    path.write_text("\n".join([lines[0], rows[0].replace("0000", "9999", 1)]) + "\n",
                    encoding="utf-8")
    assert import_path(store, tiny_copy).ok
    small = entries(store, None, action="import", limit=1)["items"][0]
    assert small["records"] == 1 and small["detailed"] is True and len(small["changes"]) == 1


@pytest.mark.parametrize("file,column,most", BOUNDS)
def test_a_bundle_cell_over_its_length_is_an_error_with_file_row_column(
        store: Store, tiny_copy: Path, file: str, column: str, most: int) -> None:
    """A cell one character over its bound: the import names file, row and column, and writes
    nothing; at the bound it imports."""
    path = tiny_copy / f"{file}.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    i = header.index(column)

    def with_cell(value: str) -> None:
        cells = lines[1].split(",")
        cells[i] = value
        path.write_text("\n".join([lines[0], ",".join(cells), *lines[2:]]) + "\n",
                        encoding="utf-8")

    with_cell("1" * (most + 1) if column == "phone" else "王" * (most + 1))
    report = import_path(store, tiny_copy)
    assert not report.ok and not report.written
    assert [(p.file, p.row, p.column) for p in report.errors] == [(f"{file}.csv", 2, column)]
    assert f"at most {most:,}" in report.errors[0].message, report.errors[0].message
    assert store.records().get("households", []) == []
    with_cell("13900000001" if column == "phone" else "王" * most)
    assert import_path(store, tiny_copy).ok


# -- item 17: strict types -----------------------------------------------------------------------


@pytest.mark.parametrize("url,body,field", [
    ("/api/v1/households/H002", {"size": True}, "size"),
    ("/api/v1/households/H002", {"size": "3"}, "size"),
    ("/api/v1/households/H002", {"size": 3.0}, "size"),
    ("/api/v1/people/M01", {"hardship": "true"}, "hardship"),
    ("/api/v1/people/M01", {"hardship": 1}, "hardship"),
    ("/api/v1/people/M01", {"name": 5}, "name"),
])
def test_a_value_of_the_wrong_json_type_is_422_naming_it(api: Api, url: str,
                                                         body: dict[str, Any],
                                                         field: str) -> None:
    """pydantic's lax mode stored true as 1 and took "3" for 3; write bodies are strict."""
    before = snapshot(api.store)
    r = api.client.patch(url, headers=api.admin, json=body)
    assert _fields(r) == {field}
    assert r.json()["detail"].startswith(f"body field '{field}': must be ")
    assert snapshot(api.store) == before


def test_a_contact_with_resolved_as_text_is_refused(api: Api) -> None:
    before = snapshot(api.store)
    r = api.client.post("/api/v1/contacts", headers=api.admin, json={
        "person_id": "M01", "household_id": "H001", "date": AS_OF, "resolved": "yes"})
    assert _fields(r) == {"resolved"}
    assert snapshot(api.store) == before


def test_strict_bodies_still_read_dates_and_choices_from_json_text(api: Api) -> None:
    r = api.client.patch("/api/v1/households/H002", headers=api.admin, json={
        "size": 4, "categories": ["poor"], "status": "inactive", "inactive_since": "2026-07-01"})
    assert r.status_code == 200, r.text
    assert (r.json()["size"], r.json()["categories"], r.json()["inactive_since"]) == \
        (4, ["poor"], "2026-07-01")
    r = api.client.post("/api/v1/contacts", headers=api.admin, json={
        "person_id": "M01", "household_id": "H001", "date": AS_OF, "channel": "phone",
        "resolved": True})
    assert r.status_code == 201, r.text


@pytest.mark.parametrize("cell,words", [
    ("３", "not a whole number"), ("+3", "not a whole number"),
    ("1_0", "not a whole number"), ("1001", "at most 1,000"), ("9" * 5000, "at most 1,000"),
])
def test_a_size_cell_is_a_plain_number_of_1_to_1000(store: Store, tiny_copy: Path, cell: str,
                                                    words: str) -> None:
    path = tiny_copy / "households.csv"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("H002,张国强,V1,extreme_poverty;poor,3,",
                                 f"H002,张国强,V1,extreme_poverty;poor,{cell},"), encoding="utf-8")
    report = import_path(store, tiny_copy)
    assert [(p.file, p.row, p.column) for p in report.errors] == [("households.csv", 3, "size")]
    assert words in report.errors[0].message, report.errors[0].message


# -- item 17: phones -----------------------------------------------------------------------------

GOOD_PHONES = ["13900000001", "19912345678", "+86 139 0000 0001", "+8613900000001",
               "0086-139-0000-0001", "139 0000 0001", "139-0000-0001", "010-12345678",
               "0571-8888123", "05718881234", "0571 88881234", "010-12345678-123",
               "0571-8888123转123", "010-1234 5678"]
BAD_PHONES = ["1" * 100, "1", "158", "12900000001", "1390000000", "139000000012",
              "１３９００００００01", "+86 010 12345678", "(0571)88881234", "0571-888", "-1",
              "139  0000 0001", "tel 13900000001"]


def test_the_tiny_county_and_the_generator_phones_fit() -> None:
    """The phones of the tiny county fit (it imports with no error and no warning, as before);
    the generator writes 1, one of 3 5 7 8, then 9 digits."""
    from graphsvc.bundle.schema import PHONE_RE

    for p in ("13900000001", "15800000060", "1" + "3" + "0" * 9, "1" + "8" + "9" * 9):
        assert PHONE_RE.fullmatch(p)
    for p in GOOD_PHONES:
        assert PHONE_RE.fullmatch(p), p
    for p in BAD_PHONES:
        assert not PHONE_RE.fullmatch(p), p


def test_tiny_county_imports_with_no_error_and_no_warning(store: Store, tiny_dir: Path) -> None:
    report = import_path(store, tiny_dir)
    assert report.ok and report.errors == [] and report.warnings == []


def test_chinese_phone_shapes_are_accepted_and_kept_as_written(api: Api) -> None:
    for phone in GOOD_PHONES:
        r = api.client.patch("/api/v1/people/M01", headers=api.admin, json={"phone": phone})
        assert r.status_code == 200, (phone, r.text)
        assert api.store.fetch_entities(["M01"])["M01"][1]["phone"] == phone


@pytest.mark.parametrize("phone", BAD_PHONES)
def test_a_phone_of_no_phone_shape_is_422_naming_phone(api: Api, phone: str) -> None:
    before = snapshot(api.store)
    r = api.client.patch("/api/v1/households/H002", headers=api.admin, json={"phone": phone})
    assert _fields(r) == {"phone"}
    detail = r.json()["detail"]
    if len(phone) <= PHONE_MAX:  # (a longer one is told its length first)
        assert "is not a phone number" in detail and "mobile number of 11 digits" in detail \
            and "010-12345678" in detail, detail
    assert snapshot(api.store) == before


def test_a_phone_cell_of_no_phone_shape_is_an_import_error(store: Store, tiny_copy: Path) -> None:
    path = tiny_copy / "people.csv"
    path.write_text(path.read_text(encoding="utf-8").replace(",13900000002\n", ",12345\n"),
                    encoding="utf-8")
    report = import_path(store, tiny_copy)
    assert [(p.file, p.row, p.column) for p in report.errors] == [("people.csv", 3, "phone")]
    assert "'12345' is not a phone number" in report.errors[0].message
    assert store.records().get("people", []) == []


# -- item 17: dates in full-width digits -----------------------------------------------------------


def test_a_full_width_date_is_told_so_in_a_query(api: Api) -> None:
    for url, param in (("/api/v1/households", "as_of"), ("/api/v1/requests/summary", "from")):
        r = api.client.get(url, headers=api.admin, params={param: FULL_WIDTH})
        assert r.status_code == 422, r.text
        assert r.json()["detail"].startswith(f"{param}: "), r.json()["detail"]
        assert FULL_WIDTH_SENTENCE in r.json()["detail"], r.json()["detail"]


def test_a_full_width_date_is_told_so_in_a_body(api: Api) -> None:
    before = snapshot(api.store)
    for url, body, field in (
            ("/api/v1/households/H002/deactivate", {"inactive_since": FULL_WIDTH},
             "inactive_since"),
            ("/api/v1/contacts", {"person_id": "M01", "household_id": "H001",
                                  "date": FULL_WIDTH}, "date")):
        r = api.client.post(url, headers=api.admin, json=body)
        assert _fields(r) == {field}
        assert FULL_WIDTH_SENTENCE in r.json()["detail"], r.json()["detail"]
    assert snapshot(api.store) == before


def test_a_full_width_date_is_told_so_in_a_bundle_cell(store: Store, tiny_copy: Path) -> None:
    path = tiny_copy / "contacts.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    cells = lines[1].split(",")
    i = lines[0].split(",").index("date")
    cells[i] = FULL_WIDTH
    path.write_text("\n".join([lines[0], ",".join(cells), *lines[2:]]) + "\n", encoding="utf-8")
    report = import_path(store, tiny_copy)
    assert [(p.file, p.row, p.column) for p in report.errors] == [("contacts.csv", 2, "date")]
    assert FULL_WIDTH_SENTENCE in report.errors[0].message


# -- item 14: the stand-in namespace ---------------------------------------------------------------


@pytest.mark.parametrize("url,body", [
    ("/api/v1/households", {"id": "outside:1", "head_name": "李", "village_id": "V1"}),
    ("/api/v1/people", {"id": "outside:1", "name": "王", "village_id": "V1"}),
])
@pytest.mark.parametrize("role", ["admin", "editor"])
def test_an_outside_id_is_refused_for_a_new_record(api: Api, url: str, body: dict[str, Any],
                                                   role: str) -> None:
    """outside:N is how a key limited to townships sees a person of another township: a record
    stored with such an id would read as a stand-in to its own township's viewer."""
    h = api.admin if role == "admin" else api.headers(Role.EDITOR, townships=("T1",))
    before = snapshot(api.store)
    r = api.client.post(url, headers=h, json=body)
    assert _fields(r) == {"id"}
    assert "reserved for people outside the reader's townships" in r.json()["detail"]
    assert snapshot(api.store) == before


def test_an_outside_id_is_refused_in_a_bundle(store: Store, tiny_copy: Path) -> None:
    with (tiny_copy / "households.csv").open("a", encoding="utf-8") as f:
        f.write("outside:9,李,V1,,,,,,\n")
    with (tiny_copy / "people.csv").open("a", encoding="utf-8") as f:
        f.write("outside:2,王,,,,,,,V1,\n")
    report = import_path(store, tiny_copy)
    assert {(p.file, p.column) for p in report.errors} == {("households.csv", "id"),
                                                           ("people.csv", "id")}
    assert all("starts with 'outside:', which is reserved" in p.message for p in report.errors)
    assert store.records().get("households", []) == []
