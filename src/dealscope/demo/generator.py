"""`generate_brokerage`: a whole brokerage's history, deterministic for a seed.

The pieces are simulated in dependency order (organisation, leads and their journeys,
returning clients, engagement, closings, the MLS around them, money and plans) with one
NumPy generator, so the same spec always yields the same tables. Ids in the tables are local
(0..n-1 per table); `REFERENCES` says which columns point at which table, so a loader can
shift them into the warehouse's id space.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa

from dealscope.demo import crm, engagement, finance
from dealscope.demo.catalog import COMPANY_NAME, TIMEZONE, WARM_UP_DAYS
from dealscope.demo.closings import build_closings
from dealscope.demo.leads import (
    Calendar,
    Leads,
    assign_agents,
    draw_arrivals,
    draw_sources,
    returning_business,
    simulate,
)
from dealscope.demo.mls import build_market
from dealscope.demo.organisation import build_organisation

Progress = Callable[[str, float], None]

# table -> {column: the table its values are ids of}
REFERENCES: dict[str, dict[str, str]] = {
    "teams": {"office_id": "offices", "leader_agent_id": "agents"},
    "agents": {"office_id": "offices", "team_id": "teams"},
    "pipeline_stages": {"pipeline_id": "pipelines"},
    "contacts": {"assigned_agent_id": "agents", "referred_by_contact_id": "contacts"},
    "opportunities": {
        "contact_id": "contacts",
        "pipeline_id": "pipelines",
        "assigned_agent_id": "agents",
    },
    "stage_history": {"opportunity_id": "opportunities", "agent_id": "agents"},
    "touchpoints": {"contact_id": "contacts"},
    "activities": {
        "contact_id": "contacts",
        "opportunity_id": "opportunities",
        "agent_id": "agents",
    },
    "messages": {"contact_id": "contacts", "agent_id": "agents"},
    "appointments": {
        "contact_id": "contacts",
        "opportunity_id": "opportunities",
        "agent_id": "agents",
    },
    "transactions": {
        "opportunity_id": "opportunities",
        "contact_id": "contacts",
        "agent_id": "agents",
    },
    "recommendations": {"contact_id": "contacts", "agent_id": "agents"},
    "operating_costs": {"office_id": "offices"},
}
# targets.scope_id points at teams or agents depending on targets.scope.
SCOPED_REFERENCES: dict[str, str] = {"team": "teams", "agent": "agents"}


@dataclass(frozen=True, kw_only=True)
class BrokerageSpec:
    """What to generate: `leads` new inquiries over `years` ending on `end` (inclusive), plus
    six months of earlier history so the period opens with a full pipeline (the leads are
    spread over both). Returning clients and the people they refer come on top (about 1-3%
    more leads)."""

    end: dt.date
    leads: int = 25_000
    seed: int = 42
    years: float = 3.0
    name: str = COMPANY_NAME
    agents: int | None = None  # default: one per ~200 leads, 20 to 300

    def __post_init__(self) -> None:
        if self.leads < 1:
            raise ValueError(f"leads must be at least 1, got {self.leads}")
        if not 0.25 <= self.years <= 20:
            raise ValueError(f"years must be between 0.25 and 20, got {self.years}")
        if self.agents is not None and not 1 <= self.agents <= 5000:
            raise ValueError(f"agents must be between 1 and 5000, got {self.agents}")

    @property
    def agent_count(self) -> int:
        return self.agents or int(np.clip(round(self.leads / 200), 20, 300))


@dataclass
class Brokerage:
    spec: BrokerageSpec
    start: dt.date
    tables: dict[str, pa.Table] = field(default_factory=dict)

    def row_counts(self) -> dict[str, int]:
        return {name: table.num_rows for name, table in self.tables.items()}


def _utc_offset_hours(zone: ZoneInfo, epoch_day: int) -> float:
    """The zone's offset from UTC at noon UTC of a day (negative west of Greenwich)."""
    noon = dt.datetime(1970, 1, 1, 12, tzinfo=dt.UTC) + dt.timedelta(days=epoch_day)
    offset = noon.astimezone(zone).utcoffset()
    assert offset is not None
    return offset.total_seconds() / 3600.0


