"""The CRM's own tables: pipelines, contacts, opportunities and every stage change."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dealscope.demo import arrays
from dealscope.demo.catalog import (
    EMAIL_DOMAINS,
    FIRST_NAMES,
    LAST_NAMES,
    LOST_REASONS,
    PROPERTY_TYPES,
    SOURCES,
    STAGE_MEDIAN_DAYS,
    STAGES,
    ZIPS,
)
from dealscope.demo.engagement import Attribution
from dealscope.demo.leads import BUYER, LOST, N_TRANSITIONS, OPEN, WON, Leads

PIPELINES = ("Buyers", "Sellers")
STATUS_NAMES = ("open", "won", "lost")
LEAD_TYPES = ("buyer", "seller")


def build_pipelines() -> dict[str, pa.Table]:
    stages = [*STAGES, "lost"]
    names = [
        "New lead",
        "Contacted",
        "Qualified",
        "Appointment set",
        "Showing",
        "Offer made",
        "Under contract",
        "Closed won",
        "Closed lost",
    ]
    pipeline = np.repeat(np.arange(len(PIPELINES)), len(stages))
    return {
        "pipelines": pa.table(
            {
                "id": np.arange(len(PIPELINES)),
                "external_id": [f"ghl-pipeline-{p.lower()}" for p in PIPELINES],
                "name": list(PIPELINES),
            }
        ),
        "pipeline_stages": pa.table(
            {
                "id": np.arange(len(pipeline)),
                "pipeline_id": pipeline,
                "external_id": [
                    f"ghl-stage-{PIPELINES[p].lower()}-{s}"
                    for p, s in zip(pipeline, stages * len(PIPELINES), strict=True)
                ],
                "name": names * len(PIPELINES),
                "stage_key": stages * len(PIPELINES),
                "position": np.tile(np.arange(len(stages)), len(PIPELINES)),
            }
        ),
    }


def build_contacts(
    rng: np.random.Generator,
    leads: Leads,
    creating_lead: np.ndarray,
    conv: Attribution,
    origin_us: int,
    horizon: float,
) -> pa.Table:
    """One row per person: named, reachable, attributed to the inquiry that created them."""
    n = len(creating_lead)
    first = rng.integers(0, len(FIRST_NAMES), n)
    last = rng.integers(0, len(LAST_NAMES), n)
    first_names = arrays.pick(FIRST_NAMES, first)
    last_names = arrays.pick(LAST_NAMES, last)
    email = arrays.text(
        pc.utf8_lower(arrays.text(first_names)),
        ".",
        pc.utf8_lower(arrays.text(last_names)),
        arrays.digits(rng.integers(1, 999, n), 1),
        "@",
        arrays.pick(EMAIL_DOMAINS, rng.integers(0, len(EMAIL_DOMAINS), n)),
    )
    area = np.array(["512", "737", "512", "254", "830"])[rng.integers(0, 5, n)]
    phone = arrays.text(
        "+1", pa.array(area), arrays.digits(rng.integers(2_000_000, 9_999_999, n), 7)
    )
    lead = creating_lead
    won_any = np.zeros(n, dtype=bool)
    won_any[leads.contact[leads.outcome == WON]] = True
    source_key = np.array([s.key for s in SOURCES])
    # Tags: the lead type, the source and "past_client" once a deal has closed.
    tag_sets = [
        json.dumps(t)
        for t in (["buyer"], ["seller"], ["buyer", "past_client"], ["seller", "past_client"])
    ]
    tag = (leads.side[lead] != BUYER).astype(int) + 2 * won_any
    score = np.clip(np.round(leads.propensity[lead] ** 0.35 * 100 + rng.normal(0, 8, n)), 1, 99)
    updated = leads.last_event_time()
    last_touch = np.zeros(n)
    np.maximum.at(last_touch, leads.contact, updated)
    return pa.table(
        {
            "id": np.arange(n),
            "first_name": first_names,
            "last_name": last_names,
            "email": email,
            "phone": phone,
            "source": arrays.pick(list(source_key), leads.source[lead]),
            "source_detail": arrays.pick(
                [f"{s.key.replace('_', ' ')} lead" for s in SOURCES], leads.source[lead]
            ),
            "utm_source": conv.utm_source.take(pa.array(lead)),
            "utm_medium": conv.utm_medium.take(pa.array(lead)),
            "utm_campaign": conv.utm_campaign.take(pa.array(lead)),
            "click_id_type": conv.click_id_type.take(pa.array(lead)),
            "click_id": conv.click_id.take(pa.array(lead)),
            "assigned_agent_id": leads.agent[lead],
            "lead_type": arrays.pick(LEAD_TYPES, leads.side[lead]),
            "postal_code": arrays.pick([z.code for z in ZIPS], leads.zip[lead]),
            "city": arrays.pick([z.city for z in ZIPS], leads.zip[lead]),
            "tags": arrays.pick(tag_sets, tag),
            "score": score.astype(np.int16),
            "is_past_client": won_any,
            "referred_by_contact_id": arrays.masked(
                leads.referred_by[lead], leads.referred_by[lead] >= 0, pa.int64()
            ),
            "created_at": arrays.timestamps(origin_us, leads.arrival[lead]),
            "updated_at": arrays.timestamps(origin_us, np.minimum(last_touch, horizon)),
        }
    )


def build_opportunities(
    rng: np.random.Generator, leads: Leads, origin_day: int, origin_us: int
) -> pa.Table:
    n = len(leads)
    stage_now = leads.stage_now
    last_change = np.where(
        stage_now > 0, leads.stage_times[np.arange(n), np.maximum(stage_now - 1, 0)], leads.arrival
    )
    last_change = np.where(leads.outcome == LOST, leads.outcome_time, last_change)
    # Open deals: expected to close after the typical time left in the pipeline.
    remaining = np.array(
        [
            STAGE_MEDIAN_DAYS[max(k - 1, 0) :].sum() + (3 if k == 0 else 0)
            for k in range(N_TRANSITIONS + 1)
        ]
    )
    expected_close = np.where(leads.outcome == OPEN, last_change + remaining[stage_now], np.nan)
    reason_sets = [r for group in LOST_REASONS for r in group]
    reason_offset = np.cumsum([0] + [len(g) for g in LOST_REASONS])[:-1]
    reason_size = np.array([len(g) for g in LOST_REASONS])
    at = np.minimum(stage_now, N_TRANSITIONS - 1)
    reason = reason_offset[at] + (rng.random(n) * reason_size[at]).astype(int)
    lost = leads.outcome == LOST
    stage_key = np.where(leads.outcome == WON, N_TRANSITIONS, stage_now)
    ptypes = [t[0] for t in PROPERTY_TYPES]
    name = arrays.text(
        arrays.pick(["Buy", "Sell"], leads.side),
        " – ",
        arrays.pick([t.replace("_", " ") for t in ptypes], leads.property_type),
        " in ",
        arrays.pick([z.code for z in ZIPS], leads.zip),
    )
    return pa.table(
        {
            "id": np.arange(n),
            "contact_id": leads.contact,
            "pipeline_id": leads.side,
            "name": name,
            "stage_key": arrays.pick(STAGES, stage_key),
            "status": arrays.pick(STATUS_NAMES, leads.outcome),
            "value": arrays.money(leads.price),
            "source": arrays.pick([s.key for s in SOURCES], leads.source),
            "assigned_agent_id": leads.agent,
            "lead_type": arrays.pick(LEAD_TYPES, leads.side),
            "property_type": arrays.pick(ptypes, leads.property_type),
            "postal_code": arrays.pick([z.code for z in ZIPS], leads.zip),
            "is_repeat": leads.is_repeat,
            "expected_close_date": arrays.dates(origin_day, expected_close),
            "lost_reason": arrays.pick(
                [*reason_sets, None], np.where(lost, reason, len(reason_sets))
            ),
            "created_at": arrays.timestamps(origin_us, leads.arrival),
            "updated_at": arrays.timestamps(origin_us, leads.last_event_time()),
            "last_stage_change_at": arrays.timestamps(origin_us, last_change),
            "closed_at": arrays.timestamps(origin_us, leads.outcome_time),
        }
    )


def build_stage_history(leads: Leads, origin_us: int) -> pa.Table:
    """The first row of each deal (into "new"), each stage it passed, and its loss if lost."""
    n = len(leads)
    done = np.arange(N_TRANSITIONS)[None, :] < leads.stage_now[:, None]
    lead_k, k = np.nonzero(done)
    lost = np.flatnonzero(leads.outcome == LOST)
    opp = np.concatenate([np.arange(n), lead_k, lost])
    from_stage = np.concatenate([np.full(n, len(STAGES) + 1), k, leads.stage_now[lost]])
    to_stage = np.concatenate([np.zeros(n, int), k + 1, np.full(len(lost), len(STAGES))])
    when = np.concatenate([leads.arrival, leads.stage_times[lead_k, k], leads.outcome_time[lost]])
    status = np.where(to_stage == len(STAGES), 2, np.where(to_stage == len(STAGES) - 1, 1, 0))
    order = np.lexsort((when, opp))
    stage_names = [*STAGES, "lost", None]
    m = len(opp)
    return pa.table(
        {
            "id": np.arange(m),
            "opportunity_id": opp[order],
            "from_stage": arrays.pick(stage_names, from_stage[order]),
            "to_stage": arrays.pick(stage_names, to_stage[order]),
            "status": arrays.pick(STATUS_NAMES, status[order]),
            "agent_id": leads.agent[opp[order]],
            "changed_at": arrays.timestamps(origin_us, when[order]),
            "recorded_from": arrays.pick(["generator"], np.zeros(m, int)),
        }
    )
