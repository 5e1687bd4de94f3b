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


def store_key(store: Store) -> str:
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
        self._where = store_key(store)

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
