"""The executive summary: KPI cards, revenue to date, pipeline health and top agents.

Everything comes from the metric registry through `AnalyticsService`, so the summary's
numbers are the same as `/metrics/query` gives for the same slugs and period. Plans
(targets) are read only for tenant-wide callers: an agent or a manager has no access to the
targets table, so their cards carry no target rather than failing.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence

import ibis
from pydantic import BaseModel, Field

from dealscope.analytics.dimensions import Frame, frame_key, ts_literal
from dealscope.analytics.metrics.base import Metric
from dealscope.analytics.metrics.opportunities import open_deals_at
from dealscope.analytics.periods import (
    Compare,
    Period,
    RangeName,
    comparison_period,
    quarter_start,
    resolve_range,
)
from dealscope.analytics.registry import get_metric
from dealscope.analytics.service import AnalyticsService, Key, target_requests, targets_of
from dealscope.analytics.specs import Dimension, PeriodRead, Unit

CARDS = (
    "new_leads",
    "contact_rate",
    "speed_to_lead_median_minutes",
    "appointments_held",
    "deals_won",
    "win_rate",
    "gci",
    "sales_volume",
    "pipeline_value",
    "company_dollar",
)
TOP_AGENT_METRICS = (get_metric("gci"), get_metric("closings"))
SPEED_SLA_MINUTES = 30.0
STALE_DAYS = 30
HEALTH_WEIGHTS = {"coverage": 0.35, "win_rate": 0.25, "freshness": 0.20, "speed": 0.20}
HEALTH_FORMULA = (
    "score = round(100 × (0.35·coverage + 0.25·win_rate + 0.20·freshness + 0.20·speed)), "
    "each component 0..1: coverage = min(1, expected GCI of the open pipeline / GCI still "
    "needed), where expected GCI = weighted pipeline value × the trailing-365-day GCI/volume "
    "ratio and GCI still needed = the quarter's GCI plan minus GCI closed this quarter (when "
    "a plan is readable; otherwise the GCI of the trailing 90 days), 1 when nothing is "
    "needed; win_rate = min(1, the period's win rate / the trailing-365-day win rate); "
    f"freshness = 1 - share of open deals without a stage change in {STALE_DAYS} days; speed "
    f"= min(1, {SPEED_SLA_MINUTES:g}-minute SLA / the period's median speed to lead). A "
    "component with nothing to measure counts 0.5 (neutral)."
)


class KpiCard(BaseModel):
    slug: str
    label: str
    unit: Unit
    higher_is_better: bool
    value: float | None
    comparison: float | None = Field(description="The comparison period's value or the plan.")
    change_pct: float | None = Field(description="(value - comparison) / |comparison|.")
    target: float | None = Field(description="The plan for the period, where one is readable.")
    attainment: float | None = Field(description="value / target.")


class RevenueToDate(BaseModel):
    label: str
    period: PeriodRead
    gci: float
    target: float | None
    attainment: float | None


class HealthComponent(BaseModel):
    name: str
    weight: float
    score: float = Field(description="0..1")
    detail: str


class PipelineHealth(BaseModel):
    score: int = Field(ge=0, le=100, description=HEALTH_FORMULA)
    formula: str = HEALTH_FORMULA
    components: list[HealthComponent]


class TopAgent(BaseModel):
    agent_id: int
    name: str
    gci: float = Field(description="GCI of the agent's closings in the period.")
    closings: int


class SummaryAlert(BaseModel):
    severity: str
    title: str
    metric: str | None = None


class SummaryRead(BaseModel):
    """The executive summary of one period."""

    as_of: dt.date
    period: PeriodRead
    compare: Compare
    comparison_period: PeriodRead | None
    cards: list[KpiCard]
    revenue: list[RevenueToDate] = Field(description="GCI month, quarter and year to date.")
    pipeline_health: PipelineHealth
    top_agents: list[TopAgent] = Field(description="The five agents with most GCI.")
    alerts: list[SummaryAlert] = Field(
        default_factory=list, description="Open alerts (none until alert rules exist)."
    )


def _read(period: Period) -> PeriodRead:
    return PeriodRead(start=period.start, end=period.last_day)


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else a / b


class _Summary:
    def __init__(self, service: AnalyticsService, top: Period | None = None) -> None:
        """`top`: the period of the top agents, read with the rest by `prefetch`."""
        self.service = service
        self._top_period = top
        self.plans = service.sources.scope.agent_ids is None
        self._values: dict[tuple[str, Period], float | None] = {}
        self._targets: dict[tuple[str, Period], float | None] = {}
        self._top: tuple[Period, dict[str, dict[Key, float | None]]] | None = None

    def prefetch(self, values: dict[Period, set[str]], targets: dict[Period, set[str]]) -> None:
        """Compute the figures, the plans and the top agents' figures (over the period
        given at construction) the summary will read, in one query."""
        periods = list(values)
        asked: list[tuple[Frame, Sequence[Metric]]] = [
            (self.service.frame(p), [get_metric(s) for s in sorted(values[p])]) for p in periods
        ]
        if self._top_period is not None:
            asked.append((self._by_agent(self._top_period), TOP_AGENT_METRICS))
        wanted = {
            p: sorted(s for s in slugs if get_metric(s).additive) for p, slugs in targets.items()
        }
        spans = [p for p in wanted if wanted[p]] if self.plans else []
        plan_asks = target_requests([(self.service.frame(p), wanted[p]) for p in spans])
        found = self.service.compute_many([*asked, *plan_asks])
        for period, rows in zip(periods, found[: len(periods)], strict=True):
            for slug, by_key in rows.items():
                self._values[(slug, period)] = by_key.get(())
        if self._top_period is not None:
            self._top = (self._top_period, found[len(periods)])
        plans = targets_of(found[len(asked) :])
        for period, plan in zip(spans, plans, strict=True):
            for slug in wanted[period]:
                self._targets[(slug, period)] = plan.get(slug, {}).get(())

    def value(self, slug: str, period: Period) -> float | None:
        if (slug, period) not in self._values:
            found = self.service.compute(get_metric(slug), self.service.frame(period))
            self._values[(slug, period)] = found.get(())
        return self._values[(slug, period)]

    def target(self, slug: str, period: Period) -> float | None:
        if not self.plans or not get_metric(slug).additive:
            return None
        if (slug, period) not in self._targets:
            found = self.service.compute_target(slug, self.service.frame(period))
            self._targets[(slug, period)] = found.get(())
        return self._targets[(slug, period)]

    def card(self, slug: str, period: Period, other: Period | None) -> KpiCard:
        metric = get_metric(slug)
        value = self.value(slug, period)
        target = self.target(slug, period)
        comparison = target if other is None else self.value(slug, other)
        change = None if value is None or comparison is None else value - comparison
        return KpiCard(
            slug=slug,
            label=metric.label,
            unit=metric.unit,
            higher_is_better=metric.higher_is_better,
            value=value,
            comparison=comparison,
            change_pct=None if change is None or not comparison else change / abs(comparison),
            target=target,
            attainment=_ratio(value, target),
        )

    def revenue(self) -> list[RevenueToDate]:
        out = []
        for label, period in to_date_periods(self.service.as_of).items():
            gci = self.value("gci", period) or 0.0
            target = self.target("gci", period)
            out.append(
                RevenueToDate(
                    label=label,
                    period=_read(period),
                    gci=gci,
                    target=target,
                    attainment=_ratio(gci, target),
                )
            )
        return out

    def stale_share(self) -> float | None:
        frame = self.service.frame(
            Period(self.service.as_of, self.service.as_of + dt.timedelta(days=1))
        )

        def build() -> ibis.Table:
            # Counts and stage-change times only: the deals' stages then are not needed.
            deals = open_deals_at(frame, frame.as_of_end)
            cutoff = ts_literal(frame.as_of_end - dt.timedelta(days=STALE_DAYS))
            moved = ibis.coalesce(deals.last_stage_change_at, deals.created_at)
            stale = ibis.ifelse(moved < cutoff, 1, 0).sum()
            return deals.aggregate(n=deals.id.count(), stale=stale)

        _, rows = self.service.sources.fetch(build, ("stale_share", frame_key(frame)))
        n, stale = rows[0]
        return None if not n else float(stale) / float(n)

    def health_periods(self) -> dict[str, Period]:
        as_of = self.service.as_of
        tomorrow = as_of + dt.timedelta(days=1)
        return {
            "year": Period(as_of - dt.timedelta(days=364), tomorrow),
            "quarter": Period(quarter_start(as_of), tomorrow),
            "today": Period(as_of, tomorrow),
            "whole_quarter": Period(quarter_start(as_of), _quarter_end(as_of)),
            "trailing": Period(as_of - dt.timedelta(days=89), tomorrow),
        }

    def health(self, period: Period, speed: float | None, win_rate: float | None) -> PipelineHealth:
        spans = self.health_periods()
        year, quarter = spans["year"], spans["quarter"]
        ratio = _ratio(self.value("gci", year), self.value("sales_volume", year))
        weighted = self.value("weighted_pipeline_value", spans["today"]) or 0.0
        expected = weighted * (ratio or 0.0)
        plan = self.target("gci", spans["whole_quarter"])
        if plan is not None:
            needed = max(0.0, plan - (self.value("gci", quarter) or 0.0))
            basis = "the quarter's plan"
        else:
            needed = self.value("gci", spans["trailing"]) or 0.0
            basis = "the trailing 90 days' GCI"
        coverage = 1.0 if needed <= 0 else min(1.0, expected / needed)
        trailing_win = self.value("win_rate", year)
        win = _ratio(win_rate, trailing_win)
        stale = self.stale_share()
        parts = [
            (
                "coverage",
                coverage,
                f"expected GCI {expected:,.0f} vs {needed:,.0f} needed ({basis})",
            ),
            (
                "win_rate",
                None if win is None else min(1.0, win),
                f"win rate {_pct(win_rate)} vs trailing year {_pct(trailing_win)}",
            ),
            (
                "freshness",
                None if stale is None else 1.0 - stale,
                f"{_pct(stale)} of open deals without a stage change in {STALE_DAYS} days",
            ),
            (
                "speed",
                None if not speed else min(1.0, SPEED_SLA_MINUTES / speed),
                f"median speed to lead {_num(speed)} min vs {SPEED_SLA_MINUTES:g} min SLA",
            ),
        ]
        components = [
            HealthComponent(
                name=n, weight=HEALTH_WEIGHTS[n], score=0.5 if s is None else s, detail=d
            )
            for n, s, d in parts
        ]
        score = round(100 * sum(c.weight * c.score for c in components))
        return PipelineHealth(score=score, components=components)

    def _by_agent(self, period: Period) -> Frame:
        s = self.service
        return Frame(s.sources, period, s.as_of, s.zone, dimensions=(Dimension.AGENT,))

    def top_agents(self, period: Period) -> list[TopAgent]:
        if self._top is not None and self._top[0] == period:
            found = self._top[1]
        else:
            found = self._computed_top(period)
        gci, deals = found["gci"], found["closings"]
        ranked = sorted(
            ((k[0], v or 0.0) for k, v in gci.items() if k[0] is not None), key=lambda kv: -kv[1]
        )[:5]
        names = self._agent_names([int(a) for a, _ in ranked])
        return [
            TopAgent(
                agent_id=int(a),
                name=names.get(int(a), f"agent {a}"),
                gci=v,
                closings=int(deals.get((a,)) or 0),
            )
            for a, v in ranked
        ]

    def _computed_top(self, period: Period) -> dict[str, dict[Key, float | None]]:
        (found,) = self.service.compute_many([(self._by_agent(period), TOP_AGENT_METRICS)])
        return found

    def _agent_names(self, ids: Sequence[int]) -> dict[int, str]:
        if not ids:
            return {}

        def build() -> ibis.Table:
            t = self.service.sources.table("agents")
            return t.filter(t.id.isin(list(ids))).select(
                "id", name=t.first_name.concat(" ", t.last_name)
            )

        _, rows = self.service.sources.fetch(build, ("agent_names", tuple(sorted(ids))))
        return {int(r[0]): str(r[1]) for r in rows}


def to_date_periods(as_of: dt.date) -> dict[str, Period]:
    """Month, quarter and year to date on `as_of`, by label."""
    return {
        label: resolve_range(name, as_of)
        for name, label in (
            (RangeName.MONTH_TO_DATE, "Month to date"),
            (RangeName.QUARTER_TO_DATE, "Quarter to date"),
            (RangeName.YEAR_TO_DATE, "Year to date"),
        )
    }


def _quarter_end(day: dt.date) -> dt.date:
    start = quarter_start(day)
    index = start.year * 12 + start.month - 1 + 3
    return dt.date(index // 12, index % 12 + 1, 1)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"


def compute_summary(
    service: AnalyticsService,
    range_name: RangeName = RangeName.LAST_30_DAYS,
    compare: Compare = Compare.PREVIOUS_PERIOD,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> SummaryRead:
    """The executive summary of the period `range_name` names on the service's `as_of`."""
    period = resolve_range(range_name, service.as_of, start, end)
    other = comparison_period(period, compare)
    summary = _Summary(service, top=period)
    values: dict[Period, set[str]] = defaultdict(set)
    targets: dict[Period, set[str]] = defaultdict(set)
    values[period] |= set(CARDS)
    targets[period] |= set(CARDS)
    if other is not None:
        values[other] |= set(CARDS)
    for span in to_date_periods(service.as_of).values():
        values[span].add("gci")
        targets[span].add("gci")
    spans = summary.health_periods()
    values[spans["year"]] |= {"gci", "sales_volume", "win_rate"}
    values[spans["today"]].add("weighted_pipeline_value")
    values[spans["quarter"]].add("gci")
    values[spans["trailing"]].add("gci")
    targets[spans["whole_quarter"]].add("gci")
    summary.prefetch(values, targets)
    cards = [summary.card(slug, period, other) for slug in CARDS]
    by_slug = {c.slug: c for c in cards}
    return SummaryRead(
        as_of=service.as_of,
        period=_read(period),
        compare=compare,
        comparison_period=None if other is None else _read(other),
        cards=cards,
        revenue=summary.revenue(),
        pipeline_health=summary.health(
            period, by_slug["speed_to_lead_median_minutes"].value, by_slug["win_rate"].value
        ),
        top_agents=summary.top_agents(period),
        alerts=[],
    )
