"""GET /dashboard/revenue: totals, breakdowns, monthly series, pacing against plan and
concentration risk of the period's closings."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from dealscope.analytics.revenue import compute_revenue
from dealscope.analytics.sources import Sources
from dealscope.api.analytics_schemas.params import ObservationDep, observation_params
from dealscope.api.analytics_schemas.revenue import RevenueRead
from dealscope.api.auth.principal import Principal
from dealscope.api.cache import ResponseCacheDep, cached_response
from dealscope.api.deps import WarehouseDep, require
from dealscope.kit.roles import Permission

router = APIRouter(prefix="/dashboard", tags=["dashboards"])

DataReader = Annotated[Principal, Depends(require(Permission.READ_DATA))]


@router.get(
    "/revenue",
    response_model=RevenueRead,
    summary="Revenue totals, breakdowns, monthly series, pacing and concentration",
)
def read_revenue(
    principal: DataReader,
    warehouse: WarehouseDep,
    cache: ResponseCacheDep,
    observation: ObservationDep,
) -> Response:
    """Agents see their own closings, managers their team's; the plan (target) shows for
    tenant-wide roles only."""
    return cached_response(
        cache,
        warehouse,
        principal,
        "dashboard.revenue",
        observation_params(observation),
        lambda: RevenueRead.model_validate(
            compute_revenue(Sources(warehouse, principal.scope), observation)
        ),
    )
