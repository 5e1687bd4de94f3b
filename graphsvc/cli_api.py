"""``graphsvc serve`` and ``graphsvc keys``: the commands of the HTTP API."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the API's commands to the ``graphsvc`` command."""
