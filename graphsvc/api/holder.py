"""The one store of a server process, and what happens while it cannot be reached.

The app opens the store when it starts. If it cannot (Neo4j down, wrong
password), the app starts anyway and every request answers 503 with the reason,
trying to open the store again (at most once per ``retry_interval``), so the
service recovers without a restart. A store that fails while in use (Neo4j went
away) is marked down: requests then check cheaply whether the server answers
again before using it, instead of each waiting for the driver's retries.
"""

from __future__ import annotations

import logging
import threading
import time

from graphsvc.config import Settings
from graphsvc.derived import Derived
from graphsvc.errors import GraphsvcError, StoreUnavailable
from graphsvc.stores import Store, open_store

log = logging.getLogger("graphsvc.api")


class StoreHolder:
    """Holds the process's store; ``get`` returns it or raises ``StoreUnavailable``."""

    retry_interval = 1.0  # seconds between two attempts while the store is down

    def __init__(self, settings: Settings, store: Store | None = None) -> None:
        self.settings = settings
        # the county-wide results are kept above the store, shared with the other workers
        # through <data dir>/derived (graphsvc.derived)
        self._store = store if store is None or isinstance(store, Derived) else \
            Derived(store, settings.data_dir / "derived", owns=False)
        self._owned = store is None  # a store handed in is closed by whoever made it
        self._down: str | None = None  # why the store cannot be used, while it cannot
        self._last_try = 0.0
        self._lock = threading.Lock()

    @property
    def kind(self) -> str:
        return self._store.kind if self._store is not None else self.settings.store_kind

    def open(self) -> None:
        """Try to open the store now (at start-up) and get it ready to serve
        (``Store.warm_up``); a failure is kept as the reason, not raised."""
        with self._lock:
            try:
                store = self._open()
            except StoreUnavailable as exc:
                log.warning("the store is not available yet: %s", exc)
                return
        try:
            store.warm_up()
        except GraphsvcError as exc:  # the first request tries again
            log.warning("the store could not get ready: %s", exc)

    def get(self) -> Store:
        store = self._store
        if store is not None and self._down is None:
            return store
        with self._lock:
            if self._store is not None and self._down is None:
                return self._store
            if time.monotonic() - self._last_try < self.retry_interval and self._down:
                raise StoreUnavailable(self._down)
            if self._store is None:
                return self._open()
            return self._recover(self._store)

    def mark_down(self, reason: str) -> None:
        """The store failed while in use: check that it answers before using it again."""
        with self._lock:
            if self._down is None:
                log.warning("the store stopped answering: %s", reason)
            self._down = reason
            self._last_try = time.monotonic()

    def close(self) -> None:
        with self._lock:
            if self._store is not None and self._owned:
                self._store.close()
            self._store = None

    # -- under the lock ------------------------------------------------------------------------

    def _open(self) -> Store:
        self._last_try = time.monotonic()
        try:
            store = Derived(open_store(self.settings), self.settings.data_dir / "derived")
        except StoreUnavailable as exc:
            self._down = str(exc)
            raise
        except GraphsvcError as exc:  # a wrong setting: the store cannot be used until fixed
            self._down = f"the {self.kind} store cannot be opened: {exc}"
            raise StoreUnavailable(self._down) from exc
        except Exception as exc:
            log.exception("opening the store failed")
            self._down = f"the {self.kind} store cannot be opened: {type(exc).__name__}: {exc}"
            raise StoreUnavailable(self._down) from exc
        if self._down is not None:
            log.warning("the store is back")
        self._store, self._down = store, None
        return store

    def _recover(self, store: Store) -> Store:
        self._last_try = time.monotonic()
        try:
            store.ping()
        except StoreUnavailable as exc:
            self._down = str(exc)
            raise
        log.warning("the store is back")
        self._down = None
        return store