def build_calendar(end: dt.date, years: float, rates: Callable[[int], np.ndarray]) -> Calendar:
    horizon = round(years * 365.25) + WARM_UP_DAYS
    origin_day = (end - dt.date(1970, 1, 1)).days + 1 - horizon
    zone = ZoneInfo(TIMEZONE)
    offsets = np.array([_utc_offset_hours(zone, origin_day + d) for d in range(horizon)])
    return Calendar(
        horizon_days=horizon,
        origin_day=origin_day,
        utc_offset_hours=offsets,
        mortgage_rate=rates(horizon),
    )


def generate_brokerage(spec: BrokerageSpec, progress: Progress | None = None) -> Brokerage:
    """Simulate the brokerage described by `spec`; see the module docstring."""
    report = progress or (lambda stage, fraction: None)
    rng = np.random.default_rng(spec.seed)
    cal = build_calendar(spec.end, spec.years, lambda days: finance.mortgage_rate_path(rng, days))
    origin_us = cal.origin_day * 86_400_000_000
    horizon = float(cal.horizon_days)
    start = dt.date(1970, 1, 1) + dt.timedelta(days=cal.origin_day)
    out = Brokerage(spec=spec, start=start)
    t = out.tables

    report("organisation", 0.0)
    org = build_organisation(rng, spec.agent_count, horizon, cal.origin_day, origin_us)
    t.update(org.tables)
    t.update(crm.build_pipelines())

    report("leads", 0.05)
    arrival = draw_arrivals(rng, cal, spec.leads)
    source = draw_sources(rng, arrival, horizon)
    agent = assign_agents(rng, org, arrival)
    first = simulate(
        rng,
        cal,
        org,
        arrival,
        source,
        agent,
        contact=np.arange(spec.leads),
        is_repeat=np.zeros(spec.leads, bool),
        referred_by=np.full(spec.leads, -1),
    )
    more = returning_business(rng, cal, org, first, next_contact=spec.leads)
    leads = Leads.concat([first, more]) if more is not None else first
    _, creating_lead = np.unique(leads.contact, return_index=True)

    report("contacts and deals", 0.25)
    conv = engagement.conversion_attribution(rng, cal, leads)
    t["contacts"] = crm.build_contacts(rng, leads, creating_lead, conv, origin_us, horizon)
    t["opportunities"] = crm.build_opportunities(rng, leads, cal.origin_day, origin_us)
    t["stage_history"] = crm.build_stage_history(leads, origin_us)

    report("journeys and conversations", 0.4)
    t["touchpoints"] = engagement.build_touchpoints(rng, cal, leads, creating_lead, conv, origin_us)
    t["activities"] = engagement.build_activities(rng, leads, org, horizon, origin_us)
    t["messages"] = engagement.build_messages(
        rng, leads, org, t["contacts"]["first_name"].combine_chunks(), horizon, origin_us
    )
    t["appointments"] = engagement.build_appointments(rng, leads, horizon, origin_us)

    report("closings and market", 0.7)
    closings = build_closings(rng, leads, org, cal.origin_day, origin_us)
    market = build_market(rng, cal, leads, closings, org, origin_us)
    t["transactions"] = closings.table.append_column(
        "listing_key", pa.array(market.key_of_closing, pa.string())
    )
    t["listings"] = market.table
    purchased = np.full(len(leads), None, dtype=object)
    purchased[closings.lead] = market.key_of_closing
    t["recommendations"] = engagement.build_recommendations(
        rng, leads, market.keys_by_zip, purchased, horizon, origin_us
    )

    report("money and plans", 0.9)
    t["market_series"] = finance.build_market_series(cal.origin_day, cal.mortgage_rate)
    t["marketing_spend"] = finance.build_marketing_spend(
        rng, leads, cal.origin_day, cal.horizon_days
    )
    t["operating_costs"] = finance.build_operating_costs(
        rng, t["offices"].num_rows, cal.origin_day, cal.horizon_days
    )
    t["targets"] = finance.build_targets(
        leads,
        closings.close_day,
        closings.gci,
        leads.agent[closings.lead],
        org.team,
        cal.origin_day,
        cal.horizon_days,
        steady_from_day=WARM_UP_DAYS,
    )
    report("done", 1.0)
    return out
