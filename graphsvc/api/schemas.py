"""What the HTTP API takes and returns, as pydantic models, for validation and for OpenAPI.

The answers to reads are the bodies of ``graphsvc.service`` (the same JSON as
``graphsvc … --format json``); these models describe them field by field, in the
words of ``spec/COVERAGE_RULES.md``. Every example comes from the tiny county
(``shared/examples/tiny-county``) as of 2026-06-30.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, Strict

from graphsvc.bundle.schema import ID_MAX, SIZE_MAX, SPECS
from graphsvc.bundle.validate import read_date
from graphsvc.model import (
    Category,
    Channel,
    CommitteeMemberProblem,
    DelegateProblem,
    DelegateStatus,
    HouseholdStatus,
    LiaisonKind,
    MemberProblem,
    RecordStatus,
    Role,
    Sector,
    UncoveredReason,
)

# -- allowed values: the domain's words, from graphsvc.model (the OpenAPI enums keep their names) --

# A write's body is read strictly (``_write``: ConfigDict(strict=True) on every model a client
# sends): a number is not text, true is not 1, "3" is not 3. JSON has no dates nor enums, only
# text for them, which strict mode would refuse: those fields stay lax (LAX), so "2026-07-01"
# and "delegate" are read (and a date is checked by ``_day_text``, a choice against its values).
LAX = Strict(False)
RoleIn = Annotated[Role, LAX]
StatusIn = Annotated[RecordStatus, LAX]
CategoryIn = Annotated[Category, LAX]
LiaisonKindIn = Annotated[LiaisonKind, LAX]
ChannelIn = Annotated[Channel, LAX]


def _f(description: str, *example: Any, **kw: Any) -> Any:
    """A field with its description and, when given, an example."""
    if example:
        kw["examples"] = list(example)
    return Field(description=description, **kw)


_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _day_text(value: Any) -> Any:
    """A date in a request is text, YYYY-MM-DD, as in the bundle files: never a number, which
    pydantic would otherwise take for seconds since 1970 (``0`` would be 1970-01-01). Read as
    a bundle's date cell is, with its sentences (a real date; digits 0-9, not full-width)."""
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and _DAY.fullmatch(value.strip()):  # \d: full-width digits too
        return read_date(value)
    raise ValueError("write the date as YYYY-MM-DD, for example 2026-07-01")


Day = Annotated[dt.date, LAX, BeforeValidator(_day_text)]  # a date a write sends


def _write(*examples: dict[str, Any]) -> ConfigDict:
    """The config of a model a client sends: strict, no unknown fields, with examples."""
    return ConfigDict(extra="forbid", strict=True, json_schema_extra={"examples": list(examples)})


NOT_BLANK = r"\S"  # an id in a request: at least one character that is not a space


def _ref(description: str, example: str, **kw: Any) -> Any:
    """An id a write names: never empty or only spaces (a row of nothing but blank cells is a
    blank line to the bundle format, which it skips, so the write would write nothing), and
    at most ``ID_MAX`` characters."""
    return _f(description, example, min_length=1, max_length=ID_MAX, pattern=NOT_BLANK, **kw)


def _text(file: str, column: str, description: str, example: Any, **kw: Any) -> Any:
    """A text field of a write, bounded as its bundle column is (``bundle.schema``)."""
    return _f(description, example, max_length=SPECS[file].column(column).max_length, **kw)


def _examples(*examples: dict[str, Any]) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": list(examples)})


def _as_of() -> Any:
    return _f("the date the answer holds on (YYYY-MM-DD)", "2026-06-30")

# -- errors -------------------------------------------------------------------------------------


class ErrorBody(BaseModel):
    """An error: what went wrong, in a sentence."""

    model_config = _examples({"detail": "no household with id 'H999'"})
    detail: str = _f("what went wrong, in a sentence a county clerk understands")


class FieldProblem(BaseModel):
    """One problem of a request, tied to the parameter or body field it is about."""

    field: str | None = _f("the parameter or body field (None: the whole request)", "from_id")
    message: str = _f("what is wrong and what is allowed")


_BAD_STATUS = ("query parameter 'status': Input should be 'covered', 'stale' or 'uncovered' "
               "(got 'lost')")
_NOT_DELEGATE = ("'M02' does not have the role delegate, so cannot start a delegate-member "
                 "liaison; add delegate to their roles in people.csv or correct the kind")


class InvalidRequestBody(BaseModel):
    """A request that was refused because of what it carries; nothing was written."""

    model_config = _examples(
        {"detail": _BAD_STATUS, "errors": [{"field": "status", "message": _BAD_STATUS}]},
        {"detail": f"from_id: {_NOT_DELEGATE}",
         "errors": [{"field": "from_id", "message": _NOT_DELEGATE}]},
    )
    detail: str = _f("every problem, in sentences")
    errors: list[FieldProblem] = _f("each problem with its field", default_factory=list)


# -- health -------------------------------------------------------------------------------------


class Health(BaseModel):
    """The service and its store answer."""

    model_config = _examples({"status": "ok", "store": "embedded", "version": "0.1.0"})
    status: Literal["ok", "ready"] = _f("ok (/health) or ready (/ready) in a 200 answer")
    store: Literal["neo4j", "embedded"] = _f("which store holds the data")
    version: str = _f("the version of graphsvc answering", "0.1.0")


