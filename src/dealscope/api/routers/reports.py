"""/reports: render reports (PDF, Excel, CSV), save and share them, schedule them.

- POST /reports/generate (data:read): a saved report, a built-in template or an inline spec,
  rendered with the caller's figures (an agent's own, a manager's team's); answers a
  download id, or the file itself with `download: true`.
- GET /reports/download/{download_id} (data:read): a file the caller rendered (7 days).
- GET /reports/list (data:read): saved reports shared with the caller's role, and templates.
- POST /reports, PUT and DELETE /reports/{report_id} (reports:build): save, change, delete
  (owners and admins change and delete).
- POST /reports/schedule and DELETE /reports/schedules/{schedule_id} (reports:build), GET
  /reports/schedules (data:read): schedules the scheduler runs (row shape:
  `dealscope.reports.repository`).

Rendered files live under `<data_dir>/reports/<tenant_id>/`.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.responses import FileResponse

from dealscope.alerts.schedules import next_fire
from dealscope.api.analytics_deps import tenant_timezone, tenant_today
from dealscope.api.audit.records import add_audit_detail
from dealscope.api.auth.principal import Principal
from dealscope.api.deps import SettingsDep, WarehouseDep, require
from dealscope.api.report_schemas import (
    ReportGenerate,
    ReportGenerated,
    ReportList,
    ReportRead,
    ReportSave,
    ScheduleCreate,
    ScheduleRead,
    TemplateRead,
)
from dealscope.api.schemas import ErrorRead
from dealscope.errors import NotFound, ValidationFailed
from dealscope.kit.roles import Permission
from dealscope.reports import repository
from dealscope.reports.repository import SavedReport, Schedule
from dealscope.reports.service import agent_scope, render
from dealscope.reports.specs import Audience, ReportSpec, validate_spec
from dealscope.reports.store import get_stored_report, store_report
from dealscope.reports.templates import get_template, list_templates
from dealscope.warehouse.engine import Warehouse
from dealscope.warehouse.schema import agents
from dealscope.warehouse.tenancy import TenantScope, scope_select
from dealscope.warehouse.unit_of_work import unit_of_work

router = APIRouter(prefix="/reports", tags=["reports"])

Reader = Annotated[Principal, Depends(require(Permission.READ_DATA))]
Builder = Annotated[Principal, Depends(require(Permission.BUILD_REPORTS))]

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorRead, "description": "A bad spec: the message names what is wrong."},
    401: {"model": ErrorRead, "description": "No valid credentials."},
    403: {"model": ErrorRead, "description": "The role may not do this, or see that data."},
    404: {"model": ErrorRead, "description": "No such report in the caller's tenant."},
}


def _visible(connection: sa.Connection, principal: Principal, report_id: int) -> SavedReport:
    report = repository.get_report(connection, principal.tenant_id, report_id)
    if not report.visible_to(principal.role, principal.user_id):
        raise NotFound(f"report {report_id} does not exist")  # not shared: not there
    return report


def _editable(connection: sa.Connection, principal: Principal, report_id: int) -> SavedReport:
    report = _visible(connection, principal, report_id)
    if not report.editable_by(principal.role, principal.user_id):
        raise NotFound(f"report {report_id} is not yours to change (its owner or an admin may)")
    return report


def _read(report: SavedReport, principal: Principal) -> ReportRead:
    spec = report.resolved
    return ReportRead(
        id=report.id,
        name=report.name,
        owner_user_id=report.owner_user_id,
        template=report.template,
        spec=spec,
        audience=spec.audience,
        shared_with_roles=report.shared_with_roles,
        created_at=report.created_at,
        updated_at=report.updated_at,
        editable=report.editable_by(principal.role, principal.user_id),
    )


def _schedule_read(schedule: Schedule) -> ScheduleRead:
    return ScheduleRead(
        id=schedule.id,
        report_id=schedule.report_id,
        cron=schedule.cron,
        timezone=schedule.timezone,
        recipients=schedule.recipients,
        formats=schedule.formats,
        slack_webhook=schedule.slack_webhook_url is not None,
        is_enabled=schedule.is_enabled,
        next_run_at=schedule.next_run_at,
        last_run_at=schedule.last_run_at,
        created_by=schedule.created_by,
        created_at=schedule.created_at,
    )


def _render_scope(
    warehouse: Warehouse, principal: Principal, spec: ReportSpec, agent_id: int | None
) -> TenantScope:
    """The caller's scope, narrowed to `agent_id` when given (which must be within it); an
    agent's own one-agent report needs no agent_id."""
    scope = principal.scope
    if agent_id is None:
        if spec.audience == Audience.EACH_AGENT and principal.agent_id is not None:
            return agent_scope(principal.tenant_id, principal.agent_id)
        return scope
    with warehouse.engine.connect() as connection:
        stmt = scope_select(sa.select(agents.c.id), agents, TenantScope(principal.tenant_id))
        known = connection.execute(stmt.where(agents.c.id == agent_id)).first()
    if known is None:
        raise NotFound(f"agent {agent_id} does not exist")
    if scope.agent_ids is not None and agent_id not in scope.agent_ids:
        raise NotFound(f"agent {agent_id} is not within your scope")
    return agent_scope(principal.tenant_id, agent_id)


