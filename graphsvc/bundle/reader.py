"""Read a bundle (a folder of CSV files, the folder zipped, or one .xlsx) into raw tables.

Reading only splits cells; it never interprets them (see ``validate``), except where only
the reader can: a workbook's number cells in date columns are dates (Excel serials), and
those in id and phone columns are said to have lost any leading zero (``_Typed``). Every
problem is reported against the file, row and column where it was found.

Two things are undone on the way, both written by ``writer``:

- the formula escape: a cell starting with ``'`` followed by ``=``, ``+``, ``-``, ``@``,
  a tab, a carriage return, a line feed or another ``'`` loses exactly that first ``'``
  (``'=1+1`` reads ``=1+1``, ``''x`` reads ``'x``); any other cell is read as it is
  (``'abc`` stays ``'abc``), so hand-written bundles read as they always did
  (``schema.unescape_formula``);
- in a workbook, OOXML's ``_xHHHH_`` escapes of characters XML cannot hold (Excel writes
  a carriage return as ``_x000D_``).

A workbook's formulas are refused, never evaluated, and so are workbooks with macros.

Nothing is unpacked or decoded all at once: a zip member is inflated block by block, each
block checked (a NUL byte, not UTF-8, a line without end) before the next is inflated, and
the CSV parser is fed line by line, so a hostile upload is refused after reading about a
megabyte of it, not after building it in memory. The limits: ``GRAPHSVC_MAX_UNPACKED_BYTES``
for all members together (counted as they inflate, since an archive's stated sizes can lie),
``MAX_RATIO`` for one member's unpacked size over its packed size, ``MAX_LINE`` for a line
and ``MAX_COLUMNS`` for a header.

File and sheet names may be English (``people.csv``, sheet ``people``) or Chinese
(``党员.csv``, sheet ``党员``; every name ``zh.FILES_ZH`` accepts); a bundle may hold each
file once. The header row (English or Chinese) is read by ``validate`` through ``zh``.
In a zip, a member name not marked UTF-8 is read as UTF-8 when it is, else as GBK (what
Windows' own "compressed folder" writes on Chinese Windows), so Chinese file names
survive zipping.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import re
import warnings
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO

from graphsvc.bundle import zh
from graphsvc.bundle.report import Report
from graphsvc.bundle.schema import SPECS, unescape_formula

MAX_LINE = 1 << 20  # bytes of one line of a CSV file: 1 MiB
MAX_COLUMNS = 256  # columns of a header row: a bundle file has at most 10, the rest are remarks
# a member of an archive may unpack to at most this many times its packed size (once it is
# over MAX_RATIO_FROM): CSV text and workbook XML pack 3 to 13 times (a generated county),
# a zip bomb about 1,000 times
MAX_RATIO = 100
MAX_RATIO_FROM = 1 << 20
_BLOCK = 1 << 18  # bytes inflated (or taken from memory) at a time

csv.field_size_limit(MAX_LINE)  # a quoted cell may hold line ends, but not a megabyte
# openpyxl warns of what it does not keep when it opens a workbook (no default style, data
# validation, conditional formatting); reading values needs none of it, and the terminal
# is for the bundle's problems
warnings.filterwarnings("ignore", category=UserWarning, module=r"openpyxl(\.|$)")


@dataclass(slots=True)
class RawTable:
    """One file of a bundle as text cells. ``rows`` holds (row number, cells); header = row 1."""

    name: str  # spec name, e.g. "people"
    source: str  # what errors call it, e.g. "people.csv", "党员.csv" or "sheet people"
    header: list[str]
    rows: list[tuple[int, list[str]]] = field(default_factory=list)


Tables = dict[str, RawTable]

_GBK_WARNING = (
    "the file is not UTF-8 but GB18030 (GBK), the encoding Excel uses for 'CSV' on Chinese "
    "Windows; it was read as GB18030. Check a few names after the import; to avoid this, in "
    "Excel choose Save As > 'CSV UTF-8 (逗号分隔)(*.csv)', or in WPS choose UTF-8 encoding."
)


def read_bundle(path: str | Path, report: Report, *, max_unpacked_bytes: int = 1 << 30) -> Tables:
    """Read the bundle at ``path`` (folder, ``.zip`` or ``.xlsx``); problems go to ``report``."""
    p = Path(path)
    if p.is_dir():
        return _read_folder(p, report)
    if not p.exists():
        report.error(str(path), None, None, "no such file or folder")
        return {}
    suffix = p.suffix.lower()
    if suffix == ".zip":
        with p.open("rb") as fh:
            return read_zip(fh, report, max_unpacked_bytes=max_unpacked_bytes)
    if suffix in (".xlsx", ".xlsm"):
        with p.open("rb") as fh:
            return read_xlsx(fh, report, label=p.name, max_unpacked_bytes=max_unpacked_bytes)
    if suffix == ".csv":
        name = zh.spec_name(p.stem)
        if name is None:
            report.error(p.name, None, None, _unknown_file_message(p.name))
            return {}
        with p.open("rb") as fh:
            table = parse_csv(name, p.name, read_blocks(fh), report)
        return {name: table} if table else {}
    report.error(
        p.name, None, None,
        "not a bundle: give a folder of CSV files, a .zip of that folder, or an .xlsx workbook",
    )
    return {}


def read_stream(fh: IO[bytes], report: Report, *, label: str = "standard input",
                max_unpacked_bytes: int = 1 << 30) -> Tables:
    """A bundle given as a stream of bytes with no name (standard input): a .zip or an .xlsx,
    told apart by what they hold (a workbook has ``xl/workbook.xml``). ``fh`` must seek."""
    head = fh.read(8)
    fh.seek(0)
    if head == _OLE2_MAGIC:
        return read_xlsx(fh, report, label=label, max_unpacked_bytes=max_unpacked_bytes)
    if head[:4] != b"PK\x03\x04":
        report.error(label, None, None,
                     "this is neither a .zip nor an .xlsx bundle; from standard input graphsvc "
                     "reads those two (a folder or a single CSV file needs its path)")
        return {}
    try:
        with zipfile.ZipFile(fh) as zf:
            workbook = "xl/workbook.xml" in zf.namelist()
    except Exception:  # noqa: BLE001 - read_zip says what is wrong with it
        workbook = False
    fh.seek(0)
    if workbook:
        return read_xlsx(fh, report, label=label, max_unpacked_bytes=max_unpacked_bytes)
    return read_zip(fh, report, max_unpacked_bytes=max_unpacked_bytes)


def _unknown_file_message(filename: str) -> str:
    return (f"'{filename}' is not a bundle file and was ignored (bundle files are: "
            f"{zh.files_sentence()})")


def _twice(label: str, name: str, first: str, second: str) -> str:
    if first == second:
        return f"the {label} holds {first} more than once; keep one"
    return (f"the {label} holds both {first} and {second}, which are the same bundle file "
            f"({SPECS[name].filename}); keep one")


def _read_folder(folder: Path, report: Report) -> Tables:
    tables: Tables = {}
    seen: dict[str, str] = {}
    for f in sorted(folder.iterdir()):
        if not f.is_file() or f.suffix.lower() != ".csv":
            continue
        name = zh.spec_name(f.stem)
        if name is None:
            report.warn(f.name, None, None, _unknown_file_message(f.name))
            continue
        if name in seen:
            report.error(f.name, None, None, _twice("folder", name, seen[name], f.name))
            report.unreadable.add(name)
            tables.pop(name, None)
            continue
        seen[name] = f.name
        with f.open("rb") as fh:
            table = parse_csv(name, f.name, read_blocks(fh), report)
        if table is not None:
            tables[name] = table
    if not tables and not report.errors:
        report.error(str(folder), None, None, "the folder holds no bundle CSV files")
    return tables


def _safe_member(name: str) -> PurePosixPath | None:
    """The member's path inside the archive, or None if it points outside it."""
    if "\\" in name:
        name = name.replace("\\", "/")
    p = PurePosixPath(name)
    if p.is_absolute() or ".." in p.parts or (p.parts and ":" in p.parts[0]):
        return None
    return p


