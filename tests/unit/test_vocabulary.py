"""One Chinese label per domain word, everywhere a user looks (issue 12).

``graphsvc/model.py`` holds every closed set of the domain's words with its one Chinese label.
These tests walk what users see of the tiny county, on both stores, and fail on a Chinese
label for a domain word that does not come from there: the Chinese spreadsheets' values and
file names, every diagram's legend and hover text, the index and trends pages, the repair
plan's reasons and the CLI's summary table (its other tables show the English words only).
Each surface must show the word's one label where it shows the word, and none of the wordings
that had drifted before (``OLD``).
"""

from __future__ import annotations

import ast
import csv
import datetime as dt
import html
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests_support import ROOT

from graphsvc import model as M
from graphsvc.analysis.repair import plan
from graphsvc.analysis.trends import trends_body
from graphsvc.bundle import zh
from graphsvc.bundle.schema import SPECS
from graphsvc.importer import export_path
from graphsvc.model import (
    Category,
    ChainLevel,
    Channel,
    CommitteeMemberProblem,
    DelegateProblem,
    HouseholdStatus,
    Kind,
    LiaisonKind,
    MemberProblem,
    OrgKind,
    OrgLevel,
    RecordStatus,
    Role,
    Sector,
    UncoveredReason,
    Word,
)
from graphsvc.rules import RuleSettings
from graphsvc.stores.base import Store
from visual.pages import index_page
from visual.render import file_link
from visual.trends import trends_page
from visual.views import VIEWS

DAY = dt.date(2026, 6, 30)
RULES = RuleSettings()

# The wordings that had drifted before model.py (issue 12), each with the word it meant: none
# may be shown again. (在职, 离任, 迁出 and 党委 are still read from a spreadsheet, never written.)
OLD = {
    "久未联系": HouseholdStatus.stale,  # the CLI's
    "党员已离开": UncoveredReason.member_inactive,  # the CLI's
    "联系党员已不在岗": UncoveredReason.member_inactive,  # the repair plan's
    "无党员联系": UncoveredReason.no_member,  # the CLI's and the repair plan's
    "联系党员无党代表": UncoveredReason.no_delegate,  # the repair plan's
    "党代表无县委委员": UncoveredReason.no_committee_member,  # the repair plan's
    "县委委员→党代表": LiaisonKind.committee_member_delegate,  # the diagrams'
    "党代表→党员": LiaisonKind.delegate_member,  # the diagrams'
    "党员→户": LiaisonKind.member_household,  # the diagrams'
}
OLD_CELLS = {  # spreadsheet values written before (a name may still say 党委: 柳树镇党委)
    "在职": RecordStatus.active, "离任": RecordStatus.inactive, "迁出": RecordStatus.inactive,
    "党委": OrgKind.committee,
}

# the Word set of every enum and list column of a bundle (its Chinese cells are those labels)
COLUMN_WORDS: dict[tuple[str, str], type[Word]] = {
    ("organizations", "kind"): OrgKind, ("organizations", "level"): OrgLevel,
    ("units", "sector"): Sector, ("people", "roles"): Role, ("people", "status"): RecordStatus,
    ("households", "categories"): Category, ("households", "status"): RecordStatus,
    ("liaisons", "kind"): LiaisonKind, ("contacts", "channel"): Channel,
}


def labels(cls: type[Word]) -> set[str]:
    return {w.label for w in cls}


def page_text(page: str) -> str:
    """All the text a page shows: its HTML without tags, and the labels and hover texts of
    its diagram (handed to the browser as JSON)."""
    # (the raw JSON is in the HTML too, its line breaks escaped: \\n)
    parts = [html.unescape(re.sub(r"<[^>]+>", "\n", page)).replace("\\n", "\n")]
    for m in re.finditer(r"new vis\.DataSet\((.*?)\);\n", page):
        for item in json.loads(m.group(1)):
            parts += [str(item.get(k) or "") for k in ("label", "title", "tip")]
    return "\n".join(parts)


def legend(page: str) -> list[str]:
    """The entries of every legend of a page (the main one and each layer's)."""
    return [html.unescape(x)
            for ul in re.findall(r'<ul class="gs-legend">(.*?)</ul>', page, re.DOTALL)
            for x in re.findall(r"</span>(.*?)</li>", ul)]


def assert_no_old_wording(text: str, where: str) -> None:
    shown = {w: word for w, word in OLD.items() if w in text}
    assert not shown, f"{where} shows old wordings {shown}; model.py's labels: " + ", ".join(
        f"{word.value} = {word.label}" for word in shown.values())