@router.post(
    "/generate",
    summary="Render a report as PDF, Excel or CSV",
    responses={**_ERRORS, 200: {"content": {"application/pdf": {}, "application/zip": {}}}},
    response_model=ReportGenerated,
)
def generate_report(
    body: ReportGenerate,
    principal: Reader,
    warehouse: WarehouseDep,
    settings: SettingsDep,
    request: Request,
) -> Response | ReportGenerated:
    """Figures are the caller's own scope (the same numbers POST /metrics/query gives it).
    Several CSV sections come as one zip."""
    if body.report_id is not None:
        with warehouse.engine.connect() as connection:
            spec = _visible(connection, principal, body.report_id).resolved
    else:
        spec = body.spec or get_template(body.template.value if body.template else "")
    spec = validate_spec(spec)
    scope = _render_scope(warehouse, principal, spec, body.agent_id)
    as_of = body.as_of or tenant_today(tenant_timezone(warehouse, principal.tenant_id))
    rendered = render(spec, body.format, warehouse, scope, as_of=as_of, period=body.period)
    add_audit_detail(request, title=spec.title, format=body.format.value)
    if body.download:
        return Response(
            rendered.content,
            media_type=rendered.content_type,
            headers={"Content-Disposition": f'attachment; filename="{rendered.filename}"'},
        )
    stored = store_report(
        settings.data_dir, principal.tenant_id, principal.subject, rendered, dt.datetime.now(dt.UTC)
    )
    return ReportGenerated(
        download_id=stored.download_id,
        download_url=f"{request.url_for('download_report', download_id=stored.download_id).path}",
        filename=stored.filename,
        content_type=stored.content_type,
        size_bytes=stored.size_bytes,
        title=stored.title,
        expires_at=stored.expires_at,
    )


@router.get(
    "/download/{download_id}",
    summary="Download a report the caller rendered",
    responses={**_ERRORS, 200: {"content": {"application/pdf": {}, "application/zip": {}}}},
    response_class=FileResponse,
)
def download_report(download_id: str, principal: Reader, settings: SettingsDep) -> FileResponse:
    stored, path = get_stored_report(
        settings.data_dir, principal.tenant_id, download_id, principal.subject
    )
    return FileResponse(path, media_type=stored.content_type, filename=stored.filename)


@router.get("/list", summary="Saved reports shared with the caller, and the templates")
def list_reports(principal: Reader, warehouse: WarehouseDep) -> ReportList:
    with warehouse.engine.connect() as connection:
        saved = repository.list_reports(connection, principal.tenant_id)
    return ReportList(
        reports=[
            _read(r, principal) for r in saved if r.visible_to(principal.role, principal.user_id)
        ],
        templates=[
            TemplateRead(
                name=name,
                title=spec.title,
                audience=spec.audience,
                sections=[s.title for s in spec.sections],
            )
            for name, spec in list_templates()
        ],
    )


@router.get("/schedules", summary="Schedules of the reports the caller may see")
def list_schedules(principal: Reader, warehouse: WarehouseDep) -> list[ScheduleRead]:
    with warehouse.engine.connect() as connection:
        visible = {
            r.id
            for r in repository.list_reports(connection, principal.tenant_id)
            if r.visible_to(principal.role, principal.user_id)
        }
        schedules = repository.list_schedules(connection, principal.tenant_id)
    return [_schedule_read(s) for s in schedules if s.report_id in visible]


