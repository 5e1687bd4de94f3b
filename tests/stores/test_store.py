"""Import and export on both stores: the tiny county round-trips, imports are all-or-nothing."""

from __future__ import annotations

import csv
import datetime as dt
import filecmp
from pathlib import Path

from graphsvc.bundle.schema import FILES
from graphsvc.importer import export_path, import_path
from graphsvc.stores.base import Store

AS_OF = dt.date(2026, 6, 30)


def read_rows(folder: Path, name: str) -> list[dict[str, str]]:
    with (folder / f"{name}.csv").open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def canonical(value: str, column: str) -> str:
    """What a tiny-county cell means, written the way export writes it."""
    v = value.strip()
    if column in ("needs_pairing", "hardship", "resolved"):
        return "true" if v.lower() in ("true", "1", "yes", "是") else "false"
    if column == "status":
        return v or "active"
    if column == "channel":
        return v or "visit"
    return v


def meaning(folder: Path, name: str) -> set[tuple[tuple[str, str], ...]]:
    spec = next(s for s in FILES if s.name == name)
    rows = read_rows(folder, name) if (folder / f"{name}.csv").exists() else []
    return {tuple((c, canonical(r.get(c) or "", c)) for c in spec.column_names) for r in rows}


def test_tiny_county_round_trips(store: Store, tiny_dir: Path, tmp_path: Path) -> None:
    report = import_path(store, tiny_dir)
    assert report.ok, report.errors
    assert report.written
    assert report.counts["households"] == 60 and report.counts["liaisons"] == 82
    out = tmp_path / "out"
    counts = export_path(store, out)
    assert counts["people.csv"] == 28
    for spec in FILES:
        assert meaning(out, spec.name) == meaning(tiny_dir, spec.name), spec.name
    ids = [r["id"] for r in read_rows(out, "people")]
    assert ids == sorted(ids)


def test_export_import_export_is_byte_identical(store: Store, make_store, tiny_dir: Path,
                                                tmp_path: Path) -> None:
    import_path(store, tiny_dir)
    first = tmp_path / "first"
    export_path(store, first)
    other = make_store("embedded")
    assert import_path(other, first).ok
    second = tmp_path / "second"
    export_path(other, second)
    for spec in FILES:
        assert ((first / spec.filename).read_bytes()
                == (second / spec.filename).read_bytes()), spec.name


def test_reimport_changes_nothing(store: Store, tiny_dir: Path, tmp_path: Path) -> None:
    import_path(store, tiny_dir)
    export_path(store, tmp_path / "a")
    assert import_path(store, tiny_dir).ok
    export_path(store, tmp_path / "b")
    _match, mismatch, errors = filecmp.cmpfiles(tmp_path / "a", tmp_path / "b",
                                               [s.filename for s in FILES], shallow=False)
    assert mismatch == [] and errors == []
    assert store.summary(AS_OF)["contacts"] == 46


def test_stores_agree(make_store, tiny_dir: Path, tmp_path: Path) -> None:
    """Data moved from one store to the other exports identically; the summaries agree."""
    emb = make_store("embedded")
    import_path(emb, tiny_dir)
    export_path(emb, tmp_path / "emb")
    neo = make_store("neo4j")
    assert import_path(neo, tmp_path / "emb").ok
    export_path(neo, tmp_path / "neo")
    for spec in FILES:
        assert (tmp_path / "emb" / spec.filename).read_bytes() == \
            (tmp_path / "neo" / spec.filename).read_bytes(), spec.name
    for day in (dt.date(2005, 1, 1), dt.date(2025, 12, 31), AS_OF, dt.date(2026, 9, 1),
                dt.date(2027, 1, 1)):
        assert emb.summary(day) == neo.summary(day), day


def test_summary_of_tiny_county(store: Store, tiny_dir: Path) -> None:
    import_path(store, tiny_dir)
    s = store.summary(AS_OF)
    assert s["townships"] == 2 and s["villages"] == 4 and s["villages_needing_pairing"] == 3
    assert s["organizations"] == {"committee": 4, "general_branch": 1, "branch": 4}
    assert s["units"] == {"agency": 2, "institution": 1, "enterprise": 1}
    # C3 and M14 inactive with no date, D3 left 2025-12-31; M13 leaves only on 2026-09-01
    assert s["people"] == 25
    assert s["households"] == 59  # H056 moved away on 2026-02-01
    assert s["pairings"] == 3 and s["paired_villages"] == 3  # U2-V3 ended 2020-01-01
    assert s["contacts"] == 46  # one contact is dated after as_of
    assert s["requests_raised"] == 6 and s["requests_resolved"] == 1
    assert store.summary(dt.date(2026, 9, 1))["people"] == 24


def test_bad_bundle_writes_nothing(store: Store, tiny_copy: Path, tmp_path: Path) -> None:
    people = tiny_copy / "people.csv"
    people.write_text(people.read_text(encoding="utf-8").replace("M01,吴凤金,,,,,,,V1",
                                                                  "M01,吴凤金,,,,,,,V404"),
                      encoding="utf-8")
    report = import_path(store, tiny_copy)
    assert not report.ok and not report.written
    assert [(p.file, p.row, p.column) for p in report.errors] == [("people.csv", 10, "village_id")]
    assert store.records()["households"] == []
    assert store.summary(AS_OF)["people"] == 0