class HealthDown(BaseModel):
    """The store cannot be reached (503)."""

    model_config = _examples({"status": "unavailable", "store": "neo4j",
                              "detail": "Neo4j at bolt://127.0.0.1:7687 cannot be reached: "
                                        "Connection refused", "version": "0.1.0"})
    status: Literal["unavailable"] = _f("the store cannot be used now")
    store: Literal["neo4j", "embedded"] = _f("which store the service is set up to use")
    detail: str = _f("why the store cannot be used")
    version: str = _f("the version of graphsvc answering", "0.1.0")


# -- households ---------------------------------------------------------------------------------

HOUSEHOLD_ROW = {
    "household_id": "H007", "village_id": "V1", "township_id": "T1",
    "categories": ["military_martyr", "empty_nest_elderly"], "focus": True, "status": "stale",
    "reason": None, "last_contact": "2026-03-01", "member_ids": ["M03"],
}


class HouseholdRow(BaseModel):
    """A household's status on the date."""

    model_config = _examples(HOUSEHOLD_ROW)
    household_id: str = _f("the household's id", "H007")
    village_id: str | None = _f("its village", "V1")
    township_id: str | None = _f("its village's township", "T1")
    categories: list[Category] = _f("its categories", ["military_martyr", "empty_nest_elderly"])
    focus: bool = _f("whether any category is a focus category (military_martyr, extreme_poverty, "
                     "empty_nest_elderly)", True)
    status: HouseholdStatus = _f("covered: the whole chain holds and a contact was recent; "
                                 "stale: the chain holds but the last contact is older than "
                                 "stale_after_days (or none); uncovered: a link is missing",
                                 "stale")
    reason: UncoveredReason | None = _f("for uncovered households, the first missing link", None)
    last_contact: dt.date | None = _f("the latest contact on or before as_of, by anyone",
                                      "2026-03-01")
    member_ids: list[str] = _f("people with a counting member-household liaison to it, sorted",
                               ["M03"])


class HouseholdList(BaseModel):
    """Household statuses, focus households first, then more focus categories first, then by id."""

    model_config = _examples({"as_of": "2026-06-30", "total": 59, "items": [
        {"household_id": "H059", "village_id": "V4", "township_id": "T2",
         "categories": ["military_martyr", "extreme_poverty", "empty_nest_elderly"], "focus": True,
         "status": "uncovered", "reason": "no_member", "last_contact": None, "member_ids": []},
        HOUSEHOLD_ROW]})
    as_of: dt.date = _as_of()
    total: int = _f("how many rows match the filters (all pages)", 59)
    items: list[HouseholdRow] = _f("this page of rows (limit, offset)")


class PersonBrief(BaseModel):
    """A person as a household's chain shows them."""

    id: str = _f("the person's id", "D1")
    name: str | None = _f("their name", "陈金兰")
    roles: list[Role] = _f("their roles (every person is a Party member)", ["delegate"])
    active: bool = _f("whether they are active on as_of (an inactive one breaks the chain)", True)
    township_id: str | None = _f("their township (DATA_FORMAT.md's township rule)", "T1")


class ChainDelegate(PersonBrief):
    """A delegate above a member, with the committee members above the delegate."""

    committee_members: list[PersonBrief] = _f("committee members with a counting "
                                              "committee_member-delegate liaison to this delegate")


class ChainMember(PersonBrief):
    """A member with a counting member-household liaison to the household."""

    delegates: list[ChainDelegate] = _f("delegates with a counting delegate-member liaison to "
                                        "this member")


class SupportingCadre(PersonBrief):
    """A cadre paired with the household (结穷亲)."""

    since: dt.date | None = _f("when the support began", "2015-01-01")
    until: dt.date | None = _f("when it ended (None: it goes on)", None)


class PairedUnit(BaseModel):
    """A unit paired with the household's village."""

    id: str = _f("the unit's id", "U1")
    name: str | None = _f("its name", "县林业局")
    sector: Sector | None = _f("agency, institution or enterprise", "agency")
    since: dt.date | None = _f("when the pairing began", "2008-03-01")
    until: dt.date | None = _f("when it ended (None: it goes on)", None)


class ContactBrief(BaseModel):
    """A visit, call or meeting with the household."""

    person_id: str = _f("who made the contact", "M01")
    person_name: str | None = _f("their name", "吴凤金")
    date: dt.date = _f("when", "2026-06-03")
    channel: Channel | None = _f("visit, phone, meeting or other", "visit")
    request: str | None = _f("a difficulty the household raised", None)
    resolved: bool = _f("whether the request was resolved", False)


