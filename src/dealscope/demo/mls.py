"""The metro's MLS: our brokerage's listings and sales beside its competitors', as RESO fields.

Our closings appear on the side we represented; the rest of the market is sized so our share
of closed sides is about `OUR_MARKET_SHARE`, with active, pending, expired, withdrawn and
canceled listings as a real feed has them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from dealscope.demo import arrays
from dealscope.demo.catalog import (
    ANNUAL_APPRECIATION,
    COMPANY_NAME,
    COMPETITORS,
    FIRST_NAMES,
    LAST_NAMES,
    OUR_MARKET_SHARE,
    PROPERTY_TYPES,
    STATE,
    STREET_NAMES,
    STREET_SUFFIXES,
    ZIPS,
)
from dealscope.demo.closings import Closings
from dealscope.demo.leads import OPEN, SELLER, Calendar, Leads, daily_intensity, draw_homes
from dealscope.demo.organisation import Organisation

STATUSES = (
    "Closed",
    "Active",
    "ActiveUnderContract",
    "Pending",
    "Expired",
    "Withdrawn",
    "Canceled",
)
MLS_STATUSES = (
    "Sold",
    "Active",
    "Active Option Contract",
    "Pending",
    "Expired",
    "Temp Off Market",
    "Cancelled",
)
CLOSED, ACTIVE, UNDER_CONTRACT, PENDING, EXPIRED, WITHDRAWN, CANCELED = range(7)
US = len(COMPETITORS)  # office index meaning our brokerage


@dataclass
class Market:
    table: pa.Table
    keys_by_zip: list[np.ndarray]  # listing keys per zip index, for recommendations
    key_of_closing: np.ndarray  # the listing key of each of our transactions


def build_market(
    rng: np.random.Generator,
    cal: Calendar,
    leads: Leads,
    closings: Closings,
    org: Organisation,
    origin_us: int,
) -> Market:
    horizon = float(cal.horizon_days)
    # Our closings, on the side(s) we represented.
    ours = len(closings.lead)
    our_sides = int(np.sum(np.where(closings.side == 2, 2, 1)))
    market_closed = max(int(our_sides / OUR_MARKET_SHARE / 2), ours)
    others = market_closed - ours
    # Our live listings: sellers whose home is on the market at the end of the period.
    live = np.flatnonzero((leads.outcome == OPEN) & (leads.side == SELLER) & (leads.stage_now >= 4))
    live_status = np.where(
        leads.stage_now[live] >= 6,
        PENDING,
        np.where(leads.stage_now[live] == 5, UNDER_CONTRACT, ACTIVE),
    )
    per_month = market_closed / (horizon / 30.4)
    n_active, n_pending = int(per_month * 2.4), int(per_month * 0.9)
    n_expired, n_withdrawn, n_canceled = (int(market_closed * f) for f in (0.10, 0.05, 0.03))
    status = np.concatenate(
        [
            np.full(ours, CLOSED),
            live_status,
            np.full(others, CLOSED),
            np.full(n_active, ACTIVE),
            np.full(n_pending, PENDING),
            np.full(n_expired, EXPIRED),
            np.full(n_withdrawn, WITHDRAWN),
            np.full(n_canceled, CANCELED),
        ]
    )
    n = len(status)
    n_known = ours + len(live)
    mine = np.zeros(n, dtype=bool)
    mine[:n_known] = True

    # Property: ours from the deal, the rest drawn like the metro.
    zip_idx, ptype = draw_homes(rng, n)
    known_leads = np.concatenate([closings.lead, live])
    zip_idx[:n_known] = leads.zip[known_leads]
    ptype[:n_known] = leads.property_type[known_leads]

    # Timeline: closings follow the seasonal, growing market; others sit at the period's end.
    intensity = daily_intensity(cal)
    close = np.full(n, np.nan)
    close[:ours] = closings.close_day
    rows = slice(n_known, n_known + others)
    close[rows] = arrays.categorical(rng, intensity, others) + rng.random(others)
    season = np.array([0.8, 0.8, 0.7, 0.6, 0.6, 0.7, 0.85, 1.0, 1.1, 1.2, 1.3, 1.2])
    dom = np.round(arrays.lognormal(rng, 24.0, 0.75, n)).clip(0, 400)
    contract = close - rng.uniform(25, 45, n)
    contract[:ours] = np.where(
        np.isnan(closings.contract_day), closings.close_day - 35, closings.contract_day
    )
    contract[ours:n_known] = horizon - rng.uniform(1, 30, len(live))
    pending = np.isin(status, (PENDING,)) & ~mine
    off = np.isin(status, (EXPIRED, WITHDRAWN, CANCELED))
    contract[pending] = horizon - rng.uniform(1, 40, int(pending.sum()))
    month_of_contract = cal.month_of(np.nan_to_num(contract, nan=horizon - 1))
    dom = np.round(
        dom
        * season[month_of_contract]
        * np.exp(
            0.15
            * (cal.rate_on(np.nan_to_num(contract, nan=horizon - 1)) - cal.mortgage_rate.mean())
        )
    )
    on_market = contract - dom
    active_now = status == ACTIVE
    on_market[active_now] = horizon - np.round(
        arrays.lognormal(rng, 30.0, 0.9, int(active_now.sum()))
    )
    on_market[off] = rng.uniform(0, horizon - 30, int(off.sum()))
    off_market = np.full(n, np.nan)
    off_market[off] = np.minimum(on_market[off] + rng.uniform(60, 200, int(off.sum())), horizon)
    contract[active_now | off] = np.nan
    close[~np.isin(status, (CLOSED,))] = np.nan
    dom_final = np.where(
        active_now, horizon - on_market, np.where(off, off_market - on_market, contract - on_market)
    )

    # Prices: appreciating metro levels; ours from the deals themselves.
    level = np.exp(ANNUAL_APPRECIATION * (np.nan_to_num(on_market, nan=horizon) - horizon) / 365.25)
    median = np.array([z.median_price for z in ZIPS])[zip_idx]
    factor = np.array([t[3] for t in PROPERTY_TYPES])[ptype]
    list_price = np.round(median * factor * level * arrays.lognormal(rng, 1.0, 0.3, n), -3)
    list_price[:ours] = closings.list_price
    list_price[ours:n_known] = np.round(leads.price[live], -3)
    ratio = np.clip(
        rng.normal(0.975, 0.025, n) + 0.01 * (season[month_of_contract] < 0.75), 0.85, 1.08
    )
    close_price = np.where(status == CLOSED, np.round(list_price * ratio, -2), np.nan)
    close_price[:ours] = closings.sale_price
    cut = (dom_final > 30) & (rng.random(n) < 0.6)
    original = np.where(cut, np.round(list_price * rng.uniform(1.02, 1.09, n), -3), list_price)

    # The home itself.
    ppsf = np.array([z.median_price for z in ZIPS])[zip_idx] / 2100.0 * level
    living = np.round(list_price / (ppsf * arrays.lognormal(rng, 1.0, 0.15, n)), 0).clip(450, 9000)
    living = np.where(ptype == 4, np.nan, living)  # land
    beds = np.clip(np.round(np.nan_to_num(living, nan=0) / 620), 1, 7).astype(int)
    baths = np.clip(beds - rng.integers(0, 2, n), 1, 6).astype(int)
    year = rng.integers(1955, 2026, n)

    # Offices and agents on each side.
    comp_w = [c[1] for c in COMPETITORS]
    list_office = arrays.categorical(rng, comp_w, n)
    buyer_office = arrays.categorical(rng, comp_w, n)
    is_ours_closing = np.arange(n) < ours
    side = np.full(n, -1)
    side[:ours] = closings.side
    side[ours:n_known] = 1
    list_office = np.where(mine & (side >= 1), US, list_office)
    buyer_office = np.where(is_ours_closing & ((side == 0) | (side == 2)), US, buyer_office)
    agent = np.full(n, -1)
    agent[:n_known] = leads.agent[known_leads]
    names = [f"{f} {last}" for f, last in zip(org.first_names, org.last_names, strict=True)]
    other_names = arrays.text(
        arrays.pick(FIRST_NAMES, rng.integers(0, len(FIRST_NAMES), n)),
        " ",
        arrays.pick(LAST_NAMES, rng.integers(0, len(LAST_NAMES), n)),
    )
    our_names = arrays.pick([*names, ""], np.where(agent >= 0, agent, len(names)))
    offices = [c[0] for c in COMPETITORS] + [COMPANY_NAME]
    list_agent = pa.array(
        np.where(
            list_office == US,
            our_names.to_numpy(zero_copy_only=False),
            other_names.to_numpy(zero_copy_only=False),
        )
    )
    buyer_agent = np.where(
        buyer_office == US,
        our_names.to_numpy(zero_copy_only=False),
        other_names.to_numpy(zero_copy_only=False),
    )
    has_buyer = status == CLOSED

    keys = arrays.text("SRX", arrays.digits(np.arange(n) + 1, 9))
    number = rng.integers(100, 19999, n)
    address = arrays.text(
        arrays.digits(number, 1),
        " ",
        arrays.pick(STREET_NAMES, rng.integers(0, len(STREET_NAMES), n)),
        " ",
        arrays.pick(STREET_SUFFIXES, rng.integers(0, len(STREET_SUFFIXES), n)),
    )
    lat = np.array([z.lat for z in ZIPS])[zip_idx] + rng.normal(0, 0.015, n)
    lon = np.array([z.lon for z in ZIPS])[zip_idx] + rng.normal(0, 0.015, n)
    modified = np.fmax(
        np.fmax(np.nan_to_num(close, nan=-1e9), np.nan_to_num(off_market, nan=-1e9)),
        np.fmax(np.nan_to_num(contract, nan=-1e9), on_market),
    )
    modified = np.minimum(modified + rng.uniform(0, 1, n), horizon)
    origin_day = cal.origin_day
    table = pa.table(
        {
            "id": np.arange(n),
            "listing_key": keys,
            "listing_id": arrays.text("ACT", arrays.digits(np.arange(n) * 7 + 1000003, 8)),
            "originating_system_name": ["actris"] * n,
            "standard_status": arrays.pick(STATUSES, status),
            "mls_status": arrays.pick(MLS_STATUSES, status),
            "property_type": arrays.pick([t[1] for t in PROPERTY_TYPES], ptype),
            "property_sub_type": arrays.pick([t[2] for t in PROPERTY_TYPES], ptype),
            "list_price": arrays.money(list_price),
            "original_list_price": arrays.money(original),
            "close_price": arrays.money(close_price),
            "listing_contract_date": arrays.dates(origin_day, on_market - rng.integers(0, 8, n)),
            "on_market_date": arrays.dates(origin_day, on_market),
            "purchase_contract_date": arrays.dates(origin_day, contract),
            "close_date": arrays.dates(origin_day, close),
            "off_market_date": arrays.dates(
                origin_day, np.where(status == CLOSED, contract, off_market)
            ),
            "days_on_market": np.maximum(np.nan_to_num(dom_final), 0).astype(np.int32),
            "unparsed_address": address,
            "city": arrays.pick([z.city for z in ZIPS], zip_idx),
            "state_or_province": [STATE] * n,
            "postal_code": arrays.pick([z.code for z in ZIPS], zip_idx),
            "latitude": np.round(lat, 6),
            "longitude": np.round(lon, 6),
            "living_area": arrays.floats(living),
            "bedrooms_total": arrays.masked(beds, ptype != 4, pa.int32()),
            "bathrooms_total_integer": arrays.masked(baths, ptype != 4, pa.int32()),
            "year_built": arrays.masked(year, ptype != 4, pa.int32()),
            "list_agent_full_name": list_agent,
            "list_office_name": arrays.pick(offices, list_office),
            "buyer_agent_full_name": pa.array(buyer_agent, mask=~has_buyer),
            "buyer_office_name": pa.array(np.array(offices)[buyer_office], mask=~has_buyer),
            "modification_timestamp": arrays.timestamps(origin_us, modified),
        }
    )
    key_values = keys.to_numpy(zero_copy_only=False)
    # Homes a buyer could be shown: everything but our own sold listings.
    showable = ~is_ours_closing
    keys_by_zip = [key_values[showable & (zip_idx == z)] for z in range(len(ZIPS))]
    return Market(table=table, keys_by_zip=keys_by_zip, key_of_closing=key_values[:ours])