def test_dry_run_writes_nothing(store: Store, tiny_dir: Path) -> None:
    report = import_path(store, tiny_dir, dry_run=True)
    assert report.ok and not report.written and report.counts["people"] == 28
    assert store.summary(AS_OF)["households"] == 0


def test_partial_bundle_updates_and_keeps_other_columns(store: Store, tiny_dir: Path,
                                                        tmp_path: Path) -> None:
    import_path(store, tiny_dir)
    part = tmp_path / "part"
    part.mkdir()
    # only id, name and status: the phone, village and roles stay as stored
    (part / "people.csv").write_text("id,name,status,inactive_since\n"
                                     "M01,吴凤金,inactive,2026-05-01\n", encoding="utf-8")
    (part / "liaisons.csv").write_text("kind,from_id,to_id,until\n"
                                       "delegate-member,D1,M02,2026-06-01\n", encoding="utf-8")
    assert import_path(store, part).ok
    recs = store.records()
    m01 = next(r for r in recs["people"] if r["id"] == "M01")
    assert m01["status"] == "inactive" and m01["inactive_since"] == dt.date(2026, 5, 1)
    assert m01["village_id"] == "V1" and m01["phone"] == "13900000009"
    link = next(r for r in recs["liaisons"] if r["from_id"] == "D1" and r["to_id"] == "M02")
    assert link["since"] == dt.date(2008, 1, 1) and link["until"] == dt.date(2026, 6, 1)
    assert len(recs["liaisons"]) == 82


def test_liaison_needs_role_from_store(store: Store, tiny_dir: Path, tmp_path: Path) -> None:
    """References and roles are checked against what is already stored."""
    import_path(store, tiny_dir)
    part = tmp_path / "part"
    part.mkdir()
    (part / "liaisons.csv").write_text(
        "kind,from_id,to_id\ndelegate-member,D2,M16\ndelegate-member,M16,M17\nmember-household,M16,H404\n",
        encoding="utf-8")
    report = import_path(store, part)
    assert [(p.row, p.column) for p in report.errors] == [(3, "from_id"), (4, "to_id")]
    assert "does not have the role delegate" in report.errors[0].message
    assert "no household with id 'H404'" in report.errors[1].message


def test_id_clash_with_stored_record(store: Store, tiny_dir: Path, tmp_path: Path) -> None:
    import_path(store, tiny_dir)
    part = tmp_path / "part"
    part.mkdir()
    (part / "townships.csv").write_text("id,name\nH001,新镇\n", encoding="utf-8")
    report = import_path(store, part)
    assert len(report.errors) == 1 and "already belongs to a household" in report.errors[0].message


def test_replace_makes_store_equal_to_bundle(store: Store, tiny_dir: Path, tmp_path: Path) -> None:
    import_path(store, tiny_dir)
    small = tmp_path / "small"
    small.mkdir()
    (small / "townships.csv").write_text("id,name\nT9,新镇\n", encoding="utf-8")
    (small / "villages.csv").write_text("id,name,township_id\nV9,新村,T9\n", encoding="utf-8")
    assert import_path(store, small, replace=True).ok
    recs = store.records()
    assert [r["id"] for r in recs["townships"]] == ["T9"]
    assert [r["id"] for r in recs["villages"]] == ["V9"]
    assert all(recs[n] == [] for n in ("people", "households", "liaisons", "contacts"))
    # replace checks references inside the bundle only
    (small / "villages.csv").write_text("id,name,township_id\nV9,新村,T1\n", encoding="utf-8")
    report = import_path(store, small, replace=True)
    assert not report.ok and "no township with id 'T1' in the bundle" in report.errors[0].message


def test_update_moves_references(store: Store, tiny_dir: Path, tmp_path: Path) -> None:
    """Changing a household's village moves it (the graph follows, not only the column)."""
    import_path(store, tiny_dir)
    part = tmp_path / "part"
    part.mkdir()
    (part / "households.csv").write_text("id,head_name,village_id\nH001,李山淑,V4\n",
                                         encoding="utf-8")
    assert import_path(store, part).ok
    G = store.graph()
    assert [v for _, v, k in G.out_edges("H001", keys=True) if k == "IN_VILLAGE"] == ["V4"]
    rec = next(r for r in store.records()["households"] if r["id"] == "H001")
    assert rec["village_id"] == "V4" and rec["phone"] == "15800000001"  # absent column kept
    if store.kind == "neo4j":  # the relationship itself moved, not only the property
        rows, _, _ = store.driver.execute_query(  # type: ignore[attr-defined]
            "MATCH (:Household {id: 'H001'})-[:IN_VILLAGE]->(v) RETURN v.id AS v")
        assert [r["v"] for r in rows] == ["V4"]

