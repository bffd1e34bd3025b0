"""GET /dashboard/funnel: conversion through chosen stages, by segment and against history."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from dealscope.analytics.funnel import FunnelBreakdown, FunnelQuery, compute_funnel
from dealscope.analytics.funnel_walk import FunnelOrder
from dealscope.analytics.sources import Sources
from dealscope.analytics.stages import PIPELINE_STAGES
from dealscope.api.analytics_schemas.funnel import FunnelRead
from dealscope.api.analytics_schemas.params import ObservationDep, observation_params
from dealscope.api.auth.principal import Principal
from dealscope.api.cache import ResponseCacheDep, cached_response
from dealscope.api.deps import WarehouseDep, require
from dealscope.kit.roles import Permission

router = APIRouter(prefix="/dashboard", tags=["dashboards"])

DataReader = Annotated[Principal, Depends(require(Permission.READ_DATA))]
SegmentQuery = Annotated[
    str | None,
    Query(
        max_length=100,
        description="A segment to compare: source:<key> or agent:<id> (give both a and b).",
        examples=["source:zillow"],
    ),
]


@router.get(
    "/funnel",
    response_model=FunnelRead,
    summary="Conversion through chosen steps, bottleneck and A/B comparison",
)
def read_funnel(
    principal: DataReader,
    warehouse: WarehouseDep,
    cache: ResponseCacheDep,
    observation: ObservationDep,
    steps: Annotated[
        str,
        Query(
            max_length=200,
            description="Comma-separated stages, in funnel order.",
            examples=["contacted,appointment,offer,closed_won"],
        ),
    ] = ",".join(PIPELINE_STAGES),
    window_days: Annotated[
        int, Query(ge=1, le=3650, description="Conversion window from step 1, days.")
    ] = 90,
    order: Annotated[FunnelOrder, Query(description="strict: steps in order; any: any order.")] = (
        FunnelOrder.STRICT
    ),
    breakdown: Annotated[FunnelBreakdown | None, Query(description="Split the funnel.")] = None,
    segment_a: SegmentQuery = None,
    segment_b: SegmentQuery = None,
) -> Response:
    """Agents see their own deals, managers their team's (the caller's data scope)."""
    query = FunnelQuery(
        steps=tuple(s.strip() for s in steps.split(",") if s.strip()),
        window_days=window_days,
        order=order,
        breakdown=breakdown,
        segment_a=segment_a,
        segment_b=segment_b,
    )
    return cached_response(
        cache,
        warehouse,
        principal,
        "dashboard.funnel",
        {**observation_params(observation), **asdict(query)},
        lambda: FunnelRead.model_validate(
            compute_funnel(Sources(warehouse, principal.scope), observation, query)
        ),
    )