HOUSEHOLD_DETAIL = {
    "household_id": "H002", "village_id": "V1", "township_id": "T1",
    "categories": ["extreme_poverty", "poor"], "focus": True, "status": "covered", "reason": None,
    "last_contact": "2026-06-03", "member_ids": ["M01"], "as_of": "2026-06-30",
    "head_name": "张国强", "size": 3, "phone": "15800000002", "address": "双宝村2号",
    "household_status": "active", "inactive_since": None, "village_name": "双宝村",
    "chains": [{"id": "M01", "name": "吴凤金", "roles": [], "active": True, "township_id": "T1",
                "delegates": [{"id": "D1", "name": "陈金兰", "roles": ["delegate"], "active": True,
                               "township_id": "T1",
                               "committee_members": [{"id": "C1", "name": "李军秀",
                                                      "roles": ["committee_member"],
                                                      "active": True, "township_id": None}]}]}],
    "supporting_cadres": [{"id": "K1", "name": "周文霞", "roles": ["cadre"], "active": True,
                           "township_id": None, "since": "2015-01-01", "until": None}],
    "paired_units": [{"id": "U1", "name": "县林业局", "sector": "agency", "since": "2008-03-01",
                      "until": None}],
    "recent_contacts": [{"person_id": "M01", "person_name": "吴凤金", "date": "2026-06-03",
                         "channel": "visit", "request": None, "resolved": False}],
}


class HouseholdDetail(BaseModel):
    """One household with everyone who supports it: its chains upward, cadres, units, contacts."""

    model_config = _examples(HOUSEHOLD_DETAIL)
    household_id: str = _f("the household's id", "H002")
    village_id: str | None = _f("its village", "V1")
    township_id: str | None = _f("its village's township", "T1")
    categories: list[Category] = _f("its categories", ["extreme_poverty", "poor"])
    focus: bool = _f("whether it is a focus household", True)
    status: HouseholdStatus | None = _f("its status on as_of; None when the household is not "
                                        "active on that date", "covered")
    reason: UncoveredReason | None = _f("for uncovered households, the first missing link", None)
    last_contact: dt.date | None = _f("the latest contact on or before as_of", "2026-06-03")
    member_ids: list[str] = _f("people with a counting member-household liaison to it, sorted",
                               ["M01"])
    as_of: dt.date = _as_of()
    head_name: str | None = _f("the head of the household", "张国强")
    size: int | None = _f("how many people live in it", 3)
    phone: str | None = _f("its phone number", "15800000002")
    address: str | None = _f("its address", "双宝村2号")
    household_status: RecordStatus | None = _f("the stored status (active, or inactive: moved "
                                               "away, dissolved)", "active")
    inactive_since: dt.date | None = _f("when it became inactive", None)
    village_name: str | None = _f("its village's name", "双宝村")
    chains: list[ChainMember] = _f("each member with a counting liaison to it, the delegates above "
                                   "that member and the committee members above those")
    supporting_cadres: list[SupportingCadre] = _f("cadres whose support counts on as_of")
    paired_units: list[PairedUnit] = _f("units whose pairing with its village counts on as_of")
    recent_contacts: list[ContactBrief] = _f("the latest contacts on or before as_of, newest first")


# -- audits -------------------------------------------------------------------------------------

DELEGATE_ROW = {
    "delegate_id": "D2", "name": "杨强春", "township_id": "T2", "committee_member_ids": ["C2"],
    "member_ids": ["M11", "M12", "M13", "M15"], "member_count": 4, "households_reached": 12,
    "focus_households_reached": 5, "members_short": ["M15"],
    "problems": ["too_few_members", "members_short"], "status": "gap",
}


class DelegateAuditRow(BaseModel):
    """One active delegate and how well they hold their part of the chain."""

    model_config = _examples(DELEGATE_ROW)
    delegate_id: str = _f("the delegate's id", "D2")
    name: str | None = _f("their name", "杨强春")
    township_id: str | None = _f("their township", "T2")
    committee_member_ids: list[str] = _f("active committee members with a "
                                         "committee_member-delegate liaison to them, sorted",
                                         ["C2"])
    member_ids: list[str] = _f("active people they liaise with by delegate-member, sorted",
                               ["M11", "M12", "M13", "M15"])
    member_count: int = _f("how many member_ids", 4)
    households_reached: int = _f("distinct households those members liaise with (any status)", 12)
    focus_households_reached: int = _f("how many of those are focus households", 5)
    members_short: list[str] = _f("those members with fewer than households_per_member "
                                  "member-household liaisons, sorted", ["M15"])
    problems: list[DelegateProblem] = _f("no_committee_member, too_few_members (fewer than "
                                         "min_members_per_delegate), members_short; in this order",
                                         ["too_few_members", "members_short"])
    status: DelegateStatus = _f("ok when problems is empty, else gap", "gap")


class DelegateAudit(BaseModel):
    """The delegate audit, ordered by id."""

    model_config = _examples({"as_of": "2026-06-30", "total": 3, "items": [DELEGATE_ROW]})
    as_of: dt.date = _as_of()
    total: int = _f("how many delegates match the filters (all pages)", 3)
    items: list[DelegateAuditRow] = _f("this page of rows (limit, offset)")


MEMBER_ROW = {"member_id": "M19", "name": "董宝梅", "township_id": "T2", "household_count": 2,
              "delegate_ids": [], "problems": ["no_delegate", "too_few_households"]}


class MemberAuditRow(BaseModel):
    """An active person in the chain as a member (a delegate above them or households below)."""

    model_config = _examples(MEMBER_ROW)
    member_id: str = _f("the member's id", "M19")
    name: str | None = _f("their name", "董宝梅")
    township_id: str | None = _f("their township", "T2")
    household_count: int = _f("how many member-household liaisons count for them", 2)
    delegate_ids: list[str] = _f("active delegates above them, sorted", [])
    problems: list[MemberProblem] = _f("no_delegate (no active delegate above), too_few_households "
                                       "(fewer than households_per_member)",
                                       ["no_delegate", "too_few_households"])


