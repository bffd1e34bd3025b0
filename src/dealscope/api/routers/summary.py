"""GET /dashboard/summary: the executive summary (KPI cards, revenue to date, pipeline
health, top agents). Needs data:read; figures follow the caller's data scope."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from dealscope.analytics.periods import Compare, RangeName
from dealscope.analytics.summary import SummaryRead, compute_summary
from dealscope.api.alert_schemas import summary_alerts
from dealscope.api.analytics_deps import analytics_service, tenant_timezone, tenant_today
from dealscope.api.auth.principal import Principal
from dealscope.api.cache import ResponseCacheDep, cached_response
from dealscope.api.deps import WarehouseDep, require
from dealscope.kit.roles import Permission
from dealscope.warehouse.engine import Warehouse

router = APIRouter(prefix="/dashboard", tags=["dashboards"])

DataReader = Annotated[Principal, Depends(require(Permission.READ_DATA))]


@router.get(
    "/summary",
    response_model=SummaryRead,
    summary="KPI cards, revenue to date, pipeline health and top agents",
)
def read_summary(
    principal: DataReader,
    warehouse: WarehouseDep,
    cache: ResponseCacheDep,
    range_name: Annotated[
        RangeName, Query(alias="range", description="The period (custom needs start and end).")
    ] = RangeName.LAST_30_DAYS,
    compare: Annotated[
        Compare, Query(description="What the cards compare with.")
    ] = Compare.PREVIOUS_PERIOD,
    start: Annotated[dt.date | None, Query(description="First day of a custom range.")] = None,
    end: Annotated[dt.date | None, Query(description="Last day of a custom range.")] = None,
    as_of: Annotated[
        dt.date | None,
        Query(description="The day seen from (default: today in the tenant's time zone)."),
    ] = None,
) -> Response:
    """An agent's summary counts only their rows and lists only themselves among the top
    agents; plans (targets) show for tenant-wide roles only."""
    day = as_of or tenant_today(tenant_timezone(warehouse, principal.tenant_id))
    params = {"range": range_name, "compare": compare, "start": start, "end": end, "as_of": day}
    return cached_response(
        cache,
        warehouse,
        principal,
        "summary",
        params,
        lambda: _with_alerts(
            compute_summary(
                analytics_service(warehouse, principal, day), range_name, compare, start, end
            ),
            warehouse,
            principal,
        ),
    )


def _with_alerts(summary: SummaryRead, warehouse: Warehouse, principal: Principal) -> SummaryRead:
    """The summary with the open alerts (alert changes move the data version, so a cached
    summary never shows a stale list)."""
    with warehouse.engine.connect() as connection:
        return summary.model_copy(update={"alerts": summary_alerts(connection, principal)})
