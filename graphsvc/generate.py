"""A deterministic generator of realistic synthetic bundles shaped like the source county.

One county reproduces the figures of the source document (``SOURCE_FIGURES``)
as the product's summary counts them on ``today`` (default 2026-06-30; see
"What holds on a date" in ``spec/COVERAGE_RULES.md``): 12 townships, 200
villages, 33 Party committees, 611 branches and general branches (row counts),
and, on ``today``, 13,787 active Party members (at least 1,300 of them active
cadres), 63 units with a pairing that counts (58 agencies and institutions + 5
enterprises) and 59 villages with a pairing that counts, every one of them
needing a paired unit; plus about 10,000 households on the three-contact chain.
A realistic share of every gap that ``spec/COVERAGE_RULES.md`` defines is
injected on top of those figures, never carved out of them: the files also hold
the people who left, 1-2 idle units (their only pairing ended) and 2-3 villages
needing a unit whose pairing ended, so that an audit as of ``today`` finds each
kind while most of the county is covered.

``generate_bundle(path, counties=N)`` places N such counties side by side.
Every id starts with a county code (``c01-``), so ids are unique across all
files and counties; rows are written in the canonical order of the exporter
(entity files by id, relationship files by their identifying columns, contacts
by all columns), one county at a time. Only the standard library is used and
nothing depends on the clock or on hash order: the same seed gives the same
bytes.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Generic, TypeVar

__all__ = ["COLUMNS", "SOURCE_FIGURES", "generate_bundle"]

# Column order exactly as spec/DATA_FORMAT.md lists it (and the file order of the exporter).
COLUMNS: dict[str, tuple[str, ...]] = {
    "townships.csv": ("id", "name"),
    "villages.csv": ("id", "name", "township_id", "needs_pairing"),
    "organizations.csv": ("id", "name", "kind", "level", "parent_id", "township_id", "village_id"),
    "units.csv": ("id", "name", "sector", "organization_id"),
    "people.csv": ("id", "name", "roles", "status", "inactive_since", "hardship",
                   "organization_id", "township_id", "village_id", "phone"),
    "households.csv": ("id", "head_name", "village_id", "categories", "size", "status",
                       "inactive_since", "phone", "address"),
    "liaisons.csv": ("kind", "from_id", "to_id", "since", "until"),
    "pairings.csv": ("unit_id", "village_id", "since", "until"),
    "supports.csv": ("person_id", "household_id", "since", "until"),
    "contacts.csv": ("person_id", "household_id", "date", "channel", "request", "resolved"),
}

# The figures of ONE county, as the source document gives them. Two kinds:
#
# * ROW COUNTS: rows of the county's files. Places and organisations carry no
#   dates, so these hold on every date.
# * ON-DATE COUNTS, on ``today`` (COVERAGE_RULES.md "What holds on a date"): only
#   ACTIVE people, only pairings that COUNT (since <= today < until). They are
#   what ``summarize(G, today)`` reports. The files hold more rows than these: the
#   gaps (people who left, idle units, unpaired villages) come on top.
SOURCE_FIGURES: dict[str, int] = {
    # -- row counts
    "townships": 12,  # rows of townships.csv
    "villages": 200,  # rows of villages.csv
    "committees": 33,  # 党(工)委: organizations.csv rows of kind committee
    "county_level_committees": 21,  # 县直党(工)委 (the county committee + 20)
    "township_committees": 12,  # 乡(镇)党委
    "branches": 611,  # 党(总)支部: organizations.csv rows of kind branch + general_branch
    "village_branches": 200,  # 村党(总)支部
    # -- on-date counts, on today
    "people": 13787,  # ACTIVE people (every person is a Party member); people.csv
    #                   has these + the people who left
    "village_people_min": 5200,  # 党员 5200 余人: ACTIVE people with a village_id
    "cadres_min": 1300,  # 1300 多名 … 干部 结"穷亲": ACTIVE people with role cadre
    "paired_units": 63,  # units with a COUNTING pairing; units.csv has these + 1-2 idle
    "agencies_institutions": 58,  # sector agency or institution, among the 63
    "enterprises": 5,  # sector enterprise, among the 63
    "paired_villages": 59,  # distinct villages with a COUNTING pairing, all needs_pairing=true;
    #                         2-3 more villages need a unit but their pairing ended
    "paired_townships": 12,  # distinct townships of those 59 villages
}

# --------------------------------------------------------------------------- shape

_N_PEOPLE = SOURCE_FIGURES["people"]
_N_VILLAGES = SOURCE_FIGURES["villages"]
_N_PAIRED = SOURCE_FIGURES["paired_villages"]
_N_BRANCHES = SOURCE_FIGURES["branches"]
_N_COMMITTEE_MEMBERS = 35
_N_CM_DELEGATES = 5  # committee members who are also delegates
_N_DELEGATES = 300  # people with role delegate (the 5 above included)
_N_CADRES = 1350
_TOWNSHIP_BRANCHES = 12  # township-level branches per township
_CHAIN_START = date(2007, 7, 1)  # 三联系制度 since 2007
_CONGRESSES = (date(2007, 6, 18), date(2011, 9, 20), date(2016, 9, 25), date(2021, 9, 26))
_CONTACT_WINDOW = 365  # days of contacts up to today

# --------------------------------------------------------------------------- words

_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞"
)
_GIVEN = (
    "伟刚勇毅俊峰强军平保东文辉力明永健世广志义兴良海山仁波宁贵福生龙元全国胜学祥才发武新利清"
    "飞彬富顺信杰涛昌成康星光天达安岩中茂进林有坚和彪博诚先敬震振壮会群豪心邦承乐绍功松善厚庆"
    "磊民友裕河哲江超浩亮政谦奇宏朋斌梁栋维启克伦翔旭鹏泽晨士建家树德行时泰盛秀娟英华慧巧美娜"
    "静淑惠珠翠雅芝玉萍红娥玲芬芳燕彩春菊兰凤洁梅琳素云莲真环雪荣爱霞香月艳瑞佳嘉琼勤珍贞莉桂"
    "丽金银宝万喜长占双玉振铁柱满仓凤霞桂兰秀芝淑珍"
)
_TOWN_FIXED = ("柳树镇", "林口镇", "建堂乡")  # named in the source document
_TOWN_POOL = (
    "东升镇", "西河乡", "南山镇", "北岭乡", "兴隆镇", "长发镇", "永丰乡", "富民乡", "新立镇",
    "胜利乡", "庆丰镇", "和平乡", "双河镇", "三道镇", "五星乡", "红旗乡", "青山镇", "白石乡",
    "向阳乡", "前进镇", "民主乡", "团结镇", "保安乡", "中和镇", "永和乡", "德胜镇", "太安乡",
    "丰收乡", "新兴镇", "东风镇", "朝阳乡", "金山乡", "安邦镇", "宝泉镇", "万发镇", "太平镇",
)
_VILLAGE_FIXED = {"柳树镇": ("双宝村", "复兴村"), "林口镇": ("兴华村",), "建堂乡": ("小盘道村",)}
_VILLAGE_A = "永长新东西南北前后大小上下兴太福丰庆红胜富民和万双三五平安宝靖德义"
_VILLAGE_B = "安兴发胜利丰华和平宝山河林泉阳明光合乐荣盛源岭沟屯城家德义福旺"
_COUNTY_POOL = (
    "青岭", "松河", "白泉", "兴安", "宁远", "嘉禾", "丰宁", "长岭", "富源", "安平", "永宁",
    "广德", "新河", "东宁", "清源", "临江", "瑞丰", "和顺", "宝山", "龙泉",
)

# The 20 county-level Party (working) committees besides the county committee:
# (name, level, base unit name or "" for working committees).
_COMMITTEES: tuple[tuple[str, str, str], ...] = (
    ("县直属机关工作委员会", "county", ""),
    ("县委教育工作委员会", "county", ""),
    ("县非公有制经济组织党工委", "county", ""),
    ("县社会组织党委", "county", ""),
    *((f"{b}党委", "unit", b) for b in (
        "县林业局", "县农业委员会", "县公安局", "县卫生局", "县交通运输局", "县水务局",
        "县财政局", "县商务局", "县畜牧局", "县粮食局", "县国土资源局", "县住房和城乡建设局",
        "县民政局", "县人民医院", "县第一中学", "县国有林场管理局",
    )),
)
_JG, _JY, _FG, _SZ = ("县直属机关工作委员会", "县委教育工作委员会", "县非公有制经济组织党工委",
                      "县社会组织党委")

# The 63 paired units: (name, sector, parent committee name for its branch).
_AGENCIES = (
    "县林业局", "县农业委员会", "县公安局", "县卫生局", "县交通运输局", "县水务局", "县财政局",
    "县商务局", "县畜牧局", "县粮食局", "县国土资源局", "县住房和城乡建设局", "县民政局",
    "县委办公室", "县政府办公室", "县委组织部", "县委宣传部", "县委统战部", "县委政法委员会",
    "县纪律检查委员会", "县人大常委会办公室", "县政协办公室", "县发展和改革局", "县教育局",
    "县人力资源和社会保障局", "县环境保护局", "县审计局", "县统计局", "县司法局", "县人民检察院",
    "县人民法院", "县工商行政管理局", "县地方税务局", "县文化广电新闻出版局", "县科学技术局",
    "县安全生产监督管理局", "县质量技术监督局", "县扶贫开发办公室", "县总工会", "共青团县委",
    "县妇女联合会", "县残疾人联合会",
)
_INSTITUTIONS = (
    ("县人民医院", ""), ("县第一中学", ""), ("县国有林场管理局", ""),
    ("县农业技术推广中心", "县农业委员会党委"), ("县中医院", "县卫生局党委"),
    ("县疾病预防控制中心", "县卫生局党委"), ("县第二中学", _JY), ("县职业教育中心", _JY),
    ("县广播电视台", _JG), ("县林业技术推广站", "县林业局党委"), ("县畜牧兽医总站", "县畜牧局党委"),
    ("县水利工程管理站", "县水务局党委"), ("县种子管理站", "县农业委员会党委"),
    ("县农机技术推广站", "县农业委员会党委"), ("县委党校", _JG), ("县图书馆", _JG),
)
_ENTERPRISES = ("龙鄂烟叶有限公司", "丰源油脂有限公司", "富强肉制品加工有限公司",
                "江福大豆蛋白有限公司", "县供电有限公司")
# 1-2 idle units on top of the 63: agencies whose only pairing ended before today.
_IDLE_UNITS = ("县科学技术协会", "县工商业联合会")
_MORE_AGENCIES = (
    "县档案局", "县气象局", "县物价局", "县信访局", "县机关事务管理局", "县机构编制委员会办公室",
    "县供销合作社联合社", "县城市管理行政执法局", "县食品药品监督管理局", "县烟草专卖局",
    "县邮政局", "县农村信用合作联社", "县国家税务局", "县地震局", "县老干部局", "县招商局",
    "县旅游局", "县体育局", "县人口和计划生育局", "县房产管理局", "县公安局交通警察大队",
    "县公安消防大队", "县看守所", "县民政局敬老院", "县殡葬管理所",
)
_SCHOOLS = (
    "县第三中学", "县第四中学", "县第五中学", "县实验中学", "县实验小学", "县第一小学",
    "县第二小学", "县第三小学", "县第四小学", "县第五小学", "县第六小学", "县实验幼儿园",
    "县特殊教育学校", "县教师进修学校", "县民族中学",
)
_SOCIAL = ("县个体劳动者协会", "县私营企业协会", "县律师协会", "县会计师事务所联合",
           "县老年大学", "县农民专业合作社联合会", "县物业服务行业协会", "县慈善总会")
_FIRM_A = "鑫达宏远金禾绿源丰泽北方龙江兴农恒通瑞丰华宇盛达天源福满永兴"
_FIRM_B = ("米业", "木业", "粮贸", "建材", "牧业", "农机", "酒业", "商贸", "物流", "建筑",
           "食品", "种业", "药业", "纸业", "石材")
_TOWN_BRANCHES = ("机关第一党支部", "机关第二党支部", "离退休干部党支部", "中心学校党支部",
                  "卫生院党支部", "派出所党支部", "农业综合服务中心党支部", "财政所党支部",
                  "林业工作站党支部", "敬老院党支部", "{c}社区党支部", "个体私营企业联合党支部")
_COMMUNITIES = "繁荣建设幸福和谐新华民主光明站前文化振兴"

_REQUESTS = (
    "申请低保", "屋顶漏雨", "子女上学困难", "看病就医", "申请危房改造", "缺少春耕种子化肥",
    "自来水管冻裂", "申请临时救助", "老人无人照料", "申请残疾人补贴", "耕地流转纠纷",
    "道路泥泞出行难", "外出务工找工作", "申请养老保险", "申请新农合报销", "冬季取暖困难",
    "房屋漏雨需维修", "家畜防疫", "申请小额贷款", "邻里宅基地纠纷", "电线老化", "孩子助学金",
    "大病医疗救助", "农机维修", "申请五保供养",
)

_ONE = timedelta(days=1)


def _apportion(total: int, weights: list[float]) -> list[int]:
    """Split ``total`` into integers proportional to ``weights`` (largest remainder)."""
    s = sum(weights)
    quotas = [total * w / s for w in weights]
    counts = [int(q) for q in quotas]
    order = sorted(range(len(weights)), key=lambda i: (-(quotas[i] - counts[i]), i))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


def _iso(d: date | None) -> str:
    return d.isoformat() if d is not None else ""


def _b(v: bool) -> str:
    return "true" if v else "false"


# --------------------------------------------------------------------------- records


class _P:
    """A person (Party member)."""

    __slots__ = ("hardship", "id", "name", "org", "phone", "roles", "since", "status", "town",
                 "unit", "village")

    def __init__(self, pid: str, name: str, roles: tuple[str, ...], phone: str) -> None:
        self.id, self.name, self.roles, self.phone = pid, name, roles, phone
        self.status, self.hardship = "active", False
        self.since: date | None = None
        self.org = self.town = self.village = ""
        self.unit = -1  # index of the paired unit a cadre works in

    def active(self, on: date) -> bool:
        return self.status == "active" or (self.since is not None and on < self.since)


class _H:
    """A household."""

    __slots__ = ("addr", "cats", "head", "id", "phone", "seq", "since", "size", "status", "v")

    def __init__(self, v: int, seq: int) -> None:
        self.v, self.seq = v, seq
        self.id = self.head = self.phone = self.addr = ""
        self.cats: tuple[str, ...] = ()
        self.size, self.status = 1, "active"
        self.since: date | None = None

    def active(self, on: date) -> bool:
        return self.status == "active" or (self.since is not None and on < self.since)


_A = TypeVar("_A")
_B = TypeVar("_B")


class _L(Generic[_A, _B]):
    """A liaison, pairing or support: from, to, since, until."""

    __slots__ = ("a", "b", "since", "until")

    def __init__(self, a: _A, b: _B, since: date | None, until: date | None = None) -> None:
        self.a, self.b, self.since, self.until = a, b, since, until

    def counts(self, on: date) -> bool:
        return (self.since is None or self.since <= on) and (self.until is None or on < self.until)


# --------------------------------------------------------------------------- one county


class _County:
    def __init__(self, k: int, width: int, seed: int, today: date) -> None:
        self.rng = random.Random(f"graphsvc.generate:{seed}:{k}")
        self.k = k
        self.pre = f"c{k:0{width}d}-"
        self.today = today
        sw = [1.0 / (i + 4) ** 0.9 for i in range(len(_SURNAMES))]
        acc, self._sur_cum = 0.0, []
        for w in sw:
            acc += w
            self._sur_cum.append(acc)

    # ---- small helpers
    def rdate(self, a: date, b: date) -> date:
        """A uniform date in [a, b] (b clamped to a)."""
        n = (b - a).days
        return a if n <= 0 else a + timedelta(days=self.rng.randint(0, n))

    def name(self) -> str:
        r = self.rng
        s = r.choices(_SURNAMES, cum_weights=self._sur_cum)[0]
        g = r.choice(_GIVEN) if r.random() < 0.3 else r.choice(_GIVEN) + r.choice(_GIVEN)
        return s + g

    def phone(self) -> str:
        r = self.rng
        return f"1{r.choice('35783')}{r.randrange(10 ** 9):09d}"

    def until_after(self, since: date | None, lo: date, hi: date) -> date:
        """An end date in [lo, hi], strictly after ``since``."""
        if since is not None:
            lo = max(lo, since + _ONE)
        return self.rdate(lo, max(lo, hi))

    # ---- build everything
    def build(self) -> dict[str, list[list[str]]]:
        self._places()
        self._organizations()
        self._units_and_pairings()
        self._people()
        self._chain()
        self._households_finish()
        self._committee_links()
        self._inject_person_gaps()
        self._top_up()
        self._supports()
        self._contacts()
        return self._rows()

    # ---- townships and villages
    def _places(self) -> None:
        r, pre = self.rng, self.pre
        if self.k == 1:
            pool = [n for n in _TOWN_POOL if n not in _TOWN_FIXED]
            tnames = list(_TOWN_FIXED) + r.sample(pool, 12 - len(_TOWN_FIXED))
        else:
            tnames = r.sample(list(_TOWN_FIXED + _TOWN_POOL), 12)
        self.towns = [(f"{pre}T{i + 1:02d}", n) for i, n in enumerate(tnames)]
        counts = _apportion(_N_VILLAGES, [r.uniform(0.75, 1.25) for _ in tnames])
        used = {v for vs in _VILLAGE_FIXED.values() for v in vs}
        self.villages: list[list[Any]] = []  # [id, name, town index, needs_pairing]
        self.town_villages: list[list[int]] = []
        for ti, (tn, n) in enumerate(zip(tnames, counts)):
            names = list(_VILLAGE_FIXED.get(tn, ()))[:n]
            while len(names) < n:
                a, b = r.choice(_VILLAGE_A), r.choice(_VILLAGE_B)
                cand = f"{a}{b}村"
                if a != b and cand not in used:
                    used.add(cand)
                    names.append(cand)
            idx = []
            for nm in names:
                idx.append(len(self.villages))
                self.villages.append([f"{pre}V{len(self.villages) + 1:03d}", nm, ti, False])
            self.town_villages.append(idx)
        # 59 villages need and have a paired unit, in every township; the villages named
        # in the source as paired are among them. 2-3 more need one but their pairing
        # ended (the unpaired gap, on top of the 59).
        need = [i for i, v in enumerate(self.villages)
                if v[1] in {x for vs in _VILLAGE_FIXED.values() for x in vs}]
        have = {self.villages[i][2] for i in need}
        for ti, idx in enumerate(self.town_villages):
            if ti not in have:
                need.append(r.choice(idx))
        taken = set(need)
        rest = [i for i in range(len(self.villages)) if i not in taken]
        n_fill = _N_PAIRED - len(need)
        picked = r.sample(rest, n_fill + r.choice((2, 3)))
        self.paired = sorted(need + picked[:n_fill])  # a pairing counts on today
        self.unpaired = sorted(picked[n_fill:])  # their pairing ended before today
        self.needing = sorted(self.paired + self.unpaired)
        for i in self.needing:
            self.villages[i][3] = True

    # ---- organisations
    def _organizations(self) -> None:
        r, pre = self.rng, self.pre
        self.orgs: list[list[str]] = []
        by_name: dict[str, str] = {}

        def add(name: str, kind: str, level: str, parent: str = "", town: str = "",
                village: str = "") -> str:
            oid = f"{pre}O{len(self.orgs) + 1:04d}"
            self.orgs.append([oid, name, kind, level, parent, town, village])
            by_name.setdefault(name, oid)
            return oid

        cname = "某" if self.k == 1 else _COUNTY_POOL[(self.k - 2) % len(_COUNTY_POOL)]
        if self.k > 1 + len(_COUNTY_POOL):
            cname += str((self.k - 2) // len(_COUNTY_POOL) + 1)
        self.county_name = cname
        self.o_county = add(f"中共{cname}县委员会", "committee", "county")
        self.o_committees = [add(n, "committee", lvl, self.o_county) for n, lvl, _ in _COMMITTEES]
        self.committee_by_base = {base: self.o_committees[i]
                                  for i, (_, _, base) in enumerate(_COMMITTEES) if base}
        self.o_towns = [add(f"{tn}党委", "committee", "township", self.o_county, tid)
                        for tid, tn in self.towns]
        self.o_village = []
        for vid, vn, ti, _ in self.villages:
            kind = "general_branch" if r.random() < 0.15 else "branch"
            suffix = "党总支" if kind == "general_branch" else "党支部"
            self.o_village.append(add(f"{vn}{suffix}", kind, "village", self.o_towns[ti],
                                      self.towns[ti][0], vid))
        self.o_town_branches: list[list[str]] = []
        for ti, (tid, tn) in enumerate(self.towns):
            comm = r.choice(_COMMUNITIES) + r.choice(_COMMUNITIES)
            self.o_town_branches.append([
                add(tn + b.format(c=comm), "general_branch" if j == 0 else "branch", "township",
                    self.o_towns[ti], tid)
                for j, b in enumerate(_TOWN_BRANCHES)])
        self._org_add, self._org_by_name = add, by_name

    # ---- units, their organisations, other branches, pairings
    def _units_and_pairings(self) -> None:
        r, pre, add = self.rng, self.pre, self._org_add
        cm = dict(zip((n for n, _, _ in _COMMITTEES), self.o_committees))
        specs = ([(n, "agency", _JG) for n in _AGENCIES]
                 + [(n, "institution", p or _JG) for n, p in _INSTITUTIONS]
                 + [(n, "enterprise", _FG) for n in _ENTERPRISES])
        self.n_paired_units = len(specs)  # 63, with a pairing that counts on today
        specs += [(n, "agency", _JG) for n in _IDLE_UNITS[: r.choice((1, 2))]]  # idle
        self.units: list[list[str]] = []  # [id, name, sector, organization_id]
        unit_branch_parent: list[tuple[str, str]] = []
        for i, (n, sector, parent) in enumerate(specs):
            if n in self.committee_by_base:
                oid = self.committee_by_base[n]
            else:
                kind = "general_branch" if r.random() < 0.2 else "branch"
                oid = add(n + ("党总支" if kind == "general_branch" else "党支部"), kind, "unit",
                          cm[parent])
                unit_branch_parent.append((n, cm[parent]))
            self.units.append([f"{pre}U{i + 1:02d}", n, sector, oid])
        self.unit_orgs = [u[3] for u in self.units]
        # the remaining county-level branches, up to 611 branches in all
        cands: list[tuple[str, str]] = []
        for n, _, base in _COMMITTEES:
            if base:
                cands += [(f"{base}机关第一党支部", cm[n]), (f"{base}机关第二党支部", cm[n]),
                          (f"{base}离退休干部党支部", cm[n])]
        cands += [(f"{s}党支部", cm[_JY]) for s in _SCHOOLS]
        cands += [(f"{n}党支部", cm[_JG]) for n in _MORE_AGENCIES]
        cands += [(f"{n}党支部", cm[_SZ]) for n in _SOCIAL]
        cands += [(f"{n}离退休干部党支部", p) for n, p in unit_branch_parent]
        firms = [f"{_FIRM_A[i:i + 2]}{b}有限公司" for i in range(0, len(_FIRM_A), 2)
                 for b in _FIRM_B]
        r.shuffle(firms)
        cands += [(f"{f}党支部", cm[_FG]) for f in firms]
        have = sum(1 for o in self.orgs if o[2] != "committee")
        need = _N_BRANCHES - have
        if need > len(cands):  # never with the lists above; a guard for edits
            cands += [(f"县直机关第{i + 1}联合党支部", cm[_JG]) for i in range(need - len(cands))]
        self.o_other: list[str] = []
        for name, parent in cands[:need]:
            kind = "general_branch" if r.random() < 0.08 else "branch"
            if kind == "general_branch":
                name = name.replace("党支部", "党总支")
            self.o_other.append(add(name, kind, "unit", parent))
        # pairings: each of the 63 units with >=1 of the 59 villages, villages with 1-2
        # units, all counting on today; the gaps (ended pairings) come on top
        nu, vs = self.n_paired_units, list(self.paired)
        r.shuffle(vs)
        us = list(range(nu))
        r.shuffle(us)
        self.pairings: list[_L[int, int]] = []  # a = unit index, b = village index
        early, late = date(2008, 3, 1), date(2012, 12, 31)
        for i, v in enumerate(vs):
            self.pairings.append(_L(us[i], v, self.rdate(early, late)))
        for j, u in enumerate(us[len(vs):]):  # the 4 remaining units: second unit of a village
            self.pairings.append(_L(u, vs[j], self.rdate(date(2009, 1, 1), date(2016, 12, 31))))
        extra = list(range(8))  # units us[4..11] also help a second village vs[20..27]
        for j in extra:
            self.pairings.append(_L(us[4 + j], vs[20 + j],
                                    self.rdate(date(2010, 1, 1), date(2018, 12, 31))))
        hi = self.today - timedelta(days=30)
        # gaps: the 2-3 villages needing a unit whose only pairing ended (the unit keeps
        # its own village) ...
        for j, v in enumerate(self.unpaired):
            p = _L(us[30 + j], v, self.rdate(early, late))
            p.until = self.until_after(p.since, date(2019, 1, 1), hi)
            self.pairings.append(p)
        # ... and the 1-2 idle units whose only pairing ended (the village keeps its unit)
        for u in range(nu, len(self.units)):
            p = _L(u, vs[40 + u - nu], self.rdate(early, late))
            p.until = self.until_after(p.since, date(2019, 1, 1), hi)
            self.pairings.append(p)
        self.unit_villages: list[list[int]] = [[] for _ in self.units]
        for p in self.pairings:
            if p.counts(self.today):
                self.unit_villages[p.a].append(p.b)

    # ---- people
    def _new_person(self, roles: tuple[str, ...] = ()) -> _P:
        p = _P(f"{self.pre}P{len(self.people) + 1:05d}", self.name(), roles, self.phone())
        self.people.append(p)
        return p

    def _people(self) -> None:
        r = self.rng
        self.people: list[_P] = []
        self.cms = [self._new_person(("committee_member", "delegate") if i < _N_CM_DELEGATES
                                     else ("committee_member",))
                    for i in range(_N_COMMITTEE_MEMBERS)]
        for i, p in enumerate(self.cms):
            p.org = self.o_county if i < 28 else r.choice(self.o_committees)
        self.delegates = self.cms[:_N_CM_DELEGATES] + [
            self._new_person(("delegate",)) for _ in range(_N_DELEGATES - _N_CM_DELEGATES)]
        self.cadres = [self._new_person(("cadre",)) for _ in range(_N_CADRES)]
        for p in self.cadres:
            if r.random() < 0.8:
                p.unit = r.randrange(len(self.units))
                p.org = self.unit_orgs[p.unit]
            else:
                p.org = r.choice(self.o_other)

    # ---- the three-contact chain: delegates -> members -> households
    def _chain(self) -> None:
        r, today = self.rng, self.today
        dels = list(self.delegates)
        r.shuffle(dels)
        per_town = _apportion(len(dels), [len(v) for v in self.town_villages])
        self.del_town: dict[str, int] = {}
        few = set(r.sample(range(len(dels)), 4))  # delegates with too few members
        self.dm: list[_L[_P, _P]] = []  # delegate-member
        self.mh: list[_L[_P, _H]] = []  # member-household
        self.members: list[_P] = []
        self.households: list[_H] = []
        self.member_hh: dict[str, list[_L[_P, _H]]] = {}
        pos = 0
        self.village_people = 0
        for ti, n_d in enumerate(per_town):
            tdels = dels[pos:pos + n_d]
            tid = self.towns[ti][0]
            vidx = self.town_villages[ti]
            ks = []
            for j, d in enumerate(tdels):
                self.del_town[d.id] = ti
                if "committee_member" in d.roles:
                    d.org, d.town = self.o_towns[ti], tid
                elif r.random() < 0.6:
                    v = r.choice(vidx)
                    d.org, d.village = self.o_village[v], self.villages[v][0]
                    self.village_people += 1
                else:
                    d.org, d.town = r.choice(self.o_town_branches[ti]), tid
                ks.append(r.randint(6, 9) if pos + j in few else
                          r.choices((10, 11, 12, 13, 14), (30, 30, 20, 12, 8))[0])
            pos += n_d
            per_v = _apportion(sum(ks), [r.uniform(0.6, 1.4) for _ in vidx])
            tmembers: list[_P] = []
            for v, n_m in zip(vidx, per_v):
                for _ in range(n_m):
                    m = self._new_person()
                    m.org, m.village = self.o_village[v], self.villages[v][0]
                    m.hardship = r.random() < 0.03
                    tmembers.append(m)
                    self.village_people += 1
                    nh = r.choices((3, 2, 1, 4), (94, 2, 1, 3))[0]
                    links = []
                    for _ in range(nh):
                        hv = v if r.random() < 0.95 or len(vidx) == 1 else r.choice(vidx)
                        h = _H(hv, len(self.households))
                        self.households.append(h)
                        since = (self.rdate(_CHAIN_START, date(2024, 6, 30)) if r.random() < 0.9
                                 else self.rdate(date(2024, 7, 1), today - timedelta(days=10)))
                        links.append(_L(m, h, since))
                    self.mh += links
                    self.member_hh[m.id] = links
            self.members += tmembers
            at = 0
            for d, kk in zip(tdels, ks):
                for m in tmembers[at:at + kk]:
                    self.dm.append(_L(d, m, self.rdate(_CHAIN_START, date(2024, 12, 31))))
                at += kk
        # households of the village not (yet) on the chain: no member at all
        per_village = [0] * len(self.villages)
        for h in self.households:
            per_village[h.v] += 1
        self.loose: list[_H] = []
        for v, n in enumerate(per_village):
            for _ in range(n):
                if r.random() < 0.022:
                    h = _H(v, len(self.households))
                    self.households.append(h)
                    self.loose.append(h)
        # history: ~3% of households had another member of their village before
        by_village: dict[int, list[_P]] = {}
        for m in self.members:
            by_village.setdefault(self._vidx(m), []).append(m)
        for lk in list(self.mh):
            if r.random() < 0.03 and lk.since is not None and lk.since > date(2010, 1, 1):
                old = r.choice(by_village[self._vidx(lk.a)])
                if old is lk.a:
                    continue
                since = self.rdate(_CHAIN_START, lk.since - timedelta(days=200))
                self.mh.append(_L(old, lk.b, since, lk.since))
        # history: ~3% of members had another delegate before the current one
        dels_by_town: list[list[_P]] = [[] for _ in self.towns]
        for d in self.delegates:
            dels_by_town[self.del_town[d.id]].append(d)
        for dl in list(self.dm):
            if r.random() < 0.03 and dl.since is not None and dl.since > date(2010, 1, 1):
                old = r.choice(dels_by_town[self.del_town[dl.a.id]])
                if old is dl.a or old is dl.b:
                    continue
                since = self.rdate(_CHAIN_START, dl.since - timedelta(days=200))
                self.dm.append(_L(old, dl.b, since, dl.since))
        self.dels_by_town = dels_by_town

    def _vidx(self, p: _P) -> int:
        return int(p.village.rsplit("V", 1)[1]) - 1

    # ---- household attributes, ids, other people
    def _households_finish(self) -> None:
        r, today = self.rng, self.today
        self.households.sort(key=lambda h: (h.v, h.seq))
        needing = {v for v in self.needing}
        counters = [0] * len(self.villages)
        house_no = [0] * len(self.villages)
        for i, h in enumerate(self.households):
            h.id = f"{self.pre}H{i + 1:05d}"
            h.head = self.name()
            mm, ep, en = r.random() < 0.06, r.random() < 0.07, r.random() < 0.14
            poor = (r.random() < 0.8) if ep else (r.random() < (0.2 if h.v in needing else 0.075))
            h.cats = tuple(c for c, on in (("military_martyr", mm), ("extreme_poverty", ep),
                                           ("empty_nest_elderly", en), ("poor", poor)) if on)
            h.size = (r.choice((1, 2, 2)) if en
                      else r.choices((1, 2, 3, 4, 5, 6), (8, 24, 26, 22, 13, 7))[0])
            h.phone = self.phone() if r.random() < 0.9 else ""
            c = counters[h.v]
            counters[h.v] += 1
            group = c // 18 + 1
            if c % 18 == 0:
                house_no[h.v] = 0
            house_no[h.v] += r.randint(1, 3)
            h.addr = f"{self.villages[h.v][1]}{group}组{house_no[h.v]}号"
            x = r.random()
            if x < 0.005:  # moved away
                h.status, h.since = "inactive", self.rdate(date(2020, 1, 1), today - _ONE)
            elif x < 0.006:
                h.status = "inactive"
            elif x < 0.007:  # will move away
                h.status, h.since = "inactive", self.rdate(today + _ONE, today + timedelta(180))
        # a few loose households already have a member from a future date on
        for h in self.loose[:5]:
            ms = [m for m in self.members if self._vidx(m) == h.v]
            if ms:
                self.mh.append(_L(r.choice(ms), h, self.rdate(today + timedelta(5),
                                                               today + timedelta(40))))
        # the other Party members: in villages up to 5,200+, the rest in unit branches
        # (13,787 rows so far; _top_up adds as many as left, once all gaps are in)
        target = SOURCE_FIGURES["village_people_min"] + r.randint(20, 90)
        for _ in range(max(0, target - self.village_people)):
            p = self._new_person()
            v = r.randrange(len(self.villages))
            p.org, p.village = self.o_village[v], self.villages[v][0]
            p.hardship = r.random() < 0.03
            self._maybe_inactive(p)
        orgs = [o for t in self.o_town_branches for o in t] + self.unit_orgs + self.o_other
        self.plain_orgs = orgs
        while len(self.people) < _N_PEOPLE:
            p = self._new_person()
            p.org = r.choice(orgs)
            p.hardship = r.random() < 0.012
            self._maybe_inactive(p)

    def _top_up(self) -> None:
        """Add active plain Party members until exactly 13,787 are active on today.

        The people who left are a gap on top of the source figure, not carved out
        of it: as many new members as are not active (and at least enough to keep
        5,200+ active ones in villages) go to villages, the rest to other branches.
        """
        r, today = self.rng, self.today
        act = [p for p in self.people if p.active(today)]
        n = _N_PEOPLE - len(act)
        if n < 0:  # never: every person beyond 13,787 rows is added here, active
            raise RuntimeError("more active people than the source figure")
        in_villages = sum(1 for p in act if p.village)
        short = SOURCE_FIGURES["village_people_min"] + r.randint(20, 60) - in_villages
        n_village = min(n, max(short, round(n * 0.38)))
        for i in range(n):
            p = self._new_person()
            if i < n_village:
                v = r.randrange(len(self.villages))
                p.org, p.village = self.o_village[v], self.villages[v][0]
                p.hardship = r.random() < 0.03
            else:
                p.org = r.choice(self.plain_orgs)
                p.hardship = r.random() < 0.012

    def _maybe_inactive(self, p: _P) -> None:
        r, today = self.rng, self.today
        x = r.random()
        if x < 0.012:  # left: moved, transferred, died
            p.status, p.since = "inactive", self.rdate(date(2015, 1, 1), today - _ONE)
        elif x < 0.015:
            p.status = "inactive"
        elif x < 0.017:  # will leave
            p.status, p.since = "inactive", self.rdate(today + _ONE, today + timedelta(365))

    # ---- committee members -> delegates
    def _committee_links(self) -> None:
        r, today = self.rng, self.today
        cms = list(self.cms)
        only = cms[_N_CM_DELEGATES:]
        self.cm_left, self.cm_none, self.cm_ended = r.sample(only, 3)
        self.cm_left.status = "inactive"
        self.cm_left.since = self.rdate(today - timedelta(300), today - timedelta(60))
        working = [c for c in cms if c is not self.cm_none and c is not self.cm_ended]
        r.shuffle(working)
        dels = sorted(self.delegates, key=lambda d: (self.del_town[d.id], d.id))
        per = _apportion(len(dels), [1.0] * len(working))
        self.cd: list[_L[_P, _P]] = []
        seen: set[tuple[str, str]] = set()

        def link(c: _P, d: _P, since: date, until: date | None = None) -> bool:
            if c is d or (c.id, d.id) in seen:
                return False
            seen.add((c.id, d.id))
            self.cd.append(_L(c, d, since, until))
            return True

        at = 0
        owner: dict[str, _P] = {}
        for i, (c, n) in enumerate(zip(working, per)):
            for d in dels[at:at + n]:
                if d is c:  # a committee member who is a delegate has another above him
                    c = working[(i + 1) % len(working)]
                owner[d.id] = c
                link(c, d, r.choice(_CONGRESSES))
                c = working[i]
            at += n
        # ~10% of delegates have a second committee member
        for d in dels:
            if r.random() < 0.1:
                link(r.choice(working), d, r.choice(_CONGRESSES[1:]))
        # the committee member who left: half of his delegates got a new one above them
        left_dels = [d for d in dels if owner.get(d.id) is self.cm_left]
        for d in left_dels[: len(left_dels) // 2]:
            c = r.choice([w for w in working if w is not self.cm_left])
            link(c, d, self.rdate(self.cm_left.since, today - timedelta(10)))
        # the committee member whose delegates were all handed over at the last congress
        for d in r.sample(dels, 8):
            link(self.cm_ended, d, _CONGRESSES[1], _CONGRESSES[3])
        # one more liaison ended without a successor
        counts: dict[str, int] = {}
        for lk in self.cd:
            if lk.until is None:
                counts[lk.b.id] = counts.get(lk.b.id, 0) + 1
        single = [lk for lk in self.cd if lk.until is None and counts[lk.b.id] == 1
                  and lk.a is not self.cm_left]
        lk = r.choice(single)
        lk.until = self.until_after(lk.since, today - timedelta(200), today - timedelta(20))

    # ---- people who left and liaisons that ended along the chain
    def _inject_person_gaps(self) -> None:
        r, today = self.rng, self.today

        def past() -> date:
            return self.rdate(today - timedelta(700), today - timedelta(20))

        pool = list(self.members)
        r.shuffle(pool)
        # members who left (35 dated, 15 without date) and a few who will leave
        for m in pool[:35]:
            m.status, m.since = "inactive", past()
        for m in pool[35:50]:
            m.status = "inactive"
        for m in pool[50:56]:
            m.status, m.since = "inactive", self.rdate(today + _ONE, today + timedelta(180))
        # members whose delegate-member liaison ended without a successor
        current: dict[str, list[_L[_P, _P]]] = {}
        for lk in self.dm:
            if lk.until is None:
                current.setdefault(lk.b.id, []).append(lk)
        n = 0
        for m in pool[56:200]:
            links = current.get(m.id, [])
            if len(links) == 1:
                links[0].until = self.until_after(links[0].since, today - timedelta(400),
                                                  today - timedelta(15))
                n += 1
                if n == 12:
                    break
        # member-household liaisons that ended without a successor (~1% of households)
        n = 0
        for m in pool[200:]:
            hh = self.member_hh.get(m.id, [])
            if len(hh) == 3:
                mh = r.choice(hh)
                mh.until = self.until_after(mh.since, today - timedelta(300), today - timedelta(30))
                n += 1
                if n == 100:
                    break
        # delegates who left (2 dated, 1 without date) and one who will leave
        ds = [d for d in self.delegates if d.roles == ("delegate",)]
        r.shuffle(ds)
        for d in ds[:2]:
            d.status, d.since = "inactive", past()
        ds[2].status = "inactive"
        ds[3].status, ds[3].since = "inactive", self.rdate(today + _ONE, today + timedelta(200))
        # cadres who left
        for p in self.cadres:
            if r.random() < 0.01:
                p.status, p.since = "inactive", self.rdate(date(2015, 1, 1), today - _ONE)

    # ---- cadres -> poor households (结穷亲)
    def _supports(self) -> None:
        r, today = self.rng, self.today
        poor = [h for h in self.households if "poor" in h.cats and h.active(today)]
        r.shuffle(poor)
        by_village: dict[int, list[_H]] = {}
        for h in poor:
            by_village.setdefault(h.v, []).append(h)
        taken: set[str] = set()
        gi = 0
        self.supports: list[_L[_P, _H]] = []
        seen: set[tuple[str, str]] = set()

        def pick(p: _P) -> _H:
            nonlocal gi
            for v in (self.unit_villages[p.unit] if p.unit >= 0 else ()):
                for h in by_village.get(v, ()):
                    if h.id not in taken:
                        taken.add(h.id)
                        return h
            while gi < len(poor) and poor[gi].id in taken:
                gi += 1
            if gi < len(poor):
                taken.add(poor[gi].id)
                return poor[gi]
            return r.choice(poor)  # more cadres than poor households: share one

        for p in self.cadres:
            for _ in range(2 if r.random() < 0.1 else 1):
                h = pick(p)
                if (p.id, h.id) in seen:
                    continue
                seen.add((p.id, h.id))
                since = self.rdate(date(2008, 3, 1), date(2022, 12, 31))
                until = None
                if r.random() < 0.07:  # the household got out of poverty
                    until = self.until_after(since, since + timedelta(365), today - timedelta(10))
                self.supports.append(_L(p, h, since, until))

    # ---- coverage as of today (to place stale households among covered ones)
    def _covered(self) -> list[_H]:
        today = self.today
        ok_cm = {lk.b.id for lk in self.cd
                 if lk.counts(today) and lk.a.active(today) and "committee_member" in lk.a.roles}
        ok_member: set[str] = set()
        for lk in self.dm:
            d = lk.a
            if (lk.counts(today) and d.active(today) and "delegate" in d.roles
                    and d.id in ok_cm and lk.b.active(today)):
                ok_member.add(lk.b.id)
        covered = {lk.b.id for lk in self.mh
                   if lk.counts(today) and lk.a.active(today) and lk.a.id in ok_member}
        return [h for h in self.households if h.active(today) and h.id in covered]

    # ---- a year of contacts
    def _contacts(self) -> None:
        r, today = self.rng, self.today
        covered = self._covered()
        supported = {lk.b.id for lk in self.supports}
        single: dict[str, int] = {}
        for lk in self.mh:
            single[lk.b.id] = single.get(lk.b.id, 0) + 1
        old = today - timedelta(_CONTACT_WINDOW)
        pool = list(covered)
        r.shuffle(pool)
        cut: dict[str, date | None] = {}  # household -> last allowed contact (None: never)
        exact: dict[str, date] = {}
        n_stale = round(len(pool) * r.uniform(0.055, 0.07))
        for h in pool[:n_stale]:
            cut[h.id] = None if r.random() < 0.25 else today - timedelta(r.randint(91, 250))
        want = [90, 91, 90, 91]  # last contact exactly 90 days (covered) and 91 days (stale)
        for h in pool[n_stale:]:
            if not want:
                break
            if h.id not in supported and single[h.id] == 1:
                links = [lk for lk in self.mh if lk.b is h]
                if links[0].since is not None and links[0].since <= old:
                    days = want.pop(0)
                    cut[h.id] = exact[h.id] = today - timedelta(days)
        self.contacts: set[tuple[str, str, str, str, str, str]] = set()

        def emit(p: _P, h: _H, d: date, chans: tuple[int, ...], p_req: float) -> None:
            ch = r.choices(("visit", "phone", "meeting", "other"), chans)[0]
            req = res = ""
            if d <= today and r.random() < p_req:
                req = r.choice(_REQUESTS)
                res = _b(r.random() < (0.85 if (today - d).days > 30 else 0.35))
            self.contacts.add((p.id, h.id, d.isoformat(), ch, req, res or "false"))

        def schedule(lk: _L[_P, _H], lo: int, hi: int, chans: tuple[int, ...], p_req: float,
                     primary: bool) -> None:
            p, h = lk.a, lk.b
            if p.status == "inactive" and p.since is None:
                return
            start = max(lk.since or old, old)
            end = today
            if lk.until is not None:
                end = min(end, lk.until - _ONE)
            if p.since is not None and p.status == "inactive":
                end = min(end, p.since - _ONE)
            if h.since is not None and h.status == "inactive":
                end = min(end, h.since - _ONE)
            if h.status == "inactive" and h.since is None:
                return
            latest = None
            if h.id in cut:
                c = cut[h.id]
                if c is None:
                    return
                if h.id in exact and primary:
                    latest = c if start <= c <= end else None
                    if latest is None:
                        return
                else:
                    end = min(end, c if h.id not in exact else c - _ONE)
            if end < start:
                return
            step = r.randint(lo, hi)
            if latest is None:
                latest = end - timedelta(r.randrange(step))
                if latest < start:
                    latest = self.rdate(start, end)
            d = latest
            while d >= start:
                emit(p, h, d, chans, p_req)
                d -= timedelta(step + r.randint(-7, 7))
            if (primary and h.id not in exact and lk.until is None and p.active(today)
                    and r.random() < 0.004):  # a planned visit after today
                emit(p, h, today + timedelta(r.randint(1, 31)), chans, 0.0)

        for lk in self.mh:
            if lk.since is not None and lk.since > today:
                continue
            schedule(lk, 55, 89, (56, 30, 10, 4), 0.10, True)
        for lk in self.supports:
            schedule(lk, 80, 130, (80, 15, 0, 5), 0.15, False)
        # a stale household with a visit planned after today (it must stay stale)
        for h in pool[:n_stale]:
            links = [lk for lk in self.mh if lk.b is h and lk.until is None]
            if links and cut[h.id] is not None:
                emit(links[0].a, h, today + timedelta(r.randint(1, 31)), (1, 0, 0, 0), 0.0)
                break

    # ---- rows in canonical order
    def _rows(self) -> dict[str, list[list[str]]]:
        vid = [v[0] for v in self.villages]
        out: dict[str, list[list[str]]] = {}
        out["townships.csv"] = [[t, n] for t, n in self.towns]
        out["villages.csv"] = [[v[0], v[1], self.towns[v[2]][0], _b(v[3])] for v in self.villages]
        out["organizations.csv"] = sorted(self.orgs)
        out["units.csv"] = [list(u) for u in self.units]
        order = ("committee_member", "delegate", "cadre")
        out["people.csv"] = [
            [p.id, p.name, ";".join(x for x in order if x in p.roles), p.status, _iso(p.since),
             _b(p.hardship), p.org, p.town, p.village, p.phone]
            for p in self.people]
        out["households.csv"] = [
            [h.id, h.head, vid[h.v], ";".join(h.cats), str(h.size), h.status, _iso(h.since),
             h.phone, h.addr] for h in self.households]
        lia = [["committee_member-delegate", lk.a.id, lk.b.id, _iso(lk.since), _iso(lk.until)]
               for lk in self.cd]
        lia += [["delegate-member", lk.a.id, lk.b.id, _iso(lk.since), _iso(lk.until)]
                for lk in self.dm]
        lia += [["member-household", lk.a.id, lk.b.id, _iso(lk.since), _iso(lk.until)]
                for lk in self.mh]
        out["liaisons.csv"] = sorted(lia)
        out["pairings.csv"] = sorted([self.units[p.a][0], vid[p.b], _iso(p.since), _iso(p.until)]
                                     for p in self.pairings)
        out["supports.csv"] = sorted([lk.a.id, lk.b.id, _iso(lk.since), _iso(lk.until)]
                                     for lk in self.supports)
        out["contacts.csv"] = sorted(list(c) for c in self.contacts)
        return out


# --------------------------------------------------------------------------- API


def generate_bundle(path: str | Path, counties: int = 1, seed: int = 1,
                    progress: Callable[[str, int, int], None] | None = None,
                    today: date = date(2026, 6, 30)) -> dict[str, int]:
    """Write the bundle into folder `path` (created if missing; existing CSVs overwritten).

    Returns row counts per file name (e.g. ``{"people.csv": 14002, ...}``: the 13,787
    people active on ``today`` plus those who left). The same
    ``seed``, ``counties`` and ``today`` give byte-identical files; county k is the
    same whatever ``counties`` is. ``progress(stage, done, total)`` is called once
    before starting and after each county's generation and each file it writes.
    """
    if counties < 1:
        raise ValueError("counties must be at least 1")
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    width = max(2, len(str(counties)))
    names = list(COLUMNS)
    total = counties * (1 + len(names))
    done = 0
    if progress:
        progress("start", done, total)
    counts = {n: 0 for n in names}
    handles = {n: (folder / n).open("w", encoding="utf-8", newline="") for n in names}
    # liaisons.csv is ordered by kind first: the later kinds wait in side files
    kinds = ("delegate-member", "member-household")
    side = {k: (folder / f".liaisons-{k}.tmp").open("w+", encoding="utf-8", newline="")
            for k in kinds}
    try:
        writers = {n: csv.writer(h, lineterminator="\n") for n, h in handles.items()}
        side_w = {k: csv.writer(h, lineterminator="\n") for k, h in side.items()}
        for n in names:
            writers[n].writerow(COLUMNS[n])
        for c in range(1, counties + 1):
            rows = _County(c, width, seed, today).build()
            done += 1
            if progress:
                progress(f"county {c}/{counties}: generated", done, total)
            for n in names:
                data = rows.pop(n)
                if n == "liaisons.csv":
                    for row in data:
                        if row[0] == "committee_member-delegate":
                            writers[n].writerow(row)
                        else:
                            side_w[row[0]].writerow(row)
                else:
                    writers[n].writerows(data)
                counts[n] += len(data)
                done += 1
                if progress:
                    progress(f"county {c}/{counties}: {n}", done, total)
        for k in kinds:
            side[k].seek(0)
            while chunk := side[k].read(1 << 20):
                handles["liaisons.csv"].write(chunk)
    finally:
        for h in handles.values():
            h.close()
        for k, h in side.items():
            h.close()
            (folder / f".liaisons-{k}.tmp").unlink(missing_ok=True)
    return counts
