"""Lead arrivals and their journey through the pipeline.

Each lead gets a close propensity from its source, its agent's skill, how fast the agent
answered and the mortgage-rate climate; it passes each stage with a share of that propensity
and spends a realistic time there. What has not happened by the end of the period is left
open, so the pipeline at the end is a true open pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from dealscope.demo import arrays
from dealscope.demo.catalog import (
    ANNUAL_APPRECIATION,
    ANNUAL_LEAD_GROWTH,
    CLIENT_REFERRAL_RATE,
    HOUR_WEIGHTS,
    LOSS_MEDIAN_DAYS,
    MONTH_SEASONALITY,
    PROPERTY_TYPES,
    REPEAT_CLOSE_RATE,
    REPEAT_RATE,
    SOURCE_INDEX,
    SOURCES,
    STAGE_MEDIAN_DAYS,
    STAGE_SIGMA,
    TRANSITION_WEIGHTS,
    WEEKDAY_SEASONALITY,
    ZIPS,
)
from dealscope.demo.organisation import Organisation

N_TRANSITIONS = len(TRANSITION_WEIGHTS)
OPEN, WON, LOST = 0, 1, 2
BUYER, SELLER = 0, 1


@dataclass
class Calendar:
    """The period in days from its start, with what varies by day."""

    horizon_days: int
    origin_day: int  # the start as days since 1970-01-01 (UTC midnight)
    utc_offset_hours: np.ndarray  # local (tenant) offset from UTC for each day
    mortgage_rate: np.ndarray  # the 30-year rate in force on each day, %

    def month_of(self, day: np.ndarray) -> np.ndarray:
        epoch_days = (self.origin_day + np.floor(day)).astype("int64")
        return epoch_days.astype("datetime64[D]").astype("datetime64[M]").astype(int) % 12

    def weekday_of(self, day: np.ndarray) -> np.ndarray:
        return ((self.origin_day + np.floor(day).astype("int64")) + 3) % 7  # 1970-01-01: Thu

    def rate_on(self, day: np.ndarray) -> np.ndarray:
        return self.mortgage_rate[np.clip(day.astype(int), 0, self.horizon_days - 1)]


@dataclass
class Leads:
    """One row per lead (an inquiry that becomes an opportunity)."""

    arrival: np.ndarray  # days from the period start, UTC
    source: np.ndarray  # index into SOURCES
    agent: np.ndarray
    contact: np.ndarray  # the contact this lead belongs to
    is_repeat: np.ndarray
    referred_by: np.ndarray  # contact index, -1 for none
    side: np.ndarray  # BUYER or SELLER
    zip: np.ndarray
    property_type: np.ndarray
    price: np.ndarray  # expected price at arrival, dollars
    response_days: np.ndarray  # NaN when nobody ever answered
    propensity: np.ndarray
    reached: np.ndarray  # transitions the lead would pass given time (0..7)
    stage_times: np.ndarray  # (leads, 7): when it enters stage k+1; NaN beyond reached
    loss_time: np.ndarray  # when it is lost at its last stage; NaN for deals that close
    stage_now: np.ndarray  # stage index at the end of the period
    outcome: np.ndarray  # OPEN, WON or LOST at the end of the period
    outcome_time: np.ndarray  # close or loss time; NaN while open

    def __len__(self) -> int:
        return len(self.arrival)

    @staticmethod
    def concat(parts: list[Leads]) -> Leads:
        return Leads(
            **{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(Leads)}
        )

    def last_event_time(self) -> np.ndarray:
        done = np.where(
            np.arange(N_TRANSITIONS)[None, :] < self.stage_now[:, None], self.stage_times, -np.inf
        )
        last = np.maximum(self.arrival, done.max(axis=1))
        return np.where(np.isnan(self.outcome_time), last, np.fmax(last, self.outcome_time))


def daily_intensity(cal: Calendar) -> np.ndarray:
    """Relative lead volume per day: growth trend x spring season x weekday x rates."""
    day = np.arange(cal.horizon_days, dtype=float)
    trend = (1 + ANNUAL_LEAD_GROWTH) ** (day / 365.25)
    rates = np.exp(-0.10 * (cal.mortgage_rate - cal.mortgage_rate.mean()))
    return (
        trend
        * MONTH_SEASONALITY[cal.month_of(day)]
        * WEEKDAY_SEASONALITY[cal.weekday_of(day)]
        * rates
    )


def draw_arrivals(rng: np.random.Generator, cal: Calendar, count: int) -> np.ndarray:
    """`count` arrival times (UTC days), sorted, spread by the daily intensity and local hour."""
    intensity = daily_intensity(cal)
    per_day = rng.multinomial(count, intensity / intensity.sum())
    local_day = np.repeat(np.arange(cal.horizon_days), per_day).astype(float)
    hour = arrays.categorical(rng, HOUR_WEIGHTS, count)
    local = local_day + (hour + rng.random(count)) / 24.0
    utc = local - cal.utc_offset_hours[local_day.astype(int)] / 24.0
    return np.sort(np.clip(utc, 0.0, cal.horizon_days - 1e-6))


def draw_sources(rng: np.random.Generator, arrival: np.ndarray, horizon: float) -> np.ndarray:
    """Lead source per lead; the mix drifts over the period (paid social grows)."""
    base = np.array([s.share for s in SOURCES])
    growth = np.array([s.share_growth for s in SOURCES])
    frac = (arrival / horizon)[:, None]
    return arrays.categorical_rows(rng, base[None, :] * (1 + growth[None, :] * frac))


def assign_agents(rng: np.random.Generator, org: Organisation, arrival: np.ndarray) -> np.ndarray:
    """Route each lead to an agent present that month, more to stronger agents."""
    agent = np.empty(len(arrival), dtype=np.int64)
    month = (arrival // 30.4375).astype(int)
    for m in np.unique(month):
        rows = np.flatnonzero(month == m)
        weights = org.active_weights(m * 30.4375 + 15)
        if weights.sum() == 0:
            weights = np.sqrt(org.skill)
        agent[rows] = arrays.categorical(rng, weights, len(rows))
    return agent


def draw_homes(rng: np.random.Generator, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Zip and property type of `count` homes, as the metro has them (condos downtown)."""
    zip_idx = arrays.categorical(rng, [z.weight for z in ZIPS], count)
    type_share = np.array([t[4] for t in PROPERTY_TYPES])[None, :].repeat(count, axis=0)
    condo = np.array([z.condo_share for z in ZIPS])[zip_idx]
    type_share[:, 1] = condo
    type_share[:, 0] *= 1 - condo
    return zip_idx, arrays.categorical_rows(rng, type_share)


