"""``graphsvc visualize``: write a diagram page to a file."""

from __future__ import annotations

import time
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from graphsvc.cli.common import AsOfDate, err, fail, opened_store, settings_and_day
from graphsvc.errors import NotFound


class View(str, Enum):
    chain = "chain"
    delegate = "delegate"
    member = "member"
    household = "household"
    pairings = "pairings"
    township = "township"


def visualize(
    view: Annotated[View, typer.Argument(help="chain (committee member id), delegate (delegate "
                                         "id), member (Party member id), household (household "
                                         "id), pairings or township (township id; none: the "
                                         "county)")],
    rid: Annotated[str | None, typer.Argument(metavar="[ID]", help="whose diagram")] = None,
    output: Annotated[Path, typer.Option("-o", "--output", help="the HTML file to write")
                      ] = Path("diagram.html"),
    as_of: AsOfDate = None,
    mask: Annotated[bool, typer.Option("--mask", help="mask households' names and the texts "
                                       "of their requests")] = False,
    plan: Annotated[bool, typer.Option("--plan", help="township view: open with the repair "
                                       "plan shown (proposed liaisons dashed, the households "
                                       "it would cover and those it cannot); a checkbox on the "
                                       "page switches it off and on")] = False,
    cap: Annotated[int | None, typer.Option("--cap", min=1, max=100, help="township view: "
                                            "most households per member after the plan "
                                            "(default GRAPHSVC_REPAIR_CAP, 5)")] = None,
) -> None:
    """Write a diagram page (self-contained HTML, UTF-8, nothing loaded from the internet).

    Clicking a node opens the page of that node written beside it (VIEW-ID.html). The
    household, member and delegate views show the households' open requests; a township's
    overview carries its repair plan (off until switched on, or on with --plan)."""
    from visual.render import file_link, write_page
    from visual.views import NEEDS_ID, VIEWS

    if view.value in NEEDS_ID and not rid:
        raise fail(f"the {view.value} view needs an id")
    if (plan or cap is not None) and not (view is View.township and rid):
        raise fail("--plan and --cap are for a township's overview: "
                   "graphsvc visualize township TOWNSHIP_ID --plan")
    rules, day = settings_and_day(as_of)
    with opened_store() as store:
        started = time.perf_counter()
        try:
            args = (rid,) if rid else ()
            extra = {"plan": True if plan else None, "cap": cap} if view is View.township and rid \
                else {}
            page = VIEWS[view.value](store, *args, as_of=day, rules=rules, mask=mask,
                                     link=file_link, **extra)
        except NotFound as exc:
            raise fail(str(exc), 1) from None
        took = time.perf_counter() - started
    write_page(str(output), page)
    err.print(f"wrote {escape(str(output))} ({len(page.encode('utf-8')) // 1024} KiB, "
              f"built in {took * 1000:.0f} ms)")
