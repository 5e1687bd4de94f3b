"""The audit log, optimistic concurrency (ETag / If-Match / 409) and masking, on both stores,
through the API as clerks use it and through the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests_support import ROOT
from tests_support.api import Api, api_on

from graphsvc.importer import import_path
from graphsvc.keys import Role
from graphsvc.stores.base import Store

H = "H002"  # in T1, village V1: head 张国强, phone 15800000002, address 双宝村2号


@pytest.fixture
def api(store: Store, tiny_dir: Path, tmp_path: Path) -> Iterator[Api]:
    assert import_path(store, tiny_dir).ok
    yield from api_on(store, tmp_path / "api")


def _household(api: Api, headers: dict[str, str] | None = None) -> tuple[dict[str, Any], str]:
    r = api.client.get(f"/api/v1/households/{H}", headers=headers or api.admin,
                       params={"as_of": "2026-06-30"})
    assert r.status_code == 200, r.text
    return r.json(), r.headers["etag"]


def _log(api: Api, **params: Any) -> dict[str, Any]:
    r = api.client.get("/api/v1/audit-log", headers=api.admin, params=params)
    assert r.status_code == 200, r.text
    return r.json()


def test_the_import_and_every_change_are_logged_with_old_and_new_values(api: Api) -> None:
    log = _log(api)
    assert log["total"] == 1 and log["items"][0]["action"] == "import"
    assert log["items"][0]["via"] == "cli" and log["items"][0]["files"]["households"] > 50
    editor = api.headers(Role.EDITOR, townships=("T1",))
    _, tag = _household(api, editor)
    r = api.client.patch(f"/api/v1/households/{H}", headers={**editor, "If-Match": tag},
                         json={"phone": "15800009999"})
    assert r.status_code == 200, r.text
    assert r.headers["etag"] != tag
    newest = _log(api, record_id=H)["items"][0]
    key_id = next(k.id for k in api.keys.all_keys() if k.role is Role.EDITOR)
    assert newest["action"] == "write" and newest["via"] == "api"
    assert newest["key_id"] == key_id and newest["role"] == "editor"
    assert newest["changes"] == [{"file": "households", "op": "update", "id": H,
                                  "old": {"phone": "15800000002"}, "new": {"phone": "15800009999"}}]
    # links and contacts are logged too, and found by either end
    r = api.client.post("/api/v1/contacts", headers=editor,
                        json={"person_id": "M01", "household_id": H, "date": "2026-06-29",
                              "channel": "phone"})
    assert r.status_code == 201, r.text
    assert _log(api, record_id="M01")["items"][0]["changes"][0]["new"]["channel"] == "phone"
    # filters: by key, by action, by time
    assert _log(api, key_id=key_id)["total"] == 2
    assert _log(api, action="import")["total"] == 1
    assert _log(api, until="2000-01-01")["total"] == 0
    assert _log(api, since="2000-01-01T00:00:00+08:00")["total"] >= 3
    # a refused write leaves no entry
    # (counting the writes: each read of the log above showed changed values, and such a read
    # is itself logged as a read_pii, test_security_auth)
    before = _log(api, action="write")["total"]
    bad = api.client.patch(f"/api/v1/households/{H}", headers=editor,
                           json={"village_id": "NOPE"})
    # a township key: an unknown id reads as one outside its townships
    assert bad.status_code == 403
    assert _log(api, action="write")["total"] == before
    # only admins read the log; a bad date is 422 naming the parameter
    assert api.client.get("/api/v1/audit-log", headers=editor).status_code == 403
    r = api.client.get("/api/v1/audit-log", headers=api.admin, params={"since": "yesterday"})
    assert r.status_code == 422 and "since" in r.text


def test_a_stale_etag_is_409_and_writes_nothing(api: Api) -> None:
    editor = api.headers(Role.EDITOR, townships=("T1",))
    _, tag = _household(api, editor)
    first = api.client.patch(f"/api/v1/households/{H}", headers={**editor, "If-Match": tag},
                             json={"address": "新地址1号"})
    assert first.status_code == 200
    second = api.client.patch(f"/api/v1/households/{H}", headers={**editor, "If-Match": tag},
                              json={"address": "别的地址"})
    assert second.status_code == 409 and "If-Match" in second.json()["detail"]
    body, new_tag = _household(api)
    assert body["address"] == "新地址1号" and new_tag == first.headers["etag"]
    # the same for people; '*' and no If-Match at all write as before
    r = api.client.get("/api/v1/people/M01", headers=editor)
    assert r.status_code == 200 and r.headers["etag"]
    stale = api.client.patch("/api/v1/people/M01", headers={**editor, "If-Match": '"0000"'},
                             json={"phone": "13900000000"})
    assert stale.status_code == 409
    assert api.client.patch("/api/v1/people/M01", headers={**editor, "If-Match": "*"},
                            json={"phone": "13900000000"}).status_code == 200
    assert api.client.patch("/api/v1/people/M01", headers=editor,
                            json={"phone": "13900000001"}).status_code == 200


def test_two_clerks_at_once_one_wins_one_gets_409(api: Api) -> None:
    """Both read the same version and write at the same moment: the check runs inside the
    write's transaction, so exactly one write lands and the other is told."""
    clerks = [api.headers(Role.EDITOR, townships=("T1",)) for _ in range(2)]
    for rnd in range(5):
        _, tag = _household(api)
        results: dict[int, Any] = {}
        go = threading.Barrier(2)

        def edit(i: int, tag: str = tag, rnd: int = rnd, go: threading.Barrier = go,
                 results: dict[int, Any] = results) -> None:
            go.wait()
            results[i] = api.client.patch(
                f"/api/v1/households/{H}", headers={**clerks[i], "If-Match": tag},
                json={"phone": f"1580000{rnd}{i}00"})

        threads = [threading.Thread(target=edit, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        codes = sorted(r.status_code for r in results.values())
        assert codes == [200, 409], [r.text for r in results.values()]
        winner = next(i for i, r in results.items() if r.status_code == 200)
        assert _household(api)[0]["phone"] == f"1580000{rnd}{winner}00"


def test_simultaneous_changes_without_if_match_log_the_values_they_replaced(api: Api) -> None:
    """Clerks who send no If-Match both write; each entry's old value is the value its write
    replaced (read inside the write, under its lock), so the entries chain: one's new value is
    the next one's old value, with nothing lost between them."""
    clerks = [api.headers(Role.EDITOR, townships=("T1",)) for _ in range(3)]
    go = threading.Barrier(3)
    codes: list[int] = []

    def edit(i: int) -> None:
        for rnd in range(4):
            if rnd == 0:
                go.wait()
            codes.append(api.client.patch(f"/api/v1/households/{H}", headers=clerks[i],
                                          json={"address": f"同时{i}-{rnd}号"}).status_code)

    threads = [threading.Thread(target=edit, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes == [200] * 12
    entries = [e for e in _log(api, record_id=H, limit=100)["items"] if e["action"] != "import"]
    changes = [c for e in entries for c in e["changes"] if c.get("id") == H]
    assert len(changes) == 12
    # entries of the same instant have no order of their own: follow the values instead
    step = {c["old"]["address"]: c["new"]["address"] for c in changes}
    assert len(step) == 12, "two entries name the same old value: one of them is stale"
    value, seen = "双宝村2号", 0
    while value in step:
        value, seen = step[value], seen + 1
    assert seen == 12 and value == _household(api)[0]["address"]


def test_personal_data_is_masked_without_pii_and_reads_with_it_are_logged(api: Api) -> None:
    viewer = api.headers(Role.VIEWER, townships=("T1",))
    body, _ = _household(api, viewer)
    assert ((body["head_name"], body["phone"], body["address"])
            == ("张**", "158****0002", "双宝村****"))
    assert "张国强" not in json.dumps(body, ensure_ascii=False)
    editor = api.headers(Role.EDITOR, townships=("T1",))
    r = api.client.patch(f"/api/v1/households/{H}", headers=editor, json={"size": 4})
    assert r.status_code == 200 and r.json()["head_name"] == "张**"  # writes answer masked too
    assert _log(api, action="read_pii")["total"] == 0
    pii = api.headers(Role.VIEWER, townships=("T1",), pii=True)
    body, _ = _household(api, pii)
    assert body["head_name"] == "张国强" and body["phone"] == "15800000002"
    reads = _log(api, action="read_pii")
    assert reads["total"] == 1 and reads["items"][0]["subjects"] == [H]
    assert _log(api, record_id=H)["items"][0]["action"] == "read_pii"


def test_cli_audit_log(tiny_dir: Path, tmp_path: Path) -> None:
    env = {"GRAPHSVC_DATA_DIR": str(tmp_path / "cli"), "PATH": "/usr/bin:/bin",
           "PYTHONPATH": str(ROOT)}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "graphsvc", *args], env=env,
                              capture_output=True, text=True, timeout=120, check=False)

    assert cli("import", str(tiny_dir)).returncode == 0
    r = cli("audit-log", "--json")
    assert r.returncode == 0, r.stderr
    body = json.loads(r.stdout)
    assert body["total"] == 1 and body["items"][0]["action"] == "import"
    assert body["items"][0]["via"] == "cli" and body["items"][0]["key_name"]
    table = cli("audit-log")
    assert table.returncode == 0 and "import" in table.stdout
    bad = cli("audit-log", "--since", "soon")
    assert bad.returncode == 2 and "--since" in bad.stderr


def test_the_store_checks_the_version_inside_the_write(store: Store, tiny_dir: Path) -> None:
    """What the API relies on: a write expecting a version that is no longer stored raises
    VersionConflict inside its transaction and leaves data and log as they were."""
    from graphsvc.bundle.reader import RawTable
    from graphsvc.bundle.report import Report
    from graphsvc.errors import VersionConflict
    from graphsvc.importer import import_tables

    assert import_path(store, tiny_dir).ok
    table = RawTable("households", "households.csv", ["id", "head_name", "village_id"],
                     [(2, [H, "新户主", "V1"])])
    current = store.versions([H])[H]
    with pytest.raises(VersionConflict, match=H):
        import_tables(store, {"households": table}, Report(), expect={H: "not-" + current})
    assert store.fetch_entities([H])[H][1]["head_name"] == "张国强"
    assert store.audit_entries()[0] == 1
    assert import_tables(store, {"households": table}, Report(), expect={H: current}).written
    assert store.fetch_entities([H])[H][1]["head_name"] == "新户主"
    assert store.audit_entries()[0] == 2


def test_request_texts_in_a_household_are_masked_without_pii(api: Api) -> None:
    editor = api.headers(Role.EDITOR, townships=("T1",))
    r = api.client.post("/api/v1/contacts", headers=editor,
                        json={"person_id": "M01", "household_id": H, "date": "2026-06-29",
                              "channel": "visit", "request": "屋顶漏雨需要修缮"})
    assert r.status_code == 201, r.text
    viewer = api.headers(Role.VIEWER, townships=("T1",))
    body, _ = _household(api, viewer)
    assert "屋顶漏雨需要修缮" not in json.dumps(body, ensure_ascii=False)
    assert any(c["request"] and c["request"].startswith("屋") for c in body["recent_contacts"])
    full, _ = _household(api, api.headers(Role.VIEWER, townships=("T1",), pii=True))
    assert any(c["request"] == "屋顶漏雨需要修缮" for c in full["recent_contacts"])