class MemberAudit(BaseModel):
    """The member audit, ordered by id."""

    model_config = _examples({"as_of": "2026-06-30", "total": 3, "items": [MEMBER_ROW]})
    as_of: dt.date = _as_of()
    total: int = _f("how many members match the filters (all pages)", 3)
    items: list[MemberAuditRow] = _f("this page of rows (limit, offset)")


CM_ROW = {"committee_member_id": "C1", "name": "李军秀", "township_id": None,
          "delegate_ids": ["D1"], "delegate_count": 1, "households_reached": 30, "problems": []}


class CommitteeMemberAuditRow(BaseModel):
    """An active county committee member and the delegates they liaise with."""

    model_config = _examples(CM_ROW)
    committee_member_id: str = _f("the committee member's id", "C1")
    name: str | None = _f("their name", "李军秀")
    township_id: str | None = _f("their township (None for county-level people)", None)
    delegate_ids: list[str] = _f("active delegates they liaise with, sorted", ["D1"])
    delegate_count: int = _f("how many delegate_ids", 1)
    households_reached: int = _f("distinct households reachable down the chain through active "
                                 "people", 30)
    problems: list[CommitteeMemberProblem] = _f("too_few_delegates (fewer than "
                                                "min_delegates_per_committee_member)", [])


class CommitteeMemberAudit(BaseModel):
    """The committee-member audit, ordered by id."""

    model_config = _examples({"as_of": "2026-06-30", "total": 2, "items": [CM_ROW]})
    as_of: dt.date = _as_of()
    total: int = _f("how many committee members match the filters (all pages)", 2)
    items: list[CommitteeMemberAuditRow] = _f("this page of rows (limit, offset)")


class PairingAudit(BaseModel):
    """Unit–village pairing gaps on the date."""

    model_config = _examples({"as_of": "2026-06-30", "unpaired_villages": ["V3"],
                              "idle_units": ["U2", "U4"]})
    as_of: dt.date = _as_of()
    unpaired_villages: list[str] = _f("villages with needs_pairing true and no counting pairing, "
                                      "sorted", ["V3"])
    idle_units: list[str] = _f("units with no counting pairing, sorted (with township_id: units "
                               "ever paired with one of its villages)", ["U2", "U4"])


class ImpactItem(BaseModel):
    """A household that would lose coverage."""

    household_id: str = _f("the household", "H002")
    reason: UncoveredReason = _f("the reason it would then be uncovered", "member_inactive")


class Impact(BaseModel):
    """Households covered or stale now that would be uncovered if the person left."""

    model_config = _examples({"person_id": "M01", "as_of": "2026-06-30", "total": 3, "items": [
        {"household_id": "H002", "reason": "member_inactive"},
        {"household_id": "H001", "reason": "no_delegate"},
        {"household_id": "H003", "reason": "member_inactive"}]})
    person_id: str = _f("the person asked about", "M01")
    as_of: dt.date = _as_of()
    total: int = _f("how many households", 3)
    items: list[ImpactItem] = _f("the households in the household order")


# -- summary ------------------------------------------------------------------------------------


class OrganizationCounts(BaseModel):
    committee: int = _f("committees 党(工)委", 4)
    general_branch: int = _f("general branches 党总支", 1)
    branch: int = _f("branches 党支部", 4)


class UnitCounts(BaseModel):
    agency: int = _f("agencies 机关", 2)
    institution: int = _f("institutions 事业单位", 1)
    enterprise: int = _f("enterprises 企业", 1)


class CategoryCounts(BaseModel):
    military_martyr: int = _f("active households of military or martyr families", 13)
    extreme_poverty: int = _f("active extremely poor households", 8)
    empty_nest_elderly: int = _f("active households of empty-nest elderly", 13)
    poor: int = _f("active poor households", 13)


class StatusCounts(BaseModel):
    covered: int = _f("households covered", 39)
    stale: int = _f("households whose chain holds but with no recent contact", 3)
    uncovered: int = _f("households with a missing link", 17)


class ReasonCounts(BaseModel):
    no_member: int = _f("uncovered: no member liaises with it", 3)
    member_inactive: int = _f("uncovered: its members are all inactive", 3)
    no_delegate: int = _f("uncovered: no active delegate above its members", 8)
    no_committee_member: int = _f("uncovered: no active committee member above those delegates", 3)


SUMMARY = {
    "as_of": "2026-06-30", "townships": 2, "villages": 4, "villages_needing_pairing": 3,
    "organizations": {"committee": 4, "general_branch": 1, "branch": 4},
    "units": {"agency": 2, "institution": 1, "enterprise": 1}, "people": 25,
    "committee_members": 2, "delegates": 4, "cadres": 1, "members_in_hardship": 1,
    "households": 59, "focus_households": 26,
    "households_by_category": {"military_martyr": 13, "extreme_poverty": 8,
                               "empty_nest_elderly": 13, "poor": 13},
    "pairings": 3, "paired_units": 2, "paired_villages": 3, "supports": 2, "contacts": 46,
    "requests_raised": 6, "requests_resolved": 1,
    "households_by_status": {"covered": 39, "stale": 3, "uncovered": 17},
    "uncovered_by_reason": {"no_member": 3, "member_inactive": 3, "no_delegate": 8,
                            "no_committee_member": 3},
}


