"""Analytics settings: no PostgreSQL of its own; a DuckDB file and the NATS streams it lands."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from shared.settings import REPO_ROOT, BaseServiceSettings


class AnalyticsSettings(BaseServiceSettings):
    service_name: str = "analytics"
    port: int = 8105
    database_url: str = Field(default="", description="unused: analytics keeps its tables in DuckDB")
    audit_signing_key: str = Field(
        default="not-used",
        description="unused: analytics keeps no event log of its own, so it signs no audit checkpoints",
    )
    analytics_database: Path = Field(
        default=REPO_ROOT / ".lianxin" / "analytics" / "analytics.duckdb",
        description="the DuckDB file the streams land in",
    )
    analytics_export_dir: Path = Field(
        default=REPO_ROOT / ".lianxin" / "analytics" / "export",
        description="where POST /v1/operator/export writes the Parquet files",
    )
    analytics_standby_poll_seconds: float = Field(
        default=2.0,
        gt=0,
        le=60,
        description="how often a standby instance tries the DuckDB file lock another instance holds",
    )
    landing_batch: int = Field(
        default=256,
        ge=1,
        le=4096,
        description="messages fetched per pull of one stream; a landing takes what every stream has fetched",
    )
    landing_linger_seconds: float = Field(
        default=1.0,
        ge=0,
        le=30,
        description="when the streams bring a trickle, not a backlog: how long a landing waits after its first "
        "message for more to join it (a landing costs a few ms of CPU whatever its size)",
    )
