"""``graphsvc import``, ``export``, ``generate`` and ``summary``: data in, data out, the county
in numbers."""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.table import Table

from graphsvc.bundle.reader import read_bundle, read_stream
from graphsvc.bundle.report import CLI_MOST, CLI_PER_KIND, Report
from graphsvc.bundle.writer import translate_folder
from graphsvc.cli.common import (
    EXIT_STORE,
    AsOf,
    Fmt,
    Format,
    TownshipOpt,
    emit,
    err,
    fail,
    opened_store,
    out,
    print_report,
    progress_bar,
    settings_and_day,
)
from graphsvc.config import get_settings
from graphsvc.errors import StoreUnavailable
from graphsvc.importer import export_path, import_tables, paused_gc
from graphsvc.service import summary_body


def _unavailable_message(exc: StoreUnavailable, path: Path, kind: str, dry_run: bool) -> str:
    """What to tell a clerk whose import lost the store: what happened, what was written (the
    import is one transaction: nothing, unless the store went away while saying it had
    committed), and what to do (importing the same bundle twice changes nothing)."""
    server = "Neo4j" if kind == "neo4j" else "the store"
    if dry_run:
        return f"{exc}\nNothing was written (--dry-run). Run the check again once {server} is back."
    from neo4j.exceptions import IncompleteCommit  # the driver only on this rare path

    if isinstance(exc.__cause__, IncompleteCommit):
        return (f"{exc}\n{server} went away while committing the import of {path}, so it may or "
                f"may not have been written. Run the same import again once {server} is back: "
                "importing a bundle twice changes nothing.")
    return (f"{exc}\nNothing of {path} was written: the import is one transaction, and it was "
            f"not committed. Run the same import again once {server} is back.")


def import_cmd(
    path: Annotated[Path, typer.Argument(
        help="bundle: a folder of CSV files, a .zip of it, or an .xlsx workbook; - reads a "
             ".zip or .xlsx from standard input")],
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="check everything, write nothing")] = False,
    replace: Annotated[bool, typer.Option(
        "--replace",
        help="make the store equal to the bundle: records not in it are deleted")] = False,
    report_file: Annotated[Path | None, typer.Option(
        "--report",
        help="also write the report as JSON to this file: every error and warning up to 10,000 "
             "of each kind (100,000 in all), then counts")] = None,
    show: Annotated[int, typer.Option(
        help="show at most this many kinds of error and of warning, one line each (its "
             "count, first rows and first message)")] = 200,
) -> None:
    """Import a bundle: validate all of it first, then write all of it or nothing.

    Records are matched by id (relationship rows by their end points), so importing
    the same bundle twice changes nothing. Exit code 0 when imported (or valid with
    --dry-run), 1 when the bundle has errors (every one is listed; nothing is written),
    3 when the store cannot be used.

    graphsvc import - < bundle.zip   reads the bundle from standard input.
    """
    settings = get_settings()
    report = Report(per_kind=CLI_PER_KIND, most=CLI_MOST)  # the API's answers list fewer
    with err.status(f"reading {path} ..."), paused_gc():
        if str(path) == "-":
            with tempfile.SpooledTemporaryFile(max_size=64 << 20) as spool:
                shutil.copyfileobj(sys.stdin.buffer, spool)
                spool.seek(0)
                tables = read_stream(spool, report,
                                     max_unpacked_bytes=settings.max_unpacked_bytes)
        else:
            tables = read_bundle(path, report, max_unpacked_bytes=settings.max_unpacked_bytes)
    rows = sum(len(t.rows) for t in tables.values())
    with opened_store() as store, progress_bar() as bar:
        task = bar.add_task("checking", total=None)

        def progress(stage: str, done: int, total: int) -> None:
            bar.update(task, description=f"writing {stage}", completed=done, total=total)

        bar.update(task, description=f"checking {rows:,} rows")
        try:
            import_tables(store, tables, report, dry_run=dry_run, replace=replace,
                          progress=progress)
        except StoreUnavailable as exc:
            raise fail(_unavailable_message(exc, path, store.kind, dry_run), EXIT_STORE) from None
        bar.update(task, total=1, completed=1, description="done" if report.ok else "refused")
    print_report(report, show)
    if report_file:
        report_file.write_text(json.dumps(report.as_dict(), ensure_ascii=False, indent=1),
                               encoding="utf-8")
    if not report.ok:
        err.print(f"[bold red]The bundle has {report.error_count:,} error(s); "
                  "nothing was written.[/] "
                  "Fix them and import again.")
        raise typer.Exit(1)
    table = Table("file", "rows", title="checked (nothing written)" if dry_run else
                  ("imported (store replaced)" if replace else "imported"))
    for name, n in report.counts.items():
        table.add_row(f"{name}.csv", f"{n:,}")
    out.print(table)
    if dry_run:
        out.print("The bundle is valid. Run again without --dry-run to import it.")


