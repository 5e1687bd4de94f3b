"""Problems found in a bundle, each tied to a file, a row and a column.

A report lists a bounded number of problems, so that a bundle with 300,000 bad rows (or a
header of a million unknown columns) cannot make an answer of hundreds of megabytes: at most
``per_kind`` problems of each kind (same level, file, column and message with its quoted
values and numbers left out) and at most ``most`` of each level in all. Every problem is
still counted (``error_count``, ``warning_count``), and what was left out is said per kind
(``omitted``: "... and 299,900 more errors of this kind"). The API keeps the defaults; the
CLI's ``--report FILE`` keeps more (``CLI_PER_KIND``, ``CLI_MOST``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

PER_KIND = 100  # problems listed of each kind (API answers)
MOST = 1000  # problems listed of each level in all (API answers)
CLI_PER_KIND = 10_000  # the same for the CLI's report file
CLI_MOST = 100_000

Level = Literal["error", "warning"]

# what varies between problems of one kind: quoted values ('H001', '2026-13-01') and numbers
_VARYING = re.compile(r"'[^']*'|\d[\d,.]*")


@dataclass(frozen=True, slots=True)
class Problem:
    """One error or warning. ``row`` counts the header as row 1; None = the whole file."""

    level: Level
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
class Omitted:
    """Problems of one kind that were counted but not listed; ``first`` is one that was."""

    first: Problem | None  # None: problems of every kind beyond the report's overall bound
    count: int = 0

    def message(self, most: int) -> str:
        noun: str = self.first.level if self.first else "problem"
        noun += "" if self.count == 1 else "s"
        if self.first is None:
            return (f"... and {self.count:,} more {noun} not listed: a report lists at most "
                    f"{most:,} of each level; fix those listed and check again")
        return (f"... and {self.count:,} more {noun} of this kind, like the one listed at "
                f"{self.first.where()}: {self.first.message}")

    def as_dict(self, level: Level, most: int) -> dict[str, Any]:
        return {"level": level, "file": self.first.file if self.first else None,
                "column": self.first.column if self.first else None, "count": self.count,
                "message": self.message(most)}


GROUP_ROWS = 5  # rows named in a group of problems of one kind


@dataclass(slots=True)
class Group:
    """Every problem of one kind: how many, the first rows, the first one found. A failure
    that hits a whole column (a date format, a number cell) is said once this way."""

    first: Problem
    count: int = 0
    rows: list[int] = field(default_factory=list)  # the first GROUP_ROWS rows, in order found

    def rows_text(self) -> str:
        more = ", …" if self.count > len(self.rows) else ""
        return ", ".join(str(r) for r in self.rows) + more

    def __str__(self) -> str:
        if self.count == 1 or not self.rows:
            return str(self.first) if self.count == 1 else \
                f"{self.first} ({self.count:,} times)"
        where = ", ".join(x for x in (self.first.file, self.first.column and
                                      f"column {self.first.column}") if x)
        return (f"{where}: {self.count:,} rows (rows {self.rows_text()}), like row "
                f"{self.first.row}: {self.first.message}")

    def as_dict(self) -> dict[str, Any]:
        return {"level": self.first.level, "file": self.first.file,
                "column": self.first.column, "count": self.count, "rows": list(self.rows),
                "message": self.first.message}


@dataclass(slots=True)
class Report:
    """What an import found and did: the problems listed (bounded, see the module) and the
    number found of each level."""

    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False
    replace: bool = False
    written: bool = False
    unreadable: set[str] = field(default_factory=set)  # bundle files that could not be read
    per_kind: int = PER_KIND
    most: int = MOST
    error_count: int = 0
    warning_count: int = 0
    # kind -> problems of it listed so far, or what was left out of it
    _listed: dict[tuple[str, str, str | None, str], int] = field(default_factory=dict)
    _omitted: dict[tuple[str, str, str | None, str], Omitted] = field(default_factory=dict)
    _groups: dict[tuple[str, str, str | None, str], Group] = field(default_factory=dict)

    def error(self, file: str, row: int | None, column: str | None, message: str) -> None:
        self.error_count += 1
        self._add(self.errors, Problem("error", file, row, column, message))

    def warn(self, file: str, row: int | None, column: str | None, message: str) -> None:
        self.warning_count += 1
        self._add(self.warnings, Problem("warning", file, row, column, message))

    def _add(self, listed: list[Problem], p: Problem) -> None:
        kind = (p.level, p.file, p.column, _VARYING.sub("…", p.message))
        group = self._groups.get(kind)
        if group is None:
            group = self._groups[kind] = Group(p)
        group.count += 1
        if p.row is not None and len(group.rows) < GROUP_ROWS:
            group.rows.append(p.row)
        n = self._listed.get(kind)
        if n is not None and n >= self.per_kind:
            self._omitted[kind].count += 1
        elif len(listed) >= self.most:
            # kinds are not told apart any more: their number would grow without bound
            other = self._omitted.setdefault((p.level, "", None, ""), Omitted(None))
            other.count += 1
        else:
            listed.append(p)
            self._listed[kind] = (n or 0) + 1
            if n is None:
                self._omitted[kind] = Omitted(p)

    @property
    def ok(self) -> bool:
        return not self.error_count

    def omitted(self) -> list[dict[str, Any]]:
        """What was found but not listed, per kind: errors first, in the order first seen."""
        out = [(kind[0] != "error", o.as_dict(kind[0], self.most))  # type: ignore[arg-type]
               for kind, o in self._omitted.items() if o.count]
        return [d for _, d in sorted(out, key=lambda x: x[0])]

    def groups(self, level: Level) -> list[Group]:
        """The problems of ``level``, one group per kind, in the order first seen."""
        return [g for g in self._groups.values() if g.first.level == level]

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "dry_run": self.dry_run,
            "replace": self.replace,
            "written": self.written,
            "counts": dict(self.counts),
            "errors": [p.as_dict() for p in self.errors],
            "warnings": [p.as_dict() for p in self.warnings],
            "error_count": self.error_count,
            "warning_count": self.warning_count,
            "omitted": self.omitted(),
            "groups": [g.as_dict() for level in ("error", "warning")
                       for g in self.groups(level)],
        }
