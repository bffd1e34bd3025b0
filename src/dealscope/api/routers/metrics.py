"""/metrics: the metric catalog and metric queries (DESIGN.md §5).

Both need data:read. A query runs with the caller's data scope: an agent's figures count
only their own rows, a manager's their team's; metrics over tables without agent rows
(marketing spend, targets) are refused to such callers with 403 scope_violation.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel

from dealscope.analytics.registry import list_metrics
from dealscope.analytics.specs import MetricInfo, MetricQuery, MetricResult
from dealscope.api.analytics_deps import analytics_service, tenant_timezone, tenant_today
from dealscope.api.auth.principal import Principal
from dealscope.api.cache import ResponseCacheDep, cached_response
from dealscope.api.deps import WarehouseDep, require
from dealscope.kit.roles import Permission

router = APIRouter(prefix="/metrics", tags=["metrics"])

DataReader = Annotated[Principal, Depends(require(Permission.READ_DATA))]


class MetricCatalogRead(BaseModel):
    """Every metric the API can compute, by slug."""

    metrics: list[MetricInfo]


@router.get("", summary="The metric catalog: slug, label, unit, description, dimensions")
def list_metric_catalog(principal: DataReader) -> MetricCatalogRead:
    return MetricCatalogRead(
        metrics=[
            MetricInfo(
                slug=m.slug,
                label=m.label,
                unit=m.unit,
                description=m.description,
                dimensions=sorted(m.dimensions),
                higher_is_better=m.higher_is_better,
                targetable=m.additive,
            )
            for m in list_metrics()
        ]
    )


@router.post(
    "/query",
    response_model=MetricResult,
    summary="Compute metrics over a period, split, filtered and compared",
)
def query_metrics(
    query: MetricQuery, principal: DataReader, warehouse: WarehouseDep, cache: ResponseCacheDep
) -> Response:
    """Unknown metrics, and dimensions or filters a metric does not support, are refused
    with 400 naming them. `as_of` defaults to today in the tenant's time zone."""
    day = query.as_of or tenant_today(tenant_timezone(warehouse, principal.tenant_id))
    resolved = query.model_copy(update={"as_of": day})
    return cached_response(
        cache,
        warehouse,
        principal,
        "metrics.query",
        resolved.model_dump(mode="json"),
        lambda: analytics_service(warehouse, principal, day).query(resolved),
    )
