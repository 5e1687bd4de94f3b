"""The domain's vocabulary, once: every closed set of words with its one Chinese label, the
date rules and the township rule.

This is the bottom layer of graphsvc: it imports nothing from the package, and everything
else (the bundle format, the rules, the API's OpenAPI enums, the CLI's tables, the Chinese
spreadsheets, the diagrams, the analyses) takes its words and labels from here. A word's
Chinese label is ``Word.label`` (or ``label(word)``); there is no second table anywhere.
``tests/test_vocabulary.py`` walks what users see and holds it to these labels.

Where the wording had drifted (issue 12), one was chosen, the diagrams' and the source
document's (``shared/seed``) first:

- ``stale``: 联系过期 (the CLI said 久未联系);
- ``member_inactive``: 联系党员不在岗 (also 党员已离开, 联系党员已不在岗);
- ``no_member``: 无联系党员 (also 无党员联系); ``no_delegate``: 无党代表 (also
  联系党员无党代表); ``no_committee_member``: 无县委委员 (also 党代表无县委委员);
- a liaison kind: 县委委员联系党代表 … (the diagrams also wrote 县委委员→党代表 …);
- a committee: 党(工)委, as the source document counts them (the spreadsheets wrote 党委);
- a person's status: 在岗 / 不在岗 (the spreadsheets wrote 在职 / 离任), a household's:
  在册 / 不在册 (the spreadsheets wrote 在册 / 迁出), as the diagrams say them.

The older spellings a county's spreadsheet may still use are accepted on import
(``graphsvc.bundle.zh``); they are never written or shown.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Any


class Word(StrEnum):
    """A word of the domain: its value is the English word of the data format and the API,
    ``label`` its one Chinese label."""

    @property
    def label(self) -> str:
        return _LABELS[type(self)][self.value]


_LABELS: dict[type[Word], dict[str, str]] = {}


def _labelled(cls: type[Word], labels: Mapping[str, str]) -> None:
    """Give every word of ``cls`` its label; exactly one each (checked at import)."""
    words = [w.value for w in cls]
    if list(labels) != words:
        raise AssertionError(f"{cls.__name__}: labels for {list(labels)}, words {words}")
    _LABELS[cls] = dict(labels)


def label(word: Word) -> str:
    """The Chinese label of a word."""
    return word.label


def label_of(cls: type[Word], value: str | None) -> str:
    """The label of ``value`` as a word of ``cls``; text that is no such word as it is ("" for
    None), so that a value newer than this table still shows."""
    if value is None:
        return ""
    return _LABELS[cls].get(value, value)


def values(cls: type[StrEnum]) -> tuple[str, ...]:
    """The words of a set as plain text, in their order (for columns, Cypher parameters)."""
    return tuple(w.value for w in cls)


# -- records and their kinds ----------------------------------------------------------------------


class Kind(Word):
    """The kinds of record that carry an id."""

    TOWNSHIP = "township"
    VILLAGE = "village"
    ORGANIZATION = "organization"
    UNIT = "unit"
    PERSON = "person"
    HOUSEHOLD = "household"


_labelled(Kind, {"township": "乡镇", "village": "行政村", "organization": "党组织",
                 "unit": "帮扶单位", "person": "党员", "household": "户"})


class OrgKind(Word):
    """An organisation's kind."""

    committee = "committee"
    general_branch = "general_branch"
    branch = "branch"


_labelled(OrgKind, {"committee": "党(工)委", "general_branch": "党总支", "branch": "党支部"})


class OrgLevel(Word):
    """An organisation's level."""

    county = "county"
    township = "township"
    village = "village"
    unit = "unit"


_labelled(OrgLevel, {"county": "县级", "township": "乡镇级", "village": "村级", "unit": "单位"})


class Sector(Word):
    """A unit's sector."""

    agency = "agency"
    institution = "institution"
    enterprise = "enterprise"


_labelled(Sector, {"agency": "机关", "institution": "事业单位", "enterprise": "企业"})


