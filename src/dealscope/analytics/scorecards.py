"""Scorecards: the same set of figures for an agent, a team or the brokerage, from the metric
registry, and the plans a scoped caller may read.

A scorecard's figures are registry metrics (`SCORECARD` maps each field to its slug), so an
agent's scorecard is what `/metrics/query` gives split by agent, a team's what it gives
split by team, the brokerage's what it gives without a split. All of them are computed in
one stacked query (`AnalyticsService.compute_many`).

Averages per agent (`per_agent`) divide counts and money by the number of agents of the
group (every active agent, and any other with figures in the period, the leaderboard's
rule); ratios, medians and durations are not averaged per agent but taken pooled over the
group's rows (the team's conversion is its won leads over its leads), which is what the
team split of `/metrics/query` gives and is not swayed by agents with one or two leads.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, fields

import ibis.expr.types as ir

from dealscope.analytics.metrics.base import Metric
from dealscope.analytics.periods import Period, elapsed_share
from dealscope.analytics.registry import get_metric
from dealscope.analytics.service import Key
from dealscope.analytics.sources import Sources
from dealscope.warehouse.tenancy import TenantScope, scope_table

# Scorecard field -> metric slug.
SCORECARD: dict[str, str] = {
    "leads_handled": "new_leads",
    "contact_rate": "contact_rate",
    "conversion": "lead_to_close_rate",
    "speed_to_lead_median_minutes": "speed_to_lead_median_minutes",
    "speed_to_lead_p90_minutes": "speed_to_lead_p90_minutes",
    "follow_up_compliance": "follow_up_compliance",
    "appointments_set": "appointments_set",
    "appointments_held": "appointments_held",
    "deals_won": "deals_won",
    "deals_lost": "deals_lost",
    "win_rate": "win_rate",
    "average_days_to_close": "average_days_to_close",
    "closings": "closings",
    "sales_volume": "sales_volume",
    "gci": "gci",
    "company_dollar": "company_dollar",
    "average_deal_size": "average_deal_size",
    "open_deals": "open_deals",
    "pipeline_value": "pipeline_value",
    "weighted_pipeline_value": "weighted_pipeline_value",
}
# Activity type (activities.activity_type) -> metric slug.
ACTIVITIES: dict[str, str] = {
    "call": "calls",
    "email": "emails",
    "sms": "sms",
    "meeting": "meetings",
    "showing": "showings_held",
}
SCORECARD_METRICS: tuple[Metric, ...] = tuple(
    get_metric(s) for s in (*SCORECARD.values(), *ACTIVITIES.values())
)
# Ratios, medians and means: a group's value needs the group's own rows.
POOLED_METRICS: tuple[Metric, ...] = tuple(m for m in SCORECARD_METRICS if not m.additive)


def roll_up(
    by_agent: Values, pooled: Values, group_of: Callable[[str | None], Key]
) -> dict[str, dict[Key, float | None]]:
    """Scorecard values of groups of agents: counts and money summed (math.fsum) from the
    agents' rows, keyed by `group_of(agent key)`; the pooled metrics as computed for the
    groups (`pooled`). Splitting by team puts a row in the team of its agent, so the sums
    are the team split's values (to the cent)."""
    out: dict[str, dict[Key, float | None]] = {}
    groups: dict[str | None, Key] = {}  # each agent's group, looked up once
    for metric in SCORECARD_METRICS:
        if not metric.additive:
            out[metric.slug] = dict(pooled[metric.slug])
            continue
        parts: dict[Key, list[float]] = {}
        for key, value in by_agent[metric.slug].items():
            group = groups.get(key[0])
            if group is None:
                group = groups[key[0]] = group_of(key[0])
            parts.setdefault(group, []).append(value or 0.0)
        out[metric.slug] = {k: math.fsum(v) for k, v in parts.items()}
    return out


@dataclass(frozen=True)
class Scorecard:
    """A group's (or an agent's) figures over a period; see the metric of each field
    (`SCORECARD`). Counts and money are 0 over nothing, ratios and durations null."""

    leads_handled: float
    contact_rate: float | None
    conversion: float | None
    speed_to_lead_median_minutes: float | None
    speed_to_lead_p90_minutes: float | None
    follow_up_compliance: float | None
    appointments_set: float
    appointments_held: float
    deals_won: float
    deals_lost: float
    win_rate: float | None
    average_days_to_close: float | None
    closings: float
    sales_volume: float
    gci: float
    company_dollar: float
    average_deal_size: float | None
    open_deals: float
    pipeline_value: float
    weighted_pipeline_value: float


