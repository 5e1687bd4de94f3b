"""The synthetic bundle generator: determinism, source figures, integrity, gaps.

Everything here reads the written CSV files back (csv.DictReader) and checks
them with small independent computations written from spec/DATA_FORMAT.md and
spec/COVERAGE_RULES.md, not with the generator's own code.
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from datetime import date, timedelta
from pathlib import Path

import pytest

from graphsvc.generate import SOURCE_FIGURES, generate_bundle
from graphsvc.importer import import_path
from graphsvc.stores.embedded import EmbeddedStore

TODAY = date(2026, 6, 30)

# Column order exactly as spec/DATA_FORMAT.md lists it.
HEADERS = {
    "townships.csv": ["id", "name"],
    "villages.csv": ["id", "name", "township_id", "needs_pairing"],
    "organizations.csv": ["id", "name", "kind", "level", "parent_id", "township_id",
                          "village_id"],
    "units.csv": ["id", "name", "sector", "organization_id"],
    "people.csv": ["id", "name", "roles", "status", "inactive_since", "hardship",
                   "organization_id", "township_id", "village_id", "phone"],
    "households.csv": ["id", "head_name", "village_id", "categories", "size", "status",
                       "inactive_since", "phone", "address"],
    "liaisons.csv": ["kind", "from_id", "to_id", "since", "until"],
    "pairings.csv": ["unit_id", "village_id", "since", "until"],
    "supports.csv": ["person_id", "household_id", "since", "until"],
    "contacts.csv": ["person_id", "household_id", "date", "channel", "request", "resolved"],
}
ENTITY_FILES = ("townships.csv", "villages.csv", "organizations.csv", "units.csv",
                "people.csv", "households.csv")


# --------------------------------------------------------------------------- helpers


def load(folder: Path) -> dict[str, list[dict[str, str]]]:
    out = {}
    for name in HEADERS:
        with (folder / name).open(encoding="utf-8", newline="") as f:
            out[name] = list(csv.DictReader(f))
    return out


def d(s: str) -> date | None:
    return date.fromisoformat(s) if s else None


def counts_on(row: dict[str, str], as_of: date) -> bool:
    since, until = d(row["since"]), d(row["until"])
    return (since is None or since <= as_of) and (until is None or as_of < until)


def active(row: dict[str, str], as_of: date) -> bool:
    if row["status"] == "active":
        return True
    left = d(row["inactive_since"])
    return left is not None and as_of < left


def roles(row: dict[str, str]) -> set[str]:
    return {r.strip() for r in row["roles"].split(";") if r.strip()}


def county_of(id_: str) -> str:
    return id_.split("-", 1)[0]


def household_status(b: dict[str, list[dict[str, str]]], as_of: date,
                     stale_after: int = 90) -> dict[str, tuple[str, str | None, date | None]]:
    """COVERAGE_RULES.md "Household status", step by step: id -> (status, reason, last)."""
    people = {p["id"]: p for p in b["people.csv"]}
    act = {pid: active(p, as_of) for pid, p in people.items()}
    members_of = defaultdict(list)  # household -> members (counting member-household)
    delegates_of = defaultdict(list)  # member -> delegates (counting delegate-member)
    cms_of = defaultdict(list)  # delegate -> committee members (counting cm-delegate)
    for lk in b["liaisons.csv"]:
        if not counts_on(lk, as_of):
            continue
        if lk["kind"] == "member-household":
            members_of[lk["to_id"]].append(lk["from_id"])
        elif lk["kind"] == "delegate-member":
            delegates_of[lk["to_id"]].append(lk["from_id"])
        else:
            cms_of[lk["to_id"]].append(lk["from_id"])
    last: dict[str, date] = {}
    for c in b["contacts.csv"]:
        cd = d(c["date"])
        if cd <= as_of and (c["household_id"] not in last or cd > last[c["household_id"]]):
            last[c["household_id"]] = cd
    out = {}
    for h in b["households.csv"]:
        if not active(h, as_of):
            continue  # left out of every list
        hid = h["id"]
        lc = last.get(hid)
        ms = members_of.get(hid, [])
        if not ms:
            out[hid] = ("uncovered", "no_member", lc)
            continue
        ms = [m for m in ms if act[m]]
        if not ms:
            out[hid] = ("uncovered", "member_inactive", lc)
            continue
        ds = {dl for m in ms for dl in delegates_of.get(m, [])
              if act[dl] and "delegate" in roles(people[dl])}
        if not ds:
            out[hid] = ("uncovered", "no_delegate", lc)
            continue
        if not any(act[c] and "committee_member" in roles(people[c])
                   for dl in ds for c in cms_of.get(dl, [])):
            out[hid] = ("uncovered", "no_committee_member", lc)
            continue
        stale = lc is None or (as_of - lc).days > stale_after
        out[hid] = ("stale" if stale else "covered", None, lc)
    return out


def status_shares(b: dict[str, list[dict[str, str]]], as_of: date = TODAY) -> dict[str, float]:
    st = household_status(b, as_of)
    c = Counter(reason or status for status, reason, _ in st.values())
    return {k: c[k] / len(st) for k in sorted(c)}


def per_county_figures(b: dict[str, list[dict[str, str]]], county: str,
                       as_of: date = TODAY) -> dict[str, int]:
    """The source figures of one county: row counts, and counts of the people who are
    active and the pairings that count on ``as_of`` (COVERAGE_RULES "What holds on a
    date"), plus the rows behind them (``*_rows``) and the gaps."""
    def mine(rows, col="id"):
        return [r for r in rows if county_of(r[col]) == county]

    orgs = mine(b["organizations.csv"])
    units = mine(b["units.csv"])
    rows_people = mine(b["people.csv"])
    people = [p for p in rows_people if active(p, as_of)]
    villages = mine(b["villages.csv"])
    committees = [o for o in orgs if o["kind"] == "committee"]
    pairings = mine(b["pairings.csv"], "unit_id")
    live = [p for p in pairings if counts_on(p, as_of)]
    paired_units = {p["unit_id"] for p in live}
    sector = {u["id"]: u["sector"] for u in units}
    need = {v["id"] for v in villages if v["needs_pairing"] == "true"}
    paired_villages = {p["village_id"] for p in live}
    return {
        "townships": len(mine(b["townships.csv"])),
        "villages": len(villages),
        "villages_needing_pairing": sum(v["needs_pairing"] == "true" for v in villages),
        "committees": len(committees),
        "county_level_committees": sum(o["level"] in ("county", "unit") for o in committees),
        "township_committees": sum(o["level"] == "township" for o in committees),
        "branches": sum(o["kind"] in ("branch", "general_branch") for o in orgs),
        "village_branches": sum(o["kind"] != "committee" and o["level"] == "village"
                                for o in orgs),
        "people": len(people),
        "people_rows": len(rows_people),
        "village_people": sum(bool(p["village_id"]) for p in people),
        "cadres": sum("cadre" in roles(p) for p in people),
        "paired_units": len(paired_units),
        "units_rows": len(units),
        "idle_units": len(units) - len(paired_units),
        "agencies_institutions": sum(sector[u] in ("agency", "institution")
                                     for u in paired_units),
        "enterprises": sum(sector[u] == "enterprise" for u in paired_units),
        "paired_villages": len(paired_villages),
        "paired_villages_not_needing": len(paired_villages - need),
        "unpaired_villages": len(need - paired_villages),
    }


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def one(tmp_path_factory) -> tuple[Path, dict[str, int]]:
    folder = tmp_path_factory.mktemp("one")
    calls = []
    counts = generate_bundle(folder, counties=1, seed=1,
                             progress=lambda s, i, n: calls.append((s, i, n)))
    assert calls and calls[-1][1] == calls[-1][2]
    assert all(0 <= i <= n for _, i, n in calls)
    return folder, counts


@pytest.fixture(scope="module")
def bundle(one) -> dict[str, list[dict[str, str]]]:
    return load(one[0])


@pytest.fixture(scope="module")
def two(tmp_path_factory) -> tuple[Path, dict[str, int]]:
    folder = tmp_path_factory.mktemp("two")
    return folder, generate_bundle(folder, counties=2, seed=1)


# --------------------------------------------------------------------------- tests


def test_same_seed_same_bytes_other_seed_differs(one, tmp_path):
    folder, _ = one
    again = tmp_path / "again"
    generate_bundle(again, counties=1, seed=1)
    for name in HEADERS:
        assert (again / name).read_bytes() == (folder / name).read_bytes(), name
    other = tmp_path / "other"
    generate_bundle(other, counties=1, seed=2)
    assert (other / "people.csv").read_bytes() != (folder / "people.csv").read_bytes()
    assert (other / "contacts.csv").read_bytes() != (folder / "contacts.csv").read_bytes()


def test_overwrites_existing_csv(tmp_path):
    (tmp_path / "people.csv").write_text("junk\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("keep", encoding="utf-8")
    generate_bundle(tmp_path, counties=1, seed=3)
    assert (tmp_path / "people.csv").read_text(encoding="utf-8").startswith("id,name,roles,")
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "keep"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*HEADERS, "notes.txt"])


