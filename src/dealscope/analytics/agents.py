"""The agent drill-down and the team roll-up of the agents dashboard.

An agent's page: their scorecard over the period (leads handled, conversion, average deal,
speed to lead median and p90, follow-up compliance, activities by type, pipeline
contribution), the same figures for their team and the brokerage beside them (per-agent
averages for counts and money, pooled values for ratios: see `scorecards`), a monthly trend
of GCI, closings and leads, and GCI against plan for the period and for the month, quarter
and year holding `as_of`, with pacing.

A team's page: the team's scorecard (totals) and per-agent averages, its agents ranked by
GCI, the same trend and plans, and its share of the brokerage.

Scope: the caller's `Sources` decide what exists. An agent opening another agent's id, or a
manager an agent of another team, gets NotFound, the same answer as for an id that does not
exist; comparison figures cover only what the caller may see (a manager's brokerage column
is their team, so it is left out; an agent gets neither column: a team average would give
away teammates' figures).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import ibis.expr.types as ir

from dealscope.analytics.dimensions import Frame
from dealscope.analytics.leaderboard import (
    AgentRow,
    people_of,
    rank_agents,
)
from dealscope.analytics.metrics.base import Metric
from dealscope.analytics.periods import Grain, Period, grain_start
from dealscope.analytics.registry import get_metric
from dealscope.analytics.scorecards import (
    POOLED_METRICS,
    SCORECARD_METRICS,
    ActivityCount,
    PlanSources,
    Quota,
    Scorecard,
    Values,
    activities_of,
    per_agent,
    quota,
    roll_up,
    scorecard_of,
    whole_teams,
)
from dealscope.analytics.service import AnalyticsService, Key, target_requests, targets_of
from dealscope.analytics.specs import Dimension
from dealscope.errors import NotFound

TREND_MONTHS = 12
TREND_METRICS = ("gci", "closings", "new_leads", "deals_won")
TO_DATE = (
    ("Month", Grain.MONTH),
    ("Quarter", Grain.QUARTER),
    ("Year", Grain.YEAR),
)


@dataclass(frozen=True)
class TrendPoint:
    month_start: dt.date
    gci: float
    closings: int
    new_leads: int
    deals_won: int


@dataclass(frozen=True)
class Comparison:
    """A group's figures beside the agent's: `scorecard` per agent of the group (counts and
    money averaged over `agents`, ratios pooled), and its activities per agent."""

    label: str
    agents: int
    scorecard: Scorecard
    activities: list[ActivityCount]


@dataclass(frozen=True)
class AgentDetail:
    period_start: dt.date
    period_end: dt.date
    as_of: dt.date
    timezone: str
    agent_id: int
    name: str
    team_id: int | None
    team_name: str | None
    is_active: bool
    scorecard: Scorecard
    activities: list[ActivityCount]
    pipeline_share_of_team: float | None
    gci_share_of_team: float | None
    team_average: Comparison | None
    brokerage_average: Comparison | None
    quota: Quota
    quota_to_date: list[Quota]
    trend: list[TrendPoint]


@dataclass(frozen=True)
class TeamSummary:
    team_id: int | None
    name: str
    agents: int
    scorecard: Scorecard
    per_agent: Scorecard
    gci_share: float | None
    quota: Quota


@dataclass(frozen=True)
class Teams:
    period_start: dt.date
    period_end: dt.date
    as_of: dt.date
    timezone: str
    teams: list[TeamSummary]


@dataclass(frozen=True)
class TeamDetail:
    period_start: dt.date
    period_end: dt.date
    as_of: dt.date
    timezone: str
    team: TeamSummary
    activities: list[ActivityCount]
    members: list[AgentRow]
    brokerage_average: Comparison | None
    quota_to_date: list[Quota]
    trend: list[TrendPoint]


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else a / b


def _int(value: Any) -> int | None:
    if value is None or value != value:  # NaN is not equal to itself
        return None
    return int(str(value).split(".")[0])


def _after(day: dt.date, grain: Grain) -> dt.date:
    """The first day of the grain bucket after the one starting on `day`."""
    months = {Grain.MONTH: 1, Grain.QUARTER: 3, Grain.YEAR: 12}[grain]
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


Request = tuple[Frame, Sequence[Metric]]


class _Page:
    """What one drill-down reads: the caller's agents and teams, and frames of its period."""

    def __init__(self, service: AnalyticsService, period: Period) -> None:
        self.service = service
        self.period = period
        self.people = people_of(service)
        self.agents = {
            int(str(p["id"])): (str(p["name"]), _int(p["team_id"]), bool(p["is_active"]))
            for p in self.people
        }

        def teams() -> ir.Table:
            return service.sources.table("teams").select("id", "name")

        _, rows = service.sources.fetch(teams, ("team_names",))
        self.team_names = {int(r[0]): str(r[1]) for r in rows}
        scope = service.sources.scope.agent_ids
        self.tenant_wide = scope is None
        self.single_agent = scope is not None and len(scope) <= 1
        self.plans = PlanSources(service.sources, whole_teams(service.sources))
        self._listed: dict[int, tuple[Values, list[int]]] = {}

    def frame(self, *dims: Dimension, period: Period | None = None, **kw: Any) -> Frame:
        s = self.service
        return Frame(s.sources, period or self.period, s.as_of, s.zone, dimensions=dims, **kw)

    def listed(self, values: Values) -> list[int]:
        """Agents a leaderboard lists: active ones, and any other with figures (`values`
        split by agent). Worked out once per `values` (a page asks for every team)."""
        found = self._listed.get(id(values))
        if found is None or found[0] is not values:
            keys = {k[0] for rows in values.values() for k in rows}
            seen = {int(str(k)) for k in keys if k is not None}
            listed = [a for a, (_, _, active) in self.agents.items() if active or a in seen]
            found = self._listed[id(values)] = (values, listed)
        return found[1]

    def members(self, team_id: int | None, values: Values) -> list[int]:
        return [a for a in self.listed(values) if self.agents[a][1] == team_id]

    def team_key(self, agent: str | None) -> str | None:
        """The team (as a dimension value) of an agent key of a metric row."""
        found = None if agent is None else self.agents.get(int(agent))
        return None if found is None or found[1] is None else str(found[1])

    def requests(self) -> list[Request]:
        """The scorecards of the period: every agent, and the pooled figures of every team
        and (for tenant-wide callers) of the brokerage; counts and money of teams and the
        brokerage are sums of the agents' rows (`groups`)."""
        out: list[Request] = [
            (self.frame(Dimension.AGENT), SCORECARD_METRICS),
            (self.frame(Dimension.TEAM), POOLED_METRICS),
        ]
        if self.tenant_wide:
            out.append((self.frame(), POOLED_METRICS))
        return out

    def groups(self, found: Sequence[Values]) -> tuple[Values, Values, Values | None]:
        """By agent, by team and (tenant-wide callers) the brokerage, from `requests()`."""
        by_agent = found[0]
        by_team = roll_up(by_agent, found[1], lambda agent: (self.team_key(agent),))
        whole = roll_up(by_agent, found[2], lambda _: ()) if self.tenant_wide else None
        return by_agent, by_team, whole

    def team_name(self, team_id: int | None) -> str:
        return "No team" if team_id is None else self.team_names.get(team_id, f"team {team_id}")

    def trend_frame(self, dim: Dimension, key: str | None) -> Frame:
        """The trailing TREND_MONTHS months to `as_of`, by month, for one agent or team."""
        as_of = self.service.as_of
        first = grain_start(as_of, Grain.MONTH)
        for _ in range(TREND_MONTHS - 1):
            first = grain_start(first - dt.timedelta(days=1), Grain.MONTH)
        span = Period(first, as_of + dt.timedelta(days=1))
        return self.frame(period=span, grain=Grain.MONTH, filters=_only(dim, key))

    def to_date_requests(self, dim: Dimension, key: str | None) -> list[Request]:
        """GCI so far (to the end of as_of) in the month, quarter and year holding as_of."""
        tomorrow = self.service.as_of + dt.timedelta(days=1)
        gci = (get_metric("gci"),)
        return [
            (
                self.frame(
                    dim,
                    period=Period(grain_start(self.service.as_of, g), tomorrow),
                    filters=_only(dim, key),
                ),
                gci,
            )
            for _, g in TO_DATE
        ]

    def quota_periods(self) -> list[Period]:
        """The period, and the whole month, quarter and year holding as_of."""
        as_of = self.service.as_of
        return [self.period] + [
            Period(grain_start(as_of, g), _after(grain_start(as_of, g), g)) for _, g in TO_DATE
        ]

    def plan_requests(self, dim: Dimension, key: str | None) -> list[tuple[Frame, list[str]]]:
        """The GCI plans `quotas` reads (over `quota_periods`), to stack with the figures."""
        return [
            (
                replace(self.frame(dim, period=p, filters=_only(dim, key)), sources=self.plans),
                ["gci"],
            )
            for p in self.quota_periods()
        ]

    def team_plan_request(self) -> tuple[Frame, list[str]]:
        """Every team's GCI plan for the period (`_team_summaries`)."""
        return replace(self.frame(Dimension.TEAM), sources=self.plans), ["gci"]

    def quotas(
        self,
        dim: Dimension,
        key: str | None,
        gci_now: float,
        to_date: Sequence[Values],
        plans: Sequence[Mapping[str, Mapping[Key, float]]],
    ) -> tuple[Quota, list[Quota]]:
        """GCI against plan over the period, and over the month, quarter and year holding
        as_of (plans of the whole month, quarter, year, from `plan_requests`; GCI up to
        as_of)."""
        as_of = self.service.as_of
        periods = self.quota_periods()
        targets = [plan["gci"].get((key,)) for plan in plans]
        gcis = [gci_now] + [v["gci"].get((key,)) or 0.0 for v in to_date]
        labels = ["Period"] + [f"{label} to date" for label, _ in TO_DATE]
        made = [
            quota(label, p, as_of, g, t)
            for label, p, g, t in zip(labels, periods, gcis, targets, strict=True)
        ]
        return made[0], made[1:]


