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

from graphsvc.bundle import zh
from graphsvc.bundle.reader import RawTable, Tables
from graphsvc.bundle.report import Report
from graphsvc.bundle.schema import (
    ENTITY_SPECS,
    FILES,
    ID_MAX,
    KIND_WORDS,
    LIAISON_TARGET,
    OUTSIDE,
    PHONE_RE,
    PHONE_SHAPES,
    SIZE_MAX,
    SPECS,
    Column,
    FileSpec,
    contact_key,
)
from graphsvc.model import Kind

Record = dict[str, Any]


class StoredLookup(Protocol):
    """What validation needs to know of the store."""

    def fetch_entities(self, ids: Iterable[str]) -> dict[str, tuple[Kind, Record]]: ...

    def fetch_links(self, name: str,
                    keys: Iterable[tuple[str, ...]]) -> dict[tuple[str, ...], Record]: ...


@dataclass(slots=True)
class Bundle:
    """Complete, typed records ready to write, per file name, in a stable order."""

    records: dict[str, list[Record]] = field(default_factory=dict)

    def rows(self, name: str) -> list[Record]:
        return self.records.get(name, [])

    def count(self) -> int:
        return sum(len(v) for v in self.records.values())


_DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_WHOLE_RE = re.compile(r"^[0-9]+$")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
# text cannot hold these: a NUL (no CSV file may carry one, so an export could not be read
# back) and half of a UTF-16 pair (not a character at all; no store can keep it)
_BAD_TEXT_RE = re.compile("[\x00\ud800-\udfff]")


# a date as spreadsheets write it when they re-save a CSV: 2025/8/1 (Excel on Chinese
# Windows), 2025-8-1, 2025.8.1, 2025年8月1日; one kind of separator, a midnight time allowed
_LOOSE_DATE_RE = re.compile(
    r"^([0-9]{4})(?:([-/.])([0-9]{1,2})\2([0-9]{1,2})|年([0-9]{1,2})月([0-9]{1,2})日)"
    r"(?: +0{1,2}:00(?::00)?)?$")


class CellError(ValueError):
    """A cell's text does not fit its column."""


def read_date(text: str, forms: str = "written YYYY-MM-DD (for example 2026-06-30)") -> dt.date:
    """A date written YYYY-MM-DD (spaces around it ignored); ``ValueError`` with a sentence for
    anything else. Bundle cells, query parameters and JSON bodies all read dates with it."""
    v = text.strip()
    if _DATE_RE.match(v):
        try:
            return dt.date.fromisoformat(v)
        except ValueError:
            raise ValueError(f"'{text}' is not a real date: check the month and the day "
                             "(YYYY-MM-DD)") from None
    digit = next((c for c in v if c.isdigit() and c not in "0123456789"), None)
    if digit is not None:
        kind = "full-width digits" if "０" <= digit <= "９" else "digits of another script"
        raise ValueError(f"'{text}': write the date with ordinary digits 0-9 (the date has "
                         f"{kind} such as {digit})")
    raise ValueError(f"'{text}' is not a date {forms}")


def read_cell_date(text: str) -> dt.date:
    """A bundle cell's date: YYYY-MM-DD as ``read_date`` takes it, or as spreadsheets write
    dates when they save a CSV (2025/8/1, 2025-8-1, 2025.8.1, 2025年8月1日, with or without
    a midnight time). Query parameters and JSON bodies keep YYYY-MM-DD only."""
    v = text.strip()
    m = None if _DATE_RE.match(v) else _LOOSE_DATE_RE.match(v)
    if m is not None:
        year, month, day = m.group(1), m.group(3) or m.group(5), m.group(4) or m.group(6)
        try:
            return dt.date(int(year), int(month), int(day))
        except ValueError:
            raise ValueError(f"'{text}' is not a real date: check the month and the day") from None
    if _WHOLE_RE.match(v) and 4 <= len(v) <= 5:
        raise ValueError(f"'{text}' looks like a date that a spreadsheet wrote as its serial "
                         "number; format the column as a date (yyyy-mm-dd) before saving the CSV")
    return read_date(text, forms="written YYYY-MM-DD (for example 2026-06-30); 2026/6/30, "
                              "2026.6.30 and 2026年6月30日 are read too")


