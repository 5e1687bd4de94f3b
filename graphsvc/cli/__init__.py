"""The ``graphsvc`` command line (names fixed by ``spec/API.md``): builds the Typer ``app`` from
the command modules of this package, which share ``graphsvc.cli.common``.

The command modules import the analyses, the diagrams, the generator, uvicorn and the Neo4j
driver inside the commands that use them, so that ``graphsvc --help`` and the other commands
do not load them; none of those modules imports ``graphsvc.cli``, so no cycle hides there."""

from __future__ import annotations

from typing import Annotated

import typer

import graphsvc
from graphsvc.cli import audit, data, repair, requests, risks, serve, trends, visualize
from graphsvc.cli.common import EXIT_CODES

app = typer.Typer(
    name="graphsvc",
    help=(
        "Who supports whom in a county: the three-contact chain (committee member -> delegate -> "
        "member -> household) and unit-village pairing, kept in Neo4j or in an embedded store.\n\n"
        "The store is Neo4j when GRAPHSVC_NEO4J_URI is set (with GRAPHSVC_NEO4J_USER, "
        "GRAPHSVC_NEO4J_PASSWORD), else the embedded store in GRAPHSVC_DATA_DIR "
        "(default ./graphsvc-data)."
    ),
    epilog=EXIT_CODES,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"graphsvc {graphsvc.__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True,
        help="print graphsvc's version and stop")] = False,
) -> None:
    """Who supports whom in a county (see the commands below)."""

# `graphsvc --help` lists commands, then groups, each in the order added here
app.command("import")(data.import_cmd)
app.command("export")(data.export_cmd)
app.command("generate")(data.generate_cmd)
app.command("summary")(data.summary_cmd)
app.command("refresh")(data.refresh_cmd)
app.command("serve")(serve.serve)
app.command("audit-log")(serve.audit_log)
app.command("visualize")(visualize.visualize)
app.command("trends")(trends.trends_cmd)
app.add_typer(audit.audit, name="audit")
app.add_typer(serve.keys_app, name="keys")
app.add_typer(risks.risks, name="risks")
app.add_typer(repair.repair, name="repair")
app.add_typer(requests.requests_app, name="requests")


def main() -> None:  # pragma: no cover - console entry
    app()
