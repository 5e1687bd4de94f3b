"""Turn raw tables into typed records, checking every rule of ``spec/DATA_FORMAT.md``.

``validate`` never writes. It asks the store (through ``StoredLookup``) only
about the ids and relationship rows the bundle names, and returns the complete
records to write: for a record that is already stored, the columns that the
bundle's file does not have keep their stored values (a bundle may carry only
what changed); a column that is present but empty means "absent".
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from graphsvc.bundle.reader import RawTable, Tables
from graphsvc.bundle.report import Report
from graphsvc.bundle.schema import (
    ENTITY_SPECS,
    FILES,
    KIND_WORDS,
    LIAISON_TARGET,
    SPECS,
    Column,
    FileSpec,
    Kind,
    contact_key,
)

Record = dict[str, Any]


class StoredLookup(Protocol):
    """What validation needs to know of the store."""

    def fetch_entities(self, ids: Iterable[str]) -> dict[str, tuple[Kind, Record]]: ...

    def fetch_links(self, name: str, keys: Iterable[tuple[str, ...]]) -> dict[tuple[str, ...], Record]: ...


@dataclass(slots=True)
class Bundle:
    """Complete, typed records ready to write, per file name, in a stable order."""

    records: dict[str, list[Record]] = field(default_factory=dict)

    def rows(self, name: str) -> list[Record]:
        return self.records.get(name, [])

    def count(self) -> int:
        return sum(len(v) for v in self.records.values())


_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
# text cannot hold these: a NUL (no CSV file may carry one, so an export could not be read
# back) and half of a UTF-16 pair (not a character at all; no store can keep it)
_BAD_TEXT_RE = re.compile("[\x00\ud800-\udfff]")
_TRUE = {"true", "1", "yes", "是", "y", "t"}
_FALSE = {"false", "0", "no", "否", "n", "f"}
_LIST_SPLIT = re.compile(r"[;；]")


class CellError(ValueError):
    """A cell's text does not fit its column."""


def _check_id(text: str) -> str:
    if text != text.strip():
        raise CellError(f"the id '{text}' has spaces at its start or end; remove them")
    if len(text) > 64:
        raise CellError(f"the id '{text[:20]}…' is {len(text)} characters long; ids have at most 64")
    if _CONTROL_RE.search(text):
        raise CellError("the id holds a control character (a line break or tab); remove it")
    if _BAD_TEXT_RE.search(text):
        raise CellError("the id holds a broken character (half of a UTF-16 pair); retype it")
    return text


def _check_text(text: str) -> str:
    bad = _BAD_TEXT_RE.search(text)
    if bad is None:
        return text
    if bad.group() == "\x00":
        raise CellError("the text holds a NUL character; remove it")
    raise CellError("the text holds a broken character (half of a UTF-16 pair); retype it")


def _cell_parser(col: Column) -> Callable[[str], Any]:
    """A function from cell text (never empty) to the typed value, raising CellError."""
    t = col.type
    if t in ("id", "ref"):
        return _check_id
    if t == "text":
        return _check_text
    if t == "bool":
        def parse_bool(s: str) -> bool:
            v = s.strip().lower()
            if v in _TRUE:
                return True
            if v in _FALSE:
                return False
            raise CellError(f"'{s}' is not yes or no; write true/false, 1/0, yes/no or 是/否")
        return parse_bool
    if t == "date":
        def parse_date(s: str) -> dt.date:
            v = s.strip()
            if _DATE_RE.match(v):
                try:
                    return dt.date.fromisoformat(v)
                except ValueError:
                    raise CellError(f"'{s}' is not a real date (check the month and the day)") from None
            raise CellError(f"'{s}' is not a date written YYYY-MM-DD (for example 2026-06-30)")
        return parse_date
    if t == "int":
        def parse_size(s: str) -> int:
            v = s.strip()
            try:
                n = int(v)
            except ValueError:
                raise CellError(f"'{s}' is not a whole number") from None
            if n < 1:
                raise CellError(f"'{s}' must be 1 or more")
            return n
        return parse_size
    choices = col.choices
    allowed = ", ".join(choices)
    lowered = {c.lower(): c for c in choices}
    if t == "enum":
        def parse_enum(s: str) -> str:
            v = lowered.get(s.strip().lower())
            if v is None:
                raise CellError(f"'{s}' is not allowed here; use one of: {allowed}")
            return v
        return parse_enum
    if t == "list":
        order = {c: i for i, c in enumerate(choices)}
        def parse_list(s: str) -> list[str]:
            found: set[str] = set()
            for part in _LIST_SPLIT.split(s):
                p = part.strip()
                if not p:
                    continue
                v = lowered.get(p.lower())
                if v is None:
                    raise CellError(f"'{p}' is not allowed here; use values from: {allowed}, "
                                    "separated by ;")
                found.add(v)
            return sorted(found, key=order.__getitem__)
        return parse_list
    raise AssertionError(t)