@dataclass(frozen=True)
class ActivityCount:
    activity_type: str
    count: float


Values = Mapping[str, Mapping[Key, float | None]]


def scorecard_of(values: Values, key: Key, per: int = 1) -> Scorecard:
    """The scorecard at `key` of computed metric rows; counts and money divided by `per`
    (the agents of the group, for a per-agent average)."""
    out: dict[str, float | None] = {}
    for name, slug in SCORECARD.items():
        metric = get_metric(slug)
        value = values[slug].get(key)
        if metric.additive:
            out[name] = (value or 0.0) / max(per, 1)
        else:
            out[name] = value
    return Scorecard(**out)  # type: ignore[arg-type]


def activities_of(values: Values, key: Key, per: int = 1) -> list[ActivityCount]:
    """Activities logged by type at `key` (divided by `per` for an average)."""
    return [
        ActivityCount(kind, (values[slug].get(key) or 0.0) / max(per, 1))
        for kind, slug in ACTIVITIES.items()
    ]


def per_agent(card: Scorecard, agents: int) -> Scorecard:
    """`card` with counts and money divided by `agents` (ratios and durations kept)."""
    if agents <= 1:
        return card
    changed = {}
    for f in fields(card):
        if get_metric(SCORECARD[f.name]).additive:
            changed[f.name] = getattr(card, f.name) / agents
        else:
            changed[f.name] = getattr(card, f.name)
    return Scorecard(**changed)


@dataclass(frozen=True)
class Quota:
    """GCI against the plan of one period: attainment = gci / target; expected by now =
    target × the share of the period elapsed by the end of `as_of`; pace ratio = gci /
    expected by now (1.0 on pace); projected = gci / elapsed share (where the period ends at
    this pace). Null where there is no plan (or it, or the expectation, is 0)."""

    label: str
    period_start: dt.date
    period_end: dt.date
    target: float | None
    gci: float
    attainment: float | None
    elapsed_share: float
    expected_by_now: float | None
    pace_ratio: float | None
    projected: float | None


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else a / b


def quota(label: str, period: Period, as_of: dt.date, gci: float, target: float | None) -> Quota:
    share = elapsed_share(period, as_of)
    expected = None if target is None else target * share
    return Quota(
        label=label,
        period_start=period.start,
        period_end=period.last_day,
        target=target,
        gci=gci,
        attainment=_ratio(gci, target),
        elapsed_share=share,
        expected_by_now=expected,
        pace_ratio=_ratio(gci, expected),
        projected=_ratio(gci, share),
    )


class PlanSources(Sources):
    """The caller's sources, plus the plans (targets) the caller may read: every plan for a
    tenant-wide caller; for a scoped one, the plans of its own agents and of the teams all of
    whose agents it sees (a manager's team), never the company's or another agent's. The
    targets table is otherwise closed to scoped callers (warehouse.tenancy)."""

    def __init__(self, sources: Sources, teams: Iterable[int] = ()) -> None:
        super().__init__(sources.warehouse, sources.scope)
        self._teams = sorted(set(teams))

    def cache_key(self) -> Hashable:
        return (*super().cache_key(), tuple(self._teams))  # type: ignore[misc]

    def table(self, name: str) -> ir.Table:
        if name != "targets" or self.scope.agent_ids is None:
            return super().table(name)
        if name not in self._tables:
            raw = self.warehouse.ibis().table(name)
            whole = scope_table(raw, name, TenantScope(self.scope.tenant_id))
            own = (whole.scope == "agent") & whole.scope_id.isin(sorted(self.scope.agent_ids))
            team = (whole.scope == "team") & whole.scope_id.isin(self._teams)
            self._tables[name] = whole.filter(own | team if self._teams else own)
        return self._tables[name]


def whole_teams(sources: Sources) -> list[int]:
    """The teams all of whose agents the caller sees (every team for a tenant-wide caller)."""

    def build() -> ir.Table:
        tenant = Sources(sources.warehouse, TenantScope(sources.scope.tenant_id))
        everyone = tenant.table("agents")
        return everyone.filter(everyone.team_id.notnull()).select("id", "team_id")

    _, rows = sources.fetch(build, ("whole_teams",))
    members: dict[int, set[int]] = {}
    for agent, team in rows:
        members.setdefault(int(team), set()).add(int(agent))
    visible = sources.scope.agent_ids
    return sorted(t for t, ids in members.items() if visible is None or ids <= visible)
