"""The files of a bundle and their columns, exactly as ``spec/DATA_FORMAT.md`` says.

Everything that reads, validates, stores or writes a bundle takes its column
names, types and order from here.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

# the words of the format's enum and list columns come from graphsvc.model, the one place
from graphsvc.model import (
    CATEGORIES,
    CHANNELS,
    LIAISON_KINDS,
    ORG_KINDS,
    ORG_LEVELS,
    RECORD_STATUSES,
    ROLES,
    SECTORS,
    Kind,
)

ColumnType = Literal["id", "text", "bool", "date", "int", "enum", "list", "ref"]

# -- how long a value may be ----------------------------------------------------------------------
#
# Every text a bundle cell or an API write carries has a bound that fits what it holds, so that no
# record (and no audit-log entry, which holds a write's old and new values) can grow without
# limit. A bound is defined here once; the API's schemas take theirs from these columns.

ID_MAX = 64  # an id or a reference (DATA_FORMAT.md: 1-64 characters)
PLACE_NAME_MAX = 100  # a township, village, organisation or unit ("中共…县…局机关党支部委员会")
PERSON_NAME_MAX = 50  # a person or the head of a household (transcribed names run long)
PHONE_MAX = 32  # the longest accepted shape is "+86 139 0000 0001" or a landline with extension
ADDRESS_MAX = 200
REQUEST_MAX = 1000  # a difficulty a household raised, in a few sentences
SIZE_MAX = 1000  # people in one household; also keeps the number inside both stores' integers

# Ids of this prefix are the API's stand-ins for people outside the reader's townships
# (graphsvc.api.redact): a stored record may not have one, or a township's own member would
# read as an unnamed stand-in to its own viewer.
OUTSIDE = "outside:"

# -- the shape of a phone number ------------------------------------------------------------------
#
# Chinese numbers, as clerks write them (kept as written; only the shape is checked):
#   mobile:   11 digits starting 13-19, optionally after +86 or 0086: 13900000001,
#             +86 139 0000 0001, 0086-139-0000-0001
#   landline: 0, a 2-3 digit area code, then 7-8 digits: 010-12345678, 0571-8888123,
#             05718881234 (no +86: a landline is written with its leading 0)
#   either may end in an extension of 1-6 digits: -123, 转123, ext 123 or x123
# Between the groups (the prefix; 3-4-4 of a mobile; the area code, the first digits and the
# last 4 of a landline; the extension) one space or one dash may stand, nothing else: no
# brackets, no full-width digits (only the ASCII digits 0-9 count).

_SEP = "[ -]?"
_EXT = r"(?: ?(?:-|转|ext\.? ?|x)[0-9]{1,6})?"
PHONE_RE = re.compile(
    rf"(?:(?:\+86|0086){_SEP})?1[3-9][0-9]{_SEP}[0-9]{{4}}{_SEP}[0-9]{{4}}{_EXT}"
    rf"|0[0-9]{{2,3}}{_SEP}[0-9]{{3,4}}{_SEP}[0-9]{{4}}{_EXT}")
PHONE_SHAPES = ("a mobile number of 11 digits starting 13 to 19 (for example 13900000001, "
                "optionally after +86 or 0086), or a landline number with its area code "
                "(for example 010-12345678 or 0571-8888123), optionally with an extension "
                "(-123 or 转123); spaces or dashes may separate the groups of digits")


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: ColumnType
    required: bool = False
    choices: tuple[str, ...] = ()
    ref: Kind | None = None  # for "ref": the kind of record it must name
    default: object = None
    max_length: int | None = None  # for "text", "id" and "ref": the most characters it may have
    phone: bool = False  # for "text": the value must have a phone number's shape (PHONE_SHAPES)


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
    if type in ("id", "ref"):
        kw.setdefault("max_length", ID_MAX)
    return Column(name, type, required, **kw)  # type: ignore[arg-type]


def _name(name: str = "name", max_length: int = PLACE_NAME_MAX) -> Column:
    return _c(name, "text", True, max_length=max_length)


def _phone() -> Column:
    return _c("phone", "text", max_length=PHONE_MAX, phone=True)


# Order matters twice: entity files are written before the files that refer to
# them, and export writes the files and their columns in this order.
FILES: tuple[FileSpec, ...] = (
    FileSpec(
        "townships", "entity",
        (_c("id", "id", True), _name()),
        ("id",), Kind.TOWNSHIP,
    ),
    FileSpec(
        "villages", "entity",
        (
            _c("id", "id", True), _name(),
            _c("township_id", "ref", True, ref=Kind.TOWNSHIP),
            _c("needs_pairing", "bool", default=False),
        ),
        ("id",), Kind.VILLAGE,
    ),
    FileSpec(
        "organizations", "entity",
        (
            _c("id", "id", True), _name(),
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
            _c("id", "id", True), _name(),
            _c("sector", "enum", True, choices=SECTORS),
            _c("organization_id", "ref", ref=Kind.ORGANIZATION),
        ),
        ("id",), Kind.UNIT,
    ),
    FileSpec(
        "people", "entity",
        (
            _c("id", "id", True), _name(max_length=PERSON_NAME_MAX),
            _c("roles", "list", choices=ROLES, default=()),
            _c("status", "enum", choices=RECORD_STATUSES, default="active"),
            _c("inactive_since", "date"),
            _c("hardship", "bool", default=False),
            _c("organization_id", "ref", ref=Kind.ORGANIZATION),
            _c("township_id", "ref", ref=Kind.TOWNSHIP),
            _c("village_id", "ref", ref=Kind.VILLAGE),
            _phone(),
        ),
        ("id",), Kind.PERSON,
    ),
    FileSpec(
        "households", "entity",
        (
            _c("id", "id", True), _name("head_name", PERSON_NAME_MAX),
            _c("village_id", "ref", True, ref=Kind.VILLAGE),
            _c("categories", "list", choices=CATEGORIES, default=()),
            _c("size", "int"),
            _c("status", "enum", choices=RECORD_STATUSES, default="active"),
            _c("inactive_since", "date"),
            _phone(), _c("address", "text", max_length=ADDRESS_MAX),
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
            _c("request", "text", max_length=REQUEST_MAX),
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


def contact_key(row: Mapping[str, object]) -> str:
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