def test_file_format(one):
    folder, counts = one
    for name, header in HEADERS.items():
        raw = (folder / name).read_bytes()
        assert not raw.startswith(b"\xef\xbb\xbf"), name
        assert b"\r" not in raw, name
        text = raw.decode("utf-8")
        assert text.endswith("\n")
        rows = list(csv.reader(text.splitlines()))
        assert rows[0] == header, name
        assert len(rows) - 1 == counts[name], name
        assert all(len(r) == len(header) for r in rows), name


def test_returned_counts_and_source_figures(bundle, one):
    _, counts = one
    assert counts == {n: len(rows) for n, rows in bundle.items()}
    got = per_county_figures(bundle, "c01")
    # row counts and counts on today (active people, counting pairings) are exact
    for key in ("townships", "villages", "committees", "county_level_committees",
                "township_committees", "branches", "village_branches", "people",
                "paired_units", "agencies_institutions", "enterprises", "paired_villages"):
        assert got[key] == SOURCE_FIGURES[key], key
    assert got["cadres"] >= SOURCE_FIGURES["cadres_min"]
    assert got["village_people"] >= SOURCE_FIGURES["village_people_min"]
    # the gaps come on top of the source figures, not out of them
    people = bundle["people.csv"]
    left = sum(not active(p, TODAY) for p in people)
    assert left > 0 and got["people_rows"] == SOURCE_FIGURES["people"] + left
    assert 1 <= got["idle_units"] <= 2
    assert got["units_rows"] == SOURCE_FIGURES["paired_units"] + got["idle_units"]
    assert 2 <= got["unpaired_villages"] <= 3
    assert got["villages_needing_pairing"] == (SOURCE_FIGURES["paired_villages"]
                                               + got["unpaired_villages"])
    assert got["paired_villages_not_needing"] == 0  # every paired village needs a unit
    # pairing rows: only villages that need one (the unpaired had one that ended) and
    # every unit (the idle ones had one that ended); paired villages in all 12 townships
    need = {v["id"] for v in bundle["villages.csv"] if v["needs_pairing"] == "true"}
    assert {p["village_id"] for p in bundle["pairings.csv"]} == need
    assert {p["unit_id"] for p in bundle["pairings.csv"]} == {u["id"] for u in bundle["units.csv"]}
    assert all(d(p["until"]) < TODAY for p in bundle["pairings.csv"] if p["until"])
    town = {v["id"]: v["township_id"] for v in bundle["villages.csv"]}
    live = {p["village_id"] for p in bundle["pairings.csv"] if counts_on(p, TODAY)}
    assert len({town[v] for v in live}) == SOURCE_FIGURES["paired_townships"]