def _check_archive(zf: zipfile.ZipFile, label: str, report: Report, max_unpacked: int) -> bool:
    """Refuse an archive by what its directory says, before anything is inflated. The stated
    sizes can lie, but never upward: zipfile inflates a member to at most its stated size
    (then fails its checksum), so they bound what reading it can make."""
    total = 0
    ok = True
    packed_too_tight: list[zipfile.ZipInfo] = []
    for info in zf.infolist():
        if _safe_member(info.filename) is None:
            report.error(
                label, None, None,
                f"the archive holds '{info.filename}', a path outside the bundle; "
                "nothing from this archive was used",
            )
            ok = False
        elif info.flag_bits & 0x1:
            report.error(label, None, None,
                         f"'{info.filename}' in the archive is protected by a password; "
                         "pack the bundle again without a password")
            ok = False
        total += info.file_size
        if info.file_size > MAX_RATIO_FROM and info.file_size > MAX_RATIO * info.compress_size:
            packed_too_tight.append(info)
    if total > max_unpacked:
        report.error(
            label, None, None,
            f"the archive would unpack to {total:,} bytes, more than the limit of "
            f"{max_unpacked:,} bytes; split the bundle or raise GRAPHSVC_MAX_UNPACKED_BYTES",
        )
        return False
    for info in packed_too_tight:  # within the limit, but no bundle file packs like that
        report.error(
            label, None, None,
            f"'{info.filename}' in the archive would unpack to {info.file_size:,} bytes from "
            f"{info.compress_size:,}, more than {MAX_RATIO} times its packed size, which no "
            "bundle file or workbook comes near (it looks like a 'zip bomb'); nothing from "
            "this archive was used")
        ok = False
    return ok


