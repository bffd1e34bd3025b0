"""The history a forecast learns from, read through the caller's scoped `Sources`.

Everything is cut at the end of `as_of` in the tenant's time zone: a deal won the day after
counts as open, a stage entered later does not exist, so a forecast "as of" a past day sees
exactly what was known then (the backtest relies on it).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from dealscope.analytics.models.montecarlo import ForecastHistory
from dealscope.analytics.observation import local_midnight_utc
from dealscope.analytics.sources import Sources
from dealscope.analytics.stages import LOST, WON

DAY = pd.Timedelta(days=1)


class ForecastMetric(StrEnum):
    """What a Monte Carlo forecast adds up: GCI (the brokerage's revenue), sales volume
    (sale prices) or the number of closings."""

    GCI = "gci"
    SALES_VOLUME = "sales_volume"
    CLOSINGS = "closings"


def cutoff_utc(as_of: dt.date, timezone: str) -> dt.datetime:
    """The first instant after `as_of` in the tenant's zone, in UTC."""
    return local_midnight_utc(as_of + dt.timedelta(days=1), ZoneInfo(timezone))


def _days(values: pd.Series, cutoff: dt.datetime) -> np.ndarray:
    """Instants as float days relative to `cutoff` (negative before it; NaN stays NaN)."""
    stamps = pd.to_datetime(values, utc=True)
    return ((stamps - pd.Timestamp(cutoff)) / DAY).to_numpy(dtype=float, na_value=np.nan)


def _revenue_by_deal(sources: Sources, as_of: dt.date, metric: ForecastMetric) -> pd.DataFrame:
    tx = sources.table("transactions")
    tx = tx.filter(tx.opportunity_id.notnull() & (tx.close_date <= as_of))
    measure = {
        ForecastMetric.GCI: tx.gci.sum(),
        ForecastMetric.SALES_VOLUME: tx.sale_price.sum(),
        ForecastMetric.CLOSINGS: tx.id.count(),
    }[metric]
    return sources.frame(tx.group_by(deal_id=tx.opportunity_id).aggregate(revenue=measure))


def load_history(
    sources: Sources,
    as_of: dt.date,
    timezone: str,
    metric: ForecastMetric = ForecastMetric.GCI,
    lookback_days: int = 730,
) -> ForecastHistory:
    """Deals created in the `lookback_days` before `as_of` or still open on it, and their
    stage entries, as the Monte Carlo forecaster takes them (see `ForecastHistory`)."""
    cutoff = cutoff_utc(as_of, timezone)
    since = cutoff - dt.timedelta(days=lookback_days + 1)
    o = sources.table("opportunities")
    o = o.filter(o.deleted_at.isnull() & (o.created_at < cutoff))
    o = o.filter((o.created_at >= since) | o.closed_at.isnull() | (o.closed_at >= cutoff))
    deals = sources.frame(
        o.select(
            deal_id=o.id,
            created_at=o.created_at,
            closed_at=o.closed_at,
            status=o.status,
            amount=o.value.cast("float64"),
            source=o.source,
            property_type=o.property_type,
        )
    )
    sh = sources.table("stage_history")
    sh = sh.filter(sh.changed_at < cutoff)
    ids = o.select(deal_id=o.id)
    rows = sources.frame(
        sh.join(ids, sh.opportunity_id == ids.deal_id).select(
            "deal_id", stage=sh.to_stage, changed_at=sh.changed_at
        )
    )
    revenue = _revenue_by_deal(sources, as_of, metric)
    return build_history(as_of, cutoff, deals, rows, revenue)


def build_history(
    as_of: dt.date,
    cutoff: dt.datetime,
    deals: pd.DataFrame,
    stage_rows: pd.DataFrame,
    revenue: pd.DataFrame,
) -> ForecastHistory:
    """The forecaster's frames from raw rows: deals (deal_id, created_at, closed_at, status,
    amount, source, property_type), stage changes (deal_id, stage, changed_at) and revenue
    per won deal (deal_id, revenue)."""
    closed_at = _days(deals["closed_at"], cutoff)
    status = deals["status"].to_numpy(object)
    closed_by_then = closed_at < 0
    won = np.where(closed_by_then & (status == "won"), closed_at, np.nan)
    ended = np.where(closed_by_then & (status != "open"), closed_at, np.nan)
    frame = pd.DataFrame(
        {
            "deal_id": deals["deal_id"].to_numpy(np.int64),
            "created": _days(deals["created_at"], cutoff),
            "won": won,
            "closed": ended,
            "amount": pd.to_numeric(deals["amount"], errors="coerce").to_numpy(float),
            "source": deals["source"].to_numpy(object),
            "property_type": deals["property_type"].to_numpy(object),
        }
    )
    by_deal = revenue.assign(revenue=pd.to_numeric(revenue["revenue"]).astype(float))
    frame = frame.merge(by_deal[["deal_id", "revenue"]], on="deal_id", how="left")
    frame.loc[frame["won"].isna(), "revenue"] = np.nan
    rows = stage_rows.assign(t=_days(stage_rows["changed_at"], cutoff))
    rows = rows.sort_values(["deal_id", "t"], kind="stable")
    nxt = rows.groupby("deal_id")["t"].shift(-1)
    entries = pd.DataFrame(
        {
            "deal_id": rows["deal_id"].to_numpy(np.int64),
            "stage": rows["stage"].to_numpy(object),
            "entered": rows["t"].to_numpy(float),
            "exited": nxt.to_numpy(float),
        }
    )
    entries = entries[~entries["stage"].isin([WON, LOST])].reset_index(drop=True)
    return ForecastHistory(as_of=as_of, deals=frame, entries=entries)


def load_actuals(
    sources: Sources, start: dt.date, end: dt.date, metric: ForecastMetric
) -> pd.Series:
    """What actually closed on each day from `start` to `end` (inclusive), in `metric`;
    days without closings are 0."""
    tx = sources.table("transactions")
    tx = tx.filter((tx.close_date >= start) & (tx.close_date <= end))
    measure = {
        ForecastMetric.GCI: tx.gci.sum().cast("float64"),
        ForecastMetric.SALES_VOLUME: tx.sale_price.sum().cast("float64"),
        ForecastMetric.CLOSINGS: tx.id.count().cast("float64"),
    }[metric]
    rows = sources.frame(tx.group_by(day=tx.close_date).aggregate(value=measure))
    days = pd.date_range(start, end, freq="D")
    series = pd.Series(0.0, index=days)
    if len(rows):
        got = pd.Series(rows["value"].to_numpy(float), index=pd.to_datetime(rows["day"]))
        series = series.add(got, fill_value=0.0).reindex(days, fill_value=0.0)
    return series
