"""Keeping the county's diagram pages warm: a thread that builds the county-wide pages again
whenever the data changes, so that their readers find the reads kept (``visual.cache``)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

from graphsvc import importer
from graphsvc.stores.base import Store
from visual.cache import cached, store_key
from visual.pages import index_page
from visual.views import risks_of, township_view


class _Warmer:
    """A daemon thread that rebuilds the county-wide pages (index, county overview) for today
    whenever the data version changes, so that their readers find the reads kept.

    Started and stopped by the app's lifespan (``graphsvc.api.app``), one entry per app: its
    store is asked from the app's store holder each round (a store that is down is skipped
    until it answers). An app's pages are warmed once they are in use (``pages_asked``, from
    the diagram pages): a server only answering the API does no diagram work. Checked every
    ``interval`` seconds (a one-row query) and at once after an import in this process
    (``graphsvc.importer.AFTER_WRITE``).
    """

    def __init__(self, interval: float = 15.0) -> None:
        self.interval = interval
        self._lock = threading.Lock()
        self._apps: dict[int, tuple[Callable[[], Store], Any]] = {}
        self._asked: set[int] = set()  # the apps whose diagram pages are in use
        self._seen: dict[str, tuple[str, Any]] = {}
        self._wake = threading.Event()
        self._round = threading.Lock()  # held while a round of warming runs
        self._thread: threading.Thread | None = None
        self.rounds = 0

    def start(self, key: int, get_store: Callable[[], Store], rules: Any) -> None:
        """Warm the store ``get_store()`` gives, under ``key`` (an app), until ``stop(key)``."""
        with self._lock:
            self._apps[key] = (get_store, rules)
            if self.kick not in importer.AFTER_WRITE:
                importer.AFTER_WRITE.append(self.kick)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="graphsvc-visual-warmer",
                                                daemon=True)
                self._thread.start()
            else:
                self._wake.set()

    def asked(self, key: int) -> None:
        """``key``'s diagram pages are in use: warm them from now on."""
        with self._lock:
            if key in self._asked or key not in self._apps:
                return
            self._asked.add(key)
        self._wake.set()

    def kick(self, store: Store | None = None) -> None:
        self._wake.set()

    def stop(self, key: int | None = None) -> None:
        """Stop warming ``key``'s store (None: every store), before the store closes; waits
        for a round in flight, so no query runs on a store being closed. The thread ends
        when no store is left."""
        with self._lock:
            if key is None:
                self._apps.clear()
                self._asked.clear()
            else:
                self._apps.pop(key, None)
                self._asked.discard(key)
            if not self._apps:
                self._seen.clear()
            thread = self._thread
        self._wake.set()
        with self._round:
            pass
        if thread is not None and not self._apps and thread is not threading.current_thread():
            thread.join(timeout=self.interval)

    def _run(self) -> None:
        while True:
            with self._lock:
                todo = list(self._apps.items())
                if not todo:
                    self._thread = None
                    return
            with self._round:
                for key, (get_store, rules) in todo:
                    with self._lock:
                        if key not in self._apps or key not in self._asked:  # (stopped
                            continue                                           # or not in use)
                    try:
                        store = get_store()
                    except Exception:  # noqa: BLE001, S112 - a store that is down: next round
                        continue
                    self._warm(store_key(store), store, rules)
            self.rounds += 1
            self._wake.wait(self.interval)
            self._wake.clear()

    def _warm(self, where: str, store: Store, rules: Any) -> None:
        try:
            today = dt.date.today()
            version = store.data_version()
            if self._seen.get(where) == (version, (today, rules)):
                return
            index_page(store, as_of=today, rules=rules)
            township_view(store, None, as_of=today, rules=rules)
            risks_of(cached(store), today, rules)  # the chain pages mark the county's top
            self._seen[where] = (version, (today, rules))
        except Exception:  # noqa: BLE001 - a store that is down is tried again next round
            return


_warmer = _Warmer()


def start_warming(key: int, get_store: Callable[[], Store], rules: Any) -> None:
    """Keep the county-wide pages of ``get_store()`` ready for today (see ``_Warmer``)."""
    _warmer.start(key, get_store, rules)


def pages_asked(key: int) -> None:
    """The diagram pages of the app ``key`` are in use: keep them warm (see ``_Warmer``)."""
    _warmer.asked(key)


def stop_warming(key: int | None = None) -> None:
    """Stop keeping ``key``'s pages warm (None: every app's; see ``_Warmer.stop``)."""
    _warmer.stop(key)
