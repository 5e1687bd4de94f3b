"""Random bundles: both stores hold the same records and give the same summary.

Hypothesis makes small counties with inactive people at every level, people
with several roles, cycles, duplicate rows, shared households, contacts after
``as_of`` and dates on the bounds; each is imported into the embedded store and
into Neo4j, and the two must export the same bytes and count the same.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graphsvc.bundle.schema import FILES, LIAISON_KINDS
from graphsvc.bundle.writer import write_bundle
from graphsvc.importer import export_path, import_path
from graphsvc.stores.embedded import EmbeddedStore

DAYS = [dt.date(2025, 1, 1) + dt.timedelta(days=d) for d in (0, 100, 200, 300, 365, 400, 545)]
dates = st.sampled_from(DAYS)
opt_dates = st.one_of(st.none(), dates)
# names that a spreadsheet would run as formulas, or that look like the export's escape of one
lead = st.sampled_from(["", "", "", "=", "+", "-", "@", "'", "''", "'=", "\t", "\r=", "\n"])


@st.composite
def bundles(draw: st.DrawFn) -> dict[str, list[dict[str, Any]]]:
    n_t = draw(st.integers(1, 3))
    townships = [{"id": f"T{i}", "name": draw(lead) + f"镇{i}"} for i in range(n_t)]
    villages = [{"id": f"V{i}", "name": draw(lead) + f"村{i}",
                 "township_id": f"T{draw(st.integers(0, n_t - 1))}",
                 "needs_pairing": draw(st.booleans())} for i in range(draw(st.integers(1, 5)))]
    vids = [v["id"] for v in villages]
    people = []
    for i in range(draw(st.integers(2, 14))):
        status = draw(st.sampled_from(["active", "active", "inactive"]))
        people.append({
            "id": f"P{i}", "name": draw(lead) + f"人{i}",
            "roles": draw(st.lists(st.sampled_from(["committee_member", "delegate", "cadre"]),
                                   unique=True)),
            "status": status, "inactive_since": draw(opt_dates) if status == "inactive" else None,
            "hardship": draw(st.booleans()),
            "village_id": draw(st.one_of(st.none(), st.sampled_from(vids))),
        })
    households = []
    for i in range(draw(st.integers(1, 14))):
        status = draw(st.sampled_from(["active", "active", "active", "inactive"]))
        households.append({
            "id": f"H{i}", "head_name": draw(lead) + f"户{i}",
            "village_id": draw(st.sampled_from(vids)),
            "categories": draw(st.lists(st.sampled_from(["military_martyr", "extreme_poverty",
                                                         "empty_nest_elderly", "poor"]),
                                        unique=True)),
            "size": draw(st.one_of(st.none(), st.integers(1, 6))), "status": status,
            "inactive_since": draw(opt_dates) if status == "inactive" else None,
        })
    cms = [p["id"] for p in people if "committee_member" in p["roles"]]
    dels = [p["id"] for p in people if "delegate" in p["roles"]]
    pids = [p["id"] for p in people]
    hids = [h["id"] for h in households]

    def span() -> tuple[dt.date | None, dt.date | None]:
        s, u = draw(opt_dates), draw(opt_dates)
        if s is not None and u is not None and not u > s:
            u = None
        return s, u

    liaisons = []
    for _ in range(draw(st.integers(0, 30))):
        kind = draw(st.sampled_from(LIAISON_KINDS))
        if kind == "committee_member-delegate":
            if not cms or not dels:
                continue
            a, b = draw(st.sampled_from(cms)), draw(st.sampled_from(dels))
        elif kind == "delegate-member":
            if not dels:
                continue
            a, b = draw(st.sampled_from(dels)), draw(st.sampled_from(pids))  # cycles allowed
        else:
            a, b = draw(st.sampled_from(pids)), draw(st.sampled_from(hids))
        if a == b:
            continue
        s, u = span()
        liaisons.append({"kind": kind, "from_id": a, "to_id": b, "since": s, "until": u})
    units = [{"id": f"U{i}", "name": f"单位{i}",
              "sector": draw(st.sampled_from(["agency", "institution", "enterprise"]))}
             for i in range(draw(st.integers(0, 3)))]
    pairings = []
    for u in units:
        for v in draw(st.lists(st.sampled_from(vids), max_size=2)):
            s, e = span()
            pairings.append({"unit_id": u["id"], "village_id": v, "since": s, "until": e})
    supports = []
    for _ in range(draw(st.integers(0, 5))):
        s, u = span()
        supports.append({"person_id": draw(st.sampled_from(pids)),
                         "household_id": draw(st.sampled_from(hids)),
                         "since": s, "until": u})
    contacts = []
    for _ in range(draw(st.integers(0, 20))):
        contacts.append({"person_id": draw(st.sampled_from(pids)),
                         "household_id": draw(st.sampled_from(hids)),
                         "date": draw(dates),
                         "channel": draw(st.sampled_from(["visit", "phone", "meeting", "other"])),
                         "request": draw(st.sampled_from([None, "申请低保", "a,b \"c\"",
                                                          "=cmd|' /C calc'!A0", "'=1+1", "+86"])),
                         "resolved": draw(st.booleans())})
    return {"townships": townships, "villages": villages, "people": people,
            "households": households, "liaisons": liaisons, "units": units, "pairings": pairings,
            "supports": supports, "contacts": contacts}


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=bundles())
def test_both_stores_hold_and_count_the_same(data: dict[str, list[dict[str, Any]]],
                                             neo4j_shared) -> None:
    from tests_support import clear

    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        write_bundle(data, t / "in")
        emb = EmbeddedStore(t / "emb")
        try:
            r1 = import_path(emb, t / "in")
            assert r1.ok, [str(p) for p in r1.errors]
            clear(neo4j_shared)
            r2 = import_path(neo4j_shared, t / "in")
            assert r2.ok, [str(p) for p in r2.errors]
            assert [str(w) for w in r1.warnings] == [str(w) for w in r2.warnings]
            export_path(emb, t / "emb_out")
            export_path(neo4j_shared, t / "neo_out")
            for spec in FILES:
                assert (t / "emb_out" / spec.filename).read_bytes() == \
                    (t / "neo_out" / spec.filename).read_bytes(), spec.name
            for day in DAYS:
                assert emb.summary(day) == neo4j_shared.summary(day), day
            # importing the same bundle again changes nothing, on both
            assert import_path(neo4j_shared, t / "in").ok
            export_path(neo4j_shared, t / "neo_again")
            for spec in FILES:
                assert (t / "neo_out" / spec.filename).read_bytes() == \
                    (t / "neo_again" / spec.filename).read_bytes(), spec.name
        finally:
            emb.close()