def test_summary_reproduces_source_document(tmp_path):
    """The product's own summary of a generated county, as of today, gives the figures
    of the source document exactly."""
    folder = tmp_path / "bundle"
    generate_bundle(folder, counties=1, seed=1)
    store = EmbeddedStore(tmp_path / "store")
    try:
        report = import_path(store, folder)
        assert report.ok and not report.errors and not report.warnings, report
        s = store.summary(TODAY)
    finally:
        store.close()
    assert s["townships"] == SOURCE_FIGURES["townships"] == 12
    assert s["villages"] == SOURCE_FIGURES["villages"] == 200
    assert s["organizations"]["committee"] == SOURCE_FIGURES["committees"] == 33
    assert (s["organizations"]["branch"] + s["organizations"]["general_branch"]
            == SOURCE_FIGURES["branches"] == 611)
    assert s["people"] == SOURCE_FIGURES["people"] == 13787
    assert s["paired_units"] == SOURCE_FIGURES["paired_units"] == 63
    assert s["paired_villages"] == SOURCE_FIGURES["paired_villages"] == 59
    assert 61 <= s["villages_needing_pairing"] <= 62  # + the 2-3 unpaired
    units = s["units"]  # every unit row, idle ones included
    assert units["enterprise"] >= SOURCE_FIGURES["enterprises"]
    assert 64 <= sum(units.values()) <= 65  # + the 1-2 idle
    assert units["agency"] + units["institution"] >= SOURCE_FIGURES["agencies_institutions"]
    assert s["pairings"] >= s["paired_units"]
    assert s["cadres"] >= SOURCE_FIGURES["cadres_min"]
    assert s["households"] > 9000 and s["focus_households"] > 0
    assert s["supports"] >= 1300
    assert s["contacts"] > 0
    assert s["requests_raised"] > s["requests_resolved"] > 0


