"""GET /dashboard/speed-to-lead: how fast new leads hear from a person, and what it is worth."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from dealscope.analytics.sources import Sources
from dealscope.analytics.speed import compute_speed_to_lead
from dealscope.api.analytics_schemas.params import ObservationDep, observation_params
from dealscope.api.analytics_schemas.speed import SpeedToLeadRead
from dealscope.api.auth.principal import Principal
from dealscope.api.cache import ResponseCacheDep, cached_response
from dealscope.api.deps import WarehouseDep, require
from dealscope.kit.roles import Permission

router = APIRouter(prefix="/dashboard", tags=["dashboards"])

DataReader = Annotated[Principal, Depends(require(Permission.READ_DATA))]


@router.get(
    "/speed-to-lead",
    response_model=SpeedToLeadRead,
    summary="Response times, SLA breaches and win rate by response",
)
def read_speed_to_lead(
    principal: DataReader,
    warehouse: WarehouseDep,
    cache: ResponseCacheDep,
    observation: ObservationDep,
    sla_minutes: Annotated[
        float, Query(gt=0, le=10_080, description="The response-time target, minutes.")
    ] = 5.0,
) -> Response:
    """Agents see their own leads, managers their team's (the caller's data scope)."""
    return cached_response(
        cache,
        warehouse,
        principal,
        "dashboard.speed_to_lead",
        {**observation_params(observation), "sla_minutes": sla_minutes},
        lambda: SpeedToLeadRead.model_validate(
            compute_speed_to_lead(Sources(warehouse, principal.scope), observation, sla_minutes)
        ),
    )