def assert_words_are_labels(text: str, where: str) -> None:
    """Where a page names a word after its heading (未覆盖：…, 问题：…, 类别：…, 联系（…）), the
    word is the label of a word of that set, never another spelling."""
    zh = "[\u4e00-\u9fff]"  # a word is Chinese characters; a count after the heading is not one
    checks: list[tuple[str, set[str]]] = [
        (rf"未覆盖：({zh}+)", labels(UncoveredReason)),
        (rf"问题：({zh}+)",
         labels(DelegateProblem) | labels(MemberProblem) | labels(CommitteeMemberProblem)),
        (rf"类别：({zh}+(?:、{zh}+)*)", labels(Category) | labels(Sector) | {"普通户", "未填"}),
        (r"(?:拟议|现有)联系（([^）]+)）", labels(LiaisonKind)),
    ]
    for pattern, allowed in checks:
        for m in re.finditer(pattern, text):
            found = set(m.group(1).split("、"))
            assert found <= allowed, f"{where}: '{m.group(0)}' is not in model.py's words {allowed}"


# -- model.py itself ------------------------------------------------------------------------------


def test_every_word_has_exactly_one_label_and_model_stands_alone() -> None:
    assert M.WORDS, "model.py defines no words"
    for cls in M.WORDS:
        got = {w.value: w.label for w in cls}
        assert all(got.values()) and len(set(got.values())) == len(got), (cls.__name__, got)
        assert not set(got.values()) & set(OLD), cls.__name__
        for w in cls:
            assert M.label(w) == M.label_of(cls, w.value) == w.label
    assert M.label_of(UncoveredReason, "some_new_reason") == "some_new_reason"
    assert ChainLevel.member.label == Kind.PERSON.label  # one spelling for one kind of person
    assert {RecordStatus.inactive.label_of(Kind.PERSON),
            RecordStatus.inactive.label_of(Kind.HOUSEHOLD)} == {"不在岗", "不在册"}
    # the bottom layer: it imports nothing from graphsvc
    tree = ast.parse((ROOT / "graphsvc" / "model.py").read_text(encoding="utf-8"))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} | {
        a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert not {m for m in imported if m and m.split(".")[0] in ("graphsvc", "visual")}, imported


def test_the_word_sets_are_the_formats_and_the_apis() -> None:
    """The bundle's enum columns, the rules' answers and the OpenAPI enums are model.py's sets."""
    from graphsvc.api import schemas as S

    for (name, column), cls in COLUMN_WORDS.items():
        assert SPECS[name].column(column).choices == M.values(cls), (name, column)
    for cls in (HouseholdStatus, UncoveredReason, DelegateProblem, MemberProblem,
                CommitteeMemberProblem, Category, Role, RecordStatus, LiaisonKind, Channel, Sector):
        assert getattr(S, cls.__name__) is cls


# -- the Chinese spreadsheets ---------------------------------------------------------------------


def test_the_chinese_export_writes_the_labels(tiny: Store, tmp_path: Path) -> None:
    """``graphsvc export --headers zh`` of the tiny county: every enum and list cell is its
    word's label (a person's status 在岗/不在岗, a household's 在册/不在册), every entity file is
    named by its kind's label, and every label the data needs turns up."""
    export_path(tiny, tmp_path / "zh", headers="zh")
    seen: dict[tuple[str, str], set[str]] = {k: set() for k in COLUMN_WORDS}
    for spec in SPECS.values():
        path = tmp_path / "zh" / zh.filename(spec.name, "zh")
        if spec.kind is not None:
            assert path.name == f"{spec.kind.label}.csv"
        with path.open(encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
        for (name, column), cls in COLUMN_WORDS.items():
            if name != spec.name:
                continue
            kind = spec.kind or Kind.PERSON
            allowed = ({w.label_of(kind) for w in RecordStatus} if cls is RecordStatus
                       else labels(cls))
            for row in rows:
                cell = row[zh.column_word(name, column, "zh")]
                words = [w for w in cell.split(";") if w]
                assert not set(words) & set(OLD_CELLS), (name, column, cell)
                assert set(words) <= allowed, (name, column, cell, allowed)
                seen[(name, column)] |= set(words)
    assert seen[("people", "status")] == {"在岗", "不在岗"}
    assert seen[("households", "categories")] == labels(Category)
    assert seen[("liaisons", "kind")] == labels(LiaisonKind)
    assert seen[("organizations", "kind")] == labels(OrgKind)
    assert seen[("units", "sector")] == labels(Sector)
    assert seen[("people", "roles")] == labels(Role)


# -- the diagrams and pages -----------------------------------------------------------------------

PAGES: list[tuple[str, str | None, dict[str, Any]]] = [
    ("chain", "C1", {}), ("chain", "C3", {}), ("delegate", "D2", {}), ("delegate", "D1", {}),
    ("member", "M01", {}), ("member", "M16", {}), ("household", "H052", {}),
    ("household", "H059", {}), ("pairings", None, {}), ("pairings", "T2", {}),
    ("township", "T1", {"plan": True}), ("township", "T2", {"plan": True}), ("township", None, {}),
]


def test_every_diagram_and_page_shows_the_labels(tiny: Store) -> None:
    """Each diagram of the tiny county (with the repair plan's layer on), the index and the
    trends page: no old wording, every word named after its heading is a label, and the
    legends name the statuses, reasons, kinds and roles by their labels."""
    shown: list[str] = []
    for view, rid, kw in PAGES:
        args = (rid,) if rid else ()
        page = VIEWS[view](tiny, *args, as_of=DAY, rules=RULES, link=file_link, **kw)
        text, where = page_text(page), f"the {view} diagram of {rid or 'the county'}"
        assert_no_old_wording(text, where)
        assert_words_are_labels(text, where)
        shown += legend(page)
        shown.append(text)
    index = index_page(tiny, as_of=DAY, rules=RULES, link=file_link)
    body = trends_body(tiny, RULES, first=dt.date(2026, 1, 1), last=DAY, step="month")
    trends = trends_page(body, link=file_link)
    for where, page in (("the index page", index), ("the trends page", trends)):
        assert_no_old_wording(page_text(page), where)
        assert_words_are_labels(page_text(page), where)
    everything = "\n".join(shown)
    # the household legend: each status and each reason by its label
    entries = set(legend(VIEWS["chain"](tiny, "C1", as_of=DAY, rules=RULES, link=file_link)))
    assert {HouseholdStatus.covered.label,
            f"{HouseholdStatus.stale.label}（超期未走访）"} <= entries
    assert {f"未覆盖：{r.label}" for r in UncoveredReason} <= entries
    assert {Role.committee_member.label, Role.delegate.label, ChainLevel.member.label,
            RecordStatus.inactive.label} <= entries
    # the plan's layer names its proposed liaisons by their kinds' labels
    assert LiaisonKind.member_household.label in everything
    # the trends page: its series and table headers
    assert {HouseholdStatus.covered.label, HouseholdStatus.stale.label} <= set(legend_spans(trends))
    for r in UncoveredReason:
        assert f"<th>{r.label}</th>" in trends and f"未覆盖：{r.label}" in trends
    for s in Sector:
        assert s.label in everything
    assert f"<th>{HouseholdStatus.stale.label}</th>" in index


def legend_spans(page: str) -> list[str]:
    """The trends page's legend (spans, not a list)."""
    return [html.unescape(x) for x in re.findall(r"</i>([^<]+)</span>", page)]


# -- the repair plan's reasons --------------------------------------------------------------------


def test_repair_reasons_name_the_households_reason_by_its_label(tiny: Store) -> None:
    """A proposed member-household liaison says why the household is uncovered: its reason's
    label (the plan used to write 无党员联系 and 联系党员已不在岗 where the rest said 无联系党员
    and 联系党员不在岗)."""
    body = plan(tiny, DAY, RULES)
    items = [i for i in body["items"] if i["kind"] == "member-household"]
    assert items
    reasons = {r["household_id"]: r["reason"] for r in tiny.households(DAY, RULES)[1]
               if r["status"] == "uncovered"}
    named = set()
    for i in items:
        m = re.match(r"该户未覆盖（([^）]+)）", i["reason"])
        assert m, i["reason"]
        assert m.group(1) == UncoveredReason(reasons[i["to_id"]]).label, (i, reasons[i["to_id"]])
        named.add(m.group(1))
    assert named & {UncoveredReason.no_member.label, UncoveredReason.member_inactive.label}
    text = json.dumps(body, ensure_ascii=False)
    assert_no_old_wording(text, "the repair plan")
    assert_words_are_labels(text, "the repair plan")


# -- the CLI --------------------------------------------------------------------------------------


def _cli(args: list[str], env: dict[str, str], cwd: Path) -> str:
    full = {k: v for k, v in os.environ.items() if not k.startswith("GRAPHSVC_")}
    full.update(env, PYTHONPATH=str(ROOT), COLUMNS="200")
    r = subprocess.run([sys.executable, "-m", "graphsvc", *args], env=full, cwd=cwd,
                       capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL,
                       check=False)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_the_cli_tables_show_the_labels(cli_env: dict[str, str], tiny_dir: Path,
                                        tmp_path: Path) -> None:
    """``graphsvc summary`` of the tiny county names each status, reason, category, committee
    kind, sector and role by its English word and its one label (it used to say 久未联系 for
    stale and 党员已离开 for member_inactive, where the diagrams said 联系过期 and
    联系党员不在岗)."""
    _cli(["import", str(tiny_dir)], cli_env, tmp_path)
    table = _cli(["summary", "--as-of", DAY.isoformat()], cli_env, tmp_path)
    assert_no_old_wording(table, "graphsvc summary")
    lines = table.splitlines()

    def shown(english: str, word: Word) -> None:
        assert any(f"{english} {word.label}" in line for line in lines), (english, word, table)

    for s in HouseholdStatus:
        shown(s.value, s)
    for r in UncoveredReason:
        assert any(line.find(r.label) > 0 for line in lines), (r, table)
    for c in Category:
        shown(c.value, c)
    for k in OrgKind:
        assert any(k.label in line for line in lines), (k, table)
    for sector in Sector:
        assert any(sector.label in line for line in lines), (sector, table)
    shown("committee members", Role.committee_member)
    shown("delegates", Role.delegate)
    shown("Party members", Kind.PERSON)
    shown("households", Kind.HOUSEHOLD)
