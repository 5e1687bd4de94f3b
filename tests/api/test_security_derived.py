"""Issue 11: values derived from masked personal data must not give it away to a key without
``--pii`` (the ETag, a request's id, a mask's length), and people's phones are masked too;
on both stores, through the API as a client sees it."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests_support.api import Api, api_on
from tests_support.pages import data_of, login

from graphsvc.api.masking import mask_phone
from graphsvc.importer import import_path
from graphsvc.keys import Role
from graphsvc.stores.base import Store
from graphsvc.stores.embedded import EmbeddedStore

H = "H002"  # T1, village V1: head 张国强, phone 15800000002, address 双宝村2号
AS_OF = "2026-06-30"


@pytest.fixture
def api(store: Store, tiny_dir: Path, tmp_path: Path) -> Iterator[Api]:
    assert import_path(store, tiny_dir).ok
    yield from api_on(store, tmp_path / "api")


def _get(api: Api, url: str, headers: dict[str, str]) -> tuple[dict[str, Any], str]:
    r = api.client.get(url, headers=headers, params={"as_of": AS_OF})
    assert r.status_code == 200, r.text
    return r.json(), r.headers["etag"]


def _old_etag(record: dict[str, Any]) -> str:
    """graphsvc's ETag before issue 11: an unsalted digest of the stored record."""
    plain = {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in record.items()}
    text = json.dumps(plain, sort_keys=True, ensure_ascii=False)
    return hashlib.blake2b(text.encode("utf-8"), digest_size=10).hexdigest()


def _digests(record: dict[str, Any]) -> set[str]:
    """Plain digests of the usual serialisations of a record, as an attacker would try."""
    plain = {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in record.items()}
    texts = {json.dumps(plain, sort_keys=True, ensure_ascii=ea, separators=sep)
             for ea in (True, False) for sep in (None, (",", ":"))}
    texts.add(",".join("" if v is None else str(v) for v in plain.values()))
    out = set()
    for t in texts:
        b = t.encode("utf-8")
        out |= {hashlib.blake2b(b, digest_size=n).hexdigest() for n in (10, 16, 32, 64)}
        out |= {hashlib.sha256(b).hexdigest(), hashlib.sha1(b).hexdigest(),
                hashlib.md5(b).hexdigest()}
    return out


# -- the ETag -----------------------------------------------------------------------------------


def test_the_review_attack_no_longer_finds_the_head_from_the_etag(api: Api) -> None:
    """The review's attack: from the masked answer (张**, 158****0002, 双宝村****) and the ETag,
    try candidates with graphsvc's old tag function. The true record must not match now, nor
    any plain digest of it; the tag holds none of the values either."""
    viewer = api.headers(Role.VIEWER, townships=("T1",))
    body, tag = _get(api, f"/api/v1/households/{H}", viewer)
    assert (body["head_name"], body["phone"]) == ("张**", "158****0002")
    tag = tag.strip('"')
    stored = api.store.fetch_entities([H])[H][1]
    candidates = [{**stored, "head_name": "张" + given} for given in ("国强", "国庆", "伟", "强")]
    assert all(_old_etag(c) != tag for c in candidates)  # the true head is among them
    assert tag not in _digests(stored)
    for person, url in (("M01", "/api/v1/people/M01"),):
        _, ptag = _get(api, url, viewer)
        assert ptag.strip('"') not in _digests(api.store.fetch_entities([person])[person][1])


def test_two_installs_tag_the_same_record_differently_and_one_install_alike(
        store: Store, tiny_dir: Path, tmp_path: Path) -> None:
    """The tag is keyed with the install's secret (GRAPHSVC_DATA_DIR/keys.secret): another
    install with the same data gives another tag, so equal records cannot be linked across
    installs; server processes sharing a data folder share the secret, so a tag one of them
    handed out is accepted by the other."""
    assert import_path(store, tiny_dir).ok
    tags = []
    for folder in ("one", "two", "one"):
        for api in api_on(store, tmp_path / folder):
            _, tag = _get(api, f"/api/v1/households/{H}", api.admin)
            tags.append(tag)
    assert tags[0] != tags[1] and tags[0] == tags[2]
    for api in api_on(store, tmp_path / "one"):  # another process of install "one"
        r = api.client.patch(f"/api/v1/households/{H}", json={"size": 5},
                             headers={**api.admin, "If-Match": tags[0]})
        assert r.status_code == 200, r.text


