"""API keys: made once, kept only as a keyed hash, found by id, revocable; the keys commands."""

from __future__ import annotations

import json
import shutil
import stat
import threading
from pathlib import Path

import pytest
from tests_support.cli import run

from graphsvc.errors import ConfigError, NotFound
from graphsvc.keys import KeyStore, Role


def mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def test_key_is_shown_once_and_kept_as_a_keyed_hash(tmp_path: Path) -> None:
    keys = KeyStore(tmp_path)
    record, token = keys.create(Role.EDITOR, townships=["T2", "T1", "T1"], pii=True, name="clerk")
    assert token.startswith("gs_") and len(token) == 35
    assert record.id == token[3:11]
    assert (record.role, record.townships, record.pii, record.name) == \
        (Role.EDITOR, ("T1", "T2"), True, "clerk")
    assert mode(tmp_path / "keys.secret") == 0o600 and mode(tmp_path / "keys.sqlite3") == 0o600
    stored = (tmp_path / "keys.sqlite3").read_bytes()
    assert token.encode() not in stored and token[11:].encode() not in stored
    principal = KeyStore(tmp_path).authenticate(token)  # another process, the same install
    assert principal is not None
    assert (principal.key_id, principal.role, principal.townships, principal.pii) == \
        (record.id, Role.EDITOR, ("T1", "T2"), True)
    assert principal.can_write and not principal.every_township


def test_wrong_keys_are_refused(tmp_path: Path) -> None:
    keys = KeyStore(tmp_path)
    _, token = keys.create(Role.VIEWER)
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    for bad in (flipped, token[:-1], token + "x", token.upper(), "", "gs_",
                token.replace("gs_", "xx_")):
        assert keys.authenticate(bad) is None, bad
    # the same database under another install's secret: nothing matches
    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(tmp_path / "keys.sqlite3", other / "keys.sqlite3")
    assert KeyStore(other).authenticate(token) is None


def test_revoke_and_last_used(tmp_path: Path) -> None:
    keys = KeyStore(tmp_path)
    record, token = keys.create(Role.VIEWER, townships=["T1"])
    assert keys.get(record.id).last_used_at is None
    assert keys.authenticate(token) is not None
    used = keys.get(record.id).last_used_at
    assert used is not None
    keys.authenticate(token)
    assert keys.get(record.id).last_used_at == used, "written at most once a minute"
    revoked = keys.revoke(record.id)
    assert revoked.revoked_at is not None and not revoked.active
    assert keys.authenticate(token) is None
    assert keys.revoke(record.id).revoked_at == revoked.revoked_at
    with pytest.raises(NotFound):
        keys.revoke("nope")
    assert [k.id for k in keys.all_keys()] == [record.id]


def test_roles(tmp_path: Path) -> None:
    keys = KeyStore(tmp_path)
    _, admin = keys.create("admin")
    p = keys.authenticate(admin)
    assert p is not None and p.pii and p.every_township and p.sees_township(None)
    with pytest.raises(ConfigError, match="admin key reaches every township"):
        keys.create(Role.ADMIN, townships=["T1"])
    with pytest.raises(ConfigError, match="not a role"):
        keys.create("owner")
    _, viewer = keys.create(Role.VIEWER, townships=["T1"])
    v = keys.authenticate(viewer)
    assert v is not None and not v.can_write and not v.pii
    assert v.sees_township("T1") and not v.sees_township("T2") and not v.sees_township(None)


def test_first_keys_made_at_once_share_one_secret(tmp_path: Path) -> None:
    """Two processes making the first key together end with one secret that both keys use."""
    tokens: list[str] = []
    start = threading.Barrier(4)

    def make() -> None:
        start.wait()
        tokens.append(KeyStore(tmp_path).create(Role.VIEWER)[1])

    threads = [threading.Thread(target=make) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(tokens) == 4
    assert all(KeyStore(tmp_path).authenticate(t) is not None for t in tokens)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keys.secret", "keys.sqlite3"]


def test_keys_commands(tmp_path: Path, tiny_dir: Path) -> None:
    env = {"GRAPHSVC_DATA_DIR": str(tmp_path / "data")}
    # a key's townships must be in the store (test_security_auth: an unknown one is refused)
    assert run(["import", str(tiny_dir)], env, tmp_path).returncode == 0
    r = run(["keys", "create", "--role", "editor", "--township-id", "T1", "--township-id", "T2",
             "--name", "柳树镇 clerk"], env, tmp_path)
    assert r.returncode == 0, r.stderr
    token = r.stdout.strip().splitlines()[-1]
    assert token.startswith("gs_") and "T1, T2" in r.stdout
    r = run(["keys", "list"], env, tmp_path)
    assert r.returncode == 0 and token[3:11] in r.stdout and token not in r.stdout
    (key,) = json.loads(run(["keys", "list", "--json"], env, tmp_path).stdout)
    assert (key["townships"], key["role"], key["revoked_at"]) == (["T1", "T2"], "editor", None)
    r = run(["keys", "revoke", key["id"]], env, tmp_path)
    assert r.returncode == 0 and "revoked" in r.stdout
    assert KeyStore(tmp_path / "data").authenticate(token) is None
    r = run(["keys", "revoke", "nope"], env, tmp_path)
    assert r.returncode == 1 and "no key with id 'nope'" in r.stderr
    r = run(["keys", "create", "--role", "admin", "--township-id", "T1"], env, tmp_path)
    assert r.returncode == 2 and "every township" in r.stderr
    r = run(["keys", "create", "--role", "owner"], env, tmp_path)
    assert r.returncode == 2


def test_key_ids_never_read_as_command_line_options(tmp_path: Path) -> None:
    """An id like '-S_Ctwpz' would be taken for an option by `graphsvc keys revoke ID`."""
    from graphsvc.keys import KeyStore, Role

    keys = KeyStore(tmp_path)
    ids = [keys.create(Role.VIEWER)[0].id for _ in range(300)]
    assert all(i[0].isalnum() for i in ids)
    assert len(set(ids)) == len(ids)
