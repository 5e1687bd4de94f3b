"""Generated data for the property tests: Hypothesis bundles (small counties with every
awkward case), the dates they use and ask about, and importing a drawn bundle.

``bundles`` makes small counties with inactive people at every level, people with several
roles, cycles, duplicate rows, shared households, contacts after ``as_of`` and dates on the
bounds. ``rule_bundles`` extends them with what the rules care about: organisations (so that a
person's township may come from their organisation), people with several roles, inactive people
and households on both sides of each ``as_of``, delegate-member cycles both ways, households
shared by several members, duplicate rows, contacts after ``as_of`` and exactly on the stale
bound, and a second import that takes roles away from people who already start liaisons.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from graphsvc.bundle.schema import LIAISON_KINDS, ORG_KINDS, ORG_LEVELS
from graphsvc.bundle.writer import write_bundle
from graphsvc.importer import import_path
from graphsvc.rules import RuleSettings
from graphsvc.stores.base import Store

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


# 2025-07-20, 2026-01-01, 2026-06-30: all also dates in the data
AS_OFS = [DAYS[2], DAYS[4], DAYS[6]]
VARIANTS = [RuleSettings(), RuleSettings(min_members_per_delegate=2, households_per_member=1,
                                         stale_after_days=30)]
# contacts on, just inside and just outside each stale bound, and on and after each as_of
CONTACT_DAYS = sorted({d + dt.timedelta(days=k) for d in AS_OFS
                       for k in (-91, -90, -31, -30, 0, 1)})
ROLES = ["committee_member", "delegate", "cadre"]


@st.composite
def rule_bundles(draw: st.DrawFn) -> tuple[dict[str, list[dict[str, Any]]], list[dict[str, Any]]]:
    """(bundle, people after a second import that changes some roles)."""
    data = draw(bundles())
    tids = [t["id"] for t in data["townships"]]
    vids = [v["id"] for v in data["villages"]]
    orgs = [{"id": f"O{i}", "name": f"支部{i}", "kind": draw(st.sampled_from(ORG_KINDS)),
             "level": draw(st.sampled_from(ORG_LEVELS)), "parent_id": None,
             "township_id": draw(st.one_of(st.none(), st.sampled_from(tids))),
             "village_id": draw(st.one_of(st.none(), st.sampled_from(vids)))}
            for i in range(draw(st.integers(0, 3)))]
    data["organizations"] = orgs
    oids = [o["id"] for o in orgs]
    people = data["people"]
    # more people: several roles each, inactive on every side of the as_of dates
    for i in range(len(people), len(people) + draw(st.integers(0, 4))):
        status = draw(st.sampled_from(["active", "inactive"]))
        people.append({
            "id": f"P{i}", "name": f"人{i}",
            "roles": draw(st.lists(st.sampled_from(ROLES), min_size=2, unique=True)),
            "status": status,
            "inactive_since": (draw(st.one_of(st.none(), st.sampled_from(DAYS + CONTACT_DAYS)))
                               if status == "inactive" else None),
            "hardship": draw(st.booleans()), "village_id": None})
    for p in people:  # the township rule: own township, else village, else organisation
        p["organization_id"] = draw(st.one_of(st.none(), st.sampled_from(oids))) if oids else None
        p["township_id"] = draw(st.one_of(st.none(), st.none(), st.sampled_from(tids)))
    for u in data["units"]:
        u["organization_id"] = draw(st.one_of(st.none(), st.sampled_from(oids))) if oids else None
    pids = [p["id"] for p in people]
    hids = [h["id"] for h in data["households"]]
    dels = [p["id"] for p in people if "delegate" in p["roles"]]
    cms = [p["id"] for p in people if "committee_member" in p["roles"]]

    def span() -> tuple[dt.date | None, dt.date | None]:
        s = draw(st.one_of(st.none(), st.sampled_from(DAYS)))
        u = draw(st.one_of(st.none(), st.sampled_from(DAYS)))
        return (s, u) if s is None or u is None or u > s else (s, None)

    liaisons = data["liaisons"]
    # cycles: delegate-member both ways between two delegates; committee member <-> delegate
    if len(dels) >= 2 and draw(st.booleans()):
        a, b = draw(st.permutations(dels))[:2]
        liaisons += [{"kind": "delegate-member", "from_id": a, "to_id": b,
                      "since": None, "until": None},
                     {"kind": "delegate-member", "from_id": b, "to_id": a,
                      "since": None, "until": None}]
    both = [p for p in cms if p in dels]
    if both and len(dels) >= 2 and draw(st.booleans()):
        a = draw(st.sampled_from(both))
        b = draw(st.sampled_from([d for d in dels if d != a]))
        liaisons.append({"kind": "committee_member-delegate", "from_id": a, "to_id": b,
                         "since": None, "until": None})
        if b in cms:
            liaisons.append({"kind": "committee_member-delegate", "from_id": b, "to_id": a,
                             "since": None, "until": None})
    # a household shared by several members
    if len(pids) >= 2 and draw(st.booleans()):
        h = draw(st.sampled_from(hids))
        for m in draw(st.lists(st.sampled_from(pids), min_size=2, max_size=4, unique=True)):
            s, u = span()
            liaisons.append({"kind": "member-household", "from_id": m, "to_id": h,
                             "since": s, "until": u})
    # a full chain, so that some households are covered
    if dels and cms and draw(st.booleans()):
        c, d_ = draw(st.sampled_from(cms)), draw(st.sampled_from(dels))
        m, h = draw(st.sampled_from(pids)), draw(st.sampled_from(hids))
        if c != d_ and d_ != m:
            liaisons += [{"kind": "committee_member-delegate", "from_id": c, "to_id": d_,
                          "since": None, "until": None},
                         {"kind": "delegate-member", "from_id": d_, "to_id": m,
                          "since": None, "until": None},
                         {"kind": "member-household", "from_id": m, "to_id": h,
                          "since": None, "until": None}]
    # duplicate rows: the later row's dates are used
    for row in draw(st.lists(st.sampled_from(liaisons), max_size=3)) if liaisons else []:
        s, u = span()
        liaisons.append({**row, "since": s, "until": u})
    # contacts on the stale bounds and after as_of; some duplicated
    contacts = data["contacts"]
    for _ in range(draw(st.integers(0, 12))):
        contacts.append({"person_id": draw(st.sampled_from(pids)),
                         "household_id": draw(st.sampled_from(hids)),
                         "date": draw(st.sampled_from(CONTACT_DAYS)),
                         "channel": draw(st.sampled_from(["visit", "phone", "meeting", "other"])),
                         "request": draw(st.sampled_from([None, "申请低保"])),
                         "resolved": draw(st.booleans())})
    contacts += draw(st.lists(st.sampled_from(contacts), max_size=2)) if contacts else []
    # a second import: some people lose roles they start liaisons with
    later = []
    for p in people:
        if p["roles"] and draw(st.integers(0, 4)) == 0:
            later.append({**p, "roles": draw(st.lists(st.sampled_from(p["roles"]), unique=True))})
    return data, later


def import_drawn(store: Store, data: dict[str, list[dict[str, Any]]], later: list[dict[str, Any]],
          folder: Path) -> None:
    """Import a drawn bundle into ``store`` (written under ``folder``), then its second import
    of ``later`` people, when there is one."""
    write_bundle(data, folder / "in")
    r = import_path(store, folder / "in")
    assert r.ok, [str(p) for p in r.errors]
    if later:
        write_bundle({"people": later}, folder / "later")
        r = import_path(store, folder / "later")
        assert r.ok, [str(p) for p in r.errors]


@contextmanager
def drawn_in_both(data: dict[str, list[dict[str, Any]]], later: list[dict[str, Any]],
                  neo: Store) -> Iterator[Store]:
    """A drawn bundle (and its ``later`` people) imported into a new embedded store, which is
    yielded and closed afterwards, and into the Neo4j store ``neo``, emptied first."""
    from graphsvc.stores.embedded import EmbeddedStore
    from tests_support import clear

    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        emb = EmbeddedStore(t / "emb")
        try:
            clear(neo)
            import_drawn(emb, data, later, t / "a")
            import_drawn(neo, data, later, t / "b")
            yield emb
        finally:
            emb.close()