def test_shape_of_people_and_households(bundle):
    people, hh = bundle["people.csv"], bundle["households.csv"]
    r = Counter(x for p in people for x in roles(p))
    assert 30 <= r["committee_member"] <= 40
    assert 280 <= r["delegate"] <= 320
    assert r["cadre"] >= 1300
    assert 0.01 <= sum(p["hardship"] == "true" for p in people) / len(people) <= 0.03
    inactive = [p for p in people if p["status"] == "inactive"]
    assert any(d(p["inactive_since"]) and d(p["inactive_since"]) <= TODAY for p in inactive)
    assert any(not p["inactive_since"] for p in inactive)
    assert any(d(p["inactive_since"]) and d(p["inactive_since"]) > TODAY for p in inactive)
    assert len(inactive) < 0.05 * len(people)
    assert 9000 <= len(hh) <= 11500
    focus = {"military_martyr", "extreme_poverty", "empty_nest_elderly"}
    cats = [set(h["categories"].split(";")) - {""} for h in hh]
    assert 0.2 <= sum(bool(c & focus) for c in cats) / len(hh) <= 0.3
    assert any(len(c & focus) >= 2 for c in cats)
    n_poor = sum("poor" in c for c in cats)
    assert n_poor >= 1300 and 0.12 <= n_poor / len(hh) <= 0.18
    assert all(1 <= int(h["size"]) <= 6 for h in hh)
    assert any(h["status"] == "inactive" for h in hh)
    n_contacts = len(bundle["contacts.csv"])
    assert 40_000 <= n_contacts <= 60_000
    req = [c for c in bundle["contacts.csv"] if c["request"]]
    assert 0.07 <= len(req) / n_contacts <= 0.13
    assert sum(c["resolved"] == "true" for c in req) > len(req) / 2


