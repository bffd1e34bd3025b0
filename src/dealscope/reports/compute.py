"""The figures of a report: every section's metric result, laid out for the renderers.

Each section is answered by `AnalyticsService.query` under the caller's scope, then shaped
once here into what every format draws from: headline cards, a table (one row per bucket
and dimension values, a column per metric and, with a comparison, its comparison and
change) and chart series. The PDF, the workbook and the CSV files therefore show the same
numbers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from dealscope.analytics.periods import Compare
from dealscope.analytics.registry import get_metric
from dealscope.analytics.service import AnalyticsService
from dealscope.analytics.specs import Dimension, MetricResult, MetricRow, MetricSeries, Unit
from dealscope.reports.formatting import bucket_label
from dealscope.reports.specs import MAX_CHART_SERIES, SectionSpec, Visual, validate_section

Cell = str | float | None
NONE_LABEL = "(none)"
PIE_SLICES = 8

DIMENSION_LABELS = {
    Dimension.AGENT: "Agent",
    Dimension.TEAM: "Team",
    Dimension.OFFICE: "Office",
    Dimension.SOURCE: "Source",
    Dimension.MEDIUM: "Medium",
    Dimension.CAMPAIGN: "Campaign",
    Dimension.PROPERTY_TYPE: "Property type",
    Dimension.ZIP: "ZIP",
    Dimension.STAGE: "Stage",
}
COMPARISON_NAMES = {
    Compare.PREVIOUS_PERIOD: "previous period",
    Compare.PREVIOUS_YEAR: "previous year",
    Compare.TARGET: "target",
}


@dataclass(frozen=True)
class Column:
    """A table column: text (unit None) or a number of `unit`. `role` says which: a key
    (text), a metric's value, its comparison, or its change (a ratio; `higher_is_better`
    says whether a rise is good news)."""

    label: str
    unit: Unit | None = None
    role: str = "key"  # key | value | comparison | change
    higher_is_better: bool = True


@dataclass(frozen=True)
class Card:
    """A headline figure with its comparison."""

    label: str
    unit: Unit
    value: float | None
    comparison: float | None
    change_pct: float | None
    higher_is_better: bool


@dataclass(frozen=True)
class Series:
    name: str
    values: list[float | None]
    dashed: bool = False  # a comparison drawn beside the figure


@dataclass(frozen=True)
class Chart:
    kind: Visual
    unit: Unit
    categories: list[str]
    series: list[Series]


@dataclass
class SectionData:
    spec: SectionSpec
    result: MetricResult
    comparison_name: str | None
    columns: list[Column] = field(default_factory=list)
    rows: list[list[Cell]] = field(default_factory=list)
    cards: list[Card] = field(default_factory=list)
    chart: Chart | None = None

    @property
    def period_label(self) -> str:
        period = self.result.period
        text = _span(period.start, period.end)
        if self.comparison_name is not None:
            text += f", compared with the {self.comparison_name}"
            other = self.result.comparison_period
            if other is not None:
                text += f" ({_span(other.start, other.end)})"
        return text


def _span(start: dt.date, end: dt.date) -> str:
    return start.isoformat() if start == end else f"{start.isoformat()} to {end.isoformat()}"


def _dimension_text(result: MetricResult, dimension: Dimension, value: str | None) -> str:
    if value is None:
        return NONE_LABEL
    return result.labels.get(dimension.value, {}).get(value, value)


def _row_key(row: MetricRow, result: MetricResult) -> tuple[dt.date | None, tuple[str, ...]]:
    dims = tuple(_dimension_text(result, d, row.dimensions.get(d.value)) for d in result.dimensions)
    return row.bucket, dims


def _order(
    section: SectionSpec, result: MetricResult
) -> list[tuple[dt.date | None, tuple[str, ...]]]:
    """Row keys in reading order: by bucket with a grain, else largest first metric first;
    cut to the section's limit."""
    first = result.metrics[0]
    values = {_row_key(r, result): r.value for r in first.rows}
    keys = list(dict.fromkeys(_row_key(r, result) for s in result.metrics for r in s.rows))
    if result.grain is not None:
        keys.sort(key=lambda k: (k[0] or dt.date.min, k[1]))
    else:
        keys.sort(key=lambda k: (values.get(k) is None, -(values.get(k) or 0.0), k[1]))
    return keys[: section.limit] if section.limit else keys


