"""What more than one ``graphsvc`` command needs: the consoles, ``fail``, the store, the shared
options, progress bars and the printing of results (table, JSON or CSV)."""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from graphsvc.bundle.report import CLI_PER_KIND, Report
from graphsvc.bundle.schema import escape_formula
from graphsvc.bundle.writer import write_csv_rows
from graphsvc.config import Settings, get_settings
from graphsvc.errors import ConfigError, GraphsvcError, StoreError
from graphsvc.keys import KeyStore
from graphsvc.model import Category, HouseholdStatus, Kind, OrgKind, Role, Sector, UncoveredReason
from graphsvc.rules import RuleSettings
from graphsvc.stores import Store, open_store

out = Console(highlight=False, soft_wrap=True)
if not out.is_terminal:  # piped or redirected: room for every column, nothing cut
    out = Console(highlight=False, soft_wrap=True, width=240)
# for text that holds what users typed or named (key names, paths, audit entries): printed as
# it is, never read as markup; at the terminal's width, as `keys` and `audit-log` always were
plain = Console(highlight=False, soft_wrap=True, markup=False)
err = Console(stderr=True, highlight=False, soft_wrap=True)


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


AsOf = Annotated[str | None, typer.Option(
    "--as-of", help="the date to answer for, YYYY-MM-DD (default today)")]
# the same option as the diagrams and requests commands have always said it (their help is kept)
AsOfDate = Annotated[str | None, typer.Option("--as-of", help="YYYY-MM-DD (default today)")]
Fmt = Annotated[Format, typer.Option(
    "--format", help="table (for reading), json (exactly the API's body) or csv (for Excel)")]
TownshipOpt = Annotated[str | None, typer.Option("--township-id", help="only this township")]
VillageOpt = Annotated[str | None, typer.Option("--village-id", help="only this village")]
LimitOpt = Annotated[int | None, typer.Option(min=1, help="at most this many rows (default all)")]
OffsetOpt = Annotated[int, typer.Option(min=0, help="skip this many rows first")]


# exit codes, as `graphsvc --help` lists them
EXIT_REFUSED = 1  # the data or what was asked for is wrong or not there (a bundle with errors)
EXIT_USAGE = 2  # a wrong option, argument or setting
EXIT_STORE = 3  # the store cannot be reached, or failed
EXIT_CODES = ("Exit codes: 0 done; 1 the data was refused or what was asked for is not there; "
              "2 a wrong option, argument or setting; 3 the store cannot be reached or failed.")


def fail(message: str, code: int = EXIT_USAGE) -> typer.Exit:
    """Print ``error: message`` on stderr; the caller raises the returned exit (``EXIT_…``)."""
    err.print(f"[bold red]error:[/] {escape(message)}")
    return typer.Exit(code)


def failed(exc: GraphsvcError, code: int = EXIT_USAGE) -> typer.Exit:
    """``fail`` with the error's message: ``EXIT_STORE`` for a store that cannot be reached
    or failed, else ``code``."""
    return fail(str(exc), EXIT_STORE if isinstance(exc, StoreError) else code)


def _quiet_driver() -> None:
    """The Neo4j driver logs every retry of a lost connection as a warning (logger "neo4j"),
    which Python prints to stderr when nothing else takes it: a wall of driver noise before
    our own one-line message. The command line says what happened itself; the server
    (``graphsvc serve``) keeps the driver's log."""
    driver_log = logging.getLogger("neo4j")
    driver_log.addHandler(logging.NullHandler())
    driver_log.propagate = False


@contextmanager
def opened_store() -> Iterator[Store]:
    """The configured store, closed at the end; a store that cannot be used ends the command
    with its message and exit code 3 (2 for a wrong setting)."""
    _quiet_driver()
    try:
        store = open_store(get_settings())
    except (StoreError, ConfigError) as exc:
        raise failed(exc) from None
    try:
        yield store
    except (StoreError, ConfigError) as exc:
        raise failed(exc) from None
    finally:
        store.close()


