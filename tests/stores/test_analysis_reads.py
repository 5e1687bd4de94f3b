"""The reads of the analyses are store methods, and both stores answer them alike.

``Store.repair_people``, ``repair_households``, ``risk_page``, ``households_below``,
``chain_households`` and ``chain_people``: the embedded store answers with
``graphsvc.stores.graphreads`` over its graph, Neo4j with ``cypher/analysis/``. Every method
gives identical answers on both stores, on the tiny county and on a generated county whose
chains were then broken (delegates and members gone, liaisons ended, households closed), for
several dates and scopes. And every statement under ``cypher/``, the analysis ones included,
is checked when the Neo4j store opens: a missing or empty one stops it opening.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import random
import shutil
from pathlib import Path
from typing import Any

import pytest

from graphsvc.cypher import Queries, cypher_dir, queries
from graphsvc.errors import ConfigError, NotFound
from graphsvc.importer import import_path
from graphsvc.rules import RuleSettings
from graphsvc.stores.base import Store
from graphsvc.stores.graphreads import HouseholdData, PersonData
from graphsvc.stores.neo4j import ANALYSIS_STATEMENTS, Neo4jStore

RULES = RuleSettings()
DAYS = (dt.date(2025, 7, 20), dt.date(2026, 2, 15), dt.date(2026, 6, 30))


def _of(store: Store, entity: str) -> list[str]:
    return sorted(n for n, a in store.graph().nodes(data=True) if a["entity"] == entity)


def _household(h: HouseholdData) -> HouseholdData:
    """``h`` with its lists of links and requests in one order (the stores promise none)."""
    return dataclasses.replace(h, members_in=sorted(h.members_in, key=repr),
                               requests=sorted(h.requests, key=repr),
                               supports=sorted(h.supports, key=repr))


def _person(p: PersonData) -> PersonData:
    return dataclasses.replace(p, delegates_in=sorted(p.delegates_in, key=repr),
                               committee_in=sorted(p.committee_in, key=repr))


def _answers(store: Store, *, townships: list[str], villages: list[str], people: list[str],
             households: list[str]) -> dict[tuple[Any, ...], Any]:
    """Every new store method's answer, by (method, arguments)."""
    out: dict[tuple[Any, ...], Any] = {}
    for day in DAYS:
        for towns in (None, townships[:1], townships, []):
            for ids in ((), people[:3], ["nobody", *households[:1]]):
                out["repair_people", day, str(towns), tuple(ids)] = store.repair_people(
                    day, towns, ids)
        for tid in (None, *townships):
            out["repair_households", day, tid] = store.repair_households(day, RULES, tid)
            for weight in (3, 1):
                out["risk_page", day, tid, weight] = store.risk_page(
                    day, RULES, township_id=tid, focus_weight=weight)
            out["risk_page", day, tid, "page 2 of 5"] = store.risk_page(
                day, RULES, township_id=tid, focus_weight=3, limit=5, offset=5)
        for p in people:
            out["households_below", day, p] = store.households_below(p, day)
        scopes: list[dict[str, Any]] = [
            {}, {"township_id": townships[0]}, {"village_id": villages[0]},
            {"household_ids": [*households[:5], "nobody", people[0]]},
            {"household_ids": households[:5], "township_id": townships[-1]}]
        for scope in scopes:
            for read in ({"contacts": (day - dt.timedelta(days=200), day)},
                         {"requests_until": day}, {}):
                got = store.chain_households(**scope, **read)
                out["chain_households", day, str(scope), str(read)] = {
                    k: _household(h) for k, h in got.items()}
    out["chain_people", "some"] = {k: _person(p) for k, p in
                           store.chain_people([*people, "nobody", *households[:2]]).items()}
    out["chain_people", "none"] = store.chain_people([])
    return out


def _same(emb: Store, neo: Store, **scope: list[str]) -> dict[tuple[Any, ...], Any]:
    a, b = _answers(emb, **scope), _answers(neo, **scope)
    assert a.keys() == b.keys()
    for key in a:
        assert a[key] == b[key], key
    return a


def _scope(store: Store) -> dict[str, list[str]]:
    return {"townships": _of(store, "township"), "villages": _of(store, "village"),
            "people": _of(store, "person"), "households": _of(store, "household")}


def _unknown_person_is_not_found(*stores: Store) -> None:
    for s in stores:
        for who in ("nobody", _of(s, "household")[0]):
            with pytest.raises(NotFound):
                s.households_below(who, DAYS[-1])


def test_tiny_county_same_answers_on_both_stores(make_store: Any, tiny_dir: Path) -> None:
    emb, neo = make_store("embedded"), make_store("neo4j")
    for s in (emb, neo):
        assert import_path(s, tiny_dir).ok
    got = _same(emb, neo, **_scope(emb))
    # what a user of the analyses sees in the tiny county: uncovered households to repair,
    # people whose leaving uncovers some, requests below a delegate
    assert len(got["repair_households", DAYS[-1], None]) == 17  # expected.json's uncovered
    total, page = got["risk_page", DAYS[-1], None, 3]
    assert total == len(page) > 0
    assert any(got["households_below", DAYS[-1], p] for p in ("D1", "C1"))
    assert any(h.requests for h in got["chain_households", DAYS[-1], "{}",
                                       str({"requests_until": DAYS[-1]})].values())
    _unknown_person_is_not_found(emb, neo)


# -- a generated county, its chains broken ------------------------------------------------------


def _rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as f:
        r = csv.DictReader(f)
        return list(r.fieldnames or ()), list(r)


