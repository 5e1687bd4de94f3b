"""The ``graphsvc`` command line (names fixed by ``spec/API.md``)."""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Iterator, Literal, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from graphsvc.bundle.report import CLI_MOST, CLI_PER_KIND, Report
from graphsvc.bundle.schema import escape_formula
from graphsvc.bundle.writer import write_csv_rows
from graphsvc.config import get_settings
from graphsvc.errors import ConfigError, StoreError, StoreUnavailable
from graphsvc.stores import Store, open_store

app = typer.Typer(
    name="graphsvc",
    help=(
        "Who supports whom in a county: the three-contact chain (committee member -> delegate -> "
        "member -> household) and unit-village pairing, kept in Neo4j or in an embedded store.\n\n"
        "The store is Neo4j when GRAPHSVC_NEO4J_URI is set (with GRAPHSVC_NEO4J_USER, "
        "GRAPHSVC_NEO4J_PASSWORD), else the embedded store in GRAPHSVC_DATA_DIR "
        "(default ./graphsvc-data)."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(highlight=False, soft_wrap=True)
if not out.is_terminal:  # piped or redirected: room for every column, nothing cut
    out = Console(highlight=False, soft_wrap=True, width=240)
err = Console(stderr=True, highlight=False, soft_wrap=True)


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code)


def _quiet_driver() -> None:
    """The Neo4j driver logs every retry of a lost connection as a warning (logger "neo4j"),
    which Python prints to stderr when nothing else takes it: a wall of driver noise before
    our own one-line message. The command line says what happened itself; the server
    (``graphsvc serve``) keeps the driver's log."""
    driver_log = logging.getLogger("neo4j")
    driver_log.addHandler(logging.NullHandler())
    driver_log.propagate = False


@contextmanager
def _store() -> Iterator[Store]:
    _quiet_driver()
    try:
        store = open_store(get_settings())
    except (StoreError, ConfigError) as exc:
        raise _fail(str(exc)) from None
    try:
        yield store
    except (StoreError, ConfigError) as exc:
        raise _fail(str(exc)) from None
    finally:
        store.close()


def _parse_date(value: Optional[str], name: str) -> dt.date:
    if value is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"'{value}' is not a date written YYYY-MM-DD", param_hint=name) from None


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description:<14}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), console=err, transient=False, disable=not err.is_terminal,
    )


def _print_report(report: Report, limit: int) -> None:
    """At most ``limit`` errors and warnings each; the rest as counts per kind."""
    more = f"--report FILE lists up to {CLI_PER_KIND:,} of each kind"
    for p in report.errors[:limit]:
        err.print(f"[red]ERROR[/]   [bold]{p.where()}[/]: {p.message}", markup=True)
    if report.error_count > limit:
        err.print(f"... and {report.error_count - limit:,} more errors ({more})")
    for p in report.warnings[:limit]:
        err.print(f"[yellow]warning[/] [bold]{p.where()}[/]: {p.message}")
    if report.warning_count > limit:
        err.print(f"... and {report.warning_count - limit:,} more warnings ({more})")


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


