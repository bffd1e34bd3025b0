"""Speed to lead: how long new leads wait for a person to reach out, and what it costs.

The cohort is the deals created in the period. A deal's response time is the time from
its creation to its first personal outreach on it (an outbound call, text or email logged
by an agent: `leadframes.PERSONAL_OUTREACH`) up to the end of `as_of`, in minutes. A deal
with none by then was never contacted. A deal is won when it entered "closed_won" by then.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from dealscope.analytics.journeys import furthest_stage, lookup
from dealscope.analytics.leadframes import build_leads, load_activities, load_history, load_leads
from dealscope.analytics.observation import Observation
from dealscope.analytics.sources import Sources
from dealscope.analytics.stages import STAGE_INDEX, WON
from dealscope.analytics.stats import quantile, ratio
from dealscope.errors import ValidationFailed

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


def response_minutes(leads: pd.DataFrame, outreach: pd.DataFrame) -> pd.Series:
    """Minutes from each deal's creation to its first outreach at or after it (NaN: none)."""
    merged = outreach.merge(leads[["opportunity_id", "created_at"]], on="opportunity_id")
    merged = merged[merged["occurred_at"] >= merged["created_at"]]
    first = merged.groupby("opportunity_id")["occurred_at"].min()
    reached = lookup(leads["opportunity_id"], first)
    delta = pd.to_timedelta(reached - leads["created_at"])
    return delta.dt.total_seconds() / 60.0


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


def compute_speed_to_lead(
    sources: Sources, observation: Observation, sla_minutes: float = 5.0
) -> SpeedReport:
    """The speed-to-lead dashboard for `observation` over the scoped `sources`."""
    cutoff = observation.cutoff_utc
    cohort_expr = build_leads(sources, observation.end_utc, observation.start_utc)
    leads = load_leads(sources, cohort_expr)
    outreach = load_activities(
        sources, observation.start_utc, cutoff, leads=cohort_expr, personal_outreach=True
    )
    minutes = response_minutes(leads, outreach)
    won = furthest_stage(leads, load_history(sources, cohort_expr, cutoff)) == STAGE_INDEX[WON]
    by_source = [
        _times(str(source), minutes[leads["source"] == source])
        for source in sorted(leads["source"].unique())
    ]
    agents = sorted(int(a) for a in leads["agent_id"].dropna().unique())
    by_agent = [
        _times(str(agent), minutes[leads["agent_id"].eq(agent).fillna(False)], agent_id=agent)
        for agent in agents
    ]
    hours = observation.local(leads["created_at"]).dt.hour
    by_hour = [_times(f"{h:02d}", minutes[hours == h], hour=h) for h in range(24)]
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
