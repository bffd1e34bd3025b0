"""Wiring the background runner (`alerts.scheduler`) into the API process.

The runner sits below the API and beside `reports`, so what it needs from above is handed
in here: the tenant's alerting preferences from its `alerts` configuration document, and a
`ReportProducer` that renders saved reports with `dealscope.reports.render` under the right
scope (the schedule creator's scope, resolved by their role at run time; each agent's own
figures for `each_agent` reports, sent to that agent's user).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from dealscope.alerts.delivery import AudienceReport, DeliveryPolicy, RenderedFile, ScheduleRow
from dealscope.alerts.scheduler import Runner, Scheduler
from dealscope.alerts.settings import Outbox, TenantAlertSettings
from dealscope.api.auth.principal import scope_for
from dealscope.api.configuration.documents import AlertsConfig, ConfigKind
from dealscope.api.configuration.repository import find_current_version
from dealscope.config import Settings
from dealscope.errors import NotFound
from dealscope.kit.roles import Role
from dealscope.reports import agent_scope, render
from dealscope.reports.specs import Audience, ReportSpec
from dealscope.reports.templates import get_template
from dealscope.warehouse.engine import Warehouse
from dealscope.warehouse.schema import saved_reports, users
from dealscope.warehouse.tenancy import TenantScope, scope_select


def load_alert_settings(connection: sa.Connection, tenant_id: int) -> TenantAlertSettings:
    """The tenant's alerting preferences from the `alerts` document in force."""
    stored = find_current_version(connection, TenantScope(tenant_id), ConfigKind.ALERTS)
    config = AlertsConfig() if stored is None else AlertsConfig.model_validate(stored.document)
    quiet = config.quiet_hours
    return TenantAlertSettings(
        email_recipients=tuple(config.email_recipients),
        slack_webhook_url=config.slack_webhook_url,
        default_channels=tuple(config.default_channels),
        dedupe_minutes=config.dedupe_minutes,
        quiet_start=None if quiet is None else quiet.start,
        quiet_end=None if quiet is None else quiet.end,
    )


def _creator_scope(connection: sa.Connection, tenant_id: int, user_id: int | None) -> TenantScope:
    """The figures the schedule's creator may see today (an admin's schedule shows the whole
    brokerage; a manager's, their team). A creator who left sees nothing rather than all."""
    if user_id is None:
        return TenantScope(tenant_id)
    row = connection.execute(
        sa.select(users.c.role, users.c.agent_id, users.c.team_id, users.c.is_active).where(
            users.c.tenant_id == tenant_id, users.c.id == user_id
        )
    ).first()
    if row is None or not row.is_active:
        return TenantScope.for_agents(tenant_id, [])
    return scope_for(connection, tenant_id, Role(row.role), row.agent_id, row.team_id)


def saved_report(
    connection: sa.Connection, tenant_id: int, report_id: int
) -> tuple[ReportSpec | str, ReportSpec]:
    """What `render` takes for a saved report (its spec, or a built-in template's name, as
    `saved_reports.spec` holds `{"template": name}` for those) and the spec it stands for."""
    stmt = scope_select(sa.select(saved_reports.c.spec), saved_reports, TenantScope(tenant_id))
    found: Any = connection.execute(stmt.where(saved_reports.c.id == report_id)).scalar()
    if found is None:
        raise NotFound(f"report {report_id} does not exist (deleted after it was scheduled?)")
    stored = dict(found)
    if "template" in stored:
        return str(stored["template"]), get_template(str(stored["template"]))
    spec = ReportSpec.model_validate(stored)
    return spec, spec


class ReportsProducer:
    """Renders a schedule's saved report in each of its formats, per audience."""

    def produce(
        self,
        warehouse: Warehouse,
        schedule: ScheduleRow,
        as_of: dt.date,
        generated_at: dt.datetime,
    ) -> list[AudienceReport]:
        tenant_id = schedule.tenant_id
        with warehouse.engine.connect() as connection:
            report, spec = saved_report(connection, tenant_id, schedule.report_id)
            if spec.audience == Audience.EACH_AGENT:
                agent_users = connection.execute(
                    sa.select(users.c.agent_id, users.c.email)
                    .where(
                        users.c.tenant_id == tenant_id,
                        users.c.role == Role.AGENT.value,
                        users.c.agent_id.is_not(None),
                        users.c.is_active.is_(True),
                    )
                    .order_by(users.c.agent_id)
                ).all()
                audiences: list[tuple[str, tuple[str, ...], TenantScope]] = [
                    (f"agent-{int(r.agent_id)}", (r.email,), agent_scope(tenant_id, r.agent_id))
                    for r in agent_users
                ]
            else:
                scope = _creator_scope(connection, tenant_id, schedule.created_by)
                audiences = [("all", schedule.recipients, scope)]
        produced = []
        for key, recipients, scope in audiences:
            rendered = [
                render(report, fmt, warehouse, scope, as_of=as_of, generated_at=generated_at)
                for fmt in schedule.formats or ("pdf",)
            ]
            files = tuple(RenderedFile(r.filename, r.content_type, r.content) for r in rendered)
            produced.append(
                AudienceReport(
                    key=key,
                    recipients=tuple(recipients),
                    title=rendered[0].title,
                    summary_html=rendered[0].summary_html,
                    files=files,
                )
            )
        return produced


def build_runner(settings: Settings, warehouse: Warehouse) -> Runner:
    return Runner(
        warehouse=warehouse,
        outbox=Outbox.from_settings(settings),
        policy=DeliveryPolicy(
            data_dir=settings.data_dir,
            max_attempts=settings.delivery_max_attempts,
            retry_seconds=settings.delivery_retry_seconds,
        ),
        producer=ReportsProducer(),
        load_settings=load_alert_settings,
    )


def start_scheduler(settings: Settings, warehouse: Warehouse) -> Scheduler | None:
    """The started runner, or None when DEALSCOPE_SCHEDULER_ENABLED is false (or unset in
    the test environment)."""
    if not settings.runs_scheduler:
        return None
    scheduler = Scheduler(
        build_runner(settings, warehouse),
        tick_seconds=settings.scheduler_tick_seconds,
        alert_minutes=settings.alert_interval_minutes,
    )
    scheduler.start()
    return scheduler