def _only(dim: Dimension, key: str | None) -> dict[Dimension, tuple[str, ...]]:
    """A filter on one dimension value (an agent or a team); the agents without a team
    cannot be filtered on (a null matches nothing), so `None` filters nothing."""
    return {} if key is None else {dim: (key,)}


def _trend(values: Values, frame: Frame) -> list[TrendPoint]:
    def at(slug: str, month: dt.date) -> float:
        return sum(v or 0.0 for k, v in values[slug].items() if k[0] == month)

    return [
        TrendPoint(
            month_start=m,
            gci=at("gci", m),
            closings=int(at("closings", m)),
            new_leads=int(at("new_leads", m)),
            deals_won=int(at("deals_won", m)),
        )
        for m in frame.bucket_starts()
    ]


TREND = tuple(get_metric(s) for s in TREND_METRICS)


def compute_agent_detail(service: AnalyticsService, agent_id: int, period: Period) -> AgentDetail:
    """The drill-down of agent `agent_id` over `period` (see the module docstring); NotFound
    when the caller may not see that agent, the same as when there is none."""
    page = _Page(service, period)
    if agent_id not in page.agents:
        raise NotFound(f"no agent with the id {agent_id}")
    name, team_id, active = page.agents[agent_id]
    key = str(agent_id)
    trend_frame = page.trend_frame(Dimension.AGENT, key)
    scorecards = page.requests()
    extra: list[Request] = [(trend_frame, TREND), *page.to_date_requests(Dimension.AGENT, key)]
    asked = [*scorecards, *extra]
    # The plans stacked with the figures: one statement for the page.
    found = service.compute_many(
        [*asked, *target_requests(page.plan_requests(Dimension.AGENT, key))]
    )
    by_agent, by_team, whole = page.groups(found)
    rest = found[len(scorecards) : len(asked)]
    plans = targets_of(found[len(asked) :])
    own = scorecard_of(by_agent, (key,))
    team_key: Key = (None if team_id is None else str(team_id),)
    team_card = scorecard_of(by_team, team_key)
    team_average = None
    if not page.single_agent:  # an agent's team average would give teammates' figures away
        mates = len(page.members(team_id, by_agent))
        team_average = Comparison(
            label=page.team_name(team_id),
            agents=mates,
            scorecard=per_agent(team_card, mates),
            activities=activities_of(by_team, team_key, mates),
        )
    period_quota, to_date = page.quotas(Dimension.AGENT, key, own.gci, rest[1:4], plans)
    return AgentDetail(
        period_start=period.start,
        period_end=period.last_day,
        as_of=service.as_of,
        timezone=str(service.zone.key),
        agent_id=agent_id,
        name=name,
        team_id=team_id,
        team_name=None if team_id is None else page.team_name(team_id),
        is_active=active,
        scorecard=own,
        activities=activities_of(by_agent, (key,)),
        pipeline_share_of_team=None
        if team_average is None
        else _ratio(own.pipeline_value, team_card.pipeline_value),
        gci_share_of_team=None if team_average is None else _ratio(own.gci, team_card.gci),
        team_average=team_average,
        brokerage_average=None if whole is None else _brokerage(page, by_agent, whole),
        quota=period_quota,
        quota_to_date=to_date,
        trend=_trend(rest[0], trend_frame),
    )


