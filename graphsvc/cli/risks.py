"""CLI commands of graphsvc.analysis.risks: ``graphsvc risks people``."""


from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add ``graphsvc risks …`` to ``graphsvc``."""
    from graphsvc.cli import AsOf, Fmt, Format, LimitOpt, OffsetOpt, TownshipOpt

    risks = typer.Typer(help="Single points of failure: who would leave households uncovered "
                             "by leaving.", no_args_is_help=True)
    app.add_typer(risks, name="risks")

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
        from graphsvc.cli import _settings_and_day, _store, emit_rows

        rules, day = _settings_and_day(as_of)
        with _store() as store:
            body = risks_body(store, day, rules, township_id=township_id,
                              focus_weight=focus_weight, limit=limit, offset=offset)
        emit_rows(body, body["items"], fmt,
                  f"single points of failure on {day.isoformat()}"
                  + (f", township {township_id}" if township_id else ""),
                  ["person_id", "name", "roles", "township_id", "households_lost",
                   "focus_households_lost", "score"])