def check_integrity(b: dict[str, list[dict[str, str]]]) -> None:
    """Every reference valid, every liaison fits the roles, rows unique, dates ordered."""
    ids: dict[str, str] = {}
    for name in ENTITY_FILES:
        for row in b[name]:
            i = row["id"]
            assert 1 <= len(i) <= 64 and i == i.strip() and i.isprintable(), i
            assert i not in ids, f"id {i} in {name} and {ids.get(i)}"
            ids[i] = name
    kind = {i: n.removesuffix(".csv") for i, n in ids.items()}

    def ref(value: str, want: str, optional: bool = True) -> None:
        if not value:
            assert optional
            return
        assert kind.get(value) == want, (value, want)

    for v in b["villages.csv"]:
        ref(v["township_id"], "townships", False)
        assert v["needs_pairing"] in ("true", "false")
    for o in b["organizations.csv"]:
        assert o["kind"] in ("committee", "general_branch", "branch")
        assert o["level"] in ("county", "township", "village", "unit")
        ref(o["parent_id"], "organizations")
        ref(o["township_id"], "townships")
        ref(o["village_id"], "villages")
        if o["level"] == "village":
            assert o["village_id"] and o["parent_id"]
    for u in b["units.csv"]:
        assert u["sector"] in ("agency", "institution", "enterprise")
        ref(u["organization_id"], "organizations")
    for p in b["people.csv"]:
        assert roles(p) <= {"committee_member", "delegate", "cadre"}
        assert p["status"] in ("active", "inactive") and p["hardship"] in ("true", "false")
        if p["inactive_since"]:
            assert p["status"] == "inactive"
        ref(p["organization_id"], "organizations")
        ref(p["township_id"], "townships")
        ref(p["village_id"], "villages")
    for h in b["households.csv"]:
        ref(h["village_id"], "villages", False)
        assert set(h["categories"].split(";")) - {""} <= {
            "military_martyr", "extreme_poverty", "empty_nest_elderly", "poor"}
        assert h["status"] in ("active", "inactive")

    people = {p["id"]: p for p in b["people.csv"]}

    def dates_ok(row):
        for col in ("since", "until"):
            if row[col]:
                d(row[col])
        if row["since"] and row["until"]:
            assert d(row["until"]) > d(row["since"]), row

    seen = set()
    for lk in b["liaisons.csv"]:
        key = (lk["kind"], lk["from_id"], lk["to_id"])
        assert key not in seen, key
        seen.add(key)
        dates_ok(lk)
        f, t = lk["from_id"], lk["to_id"]
        if lk["kind"] == "committee_member-delegate":
            assert "committee_member" in roles(people[f]) and "delegate" in roles(people[t])
            assert f != t
        elif lk["kind"] == "delegate-member":
            assert "delegate" in roles(people[f]) and t in people and f != t
        else:
            assert lk["kind"] == "member-household"
            assert f in people and kind.get(t) == "households"
    seen = set()
    for p in b["pairings.csv"]:
        assert (p["unit_id"], p["village_id"]) not in seen
        seen.add((p["unit_id"], p["village_id"]))
        ref(p["unit_id"], "units", False)
        ref(p["village_id"], "villages", False)
        dates_ok(p)
    seen = set()
    for s in b["supports.csv"]:
        assert (s["person_id"], s["household_id"]) not in seen
        seen.add((s["person_id"], s["household_id"]))
        assert "cadre" in roles(people[s["person_id"]])
        ref(s["household_id"], "households", False)
        dates_ok(s)
    seen = set()
    for c in b["contacts.csv"]:
        key = tuple(c.values())
        assert key not in seen, key
        seen.add(key)
        ref(c["person_id"], "people", False)
        ref(c["household_id"], "households", False)
        d(c["date"])
        assert c["channel"] in ("visit", "phone", "meeting", "other")
        assert c["resolved"] in ("true", "false")
        if not c["request"]:
            assert c["resolved"] == "false"


def test_integrity_one_county(bundle):
    check_integrity(bundle)


def test_two_counties_double_and_do_not_clash(two, one, bundle):
    folder, counts = two
    _, counts1 = one
    b2 = load(folder)
    check_integrity(b2)  # ids unique across all files of both counties
    assert counts == {n: len(rows) for n, rows in b2.items()}
    for c in ("c01", "c02"):
        assert per_county_figures(b2, c)["people"] == SOURCE_FIGURES["people"], c
        assert per_county_figures(b2, c)["paired_villages"] == SOURCE_FIGURES["paired_villages"]
    for name in ("townships.csv", "villages.csv", "organizations.csv"):
        assert counts[name] == 2 * counts1[name], name
    for c in ("c01", "c02"):  # 63 paired units + 1-2 idle ones, drawn per county
        assert 64 <= per_county_figures(b2, c)["units_rows"] <= 65, c
    for key in ("townships", "villages", "committees", "branches", "paired_units"):
        assert per_county_figures(b2, "c01")[key] == per_county_figures(b2, "c02")[key]
    assert {county_of(p["id"]) for p in b2["people.csv"]} == {"c01", "c02"}
    # county 1 is the same whatever the number of counties
    first = {n: [r for r in rows if county_of(next(iter(r.values())) if n != "liaisons.csv"
                                              else r["from_id"]) == "c01"]
             for n, rows in b2.items()}
    assert first == bundle
    # links never cross counties
    for lk in b2["liaisons.csv"]:
        assert county_of(lk["from_id"]) == county_of(lk["to_id"])
    for c in b2["contacts.csv"]:
        assert county_of(c["person_id"]) == county_of(c["household_id"])


