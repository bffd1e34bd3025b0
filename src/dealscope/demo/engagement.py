"""What happens around each lead: touches before it, calls and messages after, appointments.

Rows are built per lead with `np.repeat` on per-lead counts, then times are drawn inside
each lead's active span, so there are no Python loops over leads.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from dealscope.demo import arrays
from dealscope.demo.catalog import (
    CAMPAIGN_THEMES,
    PRIOR_CHANNELS,
    SOURCES,
)
from dealscope.demo.conversations import GREETINGS, INBOUND, OUTBOUND
from dealscope.demo.leads import BUYER, LOST, OPEN, WON, Calendar, Leads
from dealscope.demo.organisation import Organisation


@dataclass
class Attribution:
    """UTM fields of each lead's converting touch (the inquiry itself)."""

    utm_source: pa.Array
    utm_medium: pa.Array
    utm_campaign: pa.Array
    click_id_type: pa.Array
    click_id: pa.Array


def _campaigns(cal: Calendar) -> tuple[list[str], dict[str, int], list[int]]:
    """Campaign names per channel theme and year, as one vocabulary."""
    first_year = int(np.datetime64(cal.origin_day, "D").astype("datetime64[Y]").astype(int)) + 1970
    years = list(range(first_year, first_year + cal.horizon_days // 365 + 2))
    names: list[str] = []
    offset: dict[str, int] = {}
    for channel, themes in CAMPAIGN_THEMES.items():
        offset[channel] = len(names)
        names += [f"{theme}_{year}" for theme in themes for year in years]
    return names, offset, years


def _campaign_index(
    rng: np.random.Generator,
    cal: Calendar,
    channel: str,
    day: np.ndarray,
    offset: dict[str, int],
    years: list[int],
) -> np.ndarray:
    themes = CAMPAIGN_THEMES[channel]
    year = (
        (cal.origin_day + np.floor(day))
        .astype("int64")
        .astype("datetime64[D]")
        .astype("datetime64[Y]")
        .astype(int)
        + 1970
        - years[0]
    )
    year = np.clip(year, 0, len(years) - 1)
    return offset[channel] + rng.integers(0, len(themes), len(day)) * len(years) + year


def _click_ids(rng: np.random.Generator, kind: np.ndarray, n: int) -> pa.Array:
    prefix = np.where(kind == "gclid", "Cj0KCQiA", np.where(kind == "fbclid", "IwAR0", ""))
    token = arrays.text(pa.array(prefix), arrays.digits(rng.integers(0, 10**15, n), 15))
    return pa.array(token.to_numpy(zero_copy_only=False), mask=(prefix == ""))


def conversion_attribution(rng: np.random.Generator, cal: Calendar, leads: Leads) -> Attribution:
    names, offset, years = _campaigns(cal)
    n = len(leads)
    campaign = np.full(n, -1)
    for i, source in enumerate(SOURCES):
        rows = np.flatnonzero(leads.source == i)
        if source.key in CAMPAIGN_THEMES:
            campaign[rows] = _campaign_index(
                rng, cal, source.key, leads.arrival[rows], offset, years
            )
    utm_source = np.array([s.utm_source or "" for s in SOURCES])[leads.source]
    medium = np.array([s.medium for s in SOURCES])[leads.source]
    click_type = np.array([s.click_id_type or "" for s in SOURCES])[leads.source]
    vocabulary = [*names, None]
    return Attribution(
        utm_source=pa.array(utm_source, mask=utm_source == ""),
        utm_medium=pa.array(medium),
        utm_campaign=arrays.pick(vocabulary, np.where(campaign < 0, len(names), campaign)),
        click_id_type=pa.array(click_type, mask=click_type == ""),
        click_id=_click_ids(rng, click_type, n),
    )


def build_touchpoints(
    rng: np.random.Generator,
    cal: Calendar,
    leads: Leads,
    first_lead_of_contact: np.ndarray,
    conv: Attribution,
    origin_us: int,
) -> pa.Table:
    """The converting touch of every lead, and the touches before a contact's first inquiry."""
    n = len(leads)
    mean_prior = np.array([s.prior_touches for s in SOURCES])[leads.source[first_lead_of_contact]]
    prior_count = rng.poisson(mean_prior)
    owner = np.repeat(first_lead_of_contact, prior_count)
    m = len(owner)
    channel = arrays.categorical(rng, [c[4] for c in PRIOR_CHANNELS], m)
    when = leads.arrival[owner] - rng.exponential(12.0, m) - 0.01
    names, offset, years = _campaigns(cal)
    campaign = np.full(m, len(names))
    for c, (name, *_rest) in enumerate(PRIOR_CHANNELS):
        rows = np.flatnonzero(channel == c)
        if name in CAMPAIGN_THEMES:
            campaign[rows] = _campaign_index(rng, cal, name, when[rows], offset, years)
    utm_source = np.array([c[1] or "" for c in PRIOR_CHANNELS])[channel]
    utm_medium = np.array([c[2] or "" for c in PRIOR_CHANNELS])[channel]
    click_type = np.where(
        utm_medium == "cpc", "gclid", np.where(utm_medium == "paid_social", "fbclid", "")
    )
    pages = [
        "https://summitridge.example/",
        "https://summitridge.example/search",
        "https://summitridge.example/home-value",
        "https://summitridge.example/blog/market-update",
    ]
    prior = pa.table(
        {
            "contact_id": leads.contact[owner],
            "occurred_at": arrays.timestamps(origin_us, when),
            "touch_type": arrays.pick([c[3] for c in PRIOR_CHANNELS], channel),
            "channel": arrays.pick([c[0] for c in PRIOR_CHANNELS], channel),
            "utm_source": pa.array(utm_source, mask=utm_source == ""),
            "utm_medium": pa.array(utm_medium, mask=utm_medium == ""),
            "utm_campaign": arrays.pick([*names, None], campaign),
            "click_id_type": pa.array(click_type, mask=click_type == ""),
            "click_id": _click_ids(rng, click_type, m),
            "landing_url": arrays.pick(pages, rng.integers(0, len(pages), m)),
            "is_conversion": np.zeros(m, dtype=bool),
        }
    )
    converting = pa.table(
        {
            "contact_id": leads.contact,
            "occurred_at": arrays.timestamps(origin_us, leads.arrival),
            "touch_type": arrays.pick([s.touch_type for s in SOURCES], leads.source),
            "channel": arrays.pick([s.key for s in SOURCES], leads.source),
            "utm_source": conv.utm_source,
            "utm_medium": conv.utm_medium,
            "utm_campaign": conv.utm_campaign,
            "click_id_type": conv.click_id_type,
            "click_id": conv.click_id,
            "landing_url": arrays.pick(pages, rng.integers(0, len(pages), n)),
            "is_conversion": np.ones(n, dtype=bool),
        }
    )
    table = pa.concat_tables([prior.cast(converting.schema), converting])
    return table.append_column("id", pa.array(np.arange(table.num_rows)))


def active_span(leads: Leads, horizon: float) -> tuple[np.ndarray, np.ndarray]:
    """From the first response to the outcome (or the end of the period, or 90 days on)."""
    start = leads.arrival + np.nan_to_num(leads.response_days, nan=0.0)
    end = np.where(
        np.isnan(leads.outcome_time), np.minimum(horizon, leads.arrival + 120), leads.outcome_time
    )
    return start, np.maximum(end, start + 0.05)


def _spread(
    rng: np.random.Generator, owner: np.ndarray, start: np.ndarray, end: np.ndarray
) -> np.ndarray:
    return start[owner] + rng.random(len(owner)) * (end[owner] - start[owner])


def build_activities(
    rng: np.random.Generator, leads: Leads, org: Organisation, horizon: float, origin_us: int
) -> pa.Table:
    """Calls, texts and emails (first response, follow-ups, replies), meetings and showings."""
    n = len(leads)
    responded = ~np.isnan(leads.response_days) & (
        leads.arrival + np.nan_to_num(leads.response_days) <= horizon
    )
    start, end = active_span(leads, horizon)
    contacted = leads.stage_now >= 1
    follow = rng.poisson((1.0 + 5.0 * org.discipline[leads.agent]) * np.where(contacted, 1.0, 0.4))
    replies = rng.poisson(np.where(contacted, 1.2 + 0.6 * leads.stage_now, 0.0))
    showings = np.where(
        leads.stage_now >= 4,
        np.where(leads.side == BUYER, 1 + rng.poisson(2.5, n), rng.poisson(6, n)),
        0,
    )
    met = leads.stage_now >= 3

    parts = []
    kinds = ["call", "sms", "email", "meeting", "showing"]
    # first response
    first = np.flatnonzero(responded)
    parts.append(
        (
            first,
            leads.arrival[first] + leads.response_days[first],
            arrays.categorical(rng, [0.55, 0.35, 0.10], len(first)),
            1,
        )
    )
    owner = np.repeat(np.arange(n), follow)
    parts.append(
        (
            owner,
            _spread(rng, owner, start, end),
            arrays.categorical(rng, [0.45, 0.35, 0.20], len(owner)),
            1,
        )
    )
    owner = np.repeat(np.arange(n), replies)
    parts.append(
        (
            owner,
            _spread(rng, owner, start, end),
            arrays.categorical(rng, [0.25, 0.50, 0.25], len(owner)),
            0,
        )
    )
    owner = np.flatnonzero(met)
    parts.append((owner, leads.stage_times[owner, 2], np.full(len(owner), 3), 1))
    owner = np.repeat(np.arange(n), showings)
    show_end = np.where(leads.stage_now >= 5, leads.stage_times[:, 4], end)
    parts.append(
        (
            owner,
            _spread(rng, owner, np.nan_to_num(leads.stage_times[:, 3]), show_end),
            np.full(len(owner), 4),
            1,
        )
    )

    lead = np.concatenate([p[0] for p in parts])
    when = np.concatenate([p[1] for p in parts])
    kind = np.concatenate([p[2] for p in parts])
    outbound = np.concatenate([np.full(len(p[0]), p[3]) for p in parts]).astype(bool)
    keep = when <= horizon
    lead, when, kind, outbound = lead[keep], when[keep], kind[keep], outbound[keep]
    m = len(lead)
    call = kind == 0
    call_outcome = arrays.categorical(rng, [0.45, 0.35, 0.20], m)  # connected, voicemail, no answer
    outcome_names = ["connected", "voicemail", "no_answer", "delivered", "sent", "completed"]
    outcome = np.where(call, call_outcome, np.where(kind == 1, 3, np.where(kind == 2, 4, 5)))
    duration = np.where(
        call & (call_outcome == 0),
        arrays.lognormal(rng, 240.0, 0.7, m),
        np.where(
            call & (call_outcome == 1),
            rng.uniform(20, 45, m),
            np.where(kind == 3, 3600.0, np.where(kind == 4, 1800.0, 0.0)),
        ),
    )
    has_duration = call | (kind >= 3)
    return pa.table(
        {
            "id": np.arange(m),
            "contact_id": leads.contact[lead],
            "opportunity_id": lead,
            "agent_id": leads.agent[lead],
            "activity_type": arrays.pick(kinds, kind),
            "direction": arrays.pick(["inbound", "outbound"], outbound.astype(int)),
            "outcome": arrays.pick(outcome_names, outcome),
            "duration_seconds": arrays.masked(
                np.round(duration).astype(np.int32), has_duration, pa.int32()
            ),
            "occurred_at": arrays.timestamps(origin_us, when),
        }
    )


def build_messages(
    rng: np.random.Generator,
    leads: Leads,
    org: Organisation,
    contact_first_names: pa.Array,
    horizon: float,
    origin_us: int,
) -> pa.Table:
    """Text and email conversations; what clients write carries the mood of how it went."""
    n = len(leads)
    start, end = active_span(leads, horizon)
    responded = ~np.isnan(leads.response_days)
    out_count = np.where(responded, rng.poisson(1.0 + 2.0 * org.discipline[leads.agent]), 0)
    in_count = np.where(leads.stage_now >= 1, rng.poisson(0.8 + 0.5 * leads.stage_now), 0)
    out_owner = np.repeat(np.arange(n), out_count)
    in_owner = np.repeat(np.arange(n), in_count)
    mood_weights = np.array(
        [
            [0.35, 0.45, 0.20],  # open
            [0.62, 0.30, 0.08],  # won
            [0.15, 0.40, 0.45],
        ]
    )  # lost
    mood = arrays.categorical_rows(rng, mood_weights[leads.outcome[in_owner]])
    inbound_texts = [t for group in INBOUND for t in group]
    offsets = np.cumsum([0] + [len(g) for g in INBOUND])[:-1]
    sizes = np.array([len(g) for g in INBOUND])
    in_text = offsets[mood] + (rng.random(len(in_owner)) * sizes[mood]).astype(int)
    first_name = contact_first_names.take(pa.array(leads.contact[out_owner]))
    out_body = arrays.text(
        arrays.pick(GREETINGS, rng.integers(0, len(GREETINGS), len(out_owner))),
        first_name,
        ", ",
        arrays.pick(OUTBOUND, rng.integers(0, len(OUTBOUND), len(out_owner))),
    )
    owner = np.concatenate([out_owner, in_owner])
    when = _spread(rng, owner, start, end)
    keep = when <= horizon
    body = pa.concat_arrays([out_body, arrays.text(arrays.pick(inbound_texts, in_text))]).filter(
        keep
    )
    direction = np.concatenate([np.ones(len(out_owner), int), np.zeros(len(in_owner), int)])[keep]
    owner, when = owner[keep], when[keep]
    m = len(owner)
    contact = leads.contact[owner]
    channel = arrays.categorical(rng, [0.7, 0.3], m)
    return pa.table(
        {
            "id": np.arange(m),
            "conversation_id": arrays.text("conv-", arrays.digits(contact, 8)),
            "contact_id": contact,
            "agent_id": leads.agent[owner],
            "channel": arrays.pick(["sms", "email"], channel),
            "direction": arrays.pick(["inbound", "outbound"], direction),
            "body": body,
            "sent_at": arrays.timestamps(origin_us, when),
        }
    )


def build_appointments(
    rng: np.random.Generator, leads: Leads, horizon: float, origin_us: int
) -> pa.Table:
    """Consultations held, missed or cancelled, and the ones booked after the period ends."""
    n = len(leads)
    held = np.flatnonzero(leads.stage_now >= 3)
    missed = np.flatnonzero(
        (leads.stage_now == 2) & (leads.outcome == LOST) & (rng.random(n) < 0.35)
    )
    upcoming = np.flatnonzero(
        (leads.outcome == OPEN)
        & (leads.stage_now == 2)
        & (leads.reached >= 3)
        & (leads.stage_times[:, 2] < horizon + 21)
    )
    lead = np.concatenate([held, missed, upcoming])
    starts = np.concatenate(
        [
            leads.stage_times[held, 2],
            leads.outcome_time[missed] - rng.uniform(1, 10, len(missed)),
            leads.stage_times[upcoming, 2],
        ]
    )
    status = np.concatenate(
        [
            np.zeros(len(held), int),
            np.where(rng.random(len(missed)) < 0.6, 1, 2),
            np.full(len(upcoming), 3),
        ]
    )
    m = len(lead)
    created = np.maximum(leads.arrival[lead], starts - rng.uniform(0.5, 6, m))
    seller = leads.side[lead] != BUYER
    return pa.table(
        {
            "id": np.arange(m),
            "contact_id": leads.contact[lead],
            "opportunity_id": lead,
            "agent_id": leads.agent[lead],
            "title": arrays.pick(
                ["Buyer consultation", "Listing presentation"], seller.astype(int)
            ),
            "appointment_type": arrays.pick(
                ["buyer_consultation", "listing_presentation"], seller.astype(int)
            ),
            "status": arrays.pick(["showed", "noshow", "cancelled", "confirmed"], status),
            "starts_at": arrays.timestamps(origin_us, starts),
            "ends_at": arrays.timestamps(origin_us, starts + 1 / 24),
            "created_at": arrays.timestamps(origin_us, created),
        }
    )


def build_recommendations(
    rng: np.random.Generator,
    leads: Leads,
    listing_keys_by_zip: list[np.ndarray],
    purchased_key: np.ndarray,
    horizon: float,
    origin_us: int,
) -> pa.Table:
    """Homes suggested to qualified buyers, and what became of each suggestion."""
    n = len(leads)
    eligible = (leads.stage_now >= 2) & (leads.side == BUYER)
    count = np.where(eligible, rng.poisson(3.0, n), 0)
    won_buyer = eligible & (leads.outcome == WON)
    count = np.where(won_buyer, np.maximum(count, 1), count)
    owner = np.repeat(np.arange(n), count)
    start = np.nan_to_num(leads.stage_times[:, 1])
    _, end = active_span(leads, horizon)
    when = _spread(rng, owner, start, end)
    zip_of = leads.zip[owner]
    key = np.empty(len(owner), dtype=object)
    for z in np.unique(zip_of):
        rows = np.flatnonzero(zip_of == z)
        pool = listing_keys_by_zip[z]
        key[rows] = pool[rng.integers(0, len(pool), len(rows))] if len(pool) else None
    outcome = arrays.categorical(rng, [0.33, 0.32, 0.16, 0.12, 0.04, 0.03], len(owner))
    last = np.cumsum(count) - 1
    purchase_rows = last[won_buyer]
    outcome[purchase_rows] = 6
    key[purchase_rows] = purchased_key[won_buyer]
    outcome_at = np.where(outcome == 0, np.nan, when + rng.exponential(2.0, len(owner)))
    outcome_at[purchase_rows] = leads.outcome_time[won_buyer]
    keep = (when <= horizon) & np.array([k is not None for k in key], dtype=bool)
    outcome_at = np.where(outcome_at > horizon, np.nan, outcome_at)
    owner, when, outcome, outcome_at, key = (
        owner[keep],
        when[keep],
        outcome[keep],
        outcome_at[keep],
        key[keep],
    )
    return pa.table(
        {
            "id": np.arange(len(owner)),
            "contact_id": leads.contact[owner],
            "agent_id": leads.agent[owner],
            "listing_key": pa.array(key, type=pa.string()),
            "recommended_at": arrays.timestamps(origin_us, when),
            "channel": arrays.pick(
                ["email", "sms", "app"], arrays.categorical(rng, [0.6, 0.25, 0.15], len(owner))
            ),
            "outcome": arrays.pick(
                ["sent", "opened", "saved", "showing", "offer", "dismissed", "purchased"], outcome
            ),
            "outcome_at": arrays.timestamps(origin_us, outcome_at),
        }
    )
