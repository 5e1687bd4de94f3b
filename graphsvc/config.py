"""The one settings object, read from ``GRAPHSVC_*`` environment variables."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from graphsvc.rules import RuleSettings


_ORIGIN = re.compile(r"^https?://[^/?#@\s]+$")


class Settings(BaseSettings):
    """Every setting graphsvc reads. Names are fixed by ``spec/API.md``."""

    model_config = SettingsConfigDict(env_prefix="GRAPHSVC_", extra="ignore")

    neo4j_uri: str | None = Field(
        default=None, description="when set (`bolt://…`, `neo4j://…`, `neo4j+s://…`), Neo4j is "
        "the store; when unset, the embedded store")
    neo4j_user: str = Field(default="neo4j", description="the Neo4j user")
    neo4j_password: str | None = Field(default=None, description="the Neo4j user's password")
    neo4j_database: str | None = Field(
        default=None, description="the Neo4j database (unset: the server's default database)")
    data_dir: Path = Field(
        default=Path("./graphsvc-data"), description="the embedded store's folder; on either "
        "store also the API keys and `derived/`, the county-wide results the server's workers "
        "share ([docs/performance.md](docs/performance.md))")

    min_members_per_delegate: int = Field(
        default=10, ge=0, description="coverage rule: the members a delegate liaises with at "
        "least")
    households_per_member: int = Field(
        default=3, ge=0, description="coverage rule: the households a member liaises with")
    min_delegates_per_committee_member: int = Field(
        default=1, ge=0, description="coverage rule: the delegates a committee member liaises "
        "with at least")
    stale_after_days: int = Field(
        default=90, ge=0, description="coverage rule: a liaison with no contact for this many "
        "days is stale")
    escalate_after_days: int = Field(
        default=14, ge=1,
        description="an open request goes up one level of the chain after this many days")
    repair_cap: int = Field(
        default=5, ge=1, description="repair plans never give a member more households than this")

    workers: int = Field(
        default=1, ge=1, le=64, description="worker processes `graphsvc serve` starts when "
        "`--workers` is not given; two use both cores of a two-core server "
        "([docs/performance.md](docs/performance.md))")
    log_format: Literal["text", "json"] = Field(
        default="text", description="the server's log: `text` lines, or `json`, one JSON object "
        "per line (time, level, logger, message, request_id; client, method, path and status "
        "for an access line); every line has the id of its request, as sent back in "
        "`X-Request-ID`")
    auth_failure_limit: int = Field(
        default=10, ge=1, description="wrong API keys one address may send (API or "
        "`/visual/login`) within a minute; after that every attempt from it is answered 429 "
        "with `Retry-After` for 1 minute, doubling each time, at most a day")
    read_concurrency: int = Field(
        default=8, ge=0, description="reads one server worker runs at once; more wait their "
        "turn, in order, while writes, `/health` and `/ready` never wait, so a visit recorded "
        "on a phone is not held up by county-wide lists "
        "([docs/performance.md](docs/performance.md)); 0: no limit")

    import_batch_size: int = Field(default=10_000, ge=1,
                                   description="rows per Neo4j `UNWIND` batch of an import")
    max_upload_bytes: int = Field(
        default=50 * 1024 * 1024, ge=1,
        description="most bytes of a bundle upload, and of a repair plan sent to "
        "`POST /api/v1/repair-plans/apply`; more is refused 413")
    max_body_bytes: int = Field(
        default=1024 * 1024, ge=1, description="most bytes of any other request body, with or "
        "without `Content-Length` (a single change is a few hundred bytes); more is refused 413")
    max_unpacked_bytes: int = Field(
        default=1024 * 1024 * 1024, ge=1,
        description="most bytes a zip or workbook may unpack to")

    public_origin: str | None = Field(
        default=None, description="the address browsers open graphsvc at, e.g. "
        "`https://graphsvc.county.example` (several: comma-separated), when a reverse proxy "
        "changes the `Host` header; the diagram pages' login and logout forms are accepted only "
        "from it (unset: only from the host the request names)")

    @field_validator("public_origin")
    @classmethod
    def _origins(cls, value: str | None) -> str | None:
        """Each origin as a browser writes it in its Origin header: scheme://host[:port]."""
        if value is None or not value.strip():
            return None
        out = []
        for part in value.split(","):
            text = part.strip().rstrip("/").lower()
            if not _ORIGIN.match(text):
                raise ValueError(f"'{part.strip()}' is not an address like https://graphsvc.example"
                                 " or http://10.0.0.5:8000 (a scheme and a host, no path)")
            out.append(text)
        return ",".join(out)

    def rules(self) -> RuleSettings:
        """The rule settings as the rules functions take them."""
        from graphsvc.rules import RuleSettings

        return RuleSettings(
            min_members_per_delegate=self.min_members_per_delegate,
            households_per_member=self.households_per_member,
            min_delegates_per_committee_member=self.min_delegates_per_committee_member,
            stale_after_days=self.stale_after_days,
        )

    @property
    def store_kind(self) -> str:
        return "neo4j" if self.neo4j_uri else "embedded"


def _default(name: str, value: object) -> str:
    if value is None:
        return "unset"
    if isinstance(value, Path) and not value.is_absolute():
        return f"`./{value}`"
    if name.endswith("_bytes") and isinstance(value, int):
        for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
            if value % size == 0:
                return f"{value // size} {unit}"
    return f"`{value}`"


def settings_markdown() -> str:
    """The README's table of every setting, generated from ``Settings`` (a test holds the
    README to it; ``python -m graphsvc.config`` prints it)."""
    lines = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for name, field in Settings.model_fields.items():
        lines.append(f"| `GRAPHSVC_{name.upper()}` | {_default(name, field.default)} | "
                     f"{field.description} |")
    return "\n".join(lines) + "\n"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()


if __name__ == "__main__":  # pragma: no cover - prints the README's table
    print(settings_markdown(), end="")
