"""Closed transactions: price, side, commission and where every dollar of GCI goes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from dealscope.demo import arrays
from dealscope.demo.catalog import ANNUAL_APPRECIATION, PROPERTY_TYPES, SOURCE_INDEX, SOURCES, ZIPS
from dealscope.demo.leads import BUYER, WON, Leads
from dealscope.demo.organisation import Organisation

SIDES = ("buy", "sell", "dual")


@dataclass
class Closings:
    lead: np.ndarray  # the lead (opportunity) each transaction closes
    side: np.ndarray  # index into SIDES
    close_day: np.ndarray
    contract_day: np.ndarray
    sale_price: np.ndarray
    list_price: np.ndarray
    gci: np.ndarray
    table: pa.Table


def _cents(dollars: np.ndarray) -> np.ndarray:
    return np.round(dollars * 100).astype(np.int64)


def build_closings(
    rng: np.random.Generator, leads: Leads, org: Organisation, origin_day: int, origin_us: int
) -> Closings:
    lead = np.flatnonzero(leads.outcome == WON)
    n = len(lead)
    close = leads.outcome_time[lead]
    growth = np.exp(ANNUAL_APPRECIATION * (close - leads.arrival[lead]) / 365.25)
    sale = np.round(leads.price[lead] * growth * arrays.lognormal(rng, 1.0, 0.04, n), -2)
    ratio = np.clip(rng.normal(0.978, 0.022, n), 0.9, 1.06)  # sale-to-list
    list_price = np.round(sale / ratio, -3)
    side = np.where(leads.side[lead] == BUYER, 0, 1)
    side = np.where(rng.random(n) < 0.05, 2, side)  # both sides of the same deal
    # Listing-side fees have held near 2.8%; buyer-side fees are negotiated lower since 2024.
    rate = np.where(
        side == 0,
        0.0225 + 0.0025 * rng.integers(0, 4, n),
        np.where(side == 1, 0.025 + 0.0025 * rng.integers(0, 3, n), 0.05),
    )
    referral_share = np.array([s.referral_fee for s in SOURCES])[leads.source[lead]]
    # Only portal and agent-network referrals cost a fee; a past client's referral is free.
    from_client = (leads.source[lead] == SOURCE_INDEX["referral"]) & (leads.referred_by[lead] >= 0)
    referral_share = np.where(from_client | leads.is_repeat[lead], 0.0, referral_share)

    gci_c = np.round(_cents(sale) * rate).astype(np.int64)
    referral_c = np.round(gci_c * referral_share).astype(np.int64)
    agent_c = np.round((gci_c - referral_c) * org.split[leads.agent[lead]]).astype(np.int64)
    company_c = gci_c - referral_c - agent_c
    ptype = leads.property_type[lead]
    zip_idx = leads.zip[lead]
    contract = leads.stage_times[lead, 5]
    table = pa.table(
        {
            "id": np.arange(n),
            "opportunity_id": lead,
            "contact_id": leads.contact[lead],
            "agent_id": leads.agent[lead],
            "side": arrays.pick(SIDES, side),
            "property_type": arrays.pick([t[0] for t in PROPERTY_TYPES], ptype),
            "postal_code": arrays.pick([z.code for z in ZIPS], zip_idx),
            "city": arrays.pick([z.city for z in ZIPS], zip_idx),
            "source": arrays.pick([s.key for s in SOURCES], leads.source[lead]),
            "contract_date": arrays.dates(origin_day, contract),
            "close_date": arrays.dates(origin_day, close),
            "list_price": arrays.money(list_price),
            "sale_price": arrays.money(sale),
            "commission_rate": np.round(rate, 5),
            "gci": arrays.money(gci_c / 100),
            "referral_fee": arrays.money(referral_c / 100),
            "agent_commission": arrays.money(agent_c / 100),
            "company_dollar": arrays.money(company_c / 100),
            "created_at": arrays.timestamps(origin_us, close),
        }
    )
    return Closings(
        lead=lead,
        side=side,
        close_day=close,
        contract_day=contract,
        sale_price=sale,
        list_price=list_price,
        gci=gci_c / 100,
        table=table,
    )
