"""CLI commands of graphsvc.analysis.risks (being built: see issue 6)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this analysis' commands to ``graphsvc``."""