@app.command("import")
def import_cmd(
    path: Annotated[Path, typer.Argument(help="bundle: a folder of CSV files, a .zip of it, or an .xlsx workbook")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="check everything, write nothing")] = False,
    replace: Annotated[bool, typer.Option("--replace", help="make the store equal to the bundle: records not in it are deleted")] = False,
    report_file: Annotated[Optional[Path], typer.Option("--report", help="also write the report as JSON to this file: every error and warning up to 10,000 of each kind (100,000 in all), then counts")] = None,
    show: Annotated[int, typer.Option(help="show at most this many errors and warnings")] = 200,
) -> None:
    """Import a bundle: validate all of it first, then write all of it or nothing.

    Records are matched by id (relationship rows by their end points), so importing
    the same bundle twice changes nothing. Exit code 0 when imported (or valid with
    --dry-run), 1 when the bundle has errors (every one is listed; nothing is written),
    2 when the store cannot be used.
    """
    from graphsvc.bundle.reader import read_bundle
    from graphsvc.importer import import_tables, paused_gc

    settings = get_settings()
    report = Report(per_kind=CLI_PER_KIND, most=CLI_MOST)  # the API's answers list fewer
    with err.status(f"reading {path} ..."), paused_gc():
        tables = read_bundle(path, report, max_unpacked_bytes=settings.max_unpacked_bytes)
    rows = sum(len(t.rows) for t in tables.values())
    with _store() as store:
        with _progress() as bar:
            task = bar.add_task("checking", total=None)

            def progress(stage: str, done: int, total: int) -> None:
                bar.update(task, description=f"writing {stage}", completed=done, total=total)

            bar.update(task, description=f"checking {rows:,} rows")
            try:
                import_tables(store, tables, report, dry_run=dry_run, replace=replace,
                              progress=progress)
            except StoreUnavailable as exc:
                raise _fail(_unavailable_message(exc, path, store.kind, dry_run)) from None
            bar.update(task, total=1, completed=1, description="done" if report.ok else "refused")
    _print_report(report, show)
    if report_file:
        report_file.write_text(json.dumps(report.as_dict(), ensure_ascii=False, indent=1), encoding="utf-8")
    if not report.ok:
        err.print(f"[bold red]The bundle has {report.error_count:,} error(s); nothing was written.[/] "
                  "Fix them and import again.")
        raise typer.Exit(1)
    table = Table("file", "rows", title="checked (nothing written)" if dry_run else
                  ("imported (store replaced)" if replace else "imported"))
    for name, n in report.counts.items():
        table.add_row(f"{name}.csv", f"{n:,}")
    out.print(table)
    if dry_run:
        out.print("The bundle is valid. Run again without --dry-run to import it.")


@app.command("export")
def export_cmd(
    path: Annotated[Path, typer.Argument(help="where to write: a folder (created), or a name ending in .zip or .xlsx")],
    headers: Annotated[Literal["en", "zh"], typer.Option(
        "--headers",
        help="en: the English files, headers and values of the bundle format; zh: Chinese "
             "file/sheet names, headers and values (党员.csv: 编号, 姓名, 身份 …; 在职, 是/否), "
             "as in docs/chinese-spreadsheets.md. Import reads either.")] = "en",
) -> None:
    """Write the whole store as a bundle (rows ordered by id), ready to import elsewhere."""
    from graphsvc.importer import export_path

    with _store() as store:
        with err.status("exporting ..."):
            counts = export_path(store, path, headers=headers)
    table = Table("file", "rows", title=f"exported to {path}")
    for name, n in counts.items():
        table.add_row(name, f"{n:,}")
    out.print(table)


@app.command("generate")
def generate_cmd(
    path: Annotated[Path, typer.Argument(help="folder to write the bundle into")],
    counties: Annotated[int, typer.Option(min=1, max=100, help="how many counties side by side")] = 1,
    seed: Annotated[int, typer.Option(help="random seed: the same seed gives the same bundle")] = 1,
    headers: Annotated[Literal["en", "zh"], typer.Option(
        "--headers",
        help="en: the bundle format's English files, headers and values; zh: the same bundle "
             "in Chinese (党员.csv, 编号, 在职 …; docs/chinese-spreadsheets.md)")] = "en",
) -> None:
    """Write a realistic synthetic bundle shaped like the source county (generated names only).

    One county: 12 townships, 200 villages, 33 committees, 611 branches, 13,787 Party
    members, 63 units paired with 59 villages, 1,300+ cadres supporting poor households,
    the three-contact chain with a year of contacts, and a realistic share of every gap.
    """
    from graphsvc.generate import generate_bundle

    with _progress() as bar:
        task = bar.add_task("generating", total=None)

        def progress(stage: str, done: int, total: int) -> None:
            bar.update(task, description=stage[:14], completed=done, total=total)

        counts = generate_bundle(path, counties=counties, seed=seed, progress=progress)
        if headers == "zh":
            from graphsvc.bundle.writer import translate_folder

            bar.update(task, description="in Chinese")
            counts = translate_folder(path, "zh")
    table = Table("file", "rows", title=f"generated {counties} count{'y' if counties == 1 else 'ies'} in {path}")
    for name, n in counts.items():
        table.add_row(name, f"{n:,}")
    out.print(table)
    out.print(f"Import it with: graphsvc import {path}")


