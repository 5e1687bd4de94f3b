"""The diagram views: each a function of a store returning one HTML page.

Data comes only through the ``Store`` interface (``graphsvc.stores.base``), so every
view works on both stores. Views:

- ``chain_view``: one committee member down to households (top-down levels);
- ``delegate_view``: one delegate, the committee members above, members and households below;
- ``member_view``: one Party member, the delegates and committee members above, households below;
- ``household_view``: everyone who supports one household, and where its chain breaks;
- ``pairings_view``: units ↔ villages of a township or the county (left-right);
- ``township_view``: villages sized by households and coloured by coverage, with paired
  units and delegates; for the county, townships instead (never thousands of households).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from typing import Any

from graphsvc.errors import NotFound
from graphsvc.model import (
    Category,
    ChainLevel,
    CommitteeMemberProblem,
    DelegateProblem,
    HouseholdStatus,
    Kind,
    LiaisonKind,
    MemberProblem,
    RecordStatus,
    Role,
    Sector,
    UncoveredReason,
    is_active,
    label_of,
)
from graphsvc.rules import RuleSettings
from graphsvc.stores.base import Store
from visual.cache import CachedStore, cached
from visual.render import MAX_NODES, Diagram, Layer, LegendItem, Link, served_link

# -- words and colours ----------------------------------------------------------------------------
#
# Every word of the domain a page shows is its label in graphsvc.model (tests/test_vocabulary.py).

COVERED_ZH, STALE_ZH, UNCOVERED_ZH = (s.label for s in HouseholdStatus)
CM_ZH, DELEGATE_ZH, MEMBER_ZH = (Role.committee_member.label, Role.delegate.label,
                                 ChainLevel.member.label)
CADRE_ZH, HOUSEHOLD_ZH, VILLAGE_ZH, UNIT_ZH, TOWNSHIP_ZH = (
    Role.cadre.label, Kind.HOUSEHOLD.label, Kind.VILLAGE.label, Kind.UNIT.label,
    Kind.TOWNSHIP.label)
LEFT_ZH = RecordStatus.inactive.label_of(Kind.PERSON)  # a person who is not active: 不在岗
GONE_ZH = RecordStatus.inactive.label_of(Kind.HOUSEHOLD)  # a household that is not: 不在册


def reason_zh(reason: str | None) -> str:
    """How an uncovered household is shown: 未覆盖 and its reason's label."""
    return f"{UNCOVERED_ZH}：{label_of(UncoveredReason, reason)}"


COVERED, STALE = "#43a047", "#fbc02d"
REASON_COLOR = {"no_member": "#e53935", "member_inactive": "#d81b60",
                "no_delegate": "#fb8c00", "no_committee_member": "#8e24aa"}
INACTIVE_HH = "#bdbdbd"
CM_COLOR, DELEGATE_COLOR, MEMBER_COLOR, CADRE_COLOR = "#1a237e", "#1e88e5", "#26a69a", "#6d4c41"
GAP_BORDER = "#d50000"
INACTIVE_PERSON = "#9e9e9e"
BREAK_COLOR = "#ffebee"
SECTOR_STYLE = {"agency": ("#3949ab", "box"), "institution": ("#00897b", "ellipse"),
                "enterprise": ("#ef6c00", "diamond")}
IDLE_UNIT = "#e0e0e0"
VILLAGE_OK, VILLAGE_NEEDS, VILLAGE_PLAIN = "#66bb6a", "#e53935", "#b0bec5"
SHARE_BINS = [(0.9, "#2e7d32", "覆盖率 ≥ 90%"), (0.6, "#9ccc65", "60–90%"),
              (0.3, "#ffa726", "30–60%"), (0.0, "#e53935", "< 30%")]
NO_HOUSEHOLDS = "#cfd8dc"
OUTSIDE = "#eceff1"

ViewFn = Callable[..., str]


def _household_color(row: dict[str, Any] | None) -> tuple[str, str]:
    if row is None or row.get("status") is None:
        return INACTIVE_HH, f"{GONE_ZH}（已注销）"
    if row["status"] == "covered":
        return COVERED, COVERED_ZH
    if row["status"] == "stale":
        return STALE, STALE_ZH
    reason = row.get("reason") or "no_member"
    return REASON_COLOR.get(reason, "#e53935"), reason_zh(reason)


def _household_legend() -> list[LegendItem]:
    return ([LegendItem(COVERED_ZH, COVERED), LegendItem(f"{STALE_ZH}（超期未走访）", STALE)]
            + [LegendItem(reason_zh(r), c) for r, c in REASON_COLOR.items()])


def _people_legend() -> list[LegendItem]:
    return [LegendItem(CM_ZH, CM_COLOR, "box"), LegendItem(DELEGATE_ZH, DELEGATE_COLOR, "box"),
            LegendItem(MEMBER_ZH, MEMBER_COLOR),
            LegendItem("有缺口（红框）", "#ffffff", "box", GAP_BORDER),
            LegendItem(LEFT_ZH, INACTIVE_PERSON)]


def _share_color(covered: int, total: int) -> str:
    if total == 0:
        return NO_HOUSEHOLDS
    share = covered / total
    return next(c for floor, c, _ in SHARE_BINS if share >= floor)


def _share_legend() -> list[LegendItem]:
    return ([LegendItem(label, color) for _, color, label in SHARE_BINS]
            + [LegendItem("无在册户", NO_HOUSEHOLDS)])


def mask_name(name: str | None, mask: bool) -> str:
    """``王**`` for ``王小明`` when masking (API.md); the name itself otherwise."""
    if not name:
        return ""
    return name[0] + "**" if mask else name


class _Scope:
    """What a key limited to townships may see on a page: people and households of its
    townships. Anyone else in a chain is drawn as an anonymous stand-in (no name, no id, no
    link), so the shape of the chain stays visible without revealing who is there."""

    def __init__(self, townships: Collection[str] | None) -> None:
        self.townships = None if townships is None else frozenset(townships)
        self._aliases: dict[str, str] = {}

    def sees(self, township_id: str | None) -> bool:
        return self.townships is None or township_id in self.townships

    def alias(self, nid: str) -> str:
        """A stand-in node id for someone outside, the same one for the same person."""
        return self._aliases.setdefault(nid, f"__outside__:{len(self._aliases) + 1}")

    def stand_in(self, d: Diagram, nid: str, role: str, level: int | None = None,
                 parent: str | None = None) -> str:
        """Draw (once) the stand-in for ``nid`` and return its node id."""
        aid = self.alias(nid)
        if aid not in d:
            d.node(aid, f"{role}（其他乡镇）", tip=f"{role}：不在本密钥可见的乡镇，不显示姓名",
                   color=OUTSIDE, shape="box" if role != HOUSEHOLD_ZH else "dot", level=level,
                   parent=parent, dashes=True)
        return aid


def _categories(cats: Iterable[str]) -> str:
    return "、".join(label_of(Category, c) for c in cats) or "普通户"


def _person(store: Store, pid: str) -> dict[str, Any]:
    found = store.fetch_entities([pid]).get(pid)
    if found is None or found[0].value != "person":
        raise NotFound(f"no person with id '{pid}'")
    return dict(found[1])


def _is_active_person(rec: dict[str, Any], as_of: dt.date) -> bool:
    return bool(is_active(rec, as_of))


# -- the chain below delegates (shared by the chain and delegate views) -------------------------


