"""Every error graphsvc raises on purpose.

::

    GraphsvcError
     ├── BundleError          a bundle could not be read or is invalid (carries a Report)
     ├── StoreError           the store failed
     │    └── StoreUnavailable   the store cannot be reached (HTTP 503)
     ├── NotFound             an id names nothing (HTTP 404)
     └── ConfigError          a setting is missing or wrong

Driver errors (neo4j, sqlite3) are translated into these at the store boundary,
so nothing above the stores ever sees a driver exception.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from graphsvc.bundle.report import Report


class GraphsvcError(Exception):
    """Base of all graphsvc errors."""


class BundleError(GraphsvcError):
    """The bundle was refused; ``report`` lists every problem found."""

    def __init__(self, report: Report) -> None:
        self.report = report
        super().__init__(f"the bundle has {report.error_count:,} error(s); nothing was written")


class StoreError(GraphsvcError):
    """The store failed while doing what was asked."""


class StoreUnavailable(StoreError):
    """The store cannot be reached (server down, wrong address or password)."""


class NotFound(GraphsvcError):
    """An id names no record."""


class ConfigError(GraphsvcError):
    """A setting is missing or invalid."""


class VersionConflict(GraphsvcError):
    """A change was made against a version of a record that is no longer the stored one."""

    def __init__(self, record_id: str, current: str | None) -> None:
        self.record_id, self.current = record_id, current
        super().__init__(
            f"'{record_id}' was changed by someone else since you read it"
            + ("" if current is not None else " (it no longer exists)")
            + "; read it again (GET) and send your change with the new ETag in If-Match")
