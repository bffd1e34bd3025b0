"""The tenant's configuration documents, one validated model per kind.

Each model's defaults are the configuration in force before anything is saved (version 0).
Pure pydantic: the alerting and attribution layers can read these documents too.
"""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from typing import Annotated, Literal, Self, TypeVar
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from dealscope.reports.branding import Branding

MAX_KPI_CARDS = 16
MAX_EMAIL_RECIPIENTS = 50

# A deliberately plain address check (no extra dependency): one @, a dotted domain, no spaces.
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")

MetricSlug = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
T = TypeVar("T")
Channel = Literal["email", "slack", "webhook"]


class ConfigKind(StrEnum):
    DASHBOARD = "dashboard"
    ALERTS = "alerts"
    ATTRIBUTION = "attribution"


class _Document(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def redacted(self) -> Self:
        """The document as shown to callers who may read but not change it."""
        return self


def _unique(values: list[T], what: str) -> list[T]:
    repeated = sorted({str(v) for v in values if values.count(v) > 1})
    if repeated:
        raise ValueError(f"{what} must not repeat: {', '.join(repeated)}")
    return values


# --- dashboard -----------------------------------------------------------------------


class DashboardConfig(_Document):
    """What the dashboard shows first and how it looks."""

    default_range: Literal["today", "7d", "30d", "90d", "qtd", "ytd"] = Field(
        default="30d", description="The period pages open with."
    )
    comparison: Literal["previous_period", "previous_year", "target"] = Field(
        default="previous_period", description="What figures are compared with."
    )
    currency_display: Literal["symbol", "code", "compact"] = Field(
        default="symbol",
        description="How money is written: symbol ($1,234,567), code (USD 1,234,567) or "
        "compact ($1.2M).",
    )
    kpi_cards: list[MetricSlug] = Field(
        default_factory=lambda: ["gci", "closed_volume", "pipeline_value", "speed_to_lead_median"],
        max_length=MAX_KPI_CARDS,
        description="Metric slugs of the summary cards, in order.",
    )
    refresh_seconds: int = Field(
        default=300, ge=10, le=3600, description="How often open pages reload their data."
    )
    accent_color: str = Field(
        default="#1f6feb",
        pattern=r"^#[0-9a-fA-F]{6}$",
        description="The theme's accent colour, as #rrggbb.",
    )

    branding: Branding = Field(
        default_factory=Branding,
        description="How reports look: cover name, logo (data URI) and colours.",
    )

    @field_validator("kpi_cards")
    @classmethod
    def _distinct_cards(cls, cards: list[str]) -> list[str]:
        return _unique(cards, "kpi_cards")

    @field_validator("accent_color")
    @classmethod
    def _lower_hex(cls, colour: str) -> str:
        return colour.lower()


# --- alerts --------------------------------------------------------------------------


class QuietHours(_Document):
    """A daily span, in the tenant's time zone, when alerts wait instead of notifying
    (critical ones excepted). It may cross midnight (22:00 to 07:00)."""

    start: dt.time = Field(description="HH:MM")
    end: dt.time = Field(description="HH:MM")

    @model_validator(mode="after")
    def _not_empty(self) -> QuietHours:
        if self.start == self.end:
            raise ValueError("quiet hours must not start and end at the same time")
        return self


class AlertsConfig(_Document):
    """How fired alerts reach people."""

    default_channels: list[Channel] = Field(
        default_factory=lambda: list[Channel](["email"]),
        max_length=3,
        description="Where a new alert rule notifies unless it says otherwise.",
    )
    quiet_hours: QuietHours | None = Field(
        default=None, description="When not to notify; null for never quiet."
    )
    dedupe_minutes: int = Field(
        default=60,
        ge=1,
        le=7 * 24 * 60,
        description="An alert firing again within this many minutes is not sent again.",
    )
    email_recipients: list[str] = Field(
        default_factory=list,
        max_length=MAX_EMAIL_RECIPIENTS,
        description="Addresses that receive alerts by email.",
    )
    slack_webhook_url: str | None = Field(
        default=None,
        max_length=500,
        description="A Slack incoming-webhook URL (https). Shown in full only to callers who "
        "may change the configuration.",
    )

    @field_validator("default_channels")
    @classmethod
    def _distinct_channels(cls, channels: list[str]) -> list[str]:
        return _unique(channels, "default_channels")

    @field_validator("email_recipients")
    @classmethod
    def _emails(cls, addresses: list[str]) -> list[str]:
        cleaned = [address.strip().lower() for address in addresses]
        bad = [address for address in cleaned if not _EMAIL.fullmatch(address)]
        if bad:
            raise ValueError(f"not an email address: {', '.join(bad)}")
        return _unique(cleaned, "email_recipients")

    @field_validator("slack_webhook_url")
    @classmethod
    def _https(cls, url: str | None) -> str | None:
        if url is None:
            return None
        parts = urlsplit(url.strip())
        if parts.scheme != "https" or not parts.hostname:
            raise ValueError("the Slack webhook URL must be an https:// URL")
        return url.strip()

    def redacted(self) -> Self:
        """The document without the Slack webhook's secret path (anyone holding the full URL
        can post to the channel)."""
        if self.slack_webhook_url is None:
            return self
        host = urlsplit(self.slack_webhook_url).hostname
        return self.model_copy(update={"slack_webhook_url": f"https://{host}/redacted"})


# --- attribution ---------------------------------------------------------------------


class PositionWeights(_Document):
    """Position-based (U-shaped) credit: the first and last touches get these shares, the
    touches between split the rest evenly."""

    first: float = Field(default=0.4, ge=0, le=1)
    last: float = Field(default=0.4, ge=0, le=1)

    @model_validator(mode="after")
    def _at_most_whole(self) -> PositionWeights:
        if self.first + self.last > 1 + 1e-9:
            raise ValueError(f"first + last must be at most 1, got {self.first + self.last:g}")
        return self


class AttributionConfig(_Document):
    """How closed revenue is credited to the marketing touches before it."""

    model: Literal[
        "first_touch",
        "last_touch",
        "last_non_direct",
        "linear",
        "time_decay",
        "position_based",
        "w_shaped",
    ] = Field(default="last_non_direct", description="The attribution model in force.")
    lookback_days: int = Field(
        default=90,
        ge=1,
        le=365,
        description="Touches older than this before a conversion get no credit.",
    )
    time_decay_half_life_days: float = Field(
        default=7.0,
        gt=0,
        le=365,
        description="time_decay: a touch this many days earlier gets half the credit.",
    )
    position_based: PositionWeights = Field(default_factory=PositionWeights)


Document = DashboardConfig | AlertsConfig | AttributionConfig

DOCUMENT_MODELS: dict[ConfigKind, type[Document]] = {
    ConfigKind.DASHBOARD: DashboardConfig,
    ConfigKind.ALERTS: AlertsConfig,
    ConfigKind.ATTRIBUTION: AttributionConfig,
}
