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
from urllib.parse import quote

from graphsvc.errors import NotFound
from graphsvc.rules import RuleSettings
from graphsvc.stores.base import Store
from visual.cache import cached
from visual.render import MAX_NODES, Diagram, LegendItem, Link, served_link

# -- words and colours ----------------------------------------------------------------------------

STATUS_ZH = {"covered": "已覆盖", "stale": "联系过期", "uncovered": "未覆盖"}
REASON_ZH = {"no_member": "无联系党员", "member_inactive": "联系党员不在岗",
             "no_delegate": "无党代表", "no_committee_member": "无县委委员"}
CATEGORY_ZH = {"military_martyr": "军烈属", "extreme_poverty": "特困户",
               "empty_nest_elderly": "空巢老人", "poor": "贫困户"}
SECTOR_ZH = {"agency": "机关", "institution": "事业单位", "enterprise": "企业"}
DELEGATE_PROBLEM_ZH = {"no_committee_member": "无县委委员联系", "too_few_members": "联系党员不足",
                       "members_short": "所联系党员联系户不足"}
MEMBER_PROBLEM_ZH = {"no_delegate": "无党代表联系", "too_few_households": "联系户不足"}
CM_PROBLEM_ZH = {"too_few_delegates": "联系党代表不足"}

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
        return INACTIVE_HH, "不在册（已注销）"
    if row["status"] == "covered":
        return COVERED, STATUS_ZH["covered"]
    if row["status"] == "stale":
        return STALE, STATUS_ZH["stale"]
    reason = row.get("reason") or "no_member"
    return REASON_COLOR.get(reason, "#e53935"), f"未覆盖：{REASON_ZH.get(reason, reason)}"


def _household_legend() -> list[LegendItem]:
    return ([LegendItem("已覆盖", COVERED), LegendItem("联系过期（超期未走访）", STALE)]
            + [LegendItem(f"未覆盖：{REASON_ZH[r]}", c) for r, c in REASON_COLOR.items()])


def _people_legend() -> list[LegendItem]:
    return [LegendItem("县委委员", CM_COLOR, "box"), LegendItem("党代表", DELEGATE_COLOR, "box"),
            LegendItem("党员", MEMBER_COLOR), LegendItem("有缺口（红框）", "#ffffff", "box", GAP_BORDER),
            LegendItem("不在岗", INACTIVE_PERSON)]


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
                   color=OUTSIDE, shape="box" if role != "户" else "dot", level=level,
                   parent=parent, dashes=True)
        return aid


def _categories(cats: Iterable[str]) -> str:
    return "、".join(CATEGORY_ZH.get(c, c) for c in cats) or "普通户"


def _person(store: Store, pid: str) -> dict[str, Any]:
    found = store.fetch_entities([pid]).get(pid)
    if found is None or found[0].value != "person":
        raise NotFound(f"no person with id '{pid}'")
    return dict(found[1])


def _is_active_person(rec: dict[str, Any], as_of: dt.date) -> bool:
    from graphsvc.summary import is_active

    return bool(is_active(rec, as_of))


# -- the chain below delegates (shared by the chain and delegate views) -------------------------


