"""Offices, teams and agents, each agent with a skill, a response habit and a split plan."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from dealscope.demo import arrays
from dealscope.demo.catalog import (
    COMPANY_NAME,
    FIRST_NAMES,
    LAST_NAMES,
    OFFICE_NAMES,
    SPLIT_PLANS,
    TEAM_NAMES,
    ZIPS,
)


@dataclass
class Organisation:
    """Per-agent traits (arrays indexed by agent) and the organisation's tables."""

    skill: np.ndarray  # multiplies close propensity; mean about 1
    response_minutes: np.ndarray  # the agent's median minutes to first response
    discipline: np.ndarray  # 0..1, how many follow-ups the agent makes
    hired_day: np.ndarray  # days from the period start (negative: before it)
    departed_day: np.ndarray  # NaN while still with the brokerage
    team: np.ndarray
    split: np.ndarray  # agent share of GCI
    first_names: list[str]
    last_names: list[str]
    tables: dict[str, pa.Table]

    @property
    def count(self) -> int:
        return len(self.skill)

    def active_weights(self, day: float) -> np.ndarray:
        """How many new leads each agent takes on `day` (0 for agents not there then)."""
        here = (self.hired_day <= day) & ~(self.departed_day <= day)
        return np.where(here, np.sqrt(self.skill), 0.0)


def build_organisation(
    rng: np.random.Generator, n_agents: int, horizon_days: float, origin_day: int, origin_us: int
) -> Organisation:
    n_offices = int(np.clip(n_agents // 40 + 1, 2, len(OFFICE_NAMES)))
    n_teams = int(np.clip(n_agents // 10, n_offices, len(TEAM_NAMES)))
    team_office = np.arange(n_teams) % n_offices

    skill = arrays.lognormal(rng, 1.0, 0.38, n_agents)
    skill /= skill.mean()
    # Better agents tend to answer faster, but habits vary widely (2 minutes to half a day).
    response = arrays.lognormal(rng, 25.0 / skill**0.8, 1.0, n_agents).clip(1.0, 720.0)
    discipline = np.clip(0.35 + 0.25 * np.log(skill) + rng.normal(0, 0.15, n_agents), 0.05, 1.0)
    # Seven in ten agents were there before the period; the rest join as the brokerage grows.
    veteran = rng.random(n_agents) < 0.7
    hired = np.where(
        veteran, -rng.uniform(30, 3650, n_agents), rng.uniform(0, horizon_days * 0.9, n_agents)
    )
    leaves = rng.random(n_agents) < 0.15
    departed = np.where(leaves, np.maximum(hired, 0) + rng.uniform(120, 900, n_agents), np.nan)
    departed[departed > horizon_days] = np.nan
    team = rng.integers(0, n_teams, n_agents)
    team[:n_teams] = np.arange(n_teams)  # every team has someone
    # Top producers negotiate better splits.
    plan = np.clip(
        np.searchsorted([0.75, 1.0, 1.5], skill) + rng.integers(-1, 2, n_agents),
        0,
        len(SPLIT_PLANS) - 1,
    )
    first_idx = rng.integers(0, len(FIRST_NAMES), n_agents)
    last_idx = rng.integers(0, len(LAST_NAMES), n_agents)
    first = [FIRST_NAMES[i] for i in first_idx]
    last = [LAST_NAMES[i] for i in last_idx]

    offices = pa.table(
        {
            "id": np.arange(n_offices),
            "name": [f"{COMPANY_NAME} {OFFICE_NAMES[i]}" for i in range(n_offices)],
            "city": [ZIPS[min(i * 3, len(ZIPS) - 1)].city for i in range(n_offices)],
            "state": ["TX"] * n_offices,
            "opened_on": arrays.dates(origin_day, -rng.uniform(400, 5000, n_offices)),
        }
    )
    leaders = np.array(
        [np.flatnonzero(team == t)[np.argmax(skill[team == t])] for t in range(n_teams)]
    )
    teams = pa.table(
        {
            "id": np.arange(n_teams),
            "office_id": team_office,
            "name": [f"{TEAM_NAMES[t]} Team" for t in range(n_teams)],
            "leader_agent_id": leaders,
        }
    )
    email = [
        f"{given.lower()}.{family.lower()}{i}@summitridge.example"
        for i, (given, family) in enumerate(zip(first, last, strict=True))
    ]
    agents = pa.table(
        {
            "id": np.arange(n_agents),
            "external_id": [f"ghl-user-{i:05d}" for i in range(n_agents)],
            "office_id": team_office[team],
            "team_id": team,
            "first_name": first,
            "last_name": last,
            "email": email,
            "phone": [f"+1512{5550000 + i:07d}" for i in range(n_agents)],
            "license_number": [f"TX{600000 + i * 37:07d}" for i in range(n_agents)],
            "hired_on": arrays.dates(origin_day, hired),
            "departed_on": arrays.dates(origin_day, departed),
            "split_plan": [SPLIT_PLANS[p][0] for p in plan],
            "agent_split": np.array([SPLIT_PLANS[p][1] for p in plan]),
            "annual_cap": arrays.money(np.array([SPLIT_PLANS[p][2] for p in plan])),
            "is_active": np.isnan(departed),
            "created_at": arrays.timestamps(origin_us, np.maximum(hired, -3650.0)),
        }
    )
    return Organisation(
        skill=skill,
        response_minutes=response,
        discipline=discipline,
        hired_day=hired,
        departed_day=departed,
        team=team,
        split=np.array([SPLIT_PLANS[p][1] for p in plan]),
        first_names=first,
        last_names=last,
        tables={"offices": offices, "teams": teams, "agents": agents},
    )