class Role(Word):
    """A person's role; every person is a Party member."""

    committee_member = "committee_member"
    delegate = "delegate"
    cadre = "cadre"


_labelled(Role, {"committee_member": "县委委员", "delegate": "党代表", "cadre": "干部"})


class RecordStatus(Word):
    """Whether a person or household is still there."""

    active = "active"
    inactive = "inactive"

    def label_of(self, kind: str) -> str:
        """The label for a record of ``kind``: a person is 在岗/不在岗, a household 在册/不在册
        (one word of the data format, two things in Chinese; ``label`` is the person's)."""
        return _HOUSEHOLD_STATUS[self.value] if kind == Kind.HOUSEHOLD else self.label


_labelled(RecordStatus, {"active": "在岗", "inactive": "不在岗"})
_HOUSEHOLD_STATUS = {"active": "在册", "inactive": "不在册"}


class Category(Word):
    """A household category; the first three are focus categories."""

    military_martyr = "military_martyr"
    extreme_poverty = "extreme_poverty"
    empty_nest_elderly = "empty_nest_elderly"
    poor = "poor"


_labelled(Category, {"military_martyr": "军烈属", "extreme_poverty": "特困户",
                     "empty_nest_elderly": "空巢老人", "poor": "贫困户"})


class LiaisonKind(Word):
    """The three links of the three-contact chain."""

    committee_member_delegate = "committee_member-delegate"
    delegate_member = "delegate-member"
    member_household = "member-household"


_labelled(LiaisonKind, {"committee_member-delegate": "县委委员联系党代表",
                        "delegate-member": "党代表联系党员", "member-household": "党员联系户"})


class ChainLevel(Word):
    """A level of the three-contact chain, from the household up (where a request stands)."""

    member = "member"
    delegate = "delegate"
    committee_member = "committee_member"


# the same people as the kinds and roles above, so the same labels (not a second spelling)
_labelled(ChainLevel, {"member": Kind.PERSON.label, "delegate": Role.delegate.label,
                       "committee_member": Role.committee_member.label})


class Channel(Word):
    """How a contact was made."""

    visit = "visit"
    phone = "phone"
    meeting = "meeting"
    other = "other"


_labelled(Channel, {"visit": "走访", "phone": "电话", "meeting": "会议", "other": "其他"})


# -- the rules' answers ---------------------------------------------------------------------------


class HouseholdStatus(Word):
    """A household's status on the date (COVERAGE_RULES.md, "Household status")."""

    covered = "covered"
    stale = "stale"
    uncovered = "uncovered"


_labelled(HouseholdStatus, {"covered": "已覆盖", "stale": "联系过期", "uncovered": "未覆盖"})


class UncoveredReason(Word):
    """Why a household is uncovered: the first link of its chain that is missing."""

    no_member = "no_member"
    member_inactive = "member_inactive"
    no_delegate = "no_delegate"
    no_committee_member = "no_committee_member"


_labelled(UncoveredReason, {"no_member": "无联系党员", "member_inactive": "联系党员不在岗",
                            "no_delegate": "无党代表", "no_committee_member": "无县委委员"})


class DelegateStatus(Word):
    """``ok`` when a delegate has no problem, else ``gap``."""

    ok = "ok"
    gap = "gap"


_labelled(DelegateStatus, {"ok": "无缺口", "gap": "有缺口"})


class DelegateProblem(Word):
    """A problem of the delegate audit."""

    no_committee_member = "no_committee_member"
    too_few_members = "too_few_members"
    members_short = "members_short"


_labelled(DelegateProblem, {"no_committee_member": "无县委委员联系",
                            "too_few_members": "联系党员不足",
                            "members_short": "所联系党员联系户不足"})


class MemberProblem(Word):
    """A problem of the member audit."""

    no_delegate = "no_delegate"
    too_few_households = "too_few_households"


_labelled(MemberProblem, {"no_delegate": "无党代表联系", "too_few_households": "联系户不足"})


