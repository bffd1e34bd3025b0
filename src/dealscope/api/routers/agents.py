"""GET /dashboard/agents/{agent_id}, /dashboard/teams and /dashboard/teams/{team_id}: the agent
drill-down and the team roll-up. Need data:read; an agent opens only their own id, a manager
their team's agents and team (anything else is 404, as for an id that does not exist)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response

from dealscope.analytics.agents import compute_agent_detail, compute_team_detail, compute_teams
from dealscope.api.analytics_deps import scoped_service
from dealscope.api.analytics_schemas.agents import AgentDetailRead, TeamDetailRead, TeamsRead
from dealscope.api.analytics_schemas.params import ObservationDep, observation_params
from dealscope.api.auth.principal import Principal
from dealscope.api.cache import ResponseCacheDep, cached_response
from dealscope.api.deps import WarehouseDep, require
from dealscope.api.schemas import ErrorRead
from dealscope.kit.roles import Permission

router = APIRouter(prefix="/dashboard", tags=["dashboards"])

DataReader = Annotated[Principal, Depends(require(Permission.READ_DATA))]
NOT_FOUND = {404: {"model": ErrorRead, "description": "No such agent or team in your scope."}}


@router.get(
    "/agents/{agent_id}",
    response_model=AgentDetailRead,
    responses=NOT_FOUND,  # type: ignore[arg-type]
    summary="One agent: scorecard, activities, pipeline, team comparison, trend, quota",
)
def read_agent(
    agent_id: Annotated[int, Path(description="The agent's id.")],
    principal: DataReader,
    warehouse: WarehouseDep,
    cache: ResponseCacheDep,
    observation: ObservationDep,
) -> Response:
    def compute() -> AgentDetailRead:
        service = scoped_service(warehouse, principal, observation.as_of, observation.timezone)
        return AgentDetailRead.model_validate(
            compute_agent_detail(service, agent_id, observation.period)
        )

    params = {**observation_params(observation), "agent_id": agent_id}
    return cached_response(cache, warehouse, principal, "dashboard.agent", params, compute)


@router.get(
    "/teams",
    response_model=TeamsRead,
    summary="Teams: totals, per-agent averages, share of GCI and plan",
)
def read_teams(
    principal: DataReader,
    warehouse: WarehouseDep,
    cache: ResponseCacheDep,
    observation: ObservationDep,
) -> Response:
    """A manager sees their team, an agent their own figures as their team's."""

    def compute() -> TeamsRead:
        service = scoped_service(warehouse, principal, observation.as_of, observation.timezone)
        return TeamsRead.model_validate(compute_teams(service, observation.period))

    params = observation_params(observation)
    return cached_response(cache, warehouse, principal, "dashboard.teams", params, compute)


@router.get(
    "/teams/{team_id}",
    response_model=TeamDetailRead,
    responses=NOT_FOUND,  # type: ignore[arg-type]
    summary="One team: figures, agents ranked, trend and plans",
)
def read_team(
    team_id: Annotated[int, Path(description="The team's id.")],
    principal: DataReader,
    warehouse: WarehouseDep,
    cache: ResponseCacheDep,
    observation: ObservationDep,
) -> Response:
    def compute() -> TeamDetailRead:
        service = scoped_service(warehouse, principal, observation.as_of, observation.timezone)
        return TeamDetailRead.model_validate(
            compute_team_detail(service, team_id, observation.period)
        )

    params = {**observation_params(observation), "team_id": team_id}
    return cached_response(cache, warehouse, principal, "dashboard.team", params, compute)
