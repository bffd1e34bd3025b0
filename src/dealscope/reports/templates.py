"""Built-in reports: daily summary, weekly performance, monthly executive report and the
agent scorecard. Each is an ordinary `ReportSpec` (saved reports and templates render the
same way); its periods are named ranges resolved on the day the report is rendered for.

| template | period | for |
|---|---|---|
| daily_summary | the as-of day, with the 7 days before it for the trend | managers |
| weekly_performance | the 7 days to the as-of day against the 7 before | managers |
| monthly_executive | month to date (a whole month on its last day) against the days before; |
|   | GCI against plan year to date | executives |
| agent_scorecard | month to date, rendered per agent with only that agent's figures | each agent |
"""

from __future__ import annotations

from enum import StrEnum

from dealscope.analytics.periods import Compare, Grain, RangeName
from dealscope.analytics.specs import Dimension
from dealscope.errors import ValidationFailed
from dealscope.reports.specs import Audience, ReportSpec, SectionSpec, Visual

FUNNEL = ["new_leads", "appointments_set", "showings", "offers", "deals_won"]
PREVIOUS = Compare.PREVIOUS_PERIOD


class TemplateName(StrEnum):
    DAILY_SUMMARY = "daily_summary"
    WEEKLY_PERFORMANCE = "weekly_performance"
    MONTHLY_EXECUTIVE = "monthly_executive"
    AGENT_SCORECARD = "agent_scorecard"


def _daily() -> ReportSpec:
    day = RangeName.TODAY
    return ReportSpec(
        title="Daily summary",
        sections=[
            SectionSpec(
                title="The day at a glance",
                visual=Visual.KPI_CARDS,
                metrics=[
                    "new_leads",
                    "contact_rate",
                    "speed_to_lead_median_minutes",
                    "appointments_set",
                    "deals_won",
                    "closings",
                    "gci",
                ],
                range=day,
                compare=PREVIOUS,
                note="Compared with the day before.",
            ),
            SectionSpec(
                title="New leads, last 7 days",
                visual=Visual.LINE,
                metrics=["new_leads", "appointments_set"],
                range=RangeName.LAST_7_DAYS,
                grain=Grain.DAY,
            ),
            SectionSpec(
                title="Leads by source",
                visual=Visual.TABLE,
                metrics=["new_leads", "contact_rate", "speed_to_lead_median_minutes"],
                dimensions=[Dimension.SOURCE],
                range=day,
            ),
            SectionSpec(
                title="Agents today",
                visual=Visual.TABLE,
                metrics=["new_leads", "calls", "appointments_set", "speed_to_lead_median_minutes"],
                dimensions=[Dimension.AGENT],
                range=day,
                limit=15,
            ),
        ],
    )


def _weekly() -> ReportSpec:
    week = RangeName.LAST_7_DAYS
    return ReportSpec(
        title="Weekly performance",
        sections=[
            SectionSpec(
                title="The week in figures",
                visual=Visual.KPI_CARDS,
                metrics=[
                    "new_leads",
                    "appointments_held",
                    "showings_held",
                    "offers",
                    "deals_won",
                    "gci",
                    "win_rate",
                    "speed_to_lead_median_minutes",
                ],
                range=week,
                compare=PREVIOUS,
                note="Compared with the 7 days before.",
            ),
            SectionSpec(
                title="Funnel of the week", visual=Visual.FUNNEL, metrics=FUNNEL, range=week
            ),
            SectionSpec(
                title="Leads and deals by day",
                visual=Visual.BAR,
                metrics=["new_leads", "deals_won"],
                range=week,
                grain=Grain.DAY,
            ),
            SectionSpec(
                title="Agent leaderboard",
                visual=Visual.TABLE,
                metrics=[
                    "gci",
                    "deals_won",
                    "new_leads",
                    "appointments_held",
                    "speed_to_lead_median_minutes",
                ],
                dimensions=[Dimension.AGENT],
                range=week,
                limit=20,
            ),
            SectionSpec(
                title="New leads by source",
                visual=Visual.BAR,
                metrics=["new_leads"],
                dimensions=[Dimension.SOURCE],
                range=week,
                limit=12,
            ),
        ],
    )


