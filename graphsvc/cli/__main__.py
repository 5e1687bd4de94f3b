"""``python -m graphsvc.cli`` is the ``graphsvc`` command too (as when the CLI was one module)."""

from graphsvc.cli import app

app()
