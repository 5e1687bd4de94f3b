"""``graphsvc repair plan``: who should take over (graphsvc.analysis.repair)."""

from __future__ import annotations

from typing import Annotated

import typer

from graphsvc.bundle.report import Report
from graphsvc.cli.common import (
    AsOf,
    Fmt,
    Format,
    TownshipOpt,
    emit_rows,
    err,
    fail,
    opened_store,
    print_report,
    settings_and_day,
)
from graphsvc.config import get_settings
from graphsvc.errors import NotFound

repair = typer.Typer(help="Repair plans: who should take over uncovered households, members "
                          "without a delegate and delegates without a committee member.",
                     no_args_is_help=True)


@repair.command("plan")
def repair_plan(
    township_id: TownshipOpt = None,
    person_id: Annotated[str | None, typer.Option(
        "--person-id", help="plan for the households this person's leaving would orphan")] = None,
    cap: Annotated[int | None, typer.Option(
        min=1, max=100, help="most households a member may have after the plan "
                             "(default GRAPHSVC_REPAIR_CAP, 5)")] = None,
    apply: Annotated[bool, typer.Option(
        "--apply", help="write every proposed liaison (since the --as-of day) in one import, "
                        "recorded in the audit log")] = False,
    as_of: AsOf = None, fmt: Fmt = Format.table,
) -> None:
    """Propose who takes over (same village first, then the township; the least loaded
    first; never above the cap; focus households first), solved as a min-cost flow; with
    --apply, write it."""
    from graphsvc.analysis.repair import apply_items, nothing_applied, plan

    rules, day = settings_and_day(as_of)
    with opened_store() as store:
        try:
            body = plan(store, day, rules, township_id=township_id, person_id=person_id,
                        cap=cap or get_settings().repair_cap)
        except NotFound as exc:
            raise fail(str(exc), 1) from None
        report: Report | None = None
        written: list[dict[str, str]] = []
        if apply and body["items"]:
            report, written = apply_items(store, body["items"], day)
    where = f"township {township_id}" if township_id else "the county"
    title = (f"repair plan for {where} on {day.isoformat()}"
             + (f", if {person_id} left" if person_id else ""))
    emit_rows(body, body["items"], fmt, title,
              ["kind", "from_id", "to_id", "township_id", "cost", "reason"])
    if fmt is Format.table:
        h = body["households"]
        err.print(f"households: {h['targeted']} to repair, {h['covered_by_plan']} covered by "
                  f"the plan, {h['unassigned']} left")
        for u in body["unassigned"]:
            err.print(f"  unassigned {u['household_id']}: {u['why']}")
        for u in body["unassigned_members"]:
            err.print(f"  no delegate for member {u['member_id']}: {u['why']}")
        for u in body["unassigned_delegates"]:
            err.print(f"  no committee member for delegate {u['delegate_id']}: {u['why']}")
    if report is not None:
        print_report(report, 50)
        if not report.ok:
            raise fail("the plan could not be applied; nothing was written", 1)
        if not written:
            raise fail(nothing_applied(body["items"], day), 1)
        err.print(f"applied: {len(written)} liaisons written, counting from {day.isoformat()}")
    elif apply:
        err.print("nothing to apply")
