"""Request and response models of /reports."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from dealscope.kit.roles import Role
from dealscope.reports.specs import Audience, PeriodOverride, ReportFormat, ReportSpec
from dealscope.reports.templates import TemplateName

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")
MAX_RECIPIENTS = 50

_QUICK_SPEC: dict[str, Any] = {
    "title": "Lead flow",
    "sections": [
        {"title": "New leads", "visual": "kpi_cards", "metrics": ["new_leads"], "range": "7d"}
    ],
}


def _one_source(report_id: int | None, template: TemplateName | None, spec: object) -> None:
    given = [n for n, v in (("report_id", report_id), ("template", template), ("spec", spec)) if v]
    if len(given) != 1:
        raise ValueError(
            "name exactly one of report_id (a saved report), template (a built-in report) or "
            f"spec (a report given here); got {', '.join(given) or 'none'}"
        )


class ReportGenerate(BaseModel):
    """Render a saved report, a built-in template or a spec given here."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"spec": _QUICK_SPEC, "format": "csv", "as_of": "2025-03-31"},
                {"template": "monthly_executive", "format": "pdf"},
                {"template": "agent_scorecard", "format": "pdf", "agent_id": 42},
            ]
        },
    )

    report_id: int | None = Field(default=None, description="A saved report (GET /reports/list).")
    template: TemplateName | None = Field(default=None, description="A built-in report.")
    spec: ReportSpec | None = Field(default=None, description="A report spec given inline.")
    format: ReportFormat = Field(default=ReportFormat.PDF, description="pdf, xlsx or csv.")
    as_of: dt.date | None = Field(
        default=None,
        description="The day periods are resolved on (default: today in the tenant's zone).",
    )
    period: PeriodOverride | None = Field(
        default=None, description="Render every section over this period instead of its own."
    )
    agent_id: int | None = Field(
        default=None,
        description="Only this agent's figures (an agent scorecard); it must be within the "
        "caller's scope. An agent's own scorecard needs none.",
    )
    download: bool = Field(
        default=False,
        description="true: answer with the file itself; false: with a download id for "
        "GET /reports/download/{download_id}.",
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> ReportGenerate:
        _one_source(self.report_id, self.template, self.spec)
        return self


class ReportGenerated(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "download_id": "3f2b9c0d4e5f60718293a4b5c6d7e8f9",
                    "download_url": "/api/v1/reports/download/3f2b9c0d4e5f60718293a4b5c6d7e8f9",
                    "filename": "monthly-executive-report-2025-03-31.pdf",
                    "content_type": "application/pdf",
                    "size_bytes": 48211,
                    "title": "Monthly executive report",
                    "expires_at": "2025-04-07T09:00:00Z",
                }
            ]
        }
    )

    download_id: str
    download_url: str
    filename: str
    content_type: str
    size_bytes: int
    title: str
    expires_at: dt.datetime


class ReportSave(BaseModel):
    """A named report to save: a spec, or a built-in template to follow."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"name": "Lead flow", "spec": _QUICK_SPEC, "shared_with_roles": ["manager"]}
            ]
        },
    )

    name: str = Field(min_length=1, max_length=200)
    spec: ReportSpec | None = None
    template: TemplateName | None = None
    shared_with_roles: list[Role] = Field(
        default_factory=list,
        description="Roles of the tenant that may see and render it (admins always may).",
    )

    @model_validator(mode="after")
    def _spec_or_template(self) -> ReportSave:
        if (self.spec is None) == (self.template is None):
            raise ValueError("give either spec or template, not both and not neither")
        if len(set(self.shared_with_roles)) != len(self.shared_with_roles):
            raise ValueError("shared_with_roles names a role more than once")
        return self


class ReportRead(BaseModel):
    id: int
    name: str
    owner_user_id: int
    template: TemplateName | None
    spec: ReportSpec = Field(description="The spec (a template's current one for templates).")
    audience: Audience
    shared_with_roles: list[Role]
    created_at: dt.datetime
    updated_at: dt.datetime | None
    editable: bool = Field(description="Whether the caller may change or delete it.")


class TemplateRead(BaseModel):
    name: TemplateName
    title: str
    audience: Audience
    sections: list[str] = Field(description="Section titles, in order.")


class ReportList(BaseModel):
    """Saved reports the caller may see, and the built-in templates."""

    reports: list[ReportRead]
    templates: list[TemplateRead]


class ScheduleCreate(BaseModel):
    """Send a report on a cron schedule to a list of recipients."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "template": "monthly_executive",
                    "cron": "0 7 1 * *",
                    "recipients": ["owner@brokerage.example"],
                    "formats": ["pdf"],
                }
            ]
        },
    )

    report_id: int | None = Field(default=None, description="A saved report.")
    template: TemplateName | None = Field(
        default=None, description="A built-in report (saved for you under its title)."
    )
    cron: str = Field(
        max_length=64, description="minute hour day-of-month month day-of-week, e.g. 0 7 * * 1"
    )
    timezone: str | None = Field(
        default=None, max_length=64, description="IANA zone of the cron (default: tenant's)."
    )
    recipients: list[str] = Field(default_factory=list, max_length=MAX_RECIPIENTS)
    formats: list[ReportFormat] = Field(default_factory=lambda: [ReportFormat.PDF], min_length=1)
    slack_webhook_url: str | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _target(self) -> ScheduleCreate:
        _one_source(self.report_id, self.template, None)
        if len(set(self.formats)) != len(self.formats):
            raise ValueError("formats names a format more than once")
        return self

    @field_validator("recipients")
    @classmethod
    def _emails(cls, addresses: list[str]) -> list[str]:
        cleaned = [a.strip().lower() for a in addresses]
        bad = [a for a in cleaned if not _EMAIL.fullmatch(a)]
        if bad:
            raise ValueError(f"not an email address: {', '.join(bad)}")
        if len(set(cleaned)) != len(cleaned):
            raise ValueError("recipients repeat an address")
        return cleaned

    @field_validator("slack_webhook_url")
    @classmethod
    def _https(cls, url: str | None) -> str | None:
        if url is None:
            return None
        parts = urlsplit(url.strip())
        if parts.scheme != "https" or not parts.hostname:
            raise ValueError("the Slack webhook URL must be an https:// URL")
        return url.strip()


class ScheduleRead(BaseModel):
    id: int
    report_id: int
    cron: str
    timezone: str
    recipients: list[str]
    formats: list[ReportFormat]
    slack_webhook: bool = Field(description="Whether a Slack webhook is set (never shown).")
    is_enabled: bool
    next_run_at: dt.datetime | None
    last_run_at: dt.datetime | None
    created_by: int | None
    created_at: dt.datetime
