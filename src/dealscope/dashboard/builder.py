"""The report builder's pieces: a section form over the metric catalog, the spec it makes
(the reports API's document), and a preview of each section drawn from POST /metrics/query."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dealscope.client import Compare, Dimension, Grain, MetricQuery, RangeName, Unit
from dealscope.client.analytics_models import MetricCatalogRead, MetricInfo, MetricResult
from dealscope.dashboard import charts, frames
from dealscope.dashboard.controls import _filter_options
from dealscope.dashboard.formatting import by_unit, label
from dealscope.dashboard.session import SignedIn
from dealscope.dashboard.widgets import chart, table

VISUALS = {
    "kpi_cards": "KPI cards",
    "table": "Table",
    "line": "Line chart (needs a grain)",
    "bar": "Bar chart (a grain or one dimension)",
    "pie": "Pie (one metric by one dimension)",
    "funnel": "Funnel (two or more counts)",
}
RANGES = [r for r in RangeName if r != RangeName.CUSTOM]
RANGE_LABELS = {
    RangeName.TODAY: "Today",
    RangeName.LAST_7_DAYS: "Last 7 days",
    RangeName.LAST_30_DAYS: "Last 30 days",
    RangeName.LAST_90_DAYS: "Last 90 days",
    RangeName.MONTH_TO_DATE: "Month to date",
    RangeName.QUARTER_TO_DATE: "Quarter to date",
    RangeName.YEAR_TO_DATE: "Year to date",
}
MAX_SECTIONS = 6


def allowed_dimensions(catalog: MetricCatalogRead, slugs: list[str]) -> list[str]:
    """The dimensions every one of `slugs` can be split by (all of them when none chosen)."""
    chosen = [m for m in catalog.metrics if m.slug in slugs]
    if not chosen:
        return []
    common = set(chosen[0].dimensions)
    for metric in chosen[1:]:
        common &= set(metric.dimensions)
    return [d.value for d in Dimension if d in common]


def section_form(user: SignedIn, catalog: MetricCatalogRead, number: int) -> dict[str, Any]:
    """The widgets of section `number`; the section as the reports API takes it."""
    by_slug = {m.slug: m for m in catalog.metrics}
    key = f"rb-{number}"
    title = st.text_input("Section title", value=f"Section {number}", key=f"{key}-title")
    left, right = st.columns(2)
    visual = left.selectbox(
        "Visual", list(VISUALS), format_func=VISUALS.__getitem__, key=f"{key}-visual"
    )
    metrics = right.multiselect(
        "Metrics",
        list(by_slug),
        format_func=lambda s: f"{by_slug[s].label} ({by_slug[s].unit.value})",
        key=f"{key}-metrics",
        max_selections=12,
    )
    allowed = allowed_dimensions(catalog, metrics)
    stale = [d for d in st.session_state.get(f"{key}-dims", []) if d not in allowed]
    if stale:  # metrics changed: drop dimensions they can no longer be split by
        st.session_state[f"{key}-dims"] = [
            d for d in st.session_state[f"{key}-dims"] if d in allowed
        ]
    dims = st.multiselect(
        "Split by",
        allowed,
        format_func=label,
        key=f"{key}-dims",
        max_selections=2,
        help="Only the dimensions every chosen metric can be split by.",
        placeholder="Choose metrics first" if not metrics else "No split",
    )
    filters: dict[str, list[str]] = {}
    filter_dims = st.multiselect(
        "Filter by",
        allowed,
        format_func=label,
        key=f"{key}-fdims",
        placeholder="No filter",
    )
    for dimension in filter_dims:
        options, names = _filter_options(user, Dimension(dimension))
        values = st.multiselect(
            f"Only these {label(dimension).lower()} values",
            options,
            format_func=lambda v, n=names: n.get(v, v),  # type: ignore[misc]
            key=f"{key}-f-{dimension}",
        )
        if values:
            filters[dimension] = values
    a, b, c = st.columns(3)
    period = a.selectbox(
        "Period", RANGES, index=2, format_func=RANGE_LABELS.__getitem__, key=f"{key}-range"
    )
    grain = b.selectbox(
        "Grain",
        [None, *Grain],
        format_func=lambda g: "None" if g is None else g.value.title(),
        key=f"{key}-grain",
    )
    compare = c.selectbox(
        "Comparison",
        [None, *Compare],
        format_func=lambda x: "None" if x is None else label(x.value),
        key=f"{key}-compare",
    )
    section: dict[str, Any] = {
        "title": title.strip() or f"Section {number}",
        "visual": visual,
        "metrics": metrics,
        "dimensions": list(dims),
        "filters": filters,
        "range": period.value,
    }
    if grain is not None:
        section["grain"] = grain.value
    if compare is not None:
        section["compare"] = compare.value
    return section


def section_query(section: dict[str, Any]) -> MetricQuery:
    """The metric query a section asks (what the report renderer asks too)."""
    return MetricQuery.model_validate(
        {
            "metrics": section["metrics"],
            "dimensions": section["dimensions"],
            "filters": section["filters"],
            "range": section["range"],
            "grain": section.get("grain"),
            "compare": section.get("compare"),
        }
    )


def _dimension_column(frame: pd.DataFrame, dimension: str) -> str:
    return f"{dimension}_name" if f"{dimension}_name" in frame else dimension


def preview(section: dict[str, Any], result: MetricResult, currency: str) -> None:
    """Draw a section's figures as its visual would."""
    visual = section["visual"]
    units = {s.unit for s in result.metrics}
    money = units == {Unit.MONEY}
    percent = units == {Unit.RATIO}
    dims = section["dimensions"]
    name = f"preview {section['title']}"
    if visual == "kpi_cards":
        columns = st.columns(min(len(result.metrics), 4) or 1)
        for i, series in enumerate(result.metrics):
            row = series.rows[0] if series.rows else None
            value = row.value if row else None
            delta = None
            if row is not None and row.change_pct is not None:
                delta = f"{100 * row.change_pct:+.1f}%"
            columns[i % len(columns)].metric(
                series.label,
                by_unit(value, series.unit, currency),
                delta,
                delta_color="normal" if series.higher_is_better else "inverse",
                border=True,
            )
        return
    first = result.metrics[0]
    rows = frames.metric_rows(result, first.slug)
    if rows.empty:
        st.info("No rows for this section's period and filters.", icon=":material/info:")
        return
    if visual == "table":
        wide = _table(result)
        table(wide, name)
    elif visual == "line":
        if dims:
            column = _dimension_column(rows, dims[0])
            figure = charts.line(rows, "bucket", "value", section["title"], color=column,
                                 money=money, percent=percent)  # fmt: skip
            chart(figure, rows, name)
        else:
            wide = frames.metric_wide(result)
            figure = charts.line(wide, "bucket", [s.slug for s in result.metrics],
                                 section["title"], money=money, percent=percent)  # fmt: skip
            chart(figure, wide, name)
    elif visual == "bar":
        if dims:
            wide = _table(result)
            x = dims[0]
        else:
            wide = frames.metric_wide(result)
            x = "bucket"
        figure = charts.bar(wide, x, [s.slug for s in result.metrics], section["title"],
                            money=money, percent=percent)  # fmt: skip
        chart(figure, wide, name)
    elif visual == "pie":
        column = _dimension_column(rows, dims[0])
        chart(charts.donut(rows, column, "value", section["title"]), rows, name)
    elif visual == "funnel":
        stages = pd.DataFrame(
            {
                "stage": [s.label for s in result.metrics],
                "value": [s.rows[0].value if s.rows else 0 for s in result.metrics],
            }
        )
        chart(charts.funnel(stages, "stage", "value", section["title"]), stages, name)


def _table(result: MetricResult) -> pd.DataFrame:
    """Every metric side by side, one row per bucket and dimension value (ids named)."""
    rows: dict[tuple[object, ...], dict[str, object]] = {}
    for series in result.metrics:
        for row in series.rows:
            record: dict[str, object] = {}
            if row.bucket is not None:
                record["bucket"] = row.bucket
            for dimension, value in row.dimensions.items():
                names = result.labels.get(dimension, {})
                record[dimension] = names.get(value or "", value)
            key = tuple(record.items())
            rows.setdefault(key, record)[series.slug] = row.value
    return pd.DataFrame(list(rows.values()))


def metric_label(info: MetricInfo) -> str:
    return f"{info.label} ({info.unit.value})"