def _rows(rows: Iterable[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    return {r[key]: r for r in rows}


RISK_TOP = 20  # people marked as single points of failure on a page: the top of the ranking
RISK_COLOR = "#ff6f00"


def risks_of(store: Any, as_of: dt.date, rules: RuleSettings,
           township_id: str | None = None) -> dict[str, tuple[int, dict[str, Any]]]:
    """The top of the single-points-of-failure ranking (``graphsvc.analysis.risks``) of the
    county or a township: person id -> (rank, row). Kept until the data changes."""
    from graphsvc.analysis.risks import page

    rows = store.memo("risks", (as_of, rules, township_id),
                      lambda: page(store.inner, as_of, rules, township_id=township_id,
                                   limit=RISK_TOP)[1])
    return {r["person_id"]: (i + 1, r) for i, r in enumerate(rows)}


def _risk_tip(risk: tuple[int, dict[str, Any]] | None) -> str:
    if risk is None:
        return ""
    rank, r = risk
    return (f"\n⚑ 关键人（第 {rank} 位）：若离开，{r['households_lost']} 户失去覆盖"
            f"（重点户 {r['focus_households_lost']}）")


def _risk_legend() -> list[LegendItem]:
    return [LegendItem(f"⚑ 关键人：离开影响最大的前 {RISK_TOP} 人（橙框）", "#ffffff", "box",
                       RISK_COLOR)]


# -- open requests beside households -------------------------------------------------------------

REQUEST_STATE = {  # an open request by its age (where it is due): colour, words
    "member": ("#29b6f6", "未逾期（由党员处理）"),
    "delegate": ("#ff9800", "逾期：已升至党代表"),
    "committee_member": ("#e64a19", "逾期较久：已升至县委委员"),
    "unrouted": ("#6a1b9a", "无人接手：该户链条上各级都无在岗的人"),
}
REQUEST_LABEL_CHARS = 8


def _escalate(escalate_after_days: int | None) -> int:
    if escalate_after_days is not None:
        return escalate_after_days
    from graphsvc.config import get_settings

    return get_settings().escalate_after_days


def _open_requests(store: Any, household_ids: Iterable[str], as_of: dt.date, rules: RuleSettings,
                   escalate_after_days: int
                   ) -> tuple[dict[str, list[dict[str, Any]]], dict[str, str | None]]:
    """Open requests on ``as_of`` of these households (``graphsvc.analysis.requests``), by
    household, and the township of each person they name. Kept until the data changes."""
    from graphsvc.analysis.requests import open_of_households

    ids = tuple(sorted(set(household_ids)))
    if not ids:
        return {}, {}
    items, towns = store.memo(
        "open_requests", (ids, as_of, rules, escalate_after_days),
        lambda: open_of_households(store.inner, ids, as_of, rules,
                                   escalate_after_days=escalate_after_days))
    by_household: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for i in items:
        by_household[i["household_id"]].append(i)
    return dict(by_household), towns


def _rec(found: dict[str, Any], rid: str) -> dict[str, Any]:
    """The record of ``rid`` in a ``fetch_entities`` answer (empty when not found)."""
    got = found.get(rid)
    return dict(got[1]) if got else {}


def _request_state(item: dict[str, Any]) -> str:
    return "unrouted" if item["level"] is None else item["due_level"]


def _late_and_lost(items: list[dict[str, Any]]) -> tuple[int, int]:
    """How many of these open requests are overdue, and how many nobody holds."""
    return (sum(1 for i in items if i["overdue"]), sum(1 for i in items if i["level"] is None))


def _requests_line(items: list[dict[str, Any]]) -> str:
    """A line for a household's hover text: its open requests in numbers."""
    if not items:
        return ""
    late, lost = _late_and_lost(items)
    return (f"\n未办结诉求：{len(items)} 件" + (f"（逾期 {late} 件）" if late else "")
            + (f"，{lost} 件无人接手" if lost else ""))


def _request_nodes(d: Diagram, store: Any, by_household: dict[str, list[dict[str, Any]]],
                   towns: dict[str, str | None], level: int, *, scope: _Scope, mask: bool,
                   escalate_after_days: int) -> None:
    """A triangle per open request below its household (when the household is drawn): coloured
    by where the request is (in time with the members, overdue with a delegate or a committee
    member, or nobody there), linked (dashed) to whoever holds it now when they are drawn.
    The text is the household's personal data: masked like its name (``mask``)."""
    from graphsvc.analysis.requests import mask_request

    people = sorted({p for items in by_household.values() for i in items
                     for p in (*i["routed_to"], *i["raised_by"])})
    recs = store.fetch_entities(people) if people else {}

    def who(pid: str, role: str) -> str:
        if not scope.sees(towns.get(pid)):
            return f"{role or '人员'}（其他乡镇，不显示姓名）"
        name = _rec(recs, pid).get("name") or pid
        return f"{role} {name}（{pid}）".strip()

    for hid in sorted(by_household):
        if hid not in d:
            continue
        for n, item in enumerate(by_household[hid], 1):
            state = _request_state(item)
            color, words = REQUEST_STATE[state]
            text = (mask_request(item["request"]) if mask else item["request"]) or ""
            short = text if len(text) <= REQUEST_LABEL_CHARS else text[:REQUEST_LABEL_CHARS] + "…"
            holder = label_of(ChainLevel, item["level"])
            tip = [f"诉求：{text}",
                   (f"提出：{item['raised']}（已 {item['age_days']} 天；"
                    f"联系 {item['contacts']} 次，最近 {item['last_contact']}）"),
                   f"状态：{words}"
                   + (f"（超过 {escalate_after_days} 天）" if item["overdue"] else "")]
            if item["level"] is None:
                tip.append("现由：无人（该户链条上各级都不在岗）")
            else:
                tip.append("现由：" + "、".join(who(p, holder) for p in item["routed_to"]))
            if item["chain_broken"]:
                tip.append(f"按时限应由{label_of(ChainLevel, item['due_level'])}处理，"
                           "该级无在岗的人，"
                           + (f"已转{holder}" if holder else "无人可转"))
            tip.append("记录人：" + "、".join(who(p, "") for p in item["raised_by"]))
            # numbered within its household: request_id is a digest of the text (masked here)
            rid = f"__request__:{hid}:{n}"
            if not d.node(rid, f"诉求 {short}\n{item['age_days']} 天", tip="\n".join(tip),
                          color=color, shape="triangle", size=11, level=level, parent=hid,
                          border=GAP_BORDER if item["chain_broken"] else None,
                          border_width=3 if item["chain_broken"] else 1):
                continue
            d.edge(hid, rid, color=color, width=2)
            for p in item["routed_to"]:
                node = p if scope.sees(towns.get(p)) else scope.alias(p)
                if node in d:
                    d.edge(rid, node, color=color, dashes=True, width=1.5, curved=True,
                           tip=f"诉求现由{holder}处理")


def _request_notes(by_household: dict[str, list[dict[str, Any]]],
                   person_id: str | None) -> list[str]:
    """The open requests of a page in one line (and how many the page's person holds)."""
    items = [i for v in by_household.values() for i in v]
    if not items:
        return []
    late, lost = _late_and_lost(items)
    mine = sum(1 for i in items if person_id in i["routed_to"]) if person_id else None
    return [f"未办结诉求 {len(items)} 件" + (f"，其中逾期 {late} 件" if late else "")
            + (f"，无人接手 {lost} 件" if lost else "")
            + (f"；现由本人处理 {mine} 件" if mine is not None else "")]


def _request_legend(escalate_after_days: int) -> list[LegendItem]:
    e = escalate_after_days
    words = {"member": f"诉求未逾期（不满 {e} 天）",
             "delegate": f"诉求逾期 {e}–{2 * e - 1} 天：升至党代表",
             "committee_member": f"诉求逾期 ≥{2 * e} 天：升至县委委员",
             "unrouted": "诉求无人接手（链条全断）"}
    return ([LegendItem(words[k], c, "triangle") for k, (c, _) in REQUEST_STATE.items()]
            + [LegendItem("诉求：该级无人，已越级（红框）", "#ffffff", "box", GAP_BORDER)])


def _draw_below_delegates(d: Diagram, store: Store, delegate_parents: dict[str, list[str]],
                          delegate_rows: dict[str, dict[str, Any]], level: int, *, as_of: dt.date,
                          rules: RuleSettings, mask: bool, link: Link, scope: _Scope,
                          risks: dict[str, tuple[int, dict[str, Any]]] | None = None,
                          escalate_after_days: int | None = None
                          ) -> dict[str, list[dict[str, Any]]]:
    """The delegates (each below its parents), their members and the members' households;
    with ``escalate_after_days``, the households' open requests below them too."""
    members: list[str] = []
    for did in delegate_parents:
        for m in (delegate_rows.get(did) or {}).get("member_ids", []):
            if m not in members:
                members.append(m)
    # only these people's rows and households: never a township's or the county's audit
    member_rows = _rows(store.member_audit(as_of, rules, ids=members), "member_id") \
        if members else {}

    households: dict[str, list[dict[str, Any]]] = defaultdict(list)
    wanted = set(members)
    for r in (store.households(as_of, rules, member_ids=members)[1] if members else []):
        for m in r["member_ids"]:
            if m in wanted:
                households[m].append(r)
    hh_ids = sorted({r["household_id"] for rows in households.values() for r in rows})
    names = {h: rec.get("head_name") for h, (_, rec) in store.fetch_entities(hh_ids).items()}
    waiting: dict[str, list[dict[str, Any]]] = {}
    towns: dict[str, str | None] = {}
    if escalate_after_days is not None:
        waiting, towns = _open_requests(store, [h for h in hh_ids], as_of, rules,
                                        escalate_after_days)

    node_of: dict[str, str] = {}  # person id -> the node drawn for them (a stand-in outside)
    for did, parents in delegate_parents.items():
        row = delegate_rows.get(did)
        if row is not None and not scope.sees(row.get("township_id")):
            node_of[did] = scope.stand_in(d, did, DELEGATE_ZH, level)
        else:
            node_of[did] = did
            if did not in d:
                _delegate_node(d, store, did, row, level, link=link, as_of=as_of,
                               risk=(risks or {}).get(did))
        for p in parents:
            d.edge(p, node_of[did], color=CM_COLOR)
    for did in delegate_parents:
        for m in (delegate_rows.get(did) or {}).get("member_ids", []):
            mrow = member_rows.get(m, {})
            if not scope.sees(mrow.get("township_id")):
                node_of[m] = scope.stand_in(d, m, MEMBER_ZH, level + 1, parent=node_of[did])
                d.edge(node_of[did], node_of[m], color=DELEGATE_COLOR)
                continue
            node_of[m] = m
            problems = mrow.get("problems", [])
            tip = [f"{MEMBER_ZH} {mrow.get('name') or ''}（{m}）",
                   (f"联系户：{mrow.get('household_count', 0)}"
                    f" / 应为 {rules.households_per_member}")]
            tip += [f"问题：{label_of(MemberProblem, p)}" for p in problems]
            short = "too_few_households" in problems
            risk = (risks or {}).get(m)
            d.node(m, (mrow.get("name") or m)
                   + (f" ⚠{mrow.get('household_count', 0)}户" if short else "")
                   + (" ⚑" if risk else ""),
                   tip="\n".join(tip) + _risk_tip(risk), color=MEMBER_COLOR, level=level + 1,
                   parent=node_of[did], url=link("member", m),
                   border=GAP_BORDER if problems else (RISK_COLOR if risk else None),
                   border_width=4 if problems or risk else 1)
            d.edge(node_of[did], m, color=DELEGATE_COLOR)
    for m in members:
        _household_nodes(d, households.get(m, []), names, m, node_of[m], level + 2, 12,
                         scope=scope, mask=mask, link=link, requests=waiting)
    if waiting:
        _request_nodes(d, store, waiting, towns, level + 3, scope=scope, mask=mask,
                       escalate_after_days=escalate_after_days or 0)
    return waiting


def _household_nodes(d: Diagram, rows: list[dict[str, Any]], names: dict[str, Any], member: str,
                     member_node: str, level: int, size: int, *, scope: _Scope, mask: bool,
                     link: Link, force: bool = False,
                     requests: dict[str, list[dict[str, Any]]] | None = None) -> None:
    """One member's households below their node; those outside the key's townships counted in
    one stand-in node."""
    outside = 0
    for r in rows:
        h = r["household_id"]
        if not scope.sees(r.get("township_id")):
            outside += 1
            continue
        color, status = _household_color(r)
        label = mask_name(names.get(h), mask) or h
        tip = [f"{HOUSEHOLD_ZH} {label}（{h}）", f"状态：{status}",
               f"类别：{_categories(r['categories'])}",
               f"最近联系：{r.get('last_contact') or '无'}", f"村：{r.get('village_id') or ''}"]
        waiting = (requests or {}).get(h, [])
        if d.node(h, label + (f" ▲{len(waiting)}" if waiting else ""),
                  tip="\n".join(tip) + _requests_line(waiting), color=color, level=level,
                  parent=member_node,
                  url=link("household", h), shape="dot", size=size, household=True):
            d.edge(member_node, h, color=MEMBER_COLOR)
    if outside:
        nid = scope.alias(f"households-of:{member}")
        if d.node(nid, f"其他乡镇 {outside} 户", tip="这些户不在本密钥可见的乡镇，不显示",
                  color=OUTSIDE, level=level, parent=member_node, shape="dot", size=size,
                  dashes=True, force=force):
            d.edge(member_node, nid, color=MEMBER_COLOR, dashes=True)


def _cm_nodes(d: Diagram, store: Store, cms: list[str], scope: _Scope,
              link: Link) -> dict[str, str]:
    """Active committee members at the top of a page: committee member -> its node id (a
    stand-in outside the key's townships)."""
    recs = store.fetch_entities(cms)
    node_of: dict[str, str] = {}
    for c in cms:
        rec = recs[c][1] if c in recs else {}
        if scope.sees(rec.get("township_id")):
            _cm_node(d, c, rec.get("name") or c, None, 0, link=link, active=True)
            node_of[c] = c
        else:
            node_of[c] = scope.stand_in(d, c, CM_ZH, 0)
    return node_of


def _delegate_node(d: Diagram, store: Store, did: str, row: dict[str, Any] | None, level: int, *,
                   link: Link, as_of: dt.date,
                   risk: tuple[int, dict[str, Any]] | None = None) -> None:
    if row is None:  # not active as a delegate on as_of
        rec = store.fetch_entities([did]).get(did)
        name = rec[1].get("name") if rec else did
        d.node(did, f"{name}（{LEFT_ZH}）",
               tip=f"{DELEGATE_ZH} {name}（{did}）\n不在岗：其联系的党员和户失去上级",
               color=INACTIVE_PERSON, shape="box", level=level, url=link("delegate", did),
               border=GAP_BORDER, border_width=4)
        return
    problems = row["problems"]
    tip = [f"{DELEGATE_ZH} {row.get('name') or ''}（{did}）",
           (f"联系党员：{row['member_count']}，联系户：{row['households_reached']}"
            f"（重点户 {row['focus_households_reached']}）")]
    tip += [f"问题：{label_of(DelegateProblem, p)}" for p in problems]
    label = (row.get("name") or did) + (f" ⚠{row['member_count']}人" if problems else "") \
        + (" ⚑" if risk else "")
    d.node(did, label, tip="\n".join(tip) + _risk_tip(risk), color=DELEGATE_COLOR, shape="box",
           level=level, url=link("delegate", did),
           border=GAP_BORDER if problems else (RISK_COLOR if risk else None),
           border_width=4 if problems or risk else 1)


def _cm_node(d: Diagram, cid: str, name: str, row: dict[str, Any] | None, level: int, *,
             link: Link, active: bool = False,
             risk: tuple[int, dict[str, Any]] | None = None) -> None:
    if row is None and active:  # known active, audit not read
        d.node(cid, name, tip=f"{CM_ZH} {name}（{cid}）", color=CM_COLOR, shape="box", level=level,
               url=link("chain", cid))
        return
    if row is None:
        d.node(cid, f"{name}（{LEFT_ZH}）", tip=f"{CM_ZH} {name}（{cid}）\n{LEFT_ZH}",
               color=INACTIVE_PERSON, shape="box", level=level, url=link("chain", cid),
               border=GAP_BORDER, border_width=4)
        return
    tip = [f"{CM_ZH} {name}（{cid}）",
           f"联系党代表：{row['delegate_count']}，覆盖户：{row['households_reached']}"]
    tip += [f"问题：{label_of(CommitteeMemberProblem, p)}" for p in row["problems"]]
    d.node(cid, name + (" ⚑" if risk else ""), tip="\n".join(tip) + _risk_tip(risk),
           color=CM_COLOR, shape="box", level=level, url=link("chain", cid),
           border=GAP_BORDER if row["problems"] else (RISK_COLOR if risk else None),
           border_width=4 if row["problems"] or risk else 1)


# -- the views ------------------------------------------------------------------------------------



def chain_view(store: Store, committee_member_id: str, *, as_of: dt.date, rules: RuleSettings,
               mask: bool = False, link: Link = served_link, max_nodes: int = MAX_NODES,
               townships: Collection[str] | None = None) -> str:
    """One committee member's chain: delegates → members → households, top-down."""
    store = cached(store)
    scope = _Scope(townships)
    cid = committee_member_id
    person = _person(store, cid)
    if "committee_member" not in (person.get("roles") or ()):
        raise NotFound(f"'{cid}' is not a committee member")
    if not scope.sees(person.get("township_id")):
        raise NotFound(f"no person with id '{cid}'")
    name = person.get("name") or cid
    row = next(iter(store.committee_member_audit(as_of, rules, ids=[cid])), None)
    d = Diagram(f"联系链：{name}", layout="UD", max_nodes=max_nodes)
    risks = risks_of(store, as_of, rules) if scope.townships is None else {}
    _cm_node(d, cid, name, row, 0, link=link, risk=risks.get(cid))
    delegate_ids = row["delegate_ids"] if row else []
    delegate_rows = _rows(store.delegate_audit(as_of, rules, ids=delegate_ids), "delegate_id") \
        if delegate_ids else {}
    _draw_below_delegates(d, store, {x: [cid] for x in delegate_ids}, delegate_rows, 1,
                          as_of=as_of, rules=rules, mask=mask, link=link, scope=scope,
                          risks=risks)
    notes = []
    if row is None:
        notes.append("该县委委员在此日期不在岗：其下所有户失去县委委员一环。")
    elif not delegate_ids:
        notes.append("该县委委员没有联系任何党代表。")
    return d.html(f"三联系链：县委委员 {name}",
                  subtitle=f"截至 {as_of.isoformat()} · 自上而下：县委委员 → 党代表 → 党员 → 户",
                  legend=_people_legend() + _risk_legend() + _household_legend(), notes=notes,
                  links=[("首页", link("index", None))])


def delegate_view(store: Store, delegate_id: str, *, as_of: dt.date, rules: RuleSettings,
                  mask: bool = False, link: Link = served_link, max_nodes: int = MAX_NODES,
                  townships: Collection[str] | None = None,
                  escalate_after_days: int | None = None) -> str:
    """One delegate: the committee members above, members and their households below, and the
    households' open requests (``escalate_after_days``: default the setting)."""
    escalate = _escalate(escalate_after_days)
    store = cached(store)
    scope = _Scope(townships)
    did = delegate_id
    person = _person(store, did)
    if "delegate" not in (person.get("roles") or ()):
        raise NotFound(f"'{did}' is not a delegate")
    name = person.get("name") or did
    delegate_rows = _rows(store.delegate_audit(as_of, rules, ids=[did]), "delegate_id")
    row = delegate_rows.get(did)
    if not scope.sees((row or person).get("township_id")):
        raise NotFound(f"no person with id '{did}'")
    d = Diagram(f"党代表：{name}", layout="UD", max_nodes=max_nodes)
    cms = row["committee_member_ids"] if row else []
    shown = list(_cm_nodes(d, store, cms, scope, link).values())  # the audit lists active ones
    notes = []
    if row is not None and not cms:
        d.node("__break__:cm", f"断点：{UncoveredReason.no_committee_member.label}",
               tip="没有在岗的县委委员联系这位党代表：其下各户未覆盖",
               color=BREAK_COLOR, border=GAP_BORDER, shape="box", level=0, dashes=True,
               border_width=3)
        cms = ["__break__:cm"]
    if row is None:
        notes.append("该党代表在此日期不在岗。")
    else:
        notes += [label_of(DelegateProblem, p) for p in row["problems"]]
    waiting = _draw_below_delegates(d, store, {did: shown or list(cms)}, delegate_rows, 1,
                                    as_of=as_of, rules=rules, mask=mask, link=link, scope=scope,
                                    escalate_after_days=escalate)
    notes += _request_notes({h: v for h, v in waiting.items() if h in d}, did)
    return d.html(f"{DELEGATE_ZH} {name} 的联系网",
                  subtitle=f"截至 {as_of.isoformat()} · 上：县委委员；下：党员、户和户的未办结诉求",
                  legend=_people_legend() + _household_legend() + _request_legend(escalate),
                  notes=notes,
                  links=[("首页", link("index", None))])


def member_view(store: Store, member_id: str, *, as_of: dt.date, rules: RuleSettings,
                mask: bool = False, link: Link = served_link, max_nodes: int = MAX_NODES,
                townships: Collection[str] | None = None,
                escalate_after_days: int | None = None) -> str:
    """One Party member: the delegates and committee members above, their households below,
    and the households' open requests (``escalate_after_days``: default the setting)."""
    escalate = _escalate(escalate_after_days)
    store = cached(store)
    scope = _Scope(townships)
    mid = member_id
    person = _person(store, mid)
    row = next(iter(store.member_audit(as_of, rules, ids=[mid])), None)
    if not scope.sees((row or person).get("township_id")):
        raise NotFound(f"no person with id '{mid}'")
    name = person.get("name") or mid
    d = Diagram(f"党员：{name}", layout="UD", max_nodes=max_nodes)
    delegates = row["delegate_ids"] if row else []
    delegate_rows = _rows(store.delegate_audit(as_of, rules, ids=delegates), "delegate_id") \
        if delegates else {}
    cms = sorted({c for r in delegate_rows.values() for c in r["committee_member_ids"]})
    node_of = _cm_nodes(d, store, cms, scope, link)
    for dl in delegates:
        drow = delegate_rows.get(dl)
        if drow is not None and not scope.sees(drow.get("township_id")):
            node_of[dl] = scope.stand_in(d, dl, DELEGATE_ZH, 1)
        else:
            node_of[dl] = dl
            _delegate_node(d, store, dl, drow, 1, link=link, as_of=as_of)
        for c in (drow or {}).get("committee_member_ids", []):
            d.edge(node_of[c], node_of[dl], color=CM_COLOR)
        if drow is not None and not drow["committee_member_ids"]:
            brk = f"__break__:cm:{node_of[dl]}"
            d.node(brk, f"断点：{UncoveredReason.no_committee_member.label}",
                   tip="链条在此断开：无县委委员", color=BREAK_COLOR,
                   border=GAP_BORDER, shape="box", level=0, dashes=True, border_width=3, force=True)
            d.edge(brk, node_of[dl], color=GAP_BORDER, dashes=True)
    problems = (row or {}).get("problems", [])
    tip = [f"{MEMBER_ZH} {name}（{mid}）"]
    if row is None:
        tip.append("不在岗，或不在联系链中")
    else:
        tip += [f"联系户：{row['household_count']} / 应为 {rules.households_per_member}"]
        tip += [f"问题：{label_of(MemberProblem, p)}" for p in problems]
    d.node(mid, name if row else f"{name}（{LEFT_ZH}）", tip="\n".join(tip),
           color=MEMBER_COLOR if row else INACTIVE_PERSON, level=2, url=link("member", mid),
           border=GAP_BORDER if problems or row is None else None,
           border_width=4 if problems or row is None else 1, force=True)
    for dl in delegates:
        d.edge(node_of[dl], mid, color=DELEGATE_COLOR)
    if row is not None and not delegates:
        d.node("__break__:delegate", f"断点：{UncoveredReason.no_delegate.label}",
               tip="链条在此断开：没有在岗的党代表联系这位党员",
               color=BREAK_COLOR, border=GAP_BORDER, shape="box", level=1, dashes=True,
               border_width=3, force=True)
        d.edge("__break__:delegate", mid, color=GAP_BORDER, dashes=True)
    _, hh = store.households(as_of, rules, member_ids=[mid])
    hh = [r for r in hh if mid in r["member_ids"]]
    names = {h: rec.get("head_name")
             for h, (_, rec) in store.fetch_entities([r["household_id"] for r in hh]).items()}
    waiting, towns = _open_requests(store, [r["household_id"] for r in hh], as_of, rules, escalate)
    _household_nodes(d, hh, names, mid, mid, 3, 14, scope=scope, mask=mask, link=link, force=True,
                     requests=waiting)
    _request_nodes(d, store, waiting, towns, 4, scope=scope, mask=mask,
                   escalate_after_days=escalate)
    notes = []
    if row is None:
        notes.append("该党员在此日期不在岗，或没有任何计入的联系。")
    else:
        notes += [label_of(MemberProblem, p) for p in problems]
    notes += _request_notes({h: v for h, v in waiting.items() if h in d}, mid)
    return d.html(f"{MEMBER_ZH} {name} 的联系户",
                  subtitle=(f"截至 {as_of.isoformat()} · "
                            "上：党代表和县委委员；下：联系户和户的未办结诉求"),
                  legend=_people_legend() + _household_legend() + _request_legend(escalate),
                  notes=notes,
                  links=[("首页", link("index", None))])


def household_view(store: Store, household_id: str, *, as_of: dt.date, rules: RuleSettings,
                   mask: bool = False, link: Link = served_link, max_nodes: int = MAX_NODES,
                   townships: Collection[str] | None = None,
                   escalate_after_days: int | None = None) -> str:
    """Who supports one household, where its chain breaks, and its open requests with whoever
    holds each now (``escalate_after_days``: default the setting)."""
    escalate = _escalate(escalate_after_days)
    store = cached(store)
    scope = _Scope(townships)
    h = store.household(household_id, as_of, rules)
    if not scope.sees(h.get("township_id")):
        raise NotFound(f"no household with id '{household_id}'")
    hid = h["household_id"]
    label = mask_name(h.get("head_name"), mask) or hid
    color, status = _household_color(h)
    d = Diagram(f"户：{label}", layout="UD", max_nodes=max_nodes)
    town = h.get("township_id")
    tip = [f"{HOUSEHOLD_ZH} {label}（{hid}）", f"状态：{status}",
           f"类别：{_categories(h.get('categories') or [])}",
           f"人口：{h.get('size') or '?'}", f"村：{h.get('village_name') or ''}",
           f"最近联系：{h.get('last_contact') or '无'}"]
    waiting, towns = _open_requests(store, [hid], as_of, rules, escalate)
    d.node(hid, label, tip="\n".join(tip) + _requests_line(waiting.get(hid, [])), color=color,
           level=3, size=22, shape="dot", url=link("household", hid), force=True, household=True)
    notes = [f"状态：{status}"] + _request_notes(waiting, None)

    def person(p: dict[str, Any], role: str, color: str, level: int, view: str | None) -> str:
        """Draw one person of the chain; their node id (a stand-in outside the key's townships)."""
        if not scope.sees(p.get("township_id")):
            return scope.stand_in(d, p["id"], role, level)
        active = p.get("active", True)
        nm = p.get("name") or p["id"]
        d.node(p["id"], nm if active else f"{nm}（{LEFT_ZH}）",
               tip=f"{role} {nm}（{p['id']}）" + ("" if active else f"\n{LEFT_ZH}：链条在此断开"),
               color=color if active else INACTIVE_PERSON, shape="box" if level < 2 else "dot",
               level=level, url=link(view, p["id"]) if view else None,
               border=None if active else GAP_BORDER, border_width=1 if active else 4, force=True)
        return str(p["id"])

    def breaks(nid: str, text: str, level: int, below: str) -> None:
        d.node(nid, f"断点：{text}", tip=f"链条在此断开：{text}", color=BREAK_COLOR,
               border=GAP_BORDER, shape="box", level=level, dashes=True, border_width=3,
               force=True)
        d.edge(nid, below, color=GAP_BORDER, dashes=True)

    if not h["chains"]:
        breaks("__break__:member", UncoveredReason.no_member.label, 2, hid)
    for m in h["chains"]:
        mid = person(m, "联系党员", MEMBER_COLOR, 2, "member")
        d.edge(mid, hid, color=MEMBER_COLOR)
        if not m["delegates"]:
            breaks(f"__break__:delegate:{mid}", UncoveredReason.no_delegate.label, 1, mid)
        for dl in m["delegates"]:
            did = person(dl, DELEGATE_ZH, DELEGATE_COLOR, 1, "delegate")
            d.edge(did, mid, color=DELEGATE_COLOR)
            if not dl["committee_members"]:
                breaks(f"__break__:cm:{did}", UncoveredReason.no_committee_member.label, 0, did)
            for c in dl["committee_members"]:
                d.edge(person(c, CM_ZH, CM_COLOR, 0, "chain"), did, color=CM_COLOR)
    for k in h["supporting_cadres"]:
        if not scope.sees(k.get("township_id")):
            d.edge(scope.stand_in(d, k["id"], "结穷亲干部", 2), hid, color=CADRE_COLOR, dashes=True)
            continue
        nm = k.get("name") or k["id"]
        d.node(k["id"], f"{nm}（结穷亲）",
               tip=f"帮扶干部 {nm}（{k['id']}）\n结穷亲，自 {k.get('since') or '?'}",
               color=CADRE_COLOR if k.get("active", True) else INACTIVE_PERSON, level=2, force=True)
        d.edge(k["id"], hid, color=CADRE_COLOR, dashes=True)
    _request_nodes(d, store, waiting, towns, 4, scope=scope, mask=mask,
                   escalate_after_days=escalate)
    village = h.get("village_id")
    if village:
        vname = h.get("village_name") or village
        d.node(village, vname, tip=f"{VILLAGE_ZH} {vname}（{village}）", color=VILLAGE_PLAIN,
               shape="ellipse", level=4, url=link("township", town) if town else None, force=True)
        d.edge(hid, village, color="#90a4ae", dashes=True, arrows=False)
        for u in h["paired_units"]:
            ucolor, ushape = SECTOR_STYLE.get(u.get("sector") or "", ("#5c6bc0", "box"))
            un = u.get("name") or u["id"]
            d.node(u["id"], un,
                   tip=(f"{UNIT_ZH} {un}（{label_of(Sector, u.get('sector'))}）"
                        f"\n结对自 {u.get('since') or '?'}"),
                   color=ucolor, shape=ushape, level=5,
                   url=link("pairings", town) if town else None, force=True)
            d.edge(u["id"], village, color=ucolor)
    if h.get("status") is None:
        notes.append("该户在此日期不在册。")
    legend = (_household_legend()
              + [LegendItem(CM_ZH, CM_COLOR, "box"), LegendItem(DELEGATE_ZH, DELEGATE_COLOR, "box"),
                 LegendItem(f"联系{MEMBER_ZH}", MEMBER_COLOR),
                 LegendItem(f"结穷亲{CADRE_ZH}", CADRE_COLOR),
                 LegendItem(LEFT_ZH, INACTIVE_PERSON),
                 LegendItem("断点", BREAK_COLOR, "box", GAP_BORDER),
                 LegendItem(VILLAGE_ZH, VILLAGE_PLAIN),
                 LegendItem("结对单位", SECTOR_STYLE["agency"][0], "box")]
              + (_request_legend(escalate) if waiting else []))
    return d.html(f"谁在帮扶 {label}（{hid}）",
                  subtitle=f"截至 {as_of.isoformat()} · {h.get('village_name') or ''}",

                  legend=legend, notes=notes,
                  links=[("首页", link("index", None))]
                  + ([("所在乡镇", link("township", town))] if town else []))


def pairings_view(store: Store, township_id: str | None = None, *, as_of: dt.date,
                  rules: RuleSettings | None = None, mask: bool = False, link: Link = served_link,
                  max_nodes: int = MAX_NODES,
                  townships: Collection[str] | None = None) -> str:
    """Units ↔ villages of a township (or the county), units left, villages right."""
    store = cached(store)
    scope = _Scope(townships)
    if not scope.sees(township_id):
        raise NotFound("this key does not see the whole county" if township_id is None
                       else f"no township with id '{township_id}'")
    net = store.pairing_network(as_of, township_id=township_id)
    if township_id is not None and not any(t["id"] == township_id for t in net["townships"]):
        raise NotFound(f"no township with id '{township_id}'")
    audit = store.pairing_audit(as_of, township_id=township_id)
    unpaired, idle = set(audit["unpaired_villages"]), set(audit["idle_units"])
    town_names = {t["id"]: t.get("name") or t["id"] for t in net["townships"]}
    paired_villages = {p["village_id"] for p in net["pairings"]}
    villages = net["villages"]
    left_out = 0
    if township_id is None:  # the county: only villages that need a unit or have one
        kept = [v for v in villages if v.get("needs_pairing") or v["id"] in paired_villages]
        left_out = len(villages) - len(kept)
        villages = kept
    where = town_names.get(township_id or "", "全县") if township_id else "全县"
    d = Diagram(f"结对帮扶：{where}", layout="LR", max_nodes=max_nodes)
    # when the page cannot hold everything, the gaps come first, then each pairing's unit
    # and village together, then idle units, then the rest
    unit_of = {u["id"]: u for u in net["units"]}
    village_of = {v["id"]: v for v in villages}
    order: list[tuple[str, dict[str, Any]]] = [("v", v) for v in villages if v["id"] in unpaired]
    for p in net["pairings"]:
        order += [("u", unit_of[p["unit_id"]]), ("v", village_of[p["village_id"]])]
    order += [("u", u) for u in net["units"] if u["id"] in idle]
    order += [("u", u) for u in net["units"]] + [("v", v) for v in villages]
    for what, rec in order:
        if rec["id"] in d:
            continue
        if what == "u":
            _unit_pairing_node(d, rec, idle, township_id, link)
        else:
            _village_pairing_node(d, rec, unpaired, paired_villages, town_names, link)
    for p in net["pairings"]:
        ucolor = SECTOR_STYLE.get((unit_of.get(p["unit_id"]) or {}).get("sector") or "",
                                  ("#5c6bc0", ""))[0]
        since = p.get("since")
        d.edge(p["unit_id"], p["village_id"], color=ucolor, width=2,
               tip=f"结对自 {since.isoformat() if hasattr(since, 'isoformat') else since or '?'}")
    notes = []
    if unpaired:
        notes.append(f"需要结对但没有单位的村：{len(unpaired)} 个（红色）")
    if idle:
        notes.append(f"闲置单位：{len(idle)} 个（灰底虚线框）")
    if left_out:
        notes.append(f"另有 {left_out} 个既不需要结对也未结对的村未画出")
    legend = ([LegendItem(f"{Sector(s).label}", c,
                          {"box": "box", "ellipse": "dot", "diamond": "diamond"}[sh])
               for s, (c, sh) in SECTOR_STYLE.items()]
              + [LegendItem("闲置单位", IDLE_UNIT, "box", "#777777"),
                 LegendItem("已结对村", VILLAGE_OK),
                 LegendItem("需结对·无单位", VILLAGE_NEEDS, "dot", GAP_BORDER),
                 LegendItem("无需结对", VILLAGE_PLAIN)])
    links = [("首页", link("index", None))]
    if township_id:
        links += [("乡镇概览", link("township", township_id)), ("全县结对", link("pairings", None))]
    return d.html(f"结对帮扶：{where}",
                  subtitle=f"截至 {as_of.isoformat()} · 左：帮扶单位，右：行政村",
                  legend=legend, notes=notes, links=links)


def _unit_pairing_node(d: Diagram, u: dict[str, Any], idle: set[str], township_id: str | None,
                       link: Link) -> None:
    sector = u.get("sector") or ""
    color, shape = SECTOR_STYLE.get(sector, ("#5c6bc0", "box"))
    name = u.get("name") or u["id"]
    is_idle = u["id"] in idle
    d.node(u["id"], name + ("（闲置）" if is_idle else ""),
           tip=f"{UNIT_ZH} {name}（{u['id']}）\n类别：{label_of(Sector, sector) or '未填'}"
               + ("\n闲置：当前没有结对村" if is_idle else ""),
           color=IDLE_UNIT if is_idle else color, border=color, shape=shape, level=0,
           dashes=is_idle, border_width=3 if is_idle else 1,
           url=None if township_id is None else link("pairings", None))


def _village_pairing_node(d: Diagram, v: dict[str, Any], unpaired: set[str],
                          paired_villages: set[str], town_names: dict[str, str],
                          link: Link) -> None:
    name = v.get("name") or v["id"]
    needs = bool(v.get("needs_pairing"))
    missing = v["id"] in unpaired
    color = VILLAGE_NEEDS if missing else (
        VILLAGE_OK if v["id"] in paired_villages else VILLAGE_PLAIN)
    state = ("需要结对但没有单位" if missing else "已结对" if v["id"] in paired_villages
             else "无需结对")
    d.node(v["id"], ("⚠ " if missing else "") + name,
           tip=f"{VILLAGE_ZH} {name}（{v['id']}）"
               f"\n乡镇：{town_names.get(v.get('township_id') or '', '')}"
               f"\n{'需要结对' if needs else '不需结对'} · {state}",
           color=color, shape="ellipse", level=1, border=GAP_BORDER if missing else None,
           border_width=4 if missing else 1, url=link("township", v.get("township_id")))


def _counts(rows: Iterable[dict[str, Any]], key: str) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = defaultdict(lambda: {"total": 0, "covered": 0, "stale": 0,
                                                           "uncovered": 0})
    for r in rows:
        c = out[r.get(key) or ""]
        c["total"] += 1
        c[r["status"]] += 1
    return out


def _size(total: int) -> int:
    return int(12 + min(48, total ** 0.5 * 3))


def township_view(store: Store, township_id: str | None = None, *, as_of: dt.date,
                  rules: RuleSettings, mask: bool = False, link: Link = served_link,
                  max_nodes: int = MAX_NODES,
                  townships: Collection[str] | None = None, plan: bool | None = None,
                  cap: int | None = None) -> str:
    """A township's villages (sized by households, coloured by coverage) with paired units and
    delegates; with no township, the county's townships. Households are only counted.

    A township's page also carries its repair plan (``graphsvc.analysis.repair.plan``) as a
    layer the reader switches on (a checkbox, or ``?plan=1``): the proposed liaisons dashed,
    the uncovered households each would cover, and those it cannot. ``plan``: None, the layer
    is there and off; True, on when the page opens; False, left out. ``cap``: most households
    per member after the plan (default the setting ``GRAPHSVC_REPAIR_CAP``)."""
    store = cached(store)
    scope = _Scope(townships)
    if not scope.sees(township_id):
        raise NotFound("this key does not see the whole county" if township_id is None
                       else f"no township with id '{township_id}'")
    net = store.pairing_network(as_of, township_id=township_id)
    if township_id is None:
        return _county_view(store, net, as_of=as_of, rules=rules, link=link, max_nodes=max_nodes)
    town = next((t for t in net["townships"] if t["id"] == township_id), None)
    if town is None:
        raise NotFound(f"no township with id '{township_id}'")
    tname = town.get("name") or township_id
    _, rows = store.households(as_of, rules, township_id=township_id)
    per_village = _counts(rows, "village_id")
    d = Diagram(f"乡镇概览：{tname}", layout="physics", max_nodes=max_nodes)
    tc = _counts(rows, "township_id").get(township_id, {"total": 0, "covered": 0, "stale": 0,
                                                        "uncovered": 0})
    d.node(township_id, tname, tip=_coverage_tip(f"{TOWNSHIP_ZH} {tname}（{township_id}）", tc),
           color=_share_color(tc["covered"], tc["total"]), shape="star", size=30,
           url=link("township", township_id), force=True)
    for v in net["villages"]:
        c = per_village.get(v["id"], {"total": 0, "covered": 0, "stale": 0, "uncovered": 0})
        name = v.get("name") or v["id"]
        d.node(v["id"], f"{name}（{c['total']}户）",
               tip=_coverage_tip(f"{VILLAGE_ZH} {name}（{v['id']}）", c),
               color=_share_color(c["covered"], c["total"]), size=_size(c["total"]),
               url=link("pairings", township_id), parent=township_id)
        d.edge(township_id, v["id"], color="#cfd8dc", arrows=False)
    units = {u["id"]: u for u in net["units"]}
    for p in net["pairings"]:
        u = units.get(p["unit_id"], {"id": p["unit_id"]})
        sector = u.get("sector") or ""
        color, shape = SECTOR_STYLE.get(sector, ("#5c6bc0", "box"))
        name = u.get("name") or u["id"]
        d.node(u["id"], name, tip=f"{UNIT_ZH} {name}（{label_of(Sector, sector)}）", color=color,
               shape=shape, url=link("pairings", township_id), parent=p["village_id"])
        d.edge(u["id"], p["village_id"], color=color, width=2)
    # delegates, linked to the villages whose households their members (living in the
    # township) reach
    member_delegates = {r["member_id"]: r["delegate_ids"]
                        for r in store.member_audit(as_of, rules, township_id=township_id)}
    reach: dict[tuple[str, str], int] = defaultdict(int)
    for r in rows:
        for dl in {x for m in r["member_ids"] for x in member_delegates.get(m, [])}:
            reach[(dl, r["village_id"])] += 1
    delegate_rows = _rows(store.delegate_audit(as_of, rules, ids={dl for dl, _ in reach}),
                          "delegate_id") if reach else {}
    risks = risks_of(store, as_of, rules, township_id)
    for (dl, vid), n in sorted(reach.items(), key=lambda kv: -kv[1]):
        drow = delegate_rows.get(dl)
        node = dl
        if drow is not None and not scope.sees(drow.get("township_id")):
            node = scope.stand_in(d, dl, DELEGATE_ZH, 0)
        elif dl not in d:
            _delegate_node(d, store, dl, drow, 0, link=link, as_of=as_of, risk=risks.get(dl))
        d.edge(node, vid, color=DELEGATE_COLOR, width=1 + min(6, n / 5), tip=f"经其党员联系 {n} 户")
    if plan is not False:
        _plan_layer(d, store, township_id, rows, member_delegates, as_of=as_of, rules=rules,
                    mask=mask, link=link, scope=scope, on=bool(plan), cap=cap)
    legend = _share_legend() + [
        LegendItem("乡镇（星形）", "#78909c", "diamond"),
        LegendItem(DELEGATE_ZH, DELEGATE_COLOR, "box"),
        LegendItem(f"{DELEGATE_ZH}有缺口（红框）", "#ffffff", "box",
                   GAP_BORDER)] + _risk_legend() + [
        LegendItem(f"结对单位：{Sector(s).label}", c,
                   {"box": "box", "ellipse": "dot", "diamond": "diamond"}[sh])
        for s, (c, sh) in SECTOR_STYLE.items()]
    return d.html(f"乡镇概览：{tname}",
                  subtitle=(f"截至 {as_of.isoformat()} · "
                            "村的大小 = 在册户数，颜色 = 覆盖率（已覆盖户 / 在册户）"),
                  legend=legend, notes=[_coverage_line(tc)],
                  links=[("首页", link("index", None)),
                         ("本乡镇结对", link("pairings", township_id)),
                         ("全县概览", link("township", None)),
                         ("覆盖趋势", link("trends", township_id))])



# -- the repair plan on a township's overview ------------------------------------------------------

PLAN_COLOR = "#d500f9"  # proposed liaisons: dashed, this colour


def _repair_plan(store: Any, as_of: dt.date, rules: RuleSettings, township_id: str,
                 cap: int | None) -> dict[str, Any]:
    """The township's repair plan (``graphsvc.analysis.repair.plan``), kept until the data
    changes."""
    from graphsvc.analysis.repair import plan

    if cap is None:
        from graphsvc.config import get_settings

        cap = get_settings().repair_cap
    return store.memo("repair_plan", (as_of, rules, township_id, cap),  # type: ignore[no-any-return]
                      lambda: plan(store.inner, as_of, rules, township_id=township_id, cap=cap))


def plan_legend() -> list[LegendItem]:
    return [LegendItem("补链方案：拟议的联系（紫色虚线，悬停看理由）", PLAN_COLOR, "dashed"),
            LegendItem("✚ 未覆盖户：方案可覆盖（紫框）", "#ffffff", "dot", PLAN_COLOR),
            LegendItem("✖ 未覆盖户：方案无法覆盖（红框）", "#ffffff", "dot", GAP_BORDER),
            LegendItem(MEMBER_ZH, MEMBER_COLOR), LegendItem(CM_ZH, CM_COLOR, "box")] + [
        LegendItem(f"{HOUSEHOLD_ZH} {reason_zh(r)}", c) for r, c in REASON_COLOR.items()]


def _plan_layer(d: Diagram, store: Any, township_id: str, rows: list[dict[str, Any]],
                member_delegates: dict[str, list[str]], *, as_of: dt.date, rules: RuleSettings,
                mask: bool, link: Link, scope: _Scope, on: bool, cap: int | None) -> None:
    """The repair plan as a layer of the township overview: each proposed liaison a dashed edge
    (its reason as hover text) between the people and households it joins; every uncovered
    household of the township beside its village, marked ✚ (the plan covers it: by a proposed
    member, or through a proposed delegate or committee member above its own member) or ✖ (it
    cannot, with why); the existing links that carry a household through a proposed upper
    link drawn solid."""
    body = _repair_plan(store, as_of, rules, township_id, cap)
    items = body["items"]
    by_household = {i["to_id"]: i for i in items if i["kind"] == "member-household"}
    cannot = {u["household_id"]: u["why"] for u in body["unassigned"]}
    targets = [r for r in rows if r["status"] == "uncovered"]
    counts = body["households"]
    layer = d.add_layer(Layer("plan", "显示补链方案", "plan", on=on, legend=plan_legend()))
    kinds: dict[str, int] = defaultdict(int)
    for i in items:
        kinds[i["kind"]] += 1
    layer.notes.append(
        f"补链方案（每名党员至多 {body['cap']} 户）：未覆盖 {counts['targeted']} 户，"
        f"方案可覆盖 {counts['covered_by_plan']} 户"
        f"（其中 {counts['covered_by_upper_links']} 户经拟议的党代表或县委委员恢复），"
        f"无法覆盖 {counts['unassigned']} 户；拟议联系 {len(items)} 条"
        + ("（" + "，".join(f"{LiaisonKind(k).label} {n}" for k, n in kinds.items()) + "）"
           if items else ""))
    if body["unassigned_delegates"]:
        layer.notes.append(f"本乡镇无县委委员可联系的党代表：{len(body['unassigned_delegates'])} 名"
                           "（全县方案可从别处安排）")
    if body["unassigned_members"]:
        layer.notes.append(f"无党代表可联系的党员：{len(body['unassigned_members'])} 名")
    layer.notes.append(f"方案只是建议：编辑可用 graphsvc repair plan --township-id {township_id} "
                       "--apply，或 POST /api/v1/repair-plans/apply 写入（记入审计日志）")
    people = sorted({i["from_id"] for i in items}
                    | {i["to_id"] for i in items if i["kind"] != "member-household"}
                    | {m for r in targets if r["household_id"] not in by_household
                       and r["household_id"] not in cannot for m in r["member_ids"]})
    recs = store.fetch_entities(people + [r["household_id"] for r in targets])
    new_delegates = [p for p in people if p not in d and "delegate" in
                     (_rec(recs, p).get("roles") or ())]
    delegate_rows = _rows(store.delegate_audit(as_of, rules, ids=new_delegates), "delegate_id") \
        if new_delegates else {}
    member_rows = _rows(store.member_audit(as_of, rules, ids=people), "member_id") if people else {}
    proposed_for: dict[str, list[dict[str, Any]]] = defaultdict(list)  # what each is given
    for i in items:
        proposed_for[i["from_id"]].append(i)

    def town_of(pid: str) -> str | None:
        rec = _rec(recs, pid)
        row = member_rows.get(pid) or delegate_rows.get(pid) or {}
        return row.get("township_id") or rec.get("township_id")

    def person(pid: str, kind: str) -> str:
        """The node of someone the plan names (a stand-in outside the key's townships)."""
        rec = _rec(recs, pid)
        role = (CM_ZH if kind == "cm" else DELEGATE_ZH if kind == "delegate" else MEMBER_ZH)
        if pid in d:
            return pid
        if not scope.sees(town_of(pid)):
            return scope.stand_in(d, pid, role)
        name = rec.get("name") or pid
        gives = proposed_for.get(pid, [])
        extra = (f"\n方案：拟新联系 {len(gives)} 个（" + "、".join(i["to_id"] for i in gives) + "）"
                 if gives else "")
        if kind == "cm":
            d.node(pid, name, tip=f"{CM_ZH} {name}（{pid}）" + extra, color=CM_COLOR, shape="box",
                   url=link("chain", pid), parent=township_id)
        elif kind == "delegate":
            _delegate_node(d, store, pid, delegate_rows.get(pid), 0, link=link, as_of=as_of)
        else:
            mrow = member_rows.get(pid) or {}
            vid = rec.get("village_id")
            lines = [f"{MEMBER_ZH} {name}（{pid}）",
                     (f"现联系户：{mrow.get('household_count', '?')}"
                      f" / 应为 {rules.households_per_member}")]
            d.node(pid, name, tip="\n".join(lines) + extra, color=MEMBER_COLOR, size=12,
                   url=link("member", pid), parent=vid if vid and vid in d else township_id)
        return pid

    with d.layer("plan"):
        # every uncovered household beside its village
        for r in targets:
            h = r["household_id"]
            rec = _rec(recs, h)
            label = mask_name(rec.get("head_name"), mask) or h
            color, status = _household_color(r)
            tip = [f"{HOUSEHOLD_ZH} {label}（{h}）", f"状态：{status}",
                   f"类别：{_categories(r['categories'])}",
                   f"村：{r.get('village_id') or ''}", "—— 补链方案 ——"]
            mark, border = ("✖", GAP_BORDER) if h in cannot else ("✚", PLAN_COLOR)
            if h in cannot:
                tip.append("方案无法覆盖：" + cannot[h])
            elif h in by_household:
                tip.append(f"由党员 {by_household[h]['from_id']} 联系："
                           + by_household[h]["reason"])
            else:
                tip.append("经拟议的党代表或县委委员联系其现有党员（"
                           + "、".join(r["member_ids"]) + "），恢复完整链条")
            if d.node(h, f"{mark} {label}", tip="\n".join(tip), color=color, size=9, border=border,
                      border_width=4, dashes=h in cannot, url=link("household", h), household=True,
                      parent=r.get("village_id")):
                d.edge(r["village_id"], h, color="#b0bec5", arrows=False, width=1)
        # the proposed liaisons, dashed, with their reasons
        for i in items:
            kind = i["kind"]
            upper = "cm" if kind == "committee_member-delegate" else (
                "delegate" if kind == "delegate-member" else "member")
            lower = {"committee_member-delegate": "delegate", "delegate-member": "member"}.get(kind)
            a = person(i["from_id"], upper)
            b = person(i["to_id"], lower) if lower else i["to_id"]
            hidden = a != i["from_id"] or b != i["to_id"]
            words = (f"拟议联系（{LiaisonKind(kind).label}）：{i['from_id']} → {i['to_id']}"
                     f"\n{i['reason']}\n求解代价：{i['cost']}") if not hidden else \
                f"拟议联系（{LiaisonKind(kind).label}）：一端不在本密钥可见的乡镇"
            d.edge(a, b, color=PLAN_COLOR, dashes=True, width=3, tip=words)
        # households covered through a proposed upper link: their own member, and the
        # member's delegate when the plan gives that delegate a committee member
        for r in targets:
            h = r["household_id"]
            if h in by_household or h in cannot or h not in d:
                continue
            for m in r["member_ids"]:
                node = person(m, "member")
                d.edge(node, h, color=MEMBER_COLOR, width=1.5,
                       tip=f"现有联系（{LiaisonKind.member_household.label}）")
                for dl in member_delegates.get(m, []):
                    if dl in d:
                        d.edge(dl, node, color=DELEGATE_COLOR, width=1.5,
                               tip=f"现有联系（{LiaisonKind.delegate_member.label}）")


def _coverage_tip(title: str, c: dict[str, int]) -> str:
    share = f"{c['covered'] / c['total']:.0%}" if c["total"] else "—"
    return (f"{title}\n在册户：{c['total']}\n{COVERED_ZH}：{c['covered']}（{share}）"
            f"\n{STALE_ZH}：{c['stale']}\n{UNCOVERED_ZH}：{c['uncovered']}")


def _coverage_line(c: dict[str, int]) -> str:
    share = f"{c['covered'] / c['total']:.0%}" if c["total"] else "—"
    return (f"在册户 {c['total']}，{COVERED_ZH} {c['covered']}（{share}），"
            f"{STALE_ZH} {c['stale']}，{UNCOVERED_ZH} {c['uncovered']}")


def township_counts(store: Store, as_of: dt.date, rules: RuleSettings,
                    township_ids: Iterable[str] | None = None) -> dict[str, dict[str, int]]:
    """Households by township and status: ``total``, ``covered``, ``stale``, ``uncovered``
    (one read of the household statuses; a single township is read alone)."""
    towns = None if township_ids is None else sorted(set(township_ids))
    kept: CachedStore = cached(store)  # not a Store: it has memo() besides the Store's reads
    if towns is not None and len(towns) == 1:
        counts = _counts(kept.households(as_of, rules, township_id=towns[0])[1], "township_id")
    else:  # every household's status, kept as counts only
        counts = kept.memo("township_counts", (as_of, rules), lambda: dict(
            _counts(kept.households(as_of, rules)[1], "township_id")))

    empty = {"total": 0, "covered": 0, "stale": 0, "uncovered": 0}
    return {t: dict(counts.get(t, empty)) for t in (towns if towns is not None else counts)}


def _county_view(store: Store, net: dict[str, Any], *, as_of: dt.date, rules: RuleSettings,
                 link: Link, max_nodes: int) -> str:
    d = Diagram("全县概览", layout="physics", max_nodes=max_nodes)
    village_town = {v["id"]: v.get("township_id") for v in net["villages"]}
    total = {"total": 0, "covered": 0, "stale": 0, "uncovered": 0}
    by_town = township_counts(store, as_of, rules, [t["id"] for t in net["townships"]])
    for t in net["townships"]:
        c = by_town[t["id"]]
        for k in total:
            total[k] += c[k]
        name = t.get("name") or t["id"]
        nv = sum(1 for x in village_town.values() if x == t["id"])
        d.node(t["id"], f"{name}（{c['total']}户）",
               tip=_coverage_tip(f"{TOWNSHIP_ZH} {name}（{t['id']}）\n行政村：{nv}", c),
               color=_share_color(c["covered"], c["total"]), size=_size(c["total"]),
               url=link("township", t["id"]))
    units = {u["id"]: u for u in net["units"]}
    links: dict[tuple[str, str], int] = defaultdict(int)
    for p in net["pairings"]:
        t = village_town.get(p["village_id"])
        if t:
            links[(p["unit_id"], t)] += 1
    for (uid, t), n in sorted(links.items()):
        u = units.get(uid, {"id": uid})
        sector = u.get("sector") or ""
        color, shape = SECTOR_STYLE.get(sector, ("#5c6bc0", "box"))
        name = u.get("name") or uid
        d.node(uid, name, tip=f"{UNIT_ZH} {name}（{label_of(Sector, sector)}）", color=color,
               shape=shape, url=link("pairings", t), parent=t)
        d.edge(uid, t, color=color, width=1 + n, tip=f"结对该乡镇 {n} 个村")
    legend = _share_legend() + [
        LegendItem(f"结对单位：{Sector(s).label}", c,
                   {"box": "box", "ellipse": "dot", "diamond": "diamond"}[sh])
        for s, (c, sh) in SECTOR_STYLE.items()]
    return d.html("全县概览",
                  subtitle=(f"截至 {as_of.isoformat()} · "
                            "乡镇大小 = 在册户数，颜色 = 覆盖率；点击乡镇查看其村"),

                  legend=legend, notes=[_coverage_line(total)],
                  links=[("首页", link("index", None)), ("全县结对", link("pairings", None))])


VIEWS: dict[str, ViewFn] = {
    "chain": chain_view,
    "delegate": delegate_view,
    "household": household_view,
    "member": member_view,
    "pairings": pairings_view,
    "township": township_view,
}
NEEDS_ID = {"chain", "delegate", "household", "member"}
