"""GET /dashboard/agents: the agent leaderboard (GCI, deals, conversion, speed to lead)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from dealscope.analytics.leaderboard import SortBy, compute_leaderboard
from dealscope.api.analytics_deps import scoped_service
from dealscope.api.analytics_schemas.leaderboard import LeaderboardRead
from dealscope.api.analytics_schemas.params import ObservationDep, observation_params
from dealscope.api.auth.principal import Principal
from dealscope.api.cache import ResponseCacheDep, cached_response
from dealscope.api.deps import WarehouseDep, require
from dealscope.kit.roles import Permission

router = APIRouter(prefix="/dashboard", tags=["dashboards"])

DataReader = Annotated[Principal, Depends(require(Permission.READ_DATA))]


@router.get(
    "/agents",
    response_model=LeaderboardRead,
    summary="Agent leaderboard by GCI, deals, conversion or speed to lead",
)
def read_agents(
    principal: DataReader,
    warehouse: WarehouseDep,
    cache: ResponseCacheDep,
    observation: ObservationDep,
    sort_by: Annotated[SortBy, Query(description="The figure agents are ranked by.")] = SortBy.GCI,
) -> Response:
    """Agents see only their own row, managers their team's (the caller's data scope)."""

    def compute() -> LeaderboardRead:
        service = scoped_service(warehouse, principal, observation.as_of, observation.timezone)
        return LeaderboardRead.model_validate(
            compute_leaderboard(service, observation.period, sort_by)
        )

    return cached_response(
        cache,
        warehouse,
        principal,
        "dashboard.agents",
        {**observation_params(observation), "sort_by": sort_by},
        compute,
    )
