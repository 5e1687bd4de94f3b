"""Chinese spreadsheets as they are: the one mapping between a bundle in Chinese and the
bundle of ``spec/DATA_FORMAT.md``.

Counties keep these lists in Excel with Chinese headers (编号, 姓名, 所属村, 类别 …) and
Chinese values (军烈属, 在岗, 机关, 走访, 是/否 …). This module is the only place that
knows those headers; the values' canonical words are the labels of ``graphsvc.model``
(the one place for the domain's words). The reader, the checks and the writer all ask
it. For every bundle file it holds

- its Chinese file / sheet names (``党员.csv``, sheet ``党员``),
- a Chinese header for each column,
- Chinese words for the values of each enum and list column,

each as a tuple whose FIRST entry is the canonical word (what ``export --headers zh``
writes) and whose further entries are also accepted on import (``人员.csv`` for
``党员.csv``, ``户主姓名`` for ``户主``, ``在职`` for ``在岗`` …).

The rules (``docs/chinese-spreadsheets.md`` shows them with the full table, which is
generated from this module by ``python -m graphsvc.bundle.zh``):

- A file's language is decided by its header row, file by file: the English column
  names of the spec, or the Chinese headers below. A header row with both is refused,
  naming the columns of each language. Columns of neither are remarks: a warning each,
  as before. A file or sheet name may be English or Chinese whatever its headers are.
- Values follow the header: a file with Chinese headers takes the Chinese values of
  its enum and list columns, a file with English headers the English ones; the other
  language's word is refused with a sentence naming the right one (strict, so that
  one file never mixes the two). Booleans accept ``true/false``, ``1/0``, ``yes/no``
  and ``是/否`` in both (as the spec always said); ``--headers zh`` writes ``是/否``.
  Lists in a Chinese file may also be separated by ``、`` (and ``；``, like English
  files). Ids, names, dates (``YYYY-MM-DD``), numbers and free text are not translated.
- Errors name the file, row and column in the words of the file: ``党员.csv, row 10,
  column 所属村``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from graphsvc.bundle import schema as S
from graphsvc.model import (
    Category,
    Channel,
    Kind,
    LiaisonKind,
    OrgKind,
    OrgLevel,
    RecordStatus,
    Role,
    Sector,
    Word,
)

Headers = Literal["en", "zh"]
HEADER_LANGUAGES: tuple[Headers, ...] = ("en", "zh")

TRUE_ZH = "是"
FALSE_ZH = "否"
# what a yes/no cell may say, in either language (lowercased, stripped)
TRUE_WORDS = frozenset({"true", "1", "yes", TRUE_ZH, "y", "t"})
FALSE_WORDS = frozenset({"false", "0", "no", FALSE_ZH, "n", "f"})


@dataclass(frozen=True, slots=True)
class ZhFile:
    """The Chinese words of one bundle file; in each tuple the first entry is canonical."""

    names: tuple[str, ...]  # file (without .csv) and sheet names
    headers: dict[str, tuple[str, ...]]  # column -> headers
    values: dict[str, dict[str, tuple[str, ...]]]  # enum/list column -> English value -> words


_DATES = {"since": ("开始日期", "起始日期"), "until": ("结束日期", "终止日期")}


def _words(cls: type[Word], also: Mapping[str, tuple[str, ...]] | None = None, *,
           kind: Kind | None = None) -> dict[str, tuple[str, ...]]:
    """The Chinese words of a set: each word's label (graphsvc.model) first, the one written,
    then the older or other spellings a spreadsheet may still use (accepted on import)."""
    out: dict[str, tuple[str, ...]] = {}
    for w in cls:
        first = w.label_of(kind) if isinstance(w, RecordStatus) and kind else w.label
        out[w.value] = (first, *(a for a in (also or {}).get(w.value, ()) if a != first))
    return out


FILES_ZH: dict[str, ZhFile] = {
    "townships": ZhFile(
        (Kind.TOWNSHIP.label,),
        {"id": ("编号", "乡镇编号"), "name": ("名称", "乡镇名称")},
        {},
    ),
    "villages": ZhFile(
        (Kind.VILLAGE.label, "村"),
        {"id": ("编号", "村编号"), "name": ("名称", "村名", "村名称"),
         "township_id": ("所属乡镇",), "needs_pairing": ("需要结对", "需结对")},
        {},
    ),
    "organizations": ZhFile(
        (Kind.ORGANIZATION.label,),
        {"id": ("编号", "党组织编号"), "name": ("名称", "党组织名称"),
         "kind": ("类型", "组织类型"), "level": ("层级", "级别"),
         "parent_id": ("上级党组织", "上级"), "township_id": ("所属乡镇",),
         "village_id": ("所属村",)},
        {"kind": _words(OrgKind, {"committee": ("党委", "党工委", "党（工）委"),
                                  "general_branch": ("总支部", "党总支部"),
                                  "branch": ("支部",)}),
         "level": _words(OrgLevel, {"county": ("县", "县直"), "township": ("乡镇",),
                                    "village": ("村",), "unit": ("单位级",)})},
    ),
    "units": ZhFile(
        (Kind.UNIT.label, "单位"),
        {"id": ("编号", "单位编号"), "name": ("名称", "单位名称"),
         "sector": ("类别", "单位类别", "单位性质"), "organization_id": ("所属党组织",)},
        {"sector": _words(Sector, {"institution": ("事业",)})},
    ),
    "people": ZhFile(
        (Kind.PERSON.label, "人员"),
        {"id": ("编号", "党员编号"), "name": ("姓名",), "roles": ("身份", "职务"),
         "status": ("状态",), "inactive_since": ("离任日期",),
         "hardship": ("生活困难", "困难党员"), "organization_id": ("所属党组织",),
         "township_id": ("所属乡镇",), "village_id": ("所属村",),
         "phone": ("联系电话", "电话")},
        {"roles": _words(Role),
         "status": _words(RecordStatus, {"active": ("在职",),
                                         "inactive": ("离任", "迁出", "调离")},
                          kind=Kind.PERSON)},
    ),
    "households": ZhFile(
        (Kind.HOUSEHOLD.label, "农户", "群众"),
        {"id": ("编号", "户编号"), "head_name": ("户主", "户主姓名", "姓名"),
         "village_id": ("所属村",), "categories": ("类别", "重点类别"),
         "size": ("人口", "家庭人口", "人口数"), "status": ("状态",),
         "inactive_since": ("迁出日期", "注销日期"), "phone": ("联系电话", "电话"),
         "address": ("住址", "地址")},
        {"categories": _words(Category, {"empty_nest_elderly": ("农村空巢老人",)}),
         "status": _words(RecordStatus, {"active": ("正常",), "inactive": ("迁出", "注销")},
                          kind=Kind.HOUSEHOLD)},
    ),
    "liaisons": ZhFile(
        ("联系", "三联系"),
        {"kind": ("联系类型", "类型"), "from_id": ("联系人",), "to_id": ("联系对象",), **_DATES},
        {"kind": _words(LiaisonKind, {"committee_member-delegate": ("县委委员-党代表",),
                                      "delegate-member": ("党代表-党员",),
                                      "member-household": ("党员-户", "党员联系群众")})},
    ),
    "pairings": ZhFile(
        ("结对", "结对帮扶"),
        {"unit_id": ("帮扶单位",), "village_id": ("结对村",), **_DATES},
        {},
    ),
    "supports": ZhFile(
        ("结穷亲",),
        {"person_id": ("干部",), "household_id": ("贫困户",), **_DATES},
        {},
    ),
    "contacts": ZhFile(
        ("联系记录", "走访记录"),
        {"person_id": ("联系人",), "household_id": ("户", "户编号"),
         "date": ("日期", "联系日期"), "channel": ("方式", "联系方式"),
         "request": ("诉求", "困难"), "resolved": ("已解决", "是否解决")},
        {"channel": _words(Channel)},
    ),
}

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_SPACE = re.compile(r"[\s\u3000]+")
LIST_SPLIT = re.compile(r"[;；]")  # a list cell's separators under English headers
ZH_LIST_SPLIT = re.compile(r"[;；、]")


def has_chinese(text: str) -> bool:
    return _CJK.search(text) is not None


def norm_header(text: str) -> str:
    """A header as looked up: no spaces (full-width ones too), no trailing required-mark
    ``*``/``＊`` (spreadsheets mark required columns so)."""
    return _SPACE.sub("", text).rstrip("*＊")


def norm_value(text: str) -> str:
    return _SPACE.sub("", text)


# -- lookups, built once from FILES_ZH (and checked: no word may mean two things) -----------------

def _build() -> tuple[dict[str, str], dict[str, dict[str, str]],
                      dict[str, dict[str, dict[str, str]]]]:
    files: dict[str, str] = {}
    headers: dict[str, dict[str, str]] = {}
    values: dict[str, dict[str, dict[str, str]]] = {}
    for spec in S.FILES:
        z = FILES_ZH[spec.name]
        for n in z.names:
            if n in files or n in S.SPECS:
                raise AssertionError(f"the Chinese file name {n} is used twice")
            files[n] = spec.name
        if set(z.headers) != set(spec.column_names):
            raise AssertionError(f"{spec.name}: Chinese headers for {sorted(z.headers)}")
        hl: dict[str, str] = {}
        for name, words in z.headers.items():
            for w in words:
                if norm_header(w) in hl or w.lower() in spec.column_names:
                    raise AssertionError(f"{spec.name}: the header {w} is used twice")
                hl[norm_header(w)] = name
        headers[spec.name] = hl
        vl: dict[str, dict[str, str]] = {}
        for col in spec.columns:
            if col.type not in ("enum", "list"):
                if col.name in z.values:
                    raise AssertionError(f"{spec.name}.{col.name} is not an enum")
                continue
            m = z.values.get(col.name)
            if m is None or set(m) != set(col.choices):
                raise AssertionError(f"{spec.name}.{col.name}: Chinese values for {m}")
            cl: dict[str, str] = {}
            for en, words in m.items():
                for w in words:
                    if norm_value(w) in cl:
                        raise AssertionError(f"{spec.name}.{col.name}: the value {w} is used twice")
                    cl[norm_value(w)] = en
            vl[col.name] = cl
        values[spec.name] = vl
    return files, headers, values


FILE_NAMES_IN, HEADERS_IN, VALUES_IN = _build()
"""Chinese file name -> spec name; per spec: Chinese header -> column; per spec and column:
Chinese value -> English value (every accepted word, canonical or not)."""


# -- words for one file ---------------------------------------------------------------------------

def spec_name(stem: str) -> str | None:
    """The bundle file a file name (without ``.csv``) or sheet name stands for, English
    (``people``) or Chinese (``党员``, ``人员``); None when it is none of them."""
    if stem in S.SPECS:
        return stem
    return FILE_NAMES_IN.get(stem.strip())


def spec_name_of_source(source: str) -> str | None:
    """The bundle file that a report's file label (``people.csv``, ``sheet 党员``,
    ``bundle/党员.csv``) names."""
    text = source.removeprefix("sheet ")
    text = text.rsplit("/", 1)[-1]
    if text.lower().endswith(".csv"):
        text = text[:-4]
    return spec_name(text)


def file_stem(name: str, headers: Headers = "en") -> str:
    """The file name without ``.csv`` (and the sheet name) written for bundle file ``name``."""
    return FILES_ZH[name].names[0] if headers == "zh" else name


def filename(name: str, headers: Headers = "en") -> str:
    return file_stem(name, headers) + ".csv"


def header(name: str, headers: Headers = "en") -> list[str]:
    """The header row written for bundle file ``name``, in the spec's column order."""
    spec = S.SPECS[name]
    if headers == "zh":
        z = FILES_ZH[name].headers
        return [z[c][0] for c in spec.column_names]
    return list(spec.column_names)


