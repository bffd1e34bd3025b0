"""Report specs, formatting, spreadsheet safety and SVG charts, without a warehouse."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from dealscope.analytics.specs import Unit
from dealscope.errors import ValidationFailed
from dealscope.reports.charts import nice_ticks, render_svg
from dealscope.reports.compute import Chart, Series
from dealscope.reports.formatting import format_compact, format_value, neutralize
from dealscope.reports.specs import PeriodOverride, ReportSpec, Visual, validate_spec, with_period
from dealscope.reports.templates import TemplateName, get_template, list_templates
from dealscope.reports.xlsx import sheet_name


def spec_of(**section: Any) -> ReportSpec:
    base = {"title": "Leads", "visual": "table", "metrics": ["new_leads"]}
    return ReportSpec.model_validate({"title": "R", "sections": [{**base, **section}]})


@pytest.mark.parametrize(
    ("section", "named"),
    [
        ({"metrics": ["new_leads", "leads_total"]}, "unknown metric 'leads_total'"),
        (
            {"metrics": ["cost_per_lead"], "dimensions": ["zip"]},
            "cannot be split or filtered by zip",
        ),
        ({"metrics": ["marketing_spend"], "filters": {"agent": ["7"]}}, "agent"),
        ({"visual": "kpi_cards", "dimensions": ["source"]}, "kpi_cards"),
        ({"visual": "line"}, "needs a grain"),
        ({"visual": "bar"}, "exactly one of"),
        ({"visual": "bar", "dimensions": ["source"], "grain": "month"}, "exactly one of"),
        ({"visual": "line", "grain": "day", "metrics": ["gci", "win_rate"]}, "one unit"),
        ({"visual": "funnel", "metrics": ["new_leads"]}, "two or more count metrics"),
        ({"visual": "pie", "metrics": ["win_rate"], "dimensions": ["source"]}, "count or a sum"),
        ({"visual": "pie", "dimensions": ["source"], "compare": "previous_period"}, "comparison"),
        ({"compare": "target", "metrics": ["win_rate"]}, "has no targets"),
    ],
)
def test_a_bad_section_is_named_with_what_is_wrong(section: dict[str, Any], named: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        validate_spec(spec_of(**section))
    assert "section 1 ('Leads')" in str(caught.value) and named in str(caught.value)


def test_good_sections_and_templates_validate() -> None:
    validate_spec(spec_of(visual="pie", dimensions=["source"]))
    validate_spec(spec_of(visual="line", grain="week", dimensions=["agent"]))
    validate_spec(spec_of(visual="funnel", metrics=["new_leads", "appointments_set", "deals_won"]))
    assert [name for name, _ in list_templates()] == list(TemplateName)
    with pytest.raises(ValidationFailed, match=r"unknown report template 'yearly'.*daily_summary"):
        get_template("yearly")


def test_spec_shape_is_checked() -> None:
    with pytest.raises(ValueError, match="section titles must not repeat: A"):
        ReportSpec.model_validate(
            {"title": "R", "sections": [
                {"title": "A", "visual": "table", "metrics": ["gci"]},
                {"title": "A", "visual": "table", "metrics": ["gci"]}]}
        )  # fmt: skip
    with pytest.raises(ValueError, match="visual"):
        spec_of(visual="radar")


def test_a_period_override_leaves_trends_alone() -> None:
    spec = get_template("monthly_executive")
    moved = with_period(
        spec, PeriodOverride(range="custom", start=dt.date(2025, 1, 1), end=dt.date(2025, 1, 31))
    )  # type: ignore[arg-type]
    for before, after in zip(spec.sections, moved.sections, strict=True):
        if before.grain is None:
            assert (after.range, after.start, after.end) == (
                "custom",
                dt.date(2025, 1, 1),
                dt.date(2025, 1, 31),
            )
        else:
            assert after == before


@pytest.mark.parametrize(
    ("text", "safe"),
    [
        ("=1+2", "'=1+2"),
        ("+1 555 0100", "'+1 555 0100"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("Zillow", "Zillow"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_neutralize(text: str, safe: str) -> None:
    assert neutralize(text) == safe


def test_values_are_written_for_people() -> None:
    assert format_value(1234567.4, Unit.MONEY) == "$1,234,567"
    assert format_value(-50, Unit.MONEY, "EUR") == "-€50"
    assert format_value(0.1234, Unit.RATIO) == "12.3%"
    assert format_value(3.0, Unit.COUNT) == "3"
    assert format_value(4.25, Unit.DURATION_MINUTES) == "4.2 min"
    assert format_value(None, Unit.COUNT) == "–"
    assert format_compact(1_234_567, Unit.MONEY) == "$1.2M"
    assert format_compact(12_500, Unit.COUNT) == "12.5K"
    assert format_compact(999, Unit.COUNT) == "999"


def test_axis_ticks_are_round_and_cover_the_data() -> None:
    assert nice_ticks(0, 87) == [0, 20, 40, 60, 80, 100]
    assert nice_ticks(0, 0) == [0, 0.2, 0.4, 0.6, 0.8, 1.0]
    ticks = nice_ticks(-30, 120)
    assert ticks[0] <= -30 and ticks[-1] >= 120 and 0 in ticks


def test_sheet_names_are_legal_and_unique() -> None:
    taken = {"summary"}
    assert sheet_name("GCI: by/source [2025]?", taken) == "GCI  by source  2025"
    long = "A very long section title that Excel would refuse"
    first, second = sheet_name(long, taken), sheet_name(long, taken)
    assert len(first) == 31 and len(second) == 31 and first != second and second.endswith("(2)")
    assert sheet_name("Summary", taken) == "Summary (2)"


def test_svg_charts_draw_their_kind_and_escape_labels() -> None:
    series = [Series("GCI", [10.0, 20.0, 15.0]), Series("Plan", [12.0, 12.0, 12.0], True)]
    line = Chart(Visual.LINE, Unit.MONEY, ["Jan", "Feb", "Mar"], series)
    svg = render_svg(line, "#123456", "USD")
    assert svg.count("<polyline") == 2 and 'stroke="#123456"' in svg and "stroke-dasharray" in svg
    bar = Chart(
        Visual.BAR, Unit.COUNT, ["<script>alert(1)</script>", "b"], [Series("n", [3.0, None])]
    )
    svg = render_svg(bar, "#123456", "USD")
    assert svg.count("<rect") == 1 and "<script>" not in svg and "&lt;script&gt;" in svg
    pie = Chart(Visual.PIE, Unit.COUNT, ["a", "b"], [Series("n", [3.0, 1.0])])
    svg = render_svg(pie, "#123456", "USD")
    assert svg.count("<path") == 2 and "75.0%" in svg and "25.0%" in svg
    funnel = Chart(Visual.FUNNEL, Unit.COUNT, ["Leads", "Deals"], [Series("v", [200.0, 50.0])])
    assert "25.0% of the stage before" in render_svg(funnel, "#123456", "USD")
    empty = Chart(Visual.BAR, Unit.COUNT, [], [Series("n", [])])
    assert "No data in this period" in render_svg(empty, "#123456", "USD")
