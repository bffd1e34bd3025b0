"""Report specs: a named report is a title and sections; each section is a metric query of
the registry (metrics by slug, dimensions, filters, period, comparison) and a visual.

A section's numbers come from `AnalyticsService.query` (the same call as POST
/metrics/query), so a report shows exactly what the API shows under the same scope.
Filters are dimension values handed to the service, which compares them through Ibis: they
never reach SQL as text.

`validate_spec` checks every section against the registry (naming the unknown metric or the
dimension a metric cannot be split by) and against what its visual can draw.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from dealscope.analytics.metrics.base import Metric
from dealscope.analytics.periods import Compare, Grain, RangeName
from dealscope.analytics.service import validate_query
from dealscope.analytics.specs import ADDITIVE_UNITS, Dimension, MetricQuery, Unit
from dealscope.errors import ValidationFailed

MAX_SECTIONS = 20
MAX_CHART_SERIES = 12  # more lines or slices than this are unreadable


class Visual(StrEnum):
    """How a section is drawn: cards of headline numbers, a table or a chart."""

    KPI_CARDS = "kpi_cards"
    TABLE = "table"
    LINE = "line"
    BAR = "bar"
    FUNNEL = "funnel"
    PIE = "pie"


class ReportFormat(StrEnum):
    PDF = "pdf"
    XLSX = "xlsx"
    CSV = "csv"


class Audience(StrEnum):
    """Whose figures a rendering shows: the scope it is rendered under, or each agent's own
    (a scheduled report with `each_agent` is rendered once per agent, scoped to that agent,
    and sent to that agent)."""

    SCOPE = "scope"
    EACH_AGENT = "each_agent"


_SECTION_EXAMPLE: dict[str, Any] = {
    "title": "Headline figures",
    "visual": "kpi_cards",
    "metrics": ["new_leads", "deals_won", "gci"],
    "range": "30d",
    "compare": "previous_period",
}


class SectionSpec(BaseModel):
    """One block of a report: metrics over a period, split, filtered, compared and drawn."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_SECTION_EXAMPLE]})

    title: str = Field(min_length=1, max_length=120)
    visual: Visual = Field(description="kpi_cards, table, line, bar, funnel or pie.")
    metrics: list[str] = Field(
        min_length=1, max_length=12, description="Metric slugs (GET /metrics lists them)."
    )
    dimensions: list[Dimension] = Field(default_factory=list, max_length=2)
    filters: dict[Dimension, list[str]] = Field(
        default_factory=dict,
        description="Keep only rows whose dimension value is one of these (ids as strings).",
    )
    range: RangeName = Field(default=RangeName.LAST_30_DAYS)
    start: dt.date | None = Field(default=None, description="First day, with range 'custom'.")
    end: dt.date | None = Field(default=None, description="Last day (inclusive), 'custom'.")
    grain: Grain | None = Field(default=None, description="Bucket the period (line charts).")
    compare: Compare | None = Field(default=None)
    limit: int | None = Field(
        default=None,
        ge=1,
        le=500,
        description="Keep the top rows by the first metric (tables and bars by a dimension).",
    )
    note: str | None = Field(default=None, max_length=500, description="Text under the title.")

    def query(self, as_of: dt.date) -> MetricQuery:
        """The metric query this section asks the analytics service."""
        return MetricQuery(
            metrics=self.metrics,
            dimensions=self.dimensions,
            filters=self.filters,
            range=self.range,
            start=self.start,
            end=self.end,
            grain=self.grain,
            compare=self.compare,
            as_of=as_of,
        )


_REPORT_EXAMPLE: dict[str, Any] = {
    "title": "Lead flow",
    "sections": [
        _SECTION_EXAMPLE,
        {
            "title": "Leads by source",
            "visual": "bar",
            "metrics": ["new_leads"],
            "dimensions": ["source"],
            "range": "30d",
        },
    ],
}


