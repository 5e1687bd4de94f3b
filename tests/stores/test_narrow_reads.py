"""Reads narrowed to some people or households (what the diagram pages ask for) give exactly
the rows of the full audit, on both stores; the data version changes with every write only."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pytest

from graphsvc.config import Settings
from graphsvc.importer import import_path
from graphsvc.stores.base import Store

RULES = Settings().rules()
DAYS = [dt.date(2026, 6, 30), dt.date(2025, 1, 1), dt.date(2026, 12, 31)]


@pytest.fixture
def tiny_store(store: Store, tiny_dir: Path) -> Store:
    import_path(store, tiny_dir)
    return store


def _samples(ids: list[str], seed: int) -> list[list[str]]:
    rnd = random.Random(seed)
    picks = [ids[:1], ids, []] + [rnd.sample(ids, k=min(len(ids), rnd.randint(1, 6)))
                                  for _ in range(4)]
    return [p + ["NO-SUCH-ID"] for p in picks]  # unknown ids are left out, never an error


@pytest.mark.parametrize("as_of", DAYS, ids=str)
def test_audits_narrowed_to_ids_are_the_full_audits_rows(tiny_store: Store, as_of: dt.date) -> None:
    store = tiny_store
    people = sorted(r["id"] for r in store.records()["people"])
    audits = [(store.delegate_audit, "delegate_id"), (store.member_audit, "member_id"),
              (store.committee_member_audit, "committee_member_id")]
    for audit, key in audits:
        full = audit(as_of, RULES)
        assert full, f"{audit.__name__} is empty on {as_of}: the fixture does not exercise it"
        for ids in _samples(people, 1):
            want = [r for r in full if r[key] in ids]
            assert audit(as_of, RULES, ids=ids) == want, (audit.__name__, ids)
        # ids and a township narrow together
        town = full[0]["township_id"]
        if town is not None:
            want = [r for r in full if r["township_id"] == town and r[key] in people[:40]]
            assert audit(as_of, RULES, township_id=town, ids=people[:40]) == want


@pytest.mark.parametrize("as_of", DAYS, ids=str)
def test_households_narrowed_to_ids_or_members(tiny_store: Store, as_of: dt.date) -> None:
    store = tiny_store
    _, full = store.households(as_of, RULES)
    households = sorted(r["id"] for r in store.records()["households"])
    for ids in _samples(households, 2):
        total, rows = store.households(as_of, RULES, household_ids=ids)
        assert rows == [r for r in full if r["household_id"] in ids] and total == len(rows)
    # by member: every household whose counting members include one of them, and only
    # households some of them have (had) a liaison with
    liaised: dict[str, set[str]] = {}
    for r in store.records()["liaisons"]:
        if r["kind"] == "member-household":
            liaised.setdefault(r["from_id"], set()).add(r["to_id"])
    members = sorted(liaised)
    for ids in _samples(members, 3):
        _, rows = store.households(as_of, RULES, member_ids=ids)
        reachable = set().union(*(liaised.get(m, set()) for m in ids))
        assert rows == [r for r in full if r["household_id"] in reachable]
        counting = {r["household_id"] for r in full if set(r["member_ids"]) & set(ids)}
        assert counting <= {r["household_id"] for r in rows}
    # with a filter and a page, as the list endpoint pages
    some = members[:10]
    _, rows = store.households(as_of, RULES, member_ids=some, status="uncovered", limit=2, offset=1)
    reachable = set().union(*(liaised[m] for m in some))
    assert rows == [r for r in full if r["household_id"] in reachable
                    and r["status"] == "uncovered"][1:3]


def test_data_version_changes_with_each_write_only(store: Store, tiny_dir: Path,
                                                    tmp_path: Path) -> None:
    before = store.data_version()
    import_path(store, tiny_dir)
    v1 = store.data_version()
    assert v1 and v1 != before
    store.households(DAYS[0], RULES)  # reads change nothing
    assert store.data_version() == v1
    change = tmp_path / "change"
    change.mkdir()
    (change / "contacts.csv").write_text("person_id,household_id,date,channel,request,resolved\n"
                                         "M01,H001,2026-06-20,phone,,\n", encoding="utf-8")
    report = import_path(store, change)
    assert not report.errors, report.errors
    v2 = store.data_version()
    assert v2 not in (v1, before)
    import_path(store, tiny_dir, replace=True)  # a replaced store never repeats a version
    assert store.data_version() not in (v1, v2, before)
