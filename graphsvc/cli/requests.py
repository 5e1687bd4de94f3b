"""``graphsvc requests open|overdue|summary``: requests travelling up the chain
(graphsvc.analysis.requests). ``--format json`` prints exactly the HTTP API's body (as an
admin key sees it: request texts unmasked)."""

from __future__ import annotations

from typing import Annotated

import typer

from graphsvc.cli.common import (
    AsOfDate,
    Fmt,
    Format,
    LimitOpt,
    OffsetOpt,
    TownshipOpt,
    VillageOpt,
    emit,
    emit_rows,
    fail,
    key_store,
    opened_store,
    parse_date,
    settings_and_day,
)
from graphsvc.config import get_settings
from graphsvc.errors import NotFound

requests_app = typer.Typer(help="Households' requests travelling up the chain: who holds "
                                "them, which are overdue, what was resolved by whom.",
                           no_args_is_help=True)

COLUMNS = ["household_id", "township_id", "request", "raised", "age_days", "due_level", "level",
           "routed_to", "chain_broken", "overdue", "request_id"]


def _escalate() -> int:
    return get_settings().escalate_after_days


@requests_app.command("open")
def open_cmd(
    person_id: Annotated[str, typer.Argument(help="a member, delegate or committee member")],
    as_of: AsOfDate = None,
    fmt: Fmt = Format.table,
    limit: LimitOpt = None,
    offset: OffsetOpt = 0,
) -> None:
    """The open requests this person holds on the date (as a member, delegate or committee
    member of the household's chain as it stands that day), oldest first."""
    from graphsvc.analysis.requests import keyed, open_body

    rules, day = settings_and_day(as_of)
    with opened_store() as store:
        try:
            body = open_body(store, person_id, day, rules, escalate_after_days=_escalate(),
                             limit=limit, offset=offset)
        except NotFound as exc:
            raise fail(str(exc), 1) from None
    # the install's secret keys request ids as the API's are
    body = keyed(body, key_store())
    emit_rows(body, body["items"], fmt, f"open requests of {person_id} on {day.isoformat()}",
              COLUMNS)


@requests_app.command("overdue")
def overdue_cmd(
    township_id: TownshipOpt = None,
    village_id: VillageOpt = None,
    as_of: AsOfDate = None,
    fmt: Fmt = Format.table,
    limit: LimitOpt = None,
    offset: OffsetOpt = 0,
) -> None:
    """Open requests that are overdue (open for GRAPHSVC_ESCALATE_AFTER_DAYS or more) or that
    nobody active can take, oldest first."""
    from graphsvc.analysis.requests import keyed, overdue_body

    rules, day = settings_and_day(as_of)
    with opened_store() as store:
        body = overdue_body(store, day, rules, escalate_after_days=_escalate(),
                            township_id=township_id, village_id=village_id, limit=limit,
                            offset=offset)
    body = keyed(body, key_store())
    emit_rows(body, body["items"], fmt, f"overdue requests on {day.isoformat()}", COLUMNS)


@requests_app.command("summary")
def summary_cmd(
    township_id: TownshipOpt = None,
    village_id: VillageOpt = None,
    from_: Annotated[str | None, typer.Option(
        "--from", help="first day, YYYY-MM-DD (default: from the first request)")] = None,
    to: Annotated[str | None, typer.Option(
        "--to", help="last day, YYYY-MM-DD (default today)")] = None,
    within_days: Annotated[int | None, typer.Option(
        "--within-days", min=0,
        help="N of 'resolved within N days' (default GRAPHSVC_ESCALATE_AFTER_DAYS)")] = None,
    fmt: Fmt = Format.table,
) -> None:
    """Requests raised and resolved in the period, how fast and by which level (member,
    delegate, committee member, supporting cadre, other), and those open at its end."""
    from graphsvc.analysis.requests import summary_body

    last = parse_date(to, "--to")
    first = None if from_ is None else parse_date(from_, "--from")
    if first is not None and first > last:
        raise typer.BadParameter(f"{first.isoformat()} is after --to {last.isoformat()}",
                                 param_hint="--from")
    with opened_store() as store:
        body = summary_body(store, first, last, escalate_after_days=_escalate(),
                            within_days=within_days, township_id=township_id,
                            village_id=village_id)
    where = f"township {township_id}" if township_id else (
        f"village {village_id}" if village_id else "the county")
    emit(body, fmt, f"requests of {where}, {body['from'] or 'ever'} to {body['to']}")
