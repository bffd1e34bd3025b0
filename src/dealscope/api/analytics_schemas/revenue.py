"""Response of GET /dashboard/revenue. Money is in the tenant's currency."""

from __future__ import annotations

import datetime as dt

from pydantic import ConfigDict, Field

from dealscope.analytics.revenue import HHI_ELEVATED, HHI_HIGH
from dealscope.api.analytics_schemas.common import PeriodFields, Read

_NULL_IF_ZERO = "Null when its denominator is 0."
HHI_LEVELS = (
    f"ok below {HHI_ELEVATED}, elevated from {HHI_ELEVATED} to {HHI_HIGH}, high above "
    f"{HHI_HIGH}; null without positive GCI."
)


class RevenueTotalsRead(Read):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "sales_volume": 700000.0,
                    "gci": 21000.0,
                    "referral_fees": 2000.0,
                    "agent_commission": 10500.0,
                    "company_dollar": 8500.0,
                    "closings": 3,
                    "average_deal_size": 233333.33,
                }
            ]
        }
    )
    sales_volume: float = Field(description="Sum of sale prices of the period's closings.")
    gci: float = Field(description="Gross commission income of the period's closings.")
    referral_fees: float = Field(description="Referral and portal fees paid out of them.")
    agent_commission: float = Field(description="The agents' split of the GCI.")
    company_dollar: float = Field(description="What the brokerage keeps of the GCI.")
    closings: int = Field(description="Transactions (closed sides) closed in the period.")
    average_deal_size: float | None = Field(description=f"sales_volume / closings. {_NULL_IF_ZERO}")


class RevenueBreakdownRead(Read):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "key": "100",
                    "name": "Ada Lovelace",
                    "sales_volume": 600000.0,
                    "gci": 18000.0,
                    "closings": 2,
                    "average_deal_size": 300000.0,
                    "gci_share": 0.857,
                }
            ]
        }
    )
    key: str | None = Field(
        description="The agent, team or office id, or the source, property type or zip; "
        "null for closings without one."
    )
    name: str | None = Field(description="Display name of an agent, team or office.")
    sales_volume: float
    gci: float
    closings: int
    average_deal_size: float | None = Field(description=f"Mean sale price. {_NULL_IF_ZERO}")
    gci_share: float | None = Field(description="Share of the period's GCI (0..1).")


class MonthPointRead(Read):
    month_start: dt.date = Field(description="First day of the month.")
    sales_volume: float
    gci: float
    company_dollar: float
    closings: int


class ClosedVsPipelineRead(Read):
    closed_volume: float = Field(description="Sales volume closed in the period.")
    pipeline_value: float = Field(
        description="Sum of the expected sale prices of opportunities open at the end of as_of."
    )
    open_deals: int = Field(description="Opportunities open at the end of as_of.")


class PacingRead(Read):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "target": 29000.0,
                    "gci": 21000.0,
                    "attainment": 0.724,
                    "elapsed_share": 0.483,
                    "expected_by_now": 14000.0,
                    "pace_ratio": 1.5,
                }
            ]
        }
    )
    target: float | None = Field(
        description="The company GCI plan for the period (monthly plans prorated by day); "
        "null without a plan, and for callers who may not read plans (agents, managers)."
    )
    gci: float = Field(description="GCI closed in the period.")
    attainment: float | None = Field(description=f"gci / target. {_NULL_IF_ZERO}")
    elapsed_share: float = Field(
        description="Share of the period's days passed by the end of as_of (0..1)."
    )
    expected_by_now: float | None = Field(description="target × elapsed_share.")
    pace_ratio: float | None = Field(
        description=f"gci / expected_by_now; 1.0 is on pace. {_NULL_IF_ZERO}"
    )


class ConcentrationRead(Read):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "top_1_agents_share": 0.31,
                    "top_5_agents_share": 0.72,
                    "top_10_agents_share": 0.93,
                    "top_1_sources_share": 0.44,
                    "top_3_sources_share": 0.81,
                    "agent_hhi": 0.17,
                    "level": "elevated",
                }
            ]
        }
    )
    top_1_agents_share: float | None = Field(description="GCI share of the top agent (0..1).")
    top_5_agents_share: float | None = Field(description="GCI share of the top 5 agents.")
    top_10_agents_share: float | None = Field(description="GCI share of the top 10 agents.")
    top_1_sources_share: float | None = Field(description="GCI share of the top lead source.")
    top_3_sources_share: float | None = Field(description="GCI share of the top 3 sources.")
    agent_hhi: float | None = Field(
        description="Herfindahl-Hirschman index over agents: the sum of their squared GCI "
        "shares, 0..1 (1: one agent earns all of it)."
    )
    level: str | None = Field(description=f"Concentration risk from agent_hhi: {HHI_LEVELS}")


class RevenueRead(PeriodFields):
    """What the period's closings brought in, where from, against plan, and how concentrated
    it is. Empty periods give zeros, and nulls for ratios."""

    totals: RevenueTotalsRead
    by_agent: list[RevenueBreakdownRead] = Field(description="By GCI, descending.")
    by_team: list[RevenueBreakdownRead]
    by_office: list[RevenueBreakdownRead]
    by_source: list[RevenueBreakdownRead]
    by_property_type: list[RevenueBreakdownRead]
    by_zip: list[RevenueBreakdownRead]
    monthly: list[MonthPointRead] = Field(description="Every month of the period, zeros too.")
    closed_vs_pipeline: ClosedVsPipelineRead
    pacing: PacingRead
    concentration: ConcentrationRead
