"""A synthetic brokerage with known parameters, for checking forecasts against the truth.

Leads arrive as a Poisson process; each walks new -> qualified -> under_contract -> won, and
at each stage moves on with a known probability after an exponential wait or is lost. The
frames are cut at any `as_of` exactly as the warehouse extraction cuts them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dealscope.analytics.models.montecarlo import ForecastHistory

ORIGIN = dt.date(2023, 1, 1)
STAGES = ("new", "qualified", "under_contract")
ADVANCE = (0.5, 0.5, 0.8)  # P(moving on) at each stage; the last move is the win
WAIT_ADVANCE = (5.0, 15.0, 25.0)  # mean days before moving on
WAIT_LOST = (10.0, 20.0, 10.0)  # mean days before being lost
COMMISSION = 0.03


@dataclass
class World:
    created: np.ndarray
    won: np.ndarray  # day won, NaN if never
    closed: np.ndarray  # day won or lost
    amount: np.ndarray
    revenue: np.ndarray
    source: np.ndarray
    kind: np.ndarray
    entry_deal: np.ndarray
    entry_stage: np.ndarray
    entry_time: np.ndarray
    exit_time: np.ndarray

    def history(self, as_of_day: float) -> ForecastHistory:
        """What was known at the end of day `as_of_day` (times relative to it)."""
        cut = as_of_day
        seen = self.created <= cut
        won = np.where(self.won <= cut, self.won - cut, np.nan)
        closed = np.where(self.closed <= cut, self.closed - cut, np.nan)
        deals = pd.DataFrame(
            {
                "deal_id": np.flatnonzero(seen),
                "created": self.created[seen] - cut,
                "won": won[seen],
                "closed": closed[seen],
                "amount": self.amount[seen],
                "revenue": np.where(np.isfinite(won), self.revenue, np.nan)[seen],
                "source": self.source[seen],
                "property_type": self.kind[seen],
            }
        )
        entered = self.entry_time <= cut
        entries = pd.DataFrame(
            {
                "deal_id": self.entry_deal[entered],
                "stage": self.entry_stage[entered],
                "entered": self.entry_time[entered] - cut,
                "exited": np.where(self.exit_time <= cut, self.exit_time - cut, np.nan)[entered],
            }
        )
        as_of = ORIGIN + dt.timedelta(days=int(as_of_day) - 1)
        return ForecastHistory(as_of=as_of, deals=deals, entries=entries)

    def actual(self, as_of_day: float, horizon: int) -> float:
        """Revenue won in the `horizon` days after `as_of_day`."""
        inside = (self.won > as_of_day) & (self.won <= as_of_day + horizon)
        return float(self.revenue[inside].sum())


def make_world(rng: np.random.Generator, days: int, leads_per_day: float) -> World:
    count = rng.poisson(leads_per_day * days)
    created = np.sort(rng.uniform(0, days, count))
    alive = np.ones(count, dtype=bool)
    now = created.copy()
    won = np.full(count, np.nan)
    closed = np.full(count, np.nan)
    deal, stage, enter, leave = [], [], [], []
    for i, name in enumerate(STAGES):
        idx = np.flatnonzero(alive)
        moves = rng.random(len(idx)) < ADVANCE[i]
        wait = np.where(
            moves,
            rng.exponential(WAIT_ADVANCE[i], len(idx)),
            rng.exponential(WAIT_LOST[i], len(idx)),
        )
        deal.append(idx)
        stage.append(np.full(len(idx), name, dtype=object))
        enter.append(now[idx])
        leave.append(now[idx] + wait)
        now[idx] += wait
        lost = idx[~moves]
        alive[lost] = False
        closed[lost] = now[lost]
        if i == len(STAGES) - 1:
            winners = idx[moves]
            won[winners] = now[winners]
            closed[winners] = now[winners]
    amount = np.round(rng.lognormal(np.log(400_000), 0.3, count), -3)
    revenue = amount * COMMISSION * rng.lognormal(0.0, 0.05, count)
    return World(
        created=created,
        won=won,
        closed=closed,
        amount=amount,
        revenue=revenue,
        source=rng.choice(np.array(["web", "zillow", "referral"], dtype=object), count),
        kind=rng.choice(np.array(["condo", "single_family"], dtype=object), count),
        entry_deal=np.concatenate(deal),
        entry_stage=np.concatenate(stage),
        entry_time=np.concatenate(enter),
        exit_time=np.concatenate(leave),
    )