def export_cmd(
    path: Annotated[Path, typer.Argument(
        help="where to write: a folder (created), or a name ending in .zip or .xlsx; - writes "
             "to standard output (with --format zip or xlsx)")],
    format_: Annotated[Literal["zip", "xlsx"] | None, typer.Option(
        "--format", help="zip or xlsx: what to write to standard output (PATH -); a named "
                         "file's ending says it", show_default=False)] = None,
    headers: Annotated[Literal["en", "zh"] | None, typer.Option(
        "--headers",
        help="en: the English files, headers and values of the bundle format; zh: Chinese "
             "file/sheet names, headers and values (党员.csv: 编号, 姓名, 身份 …; 在岗, 是/否), "
             "as in docs/chinese-spreadsheets.md. Import reads either. Default: zh for a "
             ".xlsx workbook (for people to read), en for a folder or .zip",
        show_default=False)] = None,
) -> None:
    """Write the whole store as a bundle (rows ordered by id), ready to import elsewhere.

    A workbook (.xlsx) is laid out to be read: a frozen header row with a filter, columns as
    wide as their values, dates as date cells, ids and phones as text.

    graphsvc export - --format zip > backup.zip   writes the bundle to standard output."""
    to_stdout = str(path) == "-"
    if to_stdout and format_ is None:
        raise fail("--format: say zip or xlsx when writing to standard output (PATH -)")
    if not to_stdout and format_ is not None and path.suffix.lower() != f".{format_}":
        raise fail(f"--format {format_}: the file's name says what to write; name it "
                   f"{path.with_suffix('.' + format_).name} or leave --format out")
    suffix = f".{format_}" if to_stdout else path.suffix.lower()
    if headers is None:
        headers = "zh" if suffix == ".xlsx" else "en"
    with opened_store() as store, err.status("exporting ..."), \
            tempfile.TemporaryDirectory(prefix="graphsvc-export-") as tmp:
        target = Path(tmp) / f"bundle{suffix}" if to_stdout else path
        counts = export_path(store, target, headers=headers)
        if to_stdout:
            with target.open("rb") as fh:
                shutil.copyfileobj(fh, sys.stdout.buffer)
            sys.stdout.buffer.flush()
    table = Table("file", "rows", title=f"exported to {'standard output' if to_stdout else path}")
    for name, n in counts.items():
        table.add_row(name, f"{n:,}")
    (err if to_stdout else out).print(table)  # standard output holds the bundle itself


def generate_cmd(
    path: Annotated[Path, typer.Argument(help="folder to write the bundle into")],
    counties: Annotated[int, typer.Option(
        min=1, max=100, help="how many counties side by side")] = 1,
    seed: Annotated[int, typer.Option(help="random seed: the same seed gives the same bundle")] = 1,
    headers: Annotated[Literal["en", "zh"], typer.Option(
        "--headers",
        help="en: the bundle format's English files, headers and values; zh: the same bundle "
             "in Chinese (党员.csv, 编号, 在岗 …; docs/chinese-spreadsheets.md)")] = "en",
) -> None:
    """Write a realistic synthetic bundle shaped like the source county (generated names only).

    One county: 12 townships, 200 villages, 33 committees, 611 branches, 13,787 Party
    members, 63 units paired with 59 villages, 1,300+ cadres supporting poor households,
    the three-contact chain with a year of contacts, and a realistic share of every gap.
    """
    from graphsvc.generate import generate_bundle

    with progress_bar() as bar:
        task = bar.add_task("generating", total=None)

        def progress(stage: str, done: int, total: int) -> None:
            bar.update(task, description=stage[:14], completed=done, total=total)

        counts = generate_bundle(path, counties=counties, seed=seed, progress=progress)
        if headers == "zh":
            bar.update(task, description="in Chinese")
            counts = translate_folder(path, "zh")
    table = Table("file", "rows",
                  title=f"generated {counties} count{'y' if counties == 1 else 'ies'} in {path}")
    for name, n in counts.items():
        table.add_row(name, f"{n:,}")
    out.print(table)
    out.print(f"Import it with: graphsvc import {path}")


def refresh_cmd() -> None:
    """Tell every running graphsvc that the data was changed outside graphsvc (by hand in Neo4j
    or in the SQLite file), so that each computes its county-wide results afresh."""
    with opened_store() as store:
        version = store.refresh()
    out.print(f"Data version {version}: every graphsvc process reads the data afresh on its next "
              "request (the first county-wide read computes the county again).")


def summary_cmd(
    as_of: AsOf = None, fmt: Fmt = Format.table, township_id: TownshipOpt = None,
) -> None:
    """The county in numbers: records, people, households by status and reason, pairings, contacts."""  # noqa: E501 (the help)
    rules, day = settings_and_day(as_of)
    with opened_store() as store:
        data = summary_body(store, day, rules, township_id=township_id)
    where = "township " + township_id if township_id else "the county"
    emit(data, fmt, f"{where} on {day.isoformat()}")