def test_every_household_status_and_gap_kind_present(bundle):
    st = household_status(bundle, TODAY)
    shares = status_shares(bundle)
    for kind in ("no_member", "member_inactive", "no_delegate", "no_committee_member",
                 "stale", "covered"):
        assert shares.get(kind, 0) > 0, kind
    assert shares["covered"] >= 0.8
    assert 0.02 <= shares["no_member"] <= 0.05
    assert 0.04 <= shares["stale"] <= 0.09
    lasts = {(s, lc) for s, _, lc in st.values()}
    assert ("covered", TODAY - timedelta(90)) in lasts  # exactly 90 days: still covered
    assert ("stale", TODAY - timedelta(91)) in lasts  # 91 days: stale
    assert any(s == "stale" and lc is None for s, _, lc in st.values())  # never contacted
    # contacts planned after today, up to a month ahead; one of them to a stale household
    future = [c for c in bundle["contacts.csv"] if d(c["date"]) > TODAY]
    assert future and all(d(c["date"]) <= date(2026, 7, 31) for c in future)
    assert any(st.get(c["household_id"], ("",))[0] == "stale" for c in future)


def test_audit_gaps_present(bundle):
    """Delegates with too few members, members with too few households, committee members
    without delegates, unpaired villages and idle units, as of today."""
    people = {p["id"]: p for p in bundle["people.csv"]}
    act = {i: active(p, TODAY) for i, p in people.items()}
    live = [lk for lk in bundle["liaisons.csv"] if counts_on(lk, TODAY)]
    members_of = defaultdict(set)
    hh_of = defaultdict(int)
    dels_of_cm = defaultdict(set)
    for lk in live:
        if lk["kind"] == "delegate-member" and act[lk["to_id"]]:
            members_of[lk["from_id"]].add(lk["to_id"])
        elif lk["kind"] == "member-household":
            hh_of[lk["from_id"]] += 1
        elif act[lk["to_id"]] and "delegate" in roles(people[lk["to_id"]]):
            dels_of_cm[lk["from_id"]].add(lk["to_id"])
    delegates = [i for i, p in people.items() if act[i] and "delegate" in roles(p)]
    short = [i for i in delegates if len(members_of[i]) < 10]
    assert 3 <= len(short) <= 0.15 * len(delegates)
    members = {lk["to_id"] for lk in live if lk["kind"] == "delegate-member"} | {
        lk["from_id"] for lk in live if lk["kind"] == "member-household"}
    few = [m for m in members if act[m] and hh_of[m] < 3]
    assert 10 <= len(few) <= 0.1 * len(members)
    cms = [i for i, p in people.items() if act[i] and "committee_member" in roles(p)]
    assert 1 <= sum(not dels_of_cm[c] for c in cms) <= 3
    need = {v["id"] for v in bundle["villages.csv"] if v["needs_pairing"] == "true"}
    paired_now = [p for p in bundle["pairings.csv"] if counts_on(p, TODAY)]
    unpaired = need - {p["village_id"] for p in paired_now}
    idle = {u["id"] for u in bundle["units.csv"]} - {p["unit_id"] for p in paired_now}
    assert 2 <= len(unpaired) <= 3
    assert 1 <= len(idle) <= 2
    # every cadre who is active supports a poor household (some two)
    sup = Counter(s["person_id"] for s in bundle["supports.csv"])
    cadres = [i for i, p in people.items() if "cadre" in roles(p)]
    assert all(sup[c] >= 1 for c in cadres)
    assert any(sup[c] == 2 for c in cadres)
    poor = {h["id"] for h in bundle["households.csv"] if "poor" in h["categories"]}
    assert all(s["household_id"] in poor for s in bundle["supports.csv"])