def _table(data: SectionData) -> None:
    result, spec = data.result, data.spec
    compared = result.compare is not None
    columns: list[Column] = []
    if result.grain is not None:
        columns.append(Column("Period"))
    columns += [Column(DIMENSION_LABELS[d]) for d in result.dimensions]
    for series in result.metrics:
        columns.append(Column(series.label, series.unit, "value"))
        if compared:
            name = f"{series.label} ({data.comparison_name})"
            columns.append(Column(name, series.unit, "comparison"))
            better = series.higher_is_better
            columns.append(Column(f"{series.label} change", Unit.RATIO, "change", better))
    index = {s.slug: {_row_key(r, result): r for r in s.rows} for s in result.metrics}
    additive = {s.slug: get_metric(s.slug).additive for s in result.metrics}
    rows: list[list[Cell]] = []
    for key in _order(spec, result):
        bucket, dims = key
        row: list[Cell] = []
        if result.grain is not None:
            row.append(bucket_label(bucket, result.grain) if bucket else None)
        row += list(dims)
        for series in result.metrics:
            found = index[series.slug].get(key)
            # a key another metric has but this one lacks: nothing counted, so 0 for sums
            missing = 0.0 if additive[series.slug] else None
            row.append(missing if found is None else found.value)
            if compared:
                row.append(None if found is None else found.comparison)
                row.append(None if found is None else found.change_pct)
        rows.append(row)
    data.columns, data.rows = columns, rows


def _cards(result: MetricResult) -> list[Card]:
    cards = []
    for series in result.metrics:
        row = series.rows[0] if series.rows else None
        cards.append(
            Card(
                label=series.label,
                unit=series.unit,
                value=None if row is None else row.value,
                comparison=None if row is None else row.comparison,
                change_pct=None if row is None else row.change_pct,
                higher_is_better=series.higher_is_better,
            )
        )
    return cards


def _total(series: MetricSeries) -> float | None:
    values = [r.value for r in series.rows if r.value is not None]
    return sum(values) if values else None


def _chart(data: SectionData) -> Chart | None:
    spec, result = data.spec, data.result
    unit = result.metrics[0].unit
    if spec.visual == Visual.FUNNEL:
        return Chart(
            Visual.FUNNEL,
            unit,
            [s.label for s in result.metrics],
            [Series("value", [_total(s) for s in result.metrics])],
        )
    if spec.visual not in (Visual.LINE, Visual.BAR, Visual.PIE):
        return None
    keys = _order(spec, result)
    if result.grain is not None:
        buckets = list(dict.fromkeys(k[0] for k in keys))
        categories = [bucket_label(b, result.grain) for b in buckets if b is not None]
        if result.dimensions:  # one metric, a line per dimension value (the largest ones)
            metric = result.metrics[0]
            per: dict[str, dict[dt.date | None, float | None]] = {}
            for row in metric.rows:
                bucket, dims = _row_key(row, result)
                per.setdefault(dims[0], {})[bucket] = row.value
            biggest = sorted(per, key=lambda n: -sum(v or 0.0 for v in per[n].values()))
            series = [
                Series(name, [per[name].get(b) for b in buckets])
                for name in biggest[:MAX_CHART_SERIES]
            ]
            return Chart(spec.visual, unit, categories, series)
        series = []
        for metric in result.metrics:
            by_bucket = {r.bucket: r for r in metric.rows}
            series.append(Series(metric.label, [_value(by_bucket.get(b)) for b in buckets]))
            if result.compare is not None:
                name = f"{metric.label} ({data.comparison_name})"
                compared = [_comparison(by_bucket.get(b)) for b in buckets]
                series.append(Series(name, compared, dashed=True))
        return Chart(spec.visual, unit, categories, series)
    categories = [", ".join(k[1]) for k in keys]
    series = []
    for metric in result.metrics:
        by_key = {_row_key(r, result): r for r in metric.rows}
        series.append(Series(metric.label, [_value(by_key.get(k)) for k in keys]))
    if spec.visual == Visual.PIE:
        return _pie(unit, categories, series[0])
    return Chart(spec.visual, unit, categories[:40], [_cut(s, 40) for s in series])


def _cut(series: Series, size: int) -> Series:
    return Series(series.name, series.values[:size], series.dashed)


def _pie(unit: Unit, categories: list[str], series: Series) -> Chart:
    """The largest slices and one 'Other' slice for the rest; empty slices left out."""
    pairs = [(c, v) for c, v in zip(categories, series.values, strict=True) if v and v > 0]
    pairs.sort(key=lambda p: -p[1])
    if len(pairs) > PIE_SLICES:
        rest = sum(v for _, v in pairs[PIE_SLICES - 1 :])
        pairs = [*pairs[: PIE_SLICES - 1], ("Other", rest)]
    return Chart(
        Visual.PIE, unit, [c for c, _ in pairs], [Series(series.name, [v for _, v in pairs])]
    )


def _value(row: MetricRow | None) -> float | None:
    return None if row is None else row.value


def _comparison(row: MetricRow | None) -> float | None:
    return None if row is None else row.comparison


def compute_section(service: AnalyticsService, section: SectionSpec, number: int) -> SectionData:
    """Section `number` answered by `service` (its scope and as_of) and laid out."""
    validate_section(section, number, service.as_of)
    result = service.query(section.query(service.as_of))
    name = None if result.compare is None else COMPARISON_NAMES[result.compare]
    data = SectionData(spec=section, result=result, comparison_name=name)
    _table(data)
    if section.visual == Visual.KPI_CARDS:
        data.cards = _cards(result)
    data.chart = _chart(data)
    return data