def _check_ref(text: str) -> str:
    if text != text.strip():
        raise CellError(f"the id '{text}' has spaces at its start or end; remove them")
    if len(text) > ID_MAX:
        raise CellError(f"the id '{text[:20]}…' is {len(text):,} characters long; ids have at "
                        f"most {ID_MAX}")
    if _CONTROL_RE.search(text):
        raise CellError("the id holds a control character (a line break or tab); remove it")
    if _BAD_TEXT_RE.search(text):
        raise CellError("the id holds a broken character (half of a UTF-16 pair); retype it")
    return text


def _check_id(text: str) -> str:
    """The id of a record (a reference only names one: no record can have a refused id)."""
    _check_ref(text)
    if text.startswith(OUTSIDE):
        raise CellError(f"the id '{text}' starts with '{OUTSIDE}', which is reserved for people "
                        "outside the reader's townships (the API shows them so); choose another id")
    return text


def _check_text(text: str) -> str:
    bad = _BAD_TEXT_RE.search(text)
    if bad is None:
        return text
    if bad.group() == "\x00":
        raise CellError("the text holds a NUL character; remove it")
    raise CellError("the text holds a broken character (half of a UTF-16 pair); retype it")


def _text_parser(col: Column) -> Callable[[str], str]:
    """Text of at most ``col.max_length`` characters, of a phone number's shape for a phone."""
    most = col.max_length

    def parse_text(text: str) -> str:
        if most is not None and len(text) > most:
            raise CellError(f"the text is {len(text):,} characters long; this column holds at "
                            f"most {most:,}")
        _check_text(text)
        if col.phone and not PHONE_RE.fullmatch(text.strip()):
            shown = text if len(text) <= 40 else text[:40] + "…"
            raise CellError(f"'{shown}' is not a phone number; write {PHONE_SHAPES}")
        return text
    return parse_text


def _cell_parser(col: Column, file: str | None = None,
                 lang: zh.Headers = "en") -> Callable[[str], Any]:
    """A function from cell text (never empty) to the typed value, raising CellError.

    ``file`` and ``lang``: the bundle file and the language of its header row; a file with
    Chinese headers takes the Chinese words of its enum and list columns (``zh``)."""
    t = col.type
    if file is not None and t in ("enum", "list") and lang == "zh":
        return _zh_parser(col, file)
    if t == "id":
        return _check_id
    if t == "ref":
        return _check_ref
    if t == "text":
        return _text_parser(col)
    if t == "bool":
        def parse_bool(s: str) -> bool:
            v = s.strip().lower()
            if v in zh.TRUE_WORDS:
                return True
            if v in zh.FALSE_WORDS:
                return False
            raise CellError(f"'{s}' is not yes or no; write true/false, 1/0, yes/no or 是/否")
        return parse_bool
    if t == "date":
        def parse_date(s: str) -> dt.date:
            try:
                return read_cell_date(s)
            except ValueError as exc:
                raise CellError(str(exc)) from None
        return parse_date
    if t == "int":
        def parse_size(s: str) -> int:
            v = s.strip()
            if not _WHOLE_RE.match(v.removeprefix("-")):  # int() takes '+3', '1_0' and '３'
                raise CellError(f"'{s}' is not a whole number written with the digits 0-9")
            n = int(v) if len(v) <= 9 else SIZE_MAX + 1  # (int() fails on 4,301 digits)
            if n < 1:
                raise CellError(f"'{s}' must be 1 or more")
            if n > SIZE_MAX:
                raise CellError(f"'{s}' is too large: at most {SIZE_MAX:,}")
            return n
        return parse_size
    choices = col.choices
    allowed = ", ".join(choices)
    lowered = {c.lower(): c for c in choices}

    def chinese(p: str) -> None:
        """A Chinese word in a file with English headers: name the English one."""
        en = zh.to_english(file, col.name, p) if file is not None else None
        if en is not None:
            raise CellError(
                f"'{p}' is a Chinese value, but this file has English headers and so takes "
                f"English values: write {en} (or give the whole file Chinese headers, see "
                "docs/chinese-spreadsheets.md)")

    if t == "enum":
        def parse_enum(s: str) -> str:
            v = lowered.get(s.strip().lower())
            if v is None:
                chinese(s.strip())
                raise CellError(f"'{s}' is not allowed here; use one of: {allowed}")
            return v
        return parse_enum
    if t == "list":
        order = {c: i for i, c in enumerate(choices)}
        def parse_list(s: str) -> list[str]:
            found: set[str] = set()
            for part in zh.LIST_SPLIT.split(s):
                p = part.strip()
                if not p:
                    continue
                v = lowered.get(p.lower())
                if v is None:
                    chinese(p)
                    raise CellError(f"'{p}' is not allowed here; use values from: {allowed}, "
                                    "separated by ;")
                found.add(v)
            return sorted(found, key=order.__getitem__)
        return parse_list
    raise AssertionError(t)


