"""The revenue dashboard: what the period's closings brought in, where from, against plan,
and how concentrated it is.

Everything is computed from transactions closed in the period (by `close_date`, the same rows
as the `gci`, `sales_volume` and `closings` metrics), in one aggregate query split by agent,
team, office, source, property type, zip and month; the breakdowns are sums of its rows.
Plans (the company GCI target, monthly plans prorated by day) are read only for tenant-wide
callers: agents and managers cannot read the targets table, so they get no target rather than
an error. Money is in the tenant's currency; shares and ratios are fractions.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from dealscope.analytics.dimensions import BUCKET, Frame
from dealscope.analytics.metrics.opportunities import open_at
from dealscope.analytics.metrics.revenue import closed_transactions
from dealscope.analytics.metrics.targets import build_target
from dealscope.analytics.observation import Observation
from dealscope.analytics.periods import Grain, buckets, elapsed_share
from dealscope.analytics.sources import Sources
from dealscope.analytics.specs import Dimension

MONEY = ("sales_volume", "gci", "referral_fees", "agent_commission", "company_dollar")
COLUMNS = {
    "sales_volume": "sale_price",
    "gci": "gci",
    "referral_fees": "referral_fee",
    "agent_commission": "agent_commission",
    "company_dollar": "company_dollar",
}
SPLITS = (
    Dimension.AGENT,
    Dimension.TEAM,
    Dimension.OFFICE,
    Dimension.SOURCE,
    Dimension.PROPERTY_TYPE,
    Dimension.ZIP,
)
# Herfindahl-Hirschman index of agents' GCI shares (0..1): below ELEVATED is "ok", from
# ELEVATED up to HIGH "elevated", above HIGH "high" (the antitrust thresholds, on 0..1).
HHI_ELEVATED = 0.15
HHI_HIGH = 0.25


@dataclass(frozen=True)
class Totals:
    sales_volume: float
    gci: float
    referral_fees: float
    agent_commission: float
    company_dollar: float
    closings: int
    average_deal_size: float | None


@dataclass(frozen=True)
class BreakdownRow:
    key: str | None
    name: str | None
    sales_volume: float
    gci: float
    closings: int
    average_deal_size: float | None
    gci_share: float | None


@dataclass(frozen=True)
class MonthPoint:
    month_start: dt.date
    sales_volume: float
    gci: float
    company_dollar: float
    closings: int


@dataclass(frozen=True)
class ClosedVsPipeline:
    closed_volume: float
    pipeline_value: float
    open_deals: int


@dataclass(frozen=True)
class Pacing:
    target: float | None
    gci: float
    attainment: float | None
    elapsed_share: float
    expected_by_now: float | None
    pace_ratio: float | None


@dataclass(frozen=True)
class Concentration:
    top_1_agents_share: float | None
    top_5_agents_share: float | None
    top_10_agents_share: float | None
    top_1_sources_share: float | None
    top_3_sources_share: float | None
    agent_hhi: float | None
    level: str | None


@dataclass(frozen=True)
class Revenue:
    period_start: dt.date
    period_end: dt.date
    as_of: dt.date
    timezone: str
    totals: Totals
    by_agent: list[BreakdownRow]
    by_team: list[BreakdownRow]
    by_office: list[BreakdownRow]
    by_source: list[BreakdownRow]
    by_property_type: list[BreakdownRow]
    by_zip: list[BreakdownRow]
    monthly: list[MonthPoint]
    closed_vs_pipeline: ClosedVsPipeline
    pacing: Pacing
    concentration: Concentration


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else a / b


def _num(value: Any) -> float:
    if value is None or value is pd.NA:
        return 0.0
    number = float(value)
    return 0.0 if math.isnan(number) else number


def _key(value: Any) -> str | None:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return str(value)


def _month(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return pd.Timestamp(value).date()


def _closed_rows(sources: Sources, frame: Frame) -> list[dict[str, Any]]:
    """Sums and counts of the period's closings by month and every split (one query)."""
    measures = {name: (lambda t, c=column: t[c]) for name, column in COLUMNS.items()}
    rows = closed_transactions(frame, **measures, tx_id=lambda t: t.id)
    sums = {name: (lambda t, n=name: t[n].sum()) for name in COLUMNS}
    table = rows.group_by(frame.keys).aggregate(
        closings=rows.tx_id.count(), **{n: fn(rows) for n, fn in sums.items()}
    )
    records = sources.frame(table).to_dict("records")
    return [{str(k): v for k, v in r.items()} for r in records]


def _names(sources: Sources, dim: Dimension, keys: Iterable[str | None]) -> dict[str, str]:
    ids = sorted({int(k) for k in keys if k is not None and k.lstrip("-").isdigit()})
    if not ids or dim not in (Dimension.AGENT, Dimension.TEAM, Dimension.OFFICE):
        return {}
    if dim == Dimension.AGENT:
        t = sources.table("agents")
        expr = t.filter(t.id.isin(ids)).select("id", name=t.first_name.concat(" ", t.last_name))
    else:
        t = sources.table("teams" if dim == Dimension.TEAM else "offices")
        expr = t.filter(t.id.isin(ids)).select("id", "name")
    found = sources.frame(expr)
    return {str(int(r["id"])): str(r["name"]) for r in found.to_dict("records")}