def _monthly() -> ReportSpec:
    month = RangeName.MONTH_TO_DATE
    return ReportSpec(
        title="Monthly executive report",
        sections=[
            SectionSpec(
                title="Headline figures",
                visual=Visual.KPI_CARDS,
                metrics=[
                    "gci",
                    "sales_volume",
                    "closings",
                    "company_dollar",
                    "new_leads",
                    "win_rate",
                    "pipeline_value",
                    "marketing_roi",
                ],
                range=month,
                compare=PREVIOUS,
                note="Month to date, compared with the same number of days before it.",
            ),
            SectionSpec(
                title="GCI against plan",
                visual=Visual.LINE,
                metrics=["gci"],
                range=RangeName.YEAR_TO_DATE,
                grain=Grain.MONTH,
                compare=Compare.TARGET,
            ),
            SectionSpec(title="Lead funnel", visual=Visual.FUNNEL, metrics=FUNNEL, range=month),
            SectionSpec(
                title="New leads by source",
                visual=Visual.PIE,
                metrics=["new_leads"],
                dimensions=[Dimension.SOURCE],
                range=month,
            ),
            SectionSpec(
                title="GCI by source",
                visual=Visual.BAR,
                metrics=["gci"],
                dimensions=[Dimension.SOURCE],
                range=month,
                limit=10,
            ),
            SectionSpec(
                title="Top agents",
                visual=Visual.TABLE,
                metrics=["gci", "closings", "sales_volume", "win_rate"],
                dimensions=[Dimension.AGENT],
                range=month,
                compare=PREVIOUS,
                limit=10,
            ),
            SectionSpec(
                title="Marketing return by source",
                visual=Visual.TABLE,
                metrics=["marketing_spend", "new_leads", "cost_per_lead", "gci", "marketing_roi"],
                dimensions=[Dimension.SOURCE],
                range=month,
            ),
        ],
    )


def _scorecard() -> ReportSpec:
    month = RangeName.MONTH_TO_DATE
    return ReportSpec(
        title="Agent scorecard",
        audience=Audience.EACH_AGENT,
        sections=[
            SectionSpec(
                title="Your month",
                visual=Visual.KPI_CARDS,
                metrics=[
                    "gci",
                    "closings",
                    "sales_volume",
                    "deals_won",
                    "new_leads",
                    "lead_to_close_rate",
                    "speed_to_lead_median_minutes",
                    "follow_up_compliance",
                ],
                range=month,
                compare=PREVIOUS,
                note="Month to date, compared with the same number of days before it.",
            ),
            SectionSpec(
                title="Your activity",
                visual=Visual.KPI_CARDS,
                metrics=["calls", "emails", "sms", "appointments_held", "showings_held"],
                range=month,
                compare=PREVIOUS,
            ),
            SectionSpec(
                title="Your GCI by month",
                visual=Visual.BAR,
                metrics=["gci"],
                range=RangeName.YEAR_TO_DATE,
                grain=Grain.MONTH,
            ),
            SectionSpec(title="Your funnel", visual=Visual.FUNNEL, metrics=FUNNEL, range=month),
            SectionSpec(
                title="Your leads by source",
                visual=Visual.TABLE,
                metrics=["new_leads", "contact_rate", "lead_to_close_rate"],
                dimensions=[Dimension.SOURCE],
                range=month,
            ),
            SectionSpec(
                title="Your open pipeline by stage",
                visual=Visual.TABLE,
                metrics=["open_deals", "pipeline_value", "weighted_pipeline_value"],
                dimensions=[Dimension.STAGE],
                range=month,
            ),
        ],
    )


_BUILDERS = {
    TemplateName.DAILY_SUMMARY: _daily,
    TemplateName.WEEKLY_PERFORMANCE: _weekly,
    TemplateName.MONTHLY_EXECUTIVE: _monthly,
    TemplateName.AGENT_SCORECARD: _scorecard,
}


def get_template(name: str) -> ReportSpec:
    """The built-in report `name`; ValidationFailed listing the known ones otherwise."""
    try:
        template = TemplateName(name)
    except ValueError:
        known = ", ".join(t.value for t in TemplateName)
        raise ValidationFailed(f"unknown report template {name!r} (known: {known})") from None
    return _BUILDERS[template]()


def list_templates() -> list[tuple[TemplateName, ReportSpec]]:
    return [(name, build()) for name, build in _BUILDERS.items()]