class Summary(BaseModel):
    """The county (or one township) in numbers on the date."""

    model_config = _examples(SUMMARY)
    as_of: dt.date = _as_of()
    township_id: str | None = _f("present only when the summary is narrowed to one township",
                                 "T1", default=None)
    townships: int = _f("townships 乡镇", 2)
    villages: int = _f("villages 行政村", 4)
    villages_needing_pairing: int = _f("villages with needs_pairing true", 3)
    organizations: OrganizationCounts = _f("Party organisations by kind")
    units: UnitCounts = _f("units 帮扶单位 by sector")
    people: int = _f("active Party members 党员", 25)
    committee_members: int = _f("active county committee members 县委委员", 2)
    delegates: int = _f("active Party delegates 党代表", 4)
    cadres: int = _f("active cadres 干部", 1)
    members_in_hardship: int = _f("active members in hardship 困难党员", 1)
    households: int = _f("active households 户", 59)
    focus_households: int = _f("active focus households 重点户", 26)
    households_by_category: CategoryCounts = _f("active households by category")
    pairings: int = _f("unit–village pairings counting on the date", 3)
    paired_units: int = _f("units in those pairings", 2)
    paired_villages: int = _f("villages in those pairings", 3)
    supports: int = _f("cadre supports 结穷亲 counting on the date (of active households)", 2)
    contacts: int = _f("contacts on or before the date (with active households)", 46)
    requests_raised: int = _f("those contacts that raised a request", 6)
    requests_resolved: int = _f("those requests resolved", 1)
    households_by_status: StatusCounts = _f("active households by status")
    uncovered_by_reason: ReasonCounts = _f("uncovered households by reason")


# -- imports ------------------------------------------------------------------------------------


class ImportProblem(BaseModel):
    """An error or warning of a bundle, tied to its file, row and column."""

    file: str = _f("the file (or sheet) it is in", "liaisons.csv")
    row: int | None = _f("the row, counting the header as row 1 (None: the whole file)", 6)
    column: str | None = _f("the column (None: the whole row or file)", "from_id")
    message: str = _f("what is wrong and how to fix it")


class ImportOmitted(BaseModel):
    """Problems of one kind that were counted but not listed (a report lists at most 100 of
    each kind and 1,000 of each level)."""

    level: str = _f("error or warning", "error")
    file: str | None = _f("the file (None: problems of every kind beyond the overall bound)",
                          "contacts.csv")
    column: str | None = _f("the column of the problems (None: the whole row or file)", "date")
    count: int = _f("how many were left out", 299_900)
    message: str = _f("the same in words, with one of them as an example")


class ImportGroup(BaseModel):
    """Every problem of one kind (the same file, column and message but for its values): a
    failure that hits a whole column is one group, however many rows it hits."""

    level: str = _f("error or warning", "error")
    file: str = _f("the file (or sheet) of the problems", "contacts.csv")
    column: str | None = _f("their column (None: the whole row or file)", "date")
    count: int = _f("how many problems of this kind were found", 54_023)
    rows: list[int] = _f("the first rows (at most 5; the header is row 1)", [2, 3, 4, 5, 6])
    message: str = _f("the first problem's message")


_TINY_COUNTS = {"townships": 2, "villages": 4, "organizations": 9, "units": 4, "people": 28,
                "households": 60, "liaisons": 82, "pairings": 4, "supports": 2, "contacts": 47}
IMPORT_OK = {"ok": True, "dry_run": True, "replace": False, "written": False,
             "counts": _TINY_COUNTS, "errors": [], "warnings": [], "error_count": 0,
             "warning_count": 0, "omitted": [], "groups": []}
IMPORT_BAD = {
    "detail": "the bundle has 1 error(s); nothing was written", "ok": False, "dry_run": False,
    "replace": False, "written": False, "counts": {**_TINY_COUNTS, "liaisons": 81},
    "errors": [{"file": "liaisons.csv", "row": 6, "column": "from_id", "message": _NOT_DELEGATE}],
    "warnings": [], "error_count": 1, "warning_count": 0, "omitted": [],
    "groups": [{"level": "error", "file": "liaisons.csv", "column": "from_id", "count": 1,
                "rows": [6], "message": _NOT_DELEGATE}]}


class ImportReport(BaseModel):
    """What an import found and did."""

    model_config = _examples(IMPORT_OK)
    ok: bool = _f("true when the bundle has no error", True)
    dry_run: bool = _f("true when only checked (dry_run=true)", True)
    replace: bool = _f("always false through the API (no replace mode)", False)
    written: bool = _f("true when the store was changed", False)
    counts: dict[str, int] = _f("rows checked per bundle file", {"households": 60})
    errors: list[ImportProblem] = _f("the errors (at most 100 of each kind, 1,000 in all); any "
                                     "error means nothing was written")
    warnings: list[ImportProblem] = _f("warnings (unknown columns, repeated rows); they do not "
                                       "stop an import")
    error_count: int = _f("errors found (errors lists at most 100 of each kind)", 0)
    warning_count: int = _f("warnings found (warnings lists at most 100 of each kind)", 0)
    omitted: list[ImportOmitted] = _f("per kind, the errors and warnings found but not listed",
                                      default_factory=list)
    groups: list[ImportGroup] = _f("per kind, every error and warning found: how many, the "
                                   "first rows; errors first", default_factory=list)


