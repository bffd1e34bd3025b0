"""GET /analytics/anomalies: unusual days in the caller's daily metrics, with the range that
was expected."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from dealscope.analytics.anomaly_service import AnomalyMetric, detect_anomalies
from dealscope.analytics.sources import Sources
from dealscope.api.analytics_deps import tenant_timezone, tenant_today
from dealscope.api.analytics_schemas.anomalies import AnomaliesRead
from dealscope.api.analytics_schemas.params import AsOfQuery
from dealscope.api.auth.principal import Principal
from dealscope.api.cache import ResponseCacheDep, cached_response
from dealscope.api.deps import WarehouseDep, require
from dealscope.kit.roles import Permission

router = APIRouter(prefix="/analytics", tags=["anomalies"])

DataReader = Annotated[Principal, Depends(require(Permission.READ_DATA))]


@router.get(
    "/anomalies",
    response_model=AnomaliesRead,
    summary="Anomalous days in new leads, revenue, speed to lead and webhook failures",
)
def read_anomalies(
    principal: DataReader,
    warehouse: WarehouseDep,
    cache: ResponseCacheDep,
    metrics: Annotated[
        list[AnomalyMetric] | None, Query(description="Series to examine (default: all).")
    ] = None,
    days: Annotated[int, Query(ge=1, le=365, description="Days listed, up to as_of.")] = 30,
    lookback_days: Annotated[
        int, Query(ge=28, le=400, description="Days each series is fitted on.")
    ] = 91,
    threshold: Annotated[
        float, Query(gt=0, le=20, description="Robust z-score beyond which a day is flagged.")
    ] = 3.5,
    as_of: AsOfQuery = None,
) -> Response:
    """Each series is judged against its own trend and weekday pattern (robust STL, MAD
    scale); days unusual across series come from an IsolationForest. Webhook failures are
    tenant-wide and shown to tenant-wide roles only."""
    timezone = tenant_timezone(warehouse, principal.tenant_id)
    day = as_of or tenant_today(timezone)
    chosen = list(dict.fromkeys(metrics or list(AnomalyMetric)))
    params = {
        "metrics": [m.value for m in chosen],
        "days": days,
        "lookback_days": lookback_days,
        "threshold": threshold,
        "as_of": day,
        "timezone": timezone,
    }
    return cached_response(
        cache,
        warehouse,
        principal,
        "analytics.anomalies",
        params,
        lambda: AnomaliesRead.model_validate(
            detect_anomalies(
                Sources(warehouse, principal.scope),
                timezone,
                day,
                chosen,
                days,
                max(lookback_days, days),
                threshold,
            )
        ),
    )
