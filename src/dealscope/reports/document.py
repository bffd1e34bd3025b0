"""A report ready to render: its spec answered under one scope on one day, with the tenant's
name, currency and branding, who it is for, when it was made and how fresh its data is."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import ibis
import pandas as pd
import sqlalchemy as sa

from dealscope.analytics.service import AnalyticsService
from dealscope.analytics.sources import Sources
from dealscope.errors import NotFound, ValidationFailed
from dealscope.reports.branding import Branding, load_branding
from dealscope.reports.compute import SectionData, compute_section
from dealscope.reports.specs import Audience, ReportSpec
from dealscope.warehouse.engine import Warehouse
from dealscope.warehouse.schema import tenants
from dealscope.warehouse.tenancy import TenantScope


@dataclass(frozen=True)
class TenantInfo:
    name: str
    currency: str
    timezone: str


@dataclass
class ReportDocument:
    spec: ReportSpec
    tenant: TenantInfo
    branding: Branding
    as_of: dt.date
    generated_at: dt.datetime  # aware
    data_as_of: dt.datetime | None  # the newest lead or activity the figures include
    audience: str  # who the figures are of: the whole brokerage, a team, an agent
    sections: list[SectionData]

    @property
    def brand_name(self) -> str:
        return self.branding.display_name or self.tenant.name

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tenant.timezone)

    def local(self, moment: dt.datetime | None) -> str:
        """`moment` in the tenant's time zone, as people read it."""
        if moment is None:
            return "no data yet"
        return moment.astimezone(self.zone).strftime("%Y-%m-%d %H:%M %Z")

    @property
    def subtitle(self) -> str | None:
        if self.spec.audience == Audience.EACH_AGENT:
            return self.audience
        return self.spec.subtitle


def load_tenant(connection: sa.Connection, tenant_id: int) -> TenantInfo:
    row = connection.execute(
        sa.select(tenants.c.name, tenants.c.currency, tenants.c.timezone).where(
            tenants.c.id == tenant_id
        )
    ).first()
    if row is None:
        raise NotFound(f"tenant {tenant_id} does not exist")
    return TenantInfo(str(row.name), str(row.currency), str(row.timezone))


def describe_scope(sources: Sources, tenant_name: str) -> str:
    """Whose figures these are: the whole brokerage, or its agents by name."""
    agent_ids = sources.scope.agent_ids
    if agent_ids is None:
        return f"{tenant_name}: all agents"
    if not agent_ids:
        return "no agents (this account is linked to none)"
    t = sources.table("agents")
    names = sources.frame(t.select(name=t.first_name.concat(" ", t.last_name)).order_by("name"))[
        "name"
    ].tolist()
    if len(names) == 1:
        return str(names[0])
    shown = ", ".join(str(n) for n in names[:4])
    return f"{len(names)} agents: {shown}" + (", …" if len(names) > 4 else "")


def data_as_of(sources: Sources, until: dt.datetime) -> dt.datetime | None:
    """The newest lead or activity time in scope, up to `until` (the as-of day's end)."""
    newest: list[dt.datetime] = []
    for table, column in (("contacts", "created_at"), ("activities", "occurred_at")):
        t = sources.table(table)
        value = sources.execute(t.filter(t[column] < ibis.literal(until))[column].max())
        if not isinstance(value, dt.datetime) or pd.isna(value):  # None or NaT: no rows
            continue
        moment = pd.Timestamp(value).to_pydatetime()
        newest.append(moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC))
    return max(newest, default=None)


def build_document(
    spec: ReportSpec,
    warehouse: Warehouse,
    scope: TenantScope,
    as_of: dt.date,
    generated_at: dt.datetime,
) -> ReportDocument:
    """Answer every section of `spec` under `scope` on `as_of` (ValidationFailed naming the
    section at fault; ScopeViolation when the scope may not see a metric's table)."""
    if spec.audience == Audience.EACH_AGENT and (
        scope.agent_ids is None or len(scope.agent_ids) != 1
    ):
        raise ValidationFailed(
            f"{spec.title!r} shows one agent's own figures: render it for one agent "
            "(agent_id), or schedule it to go to each agent"
        )
    with warehouse.engine.connect() as connection:
        tenant = load_tenant(connection, scope.tenant_id)
        branding = load_branding(connection, scope.tenant_id)
    sources = Sources(warehouse, scope)
    service = AnalyticsService(sources, as_of, tenant.timezone)
    sections = [
        compute_section(service, section, number)
        for number, section in enumerate(spec.sections, start=1)
    ]
    day_end = dt.datetime.combine(
        as_of + dt.timedelta(days=1), dt.time(), ZoneInfo(tenant.timezone)
    )
    return ReportDocument(
        spec=spec,
        tenant=tenant,
        branding=branding,
        as_of=as_of,
        generated_at=generated_at,
        data_as_of=data_as_of(sources, day_end.astimezone(dt.UTC)),
        audience=describe_scope(sources, branding.display_name or tenant.name),
        sections=sections,
    )
