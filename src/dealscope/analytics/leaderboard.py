"""The agent leaderboard: every agent the caller may see, with the period's revenue, deals,
conversion and speed to lead, ranked by one of them.

Figures are the registry's metrics split by agent (`gci`, `sales_volume`, `closings`,
`new_leads`, `lead_to_close_rate`, `speed_to_lead_median_minutes`), so a row matches what
`/metrics/query` gives for the same agent and period. The caller's scope decides the rows:
an agent sees only their own, a manager their team's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

import ibis.expr.types as ir

from dealscope.analytics.dimensions import Frame
from dealscope.analytics.metrics.base import Metric
from dealscope.analytics.periods import Period
from dealscope.analytics.registry import get_metric
from dealscope.analytics.service import AnalyticsService, Key
from dealscope.analytics.specs import Dimension


class SortBy(StrEnum):
    GCI = "gci"  # most GCI first
    DEALS = "deals"  # most closings first
    CONVERSION = "conversion"  # highest lead-to-close rate first
    SPEED_TO_LEAD = "speed_to_lead"  # fastest median first


@dataclass(frozen=True)
class AgentRow:
    rank: int
    agent_id: int
    name: str
    team_id: int | None
    gci: float
    sales_volume: float
    deals: int
    new_leads: int
    conversion: float | None
    speed_to_lead_minutes: float | None


@dataclass(frozen=True)
class Leaderboard:
    period_start: dt.date
    period_end: dt.date
    as_of: dt.date
    timezone: str
    sort_by: SortBy
    agents: list[AgentRow]


SLUGS = {
    "gci": "gci",
    "sales_volume": "sales_volume",
    "deals": "closings",
    "new_leads": "new_leads",
    "conversion": "lead_to_close_rate",
    "speed_to_lead_minutes": "speed_to_lead_median_minutes",
}


def _sort_key(sort_by: SortBy, row: AgentRow) -> tuple[bool, float, float, int]:
    """Best first; agents without a value for the chosen figure last; ties by GCI, then id."""
    value: float | None = {
        SortBy.GCI: row.gci,
        SortBy.DEALS: float(row.deals),
        SortBy.CONVERSION: row.conversion,
        SortBy.SPEED_TO_LEAD: None
        if row.speed_to_lead_minutes is None
        else -row.speed_to_lead_minutes,
    }[sort_by]
    return (value is None, -(value or 0.0), -row.gci, row.agent_id)


def _team(value: object) -> int | None:
    """A team id read back from a frame (pandas gives NaN or None for a missing one)."""
    if value is None or value != value:  # NaN is not equal to itself
        return None
    return int(str(value).split(".")[0])


def people_of(service: AnalyticsService) -> list[dict[str, object]]:
    """The agents the caller sees: id, team_id, is_active, name."""

    def build() -> ir.Table:
        t = service.sources.table("agents")
        return t.select("id", "team_id", "is_active", name=t.first_name.concat(" ", t.last_name))

    names, rows = service.sources.fetch(build, ("people_of",))
    return [dict(zip(names, row, strict=True)) for row in rows]


def leaderboard_requests(frame: Frame) -> tuple[Frame, tuple[Metric, ...]]:
    """The metrics of a leaderboard row, over `frame` (split by agent)."""
    return frame, tuple(get_metric(slug) for slug in SLUGS.values())


def rank_agents(
    values: Mapping[str, Mapping[Key, float | None]],
    people: list[dict[str, object]],
    sort_by: SortBy = SortBy.GCI,
) -> list[AgentRow]:
    """Leaderboard rows of `people` (active ones, and any other with figures) from metric
    rows split by agent, ranked by `sort_by`."""
    figures = {
        name: {int(str(k[0])): v for k, v in values[slug].items() if k[0] is not None}
        for name, slug in SLUGS.items()
    }
    seen = {a for found in figures.values() for a in found}
    rows = []
    for p in people:
        agent = int(str(p["id"]))
        if not (bool(p["is_active"]) or agent in seen):
            continue
        rows.append(
            AgentRow(
                rank=0,
                agent_id=agent,
                name=str(p["name"]),
                team_id=_team(p["team_id"]),
                gci=figures["gci"].get(agent) or 0.0,
                sales_volume=figures["sales_volume"].get(agent) or 0.0,
                deals=int(figures["deals"].get(agent) or 0),
                new_leads=int(figures["new_leads"].get(agent) or 0),
                conversion=figures["conversion"].get(agent),
                speed_to_lead_minutes=figures["speed_to_lead_minutes"].get(agent),
            )
        )
    ranked = sorted(rows, key=lambda r: _sort_key(sort_by, r))
    return [AgentRow(**{**r.__dict__, "rank": i}) for i, r in enumerate(ranked, start=1)]


def compute_leaderboard(
    service: AnalyticsService, period: Period, sort_by: SortBy = SortBy.GCI
) -> Leaderboard:
    """Every agent the caller may see (active ones, and any other with figures in the
    period), ranked by `sort_by`. Money in the tenant's currency; conversion is leads of the
    period whose deal was won / leads (0..1, null without leads); speed to lead is the median
    minutes from lead creation to first outreach (null without any)."""
    frame = Frame(
        service.sources, period, service.as_of, service.zone, dimensions=(Dimension.AGENT,)
    )
    (values,) = service.compute_many([leaderboard_requests(frame)])
    return Leaderboard(
        period_start=period.start,
        period_end=period.last_day,
        as_of=service.as_of,
        timezone=str(service.zone.key),
        sort_by=sort_by,
        agents=rank_agents(values, people_of(service), sort_by),
    )