def _rows(rows: Iterable[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    return {r[key]: r for r in rows}


RISK_TOP = 20  # people marked as single points of failure on a page: the top of the ranking
RISK_COLOR = "#ff6f00"


def _risks(store: Any, as_of: dt.date, rules: RuleSettings,
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
    return [LegendItem(f"⚑ 关键人：离开影响最大的前 {RISK_TOP} 人（橙框）", "#ffffff", "box", RISK_COLOR)]


def _draw_below_delegates(d: Diagram, store: Store, delegate_parents: dict[str, list[str]],
                          delegate_rows: dict[str, dict[str, Any]], level: int, *, as_of: dt.date,
                          rules: RuleSettings, mask: bool, link: Link, scope: _Scope,
                          risks: dict[str, tuple[int, dict[str, Any]]] | None = None) -> None:
    members: list[str] = []
    for did in delegate_parents:
        for m in (delegate_rows.get(did) or {}).get("member_ids", []):
            if m not in members:
                members.append(m)
    # only these people's rows and households: never a township's or the county's audit
    member_rows = _rows(store.member_audit(as_of, rules, ids=members), "member_id") if members else {}
    households: dict[str, list[dict[str, Any]]] = defaultdict(list)
    wanted = set(members)
    for r in (store.households(as_of, rules, member_ids=members)[1] if members else []):
        for m in r["member_ids"]:
            if m in wanted:
                households[m].append(r)
    hh_ids = sorted({r["household_id"] for rows in households.values() for r in rows})
    names = {h: rec.get("head_name") for h, (_, rec) in store.fetch_entities(hh_ids).items()}

    node_of: dict[str, str] = {}  # person id -> the node drawn for them (a stand-in outside)
    for did, parents in delegate_parents.items():
        row = delegate_rows.get(did)
        if row is not None and not scope.sees(row.get("township_id")):
            node_of[did] = scope.stand_in(d, did, "党代表", level)
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
                node_of[m] = scope.stand_in(d, m, "党员", level + 1, parent=node_of[did])
                d.edge(node_of[did], node_of[m], color=DELEGATE_COLOR)
                continue
            node_of[m] = m
            problems = mrow.get("problems", [])
            tip = [f"党员 {mrow.get('name') or ''}（{m}）", f"联系户：{mrow.get('household_count', 0)}"
                   f" / 应为 {rules.households_per_member}"]
            tip += [f"问题：{MEMBER_PROBLEM_ZH.get(p, p)}" for p in problems]
            short = "too_few_households" in problems
            risk = (risks or {}).get(m)
            d.node(m, (mrow.get("name") or m) + (f" ⚠{mrow.get('household_count', 0)}户" if short else "")
                   + (" ⚑" if risk else ""),
                   tip="\n".join(tip) + _risk_tip(risk), color=MEMBER_COLOR, level=level + 1,
                   parent=node_of[did], url=link("member", m),
                   border=GAP_BORDER if problems else (RISK_COLOR if risk else None),
                   border_width=4 if problems or risk else 1)
            d.edge(node_of[did], m, color=DELEGATE_COLOR)
    for m in members:
        _household_nodes(d, households.get(m, []), names, m, node_of[m], level + 2, 12,
                         scope=scope, mask=mask, link=link)


def _household_nodes(d: Diagram, rows: list[dict[str, Any]], names: dict[str, Any], member: str,
                     member_node: str, level: int, size: int, *, scope: _Scope, mask: bool,
                     link: Link, force: bool = False) -> None:
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
        tip = [f"户 {label}（{h}）", f"状态：{status}", f"类别：{_categories(r['categories'])}",
               f"最近联系：{r.get('last_contact') or '无'}", f"村：{r.get('village_id') or ''}"]
        if d.node(h, label, tip="\n".join(tip), color=color, level=level, parent=member_node,
                  url=link("household", h), shape="dot", size=size):
            d.edge(member_node, h, color=MEMBER_COLOR)
    if outside:
        nid = scope.alias(f"households-of:{member}")
        if d.node(nid, f"其他乡镇 {outside} 户", tip="这些户不在本密钥可见的乡镇，不显示",
                  color=OUTSIDE, level=level, parent=member_node, shape="dot", size=size,
                  dashes=True, force=force):
            d.edge(member_node, nid, color=MEMBER_COLOR, dashes=True)


def _cm_nodes(d: Diagram, store: Store, cms: list[str], scope: _Scope, link: Link) -> dict[str, str]:
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
            node_of[c] = scope.stand_in(d, c, "县委委员", 0)
    return node_of


def _delegate_node(d: Diagram, store: Store, did: str, row: dict[str, Any] | None, level: int, *,
                   link: Link, as_of: dt.date,
                   risk: tuple[int, dict[str, Any]] | None = None) -> None:
    if row is None:  # not active as a delegate on as_of
        rec = store.fetch_entities([did]).get(did)
        name = rec[1].get("name") if rec else did
        d.node(did, f"{name}（不在岗）", tip=f"党代表 {name}（{did}）\n不在岗：其联系的党员和户失去上级",
               color=INACTIVE_PERSON, shape="box", level=level, url=link("delegate", did),
               border=GAP_BORDER, border_width=4)
        return
    problems = row["problems"]
    tip = [f"党代表 {row.get('name') or ''}（{did}）",
           f"联系党员：{row['member_count']}，联系户：{row['households_reached']}"
           f"（重点户 {row['focus_households_reached']}）"]
    tip += [f"问题：{DELEGATE_PROBLEM_ZH.get(p, p)}" for p in problems]
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
        d.node(cid, name, tip=f"县委委员 {name}（{cid}）", color=CM_COLOR, shape="box", level=level,
               url=link("chain", cid))
        return
    if row is None:
        d.node(cid, f"{name}（不在岗）", tip=f"县委委员 {name}（{cid}）\n不在岗",
               color=INACTIVE_PERSON, shape="box", level=level, url=link("chain", cid),
               border=GAP_BORDER, border_width=4)
        return
    tip = [f"县委委员 {name}（{cid}）", f"联系党代表：{row['delegate_count']}，覆盖户：{row['households_reached']}"]
    tip += [f"问题：{CM_PROBLEM_ZH.get(p, p)}" for p in row["problems"]]
    d.node(cid, name + (" ⚑" if risk else ""), tip="\n".join(tip) + _risk_tip(risk), color=CM_COLOR,
           shape="box", level=level, url=link("chain", cid),
           border=GAP_BORDER if row["problems"] else (RISK_COLOR if risk else None),
           border_width=4 if row["problems"] or risk else 1)


# -- the views ---------------------------------------------------------------------------------------


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
    risks = _risks(store, as_of, rules) if scope.townships is None else {}
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
    return d.html(f"三联系链：县委委员 {name}", subtitle=f"截至 {as_of.isoformat()} · 自上而下：县委委员 → 党代表 → 党员 → 户",
                  legend=_people_legend() + _risk_legend() + _household_legend(), notes=notes,
                  links=[("首页", link("index", None))])


def delegate_view(store: Store, delegate_id: str, *, as_of: dt.date, rules: RuleSettings,
                  mask: bool = False, link: Link = served_link, max_nodes: int = MAX_NODES,
                  townships: Collection[str] | None = None) -> str:
    """One delegate: the committee members above, members and their households below."""
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
        d.node("__break__:cm", "断点：无县委委员", tip="没有在岗的县委委员联系这位党代表：其下各户未覆盖",
               color=BREAK_COLOR, border=GAP_BORDER, shape="box", level=0, dashes=True, border_width=3)
        cms = ["__break__:cm"]
    if row is None:
        notes.append("该党代表在此日期不在岗。")
    else:
        notes += [DELEGATE_PROBLEM_ZH.get(p, p) for p in row["problems"]]
    _draw_below_delegates(d, store, {did: shown or list(cms)}, delegate_rows, 1,
                          as_of=as_of, rules=rules, mask=mask, link=link, scope=scope)
    return d.html(f"党代表 {name} 的联系网", subtitle=f"截至 {as_of.isoformat()} · 上：县委委员；下：党员和户",
                  legend=_people_legend() + _household_legend(), notes=notes,
                  links=[("首页", link("index", None))])


def member_view(store: Store, member_id: str, *, as_of: dt.date, rules: RuleSettings,
                mask: bool = False, link: Link = served_link, max_nodes: int = MAX_NODES,
                townships: Collection[str] | None = None) -> str:
    """One Party member: the delegates and committee members above, their households below."""
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
            node_of[dl] = scope.stand_in(d, dl, "党代表", 1)
        else:
            node_of[dl] = dl
            _delegate_node(d, store, dl, drow, 1, link=link, as_of=as_of)
        for c in (drow or {}).get("committee_member_ids", []):
            d.edge(node_of[c], node_of[dl], color=CM_COLOR)
        if drow is not None and not drow["committee_member_ids"]:
            brk = f"__break__:cm:{node_of[dl]}"
            d.node(brk, "断点：无县委委员", tip="链条在此断开：无县委委员", color=BREAK_COLOR,
                   border=GAP_BORDER, shape="box", level=0, dashes=True, border_width=3, force=True)
            d.edge(brk, node_of[dl], color=GAP_BORDER, dashes=True)
    problems = (row or {}).get("problems", [])
    tip = [f"党员 {name}（{mid}）"]
    if row is None:
        tip.append("不在岗，或不在联系链中")
    else:
        tip += [f"联系户：{row['household_count']} / 应为 {rules.households_per_member}"]
        tip += [f"问题：{MEMBER_PROBLEM_ZH.get(p, p)}" for p in problems]
    d.node(mid, name if row else f"{name}（不在岗）", tip="\n".join(tip),
           color=MEMBER_COLOR if row else INACTIVE_PERSON, level=2, url=link("member", mid),
           border=GAP_BORDER if problems or row is None else None,
           border_width=4 if problems or row is None else 1, force=True)
    for dl in delegates:
        d.edge(node_of[dl], mid, color=DELEGATE_COLOR)
    if row is not None and not delegates:
        d.node("__break__:delegate", "断点：无党代表", tip="链条在此断开：没有在岗的党代表联系这位党员",
               color=BREAK_COLOR, border=GAP_BORDER, shape="box", level=1, dashes=True,
               border_width=3, force=True)
        d.edge("__break__:delegate", mid, color=GAP_BORDER, dashes=True)
    _, hh = store.households(as_of, rules, member_ids=[mid])
    hh = [r for r in hh if mid in r["member_ids"]]
    names = {h: rec.get("head_name")
             for h, (_, rec) in store.fetch_entities([r["household_id"] for r in hh]).items()}
    _household_nodes(d, hh, names, mid, mid, 3, 14, scope=scope, mask=mask, link=link, force=True)
    notes = []
    if row is None:
        notes.append("该党员在此日期不在岗，或没有任何计入的联系。")
    else:
        notes += [MEMBER_PROBLEM_ZH.get(p, p) for p in problems]
    return d.html(f"党员 {name} 的联系户", subtitle=f"截至 {as_of.isoformat()} · 上：党代表和县委委员；下：联系户",
                  legend=_people_legend() + _household_legend(), notes=notes,
                  links=[("首页", link("index", None))])


def household_view(store: Store, household_id: str, *, as_of: dt.date, rules: RuleSettings,
                   mask: bool = False, link: Link = served_link, max_nodes: int = MAX_NODES,
                   townships: Collection[str] | None = None) -> str:
    """Who supports one household, and where its chain breaks."""
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
    tip = [f"户 {label}（{hid}）", f"状态：{status}", f"类别：{_categories(h.get('categories') or [])}",
           f"人口：{h.get('size') or '?'}", f"村：{h.get('village_name') or ''}",
           f"最近联系：{h.get('last_contact') or '无'}"]
    d.node(hid, label, tip="\n".join(tip), color=color, level=3, size=22, shape="dot",
           url=link("household", hid), force=True)
    notes = [f"状态：{status}"]

    def person(p: dict[str, Any], role: str, color: str, level: int, view: str | None) -> str:
        """Draw one person of the chain; their node id (a stand-in outside the key's townships)."""
        if not scope.sees(p.get("township_id")):
            return scope.stand_in(d, p["id"], role, level)
        active = p.get("active", True)
        nm = p.get("name") or p["id"]
        d.node(p["id"], nm if active else f"{nm}（不在岗）",
               tip=f"{role} {nm}（{p['id']}）" + ("" if active else "\n不在岗：链条在此断开"),
               color=color if active else INACTIVE_PERSON, shape="box" if level < 2 else "dot",
               level=level, url=link(view, p["id"]) if view else None,
               border=None if active else GAP_BORDER, border_width=1 if active else 4, force=True)
        return str(p["id"])

    def breaks(nid: str, text: str, level: int, below: str) -> None:
        d.node(nid, f"断点：{text}", tip=f"链条在此断开：{text}", color=BREAK_COLOR, border=GAP_BORDER,
               shape="box", level=level, dashes=True, border_width=3, force=True)
        d.edge(nid, below, color=GAP_BORDER, dashes=True)

    if not h["chains"]:
        breaks("__break__:member", "无联系党员", 2, hid)
    for m in h["chains"]:
        mid = person(m, "联系党员", MEMBER_COLOR, 2, "member")
        d.edge(mid, hid, color=MEMBER_COLOR)
        if not m["delegates"]:
            breaks(f"__break__:delegate:{mid}", "无党代表", 1, mid)
        for dl in m["delegates"]:
            did = person(dl, "党代表", DELEGATE_COLOR, 1, "delegate")
            d.edge(did, mid, color=DELEGATE_COLOR)
            if not dl["committee_members"]:
                breaks(f"__break__:cm:{did}", "无县委委员", 0, did)
            for c in dl["committee_members"]:
                d.edge(person(c, "县委委员", CM_COLOR, 0, "chain"), did, color=CM_COLOR)
    for k in h["supporting_cadres"]:
        if not scope.sees(k.get("township_id")):
            d.edge(scope.stand_in(d, k["id"], "结穷亲干部", 2), hid, color=CADRE_COLOR, dashes=True)
            continue
        nm = k.get("name") or k["id"]
        d.node(k["id"], f"{nm}（结穷亲）", tip=f"帮扶干部 {nm}（{k['id']}）\n结穷亲，自 {k.get('since') or '?'}",
               color=CADRE_COLOR if k.get("active", True) else INACTIVE_PERSON, level=2, force=True)
        d.edge(k["id"], hid, color=CADRE_COLOR, dashes=True)
    village = h.get("village_id")
    if village:
        vname = h.get("village_name") or village
        d.node(village, vname, tip=f"行政村 {vname}（{village}）", color=VILLAGE_PLAIN, shape="ellipse",
               level=4, url=link("township", town) if town else None, force=True)
        d.edge(hid, village, color="#90a4ae", dashes=True, arrows=False)
        for u in h["paired_units"]:
            ucolor, ushape = SECTOR_STYLE.get(u.get("sector") or "", ("#5c6bc0", "box"))
            un = u.get("name") or u["id"]
            d.node(u["id"], un, tip=f"帮扶单位 {un}（{SECTOR_ZH.get(u.get('sector') or '', '')}）\n结对自 {u.get('since') or '?'}",
                   color=ucolor, shape=ushape, level=5,
                   url=link("pairings", town) if town else None, force=True)
            d.edge(u["id"], village, color=ucolor)
    if h.get("status") is None:
        notes.append("该户在此日期不在册。")
    legend = (_household_legend()
              + [LegendItem("县委委员", CM_COLOR, "box"), LegendItem("党代表", DELEGATE_COLOR, "box"),
                 LegendItem("联系党员", MEMBER_COLOR), LegendItem("结穷亲干部", CADRE_COLOR),
                 LegendItem("不在岗", INACTIVE_PERSON), LegendItem("断点", BREAK_COLOR, "box", GAP_BORDER),
                 LegendItem("行政村", VILLAGE_PLAIN), LegendItem("结对单位", SECTOR_STYLE["agency"][0], "box")])
    return d.html(f"谁在帮扶 {label}（{hid}）", subtitle=f"截至 {as_of.isoformat()} · {h.get('village_name') or ''}",
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
    legend = ([LegendItem(f"{SECTOR_ZH[s]}", c, {"box": "box", "ellipse": "dot", "diamond": "diamond"}[sh])
               for s, (c, sh) in SECTOR_STYLE.items()]
              + [LegendItem("闲置单位", IDLE_UNIT, "box", "#777777"),
                 LegendItem("已结对村", VILLAGE_OK), LegendItem("需结对·无单位", VILLAGE_NEEDS, "dot", GAP_BORDER),
                 LegendItem("无需结对", VILLAGE_PLAIN)])
    links = [("首页", link("index", None))]
    if township_id:
        links += [("乡镇概览", link("township", township_id)), ("全县结对", link("pairings", None))]
    return d.html(f"结对帮扶：{where}", subtitle=f"截至 {as_of.isoformat()} · 左：帮扶单位，右：行政村",
                  legend=legend, notes=notes, links=links)


def _unit_pairing_node(d: Diagram, u: dict[str, Any], idle: set[str], township_id: str | None,
                       link: Link) -> None:
    sector = u.get("sector") or ""
    color, shape = SECTOR_STYLE.get(sector, ("#5c6bc0", "box"))
    name = u.get("name") or u["id"]
    is_idle = u["id"] in idle
    d.node(u["id"], name + ("（闲置）" if is_idle else ""),
           tip=f"帮扶单位 {name}（{u['id']}）\n类别：{SECTOR_ZH.get(sector, sector or '未填')}"
               + ("\n闲置：当前没有结对村" if is_idle else ""),
           color=IDLE_UNIT if is_idle else color, border=color, shape=shape, level=0,
           dashes=is_idle, border_width=3 if is_idle else 1,
           url=None if township_id is None else link("pairings", None))


def _village_pairing_node(d: Diagram, v: dict[str, Any], unpaired: set[str],
                          paired_villages: set[str], town_names: dict[str, str], link: Link) -> None:
    name = v.get("name") or v["id"]
    needs = bool(v.get("needs_pairing"))
    missing = v["id"] in unpaired
    color = VILLAGE_NEEDS if missing else (VILLAGE_OK if v["id"] in paired_villages else VILLAGE_PLAIN)
    state = ("需要结对但没有单位" if missing else "已结对" if v["id"] in paired_villages
             else "无需结对")
    d.node(v["id"], ("⚠ " if missing else "") + name,
           tip=f"行政村 {name}（{v['id']}）\n乡镇：{town_names.get(v.get('township_id') or '', '')}"
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
                  townships: Collection[str] | None = None) -> str:
    """A township's villages (sized by households, coloured by coverage) with paired units and
    delegates; with no township, the county's townships. Households are only counted."""
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
    tc = _counts(rows, "township_id").get(township_id, {"total": 0, "covered": 0, "stale": 0, "uncovered": 0})
    d.node(township_id, tname, tip=_coverage_tip(f"乡镇 {tname}（{township_id}）", tc),
           color=_share_color(tc["covered"], tc["total"]), shape="star", size=30,
           url=link("township", township_id), force=True)
    for v in net["villages"]:
        c = per_village.get(v["id"], {"total": 0, "covered": 0, "stale": 0, "uncovered": 0})
        name = v.get("name") or v["id"]
        d.node(v["id"], f"{name}（{c['total']}户）", tip=_coverage_tip(f"行政村 {name}（{v['id']}）", c),
               color=_share_color(c["covered"], c["total"]), size=_size(c["total"]),
               url=link("pairings", township_id), parent=township_id)
        d.edge(township_id, v["id"], color="#cfd8dc", arrows=False)
    units = {u["id"]: u for u in net["units"]}
    for p in net["pairings"]:
        u = units.get(p["unit_id"], {"id": p["unit_id"]})
        sector = u.get("sector") or ""
        color, shape = SECTOR_STYLE.get(sector, ("#5c6bc0", "box"))
        name = u.get("name") or u["id"]
        d.node(u["id"], name, tip=f"帮扶单位 {name}（{SECTOR_ZH.get(sector, '')}）", color=color,
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
    risks = _risks(store, as_of, rules, township_id)
    for (dl, vid), n in sorted(reach.items(), key=lambda kv: -kv[1]):
        drow = delegate_rows.get(dl)
        node = dl
        if drow is not None and not scope.sees(drow.get("township_id")):
            node = scope.stand_in(d, dl, "党代表", 0)
        elif dl not in d:
            _delegate_node(d, store, dl, drow, 0, link=link, as_of=as_of, risk=risks.get(dl))
        d.edge(node, vid, color=DELEGATE_COLOR, width=1 + min(6, n / 5), tip=f"经其党员联系 {n} 户")
    legend = _share_legend() + [
        LegendItem("乡镇（星形）", "#78909c", "diamond"), LegendItem("党代表", DELEGATE_COLOR, "box"),
        LegendItem("党代表有缺口（红框）", "#ffffff", "box", GAP_BORDER)] + _risk_legend() + [
        LegendItem(f"结对单位：{SECTOR_ZH[s]}", c, {"box": "box", "ellipse": "dot", "diamond": "diamond"}[sh])
        for s, (c, sh) in SECTOR_STYLE.items()]
    return d.html(f"乡镇概览：{tname}",
                  subtitle=f"截至 {as_of.isoformat()} · 村的大小 = 在册户数，颜色 = 覆盖率（已覆盖户 / 在册户）",
                  legend=legend, notes=[_coverage_line(tc)],
                  links=[("首页", link("index", None)), ("本乡镇结对", link("pairings", township_id)),
                         ("全县概览", link("township", None))]
                  + ([("覆盖趋势", f"/visual/trends?township_id={quote(township_id, safe='')}")]
                     if link("index", None).startswith("/visual/") else []))


def _coverage_tip(title: str, c: dict[str, int]) -> str:
    share = f"{c['covered'] / c['total']:.0%}" if c["total"] else "—"
    return (f"{title}\n在册户：{c['total']}\n已覆盖：{c['covered']}（{share}）"
            f"\n联系过期：{c['stale']}\n未覆盖：{c['uncovered']}")


def _coverage_line(c: dict[str, int]) -> str:
    share = f"{c['covered'] / c['total']:.0%}" if c["total"] else "—"
    return (f"在册户 {c['total']}，已覆盖 {c['covered']}（{share}），联系过期 {c['stale']}，"
            f"未覆盖 {c['uncovered']}")


def township_counts(store: Store, as_of: dt.date, rules: RuleSettings,
                    township_ids: Iterable[str] | None = None) -> dict[str, dict[str, int]]:
    """Households by township and status: ``total``, ``covered``, ``stale``, ``uncovered``
    (one read of the household statuses; a single township is read alone)."""
    towns = None if township_ids is None else sorted(set(township_ids))
    store = cached(store)
    if towns is not None and len(towns) == 1:
        counts = _counts(store.households(as_of, rules, township_id=towns[0])[1], "township_id")
    else:  # every household's status, kept as counts only
        counts = store.memo("township_counts", (as_of, rules), lambda: dict(
            _counts(store.households(as_of, rules)[1], "township_id")))
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
               tip=_coverage_tip(f"乡镇 {name}（{t['id']}）\n行政村：{nv}", c),
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
        d.node(uid, name, tip=f"帮扶单位 {name}（{SECTOR_ZH.get(sector, '')}）", color=color,
               shape=shape, url=link("pairings", t), parent=t)
        d.edge(uid, t, color=color, width=1 + n, tip=f"结对该乡镇 {n} 个村")
    legend = _share_legend() + [
        LegendItem(f"结对单位：{SECTOR_ZH[s]}", c, {"box": "box", "ellipse": "dot", "diamond": "diamond"}[sh])
        for s, (c, sh) in SECTOR_STYLE.items()]
    return d.html("全县概览", subtitle=f"截至 {as_of.isoformat()} · 乡镇大小 = 在册户数，颜色 = 覆盖率；点击乡镇查看其村",
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