def key_store(settings: Settings | None = None) -> KeyStore:
    """The install's key database (GRAPHSVC_DATA_DIR/keys.sqlite3)."""
    return KeyStore((settings or get_settings()).data_dir)


def parse_date(value: str | None, name: str) -> dt.date:
    """``value`` as a date (today when None); a bad one is a usage error of option ``name``."""
    if value is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"'{value}' is not a date written YYYY-MM-DD",
                                 param_hint=name) from None


def settings_and_day(as_of: str | None) -> tuple[RuleSettings, dt.date]:
    """The rules' settings and the ``--as-of`` day."""
    return get_settings().rules(), parse_date(as_of, "--as-of")


def progress_bar() -> Progress:
    """A progress bar on stderr (shown only at a terminal)."""
    return Progress(
        TextColumn("[bold]{task.description:<14}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), console=err, transient=False, disable=not err.is_terminal,
    )


def print_report(report: Report, limit: int) -> None:
    """At most ``limit`` lines of errors and of warnings; problems of one kind (the same file,
    column and message but for the values) on one line, with their count and first rows."""
    more = f"--report FILE lists up to {CLI_PER_KIND:,} of each kind, with every row"
    for level, tag in (("error", "[red]ERROR[/]  "), ("warning", "[yellow]warning[/]")):
        groups = report.groups(level)  # type: ignore[arg-type]
        for g in groups[:limit]:
            err.print(f"{tag} {escape(str(g))}", markup=True)
        if len(groups) > limit:
            left = sum(g.count for g in groups[limit:])
            err.print(f"... and {left:,} more {level}s of {len(groups) - limit:,} more kinds "
                      f"({more})")


def _flatten(d: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    items: list[tuple[str, Any]] = []
    for k, v in d.items():
        if isinstance(v, dict):
            items.extend(_flatten(v, f"{prefix}{k}."))
        else:
            items.append((f"{prefix}{k}", v))
    return items


# a summary row: its English words, then the one Chinese label of the domain word it counts
# (graphsvc.model); rows that count no word of a closed set keep their words here
_REASON_WORDS = {"no_member": "no member", "member_inactive": "member left",
                 "no_delegate": "no delegate", "no_committee_member": "no committee member"}
_LABELS = {
    "townships": f"townships {Kind.TOWNSHIP.label}",
    "villages": f"villages {Kind.VILLAGE.label}",
    "villages_needing_pairing": "villages needing a unit 需结对村",
    **{f"organizations.{k.value}": f"{words} {k.label}" for k, words in zip(
        OrgKind, ("committees", "general branches", "branches"), strict=True)},
    **{f"units.{s.value}": f"{words} {s.label}" for s, words in zip(
        Sector, ("agencies", "institutions", "enterprises"), strict=True)},
    "people": f"Party members {Kind.PERSON.label}",
    "committee_members": f"committee members {Role.committee_member.label}",
    "delegates": f"delegates {Role.delegate.label}",
    "cadres": f"cadres {Role.cadre.label}",
    "members_in_hardship": "members in hardship 困难党员",
    "households": f"households {Kind.HOUSEHOLD.label}",
    "focus_households": "focus households 重点户",
    "pairings": "pairings 结对",
    "paired_units": "paired units 结对单位",
    "paired_villages": "paired villages 结对村",
    "supports": "cadre supports 结穷亲",
    "contacts": "contacts 联系记录",
    "requests_raised": "requests raised 诉求",
    "requests_resolved": "requests resolved 已解决",
    **{f"households_by_category.{c.value}": f"households: {c.value} {c.label}" for c in Category},
    **{f"households_by_status.{s.value}": f"{s.value} {s.label}" for s in HouseholdStatus},
    **{f"uncovered_by_reason.{r.value}": f"  {_REASON_WORDS[r.value]} {r.label}"
       for r in UncoveredReason},
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
        table.add_row(_LABELS.get(k, k.replace("households_by_category.", "households: ")),
                      f"{v:,}" if isinstance(v, int) else str(v))
    out.print(table)


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
