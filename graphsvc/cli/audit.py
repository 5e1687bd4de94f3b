"""``graphsvc audit``: who is uncovered, and why (households, delegates, members, committee
members, pairings, and the impact of one person leaving)."""

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
    VillageOpt,
    emit_rows,
    fail,
    opened_store,
    parse_date,
    settings_and_day,
)
from graphsvc.errors import NotFound
from graphsvc.model import DelegateStatus, HouseholdStatus, MemberProblem, UncoveredReason
from graphsvc.service import (
    committee_members_body,
    delegates_body,
    households_body,
    impact_body,
    members_body,
    pairings_body,
)

audit = typer.Typer(help="Audit the chains and pairings: who is uncovered, and why.",
                    no_args_is_help=True)


@audit.command("households")
def audit_households(
    status: Annotated[HouseholdStatus | None,
                      typer.Option(help="only households with this status")] = None,
    reason: Annotated[UncoveredReason | None, typer.Option(
        help="only uncovered households with this reason")] = None,
    township_id: TownshipOpt = None, village_id: VillageOpt = None,
    focus_only: Annotated[bool, typer.Option(
        "--focus-only",
        help="only focus households (military/martyr, extremely poor, empty-nest "
             "elderly)")] = False,
    as_of: AsOf = None, fmt: Fmt = Format.table, limit: LimitOpt = None, offset: OffsetOpt = 0,
) -> None:
    """Every household's status (covered, stale, uncovered and why), focus households first."""
    rules, day = settings_and_day(as_of)
    with opened_store() as store:
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
    status: Annotated[DelegateStatus | None, typer.Option(help="ok or gap")] = None,
    as_of: AsOf = None, fmt: Fmt = Format.table, limit: LimitOpt = None, offset: OffsetOpt = 0,
) -> None:
    """Each active delegate: committee members above, members below, households reached, gaps."""
    rules, day = settings_and_day(as_of)
    with opened_store() as store:
        body = delegates_body(store, day, rules, township_id=township_id, village_id=village_id,
                              status=status.value if status else None, limit=limit, offset=offset)
    emit_rows(body, body["items"], fmt, f"delegates on {day.isoformat()}",
              ["delegate_id", "name", "township_id", "committee_member_ids", "member_count",
               "households_reached", "focus_households_reached", "members_short", "problems",
               "status"])


@audit.command("members")
def audit_members(
    township_id: TownshipOpt = None, village_id: VillageOpt = None,
    problem: Annotated[MemberProblem | None, typer.Option(
        help="only members with this problem")] = None,
    as_of: AsOf = None, fmt: Fmt = Format.table, limit: LimitOpt = None, offset: OffsetOpt = 0,
) -> None:
    """Each active member in the chain: households they liaise with, delegates above, gaps."""
    rules, day = settings_and_day(as_of)
    with opened_store() as store:
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
    rules, day = settings_and_day(as_of)
    with opened_store() as store:
        body = committee_members_body(store, day, rules, township_id=township_id,
                                      village_id=village_id, limit=limit, offset=offset)
    emit_rows(body, body["items"], fmt, f"committee members on {day.isoformat()}",
              ["committee_member_id", "name", "delegate_ids", "delegate_count",
               "households_reached", "problems"])


@audit.command("pairings")
def audit_pairings(township_id: TownshipOpt = None, as_of: AsOf = None,
                   fmt: Fmt = Format.table) -> None:
    """Villages that need a paired unit and have none, and units paired with no village."""
    day = parse_date(as_of, "--as-of")
    with opened_store() as store:
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
    rules, day = settings_and_day(as_of)
    with opened_store() as store:
        try:
            body = impact_body(store, person_id, day, rules)
        except NotFound as exc:
            raise fail(str(exc), 1) from None
    emit_rows(body, body["items"], fmt, f"if {person_id} left on {day.isoformat()}",
              ["household_id", "reason"])
