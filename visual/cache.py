"""Reads of the diagram pages, kept until the data changes.

A page of the whole county needs every household's status (about a second for 100,000
households on Neo4j); a reader opening the same page, or the next page of the same
township, should not wait for it again. ``cached(store)`` wraps a store so that the
audit reads the views make are answered from memory while ``Store.data_version()``
is unchanged. The version is asked once per page (one small query) and changes with
every committed write, by this process or any other, so a page never shows data older
than the last write it could see.

Only small answers are kept: audits and household lists of one township, the pairing
network, and per-township counts (``counts``); never the rows of a whole county.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from graphsvc import importer
from graphsvc.stores.base import Store

MAX_ENTRIES = 256

# the read methods worth keeping: any answer narrowed to a township, a village or some ids
# (small), the county-wide audits of people (a row per person), never the county's households
def _narrowed(args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    return any(kwargs.get(k) is not None
               for k in ("township_id", "village_id", "ids", "household_ids", "member_ids"))


_KEPT: dict[str, Callable[[tuple[Any, ...], dict[str, Any]], bool]] = {
    "committee_member_audit": lambda a, k: True,
    "delegate_audit": lambda a, k: True,
    "member_audit": _narrowed,
    "households": _narrowed,
    "pairing_network": lambda a, k: True,
    "pairing_audit": lambda a, k: True,
}


class _Memo:
    """An LRU of answers; a key being computed is computed once, later askers wait for it."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._lock = threading.Lock()
        self._data: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._pending: dict[tuple[Any, ...], threading.Event] = {}
        self.max_entries = max_entries
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple[Any, ...], compute: Callable[[], Any]) -> Any:
        while True:
            with self._lock:
                if key in self._data:
                    self._data.move_to_end(key)
                    self.hits += 1
                    return self._data[key]
                pending = self._pending.get(key)
                if pending is None:
                    self.misses += 1
                    done = self._pending[key] = threading.Event()
                    break
            pending.wait()  # another reader is computing it; if that failed, try again
        try:
            value = compute()
            with self._lock:
                self._data[key] = value
                self._data.move_to_end(key)
                while len(self._data) > self.max_entries:
                    self._data.popitem(last=False)
            return value
        finally:
            with self._lock:
                del self._pending[key]
            done.set()

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self.hits = self.misses = 0


_memo = _Memo()


def clear() -> None:
    """Forget everything kept (benchmarks use it to time a cold page)."""
    _memo.clear()


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple, set, frozenset)):
        return tuple(sorted(map(_freeze, value), key=repr)) if isinstance(value, (set, frozenset)) \
            else tuple(map(_freeze, value))
    return value


def _where(store: Store) -> str:
    """Which store: its kind and address (a cache may serve several stores in tests)."""
    return f"{store.kind}:{getattr(store, 'uri', '') or getattr(store, 'path', '')}"


class CachedStore:
    """A store whose audit reads are kept while the data version stays the same.

    Made per page by ``cached(store)``: the version is read once, when it is made. Answers
    are shared between callers, so callers must not change them.
    """

    def __init__(self, store: Store) -> None:
        self._store = store
        self._version = store.data_version()
        self._where = _where(store)

    @property
    def inner(self) -> Store:
        return self._store

    def memo(self, name: str, args: tuple[Any, ...], compute: Callable[[], Any]) -> Any:
        """``compute()``, or what it gave before for ``name``/``args`` on this data version."""
        return _memo.get((self._where, self._version, name, _freeze(args)), compute)

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._store, name)
        keep = _KEPT.get(name)
        if keep is None:
            return attr

        def read(*args: Any, **kwargs: Any) -> Any:
            if not keep(args, kwargs):
                return attr(*args, **kwargs)
            return self.memo(name, (args, kwargs), lambda: attr(*args, **kwargs))

        return read


def cached(store: Store | CachedStore) -> Any:
    """``store`` with its audit reads kept until the data changes (see ``CachedStore``)."""
    return store if isinstance(store, CachedStore) else CachedStore(store)


# -- keeping the county's pages warm ----------------------------------------------------------


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
                    self._warm(_where(store), store, rules)
            self.rounds += 1
            self._wake.wait(self.interval)
            self._wake.clear()

    def _warm(self, where: str, store: Store, rules: Any) -> None:
        import datetime as dt

        from visual.pages import index_page
        from visual.views import _risks, township_view

        try:
            today = dt.date.today()
            version = store.data_version()
            if self._seen.get(where) == (version, (today, rules)):
                return
            index_page(store, as_of=today, rules=rules)
            township_view(store, None, as_of=today, rules=rules)
            _risks(cached(store), today, rules)  # the chain pages mark the county's top
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