def _flatten(d: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    items: list[tuple[str, Any]] = []
    for k, v in d.items():
        if isinstance(v, dict):
            items.extend(_flatten(v, f"{prefix}{k}."))
        else:
            items.append((f"{prefix}{k}", v))
    return items


_LABELS = {
    "townships": "townships 乡镇", "villages": "villages 行政村",
    "villages_needing_pairing": "villages needing a unit 需结对村",
    "organizations.committee": "committees 党(工)委", "organizations.general_branch": "general branches 党总支",
    "organizations.branch": "branches 党支部", "units.agency": "agencies 机关", "units.institution": "institutions 事业单位",
    "units.enterprise": "enterprises 企业", "people": "Party members 党员", "committee_members": "committee members 县委委员",
    "delegates": "delegates 党代表", "cadres": "cadres 干部", "members_in_hardship": "members in hardship 困难党员",
    "households": "households 户", "focus_households": "focus households 重点户",
    "pairings": "pairings 结对", "paired_units": "paired units 结对单位", "paired_villages": "paired villages 结对村",
    "supports": "cadre supports 结穷亲", "contacts": "contacts 联系记录", "requests_raised": "requests raised 诉求",
    "requests_resolved": "requests resolved 已解决",
    "households_by_status.covered": "covered 已覆盖", "households_by_status.stale": "stale 久未联系",
    "households_by_status.uncovered": "uncovered 未覆盖",
    "uncovered_by_reason.no_member": "  no member 无党员联系", "uncovered_by_reason.member_inactive": "  member left 党员已离开",
    "uncovered_by_reason.no_delegate": "  no delegate 无党代表", "uncovered_by_reason.no_committee_member": "  no committee member 无县委委员",
}


def emit(data: dict[str, Any], fmt: Format, title: str) -> None:
    """Print a result as the API's JSON body, a terminal table, or CSV."""
    if fmt is Format.json:
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
        return
    rows = _flatten(data)
    if fmt is Format.csv:
        sys.stdout.write("\ufeff")  # so that Excel reads the Chinese as UTF-8
        write_csv_rows(sys.stdout, [["name", "value"]])
        write_csv_rows(sys.stdout, ([escape_formula(k), _csv_value(v)] for k, v in rows))
        return
    table = Table("", "", title=title, show_header=False)
    for k, v in rows:
        table.add_row(_LABELS.get(k, k.replace("households_by_category.", "households: ")), f"{v:,}" if isinstance(v, int) else str(v))
    out.print(table)


class Status(str, Enum):
    covered = "covered"
    stale = "stale"
    uncovered = "uncovered"


class Reason(str, Enum):
    no_member = "no_member"
    member_inactive = "member_inactive"
    no_delegate = "no_delegate"
    no_committee_member = "no_committee_member"


class GapStatus(str, Enum):
    ok = "ok"
    gap = "gap"


class MemberProblem(str, Enum):
    no_delegate = "no_delegate"
    too_few_households = "too_few_households"


AsOf = Annotated[Optional[str], typer.Option("--as-of", help="the date to answer for, YYYY-MM-DD (default today)")]
Fmt = Annotated[Format, typer.Option("--format", help="table (for reading), json (exactly the API's body) or csv (for Excel)")]
TownshipOpt = Annotated[Optional[str], typer.Option("--township-id", help="only this township")]
VillageOpt = Annotated[Optional[str], typer.Option("--village-id", help="only this village")]
LimitOpt = Annotated[Optional[int], typer.Option(min=1, help="at most this many rows (default all)")]
OffsetOpt = Annotated[int, typer.Option(min=0, help="skip this many rows first")]

audit = typer.Typer(help="Audit the chains and pairings: who is uncovered, and why.", no_args_is_help=True)
app.add_typer(audit, name="audit")


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, list):
        return ";".join(str(x) for x in v)
    return str(v)


