"""The one settings object, read from ``GRAPHSVC_*`` environment variables."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from graphsvc.rules import RuleSettings


_ORIGIN = re.compile(r"^https?://[^/?#@\s]+$")


class Settings(BaseSettings):
    """Every setting graphsvc reads. Names are fixed by ``spec/API.md``."""

    model_config = SettingsConfigDict(env_prefix="GRAPHSVC_", extra="ignore")

    neo4j_uri: str | None = Field(
        default=None, description="bolt://, neo4j:// or neo4j+s:// URI; unset = embedded store"
    )
    neo4j_user: str = "neo4j"
    neo4j_password: str | None = None
    neo4j_database: str | None = None
    data_dir: Path = Path("./graphsvc-data")

    min_members_per_delegate: int = Field(default=10, ge=0)
    households_per_member: int = Field(default=3, ge=0)
    min_delegates_per_committee_member: int = Field(default=1, ge=0)
    stale_after_days: int = Field(default=90, ge=0)
    escalate_after_days: int = Field(
        default=14, ge=1,
        description="an open request goes up one level of the chain after this many days")
    repair_cap: int = Field(
        default=5, ge=1, description="repair plans never give a member more households than this")

    auth_failure_limit: int = Field(
        default=10, ge=1, description="wrong API keys one address may send within a minute "
        "before every attempt from it is refused (429) for a while, 1 minute and doubling")

    read_concurrency: int = Field(
        default=8, ge=0, description="reads one worker runs at once; more wait their turn, "
        "writes never wait for them (0: no limit)")

    import_batch_size: int = Field(default=10_000, ge=1, description="rows per UNWIND batch")
    max_upload_bytes: int = Field(
        default=50 * 1024 * 1024, ge=1,
        description="most bytes of a bundle upload, and of a repair plan sent to be applied")
    max_body_bytes: int = Field(
        default=1024 * 1024, ge=1, description="most bytes of any other request body (a JSON "
                                               "write: one record is a few hundred bytes)")
    max_unpacked_bytes: int = Field(
        default=1024 * 1024 * 1024, ge=1, description="zip/xlsx: most bytes a bundle may unpack to"
    )

    public_origin: str | None = Field(
        default=None, description="the address browsers open graphsvc at (scheme://host[:port]; "
        "several separated by commas), when a reverse proxy changes the Host header; unset: the "
        "diagram pages' forms are trusted when sent from the host the request names")

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


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
