"""One Settings object for the whole application, read from `DEALSCOPE_*` variables."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from platformdirs import user_data_dir
from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from dealscope.errors import ConfigurationError

# Values shipped in the source tree; fine for a laptop demo, refused anywhere else.
DEFAULT_JWT_SECRET = "dealscope-dev-jwt-secret-change-me"
DEFAULT_WEBHOOK_SECRET = "dealscope-dev-webhook-secret-change-me"


class Environment(StrEnum):
    DEMO = "demo"
    DEV = "dev"
    TEST = "test"
    PRODUCTION = "production"


def _default_data_dir() -> Path:
    return Path(user_data_dir("dealscope", appauthor=False))


class Settings(BaseSettings):
    """Runtime configuration. Nothing here connects to anything: it only describes."""

    model_config = SettingsConfigDict(env_prefix="DEALSCOPE_", env_file=".env", extra="ignore")

    environment: Environment = Environment.DEV
    data_dir: Path = Field(default_factory=_default_data_dir)
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; empty means the embedded DuckDB file under data_dir. "
        "PostgreSQL: postgresql+psycopg://user:password@host:5432/db",
    )
    redis_url: str | None = None
    redis_key_prefix: str = Field(
        default="dealscope",
        min_length=1,
        description="Prefix of every Redis key DealScope writes, so installations can share "
        "one Redis.",
    )

    jwt_secret: SecretStr = SecretStr(DEFAULT_JWT_SECRET)
    webhook_secret: SecretStr = SecretStr(DEFAULT_WEBHOOK_SECRET)
    pii_keys: SecretStr | None = Field(
        default=None,
        description="Comma-separated Fernet keys for contact email and phone, newest first; "
        "unset in demo/dev/test means a key file in data_dir/keys, made on first use.",
    )
    pii_hash_key: SecretStr | None = Field(
        default=None, description="Secret for the keyed hash that finds a contact by email."
    )
    access_token_minutes: int = Field(default=60, ge=1, le=24 * 60)
    refresh_token_days: int = Field(default=14, ge=1, le=365)
    rate_limit_per_minute: int = Field(default=100, ge=1)
    webhook_rate_limit_per_minute: int = Field(default=1200, ge=1)
    cors_origins: list[str] = Field(default_factory=list)
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Addresses or networks (CIDR) of reverse proxies whose X-Forwarded-For "
        "and X-Forwarded-Proto are believed; empty means the peer address is the client.",
    )
    max_failed_logins: int = Field(default=5, ge=1)
    lockout_minutes: int = Field(default=15, ge=1)
    smtp_url: str | None = Field(
        default=None,
        description="Where mail goes: smtp://user:password@host:587 (STARTTLS when offered), "
        "smtps://host:465 (TLS from the start) or smtp://host:25?starttls=false.",
    )
    smtp_from: str = Field(
        default="DealScope <reports@dealscope.local>",
        description="The From address of reports and alerts.",
    )
    slack_webhook_url: str | None = None
    scheduler_enabled: bool | None = Field(
        default=None,
        description="Run report schedules and alert evaluation inside the API process; "
        "unset means yes, except with environment=test (tests drive the runner themselves).",
    )
    scheduler_tick_seconds: int = Field(
        default=30, ge=1, le=3600, description="How often due report schedules are looked for."
    )
    alert_interval_minutes: int = Field(
        default=5, ge=1, le=24 * 60, description="How often every tenant's alert rules run."
    )
    delivery_max_attempts: int = Field(
        default=5, ge=1, le=20, description="Sending a report is tried this many times."
    )
    delivery_retry_seconds: float = Field(
        default=60.0,
        gt=0,
        le=3600,
        description="Wait before the first retry of a failed send; doubles after each.",
    )

    ghl_base_url: str = Field(
        default="https://services.leadconnectorhq.com",
        description="Base URL of the GHL (LeadConnector) REST API v2 that `dealscope sync ghl` "
        "reads.",
    )
    ghl_location_id: str | None = Field(
        default=None, description="GHL location (sub-account) id synced when no tenant's own."
    )
    ghl_token: SecretStr | None = Field(
        default=None,
        description="Private integration token or OAuth location access token for ghl_location_id.",
    )
    ghl_accounts: SecretStr | None = Field(
        default=None,
        description='Per-tenant GHL credentials as JSON: {"<tenant slug>": {"location_id": '
        '"...", "token": "..."}}; a tenant listed here uses its own.',
    )

    api_host: str = "127.0.0.1"
    api_port: int = 8000
    dashboard_port: int = 8501
    api_url: str | None = Field(
        default=None, description="Where clients (dashboard, CLI) reach the API."
    )

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> Settings:
        if self.environment in (Environment.DEMO, Environment.DEV, Environment.TEST):
            return self
        defaults = {
            "DEALSCOPE_JWT_SECRET": (self.jwt_secret, DEFAULT_JWT_SECRET),
            "DEALSCOPE_WEBHOOK_SECRET": (self.webhook_secret, DEFAULT_WEBHOOK_SECRET),
        }
        weak = [
            name
            for name, (value, default) in defaults.items()
            if value.get_secret_value() == default or len(value.get_secret_value()) < 32
        ]
        if weak:
            raise ConfigurationError(
                f"environment is {self.environment.value!r} but {', '.join(weak)} "
                "is the shipped default or shorter than 32 characters; set a random secret "
                "(for example: python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        return self

    @property
    def runs_scheduler(self) -> bool:
        """Whether the API process runs the report and alert scheduler."""
        if self.scheduler_enabled is not None:
            return self.scheduler_enabled
        return self.environment != Environment.TEST

    @property
    def duckdb_path(self) -> Path:
        return self.data_dir / "warehouse.duckdb"

    @property
    def resolved_database_url(self) -> str:
        """The warehouse URL, with the embedded DuckDB file as the default."""
        return self.database_url or f"duckdb:///{self.duckdb_path}"

    @property
    def resolved_api_url(self) -> str:
        host = "127.0.0.1" if self.api_host in ("0.0.0.0", "::") else self.api_host
        return self.api_url or f"http://{host}:{self.api_port}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once from the environment."""
    return Settings()