def _zh_parser(col: Column, file: str) -> Callable[[str], Any]:
    """Chinese values (``zh.FILES_ZH``): the file has Chinese headers."""
    words = zh.VALUES_IN[file][col.name]
    lowered = {c.lower(): c for c in col.choices}
    accepted = zh.choices_sentence(file, col.name)

    def one(p: str) -> str:
        v = words.get(zh.norm_value(p))
        if v is not None:
            return v
        en = lowered.get(p.lower())
        if en is not None:
            raise CellError(
                f"'{p}' is an English value, but this file has Chinese headers and so takes "
                f"Chinese values: write {zh.value_word(file, col.name, en, 'zh')} "
                f"(the values are: {accepted})")
        raise CellError(f"'{p}' is not allowed here; use one of: {accepted}"
                        + ("; several separated by ; or 、" if col.type == "list" else ""))

    if col.type == "enum":
        return lambda s: one(s.strip())
    order = {c: i for i, c in enumerate(col.choices)}

    def parse_list(s: str) -> list[str]:
        found = {one(p.strip()) for p in zh.ZH_LIST_SPLIT.split(s) if p.strip()}
        return sorted(found, key=order.__getitem__)
    return parse_list


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
    lang: zh.Headers = "en"  # the language of the file's header row
    labels: dict[str, str] = field(default_factory=dict)  # column -> header as written

    def col(self, name: str) -> str:
        """A column as the file names it (its own header; else the canonical one)."""
        return self.labels.get(name) or zh.column_word(self.spec.name, name, self.lang)

    def word(self, column: str, value: str) -> str:
        """An English enum value in the file's language."""
        return zh.value_word(self.spec.name, column, value, self.lang)