class ImportRefused(ImportReport):
    """A bundle with errors: nothing was written; the errors are listed (at most 100 of each
    kind; ``error_count`` says how many there are, ``omitted`` what was left out)."""

    model_config = _examples(IMPORT_BAD)
    detail: str = _f("how many errors there are")


# -- writes -------------------------------------------------------------------------------------


PHONE_TEXT = ("a phone number: a mobile (13900000001, +86 139 0000 0001) or a landline with "
              "its area code (010-12345678, 0571-8888123), optionally with an extension "
              "(-123, 转123)")


class PersonRecord(BaseModel):
    """A person as stored (a row of people.csv)."""

    model_config = _examples({"id": "D1", "name": "陈金兰", "roles": ["delegate"],
                              "status": "active", "inactive_since": None, "hardship": False,
                              "organization_id": "O4", "township_id": "T1", "village_id": None,
                              "phone": "13900000004"})
    id: str = _f("the person's id (unique across the whole data set)", "D1")
    name: str = _f("their name", "陈金兰")
    roles: list[Role] = _f("their roles; every person is a Party member", ["delegate"])
    status: RecordStatus = _f("active or inactive", "active")
    inactive_since: dt.date | None = _f("when an inactive person left (None: inactive at every "
                                        "date)", None)
    hardship: bool = _f("in the database of members in hardship", False)
    organization_id: str | None = _f("their Party organisation", "O4")
    township_id: str | None = _f("their township, where given", "T1")
    village_id: str | None = _f("their village, where given", None)
    phone: str | None = _f("their phone number", "13900000004")


_PERSON_NEW: dict[str, Any] = {"id": "M30", "name": "王小梅", "roles": [], "village_id": "V1",
                              "phone": "13900000030"}


class PersonCreate(BaseModel):
    """A new person; fields left out take the bundle format's defaults."""

    model_config = _write(_PERSON_NEW)
    id: str = _ref("a new id, unique across the whole data set (1–64 characters, not starting "
                   "with 'outside:')", "M30")
    name: str = _text("people", "name", "their name", "王小梅")
    roles: list[RoleIn] | None = _f("committee_member, delegate, cadre (default none)", [],
                                    default=None)
    status: StatusIn | None = _f("default active", "active", default=None)
    inactive_since: Day | None = _f("when an inactive person left", None, default=None)
    hardship: bool | None = _f("in hardship (default false)", False, default=None)
    organization_id: str | None = _f("their Party organisation", "O4", default=None,
                                     max_length=ID_MAX)
    township_id: str | None = _f("their township", None, default=None, max_length=ID_MAX)
    village_id: str | None = _f("their village", "V1", default=None, max_length=ID_MAX)
    phone: str | None = _text("people", "phone", PHONE_TEXT, "13900000030", default=None)


class PersonUpdate(BaseModel):
    """The fields to change; fields left out keep their stored values, null clears one."""

    model_config = _write({"roles": ["delegate"]}, {"phone": "13900000099", "village_id": "V2"})
    name: str | None = _text("people", "name", "their name", "王小梅", default=None)
    roles: list[RoleIn] | None = _f("the complete new list of roles", ["delegate"], default=None)
    status: StatusIn | None = _f("active or inactive", "active", default=None)
    inactive_since: Day | None = _f("when an inactive person left", None, default=None)
    hardship: bool | None = _f("in hardship", False, default=None)
    organization_id: str | None = _f("their Party organisation", "O4", default=None,
                                     max_length=ID_MAX)
    township_id: str | None = _f("their township", None, default=None, max_length=ID_MAX)
    village_id: str | None = _f("their village", "V2", default=None, max_length=ID_MAX)
    phone: str | None = _text("people", "phone", PHONE_TEXT, "13900000099", default=None)


class Deactivate(BaseModel):
    """Mark a person or household inactive from a date on (nothing is deleted)."""

    model_config = _write({"inactive_since": "2026-07-01"})
    inactive_since: Day | None = _f("the day they left (default today); on and after it they "
                                    "no longer count", "2026-07-01", default=None)


class HouseholdRecord(BaseModel):
    """A household as stored (a row of households.csv)."""

    model_config = _examples({"id": "H002", "head_name": "张国强", "village_id": "V1",
                              "categories": ["extreme_poverty", "poor"], "size": 3,
                              "status": "active", "inactive_since": None, "phone": "15800000002",
                              "address": "双宝村2号"})
    id: str = _f("the household's id (unique across the whole data set)", "H002")
    head_name: str = _f("the head of the household", "张国强")
    village_id: str = _f("its village", "V1")
    categories: list[Category] = _f("its categories", ["extreme_poverty", "poor"])
    size: int | None = _f("how many people live in it", 3)
    status: RecordStatus = _f("active, or inactive (moved away, dissolved)", "active")
    inactive_since: dt.date | None = _f("when it became inactive", None)
    phone: str | None = _f("its phone number", "15800000002")
    address: str | None = _f("its address", "双宝村2号")