def _write(path: Path, fields: list[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fields, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


@pytest.fixture(scope="module")
def broken_county(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(a generated county cut to the households of three townships, a partial bundle that
    breaks chains in it): some delegates and members leave, some committee_member-delegate and
    delegate-member liaisons end, some households close, on dates between ``DAYS``."""
    from graphsvc.generate import generate_bundle

    root = tmp_path_factory.mktemp("broken")
    full, cut, part = root / "full", root / "cut", root / "part"
    generate_bundle(full, counties=1, seed=3)
    cut.mkdir()
    part.mkdir()
    for f in full.glob("*.csv"):
        shutil.copy(f, cut / f.name)
    _, towns = _rows(full / "townships.csv")
    kept_towns = {t["id"] for t in towns[:3]}
    _, villages = _rows(full / "villages.csv")
    kept_villages = {v["id"] for v in villages if v["township_id"] in kept_towns}
    fields, households = _rows(full / "households.csv")
    households = [h for h in households if h["village_id"] in kept_villages]
    _write(cut / "households.csv", fields, households)
    kept = {h["id"] for h in households}
    for name, column in (("contacts.csv", "household_id"), ("supports.csv", "household_id"),
                         ("liaisons.csv", "to_id")):
        fields, rows = _rows(full / name)
        rows = [r for r in rows if name == "liaisons.csv" and r["kind"] != "member-household"
                or r[column] in kept]
        _write(cut / name, fields, rows)

    rng = random.Random(12)
    _, people = _rows(full / "people.csv")
    _, liaisons = _rows(cut / "liaisons.csv")
    delegates = [p["id"] for p in people if "delegate" in p["roles"].split(";")
                 and "committee_member" not in p["roles"].split(";")]
    members = sorted({r["from_id"] for r in liaisons if r["kind"] == "member-household"})
    names = {p["id"]: p["name"] for p in people}
    gone = [{"id": d, "name": names[d], "status": "inactive", "inactive_since": "2026-03-01"}
            for d in rng.sample(delegates, len(delegates) // 10)]
    gone += [{"id": m, "name": names[m], "status": "inactive", "inactive_since": "2026-05-01"}
             for m in rng.sample(members, len(members) // 30) if m not in {g["id"] for g in gone}]
    _write(part / "people.csv", ["id", "name", "status", "inactive_since"], gone)
    ended = [{"kind": r["kind"], "from_id": r["from_id"], "to_id": r["to_id"],
              "until": "2026-01-15" if r["kind"] == "committee_member-delegate" else "2025-12-01"}
             for r in liaisons if r["kind"] != "member-household" and rng.random() < 0.1]
    _write(part / "liaisons.csv", ["kind", "from_id", "to_id", "until"], ended)
    closed = [{"id": h["id"], "head_name": h["head_name"], "village_id": h["village_id"],
               "status": "inactive", "inactive_since": "2026-04-01"}
              for h in rng.sample(households, len(households) // 30)]
    _write(part / "households.csv",
           ["id", "head_name", "village_id", "status", "inactive_since"], closed)
    return cut, part


def test_generated_county_with_broken_chains_same_answers_on_both_stores(
        make_store: Any, broken_county: tuple[Path, Path]) -> None:
    emb, neo = make_store("embedded"), make_store("neo4j")
    cut, part = broken_county
    for s in (emb, neo):
        for folder in (cut, part):
            report = import_path(s, folder)
            assert report.ok, [str(p.message) for p in report.errors[:5]]
    scope = _scope(emb)
    rng = random.Random(5)
    # people of every kind: committee members and delegates (households below them), members
    scope["people"] = sorted(rng.sample(scope["people"], 40) + scope["people"][:10])
    scope["households"] = sorted(rng.sample(scope["households"], 40))
    got = _same(emb, neo, **scope)
    # the breaks are visible: households uncovered, and fewer covered after the breaks' dates
    before = len(got["repair_households", DAYS[0], None])
    after = len(got["repair_households", DAYS[-1], None])
    assert after > before > 0
    assert got["risk_page", DAYS[-1], None, 3][0] > 0
    _unknown_person_is_not_found(emb, neo)


# -- every statement checked at start-up --------------------------------------------------------


def test_every_statement_file_is_checked_when_the_store_opens() -> None:
    q = queries()
    assert set(q.names()) == set(Neo4jStore.REQUIRED)  # no file escapes the check
    assert {f"analysis/{n}" for n in ANALYSIS_STATEMENTS} == \
        {n for n in q.names() if n.startswith("analysis/")}


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "cypher"
    shutil.copytree(cypher_dir(), folder)
    return folder


def test_a_missing_analysis_statement_stops_the_store_opening(
        tmp_path: Path, neo4j_env: dict[str, str]) -> None:
    folder = _copy(tmp_path)
    (folder / "analysis" / "trends_people.cypher").unlink()
    with pytest.raises(ConfigError, match="analysis/trends_people"):
        Neo4jStore(neo4j_env["GRAPHSVC_NEO4J_URI"], neo4j_env.get("GRAPHSVC_NEO4J_USER"),
                   neo4j_env.get("GRAPHSVC_NEO4J_PASSWORD"), queries_=Queries(folder))


def test_an_empty_analysis_statement_stops_the_store_opening(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    (folder / "analysis" / "risks.cypher").write_text("// nothing left but a comment\n",
                                                      encoding="utf-8")
    with pytest.raises(ConfigError, match=r"risks\.cypher is empty"):
        Queries(folder)