def _team_summaries(
    page: _Page,
    teams: Sequence[int | None],
    by_agent: Values,
    by_team: Values,
    plans: Mapping[Key, float],
) -> list[TeamSummary]:
    """Summaries of `teams`, with their GCI plans for the period (`team_plan_request`)."""
    total = math.fsum(v or 0.0 for v in by_team["gci"].values())
    out = []
    for team_id in teams:
        team_key: Key = (None if team_id is None else str(team_id),)
        card = scorecard_of(by_team, team_key)
        members = len(page.members(team_id, by_agent))
        target = None if team_id is None else plans.get(team_key)
        out.append(
            TeamSummary(
                team_id=team_id,
                name=page.team_name(team_id),
                agents=members,
                scorecard=card,
                per_agent=per_agent(card, members),
                gci_share=_ratio(card.gci, total),
                quota=quota("Period", page.period, page.service.as_of, card.gci, target),
            )
        )
    return out


def _brokerage(page: _Page, by_agent: Values, whole: Values) -> Comparison:
    listed = len(page.listed(by_agent))
    return Comparison(
        label="Brokerage",
        agents=listed,
        scorecard=per_agent(scorecard_of(whole, ()), listed),
        activities=activities_of(whole, (), listed),
    )


def compute_teams(service: AnalyticsService, period: Period) -> Teams:
    """Every team the caller sees (with an agent the leaderboard would list), its scorecard,
    per-agent averages, share of the GCI the caller sees, and GCI against the team's plan;
    agents without a team are grouped as "No team". Most GCI first."""
    page = _Page(service, period)
    asked = page.requests()
    found = service.compute_many([*asked, *target_requests([page.team_plan_request()])])
    by_agent, by_team, _ = page.groups(found)
    (plans,) = targets_of(found[len(asked) :])
    keys = list({page.agents[a][1] for a in page.listed(by_agent)})
    teams = _team_summaries(page, keys, by_agent, by_team, plans["gci"])
    return Teams(
        period_start=period.start,
        period_end=period.last_day,
        as_of=service.as_of,
        timezone=str(service.zone.key),
        teams=sorted(teams, key=lambda t: (-t.scorecard.gci, t.team_id is None, t.team_id or 0)),
    )


