"""The executive summary over the hand-built brokerage of metrics_scenario (February 2024,
seen on 31 March), on DuckDB and PostgreSQL: its cards are the registry's values (worked out
in test_metrics), and computing the figures in one stacked query gives exactly what one
query per figure gives."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from metrics_scenario import TENANT, load_scenario

from dealscope.analytics import summary as summary_module
from dealscope.analytics.periods import Compare, RangeName
from dealscope.analytics.service import AnalyticsService
from dealscope.analytics.sources import Sources
from dealscope.analytics.summary import SummaryRead, compute_summary
from dealscope.warehouse.engine import Warehouse
from dealscope.warehouse.tenancy import TenantScope

AS_OF = dt.date(2024, 3, 31)


@pytest.fixture
def scenario(warehouse: Warehouse) -> Iterator[Warehouse]:
    load_scenario(warehouse)
    yield warehouse


def _february(warehouse: Warehouse) -> SummaryRead:
    service = AnalyticsService(Sources(warehouse, TenantScope(TENANT)), AS_OF)
    return compute_summary(
        service,
        RangeName.CUSTOM,
        Compare.PREVIOUS_PERIOD,
        dt.date(2024, 2, 1),
        dt.date(2024, 2, 29),
    )


def test_cards_and_revenue_to_date(scenario: Warehouse) -> None:
    got = _february(scenario)
    cards = {c.slug: c for c in got.cards}
    assert cards["new_leads"].value == 3
    assert cards["gci"].value == 19_500
    assert cards["gci"].target == 26_000  # February's company plan
    assert cards["gci"].attainment == pytest.approx(19_500 / 26_000)
    # January 3 - 31 (29 days before 1 February): closing t4 on 31 January, GCI 9,000
    assert cards["gci"].comparison == 9_000
    assert cards["deals_won"].value == 1 and cards["deals_won"].target == 2
    assert cards["pipeline_value"].value == 700_000
    quarter = next(r for r in got.revenue if r.label == "Quarter to date")
    # Q1 to 31 March: t4 9,000 + t1 12,000 + t2 7,500 + t3 29,970
    assert quarter.gci == 58_470
    assert [(a.agent_id, a.gci) for a in got.top_agents] == [(100, 12_000), (101, 7_500)]


def test_batched_figures_equal_one_query_each(
    scenario: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    batched = _february(scenario)
    monkeypatch.setattr(summary_module._Summary, "prefetch", lambda self, values, targets: None)
    one_by_one = _february(scenario)
    assert batched == one_by_one