class HouseholdCreate(BaseModel):
    """A new household; fields left out take the bundle format's defaults."""

    model_config = _write({"id": "H100", "head_name": "李桂兰", "village_id": "V1",
                           "categories": ["empty_nest_elderly"], "size": 1,
                           "phone": "15800000100", "address": "双宝村100号"})
    id: str = _ref("a new id, unique across the whole data set (1–64 characters, not starting "
                   "with 'outside:')", "H100")
    head_name: str = _text("households", "head_name", "the head of the household", "李桂兰")
    village_id: str = _ref("its village", "V1")
    categories: list[CategoryIn] | None = _f("military_martyr, extreme_poverty, "
                                             "empty_nest_elderly, poor (default none)",
                                             ["empty_nest_elderly"], default=None)
    size: int | None = _f("how many people live in it (1 or more)", 1, default=None,
                          le=SIZE_MAX)
    status: StatusIn | None = _f("default active", "active", default=None)
    inactive_since: Day | None = _f("when it became inactive", None, default=None)
    phone: str | None = _text("households", "phone", PHONE_TEXT, "15800000100", default=None)
    address: str | None = _text("households", "address", "its address", "双宝村100号",
                                default=None)


class HouseholdUpdate(BaseModel):
    """The fields to change; fields left out keep their stored values, null clears one."""

    model_config = _write({"categories": ["extreme_poverty", "poor"], "size": 4})
    head_name: str | None = _text("households", "head_name", "the head of the household",
                                  "张国强", default=None)
    village_id: str | None = _f("its village", "V1", default=None, max_length=ID_MAX)
    categories: list[CategoryIn] | None = _f("the complete new list of categories",
                                             ["extreme_poverty", "poor"], default=None)
    size: int | None = _f("how many people live in it (1 or more)", 4, default=None,
                          le=SIZE_MAX)
    status: StatusIn | None = _f("active or inactive", "active", default=None)
    inactive_since: Day | None = _f("when it became inactive", None, default=None)
    phone: str | None = _text("households", "phone", PHONE_TEXT, "15800000002", default=None)
    address: str | None = _text("households", "address", "its address", "双宝村2号",
                                default=None)


def _since() -> Any:
    return _f("the day it began (default: not known; it counts from always)", "2026-07-01",
              default=None)


def _until() -> Any:
    return _f("the day it ended (it no longer counts on that day)", None, default=None)


def _end_until() -> Any:
    return _f("the day it ends (default today): it no longer counts on and after that day",
              "2026-07-01", default=None)


class LiaisonRecord(BaseModel):
    """A liaison of the three-contact chain, as stored."""

    model_config = _examples({"kind": "delegate-member", "from_id": "D1", "to_id": "M01",
                              "since": "2008-01-01", "until": None})
    kind: LiaisonKind = _f("committee_member-delegate, delegate-member or member-household",
                           "delegate-member")
    from_id: str = _f("the person above", "D1")
    to_id: str = _f("the person or household below", "M01")
    since: dt.date | None = _f("when it began", "2008-01-01")
    until: dt.date | None = _f("when it ended (None: it goes on)", None)


class LiaisonCreate(BaseModel):
    """A liaison to add (or, when it exists, the dates to set)."""

    model_config = _write({"kind": "member-household", "from_id": "M19", "to_id": "H059",
                           "since": "2026-07-01"})
    kind: LiaisonKindIn = _f("committee_member-delegate (from a committee member to a delegate), "
                           "delegate-member (from a delegate to a person), member-household "
                           "(from a person to a household)", "member-household")
    from_id: str = _ref("the person above", "M19")
    to_id: str = _ref("the person or household below", "H059")
    since: Day | None = _since()
    until: Day | None = _until()


class LiaisonEnd(BaseModel):
    """Which liaison ends, and when (it is kept, with until set)."""

    model_config = _write({"kind": "delegate-member", "from_id": "D1", "to_id": "M01",
                           "until": "2026-07-01"})
    kind: LiaisonKindIn = _f("the liaison's kind", "delegate-member")
    from_id: str = _ref("the person above", "D1")
    to_id: str = _ref("the person or household below", "M01")
    until: Day | None = _end_until()


class PairingRecord(BaseModel):
    """A unit–village pairing, as stored."""

    model_config = _examples({"unit_id": "U1", "village_id": "V1", "since": "2008-03-01",
                              "until": None})
    unit_id: str = _f("the unit", "U1")
    village_id: str = _f("the village it helps", "V1")
    since: dt.date | None = _f("when it began", "2008-03-01")
    until: dt.date | None = _f("when it ended (None: it goes on)", None)


class PairingCreate(BaseModel):
    """A pairing to add (or, when it exists, the dates to set)."""

    model_config = _write({"unit_id": "U2", "village_id": "V3", "since": "2026-07-01"})
    unit_id: str = _ref("the unit", "U2")
    village_id: str = _ref("the village it helps", "V3")
    since: Day | None = _since()
    until: Day | None = _until()


