"""GET /dashboard/speed-to-lead: how fast new leads hear from a person, and what it is worth."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from dealscope.analytics.sources import Sources
from dealscope.analytics.speed import compute_speed_to_lead
from dealscope.api.analytics_schemas.params import ObservationDep
from dealscope.api.analytics_schemas.speed import SpeedToLeadRead
from dealscope.api.auth.principal import Principal
from dealscope.api.deps import WarehouseDep, require
from dealscope.kit.roles import Permission

router = APIRouter(prefix="/dashboard", tags=["dashboards"])

DataReader = Annotated[Principal, Depends(require(Permission.READ_DATA))]


@router.get("/speed-to-lead", summary="Response times, SLA breaches and win rate by response")
def read_speed_to_lead(
    principal: DataReader,
    warehouse: WarehouseDep,
    observation: ObservationDep,
    sla_minutes: Annotated[
        float, Query(gt=0, le=10_080, description="The response-time target, minutes.")
    ] = 5.0,
) -> SpeedToLeadRead:
    """Agents see their own leads, managers their team's (the caller's data scope)."""
    report = compute_speed_to_lead(Sources(warehouse, principal.scope), observation, sla_minutes)
    return SpeedToLeadRead.model_validate(report)