def draw_properties(
    rng: np.random.Generator, count: int, arrival: np.ndarray, horizon: float
) -> tuple[np.ndarray, ...]:
    """Zip, property type and expected price (appreciating over time) per lead."""
    zip_idx, ptype = draw_homes(rng, count)
    factor = np.array([t[3] for t in PROPERTY_TYPES])[ptype]
    level = np.exp(ANNUAL_APPRECIATION * (arrival - horizon) / 365.25)
    median = np.array([z.median_price for z in ZIPS])[zip_idx]
    price = np.round(median * factor * level * arrays.lognormal(rng, 1.0, 0.28, count), -3)
    return zip_idx, ptype, price


def speed_multiplier(response_minutes: np.ndarray) -> np.ndarray:
    """How a first response after `response_minutes` scales the chance to close: about 1.4 at
    1 minute, 1.0 at 20 minutes, 0.7 after 4 hours, 0.55 after a day."""
    return 1.45 / (1.0 + 0.28 * np.log1p(response_minutes / 5.0)) / 1.07


def simulate(
    rng: np.random.Generator,
    cal: Calendar,
    org: Organisation,
    arrival: np.ndarray,
    source: np.ndarray,
    agent: np.ndarray,
    contact: np.ndarray,
    is_repeat: np.ndarray,
    referred_by: np.ndarray,
    side: np.ndarray | None = None,
) -> Leads:
    """Run each lead through the pipeline up to the end of the period."""
    n = len(arrival)
    horizon = float(cal.horizon_days)
    buyer_share = np.array([s.buyer_share for s in SOURCES])[source]
    if side is None:
        side = np.where(rng.random(n) < buyer_share, BUYER, SELLER)
    zip_idx, ptype, price = draw_properties(rng, n, arrival, horizon)

    # Speed to lead: the agent's habit, the moment, and the night (most wait for morning).
    minutes = org.response_minutes[agent] * arrays.lognormal(rng, 1.0, 0.8, n)
    local_hour = ((arrival + cal.utc_offset_hours[arrival.astype(int)] / 24.0) % 1.0) * 24.0
    night = ((local_hour < 8) | (local_hour >= 21)) & (rng.random(n) < 0.75)
    minutes = minutes + np.where(night, ((8.0 - local_hour) % 24.0) * 60.0, 0.0)
    never = rng.random(n) < np.clip(
        0.015 * np.log2(org.response_minutes[agent] / 5 + 1), 0.005, 0.2
    )
    response_days = np.where(never, np.nan, minutes / 1440.0)

    base_rate = np.array([s.close_rate for s in SOURCES])[source]
    base_rate = np.where(is_repeat, REPEAT_CLOSE_RATE, base_rate)
    climate = np.exp(-0.12 * (cal.rate_on(arrival) - cal.mortgage_rate.mean()))
    propensity = np.clip(
        base_rate * org.skill[agent] * speed_multiplier(minutes) * climate, 1e-4, 0.85
    )

    passes = rng.random((n, N_TRANSITIONS)) < propensity[:, None] ** TRANSITION_WEIGHTS[None, :]
    passes[:, 0] &= ~never
    reached = np.cumprod(passes, axis=1).sum(axis=1)

    pace = org.skill[agent][:, None] ** 0.3
    durations = np.empty((n, N_TRANSITIONS))
    durations[:, 0] = np.nan_to_num(response_days, nan=0.0)
    durations[:, 1:] = (
        arrays.lognormal(
            rng, STAGE_MEDIAN_DAYS[None, :], STAGE_SIGMA[None, :], (n, N_TRANSITIONS - 1)
        )
        / pace
    )
    stage_times = arrival[:, None] + np.cumsum(durations, axis=1)
    stage_times[np.arange(N_TRANSITIONS)[None, :] >= reached[:, None]] = np.nan

    entered_last = np.where(
        reached > 0, stage_times[np.arange(n), np.maximum(reached - 1, 0)], arrival
    )
    closes = reached == N_TRANSITIONS
    loss_time = np.where(
        closes,
        np.nan,
        entered_last
        + arrays.lognormal(rng, LOSS_MEDIAN_DAYS[np.minimum(reached, N_TRANSITIONS - 1)], 0.9, n),
    )

    stage_now = (stage_times <= horizon).sum(axis=1)
    won = closes & (stage_times[:, -1] <= horizon)
    lost = ~closes & (stage_now == reached) & (loss_time <= horizon)
    outcome = np.where(won, WON, np.where(lost, LOST, OPEN))
    outcome_time = np.where(won, stage_times[:, -1], np.where(lost, loss_time, np.nan))
    return Leads(
        arrival=arrival,
        source=source,
        agent=agent,
        contact=contact,
        is_repeat=is_repeat,
        referred_by=referred_by,
        side=side,
        zip=zip_idx,
        property_type=ptype,
        price=price,
        response_days=response_days,
        propensity=propensity,
        reached=reached,
        stage_times=stage_times,
        loss_time=loss_time,
        stage_now=stage_now,
        outcome=outcome,
        outcome_time=outcome_time,
    )


