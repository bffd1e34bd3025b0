"""All SQL of saved reports and report schedules.

A saved report (`saved_reports`) belongs to its tenant and its owner; `shared_with_roles`
lists the roles of the tenant that may see and render it (admins see every report of their
tenant). Its `spec` column holds either a full `ReportSpec` or `{"template": "<name>"}` for a
built-in template, so a schedule of a template follows the template as it improves.

Schedules (`report_schedules`), the row the scheduler runs:

| column | meaning |
|---|---|
| report_id | the saved report to render (`get_report(...).report` gives a spec or template) |
| cron | five-field crontab (`minute hour day month weekday`), in `timezone` |
| timezone | IANA zone the cron is read in (default: the tenant's) |
| recipients | JSON list of email addresses |
| formats | JSON list of `pdf`, `xlsx`, `csv`: one attachment each |
| slack_webhook_url | optional https Slack incoming webhook for a summary |
| is_enabled | false: skipped |
| next_run_at | the next fire time in UTC, computed when saved (the scheduler moves it on) |
| last_run_at | set by the scheduler |
| created_by | the user whose scope the figures are rendered under (by role, at run time) |

A report whose audience is `each_agent` (the agent scorecard) is rendered once per agent with
`agent_scope(tenant_id, agent_id)` and sent to that agent's user, whatever `recipients` say.

The scheduler renders with `dealscope.reports.render(report, fmt, warehouse, scope,
as_of=<the day before the run, in the schedule's time zone>)`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from dealscope.errors import NotFound
from dealscope.kit.roles import Role
from dealscope.reports.specs import ReportFormat, ReportSpec
from dealscope.reports.templates import TemplateName, get_template
from dealscope.warehouse.schema import report_schedules, saved_reports
from dealscope.warehouse.tenancy import TenantScope, scope_select
from dealscope.warehouse.unit_of_work import UnitOfWork

_r = saved_reports.c
_s = report_schedules.c


@dataclass(frozen=True)
class SavedReport:
    id: int
    tenant_id: int
    owner_user_id: int
    name: str
    spec: ReportSpec | None  # None for a template
    template: TemplateName | None
    shared_with_roles: list[Role]
    created_at: dt.datetime
    updated_at: dt.datetime | None

    @property
    def report(self) -> ReportSpec | str:
        """What `render` takes: the spec, or the template's name."""
        return self.template.value if self.template is not None else self.resolved

    @property
    def resolved(self) -> ReportSpec:
        return get_template(self.template.value) if self.template is not None else self.spec  # type: ignore[return-value]

    def visible_to(self, role: Role, user_id: int | None) -> bool:
        """Whether a caller of the tenant with `role` may see and render it."""
        return role == Role.ADMIN or user_id == self.owner_user_id or role in self.shared_with_roles

    def editable_by(self, role: Role, user_id: int | None) -> bool:
        return role == Role.ADMIN or user_id == self.owner_user_id


@dataclass(frozen=True)
class Schedule:
    id: int
    tenant_id: int
    report_id: int
    cron: str
    timezone: str
    recipients: list[str]
    formats: list[ReportFormat]
    slack_webhook_url: str | None
    is_enabled: bool
    next_run_at: dt.datetime | None
    last_run_at: dt.datetime | None
    created_by: int | None
    created_at: dt.datetime


def _stored_spec(spec: ReportSpec | None, template: TemplateName | None) -> dict[str, Any]:
    if template is not None:
        return {"template": template.value}
    assert spec is not None
    return spec.model_dump(mode="json", exclude_defaults=True)