def _csv_value(v: Any) -> Any:
    """A value of ``--format csv``, never run as a formula by a spreadsheet: ``'`` before
    text starting with =, +, -, @, tab, CR or LF (the bundle writer's rule,
    ``graphsvc.bundle.schema.escape_formula``). Numbers stay numbers."""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return v
    return escape_formula("" if v is None else str(v))


def _csv_cell(v: Any) -> Any:
    """A cell of a list in ``--format csv``: as in the table, never run as a formula."""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return v
    return escape_formula(_cell(v))


def emit_rows(body: dict[str, Any], rows: list[dict[str, Any]], fmt: Format, title: str,
              columns: list[str] | None = None) -> None:
    """Print a list result: the API body as JSON, a table, or CSV (lists joined with ';')."""
    if fmt is Format.json:
        sys.stdout.write(json.dumps(body, ensure_ascii=False, indent=2) + "\n")
        return
    cols = columns or (list(rows[0].keys()) if rows else [])
    if fmt is Format.csv:
        sys.stdout.write("\ufeff")  # so that Excel reads the Chinese as UTF-8
        write_csv_rows(sys.stdout, [cols])
        write_csv_rows(sys.stdout, ([_csv_cell(r.get(c)) for c in cols] for r in rows))
        return
    table = Table(title=title)
    for c in cols:
        table.add_column(_HEAD.get(c, c.replace("_", " ")), overflow="fold")
    for r in rows:
        table.add_row(*[_cell(r.get(c)) for c in cols])
    out.print(table)
    out.print(f"{len(rows)} of {body.get('total', len(rows))} shown")


_HEAD = {
    "household_id": "household", "village_id": "village", "township_id": "township",
    "member_ids": "members", "delegate_id": "delegate", "member_id": "member",
    "committee_member_id": "committee member", "committee_member_ids": "committee members",
    "delegate_ids": "delegates", "member_count": "members", "households_reached": "households",
    "focus_households_reached": "focus", "members_short": "members short",
    "household_count": "households", "delegate_count": "delegates", "last_contact": "last contact",
}


def _settings_and_day(as_of: Optional[str]) -> tuple[Any, dt.date]:
    return get_settings().rules(), _parse_date(as_of, "--as-of")


@audit.command("households")
def audit_households(
    status: Annotated[Optional[Status], typer.Option(help="only households with this status")] = None,
    reason: Annotated[Optional[Reason], typer.Option(help="only uncovered households with this reason")] = None,
    township_id: TownshipOpt = None, village_id: VillageOpt = None,
    focus_only: Annotated[bool, typer.Option("--focus-only", help="only focus households (military/martyr, extremely poor, empty-nest elderly)")] = False,
    as_of: AsOf = None, fmt: Fmt = Format.table, limit: LimitOpt = None, offset: OffsetOpt = 0,
) -> None:
    """Every household's status (covered, stale, uncovered and why), focus households first."""
    from graphsvc.service import households_body

    rules, day = _settings_and_day(as_of)
    with _store() as store:
        body = households_body(store, day, rules, township_id=township_id, village_id=village_id,
                               status=status.value if status else None,
                               reason=reason.value if reason else None, focus_only=focus_only,
                               limit=limit, offset=offset)
    emit_rows(body, body["items"], fmt, f"households on {day.isoformat()}",
              ["household_id", "village_id", "township_id", "categories", "focus", "status",
               "reason", "last_contact", "member_ids"])


@audit.command("delegates")
def audit_delegates(
    township_id: TownshipOpt = None, village_id: VillageOpt = None,
    status: Annotated[Optional[GapStatus], typer.Option(help="ok or gap")] = None,
    as_of: AsOf = None, fmt: Fmt = Format.table, limit: LimitOpt = None, offset: OffsetOpt = 0,
) -> None:
    """Each active delegate: committee members above, members below, households reached, gaps."""
    from graphsvc.service import delegates_body

    rules, day = _settings_and_day(as_of)
    with _store() as store:
        body = delegates_body(store, day, rules, township_id=township_id, village_id=village_id,
                              status=status.value if status else None, limit=limit, offset=offset)
    emit_rows(body, body["items"], fmt, f"delegates on {day.isoformat()}",
              ["delegate_id", "name", "township_id", "committee_member_ids", "member_count",
               "households_reached", "focus_households_reached", "members_short", "problems", "status"])