@router.delete(
    "/schedules/{schedule_id}",
    summary="Stop a schedule",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_ERRORS,
)
def delete_schedule(schedule_id: int, principal: Builder, warehouse: WarehouseDep) -> None:
    """The report's owner or an admin may stop it; its delivery log stays."""
    with unit_of_work(warehouse) as uow:
        schedule = repository.find_schedule(uow.connection, principal.tenant_id, schedule_id)
        if schedule is None:
            raise NotFound(f"schedule {schedule_id} does not exist")
        _editable(uow.connection, principal, schedule.report_id)
        repository.delete_schedule(uow, schedule)


def _owner(principal: Principal) -> int:
    if principal.user_id is None:
        raise ValidationFailed("saving reports needs a signed-in user, not an API key")
    return principal.user_id


def _checked(body: ReportSave) -> ReportSpec | None:
    return None if body.spec is None else validate_spec(body.spec)


@router.post(
    "",
    summary="Save a report",
    status_code=status.HTTP_201_CREATED,
    responses=_ERRORS,
)
def create_report(
    body: ReportSave, principal: Builder, warehouse: WarehouseDep, request: Request
) -> ReportRead:
    owner = _owner(principal)
    spec = _checked(body)
    with unit_of_work(warehouse) as uow:
        report = repository.create_report(
            uow,
            principal.tenant_id,
            owner,
            body.name,
            spec,
            body.template,
            body.shared_with_roles,
            dt.datetime.now(dt.UTC),
        )
    add_audit_detail(request, report_id=report.id)
    return _read(report, principal)


@router.get("/{report_id}", summary="A saved report", responses=_ERRORS)
def get_report(report_id: int, principal: Reader, warehouse: WarehouseDep) -> ReportRead:
    with warehouse.engine.connect() as connection:
        return _read(_visible(connection, principal, report_id), principal)


@router.put("/{report_id}", summary="Change a saved report", responses=_ERRORS)
def update_report(
    report_id: int, body: ReportSave, principal: Builder, warehouse: WarehouseDep
) -> ReportRead:
    spec = _checked(body)
    with unit_of_work(warehouse) as uow:
        report = _editable(uow.connection, principal, report_id)
        saved = repository.update_report(
            uow,
            report,
            body.name,
            spec,
            body.template,
            body.shared_with_roles,
            dt.datetime.now(dt.UTC),
        )
    return _read(saved, principal)


@router.delete(
    "/{report_id}",
    summary="Delete a saved report and its schedules",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_ERRORS,
)
def delete_report(report_id: int, principal: Builder, warehouse: WarehouseDep) -> None:
    with unit_of_work(warehouse) as uow:
        repository.delete_report(uow, _editable(uow.connection, principal, report_id))


@router.post(
    "/schedule",
    summary="Schedule a report by email (and Slack)",
    status_code=status.HTTP_201_CREATED,
    responses=_ERRORS,
)
def schedule_report(
    body: ScheduleCreate, principal: Builder, warehouse: WarehouseDep, request: Request
) -> ScheduleRead:
    """The figures are those of the caller's scope when it runs; a report whose audience is
    each_agent goes to every agent with their own figures (recipients may then be empty)."""
    owner = _owner(principal)
    now = dt.datetime.now(dt.UTC)
    timezone = body.timezone or tenant_timezone(warehouse, principal.tenant_id)
    with unit_of_work(warehouse) as uow:
        if body.report_id is not None:
            report = _visible(uow.connection, principal, body.report_id)
        else:
            assert body.template is not None
            report = repository.create_report(
                uow,
                principal.tenant_id,
                owner,
                get_template(body.template.value).title,
                None,
                body.template,
                [],
                now,
            )
        if report.resolved.audience != Audience.EACH_AGENT and not (
            body.recipients or body.slack_webhook_url
        ):
            raise ValidationFailed("a schedule needs recipients or a Slack webhook")
        first_run = next_fire(body.cron, timezone, now)  # the scheduler's own cron rules
        schedule = repository.create_schedule(
            uow,
            principal.tenant_id,
            report.id,
            body.cron,
            timezone,
            body.recipients,
            body.formats,
            body.slack_webhook_url,
            owner,
            now,
            first_run,
        )
    add_audit_detail(request, report_id=report.id, schedule_id=schedule.id)
    return _schedule_read(schedule)
