"""GET /dashboard/pipeline: the stage funnel, velocity, aging and flows of the pipeline."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from dealscope.analytics.periods import Grain
from dealscope.analytics.pipeline import compute_pipeline
from dealscope.analytics.sources import Sources
from dealscope.api.analytics_schemas.params import ObservationDep, observation_params
from dealscope.api.analytics_schemas.pipeline import PipelineRead
from dealscope.api.auth.principal import Principal
from dealscope.api.cache import ResponseCacheDep, cached_response
from dealscope.api.deps import WarehouseDep, require
from dealscope.kit.roles import Permission

router = APIRouter(prefix="/dashboard", tags=["dashboards"])

DataReader = Annotated[Principal, Depends(require(Permission.READ_DATA))]


@router.get(
    "/pipeline",
    response_model=PipelineRead,
    summary="Stage funnel, lead volume, velocity, aging and flows",
)
def read_pipeline(
    principal: DataReader,
    warehouse: WarehouseDep,
    cache: ResponseCacheDep,
    observation: ObservationDep,
    grain: Annotated[
        Grain | None,
        Query(description="Bucket of the volume series (default: week up to 92 days, else month)."),
    ] = None,
) -> Response:
    """Agents see their own deals, managers their team's (the caller's data scope)."""
    return cached_response(
        cache,
        warehouse,
        principal,
        "dashboard.pipeline",
        {**observation_params(observation), "grain": grain},
        lambda: PipelineRead.model_validate(
            compute_pipeline(Sources(warehouse, principal.scope), observation, grain)
        ),
    )