def _breakdown(
    sources: Sources, rows: list[dict[str, Any]], dim: Dimension, total_gci: float
) -> list[BreakdownRow]:
    sums: dict[str | None, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for row in rows:
        acc = sums[_key(row[dim.value])]
        for name in ("sales_volume", "gci", "closings"):
            acc[name] += _num(row[name])
    names = _names(sources, dim, sums)
    out = [
        BreakdownRow(
            key=key,
            name=names.get(key) if key is not None else None,
            sales_volume=acc["sales_volume"],
            gci=acc["gci"],
            closings=int(acc["closings"]),
            average_deal_size=_ratio(acc["sales_volume"], acc["closings"]),
            gci_share=_ratio(acc["gci"], total_gci) if total_gci > 0 else None,
        )
        for key, acc in sums.items()
    ]
    return sorted(out, key=lambda r: (-r.gci, r.key is None, r.key or ""))


def _top_share(rows: list[BreakdownRow], n: int, total: float) -> float | None:
    if total <= 0:
        return None
    return sum(r.gci for r in rows[:n]) / total


def compute_concentration(
    agents: list[BreakdownRow], sources: list[BreakdownRow], total_gci: float
) -> Concentration:
    """Shares of the period's GCI held by the top 1/5/10 agents and top 1/3 sources (rows
    sorted by GCI, descending), and the Herfindahl-Hirschman index over agents: the sum of
    squared GCI shares, 0..1 (1 = one agent earns everything). All null without positive GCI."""
    if total_gci <= 0:
        return Concentration(None, None, None, None, None, None, None)
    hhi = sum((r.gci / total_gci) ** 2 for r in agents)
    level = "ok" if hhi < HHI_ELEVATED else "elevated" if hhi <= HHI_HIGH else "high"
    return Concentration(
        top_1_agents_share=_top_share(agents, 1, total_gci),
        top_5_agents_share=_top_share(agents, 5, total_gci),
        top_10_agents_share=_top_share(agents, 10, total_gci),
        top_1_sources_share=_top_share(sources, 1, total_gci),
        top_3_sources_share=_top_share(sources, 3, total_gci),
        agent_hhi=hhi,
        level=level,
    )


def _pipeline(sources: Sources, frame: Frame) -> tuple[float, int]:
    deals = open_at(frame, frame.as_of_end)
    row = sources.frame(deals.aggregate(n=deals.id.count(), value=deals.value.sum())).iloc[0]
    return _num(row["value"]), int(_num(row["n"]))


def _plan(sources: Sources, frame: Frame) -> float | None:
    if sources.scope.agent_ids is not None:
        return None  # agents and managers cannot read plans
    found = sources.frame(build_target(frame, "gci"))
    value = None if found.empty else found.iloc[0]["value"]
    return None if _key(value) is None else _num(value)


def compute_pacing(gci: float, target: float | None, observation: Observation) -> Pacing:
    """GCI against the period's plan: attainment = gci / target; expected by now = target ×
    the share of the period elapsed by the end of `as_of`; pace ratio = gci / expected by now
    (1.0 is on pace). Null where there is no plan, or it or the expectation is 0."""
    share = elapsed_share(observation.period, observation.as_of)
    expected = None if target is None else target * share
    return Pacing(
        target=target,
        gci=gci,
        attainment=_ratio(gci, target),
        elapsed_share=share,
        expected_by_now=expected,
        pace_ratio=_ratio(gci, expected),
    )


def _totals(rows: list[dict[str, Any]]) -> Totals:
    sums = {name: sum(_num(r[name]) for r in rows) for name in MONEY}
    closings = int(sum(_num(r["closings"]) for r in rows))
    return Totals(
        **sums, closings=closings, average_deal_size=_ratio(sums["sales_volume"], closings)
    )


def _monthly(rows: list[dict[str, Any]], observation: Observation) -> list[MonthPoint]:
    acc: Mapping[dt.date, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for row in rows:
        point = acc[_month(row[BUCKET])]
        for name in ("sales_volume", "gci", "company_dollar", "closings"):
            point[name] += _num(row[name])
    return [
        MonthPoint(
            month_start=m,
            sales_volume=acc[m]["sales_volume"],
            gci=acc[m]["gci"],
            company_dollar=acc[m]["company_dollar"],
            closings=int(acc[m]["closings"]),
        )
        for m in buckets(observation.period, Grain.MONTH)
    ]


def compute_revenue(sources: Sources, observation: Observation) -> Revenue:
    """The revenue dashboard of `observation`'s period for the caller behind `sources` (see
    the module docstring). An empty period gives zeros, and nulls for ratios."""
    frame = Frame(
        sources,
        observation.period,
        observation.as_of,
        observation.zone,
        grain=Grain.MONTH,
        dimensions=SPLITS,
    )
    rows = _closed_rows(sources, frame)
    totals = _totals(rows)
    splits = {dim: _breakdown(sources, rows, dim, totals.gci) for dim in SPLITS}
    pipeline_value, open_deals = _pipeline(sources, frame)
    flat = Frame(sources, observation.period, observation.as_of, observation.zone)
    return Revenue(
        period_start=observation.period.start,
        period_end=observation.period.last_day,
        as_of=observation.as_of,
        timezone=observation.timezone,
        totals=totals,
        by_agent=splits[Dimension.AGENT],
        by_team=splits[Dimension.TEAM],
        by_office=splits[Dimension.OFFICE],
        by_source=splits[Dimension.SOURCE],
        by_property_type=splits[Dimension.PROPERTY_TYPE],
        by_zip=splits[Dimension.ZIP],
        monthly=_monthly(rows, observation),
        closed_vs_pipeline=ClosedVsPipeline(
            closed_volume=totals.sales_volume,
            pipeline_value=pipeline_value,
            open_deals=open_deals,
        ),
        pacing=compute_pacing(totals.gci, _plan(sources, flat), observation),
        concentration=compute_concentration(
            splits[Dimension.AGENT], splits[Dimension.SOURCE], totals.gci
        ),
    )
