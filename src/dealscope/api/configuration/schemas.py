"""Input and output models of the configuration API: one concrete set per document kind, so
the OpenAPI schema shows each kind's own fields."""

from __future__ import annotations

import datetime as dt
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from dealscope.api.configuration.documents import (
    AlertsConfig,
    AttributionConfig,
    ConfigKind,
    DashboardConfig,
    PositionWeights,
    QuietHours,
)

D = TypeVar("D", bound=BaseModel)


class ConfigRead(BaseModel, Generic[D]):
    """The configuration in force: the newest saved version, or the defaults (version 0)."""

    kind: ConfigKind
    version: int = Field(description="0 while nothing has been saved (the defaults apply).")
    document: D
    updated_at: dt.datetime | None = Field(description="When this version was saved.")
    updated_by: int | None = Field(description="The id of the user who saved it.")


class ConfigUpdate(BaseModel, Generic[D]):
    """A new document, based on the version the caller read."""

    model_config = ConfigDict(extra="forbid")

    version: int = Field(
        ge=0,
        description="The version this change is based on: the current one (0 when nothing "
        "has been saved). A stale number is refused with 409, so no one's change is lost.",
    )
    document: D


class ConfigVersionRead(BaseModel, Generic[D]):
    """One saved version."""

    version: int
    document: D
    created_at: dt.datetime
    created_by: int | None


class ConfigHistory(BaseModel, Generic[D]):
    """Saved versions of one kind, newest first."""

    kind: ConfigKind
    items: list[ConfigVersionRead[D]]


# --- examples ------------------------------------------------------------------------

_SAVED_AT = "2025-03-31T14:02:11Z"

_DOCUMENT_EXAMPLES: dict[ConfigKind, BaseModel] = {
    ConfigKind.DASHBOARD: DashboardConfig(
        default_range="qtd",
        comparison="previous_year",
        kpi_cards=["gci", "closed_volume", "pipeline_value", "speed_to_lead_median"],
        refresh_seconds=120,
        accent_color="#0a7d5a",
    ),
    ConfigKind.ALERTS: AlertsConfig(
        default_channels=["email", "slack"],
        quiet_hours=QuietHours(start=dt.time(22, 0), end=dt.time(7, 0)),
        dedupe_minutes=120,
        email_recipients=["broker@example.com", "ops@example.com"],
        slack_webhook_url="https://hooks.slack.com/services/T000/B000/XXXXXXXX",
    ),
    ConfigKind.ATTRIBUTION: AttributionConfig(
        model="position_based",
        lookback_days=120,
        time_decay_half_life_days=7,
        position_based=PositionWeights(first=0.4, last=0.4),
    ),
}


def _document(kind: ConfigKind) -> dict[str, Any]:
    return _DOCUMENT_EXAMPLES[kind].model_dump(mode="json")


def _read_example(kind: ConfigKind) -> ConfigDict:
    example: dict[str, Any] = {
        "kind": kind.value,
        "version": 4,
        "document": _document(kind),
        "updated_at": _SAVED_AT,
        "updated_by": 17,
    }
    return ConfigDict(json_schema_extra={"examples": [example]})


def _update_example(kind: ConfigKind) -> ConfigDict:
    example: dict[str, Any] = {"version": 4, "document": _document(kind)}
    return ConfigDict(extra="forbid", json_schema_extra={"examples": [example]})


def _history_example(kind: ConfigKind) -> ConfigDict:
    item: dict[str, Any] = {
        "version": 4,
        "document": _document(kind),
        "created_at": _SAVED_AT,
        "created_by": 17,
    }
    example: dict[str, Any] = {"kind": kind.value, "items": [item]}
    return ConfigDict(json_schema_extra={"examples": [example]})


class DashboardConfigRead(ConfigRead[DashboardConfig]):
    model_config = _read_example(ConfigKind.DASHBOARD)


class DashboardConfigUpdate(ConfigUpdate[DashboardConfig]):
    model_config = _update_example(ConfigKind.DASHBOARD)


class DashboardConfigHistory(ConfigHistory[DashboardConfig]):
    model_config = _history_example(ConfigKind.DASHBOARD)


class AlertsConfigRead(ConfigRead[AlertsConfig]):
    model_config = _read_example(ConfigKind.ALERTS)


class AlertsConfigUpdate(ConfigUpdate[AlertsConfig]):
    model_config = _update_example(ConfigKind.ALERTS)


class AlertsConfigHistory(ConfigHistory[AlertsConfig]):
    model_config = _history_example(ConfigKind.ALERTS)


class AttributionConfigRead(ConfigRead[AttributionConfig]):
    model_config = _read_example(ConfigKind.ATTRIBUTION)


class AttributionConfigUpdate(ConfigUpdate[AttributionConfig]):
    model_config = _update_example(ConfigKind.ATTRIBUTION)


class AttributionConfigHistory(ConfigHistory[AttributionConfig]):
    model_config = _history_example(ConfigKind.ATTRIBUTION)