def test_a_writer_without_pii_cannot_test_guesses_by_writing_them(api: Api) -> None:
    """An editor without --pii may change the phone it cannot read. If the tag were a function
    of the values, writing guesses until the tag (or If-Match with the first tag) matched
    again would find the true phone. Now every write gives a new tag, never an old one."""
    editor = api.headers(Role.EDITOR, townships=("T1",))
    url = f"/api/v1/households/{H}"
    _, first = _get(api, url, editor)
    seen = {first}
    for guess in ("15800000001", "15800000002"):  # the second is the true phone
        r = api.client.patch(url, headers=editor, json={"phone": guess})
        assert r.status_code == 200, r.text
        assert r.json()["phone"] == "158****" + guess[-4:]
        assert r.headers["etag"] not in seen
        seen.add(r.headers["etag"])
    assert api.store.fetch_entities([H])[H][1]["phone"] == "15800000002"  # back as it was
    r = api.client.patch(url, headers={**editor, "If-Match": first}, json={"size": 3})
    assert r.status_code == 409, r.text
    # writing the same values is a write too: a new tag
    _, now = _get(api, url, editor)
    again = api.client.patch(url, headers={**editor, "If-Match": now}, json={"size": 3})
    assert again.status_code == 200 and again.headers["etag"] != now


def test_the_etag_is_stable_between_writes_changes_with_any_field_and_if_match_works(
        api: Api) -> None:
    editor = api.headers(Role.EDITOR, townships=("T1",))
    for url, changes in ((f"/api/v1/households/{H}", {"size": 7, "address": "双宝村9号",
                                                       "head_name": "张国庆"}),
                         ("/api/v1/people/M01", {"phone": "13900000099", "name": "吴凤银"})):
        _, tag = _get(api, url, editor)
        assert _get(api, url, editor)[1] == tag  # reads do not change it
        assert _get(api, url, api.admin)[1] == tag  # nor who reads
        for field, value in changes.items():
            r = api.client.patch(url, headers={**editor, "If-Match": tag}, json={field: value})
            assert r.status_code == 200, r.text
            assert r.headers["etag"] != tag
            stale = api.client.patch(url, headers={**editor, "If-Match": tag}, json={field: value})
            assert stale.status_code == 409 and "If-Match" in stale.json()["detail"]
            tag = r.headers["etag"]
            assert _get(api, url, editor)[1] == tag  # the write's answer is the stored version
        r = api.client.post(url + "/deactivate", headers={**editor, "If-Match": tag}, json={})
        assert r.status_code == 200 and r.headers["etag"] != tag
        assert api.client.post(url + "/deactivate", headers={**editor, "If-Match": tag},
                               json={}).status_code == 409
    # a tag of another record, a made-up one or one with odd characters: 409, never 500
    _, other = _get(api, "/api/v1/households/H001", editor)
    for bad in (other, '"0000"', '"标签"'.encode(), "W/" + other):
        r = api.client.patch(f"/api/v1/households/{H}", headers={**editor, "If-Match": bad},
                             json={"size": 1})
        assert r.status_code == 409, (bad, r.text)


def test_the_store_refuses_a_version_written_over_even_with_the_same_values(
        store: Store, tiny_dir: Path) -> None:
    """Inside the write's transaction (both stores): a write that names the record gives it
    a new version, even when it changes nothing."""
    from graphsvc.bundle.reader import RawTable
    from graphsvc.bundle.report import Report
    from graphsvc.errors import VersionConflict
    from graphsvc.importer import import_tables

    assert import_path(store, tiny_dir).ok
    seen = store.versions([H, "M01"])
    assert set(seen) == {H, "M01"} and store.versions([H]) == {H: seen[H]}
    same = RawTable("households", "households.csv", ["id", "head_name", "village_id"],
                    [(2, [H, "张国强", "V1"])])
    assert import_tables(store, {"households": same}, Report(), expect={H: seen[H]}).written
    assert store.versions([H])[H] != seen[H]
    assert store.versions(["M01"]) == {"M01": seen["M01"]}  # a record not written keeps it
    with pytest.raises(VersionConflict, match=H):
        import_tables(store, {"households": same}, Report(), expect={H: seen[H]})


def test_an_embedded_store_made_before_stamps_opens_and_stamps_on_write(
        tiny_dir: Path, tmp_path: Path) -> None:
    s = EmbeddedStore(tmp_path / "data")
    assert import_path(s, tiny_dir).ok
    s.close()
    db = sqlite3.connect(tmp_path / "data" / "graphsvc.sqlite3")
    db.execute('ALTER TABLE "entity" DROP COLUMN "stamp"')  # as an older graphsvc left it
    db.commit()
    db.close()
    s = EmbeddedStore(tmp_path / "data")
    try:
        before = s.versions([H])[H]
        for api in api_on(s, tmp_path / "api"):
            _, tag = _get(api, f"/api/v1/households/{H}", api.admin)
            r = api.client.patch(f"/api/v1/households/{H}", json={"size": 3},
                                 headers={**api.admin, "If-Match": tag})
            assert r.status_code == 200 and r.headers["etag"] != tag
        assert s.versions([H])[H] != before
    finally:
        s.close()


# -- masks ----------------------------------------------------------------------------------------


