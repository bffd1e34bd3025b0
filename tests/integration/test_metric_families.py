"""Metrics of one family (the same base rows) computed together in one aggregate give what
each gives alone: the same values and the same keys, split, filtered and bucketed, on
DuckDB and PostgreSQL (metrics_scenario, February 2024)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from metrics_scenario import A100, TENANT, load_scenario

from dealscope.analytics.dimensions import Frame
from dealscope.analytics.metrics.base import Family, Metric
from dealscope.analytics.periods import Grain, Period
from dealscope.analytics.registry import METRICS
from dealscope.analytics.service import AnalyticsService
from dealscope.analytics.sources import Sources
from dealscope.analytics.specs import Dimension
from dealscope.warehouse.engine import Warehouse
from dealscope.warehouse.tenancy import TenantScope

AS_OF = dt.date(2024, 3, 31)
FEBRUARY = Period(dt.date(2024, 2, 1), dt.date(2024, 3, 1))


def _families() -> dict[str, list[Metric]]:
    found: dict[Family, list[Metric]] = {}
    for metric in METRICS.values():
        if metric.family is not None:
            found.setdefault(metric.family, []).append(metric)
    return {family.name: members for family, members in found.items()}


FAMILIES = _families()
SHAPES: dict[str, dict[str, object]] = {
    "whole": {},
    "by agent": {"dimensions": (Dimension.AGENT,)},
    "by team": {"dimensions": (Dimension.TEAM,)},
    "by week": {"grain": Grain.WEEK},
    "by day and agent": {"grain": Grain.DAY, "dimensions": (Dimension.AGENT,)},
    "one agent": {"filters": {Dimension.AGENT: (str(A100),)}},
    "one team by month": {"grain": Grain.MONTH, "filters": {Dimension.TEAM: ("20",)}},
}


@pytest.fixture
def scenario(warehouse: Warehouse) -> Iterator[Warehouse]:
    load_scenario(warehouse)
    yield warehouse


def test_the_families_cover_the_scorecard_metrics() -> None:
    assert set(FAMILIES) == {"leads", "activities", "closed deals", "open deals"}
    assert {m.slug for m in FAMILIES["leads"]} >= {"new_leads", "speed_to_lead_p90_minutes"}


@pytest.mark.parametrize("shape", list(SHAPES))
def test_a_family_together_equals_its_members_alone(scenario: Warehouse, shape: str) -> None:
    service = AnalyticsService(Sources(scenario, TenantScope(TENANT)), AS_OF, "UTC")
    kw = SHAPES[shape]
    frame = Frame(service.sources, FEBRUARY, AS_OF, service.zone, **kw)  # type: ignore[arg-type]
    wanted = set(frame.wanted)
    for name, members in FAMILIES.items():
        metrics = [m for m in members if wanted <= m.dimensions]
        (together,) = service.compute_many([(frame, metrics)])
        alone = {m.slug: service.compute(m, frame) for m in metrics}
        assert together == alone, (name, shape)
