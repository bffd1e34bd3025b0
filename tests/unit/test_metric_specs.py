"""Metric query validation and the registry's promises, without a database."""

from __future__ import annotations

import pydantic
import pytest

from dealscope.analytics.registry import METRICS, get_metric
from dealscope.analytics.service import validate_query
from dealscope.analytics.specs import Dimension, MetricQuery, Unit
from dealscope.errors import ValidationFailed


def test_the_registry_has_thirty_metrics_with_honest_dimensions() -> None:
    assert len(METRICS) >= 30
    for slug, metric in METRICS.items():
        assert slug == metric.slug and slug.islower() and " " not in slug
        assert metric.label and metric.description and metric.build.__doc__, slug
    # spend is recorded per source/medium/campaign: no agent, team or zip
    assert METRICS["marketing_spend"].dimensions == {
        Dimension.SOURCE,
        Dimension.MEDIUM,
        Dimension.CAMPAIGN,
    }
    assert METRICS["quota_attainment"].dimensions == {Dimension.AGENT, Dimension.TEAM}
    assert Dimension.STAGE not in METRICS["deals_won"].dimensions
    assert METRICS["speed_to_lead_median_minutes"].unit == Unit.DURATION_MINUTES
    assert not METRICS["average_deal_size"].additive and METRICS["gci"].additive


def test_an_unknown_metric_is_named() -> None:
    with pytest.raises(ValidationFailed, match="'revenue_magic'"):
        get_metric("revenue_magic")
    with pytest.raises(ValidationFailed, match="'nope'"):
        validate_query(MetricQuery(metrics=["gci", "nope"]))


def test_a_dimension_a_metric_lacks_is_named() -> None:
    with pytest.raises(ValidationFailed, match=r"'marketing_spend' cannot .* by agent"):
        validate_query(MetricQuery(metrics=["gci", "marketing_spend"], dimensions=["agent"]))
    with pytest.raises(ValidationFailed, match=r"'win_rate' cannot .* by stage"):
        validate_query(MetricQuery(metrics=["win_rate"], filters={"stage": ["offer"]}))


def test_targets_only_for_totals_and_by_agent_or_team() -> None:
    with pytest.raises(ValidationFailed, match="'win_rate' has no targets"):
        validate_query(MetricQuery(metrics=["win_rate"], compare="target"))
    with pytest.raises(ValidationFailed, match="agent or team"):
        validate_query(MetricQuery(metrics=["gci"], dimensions=["source"], compare="target"))
    assert validate_query(MetricQuery(metrics=["gci"], dimensions=["team"], compare="target"))


def test_payload_errors() -> None:
    with pytest.raises(pydantic.ValidationError, match="dimension"):
        MetricQuery(metrics=["gci"], dimensions=["planet"])  # type: ignore[list-item]
    with pytest.raises(pydantic.ValidationError, match="more than once"):
        MetricQuery(metrics=["gci", "gci"])
    with pytest.raises(pydantic.ValidationError):
        MetricQuery(metrics=[])
    example = MetricQuery.model_json_schema()["examples"][0]
    assert validate_query(MetricQuery.model_validate(example))