def column_word(name: str, column: str, headers: Headers = "en") -> str:
    """A column's name in the canonical words of ``headers``."""
    return FILES_ZH[name].headers[column][0] if headers == "zh" else column


def value_word(name: str, column: str, value: str, headers: Headers = "en") -> str:
    """An English enum value in the canonical words of ``headers`` (unknown ones as they are)."""
    if headers != "zh":
        return value
    words = FILES_ZH[name].values.get(column, {}).get(value)
    return words[0] if words else value


def choices_sentence(name: str, column: str) -> str:
    """The accepted Chinese values of a column, for a message: ``在职 (or 在岗), 离任 (or …)``."""
    parts = []
    for words in FILES_ZH[name].values[column].values():
        parts.append(words[0] + (f" (or {', '.join(words[1:])})" if len(words) > 1 else ""))
    return ", ".join(parts)


def headers_sentence(name: str) -> str:
    """The accepted Chinese headers of a file, for a message."""
    parts = []
    for words in FILES_ZH[name].headers.values():
        parts.append(words[0] + (f" (or {', '.join(words[1:])})" if len(words) > 1 else ""))
    return ", ".join(parts)


def files_sentence() -> str:
    """Every accepted file name, English and Chinese, for a message."""
    en = ", ".join(s.filename for s in S.FILES)
    zh = ", ".join(f"{n}.csv" for s in S.FILES for n in FILES_ZH[s.name].names)
    return f"{en}; in Chinese {zh}"


