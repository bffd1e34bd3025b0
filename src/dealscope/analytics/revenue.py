"""The revenue dashboard: what the period's closings brought in, where from, against plan,
and how concentrated it is.

Everything is computed from transactions closed in the period (by `close_date`, the same rows
as the `gci`, `sales_volume` and `closings` metrics). One statement answers the whole page:
the period's closings, shaped once with every split and the month, are summed in the database
by each split (agent, team and office with their names), by month and in total, beside the
open deals' count and value and the plan. Plans (the company GCI target, monthly plans
prorated by day) are read only for tenant-wide callers: agents and managers cannot read the
targets table, so they get no target rather than an error. Money is in the tenant's
currency; shares and ratios are fractions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.types as ir

from dealscope.analytics.dimensions import BUCKET, Frame, frame_key
from dealscope.analytics.metrics.opportunities import open_deals_at
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
SPLIT_MONEY = ("sales_volume", "gci")  # what the breakdowns show
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
    return 0.0 if value is None else float(value)


# The statement's rows: which part of the page (a split's value, "month", "total",
# "pipeline", "plan"), the group's key and name (text), the closings and the money sums.
PART, KEY, NAME, CLOSINGS = "part", "key", "name", "closings"
TOTAL, MONTH, PIPELINE, PLAN = "total", "month", "pipeline", "plan"
# Splits whose keys are ids, named from these tables.
NAMED = {Dimension.AGENT: "agents", Dimension.TEAM: "teams", Dimension.OFFICE: "offices"}


def _arm(
    grouped: ir.Table, part: str, key: ir.Value | None, name: ir.Value | None, money: Sequence[str]
) -> ir.Table:
    """One part of the statement in its common columns (absent sums are null)."""
    return grouped.select(
        **{
            PART: ibis.literal(part, type="string"),
            KEY: ibis.null("string") if key is None else key.cast("string"),
            NAME: ibis.null("string") if name is None else name.cast("string"),
            CLOSINGS: grouped[CLOSINGS].cast("int64"),
        },
        **{m: grouped[m].cast("float64") if m in money else ibis.null("float64") for m in MONEY},
    )


def _names(sources: Sources, dim: Dimension) -> ir.Table:
    """`_id` (the id as text, as split keys are) -> `_name` of agents, teams or offices."""
    table = sources.table(NAMED[dim])
    agent = dim == Dimension.AGENT
    name = table.first_name.concat(" ", table.last_name) if agent else table.name
    return table.select(_id=table.id.cast("string"), _name=name)


def _statement(sources: Sources, frame: Frame, flat: Frame, with_plan: bool) -> ir.Table:
    """The whole page in one statement: the period's closings (shaped once with the month and
    every split, a common table) summed in total, by month and by each split, then the deals
    open at the end of `as_of` (count, value) and, `with_plan`, the GCI plan of `flat`."""
    measures = {name: (lambda t, c=column: t[c]) for name, column in COLUMNS.items()}
    rows = closed_transactions(frame, **measures, tx_id=lambda t: t.id)

    def sums(money: Sequence[str]) -> dict[str, ir.Value]:
        return {CLOSINGS: rows.tx_id.count(), **{m: rows[m].sum() for m in money}}

    total = rows.aggregate(**sums(MONEY))
    months = rows.group_by(BUCKET).aggregate(**sums(MONEY))
    arms = [
        _arm(total, TOTAL, None, None, MONEY),
        _arm(months, MONTH, months[BUCKET], None, MONEY),
    ]
    for dim in SPLITS:
        split = rows.group_by(dim.value).aggregate(**sums(SPLIT_MONEY))
        if dim in NAMED:
            names = _names(sources, dim)
            split = split.left_join(names, split[dim.value] == names._id)
            arms.append(_arm(split, dim.value, split[dim.value], split._name, SPLIT_MONEY))
        else:
            arms.append(_arm(split, dim.value, split[dim.value], None, SPLIT_MONEY))
    deals = open_deals_at(frame, frame.as_of_end)
    pipeline = deals.aggregate(**{CLOSINGS: deals.id.count(), "sales_volume": deals.value.sum()})
    arms.append(_arm(pipeline, PIPELINE, None, None, ("sales_volume",)))
    if with_plan:
        plan = build_target(flat, "gci")
        plan = plan.select(**{CLOSINGS: ibis.literal(0, type="int64"), "gci": plan.value})
        arms.append(_arm(plan, PLAN, None, None, ("gci",)))
    return ibis.union(*arms)


def _fetch(sources: Sources, frame: Frame, flat: Frame) -> dict[str, list[dict[str, Any]]]:
    """The statement's rows by part. Plans are read only by tenant-wide callers (agents and
    managers cannot read them)."""
    with_plan = sources.scope.agent_ids is None
    names, rows = sources.fetch(
        lambda: _statement(sources, frame, flat, with_plan), ("revenue", frame_key(frame))
    )
    parts: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        record = dict(zip(names, row, strict=True))
        parts.setdefault(str(record[PART]), []).append(record)
    return parts


def _breakdown(rows: list[dict[str, Any]], total_gci: float) -> list[BreakdownRow]:
    out = []
    for row in rows:
        sales_volume, gci, closings = _num(row["sales_volume"]), _num(row["gci"]), row[CLOSINGS]
        out.append(
            BreakdownRow(
                key=row[KEY],
                name=row[NAME],
                sales_volume=sales_volume,
                gci=gci,
                closings=int(closings),
                average_deal_size=_ratio(sales_volume, closings),
                gci_share=_ratio(gci, total_gci) if total_gci > 0 else None,
            )
        )
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


def _totals(row: dict[str, Any]) -> Totals:
    sums = {name: _num(row[name]) for name in MONEY}
    closings = int(row[CLOSINGS])
    return Totals(
        **sums, closings=closings, average_deal_size=_ratio(sums["sales_volume"], closings)
    )


def _monthly(rows: list[dict[str, Any]], observation: Observation) -> list[MonthPoint]:
    found = {dt.date.fromisoformat(str(r[KEY])[:10]): r for r in rows}
    empty = {CLOSINGS: 0, **dict.fromkeys(MONEY)}
    return [
        MonthPoint(
            month_start=m,
            sales_volume=_num(found.get(m, empty)["sales_volume"]),
            gci=_num(found.get(m, empty)["gci"]),
            company_dollar=_num(found.get(m, empty)["company_dollar"]),
            closings=int(found.get(m, empty)[CLOSINGS]),
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
    flat = Frame(sources, observation.period, observation.as_of, observation.zone)
    parts = _fetch(sources, frame, flat)
    totals = _totals(parts[TOTAL][0])
    splits = {dim: _breakdown(parts.get(dim.value, []), totals.gci) for dim in SPLITS}
    pipeline = parts[PIPELINE][0]
    plans = parts.get(PLAN, [])
    target = None if not plans or plans[0]["gci"] is None else float(plans[0]["gci"])
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
        monthly=_monthly(parts.get(MONTH, []), observation),
        closed_vs_pipeline=ClosedVsPipeline(
            closed_volume=totals.sales_volume,
            pipeline_value=_num(pipeline["sales_volume"]),
            open_deals=int(pipeline[CLOSINGS]),
        ),
        pacing=compute_pacing(totals.gci, target, observation),
        concentration=compute_concentration(
            splits[Dimension.AGENT], splits[Dimension.SOURCE], totals.gci
        ),
    )