class CommitteeMemberProblem(Word):
    """A problem of the committee-member audit."""

    too_few_delegates = "too_few_delegates"


_labelled(CommitteeMemberProblem, {"too_few_delegates": "联系党代表不足"})


class TrendStep(Word):
    """The step between the dates of a trend."""

    week = "week"
    month = "month"
    quarter = "quarter"


_labelled(TrendStep, {"week": "周", "month": "月", "quarter": "季度"})


WORDS: tuple[type[Word], ...] = tuple(_LABELS)
"""Every set of words, in the order above (``tests/test_vocabulary.py`` walks them)."""

# the sets as plain text, as the bundle format, the rules and the Cypher parameters use them
ORG_KINDS = values(OrgKind)
ORG_LEVELS = values(OrgLevel)
SECTORS = values(Sector)
ROLES = values(Role)
RECORD_STATUSES = values(RecordStatus)
CATEGORIES = values(Category)
FOCUS_CATEGORIES = CATEGORIES[:3]  # military_martyr, extreme_poverty, empty_nest_elderly
LIAISON_KINDS = values(LiaisonKind)
CHANNELS = values(Channel)
STATUSES = values(HouseholdStatus)
REASONS = values(UncoveredReason)
DELEGATE_PROBLEMS = values(DelegateProblem)
MEMBER_PROBLEMS = values(MemberProblem)
COMMITTEE_MEMBER_PROBLEMS = values(CommitteeMemberProblem)


# -- the date rules (COVERAGE_RULES.md) -----------------------------------------------------------


def counts_on(since: dt.date | None, until: dt.date | None, as_of: dt.date) -> bool:
    """Whether a liaison, pairing or support with these dates counts on ``as_of``."""
    return (since is None or since <= as_of) and (until is None or as_of < until)


def is_active(attrs: Mapping[str, Any], as_of: dt.date) -> bool:
    """Whether a person or household is active on ``as_of`` (COVERAGE_RULES.md)."""
    if attrs.get("status", "active") == "active":
        return True
    left = attrs.get("inactive_since")
    return left is not None and as_of < left


# -- the township rule (DATA_FORMAT.md) -----------------------------------------------------------

Lookup = Callable[[str], "tuple[str, Mapping[str, Any]] | None"]
"""A record by id, as ``(kind, fields)``; None when there is none."""


def township_of(rid: str, lookup: Lookup) -> str | None:
    """The township record ``rid`` belongs to, by the rule of DATA_FORMAT.md; None: none.

    A township: itself. A village: its ``township_id``. A household: its village's township.
    A person: ``township_id``, else their village's township, else their organisation's. An
    organisation: ``township_id``, else its village's township. A unit: none (units serve the
    villages they pair with, in any township). ``lookup`` gives the record and the villages and
    organisations it names (the graph's nodes, the store's records, a statement's rows).

    >>> towns = {"V1": ("village", {"township_id": "T1"}),
    ...          "O1": ("organization", {"village_id": "V1"}),
    ...          "P1": ("person", {"organization_id": "O1"})}
    >>> township_of("P1", towns.get), township_of("T9", lambda _: ("township", {}))
    ('T1', 'T9')
    """
    found = lookup(rid)
    if found is None:
        return None
    kind, rec = found
    if kind == Kind.TOWNSHIP:
        return rid
    if kind == Kind.UNIT:
        return None
    own = rec.get("township_id")
    if own and kind != Kind.HOUSEHOLD:
        return str(own)
    if kind == Kind.VILLAGE:
        return None
    village = rec.get("village_id")
    place = lookup(village) if village else None
    if place is not None and place[0] == Kind.VILLAGE:
        return township_of(str(village), lookup)
    org = rec.get("organization_id")
    if kind != Kind.PERSON or not org:
        return None
    place = lookup(org)
    if place is None or place[0] != Kind.ORGANIZATION:
        return None
    return township_of(str(org), lookup)
