"""CLI commands of the analyses (graphsvc.analysis): each module adds its own commands."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the analyses' commands to ``graphsvc``."""
    for name in ("risks", "repair", "requests", "trends"):
        module = __import__(f"graphsvc.cli_{name}", fromlist=["register"])
        module.register(app)