def returning_business(
    rng: np.random.Generator, cal: Calendar, org: Organisation, first: Leads, next_contact: int
) -> Leads | None:
    """Past clients who come back for another deal, and the people they refer."""
    won = np.flatnonzero(first.outcome == WON)
    horizon = float(cal.horizon_days)
    closed = first.outcome_time[won]
    repeat = won[rng.random(len(won)) < REPEAT_RATE]
    repeat_at = first.outcome_time[repeat] + 90 + rng.exponential(500, len(repeat))
    referrer = won[rng.random(len(won)) < CLIENT_REFERRAL_RATE]
    referral_at = first.outcome_time[referrer] + 14 + rng.exponential(250, len(referrer))
    keep_r, keep_f = repeat_at < horizon, referral_at < horizon
    repeat, repeat_at = repeat[keep_r], repeat_at[keep_r]
    referrer, referral_at = referrer[keep_f], referral_at[keep_f]
    if len(repeat) + len(referrer) == 0 or len(closed) == 0:
        return None
    arrival = np.concatenate([repeat_at, referral_at])
    parent = np.concatenate([repeat, referrer])
    # Clients go back to their agent when the agent is still there.
    agent = first.agent[parent].copy()
    gone = org.departed_day[agent] <= arrival
    if gone.any():
        agent[gone] = assign_agents(rng, org, arrival[gone])
    n_rep = len(repeat)
    contact = np.concatenate([first.contact[repeat], next_contact + np.arange(len(referrer))])
    source = np.full(len(arrival), SOURCE_INDEX["referral"])
    source[:n_rep] = SOURCE_INDEX["sphere"]
    is_repeat = np.arange(len(arrival)) < n_rep
    referred_by = np.where(is_repeat, -1, first.contact[parent])
    # Buyers often come back to sell and move up; sellers come back to buy.
    side = np.where(rng.random(len(arrival)) < 0.5, 1 - first.side[parent], first.side[parent])
    order = np.argsort(arrival, kind="stable")
    return simulate(
        rng,
        cal,
        org,
        arrival[order],
        source[order],
        agent[order],
        contact[order],
        is_repeat[order],
        referred_by[order],
        side[order],
    )
