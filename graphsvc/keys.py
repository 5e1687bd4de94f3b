"""API keys: who may call the HTTP API, with which role, in which townships.

Keys live in a small SQLite database, ``GRAPHSVC_DATA_DIR/keys.sqlite3``, whichever
store holds the county's data. A key is shown once, when it is made::

    gs_Xq3v9LmT0b2Rk7YwPzA1c8dEfGhJkLmN
       ^^^^^^^^ the key's id (not secret: ``graphsvc keys list`` shows it)

and only a keyed hash of it is kept (HMAC-SHA256 with a random secret of this
install, ``GRAPHSVC_DATA_DIR/keys.secret``, readable by its owner only). A key
presented to the API is found by its id and compared in constant time.

>>> import tempfile
>>> keys = KeyStore(tempfile.mkdtemp())
>>> record, token = keys.create(Role.VIEWER, townships=["T1"], name="township clerk")
>>> keys.authenticate(token).townships
('T1',)
>>> keys.authenticate(token[:-1] + "x") is None
True
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from graphsvc.errors import ConfigError, NotFound, StoreUnavailable
from graphsvc.files import private_dir, private_file, tighten

PREFIX = "gs_"
ID_LENGTH = 8
SECRET_LENGTH = 32  # url-safe characters after the prefix; the first ID_LENGTH are the id
TOUCH_EVERY = dt.timedelta(minutes=1)  # last_used_at is written at most this often per key


class Role(StrEnum):
    """What a key may do (spec/API.md)."""

    ADMIN = "admin"  # everything, in every township
    EDITOR = "editor"  # read and change data in its townships
    VIEWER = "viewer"  # read in its townships


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: what the API needs to know of a valid key."""

    key_id: str
    name: str
    role: Role
    townships: tuple[str, ...]  # empty = every township
    pii: bool  # may see names, phone numbers and addresses unmasked

    @property
    def can_write(self) -> bool:
        return self.role in (Role.ADMIN, Role.EDITOR)

    @property
    def every_township(self) -> bool:
        return self.role is Role.ADMIN or not self.townships

    def sees_township(self, township_id: str | None) -> bool:
        """Whether a record of ``township_id`` (None: of no township) is within this key's reach."""
        return self.every_township or township_id in self.townships


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A stored key, without its secret."""

    id: str
    name: str
    role: Role
    townships: tuple[str, ...]
    pii: bool
    created_at: str
    last_used_at: str | None = None
    revoked_at: str | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def principal(self) -> Principal:
        return Principal(self.id, self.name, self.role, self.townships,
                         self.pii or self.role is Role.ADMIN)

    def as_dict(self) -> dict[str, object]:
        return {"id": self.id, "name": self.name, "role": self.role.value,
                "townships": list(self.townships), "pii": self.pii, "created_at": self.created_at,
                "last_used_at": self.last_used_at, "revoked_at": self.revoked_at}


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


_COLUMNS = "id, name, role, townships, pii, created_at, last_used_at, revoked_at"


def _key(row: tuple[object, ...]) -> ApiKey:
    kid, name, role, townships, pii, created, used, revoked = row
    return ApiKey(str(kid), str(name), Role(str(role)), tuple(json.loads(str(townships))),
                  bool(pii), str(created), None if used is None else str(used),
                  None if revoked is None else str(revoked))


class KeyStore:
    """The key database of one data folder. Cheap to make; opens SQLite per operation."""

    def __init__(self, data_dir: str | Path) -> None:
        self.dir = Path(data_dir)
        self.path = self.dir / "keys.sqlite3"
        self.secret_path = self.dir / "keys.secret"
        self._secret: bytes | None = None
        self._wal = False  # the database is in WAL mode (checked once per KeyStore)

    # -- plumbing ------------------------------------------------------------------------------

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        try:
            private_dir(self.dir)
            private_file(self.path)  # the hashes are nobody else's business either
            db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        except (sqlite3.Error, OSError) as exc:
            raise StoreUnavailable(
                f"the key database at {self.path} cannot be opened: {exc}") from exc
        try:
            if not self._wal:
                # every worker reads the keys on every request and writes now and then: in
                # WAL mode readers never wait for a writer, and no journal file is made and
                # deleted per write (with a rollback journal, two workers under load saw
                # 'disk I/O error' in one run of the load test). Kept in the file once set.
                self._wal = db.execute("PRAGMA journal_mode=WAL").fetchone()[0] == "wal"
            db.execute(
                "CREATE TABLE IF NOT EXISTS keys (id TEXT PRIMARY KEY, hash TEXT NOT NULL, "
                "name TEXT NOT NULL, role TEXT NOT NULL, townships TEXT NOT NULL, "
                "pii INTEGER NOT NULL, created_at TEXT NOT NULL, last_used_at TEXT, "
                "revoked_at TEXT)")
            db.execute(
                "CREATE TABLE IF NOT EXISTS pii_reads (at TEXT NOT NULL, key_id TEXT NOT NULL, "
                "key_name TEXT, what TEXT NOT NULL, ids TEXT NOT NULL)")
            db.execute("CREATE INDEX IF NOT EXISTS pii_reads_at ON pii_reads (at)")
            yield db
        except sqlite3.Error as exc:
            code = getattr(exc, "sqlite_errorname", None)  # SQLITE_IOERR_… says which I/O
            raise StoreUnavailable(f"the key database at {self.path} failed: {exc}"
                                   + (f" ({code})" if code else "")) from exc
        finally:
            db.close()

    def _secret_bytes(self) -> bytes:
        """The install's HMAC secret, made on first use (0600; safe against a concurrent maker)."""
        if self._secret is not None:
            return self._secret
        try:
            if not self.secret_path.exists():
                private_dir(self.dir)
                fd, tmp = tempfile.mkstemp(dir=self.dir, prefix=".keys.secret.")  # mode 0600
                try:
                    os.write(fd, secrets.token_hex(32).encode("ascii"))
                    os.close(fd)
                    try:
                        os.link(tmp, self.secret_path)  # fails if another process made it first
                    except FileExistsError:
                        pass
                finally:
                    os.unlink(tmp)
            tighten(self.secret_path)
            secret = self.secret_path.read_bytes().strip()
        except OSError as exc:
            raise StoreUnavailable(
                f"the key secret at {self.secret_path} cannot be read: {exc}") from exc
        if len(secret) < 32:
            raise ConfigError(f"the key secret at {self.secret_path} is damaged (too short); "
                              "restore it from a backup, or delete it and make new keys")
        self._secret = secret
        return secret

    def _hash(self, token: str) -> str:
        return hmac.new(self._secret_bytes(), token.encode("utf-8"), hashlib.sha256).hexdigest()

    def mac(self, purpose: str, text: str) -> str:
        """HMAC-SHA256 of ``text`` under a key derived from the install's secret for ``purpose``
        alone (``etag``…), so that no such value can ever stand for a key's hash or another's."""
        sub = hmac.new(self._secret_bytes(), b"graphsvc/" + purpose.encode("utf-8"),
                       hashlib.sha256).digest()
        return hmac.new(sub, text.encode("utf-8"), hashlib.sha256).hexdigest()

    # -- what the CLI and the API do -------------------------------------------------------------

    def create(self, role: Role | str, *, townships: Iterable[str] = (), pii: bool = False,
               name: str | None = None) -> tuple[ApiKey, str]:
        """Make a key; returns its record and the key itself (the only time it is seen)."""
        try:
            role = Role(role)
        except ValueError:
            raise ConfigError(f"'{role}' is not a role; use admin, editor or viewer") from None
        towns = tuple(sorted({t.strip() for t in townships if t.strip()}))
        if role is Role.ADMIN and towns:
            raise ConfigError("an admin key reaches every township; leave out the townships, "
                              "or make an editor or viewer key for them")
        with self._db() as db:
            for _ in range(10):
                token = PREFIX + secrets.token_urlsafe(SECRET_LENGTH * 3 // 4)
                kid = token[len(PREFIX): len(PREFIX) + ID_LENGTH]
                # an id starting with '-' reads as an option on a command line
                if not kid[0].isalnum():
                    continue
                rec = ApiKey(kid, name or f"{role.value} key {kid}", role, towns, pii, _now())
                try:
                    db.execute(f"INSERT INTO keys (hash, {_COLUMNS}) "
                               "VALUES (?, ?, ?, ?, ?, ?, ?, NULL, NULL)",
                               (self._hash(token), rec.id, rec.name, role.value,
                                json.dumps(list(towns)), int(pii), rec.created_at))
                except sqlite3.IntegrityError:
                    continue  # an id already taken (1 in 2^48): draw again
                return rec, token
        raise StoreUnavailable("could not draw an unused key id")  # pragma: no cover

    def all_keys(self) -> list[ApiKey]:
        """Every key, revoked ones too, oldest first."""
        with self._db() as db:
            rows = db.execute(f"SELECT {_COLUMNS} FROM keys ORDER BY created_at, id").fetchall()
        return [_key(r) for r in rows]

    def get(self, key_id: str) -> ApiKey:
        with self._db() as db:
            row = db.execute(f"SELECT {_COLUMNS} FROM keys WHERE id = ?", (key_id,)).fetchone()
        if row is None:
            raise NotFound(f"there is no key with id '{key_id}'")
        return _key(row)

    def revoke(self, key_id: str) -> ApiKey:
        """Stop a key working from now on (its record stays, with ``revoked_at``)."""
        with self._db() as db:
            db.execute("UPDATE keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                       (_now(), key_id))
        return self.get(key_id)

    def authenticate(self, token: str) -> Principal | None:
        """The principal of a valid, unrevoked key; None for anything else."""
        if not token.startswith(PREFIX) or len(token) != len(PREFIX) + SECRET_LENGTH:
            return None
        kid = token[len(PREFIX): len(PREFIX) + ID_LENGTH]
        with self._db() as db:
            row = db.execute(f"SELECT hash, {_COLUMNS} FROM keys WHERE id = ?", (kid,)).fetchone()
            # hash even when the id is unknown, so that timing tells nothing about which ids exist
            given = self._hash(token)
            if row is None or not hmac.compare_digest(given, str(row[0])):
                return None
            key = _key(row[1:])
            if not key.active:
                return None
            now = dt.datetime.now(dt.UTC)
            last = dt.datetime.fromisoformat(key.last_used_at) if key.last_used_at else None
            if last is None or now - last >= TOUCH_EVERY:
                db.execute("UPDATE keys SET last_used_at = ? WHERE id = ?",
                           (now.replace(microsecond=0).isoformat(), kid))
        return key.principal()

    # -- reads of unmasked personal data ---------------------------------------------------

    def log_pii_read(self, principal: Principal, what: str, ids: Iterable[str]) -> None:
        """Note that this key was shown households' unmasked names, phones or addresses."""
        at = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")
        with self._db() as db:
            db.execute("INSERT INTO pii_reads VALUES (?, ?, ?, ?, ?)",
                       (at, principal.key_id, principal.name, what, json.dumps(sorted(set(ids)))))

    def pii_reads(self, *, since: str | None = None, until: str | None = None,
                  key_id: str | None = None, subject: str | None = None, limit: int = 100,
                  offset: int = 0) -> tuple[int, list[dict[str, object]]]:
        """(total, page) of the logged reads of unmasked personal data, newest first."""
        where, params = [], []
        for clause, value in (("at >= ?", since), ("at < ?", until), ("key_id = ?", key_id)):
            if value is not None:
                where.append(clause)
                params.append(value)
        if subject is not None:
            where.append("EXISTS (SELECT 1 FROM json_each(ids) WHERE value = ?)")
            params.append(subject)
        cond = ("WHERE " + " AND ".join(where)) if where else ""
        with self._db() as db:
            total = db.execute(f"SELECT count(*) FROM pii_reads {cond}", params).fetchone()[0]
            rows = db.execute(f"SELECT at, key_id, key_name, what, ids FROM pii_reads {cond} "
                              "ORDER BY at DESC LIMIT ? OFFSET ?",
                              [*params, limit, offset]).fetchall()
        return int(total), [{"at": at, "action": "read_pii", "via": "api", "key_id": kid,
                             "key_name": name, "what": what, "subjects": json.loads(ids)}
                            for at, kid, name, what, ids in rows]