# -- a header row ---------------------------------------------------------------------------------

@dataclass(slots=True)
class HeaderRow:
    """What a file's header row says: its language, and where each column is."""

    lang: Headers
    index: dict[str, int]  # column -> position
    labels: dict[str, str]  # column -> the header as the file wrote it
    duplicates: list[tuple[str, str, str]]  # (header, column, the header it repeats)
    unknown: list[str]  # headers of neither language (remarks)
    english: list[str]  # when both languages appear: the English headers ...
    chinese: list[str]  # ... and the Chinese ones

    @property
    def mixed(self) -> bool:
        return bool(self.english and self.chinese)


def read_header(name: str, cells: list[str]) -> HeaderRow:
    """Sort a header row's cells into English columns, Chinese columns and the rest."""
    spec = S.SPECS[name]
    zh_map = HEADERS_IN[name]
    en_hits: list[tuple[int, str, str]] = []
    zh_hits: list[tuple[int, str, str]] = []
    unknown: list[str] = []
    for i, cell in enumerate(cells):
        text = cell.strip()
        if not text:
            continue
        low = text.lower()
        if low in spec.column_names:
            en_hits.append((i, text, low))
        elif (col := zh_map.get(norm_header(text))) is not None:
            zh_hits.append((i, text, col))
        else:
            unknown.append(text)
    if en_hits and zh_hits:
        return HeaderRow("en", {}, {}, [], unknown, [h for _, h, _ in en_hits],
                         [h for _, h, _ in zh_hits])
    lang: Headers = "en"
    if zh_hits or (not en_hits and any(has_chinese(c) for c in cells)):
        lang = "zh"
    row = HeaderRow(lang, {}, {}, [], unknown, [], [])
    for i, text, col in (zh_hits if lang == "zh" else en_hits):
        if col in row.index:
            row.duplicates.append((text, col, row.labels[col]))
            continue
        row.index[col] = i
        row.labels[col] = text
    return row