def read_zip(fh: IO[bytes], report: Report, *, max_unpacked_bytes: int = 1 << 30) -> Tables:
    """Read a zipped bundle folder (the CSV files at the top or inside one folder)."""
    label = "the zip file"
    try:
        zf = zipfile.ZipFile(fh)
    except Exception:  # noqa: BLE001 - a broken archive makes zipfile raise many kinds of error
        report.error(label, None, None, "this is not a valid .zip file")
        return {}
    with zf:
        if not _check_archive(zf, label, report, max_unpacked_bytes):
            return {}
        members = [(i, PurePosixPath(_member_name(i))) for i in zf.infolist() if not i.is_dir()]
        csvs = [(i, p) for i, p in members if p.suffix.lower() == ".csv"
                and not p.name.startswith("._")]
        folders = {p.parent for _, p in csvs if zh.spec_name(p.stem) is not None}
        if len(folders) > 1:
            names = ", ".join(sorted(str(f) for f in folders))
            report.error(label, None, None,
                         f"the bundle files are spread over several folders ({names}); "
                         "put them in one folder")
            return {}
        tables: Tables = {}
        seen: dict[str, str] = {}
        budget = [max_unpacked_bytes]  # bytes all members together may still unpack to
        for info, path in sorted(csvs, key=lambda ip: str(ip[1])):
            name = zh.spec_name(path.stem)
            if name is None:
                report.warn(str(path), None, None, _unknown_file_message(str(path)))
                continue
            if name in seen:
                report.error(str(path), None, None,
                             _twice("zip file", name, seen[name], path.name))
                report.unreadable.add(name)
                tables.pop(name, None)
                continue
            seen[name] = path.name
            table = parse_csv(name, path.name, _member_blocks(zf, info, report, budget), report)
            if table is not None:
                tables[name] = table
        if not tables and not report.errors:
            report.error(label, None, None, "the zip file holds no bundle CSV files")
        return tables