def _parse_table(table: RawTable, report: Report) -> _Parsed | None:
    spec = SPECS[table.name]
    src = table.source
    head = zh.read_header(spec.name, table.header)
    if head.mixed:
        report.error(
            src, 1, None,
            "the header row mixes English and Chinese column names (English: "
            f"{', '.join(head.english)}; Chinese: {', '.join(head.chinese)}); write the whole "
            f"header row in one language: {', '.join(spec.column_names)}, or "
            f"{', '.join(zh.header(spec.name, 'zh'))}")
        return None
    lang = head.lang
    fname = zh.filename(spec.name, lang)
    for text, _, first in head.duplicates:
        report.error(src, 1, text, f"the column '{text}' appears twice in the header"
                     + (f" (also as '{first}')" if first != text else ""))
    for text in head.unknown:
        if lang == "zh":
            report.warn(src, 1, text,
                        f"'{text}' is not a column of {fname}; it was ignored. The columns of "
                        f"{fname} are: {zh.headers_sentence(spec.name)}")
        else:
            report.warn(src, 1, text, f"'{text}' is not a column of {fname}; it was ignored "
                        f"(its columns are: {', '.join(spec.column_names)})")
    index = head.index
    missing = [c.name for c in spec.columns if c.required and c.name not in index]
    for name in missing:
        word = zh.column_word(spec.name, name, lang)
        report.error(src, 1, word, f"the required column '{word}' is missing from the header"
                     + (f" (the columns of {fname} are: {zh.headers_sentence(spec.name)})"
                        if lang == "zh" else ""))
    if missing:
        return None
    labels = head.labels
    cols = [(c, index[c.name], _cell_parser(c, spec.name, lang), c.required, _empty_value(c),
             labels[c.name])
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
        for col, i, parse, required, empty, label in cols:
            text = cells[i] if i < len(cells) else ""
            if not text.strip():
                if required:
                    err(src, number, label, f"'{label}' is required but the cell is empty")
                rec[col.name] = empty
                continue
            try:
                rec[col.name] = parse(text)
            except CellError as exc:
                err(src, number, label, str(exc))
        out.append((number, rec))
    return _Parsed(spec, src, tuple(c[0].name for c in cols), out, lang, dict(labels))


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
                report.error(p.source, number, p.col("id"),
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
                report.error(p.source, number, p.col("id"),
                             f"the id '{rid}' already belongs to {KIND_WORDS[old[0]]} in the "
                             "store; every id must be unique across the whole data set")
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
            entity = entities.get(rid) if rid is not None else None
            if entity is None:
                continue
            for col in ref_cols:
                v = entity.get(col.name)
                if v is not None and col.ref is not None:
                    check_ref(p.source, number, p.col(col.name), v, col.ref)
            if ("status" in entity and entity.get("inactive_since")
                    and entity.get("status") == "active"):
                report.warn(p.source, number, p.col("inactive_since"),
                            f"a date is given but the status is {p.word('status', 'active')}, so "
                            "the date is ignored; set the status to "
                            f"{p.word('status', 'inactive')} if this one has left")
            if kind is Kind.ORGANIZATION and entity.get("parent_id") == rid:
                report.error(p.source, number, p.col("parent_id"),
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
                ok = _check_liaison(p, number, rec, check_ref, record_of, report)
            else:
                for col in spec.columns:
                    if col.type == "ref" and col.ref is not None:
                        ok = check_ref(p.source, number, p.col(col.name), rec[col.name],
                                       col.ref) and ok
            since, until = rec.get("since"), rec.get("until")
            if since is not None and until is not None and not until > since:
                report.error(p.source, number, p.col("until"),
                             f"'{p.col('until')}' ({until}) must be after "
                             f"'{p.col('since')}' ({since})")
                ok = False
            if not ok:
                continue
            key = tuple(rec[k] for k in spec.key)
            if key in by_key:
                shown = [p.word(k, v) for k, v in zip(spec.key, key)]
                report.warn(p.source, number, None,
                            f"the same {spec.name[:-1]} ({', '.join(shown)}) is also on row "
                            f"{by_key[key][0]}; this later row's dates are used")
            by_key[key] = (number, rec)
        missing_cols = [c for c in spec.columns if c.name not in p.present]
        old_links: dict[tuple[str, ...], Record] = {}
        if missing_cols and store is not None and not replace and by_key:
            old_links = store.fetch_links(spec.name, list(by_key))
        recs = []
        for key, (number, rec) in by_key.items():
            full = _full_record(spec, rec, old_links.get(key))
            start, end = full.get("since"), full.get("until")
            if start is not None and end is not None and not end > start:
                if "until" in p.present:  # the stored since is the later one
                    report.error(p.source, number, p.col("until"),
                                 f"'{p.col('until')}' ({end}) must be after the stored "
                                 f"'{p.col('since')}' ({start})")
                else:
                    report.error(p.source, number, p.col("since"),
                                 f"'{p.col('since')}' ({start}) must be before the stored "
                                 f"'{p.col('until')}' ({end}): this {spec.name[:-1]} ended "
                                 f"on {end}; to take it up again, give '{p.col('until')}' too "
                                 "(empty: it has not ended)")
                continue
            recs.append(full)
        out.records[spec.name] = recs

    # 6. contacts
    p = parsed.get("contacts")
    if p is not None:
        seen_contacts: dict[str, int] = {}
        recs = []
        for number, rec in p.rows:
            ok = check_ref(p.source, number, p.col("person_id"), rec.get("person_id"), Kind.PERSON)
            ok = check_ref(p.source, number, p.col("household_id"), rec.get("household_id"),
                           Kind.HOUSEHOLD) and ok
            if not ok or rec.get("date") is None:
                continue
            full = _full_record(p.spec, rec, None)
            ckey = contact_key(full)
            if ckey in seen_contacts:
                report.warn(p.source, number, None,
                            f"the same contact is also on row {seen_contacts[ckey]}; "
                            "it is kept once")
                continue
            seen_contacts[ckey] = number
            recs.append(full)
        out.records["contacts"] = recs

    report.counts = {name: len(recs) for name, recs in out.records.items()}
    order = {name: i for i, name in enumerate(SPECS)}

    def place(p: Any) -> tuple[int, str, int]:
        name = zh.spec_name_of_source(p.file)
        return (order.get(name, len(order)) if name else len(order), p.file, p.row or 0)

    report.errors.sort(key=place)
    report.warnings.sort(key=place)
    return out


def _check_liaison(p: _Parsed, number: int, rec: Record,
                   check_ref: Callable[[str, int, str, Any, Kind], bool],
                   record_of: Callable[[str], Record | None], report: Report) -> bool:
    src = p.source
    kind = rec["kind"]
    a, b = rec["from_id"], rec["to_id"]
    from_col, to_col = p.col("from_id"), p.col("to_id")
    ok = check_ref(src, number, from_col, a, Kind.PERSON)
    ok = check_ref(src, number, to_col, b, LIAISON_TARGET[kind]) and ok
    if not ok:
        return False
    if kind != "member-household" and a == b:
        report.error(src, number, to_col, f"a person cannot liaise with themself ('{a}')")
        return False
    # the people file's words, in the language of this liaisons file
    lang = p.lang
    people = zh.filename("people", lang)
    roles_col = zh.column_word("people", "roles", lang)
    kind_col = p.col("kind")

    def role_word(role: str) -> str:
        return zh.value_word("people", "roles", role, lang)

    kind_word = p.word("kind", kind)
    need_from = {"committee_member-delegate": "committee_member", "delegate-member": "delegate"}
    role = need_from.get(kind)
    if role is not None and role not in (record_of(a) or {}).get("roles", ()):
        r = role_word(role)
        report.error(src, number, from_col,
                     f"'{a}' does not have the role {r}, so cannot start a {kind_word} liaison; "
                     f"add {r} to their {roles_col} in {people} or correct the {kind_col}")
        ok = False
    if (kind == "committee_member-delegate"
            and "delegate" not in (record_of(b) or {}).get("roles", ())):
        r = role_word("delegate")
        report.error(src, number, to_col,
                     f"'{b}' does not have the role {r}, so cannot be the delegate of a "
                     f"{kind_word} liaison; add the role in {people} or correct the {kind_col}")
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
            report.error(p.source, number, p.col("parent_id"),
                         f"the organisation '{start}' is its own ancestor through parent_id; "
                         "break the loop")