def _report(row: sa.Row[Any]) -> SavedReport:
    stored = dict(row.spec)
    template = TemplateName(stored["template"]) if "template" in stored else None
    return SavedReport(
        id=int(row.id),
        tenant_id=int(row.tenant_id),
        owner_user_id=int(row.owner_user_id),
        name=str(row.name),
        spec=None if template is not None else ReportSpec.model_validate(stored),
        template=template,
        shared_with_roles=[Role(r) for r in row.shared_with_roles or []],
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _reports(tenant_id: int) -> sa.Select[Any]:
    return scope_select(sa.select(saved_reports), saved_reports, TenantScope(tenant_id))


def find_report(connection: sa.Connection, tenant_id: int, report_id: int) -> SavedReport | None:
    row = connection.execute(_reports(tenant_id).where(_r.id == report_id)).first()
    return None if row is None else _report(row)


def get_report(connection: sa.Connection, tenant_id: int, report_id: int) -> SavedReport:
    """The saved report `report_id` of the tenant; NotFound otherwise."""
    found = find_report(connection, tenant_id, report_id)
    if found is None:
        raise NotFound(f"report {report_id} does not exist")
    return found


def list_reports(connection: sa.Connection, tenant_id: int) -> list[SavedReport]:
    return [
        _report(row) for row in connection.execute(_reports(tenant_id).order_by(_r.name, _r.id))
    ]


def create_report(
    uow: UnitOfWork,
    tenant_id: int,
    owner_user_id: int,
    name: str,
    spec: ReportSpec | None,
    template: TemplateName | None,
    roles: list[Role],
    now: dt.datetime,
) -> SavedReport:
    report_id = uow.next_id(saved_reports)
    uow.connection.execute(
        saved_reports.insert().values(
            id=report_id,
            tenant_id=tenant_id,
            owner_user_id=owner_user_id,
            name=name,
            spec=_stored_spec(spec, template),
            shared_with_roles=[r.value for r in roles],
            created_at=now,
            updated_at=now,
        )
    )
    return get_report(uow.connection, tenant_id, report_id)


def update_report(
    uow: UnitOfWork,
    report: SavedReport,
    name: str,
    spec: ReportSpec | None,
    template: TemplateName | None,
    roles: list[Role],
    now: dt.datetime,
) -> SavedReport:
    uow.connection.execute(
        saved_reports.update()
        .where(_r.tenant_id == report.tenant_id, _r.id == report.id)
        .values(
            name=name,
            spec=_stored_spec(spec, template),
            shared_with_roles=[r.value for r in roles],
            updated_at=now,
        )
    )
    return get_report(uow.connection, report.tenant_id, report.id)


def delete_report(uow: UnitOfWork, report: SavedReport) -> int:
    """Delete the report and its schedules; how many schedules went with it."""
    gone = uow.connection.execute(
        report_schedules.delete().where(_s.tenant_id == report.tenant_id, _s.report_id == report.id)
    ).rowcount
    uow.connection.execute(
        saved_reports.delete().where(_r.tenant_id == report.tenant_id, _r.id == report.id)
    )
    return int(gone or 0)


# --- schedules -------------------------------------------------------------------------


def _schedule(row: sa.Row[Any]) -> Schedule:
    return Schedule(
        id=int(row.id),
        tenant_id=int(row.tenant_id),
        report_id=int(row.report_id),
        cron=str(row.cron),
        timezone=str(row.timezone),
        recipients=list(row.recipients or []),
        formats=[ReportFormat(f) for f in row.formats or []],
        slack_webhook_url=row.slack_webhook_url,
        is_enabled=bool(row.is_enabled),
        next_run_at=row.next_run_at,
        last_run_at=row.last_run_at,
        created_by=None if row.created_by is None else int(row.created_by),
        created_at=row.created_at,
    )


def create_schedule(
    uow: UnitOfWork,
    tenant_id: int,
    report_id: int,
    cron: str,
    timezone: str,
    recipients: list[str],
    formats: list[ReportFormat],
    slack_webhook_url: str | None,
    created_by: int | None,
    now: dt.datetime,
    next_run_at: dt.datetime,
) -> Schedule:
    """Save a schedule; `next_run_at` is its first fire time (the API computes it with the
    scheduler's own cron rules, `dealscope.alerts.schedules.next_fire`)."""
    schedule_id = uow.next_id(report_schedules)
    uow.connection.execute(
        report_schedules.insert().values(
            id=schedule_id,
            tenant_id=tenant_id,
            report_id=report_id,
            cron=cron,
            timezone=timezone,
            recipients=recipients,
            formats=[f.value for f in formats],
            slack_webhook_url=slack_webhook_url,
            is_enabled=True,
            next_run_at=next_run_at,
            created_by=created_by,
            created_at=now,
        )
    )
    stmt = scope_select(sa.select(report_schedules), report_schedules, TenantScope(tenant_id))
    row = uow.connection.execute(stmt.where(_s.id == schedule_id)).one()
    return _schedule(row)


def list_schedules(connection: sa.Connection, tenant_id: int) -> list[Schedule]:
    stmt = scope_select(sa.select(report_schedules), report_schedules, TenantScope(tenant_id))
    return [_schedule(row) for row in connection.execute(stmt.order_by(_s.id))]


def find_schedule(connection: sa.Connection, tenant_id: int, schedule_id: int) -> Schedule | None:
    stmt = scope_select(sa.select(report_schedules), report_schedules, TenantScope(tenant_id))
    row = connection.execute(stmt.where(_s.id == schedule_id)).first()
    return None if row is None else _schedule(row)


def delete_schedule(uow: UnitOfWork, schedule: Schedule) -> None:
    """Stop a schedule (its delivery log stays)."""
    uow.connection.execute(
        report_schedules.delete().where(_s.tenant_id == schedule.tenant_id, _s.id == schedule.id)
    )
