"""Response of GET /dashboard/agents."""

from __future__ import annotations

from pydantic import ConfigDict, Field

from dealscope.analytics.leaderboard import SortBy
from dealscope.api.analytics_schemas.common import PeriodFields, Read


class AgentRowRead(Read):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "rank": 1,
                    "agent_id": 100,
                    "name": "Ada Lovelace",
                    "team_id": 20,
                    "gci": 12000.0,
                    "sales_volume": 400000.0,
                    "deals": 1,
                    "new_leads": 2,
                    "conversion": 0.5,
                    "speed_to_lead_minutes": 35.0,
                }
            ]
        }
    )
    rank: int = Field(description="1 is best by the chosen sort.")
    agent_id: int
    name: str
    team_id: int | None
    gci: float = Field(description="GCI of the agent's closings in the period.")
    sales_volume: float = Field(description="Sum of sale prices of those closings.")
    deals: int = Field(description="Closings (transaction sides) in the period.")
    new_leads: int = Field(description="Leads assigned to the agent created in the period.")
    conversion: float | None = Field(
        description="Lead-to-close rate of the period's leads (0..1); null without leads."
    )
    speed_to_lead_minutes: float | None = Field(
        description="Median minutes from lead creation to first outreach; null without any."
    )


class LeaderboardRead(PeriodFields):
    """Agents ranked by one figure; an agent sees only their own row, a manager their team."""

    sort_by: SortBy
    agents: list[AgentRowRead] = Field(
        description="Best first; agents without a value for the sort figure come last."
    )
