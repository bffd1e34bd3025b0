"""What evaluation and delivery need to know besides the rules: the tenant's alerting
preferences (from its `alerts` configuration document, read by the API layer and handed in)
and the server's outgoing channels (from `Settings`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from dealscope.alerts.channels import SmtpConfig
from dealscope.config import Settings

DEFAULT_COOLDOWN_MINUTES = 60


@dataclass(frozen=True)
class TenantAlertSettings:
    """A tenant's alerting preferences (config/alerts); the defaults match version 0."""

    email_recipients: tuple[str, ...] = ()
    slack_webhook_url: str | None = None
    default_channels: tuple[str, ...] = ("email",)
    dedupe_minutes: int = DEFAULT_COOLDOWN_MINUTES
    quiet_start: dt.time | None = None
    quiet_end: dt.time | None = None

    def is_quiet(self, local: dt.time) -> bool:
        """Whether `local` (the tenant's wall-clock time) falls in the quiet hours, which may
        cross midnight (22:00 to 07:00)."""
        start, end = self.quiet_start, self.quiet_end
        if start is None or end is None:
            return False
        if start < end:
            return start <= local < end
        return local >= start or local < end


# Reads a tenant's preferences from its configuration (the API layer provides it).
SettingsLoader = Callable[[sa.Connection, int], TenantAlertSettings]


def default_settings(_connection: sa.Connection, _tenant_id: int) -> TenantAlertSettings:
    return TenantAlertSettings()


@dataclass(frozen=True)
class Outbox:
    """The server's outgoing channels: SMTP, the sender address and a fallback Slack hook."""

    smtp: SmtpConfig | None
    sender: str
    slack_webhook_url: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Outbox:
        smtp = SmtpConfig.from_url(settings.smtp_url) if settings.smtp_url else None
        return cls(smtp, settings.smtp_from, settings.slack_webhook_url)