def _member_name(info: zipfile.ZipInfo) -> str:
    """A member's name as its writer meant it. Names not flagged UTF-8 were decoded by zipfile
    as cp437; a UTF-8 name (macOS, Linux) or a GBK one (Chinese Windows) is recovered."""
    name = info.filename
    if info.flag_bits & 0x800 or name.isascii():
        return name
    try:
        raw = name.encode("cp437")
    except UnicodeEncodeError:
        return name
    for encoding in ("utf-8", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return name


class _Refused(Exception):
    """Reading a file stopped; why is in the report already."""


def read_blocks(fh: IO[bytes]) -> Iterator[bytes]:
    """A file's bytes, a block at a time (for ``parse_csv``)."""
    while block := fh.read(_BLOCK):
        yield block


def _member_blocks(zf: zipfile.ZipFile, info: zipfile.ZipInfo, report: Report,
                   budget: list[int]) -> Iterator[bytes]:
    """A member's bytes as they inflate, a block at a time, counted against ``budget`` (what
    all members together may still unpack to): reading stops at the first block over it."""
    try:
        with zf.open(info) as src:
            while block := src.read(_BLOCK):
                budget[0] -= len(block)
                if budget[0] < 0:
                    report.error(info.filename, None, None,
                                 "unpacks to more than the allowed size (GRAPHSVC_MAX_UNPACKED_"
                                 "BYTES for the whole archive); split the bundle")
                    raise _Refused
                yield block
    except _Refused:
        raise
    except Exception as exc:  # noqa: BLE001 - bad CRC, broken deflate data (zlib.error), ...
        report.error(info.filename, None, None, f"cannot be unpacked from the zip file ({exc})")
        raise _Refused from None


def _memory_blocks(data: bytes) -> Iterator[bytes]:
    """Bytes already in memory, a block at a time (so that lines are checked as from a file)."""
    view = memoryview(data)
    for start in range(0, len(view), _BLOCK):
        yield bytes(view[start:start + _BLOCK])


def _not_utf8(block: bytes, exc: UnicodeDecodeError, source: str, report: Report,
              offset: int, line: int, encoding: str = "UTF-8") -> _Refused:
    """Report a byte that is not ``encoding`` text; the ``_Refused`` to raise."""
    at = line + block[: exc.start].count(b"\n")
    report.error(source, at, None,
                 f"the file is not {encoding} text (an invalid byte at position "
                 f"{offset + exc.start}); save it as 'CSV UTF-8' and import again")
    return _Refused()


class _Lines:
    """The lines of a CSV file's bytes, decoded, as ``csv.reader`` takes them (each with its
    line end; ``\r\n``, ``\n`` and ``\r`` all end a line), reading one block ahead at most.
    Each block is checked before its lines are given: no NUL byte, UTF-8 (not UTF-16, not
    GBK), no line longer than ``MAX_LINE`` bytes. A problem is reported and raises
    ``_Refused``. The lines of a block are split by ``io.StringIO``, not one by one here."""

    def __init__(self, blocks: Iterator[bytes], source: str, report: Report) -> None:
        self.blocks, self.source, self.report = blocks, source, report
        self.text_seen = False  # anything but white space
        self.quoted = False  # a "'" seen: only then can a cell carry the formula escape
        # "utf-8" once a block with other than ASCII was UTF-8, "gb18030" once one was not
        self.encoding: str | None = None

    def __iter__(self) -> Iterator[str]:
        return itertools.chain.from_iterable(self._texts())

    def _texts(self) -> Iterator[io.StringIO]:
        source, report = self.source, self.report
        carry = b""  # the start of a line whose end has not been read yet
        offset, line = 0, 1  # where carry starts in the file
        first = True
        for block in self.blocks:
            if first and len(carry) + len(block) < 3:
                carry += block  # too little yet to tell how the file is encoded
                continue
            buf = carry + block if carry else block
            if first:
                first = False
                if buf[:2] in (b"\xff\xfe", b"\xfe\xff"):
                    report.error(source, None, None,
                                 "the file is not UTF-8: it is UTF-16, which Excel writes for "
                                 "'Unicode Text'. In Excel choose Save As > 'CSV UTF-8 "
                                 "(逗号分隔)(*.csv)', then import again.")
                    raise _Refused
                if buf[:3] == b"\xef\xbb\xbf":
                    buf, offset = buf[3:], 3
            if b"\x00" in buf:
                at = line + buf[: buf.index(b"\x00")].count(b"\n")
                report.error(source, at, None,
                             "the file holds a NUL character: it is not a CSV text file")
                raise _Refused
            # cut after the last line end; a "\r" at the very end may be half of "\r\n"
            cut = buf.rfind(b"\n") + 1 or buf.rfind(b"\r", 0, len(buf) - 1) + 1
            # only the first line can be long: it is what was carried and more; every other
            # line of buf lies in the new block, which is shorter than MAX_LINE
            ends = [i for i in (buf.find(b"\n", 0, MAX_LINE + 1),
                                buf.find(b"\r", 0, MAX_LINE + 1)) if i >= 0]
            if not ends and len(buf) > MAX_LINE:
                self._too_long(line)
            if not cut:
                carry = buf
                continue
            carry = buf[cut:]
            yield self._text(buf[:cut], offset, line)
            line += buf.count(b"\n", 0, cut) or buf.count(b"\r", 0, cut)
            offset += cut
        if first and carry:  # a file of one or two bytes
            if b"\x00" in carry:
                report.error(source, 1, None,
                             "the file holds a NUL character: it is not a CSV text file")
                raise _Refused
            carry = carry.removeprefix(b"\xef\xbb\xbf")
        if carry:
            yield self._text(carry, offset, line)

    def _text(self, block: bytes, offset: int, line: int) -> io.StringIO:
        text = self._decode(block, offset, line)
        if not self.text_seen and not text.isspace():
            self.text_seen = True
        if not self.quoted and "'" in text:
            self.quoted = True
        return io.StringIO(text, newline="")

    def _decode(self, block: bytes, offset: int, line: int) -> str:
        """A block of whole lines as text, in the file's encoding: UTF-8, or GB18030 (GBK,
        what Excel writes for 'CSV' on Chinese Windows) when the first block with other than
        ASCII is not UTF-8 but is GB18030 (a warning says so). ASCII reads the same in both.
        ``_Refused`` (reported) for anything else. ``offset`` and ``line``: where the block
        starts in its file."""
        if self.encoding == "gb18030":
            try:
                return block.decode("gb18030")
            except UnicodeDecodeError as exc:
                raise _not_utf8(block, exc, self.source, self.report, offset, line,
                                "GB18030") from None
        try:
            text = block.decode("utf-8")
        except UnicodeDecodeError as exc:
            if self.encoding == "utf-8":  # UTF-8 before, something else now
                raise _not_utf8(block, exc, self.source, self.report, offset, line) from None
            try:
                text = block.decode("gb18030")
            except UnicodeDecodeError:
                raise _not_utf8(block, exc, self.source, self.report, offset, line) from None
            self.encoding = "gb18030"
            self.report.warn(self.source, None, None, _GBK_WARNING)
            return text
        if self.encoding is None and not block.isascii():
            self.encoding = "utf-8"
        return text

    def _too_long(self, line: int) -> None:
        self.report.error(self.source, line, None,
                          f"the line is longer than {MAX_LINE:,} bytes (1 MiB); no bundle file "
                          "has lines that long: is this the right file, saved as CSV?")
        raise _Refused


def parse_csv(name: str, source: str, blocks: Iterator[bytes], report: Report) -> RawTable | None:
    """Parse one CSV file, given as blocks of bytes, into a RawTable, or report why it cannot
    be read. Blank rows are left out (they would be skipped anyway)."""
    report.unreadable.add(name)  # until it is read
    lines = _Lines(blocks, source, report)
    reader = csv.reader(iter(lines), strict=True)
    try:
        header = next(reader, None)
        if header is not None and len(header) > MAX_COLUMNS:
            report.error(source, 1, None,
                         f"the header row has {len(header):,} columns, but a bundle file has at "
                         f"most {max(len(s.columns) for s in SPECS.values())} (and no more than "
                         f"{MAX_COLUMNS} are read): is this the right file?")
            return None
        table = RawTable(name, source, [h.strip() for h in header or ()])
        rows = table.rows
        number = 1
        for cells in reader:
            number += 1
            if not any(cells):
                continue
            if lines.quoted:
                cells = [unescape_formula(c) for c in cells]
            rows.append((number, cells))
    except _Refused:
        return None
    except csv.Error as exc:
        report.error(source, reader.line_num, None,
                     f"the CSV cannot be read here ({exc}); check the quotes on this line")
        return None
    if not lines.text_seen:
        report.error(source, None, None,
                     "the file is empty: it needs at least a header row naming its columns")
        return None
    report.unreadable.discard(name)
    return table


def parse_csv_bytes(name: str, source: str, data: bytes, report: Report) -> RawTable | None:
    """Parse one CSV file's bytes into a RawTable, or report why it cannot be read."""
    return parse_csv(name, source, _memory_blocks(data), report)


_OOXML_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def _ooxml_char(match: re.Match[str]) -> str:
    code = int(match.group(1), 16)
    return match.group() if 0xD800 <= code <= 0xDFFF else chr(code)  # no half characters


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return _OOXML_ESCAPE.sub(_ooxml_char, value) if "_x" in value else value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# A workbook says how big its sheets are, and openpyxl pads every row to that size and
# yields every row up to the last one named: a few bytes could ask for 16,384 columns by
# 1,048,576 rows. So the stated size is ignored, rows are read at most MAX_SHEET_COLUMNS
# wide (a bundle file has at most 10 columns, the rest are remarks), trailing empty cells
# are dropped, blank rows are not kept, and a sheet may not go past Excel's last row.
MAX_SHEET_COLUMNS = 64
MAX_SHEET_ROWS = 1_048_576
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _has_macros(names: list[str]) -> bool:
    for n in names:
        low = n.lower()
        if low.endswith("vbaproject.bin") or low.startswith("xl/macrosheets/"):
            return True  # VBA, or Excel 4.0 macro sheets
    return False


def read_xlsx(fh: IO[bytes], report: Report, *, label: str = "the workbook",
              max_unpacked_bytes: int = 1 << 30) -> Tables:
    """Read a workbook with one sheet per bundle file (sheet name = file name without .csv).

    Whatever a broken workbook makes the zip or XML parsers raise is reported as an error
    of the workbook or of its sheet, never passed on.
    """
    import openpyxl
    from openpyxl.cell.read_only import EMPTY_CELL

    head = fh.read(8)
    fh.seek(0)
    if head == _OLE2_MAGIC:
        report.error(label, None, None,
                     "this is an old Excel 97-2003 (.xls) workbook or one protected by a "
                     "password; save it as an Excel Workbook (.xlsx) without a password")
        return {}
    try:
        zf = zipfile.ZipFile(fh)
    except Exception:  # noqa: BLE001 - a broken archive makes zipfile raise many kinds of error
        report.error(label, None, None, "this is not a valid .xlsx workbook")
        return {}
    with zf:
        if not _check_archive(zf, label, report, max_unpacked_bytes):
            return {}
        if _has_macros(zf.namelist()):
            report.error(label, None, None,
                         "the workbook contains macros; save it as a plain .xlsx "
                         "(Excel Workbook) without macros and import again")
            return {}
    fh.seek(0)
    try:
        wb = openpyxl.load_workbook(fh, read_only=True, data_only=False)
    except Exception as exc:  # noqa: BLE001 - broken XML (ParseError), missing parts, ...
        report.error(label, None, None, f"the workbook cannot be opened ({exc})")
        return {}
    tables: Tables = {}
    try:
        for ws in wb.worksheets:
            title = ws.title.strip()
            name = zh.spec_name(title[:-4] if title.lower().endswith(".csv") else title)
            source = f"sheet {title}"
            if name is None:
                known = ", ".join(f"{s.name} ({'/'.join(zh.FILES_ZH[s.name].names)})"
                                  for s in SPECS.values())
                report.warn(source, None, None,
                            f"'{title}' is not a bundle sheet and was ignored (bundle sheets "
                            f"are: {known})")
                continue
            if name in tables or name in report.unreadable:
                report.error(source, None, None,
                             f"the workbook has more than one sheet for {name}; keep one")
                report.unreadable.add(name)
                tables.pop(name, None)
                continue
            try:
                table = _read_sheet(ws, name, source, report, EMPTY_CELL, wb.epoch)
            except Exception as exc:  # noqa: BLE001 - broken sheet XML, a bad cell, ...
                report.error(source, None, None, f"the sheet cannot be read ({exc})")
                table = None
            if table is None:
                report.unreadable.add(name)
            else:
                tables[name] = table
    finally:
        wb.close()
    return tables


class _Typed:
    """What a sheet's typed cells mean for its columns, once its header row is known: a
    number in a date column is a date (a serial, as Gnumeric and some Excel styles leave
    it); a number in an id or phone column is read as its digits, and is said once per
    column, since a number cell has dropped any leading zero (0012 becomes 12)."""

    def __init__(self, name: str, header: list[str], epoch: dt.datetime) -> None:
        from openpyxl.utils.datetime import from_excel  # openpyxl only for workbooks

        spec, row = SPECS[name], zh.read_header(name, header)
        self.epoch, self.from_excel = epoch, from_excel
        self.dates: set[int] = set()
        self.texts: dict[int, str] = {}  # position -> the column's header, as written
        self.numbers: dict[int, list[int]] = {}  # position -> the rows holding a number there
        if row.mixed:
            return  # refused by validate, which says why
        for col, i in row.index.items():
            c = spec.column(col)
            if c.type == "date":
                self.dates.add(i)
            elif c.type in ("id", "ref") or c.phone:
                self.texts[i] = row.labels[col]

    def cell(self, i: int, value: object, number: int) -> str:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return _cell_text(value)
        if i in self.dates:
            try:
                day = self.from_excel(value, self.epoch)
            except (ValueError, OverflowError):
                return _cell_text(value)  # validate says it is not a date
            if isinstance(day, dt.datetime):
                return day.date().isoformat()
        elif i in self.texts:
            self.numbers.setdefault(i, []).append(number)
        return _cell_text(value)

    def report(self, source: str, report: Report) -> None:
        for i, rows in self.numbers.items():
            shown = ", ".join(str(r) for r in rows[:5]) + (", …" if len(rows) > 5 else "")
            report.warn(source, rows[0], self.texts[i],
                        f"{len(rows):,} cell{'s' if len(rows) > 1 else ''} of this column "
                        f"{'are numbers' if len(rows) > 1 else 'is a number'} in the workbook, "
                        f"not text (row{'s' if len(rows) > 1 else ''} {shown}): a number cell "
                        "drops leading zeros (0012 becomes 12, 05718881234 becomes 5718881234). "
                        "Check these values; format the column as 文本 (Text) and type them "
                        "again where a zero was lost")


def _read_sheet(ws: object, name: str, source: str, report: Report,
                empty: object, epoch: dt.datetime) -> RawTable | None:
    """One bundle sheet as a RawTable, or None (with the reason reported)."""
    declared = getattr(ws, "max_column", None)
    if isinstance(declared, int) and declared > MAX_SHEET_COLUMNS:
        report.warn(source, None, None,
                    f"the sheet says it is {declared} columns wide; only the first "
                    f"{MAX_SHEET_COLUMNS} columns were read (a bundle file has at most 10)")
    ws.reset_dimensions()  # type: ignore[attr-defined]
    table: RawTable | None = None
    typed: _Typed | None = None
    formula_found = False
    for number, row in enumerate(ws.iter_rows(max_col=MAX_SHEET_COLUMNS), start=1):  # type: ignore[attr-defined]
        if number > MAX_SHEET_ROWS:
            report.error(source, number, None,
                         f"the sheet goes past row {MAX_SHEET_ROWS:,}, the last row Excel has")
            return None
        if all(c is empty for c in row):
            continue  # a blank row (or one of a gap): nothing to keep
        cells: list[str] = []
        for cell in row:
            if getattr(cell, "data_type", None) == "f":
                col = getattr(cell, "column_letter", "?")
                report.error(source, number, _header_at(table, len(cells)) or col,
                             "this cell holds a formula; the bundle takes values only. "
                             "Copy the sheet and 'Paste values' before importing")
                formula_found = True
                cells.append("")
                continue
            cells.append(typed.cell(len(cells), cell.value, number) if typed is not None
                         else _cell_text(cell.value))
        while cells and not cells[-1]:
            cells.pop()
        if table is None:
            if not any(c.strip() for c in cells):
                continue
            table = RawTable(name, source, [c.strip() for c in cells])
            typed = _Typed(name, table.header, epoch)
            continue
        if cells:
            table.rows.append((number, [unescape_formula(c) for c in cells]))
    if table is None:
        report.error(source, None, None, "the sheet is empty: it needs at least a header row")
        return None
    if typed is not None:
        typed.report(source, report)
    return None if formula_found else table


def _header_at(table: RawTable | None, index: int) -> str | None:
    if table is not None and index < len(table.header):
        return table.header[index] or None
    return None
