"""How long the laid-out workbook export takes, against the plain one and against xlsxwriter.

    python benchmarks/xlsx_export_bench.py [--counties 1] [--repeat 3]

A generated county (``graphsvc generate``) is read once; then, each ``--repeat`` times, the
same tables are written as a workbook three ways, and the best time and the file size of
each are printed:

* ``plain``: openpyxl write-only, every cell a text cell, nothing else (the export before
  the laid-out workbook);
* ``laid out, openpyxl``: the layout of graphsvc's export (bold frozen header with a filter,
  widths, date cells, Text format on the other cells) written with openpyxl write-only
  (what graphsvc uses for a bundle holding U+FFFE or U+FFFF);
* ``laid out, xlsxwriter``: graphsvc's export, written with xlsxwriter in its
  constant-memory mode (chosen for this: measured faster).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from graphsvc.bundle import zh
from graphsvc.bundle.reader import read_bundle
from graphsvc.bundle.report import Report
from graphsvc.bundle.schema import FILES
from graphsvc.bundle.writer import (
    _header_words,
    _sheets,
    _translated,
    _write_xlsx,
    _write_xlsx_openpyxl,
    escaped,
    xlsx_text,
)

Tables = Mapping[str, tuple[list[str], list[list[str]]]]


def plain(tables: Tables, path: Path) -> None:
    import openpyxl
    from openpyxl.cell import WriteOnlyCell

    wb = openpyxl.Workbook(write_only=True)
    for spec in FILES:
        cols, rows = tables[spec.name]
        ws = wb.create_sheet(zh.file_stem(spec.name, "zh"))
        ws.append(_header_words(spec.name, cols, "zh"))
        for row in _translated(spec.name, cols, rows, "zh"):
            cells = []
            for v in escaped(row):
                c = WriteOnlyCell(ws, value=xlsx_text(v))
                c.data_type = "s"
                cells.append(c)
            ws.append(cells)
    wb.save(path)


def laid_out_openpyxl(tables: Tables, path: Path) -> None:
    _write_xlsx_openpyxl(_sheets(tables, "zh"), path)


def laid_out(tables: Tables, path: Path) -> None:
    _write_xlsx(tables, path, "zh")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--counties", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="xlsx-bench-"))
    bundle = work / "bundle"
    subprocess.run([sys.executable, "-m", "graphsvc", "generate", str(bundle),
                    "--counties", str(args.counties)], check=True, capture_output=True)
    raw = read_bundle(bundle, Report())
    tables = {s.name: (list(raw[s.name].header), [c for _, c in raw[s.name].rows])
              for s in FILES}
    cells = sum(len(rows) * len(cols) for cols, rows in tables.values())
    print(f"{args.counties} generated count{'y' if args.counties == 1 else 'ies'}: "
          f"{sum(len(r) for _, r in tables.values()):,} rows, {cells:,} cells; "
          f"best of {args.repeat}")
    ways: list[tuple[str, Callable[[Tables, Path], None]]] = [
        ("plain (openpyxl, text cells only)", plain),
        ("laid out, openpyxl", laid_out_openpyxl),
        ("laid out, xlsxwriter (graphsvc)", laid_out)]
    for name, write in ways:
        best = float("inf")
        for n in range(args.repeat):
            path = work / f"{n}.xlsx"
            t0 = time.perf_counter()
            write(tables, path)
            best = min(best, time.perf_counter() - t0)
        size = (work / "0.xlsx").stat().st_size
        print(f"  {name:<36} {best:6.2f} s  {cells / best:>10,.0f} cells/s  "
              f"{size / 1e6:6.1f} MB")


if __name__ == "__main__":
    main()
