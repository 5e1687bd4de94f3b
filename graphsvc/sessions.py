"""Diagram-page sessions, kept on the server so that logging out ends them.

A browser that logs in at ``/visual/login`` gets a random session id in its cookie; the
session itself (which key, until when) is a row of the ``sessions`` table beside the keys in
``GRAPHSVC_DATA_DIR/keys.sqlite3``, which every worker process of the server shares. Only a
hash of the id is stored, so a copy of the database opens no session. A session ends when
it expires (8 hours after login), when the browser logs out (the row is deleted: the old
cookie is then worth nothing, wherever a copy of it is), or when its key is revoked.

>>> import tempfile
>>> from graphsvc.keys import KeyStore, Role
>>> keys = KeyStore(tempfile.mkdtemp())
>>> record, token = keys.create(Role.VIEWER, townships=["T1"])
>>> sessions = SessionStore(keys)
>>> sid = sessions.create(record.id)
>>> sessions.principal(sid).townships
('T1',)
>>> sessions.end(sid)
>>> sessions.principal(sid) is None
True
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager

from graphsvc.errors import NotFound
from graphsvc.keys import KeyStore, Principal

SESSION_SECONDS = 8 * 3600  # a login lasts a working day, then the key is asked for again
ID_BYTES = 32  # 256 random bits: a session id cannot be guessed


def _hash(session_id: str) -> str:
    # a plain hash is enough: the id is random, there is nothing to try a dictionary on
    return hashlib.sha256(session_id.encode("utf-8", "surrogatepass")).hexdigest()


class SessionStore:
    """The sessions of one key database. Cheap to make; opens SQLite per operation."""

    def __init__(self, keys: KeyStore) -> None:
        self.keys = keys

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        # the key database's own connection (its errors become StoreUnavailable, 503)
        with self.keys._db() as db:  # the sessions live beside the keys, in their database
            db.execute("CREATE TABLE IF NOT EXISTS sessions (hash TEXT PRIMARY KEY, "
                       "key_id TEXT NOT NULL, created_at REAL NOT NULL, "
                       "expires_at REAL NOT NULL)")
            db.execute("CREATE INDEX IF NOT EXISTS sessions_expires ON sessions (expires_at)")
            yield db

    def create(self, key_id: str, now: float | None = None) -> str:
        """Start a session of this key; returns its id (the cookie's value, seen only here)."""
        now = time.time() if now is None else now
        session_id = secrets.token_urlsafe(ID_BYTES)
        with self._db() as db:
            db.execute("DELETE FROM sessions WHERE expires_at <= ?", (now,))  # keep it small
            db.execute("INSERT INTO sessions VALUES (?, ?, ?, ?)",
                       (_hash(session_id), key_id, now, now + SESSION_SECONDS))
        return session_id

    def principal(self, session_id: str | None) -> Principal | None:
        """The key behind a session, while the session lasts and the key is not revoked."""
        if not session_id:
            return None
        with self._db() as db:
            row = db.execute("SELECT key_id FROM sessions WHERE hash = ? AND expires_at > ?",
                             (_hash(session_id), time.time())).fetchone()
        if row is None:
            return None
        try:
            key = self.keys.get(str(row[0]))
        except NotFound:
            return None
        if not key.active:
            self.end_all(key.id)  # a revoked key's sessions are over: drop them now
            return None
        return key.principal()

    def end(self, session_id: str | None) -> None:
        """Log out: the session is over for every copy of its cookie."""
        if session_id:
            with self._db() as db:
                db.execute("DELETE FROM sessions WHERE hash = ?", (_hash(session_id),))

    def end_all(self, key_id: str) -> None:
        """End every session of a key."""
        with self._db() as db:
            db.execute("DELETE FROM sessions WHERE key_id = ?", (key_id,))