def compute_team_detail(service: AnalyticsService, team_id: int, period: Period) -> TeamDetail:
    """One team's page (see the module docstring); NotFound when the caller sees none of its
    agents (or there is no such team)."""
    page = _Page(service, period)
    mine = {a for a, (_, team, _) in page.agents.items() if team == team_id}
    if not mine or team_id not in page.team_names:
        raise NotFound(f"no team with the id {team_id}")
    key = str(team_id)
    trend_frame = page.trend_frame(Dimension.TEAM, key)
    scorecards = page.requests()
    extra: list[Request] = [(trend_frame, TREND), *page.to_date_requests(Dimension.TEAM, key)]
    asked = [*scorecards, *extra]
    plan_asks = [page.team_plan_request(), *page.plan_requests(Dimension.TEAM, key)]
    found = service.compute_many([*asked, *target_requests(plan_asks)])
    by_agent, by_team, whole = page.groups(found)
    rest = found[len(scorecards) : len(asked)]
    team_plans, *plans = targets_of(found[len(asked) :])
    (team,) = _team_summaries(page, [team_id], by_agent, by_team, team_plans["gci"])
    _, to_date = page.quotas(Dimension.TEAM, key, team.scorecard.gci, rest[1:4], plans)
    people = [p for p in page.people if int(str(p["id"])) in mine]
    return TeamDetail(
        period_start=period.start,
        period_end=period.last_day,
        as_of=service.as_of,
        timezone=str(service.zone.key),
        team=team,
        activities=activities_of(by_team, (key,)),
        members=rank_agents(by_agent, people),
        brokerage_average=None if whole is None else _brokerage(page, by_agent, whole),
        quota_to_date=to_date,
        trend=_trend(rest[0], trend_frame),
    )
