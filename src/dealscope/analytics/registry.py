"""The metric registry: every metric by its stable slug (DESIGN.md §5).

The API, dashboards, reports and alerts name metrics by slug; `get_metric` turns a slug into
its definition and refuses unknown ones with a message that names them.
"""

from __future__ import annotations

from dealscope.analytics.metrics import activity, deals, leads, marketing, pipeline, revenue
from dealscope.analytics.metrics.base import Metric
from dealscope.errors import ValidationFailed

METRICS: dict[str, Metric] = {
    metric.slug: metric
    for family in (leads, activity, deals, pipeline, revenue, marketing)
    for metric in family.METRICS
}


def get_metric(slug: str) -> Metric:
    """The metric named `slug`; ValidationFailed naming it when there is none."""
    metric = METRICS.get(slug)
    if metric is None:
        raise ValidationFailed(
            f"unknown metric {slug!r}; GET /api/v1/metrics lists the {len(METRICS)} known ones"
        )
    return metric


def list_metrics() -> list[Metric]:
    """Every metric, in catalog order (by family)."""
    return list(METRICS.values())