class ReportSpec(BaseModel):
    """A report: a title and its sections, in order."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_REPORT_EXAMPLE]})

    title: str = Field(min_length=1, max_length=200)
    subtitle: str | None = Field(default=None, max_length=300)
    audience: Audience = Field(
        default=Audience.SCOPE,
        description="scope: the figures of whoever it is rendered for; each_agent: a "
        "scheduled report goes to every agent with only that agent's figures.",
    )
    sections: list[SectionSpec] = Field(min_length=1, max_length=MAX_SECTIONS)

    @model_validator(mode="after")
    def _distinct_titles(self) -> ReportSpec:
        titles = [s.title for s in self.sections]
        repeated = sorted({t for t in titles if titles.count(t) > 1})
        if repeated:
            raise ValueError(f"section titles must not repeat: {', '.join(repeated)}")
        return self


class PeriodOverride(BaseModel):
    """Render every section over this period instead of its own (same comparison)."""

    model_config = ConfigDict(extra="forbid")

    range: RangeName
    start: dt.date | None = None
    end: dt.date | None = None


def with_period(spec: ReportSpec, period: PeriodOverride | None) -> ReportSpec:
    """`spec` with every section's period replaced by `period` (unchanged when None).
    Sections drawn by time bucket keep their own period: a trend over a day says nothing."""
    if period is None:
        return spec
    update = {"range": period.range, "start": period.start, "end": period.end}
    sections = [s if s.grain is not None else s.model_copy(update=update) for s in spec.sections]
    return spec.model_copy(update={"sections": sections})


def _units(metrics: list[Metric]) -> set[Unit]:
    return {m.unit for m in metrics}


def _check_visual(section: SectionSpec, metrics: list[Metric]) -> None:
    """ValueError when the visual cannot draw the section as asked."""
    visual = section.visual
    if visual == Visual.KPI_CARDS and (section.dimensions or section.grain):
        raise ValueError("kpi_cards show one figure per metric: no dimensions and no grain")
    if visual == Visual.LINE:
        if section.grain is None:
            raise ValueError("a line chart needs a grain (day, week, month, quarter or year)")
        if len(section.dimensions) > 1 or (section.dimensions and len(metrics) > 1):
            raise ValueError("a line chart draws several metrics or one metric by one dimension")
    if visual == Visual.BAR:
        keys = len(section.dimensions) + (section.grain is not None)
        if keys != 1:
            raise ValueError("a bar chart needs exactly one of: a grain, or one dimension")
    if visual in (Visual.LINE, Visual.BAR) and len(_units(metrics)) > 1:
        names = ", ".join(f"{m.slug} ({m.unit.value})" for m in metrics)
        raise ValueError(f"a chart draws metrics of one unit on one axis; got {names}")
    if visual == Visual.FUNNEL:
        if section.dimensions or section.grain:
            raise ValueError("a funnel shows one total per stage: no dimensions and no grain")
        if len(metrics) < 2 or any(m.unit != Unit.COUNT for m in metrics):
            raise ValueError("a funnel needs two or more count metrics, one per stage, in order")
    if visual == Visual.PIE:
        if len(metrics) != 1 or len(section.dimensions) != 1 or section.grain:
            raise ValueError("a pie shows one metric split by one dimension, without a grain")
        if metrics[0].unit not in ADDITIVE_UNITS or not metrics[0].additive:
            raise ValueError(f"a pie needs a count or a sum; {metrics[0].slug!r} is not one")
        if section.compare is not None:
            raise ValueError("a pie has no comparison")


def validate_section(section: SectionSpec, number: int, as_of: dt.date) -> list[Metric]:
    """The section's metrics, or ValidationFailed naming the section and what is wrong."""
    where = f"section {number} ({section.title!r})"
    try:
        metrics = validate_query(section.query(as_of))
        _check_visual(section, metrics)
    except (ValidationFailed, ValueError) as exc:
        raise ValidationFailed(f"{where}: {exc}") from exc
    return metrics


def validate_spec(spec: ReportSpec, as_of: dt.date | None = None) -> ReportSpec:
    """`spec` if every section is valid; else ValidationFailed naming the first bad one."""
    day = as_of or dt.date(2000, 1, 1)  # the period itself is resolved when rendering
    for number, section in enumerate(spec.sections, start=1):
        validate_section(section, number, day)
    return spec