def _empty_value(col: Column) -> Any:
    if col.type == "list":
        return list(col.default or ())  # type: ignore[call-overload]
    return col.default


@dataclass(slots=True)
class _Parsed:
    spec: FileSpec
    source: str
    present: tuple[str, ...]  # the spec's columns this file has
    rows: list[tuple[int, Record]]


def _parse_table(table: RawTable, report: Report) -> _Parsed | None:
    spec = SPECS[table.name]
    src = table.source
    index: dict[str, int] = {}
    for i, name in enumerate(table.header):
        if not name:
            continue
        key = name.strip().lower()
        if key in index:
            report.error(src, 1, name, f"the column '{name}' appears twice in the header")
            continue
        if key not in spec.column_names:
            report.warn(src, 1, name, f"'{name}' is not a column of {spec.filename}; it was ignored")
            continue
        index[key] = i
    missing = [c.name for c in spec.columns if c.required and c.name not in index]
    for name in missing:
        report.error(src, 1, name, f"the required column '{name}' is missing from the header")
    if missing:
        return None
    cols = [(c, index[c.name], _cell_parser(c), c.required, _empty_value(c))
            for c in spec.columns if c.name in index]
    width = len(table.header)
    out: list[tuple[int, Record]] = []
    err = report.error
    for number, cells in table.rows:
        if len(cells) > width and any(x.strip() for x in cells[width:]):
            err(src, number, None,
                f"the row has {len(cells)} cells but the header names only {width} columns; "
                "a comma inside a value needs quotes around the value")
            continue
        if not any(x.strip() for x in cells):
            continue  # a blank line, as spreadsheets leave them
        rec: Record = {}
        for col, i, parse, required, empty in cols:
            text = cells[i] if i < len(cells) else ""
            if not text.strip():
                if required:
                    err(src, number, col.name, f"'{col.name}' is required but the cell is empty")
                rec[col.name] = empty
                continue
            try:
                rec[col.name] = parse(text)
            except CellError as exc:
                err(src, number, col.name, str(exc))
        out.append((number, rec))
    return _Parsed(spec, src, tuple(c.name for c, *_ in cols), out)


def _full_record(spec: FileSpec, partial: Record, stored: Record | None) -> Record:
    """The record to write: stored values for columns the file lacks, defaults for new ones."""
    if stored is None and len(partial) == len(spec.columns):
        return partial  # every column given, in the spec's order (_parse_table keeps it)
    full: Record = {}
    for col in spec.columns:
        if col.name in partial:
            full[col.name] = partial[col.name]
        elif stored is not None:
            full[col.name] = stored.get(col.name, _empty_value(col))
        else:
            full[col.name] = _empty_value(col)
    return full


