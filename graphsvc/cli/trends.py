"""``graphsvc trends``: coverage over time (graphsvc.analysis.trends). ``--format json``
prints exactly the body of ``GET /api/v1/trends``; ``--html FILE`` writes its chart page."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from graphsvc.cli.common import (
    Fmt,
    Format,
    TownshipOpt,
    VillageOpt,
    emit_rows,
    fail,
    opened_store,
    parse_date,
)
from graphsvc.config import get_settings
from graphsvc.model import REASONS, TrendStep

STATUSES = ("covered", "stale", "uncovered", *REASONS)
TABLE = ["as_of", "households", "covered", "covered_share", "stale_share", "uncovered_share",
         *REASONS, "focus_households", "focus_covered_share", "focus_uncovered_share"]


def rows(body: dict[str, Any]) -> list[dict[str, Any]]:
    """One flat row per step (for the table and CSV): counts and shares, all then focus."""
    out = []
    for s in body["steps"]:
        row: dict[str, Any] = {"as_of": s["as_of"]}
        for which, prefix in (("all", ""), ("focus", "focus_")):
            b = s[which]
            row[f"{prefix}households"] = b["households"]
            for k in STATUSES:
                row[f"{prefix}{k}"] = b[k] if k in b else b["uncovered_by_reason"][k]
            for k in STATUSES:
                row[f"{prefix}{k}_share"] = b["shares"][k]
        out.append(row)
    return out


def trends_cmd(
    township_id: TownshipOpt = None,
    village_id: VillageOpt = None,
    from_: Annotated[str | None, typer.Option(
        "--from", help="first date, YYYY-MM-DD (default: 12 steps before --to)")] = None,
    to: Annotated[str | None, typer.Option(
        "--to", help="last date, YYYY-MM-DD (default today)")] = None,
    step: Annotated[TrendStep,
                    typer.Option("--step", help="week, month or quarter")] = TrendStep.month,
    fmt: Fmt = Format.table,
    html: Annotated[Path | None, typer.Option(
        "--html", help="also write the chart page to this file (self-contained HTML, nothing "
                       "loaded from the internet)")] = None,
) -> None:
    """Coverage over time: households covered, stale and uncovered by reason (all and focus
    households) on every step from --from to --to, computed for all dates at once."""
    from graphsvc.analysis.trends import trends_body

    last = parse_date(to, "--to")
    first = None if from_ is None else parse_date(from_, "--from")
    rules = get_settings().rules()
    with opened_store() as store:
        try:
            body = trends_body(store, rules, first=first, last=last, step=step.value,
                               township_id=township_id, village_id=village_id)
        except ValueError as exc:
            raise fail(str(exc)) from None
        place = village_id or township_id
        name = None
        if place is not None:
            found = store.fetch_entities([place]).get(place)
            name = found[1].get("name") if found else None
    if html is not None:
        from visual.render import write_page
        from visual.trends import trends_page

        write_page(str(html), trends_page(body, place_name=name, link=lambda view, rid: ""))
    flat = rows(body)
    if fmt is Format.table:  # shares as percentages, for reading
        flat = [{k: (f"{v * 100:.1f}%" if k.endswith("_share") and v is not None else v)
                 for k, v in r.items()} for r in flat]
    emit_rows(body, flat, fmt,
              f"coverage of {name or place or 'the county'} by {step.value}, "
              f"{body['from']} to {body['to']}",
              TABLE if fmt is Format.table else None)
