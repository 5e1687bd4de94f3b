"""A small write on Neo4j locks the records it writes and counts, and takes the lock of the
data version only in its last statement (cypher/meta/tally.cypher, meta/commit.cypher): a write
that waits (for the network, or a busy server) holds back the writes of the same records and
no others, and the change log still lists every write in the order they committed.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from graphsvc.auditlog import Actor, build_entry
from graphsvc.bundle.validate import Bundle
from graphsvc.config import Settings
from graphsvc.derived import Derived
from graphsvc.importer import import_path
from graphsvc.stores import neo4j as neo4j_store
from graphsvc.stores.base import Store

RULES = Settings().rules()
DAY = dt.date(2026, 6, 30)


@pytest.fixture
def tiny_neo4j(neo4j_shared: Store, tiny_dir: Path) -> Store:
    from tests_support import clear

    clear(neo4j_shared)
    assert import_path(neo4j_shared, tiny_dir).ok
    return neo4j_shared


def _contact(person: str, household: str, n: int) -> Bundle:
    return Bundle({"contacts": [{"person_id": person, "household_id": household, "date": DAY,
                                 "channel": "visit", "request": f"锁 {n}", "resolved": False}]})


class Paused:
    """A write that stops inside its transaction (in its audit entry, read after its locks are
    taken) until released."""

    def __init__(self, store: Store, bundle: Bundle) -> None:
        self.inside, self.go = threading.Event(), threading.Event()
        self.errors: list[BaseException] = []

        def entry() -> Mapping[str, Any]:
            self.inside.set()
            assert self.go.wait(60), "never released"
            return build_entry(store, bundle, Actor.cli())

        self.thread = threading.Thread(target=self._run, args=(store, bundle, entry))
        self.thread.start()
        assert self.inside.wait(30), "the write never reached its transaction"

    def _run(self, store: Store, bundle: Bundle, entry: Callable[[], Mapping[str, Any]]) -> None:
        try:
            store.write(bundle, audit=entry)
        except BaseException as exc:  # noqa: BLE001 - reported by finish()
            self.errors.append(exc)

    def finish(self) -> None:
        self.go.set()
        self.thread.join(60)
        assert not self.thread.is_alive() and not self.errors, self.errors


def _in_thread(work: Callable[[], None]) -> tuple[threading.Thread, list[BaseException]]:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    t = threading.Thread(target=run)
    t.start()
    return t, errors


def test_a_waiting_write_holds_back_only_writes_of_its_own_records(tiny_neo4j: Store,
                                                                    tmp_path: Path) -> None:
    store = tiny_neo4j
    derived = Derived(store, tmp_path / "derived", owns=False)
    before = derived.summary(DAY, RULES)
    derived.households(DAY, RULES)
    rec = store.records()
    member = next(r["from_id"] for r in rec["liaisons"] if r["kind"] == "member-household")
    h1, h2 = rec["households"][0]["id"], rec["households"][1]["id"]
    v0 = store.data_version()

    paused = Paused(store, _contact(member, h1, 1))  # holds h1 (and the member)
    other, other_errors = _in_thread(lambda: store.write(_contact(
        next(r["from_id"] for r in rec["liaisons"]
             if r["kind"] == "member-household" and r["from_id"] != member), h2, 2)))
    other.join(30)
    assert not other.is_alive(), "a write of another household waited for the paused write"
    assert not other_errors, other_errors
    v1 = store.data_version()
    assert v1 != v0

    same, same_errors = _in_thread(lambda: store.write(_contact(member, h1, 3)))
    same.join(2)
    assert same.is_alive(), "a write of the same household did not wait for the paused write"
    assert store.data_version() == v1
    paused.finish()
    same.join(30)
    assert not same.is_alive() and not same_errors, same_errors

    # the log lists all three, in the order they committed, and the kept results follow them
    changes = store.changes(v0)
    assert changes is not None and changes.writes == 3
    assert {h1, h2} <= changes.households
    after = derived.summary(DAY, RULES)
    assert after["contacts"] == before["contacts"] + 3
    assert sum(derived.computed.values()) == 2, "a kept result was computed again"
    assert after == store.summary(DAY, RULES)
    assert derived.households(DAY, RULES) == store.households(DAY, RULES)


def test_a_large_import_meanwhile_makes_the_small_write_record_no_numbers(
        tiny_neo4j: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A large import locks no records: a small write that read its numbers before the import
    committed records none (the county's numbers are counted again), and stays exact."""
    store = tiny_neo4j
    derived = Derived(store, tmp_path / "derived", owns=False)
    derived.summary(DAY, RULES)
    rec = store.records()
    member = next(r["from_id"] for r in rec["liaisons"] if r["kind"] == "member-household")
    h1, h2 = rec["households"][0]["id"], rec["households"][1]["id"]
    v0 = store.data_version()

    other = next(r["from_id"] for r in rec["liaisons"]
                 if r["kind"] == "member-household" and r["from_id"] != member)

    paused = Paused(store, _contact(member, h1, 1))
    monkeypatch.setattr(neo4j_store, "LOCKED_WRITE_LIMIT", 0)  # the next write is "large"
    large, errors = _in_thread(lambda: store.write(_contact(other, h2, 2)))
    large.join(10)  # it takes the data version's lock first; nothing it writes is paused
    assert not large.is_alive() and not errors, errors
    paused.finish()

    changes = store.changes(v0)
    assert changes is not None and changes.writes == 2
    assert changes.deltas == {}, "the small write recorded numbers a large import may change"
    computed = sum(derived.computed.values())
    assert derived.summary(DAY, RULES) == store.summary(DAY, RULES)
    assert sum(derived.computed.values()) == computed + 1  # counted again, once


def test_a_write_creating_a_record_takes_the_version_lock_first(tiny_neo4j: Store) -> None:
    """A new record has nothing to lock it by: its write holds the data version's lock from
    the start, so a write of another household waits for it."""
    store = tiny_neo4j
    rec = store.records()
    member = next(r["from_id"] for r in rec["liaisons"] if r["kind"] == "member-household")
    village = rec["villages"][0]["id"]
    new = Bundle({"households": [{"id": "HNEW", "head_name": "测试", "village_id": village,
                                  "categories": [], "size": 2, "status": "active",
                                  "inactive_since": None, "phone": None, "address": None}]})
    paused = Paused(store, new)
    other, errors = _in_thread(lambda: store.write(_contact(member,
                                                            rec["households"][1]["id"], 1)))
    other.join(2)
    assert other.is_alive(), "a write committed while a write creating a record was open"
    paused.finish()
    other.join(30)
    assert not other.is_alive() and not errors, errors
    assert "HNEW" in {h["id"] for h in store.records()["households"]}
