"""Problems found in a bundle, each tied to a file, a row and a column."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True, slots=True)
class Problem:
    """One error or warning. ``row`` counts the header as row 1; None = the whole file."""

    level: Literal["error", "warning"]
    file: str
    row: int | None
    column: str | None
    message: str

    def where(self) -> str:
        parts = [self.file]
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column:
            parts.append(f"column {self.column}")
        return ", ".join(parts)

    def __str__(self) -> str:
        return f"{self.where()}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "row": self.row, "column": self.column, "message": self.message}


@dataclass(slots=True)
class Report:
    """What an import found and did."""

    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False
    replace: bool = False
    written: bool = False
    unreadable: set[str] = field(default_factory=set)  # bundle files that could not be read

    def error(self, file: str, row: int | None, column: str | None, message: str) -> None:
        self.errors.append(Problem("error", file, row, column, message))

    def warn(self, file: str, row: int | None, column: str | None, message: str) -> None:
        self.warnings.append(Problem("warning", file, row, column, message))

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "dry_run": self.dry_run,
            "replace": self.replace,
            "written": self.written,
            "counts": dict(self.counts),
            "errors": [p.as_dict() for p in self.errors],
            "warnings": [p.as_dict() for p in self.warnings],
        }