# -- cells ----------------------------------------------------------------------------------------

def to_english(name: str, column: str, text: str) -> str | None:
    """A Chinese enum value as the English one, or None when it is not one."""
    return VALUES_IN[name].get(column, {}).get(norm_value(text))


def translator(name: str, columns: list[str],
               to: Headers) -> list[tuple[int, dict[str, str] | None, str]]:
    """For writing canonical English cells in ``to``'s words: per translated position, its map
    (enum and list columns) and its type. Columns of other types are written as they are."""
    out: list[tuple[int, dict[str, str] | None, str]] = []
    if to != "zh":
        return out
    spec = S.SPECS[name]
    for i, c in enumerate(columns):
        col = spec.column(c)
        if col.type in ("enum", "list"):
            out.append((i, {en: w[0] for en, w in FILES_ZH[name].values[c].items()}, col.type))
        elif col.type == "bool":
            out.append((i, {"true": TRUE_ZH, "false": FALSE_ZH}, "bool"))
    return out


def translate_row(row: list[str], plan: list[tuple[int, dict[str, str] | None, str]]) -> list[str]:
    """A row of canonical English cells with the cells of ``plan`` in Chinese (in place)."""
    for i, m, kind in plan:
        v = row[i]
        if not v or m is None:
            continue
        if kind == "list":
            row[i] = ";".join(m.get(p, p) for p in v.split(";"))
        else:
            row[i] = m.get(v, v)
    return row


# -- the documented table -------------------------------------------------------------------------

def mapping_markdown() -> str:
    """The whole mapping as Markdown tables (``docs/chinese-spreadsheets.md`` holds this text)."""
    lines: list[str] = []
    lines.append("| file | 文件 / 工作表 (Chinese file or sheet names) |")
    lines.append("| --- | --- |")
    for spec in S.FILES:
        names = FILES_ZH[spec.name].names
        shown = f"`{names[0]}.csv`" + "".join(f", `{n}.csv`" for n in names[1:])
        lines.append(f"| `{spec.filename}` | {shown} |")
    for spec in S.FILES:
        z = FILES_ZH[spec.name]
        lines.append("")
        lines.append(f"### `{spec.filename}` = `{z.names[0]}.csv`")
        lines.append("")
        lines.append("| column | 表头 (header) | also accepted "
                     "| values (English = 中文, also accepted) |")
        lines.append("| --- | --- | --- | --- |")
        for col in spec.columns:
            words = z.headers[col.name]
            also = ", ".join(words[1:])
            if col.type in ("enum", "list"):
                vals = "; ".join(
                    f"`{en}` = {w[0]}" + (f" ({', '.join(w[1:])})" if len(w) > 1 else "")
                    for en, w in z.values[col.name].items())
                if col.type == "list":
                    vals += "; a list: separated by `;` (`；` and `、` accepted)"
                elif col.default is not None:
                    vals += f"; empty = {z.values[col.name][str(col.default)][0]}"
            elif col.type == "bool":
                vals = (f"`true` = {TRUE_ZH}, `false` = {FALSE_ZH} (true/false, 1/0, yes/no "
                        f"accepted); empty = {FALSE_ZH if not col.default else TRUE_ZH}")
            elif col.type == "date":
                vals = "a date, YYYY-MM-DD (not translated)"
            elif col.type in ("id", "ref"):
                vals = "an id (编号), not translated"
            elif col.type == "int":
                vals = "a whole number"
            else:
                vals = "text, not translated"
            star = "*" if col.required else ""
            lines.append(f"| `{col.name}`{star} | {words[0]} | {also} | {vals} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # python -m graphsvc.bundle.zh: the table of the docs
    print(mapping_markdown(), end="")
