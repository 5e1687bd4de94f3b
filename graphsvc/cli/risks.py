"""``graphsvc risks people``: single points of failure (graphsvc.analysis.risks)."""

from __future__ import annotations

from typing import Annotated

import typer

from graphsvc.cli.common import (
    AsOf,
    Fmt,
    Format,
    LimitOpt,
    OffsetOpt,
    TownshipOpt,
    emit_rows,
    opened_store,
    settings_and_day,
)

risks = typer.Typer(help="Single points of failure: who would leave households uncovered "
                         "by leaving.", no_args_is_help=True)


@risks.command("people")
def risks_people(
    township_id: TownshipOpt = None, as_of: AsOf = None,
    focus_weight: Annotated[int, typer.Option(
        "--focus-weight", min=1, max=100,
        help="a focus household counts this many times an ordinary one")] = 3,
    limit: LimitOpt = 100, offset: OffsetOpt = 0, fmt: Fmt = Format.table,
) -> None:
    """People ranked by the households that depend on them alone (focus households weigh
    more): everyone's impact at once, as `audit impact` gives it for one person."""
    from graphsvc.analysis.risks import risks_body

    rules, day = settings_and_day(as_of)
    with opened_store() as store:
        body = risks_body(store, day, rules, township_id=township_id,
                          focus_weight=focus_weight, limit=limit, offset=offset)
    emit_rows(body, body["items"], fmt,
              f"single points of failure on {day.isoformat()}"
              + (f", township {township_id}" if township_id else ""),
              ["person_id", "name", "roles", "township_id", "households_lost",
               "focus_households_lost", "score"])