def validate(tables: Tables, store: StoredLookup | None, report: Report, *,
             replace: bool = False) -> Bundle:
    """Check every rule; return the records to write (meaningless when ``report`` has errors).

    With ``replace`` the store is to become equal to the bundle, so nothing
    stored is consulted: every reference must be inside the bundle.
    """
    parsed: dict[str, _Parsed] = {}
    for spec in FILES:
        table = tables.get(spec.name)
        if table is not None:
            p = _parse_table(table, report)
            if p is not None:
                parsed[spec.name] = p
            else:
                report.unreadable.add(spec.name)
    # ids that an unreadable file may hold are not reported missing: that would only repeat
    # the file's own error many times over
    unread_kinds = {s.kind for name in report.unreadable if (s := SPECS[name]).kind is not None}

    # 1. ids: unique across the whole bundle
    where: dict[str, tuple[Kind, str, int]] = {}
    for kind, spec in ENTITY_SPECS.items():
        p = parsed.get(spec.name)
        if p is None:
            continue
        for number, rec in p.rows:
            rid = rec.get("id")
            if rid is None:
                continue
            seen = where.get(rid)
            if seen is not None:
                _, other_src, other_row = seen
                report.error(p.source, number, "id",
                             f"the id '{rid}' is already used in {other_src} row {other_row}; "
                             "every id must be unique across the whole data set")
                continue
            where[rid] = (kind, p.source, number)

    # 2. what the store knows of the ids the bundle defines or names
    wanted: set[str] = set(where)
    for p in parsed.values():
        for col in p.spec.columns:
            if col.type == "ref" and col.name in p.present:
                for _, rec in p.rows:
                    v = rec.get(col.name)
                    if v is not None:
                        wanted.add(v)
    stored: dict[str, tuple[Kind, Record]] = {}
    if store is not None and not replace and wanted:
        stored = store.fetch_entities(wanted)

    # 3. entity records, complete
    entities: dict[str, Record] = {}
    kinds: dict[str, Kind] = {k: v[0] for k, v in stored.items()}
    out = Bundle()
    for kind, spec in ENTITY_SPECS.items():
        p = parsed.get(spec.name)
        if p is None:
            continue
        recs: list[Record] = []
        for number, rec in p.rows:
            rid = rec.get("id")
            if rid is None or where.get(rid, (None, None, -1))[2] != number:
                continue
            old = stored.get(rid)
            if old is not None and old[0] != kind:
                report.error(p.source, number, "id",
                             f"the id '{rid}' already belongs to {KIND_WORDS[old[0]]} in the store; "
                             "every id must be unique across the whole data set")
                continue
            full = _full_record(spec, rec, old[1] if old else None)
            entities[rid] = full
            kinds[rid] = kind
            recs.append(full)
        out.records[spec.name] = recs

    def kind_of(rid: str) -> Kind | None:
        return kinds.get(rid)

    def record_of(rid: str) -> Record | None:
        if rid in entities:
            return entities[rid]
        s = stored.get(rid)
        return s[1] if s else None

    def check_ref(src: str, number: int, column: str, rid: Any, want: Kind) -> bool:
        if rid is None:
            return False
        got = kind_of(rid)
        if got is None:
            if want in unread_kinds:
                return False
            place = "in the bundle" if replace else "in the bundle or in the store"
            report.error(src, number, column,
                         f"there is no {want.value} with id '{rid}' {place}")
            return False
        if got != want:
            report.error(src, number, column,
                         f"'{rid}' is {KIND_WORDS[got]}, not {KIND_WORDS[want]}")
            return False
        return True

    # 4. references and cross-column rules of entity files
    for kind, spec in ENTITY_SPECS.items():
        p = parsed.get(spec.name)
        if p is None:
            continue
        # references kept from the store were checked when they were stored
        ref_cols = [c for c in spec.columns if c.type == "ref" and c.name in p.present]
        for number, rec in p.rows:
            rid = rec.get("id")
            full = entities.get(rid) if rid is not None else None
            if full is None:
                continue
            for col in ref_cols:
                v = full.get(col.name)
                if v is not None and col.ref is not None:
                    check_ref(p.source, number, col.name, v, col.ref)
            if "status" in full and full.get("inactive_since") and full.get("status") == "active":
                report.warn(p.source, number, "inactive_since",
                            "a date is given but the status is active, so the date is ignored; "
                            "set the status to inactive if this one has left")
            if kind is Kind.ORGANIZATION and full.get("parent_id") == rid:
                report.error(p.source, number, "parent_id",
                             f"the organisation '{rid}' cannot be its own parent")
    _check_org_cycles(parsed.get("organizations"), entities, stored, report)

    # 5. liaisons, pairings, supports
    for spec in (SPECS["liaisons"], SPECS["pairings"], SPECS["supports"]):
        p = parsed.get(spec.name)
        if p is None:
            continue
        by_key: dict[tuple[str, ...], tuple[int, Record]] = {}
        for number, rec in p.rows:
            if any(rec.get(k) is None for k in spec.key):
                continue
            ok = True
            if spec.name == "liaisons":
                ok = _check_liaison(p.source, number, rec, check_ref, record_of, report)
            else:
                for col in spec.columns:
                    if col.type == "ref" and col.ref is not None:
                        ok = check_ref(p.source, number, col.name, rec[col.name], col.ref) and ok
            since, until = rec.get("since"), rec.get("until")
            if since is not None and until is not None and not until > since:
                report.error(p.source, number, "until",
                             f"'until' ({until}) must be after 'since' ({since})")
                ok = False
            if not ok:
                continue
            key = tuple(rec[k] for k in spec.key)
            if key in by_key:
                report.warn(p.source, number, None,
                            f"the same {spec.name[:-1]} ({', '.join(key)}) is also on row "
                            f"{by_key[key][0]}; this later row's dates are used")
            by_key[key] = (number, rec)
        missing_cols = [c for c in spec.columns if c.name not in p.present]
        old_links: dict[tuple[str, ...], Record] = {}
        if missing_cols and store is not None and not replace and by_key:
            old_links = store.fetch_links(spec.name, list(by_key))
        recs = []
        for key, (number, rec) in by_key.items():
            full = _full_record(spec, rec, old_links.get(key))
            s, u = full.get("since"), full.get("until")
            if s is not None and u is not None and not u > s:
                report.error(p.source, number, "until",
                             f"'until' ({u}) must be after the stored 'since' ({s})")
                continue
            recs.append(full)
        out.records[spec.name] = recs

    # 6. contacts
    p = parsed.get("contacts")
    if p is not None:
        seen_contacts: dict[str, int] = {}
        recs = []
        for number, rec in p.rows:
            ok = check_ref(p.source, number, "person_id", rec.get("person_id"), Kind.PERSON)
            ok = check_ref(p.source, number, "household_id", rec.get("household_id"), Kind.HOUSEHOLD) and ok
            if not ok or rec.get("date") is None:
                continue
            full = _full_record(p.spec, rec, None)
            key = contact_key(full)
            if key in seen_contacts:
                report.warn(p.source, number, None,
                            f"the same contact is also on row {seen_contacts[key]}; it is kept once")
                continue
            seen_contacts[key] = number
            recs.append(full)
        out.records["contacts"] = recs

    report.counts = {name: len(recs) for name, recs in out.records.items()}
    order = {name: i for i, name in enumerate(SPECS)}

    def place(p: Any) -> tuple[int, str, int]:
        stem = p.file.removeprefix("sheet ").removesuffix(".csv")
        return (order.get(stem, len(order)), p.file, p.row or 0)

    report.errors.sort(key=place)
    report.warnings.sort(key=place)
    return out


