"""Speed to lead: how long new leads wait for a person to reach out, and what it costs.

The cohort is the deals created in the period. A deal's response time is the time from
its creation to its first personal outreach on it (an outbound call, text or email logged
by an agent: `leadframes.PERSONAL_OUTREACH`) up to the end of `as_of`, in minutes. A deal
with none by then was never contacted. A deal is won when it entered "closed_won" by then.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from dealscope.analytics.dimensions import ts_literal
from dealscope.analytics.leadframes import PERSONAL_OUTREACH, build_leads
from dealscope.analytics.observation import Observation
from dealscope.analytics.sources import Sources
from dealscope.analytics.stages import WON
from dealscope.analytics.stats import quantile, ratio
from dealscope.errors import ValidationFailed

if TYPE_CHECKING:
    import ibis.expr.types as ir

NEVER = "never"
# (label, lower bound in minutes included, upper bound excluded)
RESPONSE_BUCKETS: tuple[tuple[str, float, float], ...] = (
    ("<5m", 0.0, 5.0),
    ("5-30m", 5.0, 30.0),
    ("30m-4h", 30.0, 240.0),
    ("4-24h", 240.0, 1440.0),
    (">24h", 1440.0, float("inf")),
)


@dataclass(frozen=True)
class ResponseTimes:
    key: str  # "all", a source, an agent id as text, or an hour "00".."23"
    leads: int  # deals created
    contacted: int  # deals with a personal outreach by the end of as_of
    median_minutes: float | None  # median response time of the contacted deals, minutes
    p90_minutes: float | None  # 90th percentile of the same, minutes
    agent_id: int | None = None
    hour: int | None = None  # local hour of arrival, 0-23


@dataclass(frozen=True)
class Sla:
    threshold_minutes: float
    leads: int
    within: int  # contacted within the threshold (response <= threshold)
    breached: int  # contacted, but later than the threshold
    never_contacted: int
    within_share: float | None  # of all deals created (0..1); the three shares sum to 1
    breached_share: float | None
    never_contacted_share: float | None


@dataclass(frozen=True)
class ResponseBucket:
    bucket: str
    leads: int
    won: int
    win_rate: float | None  # won / leads (0..1)


@dataclass(frozen=True)
class SpeedReport:
    period_start: dt.date
    period_end: dt.date
    as_of: dt.date
    timezone: str
    overall: ResponseTimes
    by_source: list[ResponseTimes]
    by_agent: list[ResponseTimes]
    by_hour: list[ResponseTimes]  # 24 rows, one per local hour of arrival
    sla: Sla
    win_rate_by_response: list[ResponseBucket]


def _minutes(created: pd.Series, reached: pd.Series) -> pd.Series:
    delta = pd.to_timedelta(reached - created)
    return delta.dt.total_seconds() / 60.0


def build_responses(sources: Sources, observation: Observation) -> ir.Table:
    """One row per cohort deal: its creation, source, agent, the first personal outreach on
    it at or after its creation and by the end of `as_of` (null: none), and whether it
    entered "closed_won" by then. The per-deal work stays in the database: only the cohort
    comes back, not its activities and stage history."""
    cutoff = ts_literal(observation.cutoff_utc)
    cohort = build_leads(sources, observation.end_utc, observation.start_utc)
    activities = sources.table("activities")
    outreach = activities.filter(
        activities.occurred_at >= ts_literal(observation.start_utc),
        activities.occurred_at < cutoff,
        activities.direction == "outbound",
        activities.activity_type.isin(list(PERSONAL_OUTREACH)),
        activities.agent_id.notnull(),
    )
    created = cohort.select(_oid=cohort.opportunity_id, _created=cohort.created_at)
    touches = outreach.inner_join(created, outreach.opportunity_id == created._oid)
    touches = touches.filter(touches.occurred_at >= touches._created)
    first = touches.group_by("_oid").aggregate(_first=touches.occurred_at.min())
    history = sources.table("stage_history")
    won = (
        history.filter(history.to_stage == WON, history.changed_at < cutoff)
        .select(_won=history.opportunity_id)
        .distinct()
    )
    joined = cohort.left_join(first, cohort.opportunity_id == first._oid)
    joined = joined.left_join(won, joined.opportunity_id == won._won)
    return joined.select(
        "opportunity_id",
        "created_at",
        "source",
        "agent_id",
        first_outreach_at=joined._first,
        won=joined._won.notnull(),
    ).order_by("opportunity_id")


def _times(key: str, minutes: pd.Series, **extra: int | None) -> ResponseTimes:
    done = minutes.dropna()
    return ResponseTimes(
        key, len(minutes), len(done), quantile(done, 0.5), quantile(done, 0.9), **extra
    )


def compute_sla(minutes: pd.Series, threshold: float) -> Sla:
    """Deals contacted within `threshold` minutes, later, or never (counts and shares)."""
    if threshold <= 0:
        raise ValidationFailed("the SLA threshold must be a positive number of minutes")
    total = len(minutes)
    within = int((minutes <= threshold).sum())
    never = int(minutes.isna().sum())
    breached = total - within - never
    return Sla(
        threshold,
        total,
        within,
        breached,
        never,
        ratio(within, total),
        ratio(breached, total),
        ratio(never, total),
    )


def compute_win_rates(minutes: pd.Series, won: pd.Series) -> list[ResponseBucket]:
    """Win rate of the deals in each response-time bucket, and of those never contacted."""
    result = []
    for label, low, high in RESPONSE_BUCKETS:
        inside = (minutes >= low) & (minutes < high)
        n, w = int(inside.sum()), int((inside & won).sum())
        result.append(ResponseBucket(label, n, w, ratio(w, n)))
    never = minutes.isna()
    n, w = int(never.sum()), int((never & won).sum())
    result.append(ResponseBucket(NEVER, n, w, ratio(w, n)))
    return result


def _grouped(minutes: pd.Series, keys: pd.Series) -> dict[Any, pd.Series]:
    """`minutes` split by `keys` in one pass (rows with a null key are left out)."""
    return dict(iter(minutes.groupby(keys, dropna=True)))


def compute_speed_to_lead(
    sources: Sources, observation: Observation, sla_minutes: float = 5.0
) -> SpeedReport:
    """The speed-to-lead dashboard for `observation` over the scoped `sources`."""
    deals = sources.arrow(build_responses(sources, observation)).to_pandas()
    created = pd.to_datetime(deals["created_at"], utc=True)
    minutes = _minutes(created, pd.to_datetime(deals["first_outreach_at"], utc=True))
    won = deals["won"].astype(bool)
    sources_of = deals["source"].fillna("unknown").astype(str)
    by_source = [
        _times(str(source), part) for source, part in _grouped(minutes, sources_of).items()
    ]
    agent_ids = deals["agent_id"].astype("Int64")
    by_agent = [
        _times(str(agent), part, agent_id=int(agent))
        for agent, part in sorted(_grouped(minutes, agent_ids).items())
    ]
    hours = _grouped(minutes, observation.local(created).dt.hour)
    empty = minutes.iloc[:0]
    by_hour = [_times(f"{h:02d}", hours.get(h, empty), hour=h) for h in range(24)]
    return SpeedReport(
        period_start=observation.period.start,
        period_end=observation.period.last_day,
        as_of=observation.as_of,
        timezone=observation.timezone,
        overall=_times("all", minutes),
        by_source=sorted(by_source, key=lambda t: (-t.leads, t.key)),
        by_agent=by_agent,
        by_hour=by_hour,
        sla=compute_sla(minutes, sla_minutes),
        win_rate_by_response=compute_win_rates(minutes, won),
    )