def test_a_masked_phone_does_not_show_its_length() -> None:
    masks = {len(p): mask_phone(p) for p in ("13812341234", "138123412345", "0830123412345")}
    assert set(masks.values()) == {"138****1234", "138****2345", "083****2345"}
    assert {len(m) for m in masks.values()} == {11}
    # a shorter number would keep too few digits hidden (8 digits: 7 shown before)
    assert {mask_phone(p) for p in ("5551234", "55512345", "5551234567")} == {"****"}


def test_a_household_phone_of_any_length_looks_alike_without_pii(api: Api) -> None:
    editor = api.headers(Role.EDITOR, townships=("T1",))
    # numbers of a phone's shape (GRAPHSVC's input rule), of 12 and 10 digits
    for phone, shown in (("057188812345", "057****2345"), ("0108888123", "****")):
        r = api.client.patch(f"/api/v1/households/{H}", headers=editor, json={"phone": phone})
        assert r.status_code == 200 and r.json()["phone"] == shown
        body, _ = _get(api, f"/api/v1/households/{H}", editor)
        assert body["phone"] == shown


def test_a_persons_phone_is_masked_without_pii_in_every_answer(api: Api) -> None:
    viewer = api.headers(Role.VIEWER, townships=("T1",))
    editor = api.headers(Role.EDITOR, townships=("T1",))
    body, _ = _get(api, "/api/v1/people/M01", viewer)
    assert body["phone"] == "139****0009" and body["name"] == "吴凤金"  # names stay
    r = api.client.patch("/api/v1/people/M01", headers=editor, json={"phone": "13900001234"})
    assert r.status_code == 200 and r.json()["phone"] == "139****1234"
    r = api.client.post("/api/v1/people/M01/deactivate", headers=editor, json={})
    assert r.status_code == 200 and r.json()["phone"] == "139****1234"
    r = api.client.post("/api/v1/people", headers=editor,
                        json={"id": "M77", "name": "新党员", "village_id": "V1",
                              "phone": "13900007777"})
    assert r.status_code == 201, r.text
    assert r.json()["phone"] == "139****7777"
    # a key with --pii (and an admin) sees it, and that read is logged as a household's is
    pii = api.headers(Role.VIEWER, townships=("T1",), pii=True)
    assert _get(api, "/api/v1/people/M01", pii)[0]["phone"] == "13900001234"
    assert _get(api, "/api/v1/people/M01", api.admin)[0]["phone"] == "13900001234"
    reads = api.get("/api/v1/audit-log", action="read_pii")["items"]
    assert [r["subjects"] for r in reads] == [["M01"], ["M01"]]
    assert {r["what"] for r in reads} == {"GET /people/{id}"}


# -- request ids ----------------------------------------------------------------------------------


def test_a_request_id_is_not_a_digest_of_its_masked_text(
        api: Api, store: Store, tmp_path: Path) -> None:
    """A request's id was sha256(household, text, day raised): with the household and the day
    shown beside the masked text (屋**), guesses of the text could be tested offline. Now it
    is keyed with the install's secret: stable for every key of the install, of no use
    without the secret; the diagram pages no longer carry it in their node ids."""
    editor = api.headers(Role.EDITOR, townships=("T1",))
    text = "屋顶漏雨需要修缮"
    r = api.client.post("/api/v1/contacts", headers=editor,
                        json={"person_id": "M01", "household_id": H, "date": "2026-06-29",
                              "channel": "visit", "request": text})
    assert r.status_code == 201, r.text
    raw = hashlib.sha256(f"{H}\x1f{text}\x1f2026-06-29".encode()).hexdigest()[:16]

    def item(a: Api, headers: dict[str, str]) -> dict[str, Any]:
        body = a.get("/api/v1/requests/open", headers, person_id="M01", as_of=AS_OF)
        return next(i for i in body["items"] if i["household_id"] == H)

    viewer = api.headers(Role.VIEWER, townships=("T1",))
    seen = item(api, viewer)
    assert seen["request"] == "屋**" and seen["request_id"] != raw
    assert item(api, viewer)["request_id"] == seen["request_id"]  # stable
    pii = item(api, api.headers(Role.VIEWER, townships=("T1",), pii=True))
    assert pii["request"] == text and pii["request_id"] == seen["request_id"]
    overdue = api.get("/api/v1/requests/overdue", viewer, as_of="2026-09-30")["items"]
    assert seen["request_id"] in {i["request_id"] for i in overdue}
    for other in api_on(store, tmp_path / "another-install"):
        assert item(other, other.admin)["request_id"] not in (raw, seen["request_id"])
    login(api.client, api.keys, Role.VIEWER, townships=("T1",))
    page = api.client.get(f"/visual/household/{H}", params={"as_of": AS_OF})
    assert page.status_code == 200
    nodes = [n for n in data_of(page.text)[0] if n["id"].startswith("__request__:")]
    assert nodes and all("诉求：屋**" in n["tip"] for n in nodes)
    assert raw not in page.text and text not in json.dumps(data_of(page.text), ensure_ascii=False)