class PairingEnd(BaseModel):
    """Which pairing ends, and when."""

    model_config = _write({"unit_id": "U1", "village_id": "V2", "until": "2026-07-01"})
    unit_id: str = _ref("the unit", "U1")
    village_id: str = _ref("the village", "V2")
    until: Day | None = _end_until()


class SupportRecord(BaseModel):
    """A cadre's support of a poor household (结穷亲), as stored."""

    model_config = _examples({"person_id": "K1", "household_id": "H002", "since": "2015-01-01",
                              "until": None})
    person_id: str = _f("the cadre", "K1")
    household_id: str = _f("the household", "H002")
    since: dt.date | None = _f("when it began", "2015-01-01")
    until: dt.date | None = _f("when it ended (None: it goes on)", None)


class SupportCreate(BaseModel):
    """A support to add (or, when it exists, the dates to set)."""

    model_config = _write({"person_id": "K1", "household_id": "H059", "since": "2026-07-01"})
    person_id: str = _ref("the cadre", "K1")
    household_id: str = _ref("the household", "H059")
    since: Day | None = _since()
    until: Day | None = _until()


class SupportEnd(BaseModel):
    """Which support ends, and when."""

    model_config = _write({"person_id": "K1", "household_id": "H005", "until": "2026-07-01"})
    person_id: str = _ref("the cadre", "K1")
    household_id: str = _ref("the household", "H005")
    until: Day | None = _end_until()


class ContactRecord(BaseModel):
    """A contact with a household, as stored."""

    model_config = _examples({"person_id": "M03", "household_id": "H007", "date": "2026-06-29",
                              "channel": "visit", "request": "屋顶漏雨", "resolved": False})
    person_id: str = _f("who made the contact", "M03")
    household_id: str = _f("the household", "H007")
    date: dt.date = _f("when", "2026-06-29")
    channel: Channel = _f("visit, phone, meeting or other", "visit")
    request: str | None = _f("a difficulty the household raised", "屋顶漏雨")
    resolved: bool = _f("whether the request was resolved", False)


class ContactCreate(BaseModel):
    """A contact to record (the same contact twice is kept once)."""

    model_config = _write({"person_id": "M03", "household_id": "H007", "date": "2026-06-29",
                           "channel": "visit", "request": "屋顶漏雨", "resolved": False})
    person_id: str = _ref("who made the contact", "M03")
    household_id: str = _ref("the household", "H007")
    date: Day = _f("when", "2026-06-29")
    channel: ChannelIn | None = _f("visit (default), phone, meeting or other", "visit",
                                   default=None)
    request: str | None = _text("contacts", "request", "a difficulty the household raised",
                                "屋顶漏雨", default=None)
    resolved: bool | None = _f("whether the request was resolved (default false)", False,
                               default=None)


# -- error answers, for the OpenAPI description of every route -----------------------------------

_ERRORS: dict[int, tuple[type[BaseModel], str, str]] = {
    401: (ErrorBody, "no API key, or one that is unknown or revoked",
          "the API key is not valid: unknown, mistyped or revoked"),
    403: (ErrorBody, "the key's role or townships do not allow this",
          "this key's role is viewer: it may read but not change data; ask for an editor key"),
    404: (ErrorBody, "an id names nothing (that this key may see)", "no household with id 'H999'"),
    409: (ErrorBody, "the request clashes with what is stored",
          "a person with id 'D1' exists already; change it with PATCH"),
    413: (ErrorBody, "the request body (an upload: the file) is larger than this server accepts",
          "the upload is 80.0 MB; this server accepts at most 50.0 MB (GRAPHSVC_MAX_UPLOAD_BYTES)"),
    422: (InvalidRequestBody,
          "a parameter or field is not allowed: the answer names it and says what is allowed", ""),
    429: (ErrorBody, ("too many wrong API keys came from this address: wait the seconds "
                      "Retry-After gives"),
          ("too many wrong API keys were sent from your address; every attempt from it is "
           "refused for 60 more seconds, even with a valid key. Check the key you were given "
           "and try again then")),
    503: (ErrorBody, "the store cannot be reached now; the service keeps trying",
          "Neo4j at bolt://127.0.0.1:7687 cannot be reached: Connection refused"),
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route: each error status with its body model and an example."""
    out: dict[int | str, dict[str, Any]] = {}
    if 401 in codes:  # wherever a key is checked, too many wrong ones are refused
        codes = (*codes, 429)
    for code in codes:
        model, description, example = _ERRORS[code]
        entry: dict[str, Any] = {"model": model, "description": description}
        if example:
            entry["content"] = {"application/json": {"example": {"detail": example}}}
        out[code] = entry
    return out


def end_link(operation_id: str, *keys: str) -> dict[str, Any]:
    """The OpenAPI ``links`` of an add: ending what it added, by the keys in its answer (what a
    client, and the stateful fuzzer, sends next)."""
    return {"End": {"operationId": operation_id,
                    "description": f"end what was just added (the same {', '.join(keys)})",
                    "requestBody": {k: f"$response.body#/{k}" for k in keys}}}


READ_ERRORS = (401, 403, 404, 422, 503)
WRITE_ERRORS = (401, 403, 404, 409, 413, 422, 503)  # 413: a body over GRAPHSVC_MAX_BODY_BYTES
