"""The files of a bundle and their columns, exactly as ``spec/DATA_FORMAT.md`` says.

Everything that reads, validates, stores or writes a bundle takes its column
names, types and order from here.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal


class Kind(StrEnum):
    """The kinds of record that carry an id."""

    TOWNSHIP = "township"
    VILLAGE = "village"
    ORGANIZATION = "organization"
    UNIT = "unit"
    PERSON = "person"
    HOUSEHOLD = "household"


ORG_KINDS = ("committee", "general_branch", "branch")
ORG_LEVELS = ("county", "township", "village", "unit")
SECTORS = ("agency", "institution", "enterprise")
ROLES = ("committee_member", "delegate", "cadre")
STATUSES = ("active", "inactive")
CATEGORIES = ("military_martyr", "extreme_poverty", "empty_nest_elderly", "poor")
FOCUS_CATEGORIES = ("military_martyr", "extreme_poverty", "empty_nest_elderly")
LIAISON_KINDS = ("committee_member-delegate", "delegate-member", "member-household")
CHANNELS = ("visit", "phone", "meeting", "other")

ColumnType = Literal["id", "text", "bool", "date", "int", "enum", "list", "ref"]


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: ColumnType
    required: bool = False
    choices: tuple[str, ...] = ()
    ref: Kind | None = None  # for "ref": the kind of record it must name
    default: object = None


@dataclass(frozen=True, slots=True)
class FileSpec:
    """One file of a bundle. ``key`` names the columns that identify a row."""

    name: str  # e.g. "people"; the file is name + ".csv", the sheet is name
    group: Literal["entity", "link", "contact"]
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    kind: Kind | None = None  # for entity files

    @property
    def filename(self) -> str:
        return f"{self.name}.csv"

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


def _c(name: str, type: ColumnType, required: bool = False, **kw: object) -> Column:
    return Column(name, type, required, **kw)  # type: ignore[arg-type]


# Order matters twice: entity files are written before the files that refer to
# them, and export writes the files and their columns in this order.
FILES: tuple[FileSpec, ...] = (
    FileSpec(
        "townships", "entity",
        (_c("id", "id", True), _c("name", "text", True)),
        ("id",), Kind.TOWNSHIP,
    ),
    FileSpec(
        "villages", "entity",
        (
            _c("id", "id", True), _c("name", "text", True),
            _c("township_id", "ref", True, ref=Kind.TOWNSHIP),
            _c("needs_pairing", "bool", default=False),
        ),
        ("id",), Kind.VILLAGE,
    ),
    FileSpec(
        "organizations", "entity",
        (
            _c("id", "id", True), _c("name", "text", True),
            _c("kind", "enum", True, choices=ORG_KINDS),
            _c("level", "enum", True, choices=ORG_LEVELS),
            _c("parent_id", "ref", ref=Kind.ORGANIZATION),
            _c("township_id", "ref", ref=Kind.TOWNSHIP),
            _c("village_id", "ref", ref=Kind.VILLAGE),
        ),
        ("id",), Kind.ORGANIZATION,
    ),
    FileSpec(
        "units", "entity",
        (
            _c("id", "id", True), _c("name", "text", True),
            _c("sector", "enum", True, choices=SECTORS),
            _c("organization_id", "ref", ref=Kind.ORGANIZATION),
        ),
        ("id",), Kind.UNIT,
    ),
    FileSpec(
        "people", "entity",
        (
            _c("id", "id", True), _c("name", "text", True),
            _c("roles", "list", choices=ROLES, default=()),
            _c("status", "enum", choices=STATUSES, default="active"),
            _c("inactive_since", "date"),
            _c("hardship", "bool", default=False),
            _c("organization_id", "ref", ref=Kind.ORGANIZATION),
            _c("township_id", "ref", ref=Kind.TOWNSHIP),
            _c("village_id", "ref", ref=Kind.VILLAGE),
            _c("phone", "text"),
        ),
        ("id",), Kind.PERSON,
    ),
    FileSpec(
        "households", "entity",
        (
            _c("id", "id", True), _c("head_name", "text", True),
            _c("village_id", "ref", True, ref=Kind.VILLAGE),
            _c("categories", "list", choices=CATEGORIES, default=()),
            _c("size", "int"),
            _c("status", "enum", choices=STATUSES, default="active"),
            _c("inactive_since", "date"),
            _c("phone", "text"), _c("address", "text"),
        ),
        ("id",), Kind.HOUSEHOLD,
    ),
    FileSpec(
        "liaisons", "link",
        (
            _c("kind", "enum", True, choices=LIAISON_KINDS),
            _c("from_id", "ref", True, ref=Kind.PERSON),
            _c("to_id", "ref", True),  # a person or a household, by kind
            _c("since", "date"), _c("until", "date"),
        ),
        ("kind", "from_id", "to_id"),
    ),
    FileSpec(
        "pairings", "link",
        (
            _c("unit_id", "ref", True, ref=Kind.UNIT),
            _c("village_id", "ref", True, ref=Kind.VILLAGE),
            _c("since", "date"), _c("until", "date"),
        ),
        ("unit_id", "village_id"),
    ),
    FileSpec(
        "supports", "link",
        (
            _c("person_id", "ref", True, ref=Kind.PERSON),
            _c("household_id", "ref", True, ref=Kind.HOUSEHOLD),
            _c("since", "date"), _c("until", "date"),
        ),
        ("person_id", "household_id"),
    ),
    FileSpec(
        "contacts", "contact",
        (
            _c("person_id", "ref", True, ref=Kind.PERSON),
            _c("household_id", "ref", True, ref=Kind.HOUSEHOLD),
            _c("date", "date", True),
            _c("channel", "enum", choices=CHANNELS, default="visit"),
            _c("request", "text"),
            _c("resolved", "bool", default=False),
        ),
        ("person_id", "household_id", "date", "channel", "request", "resolved"),
    ),
)

SPECS: dict[str, FileSpec] = {s.name: s for s in FILES}
ENTITY_SPECS: dict[Kind, FileSpec] = {s.kind: s for s in FILES if s.kind is not None}

LIAISON_TARGET: dict[str, Kind] = {
    "committee_member-delegate": Kind.PERSON,
    "delegate-member": Kind.PERSON,
    "member-household": Kind.HOUSEHOLD,
}

KIND_WORDS: dict[Kind, str] = {
    Kind.TOWNSHIP: "a township",
    Kind.VILLAGE: "a village",
    Kind.ORGANIZATION: "an organisation",
    Kind.UNIT: "a unit",
    Kind.PERSON: "a person",
    Kind.HOUSEHOLD: "a household",
}


# -- the formula escape ---------------------------------------------------------------------------
#
# A spreadsheet runs a cell whose text starts with one of FORMULA_TRIGGERS as a formula
# (OWASP "CSV Injection": ``=cmd|' /C calc'!A0``, ``@SUM(...)``, ``=HYPERLINK(...)``). Every
# CSV and workbook graphsvc writes therefore puts a single quote before such a cell, and the
# bundle reader takes it off again, so that export -> import gives back every value exactly:
#
#   escape:   "'" + text   when text starts with a trigger, or when text itself starts with "'"
#                           followed by a trigger or another "'" (so that the escape stays
#                           unambiguous); every other text is written as it is
#   unescape: text[1:]     when text starts with "'" followed by a trigger or another "'";
#                           every other text is read as it is
#
# unescape(escape(t)) == t for every text t, so export -> import -> export gives the same bytes.
# A hand-written bundle reads as before unless a cell starts with "'" followed by a trigger
# or a "'": that cell loses its first quote, as Excel's own text prefix (typed '=1+1 shows
# =1+1) does. Phone numbers (+86...) and negative numbers are escaped too, and come back.

FORMULA_TRIGGERS = frozenset("=+-@\t\r\n")
_ESCAPED_SECOND = FORMULA_TRIGGERS | {"'"}


def escape_formula(text: str) -> str:
    """``text`` as a spreadsheet cell that is never run as a formula (see above)."""
    if not text:
        return text
    first = text[0]
    if first in FORMULA_TRIGGERS or (first == "'" and text[1:2] in _ESCAPED_SECOND):
        return "'" + text
    return text


def unescape_formula(text: str) -> str:
    """The value of a cell written by ``escape_formula`` (or by hand)."""
    if text[:1] == "'" and text[1:2] in _ESCAPED_SECOND:
        return text[1:]
    return text


def _digest(parts: list[str]) -> str:
    # 24 hex digits: short enough for Neo4j to keep inline with the relationship (a long
    # string goes to the dynamic string store and makes every import commit slower)
    return hashlib.blake2b("\x1f".join(parts).encode("utf-8"), digest_size=12).hexdigest()


def contact_key(row: dict[str, object]) -> str:
    """The identity of a contact: a digest of all of its columns, in canonical text."""
    return _digest([
        str(row["person_id"]),
        str(row["household_id"]),
        str(row["date"]),
        str(row.get("channel") or "visit"),
        str(row.get("request") or ""),
        "1" if row.get("resolved") else "0",
    ])


def link_key(spec: FileSpec, row: dict[str, object]) -> str:
    """The identity of a liaison, pairing or support row: a digest of its key columns."""
    return _digest([spec.name, *(str(row[k]) for k in spec.key)])