def _check_liaison(src: str, number: int, rec: Record,
                   check_ref: Callable[[str, int, str, Any, Kind], bool],
                   record_of: Callable[[str], Record | None], report: Report) -> bool:
    kind = rec["kind"]
    a, b = rec["from_id"], rec["to_id"]
    ok = check_ref(src, number, "from_id", a, Kind.PERSON)
    ok = check_ref(src, number, "to_id", b, LIAISON_TARGET[kind]) and ok
    if not ok:
        return False
    if kind != "member-household" and a == b:
        report.error(src, number, "to_id", f"a person cannot liaise with themself ('{a}')")
        return False
    need_from = {"committee_member-delegate": "committee_member", "delegate-member": "delegate"}
    role = need_from.get(kind)
    if role is not None and role not in (record_of(a) or {}).get("roles", ()):
        report.error(src, number, "from_id",
                     f"'{a}' does not have the role {role}, so cannot start a {kind} liaison; "
                     f"add {role} to their roles in people.csv or correct the kind")
        ok = False
    if kind == "committee_member-delegate" and "delegate" not in (record_of(b) or {}).get("roles", ()):
        report.error(src, number, "to_id",
                     f"'{b}' does not have the role delegate, so cannot be the delegate of a "
                     "committee_member-delegate liaison; add the role in people.csv or correct the kind")
        ok = False
    return ok


def _check_org_cycles(p: _Parsed | None, entities: dict[str, Record],
                      stored: dict[str, tuple[Kind, Record]], report: Report) -> None:
    if p is None:
        return

    def parent(oid: str) -> str | None:
        rec = entities.get(oid) or (stored.get(oid, (None, {}))[1])
        return rec.get("parent_id") if rec else None

    for number, rec in p.rows:
        start = rec.get("id")
        if start is None or start not in entities:
            continue
        seen = {start}
        cur = parent(start)
        while cur is not None and cur != start:
            if cur in seen:
                break
            seen.add(cur)
            cur = parent(cur)
        if cur == start and parent(start) != start:
            report.error(p.source, number, "parent_id",
                         f"the organisation '{start}' is its own ancestor through parent_id; "
                         "break the loop")