@audit.command("members")
def audit_members(
    township_id: TownshipOpt = None, village_id: VillageOpt = None,
    problem: Annotated[Optional[MemberProblem], typer.Option(help="only members with this problem")] = None,
    as_of: AsOf = None, fmt: Fmt = Format.table, limit: LimitOpt = None, offset: OffsetOpt = 0,
) -> None:
    """Each active member in the chain: households they liaise with, delegates above, gaps."""
    from graphsvc.service import members_body

    rules, day = _settings_and_day(as_of)
    with _store() as store:
        body = members_body(store, day, rules, township_id=township_id, village_id=village_id,
                            problem=problem.value if problem else None, limit=limit, offset=offset)
    emit_rows(body, body["items"], fmt, f"members on {day.isoformat()}",
              ["member_id", "name", "township_id", "household_count", "delegate_ids", "problems"])


@audit.command("committee-members")
def audit_committee_members(
    township_id: TownshipOpt = None, village_id: VillageOpt = None,
    as_of: AsOf = None, fmt: Fmt = Format.table, limit: LimitOpt = None, offset: OffsetOpt = 0,
) -> None:
    """Each active county committee member: delegates they liaise with, households reached."""
    from graphsvc.service import committee_members_body

    rules, day = _settings_and_day(as_of)
    with _store() as store:
        body = committee_members_body(store, day, rules, township_id=township_id,
                                      village_id=village_id, limit=limit, offset=offset)
    emit_rows(body, body["items"], fmt, f"committee members on {day.isoformat()}",
              ["committee_member_id", "name", "delegate_ids", "delegate_count", "households_reached",
               "problems"])


@audit.command("pairings")
def audit_pairings(township_id: TownshipOpt = None, as_of: AsOf = None, fmt: Fmt = Format.table) -> None:
    """Villages that need a paired unit and have none, and units paired with no village."""
    from graphsvc.service import pairings_body

    day = _parse_date(as_of, "--as-of")
    with _store() as store:
        body = pairings_body(store, day, township_id=township_id)
    rows = ([{"kind": "unpaired village", "id": v} for v in body["unpaired_villages"]]
            + [{"kind": "idle unit", "id": u} for u in body["idle_units"]])
    emit_rows(body, rows, fmt, f"pairing gaps on {day.isoformat()}", ["kind", "id"])


@audit.command("impact")
def audit_impact(
    person_id: Annotated[str, typer.Argument(help="the person who might leave")],
    as_of: AsOf = None, fmt: Fmt = Format.table,
) -> None:
    """Households that would lose coverage if this person left, and why."""
    from graphsvc.errors import NotFound
    from graphsvc.service import impact_body

    rules, day = _settings_and_day(as_of)
    with _store() as store:
        try:
            body = impact_body(store, person_id, day, rules)
        except NotFound as exc:
            raise _fail(str(exc), 1) from None
    emit_rows(body, body["items"], fmt, f"if {person_id} left on {day.isoformat()}",
              ["household_id", "reason"])


@app.command("summary")
def summary_cmd(
    as_of: AsOf = None, fmt: Fmt = Format.table, township_id: TownshipOpt = None,
) -> None:
    """The county in numbers: records, people, households by status and reason, pairings, contacts."""
    from graphsvc.service import summary_body

    rules, day = _settings_and_day(as_of)
    with _store() as store:
        data = summary_body(store, day, rules, township_id=township_id)
    emit(data, fmt, f"{'township ' + township_id if township_id else 'the county'} on {day.isoformat()}")


# `serve` and `keys` live with the HTTP API
from graphsvc.cli_api import register as _register_api  # noqa: E402

_register_api(app)
from graphsvc.cli_visual import register as _register_visual  # noqa: E402
_register_visual(app)
from graphsvc.cli_analysis import register as _register_analysis  # noqa: E402

_register_analysis(app)


def main() -> None:  # pragma: no cover - console entry
    app()


if __name__ == "__main__":  # pragma: no cover
    app()
