"""``graphsvc requests open|overdue|summary``: requests travelling up the chain
(graphsvc.analysis.requests). ``--format json`` prints exactly the HTTP API's body (as an
admin key sees it: request texts unmasked)."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from graphsvc.keys import KeyStore


class Fmt(str, Enum):
    """``graphsvc.cli.Format`` (not imported here: graphsvc.cli imports this module)."""

    table = "table"
    json = "json"
    csv = "csv"


FmtOpt = Annotated[Fmt, typer.Option("--format", help="table (for reading), json (exactly the "
                                     "API's body) or csv (for Excel)")]

requests_app = typer.Typer(help="Households' requests travelling up the chain: who holds "
                                "them, which are overdue, what was resolved by whom.",
                           no_args_is_help=True)

COLUMNS = ["household_id", "township_id", "request", "raised", "age_days", "due_level", "level",
           "routed_to", "chain_broken", "overdue", "request_id"]


def _escalate() -> int:
    from graphsvc.config import get_settings

    return get_settings().escalate_after_days


@requests_app.command("open")
def open_cmd(
    person_id: Annotated[str, typer.Argument(help="a member, delegate or committee member")],
    as_of: Annotated[str | None, typer.Option("--as-of", help="YYYY-MM-DD (default today)")] = None,
    fmt: FmtOpt = Fmt.table,
    limit: Annotated[int | None, typer.Option(min=1, help="at most this many rows (default all)")] = None,
    offset: Annotated[int, typer.Option(min=0, help="skip this many rows first")] = 0,
) -> None:
    """The open requests this person holds on the date (as a member, delegate or committee
    member of the household's chain as it stands that day), oldest first."""
    from graphsvc.analysis.requests import keyed, open_body
    from graphsvc.cli import _fail, _settings_and_day, _store, emit_rows
    from graphsvc.errors import NotFound

    form = _format(fmt)
    rules, day = _settings_and_day(as_of)
    with _store() as store:
        try:
            body = open_body(store, person_id, day, rules, escalate_after_days=_escalate(),
                             limit=limit, offset=offset)
        except NotFound as exc:
            raise _fail(str(exc), 1) from None
    body = keyed(body, _keys())
    emit_rows(body, body["items"], form, f"open requests of {person_id} on {day.isoformat()}",
              COLUMNS)


@requests_app.command("overdue")
def overdue_cmd(
    township_id: Annotated[str | None, typer.Option("--township-id", help="only this township")] = None,
    village_id: Annotated[str | None, typer.Option("--village-id", help="only this village")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="YYYY-MM-DD (default today)")] = None,
    fmt: FmtOpt = Fmt.table,
    limit: Annotated[int | None, typer.Option(min=1, help="at most this many rows (default all)")] = None,
    offset: Annotated[int, typer.Option(min=0, help="skip this many rows first")] = 0,
) -> None:
    """Open requests that are overdue (open for GRAPHSVC_ESCALATE_AFTER_DAYS or more) or that
    nobody active can take, oldest first."""
    from graphsvc.analysis.requests import keyed, overdue_body
    from graphsvc.cli import _settings_and_day, _store, emit_rows

    form = _format(fmt)
    rules, day = _settings_and_day(as_of)
    with _store() as store:
        body = overdue_body(store, day, rules, escalate_after_days=_escalate(),
                            township_id=township_id, village_id=village_id, limit=limit,
                            offset=offset)
    body = keyed(body, _keys())
    emit_rows(body, body["items"], form, f"overdue requests on {day.isoformat()}", COLUMNS)


@requests_app.command("summary")
def summary_cmd(
    township_id: Annotated[str | None, typer.Option("--township-id", help="only this township")] = None,
    village_id: Annotated[str | None, typer.Option("--village-id", help="only this village")] = None,
    from_: Annotated[str | None, typer.Option("--from", help="first day, YYYY-MM-DD (default: from the first request)")] = None,
    to: Annotated[str | None, typer.Option("--to", help="last day, YYYY-MM-DD (default today)")] = None,
    within_days: Annotated[int | None, typer.Option("--within-days", min=0, help="N of 'resolved within N days' (default GRAPHSVC_ESCALATE_AFTER_DAYS)")] = None,
    fmt: FmtOpt = Fmt.table,
) -> None:
    """Requests raised and resolved in the period, how fast and by which level (member,
    delegate, committee member, supporting cadre, other), and those open at its end."""
    from graphsvc.analysis.requests import summary_body
    from graphsvc.cli import _parse_date, _store, emit

    form = _format(fmt)
    last = _parse_date(to, "--to")
    first = None if from_ is None else _parse_date(from_, "--from")
    if first is not None and first > last:
        raise typer.BadParameter(f"{first.isoformat()} is after --to {last.isoformat()}",
                                 param_hint="--from")
    with _store() as store:
        body = summary_body(store, first, last, escalate_after_days=_escalate(),
                            within_days=within_days, township_id=township_id,
                            village_id=village_id)
    where = f"township {township_id}" if township_id else (
        f"village {village_id}" if village_id else "the county")
    emit(body, form, f"requests of {where}, {body['from'] or 'ever'} to {body['to']}")


def _keys() -> KeyStore:
    """The install's key database: its secret keys request ids as the API's are."""
    from graphsvc.config import get_settings
    from graphsvc.keys import KeyStore

    return KeyStore(get_settings().data_dir)


def _format(fmt: Fmt) -> Any:
    from graphsvc.cli import Format

    return Format(fmt.value)


def register(app: typer.Typer) -> None:
    """Add ``requests`` to ``graphsvc``."""
    app.add_typer(requests_app, name="requests")
