"""Tables behind the charts: the API's models as pandas frames (what a chart draws and what
its CSV export holds), and the few sums the pages show on top of them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pandas as pd
from pydantic import BaseModel

from dealscope.client.agent_models import AgentDetailRead, TeamsRead
from dealscope.client.analytics_models import (
    ConcentrationRead,
    LeaderboardRead,
    MetricResult,
    RevenueBreakdownRead,
    SummaryRead,
)
from dealscope.client.dashboard_models import PipelineRead, SlaRead
from dealscope.client.forecast_models import MonteCarloRead
from dealscope.client.ops_models import AlertRuleRead


def of(items: Sequence[BaseModel], columns: Sequence[str] | None = None) -> pd.DataFrame:
    """One row per model (nested models flattened away); `columns` in that order."""
    frame = pd.DataFrame([item.model_dump(mode="json") for item in items])
    if columns is not None:
        frame = frame.reindex(columns=list(columns))
    return frame


def cards(summary: SummaryRead) -> pd.DataFrame:
    return of(
        summary.cards,
        ["slug", "label", "unit", "value", "comparison", "change_pct", "target", "attainment"],
    )


def revenue_to_date(summary: SummaryRead) -> pd.DataFrame:
    rows = [
        {
            "period": r.label,
            "start": r.period.start,
            "end": r.period.end,
            "gci": r.gci,
            "target": r.target,
            "attainment": r.attainment,
        }
        for r in summary.revenue
    ]
    return pd.DataFrame(rows)


def health(summary: SummaryRead) -> pd.DataFrame:
    frame = of(summary.pipeline_health.components, ["name", "weight", "score", "detail"])
    frame["points"] = (100 * frame["weight"] * frame["score"]).round(1)
    return frame


def source_volume(pipeline: PipelineRead) -> pd.DataFrame:
    """Long form: bucket_start, source, leads (every bucket of every source)."""
    rows = [
        {"bucket_start": p.bucket_start, "source": s.source, "leads": p.leads}
        for s in pipeline.volume_by_source
        for p in s.points
    ]
    return pd.DataFrame(rows, columns=["bucket_start", "source", "leads"])


def breakdown(rows: Sequence[RevenueBreakdownRead]) -> pd.DataFrame:
    frame = of(
        rows, ["key", "name", "gci", "sales_volume", "closings", "average_deal_size", "gci_share"]
    )
    frame["label"] = frame["name"].fillna(frame["key"]).fillna("(none)")
    return frame


def leaderboard(board: LeaderboardRead, teams: dict[str, str] | None = None) -> pd.DataFrame:
    frame = of(board.agents)
    if frame.empty:
        return frame
    names = teams or {}
    frame["team"] = [
        names.get(str(t), f"Team {t}") if pd.notna(t) else "(no team)" for t in frame["team_id"]
    ]
    return frame


def teams(read: TeamsRead) -> pd.DataFrame:
    """Per team: agents, GCI, GCI per agent, share of GCI, deals won, conversion, median
    speed to lead and attainment of the team's plan."""
    rows = [
        {
            "team": t.name,
            "agents": t.agents,
            "gci": t.scorecard.gci,
            "gci_per_agent": t.per_agent.gci,
            "gci_share": t.gci_share,
            "deals_won": t.scorecard.deals_won,
            "conversion": t.scorecard.conversion,
            "speed_to_lead_median_minutes": t.scorecard.speed_to_lead_median_minutes,
            "plan": t.quota.target,
            "attainment": t.quota.attainment,
        }
        for t in read.teams
    ]
    return pd.DataFrame(rows).sort_values("gci", ascending=False, ignore_index=True)


def agent_versus(agent: AgentDetailRead) -> pd.DataFrame:
    """The agent's GCI and company dollar beside their team's and the brokerage's per-agent
    averages (where the caller may see them): rows measure, columns agent, team, brokerage."""
    measures = {"GCI": "gci", "Company dollar": "company_dollar"}
    frame = pd.DataFrame({"measure": list(measures)})
    frame[agent.name] = [getattr(agent.scorecard, m) for m in measures.values()]
    for average in (agent.team_average, agent.brokerage_average):
        if average is not None:
            label = f"{average.label} (per agent)"
            frame[label] = [getattr(average.scorecard, m) for m in measures.values()]
    return frame


def team_comparison(board: pd.DataFrame) -> pd.DataFrame:
    """Per team: agents, GCI, volume, deals, new leads, lead-to-close rate (deals / leads of
    the team's agents) and GCI per agent."""
    if board.empty:
        return pd.DataFrame(
            columns=[
                "team",
                "agents",
                "gci",
                "sales_volume",
                "deals",
                "new_leads",
                "gci_per_agent",
                "median_speed_to_lead_minutes",
            ]
        )
    grouped = board.groupby("team", dropna=False).agg(
        agents=("agent_id", "count"),
        gci=("gci", "sum"),
        sales_volume=("sales_volume", "sum"),
        deals=("deals", "sum"),
        new_leads=("new_leads", "sum"),
        median_speed_to_lead_minutes=("speed_to_lead_minutes", "median"),
    )
    grouped["gci_per_agent"] = grouped["gci"] / grouped["agents"]
    return grouped.reset_index().sort_values("gci", ascending=False, ignore_index=True)


def metric_rows(result: MetricResult, slug: str) -> pd.DataFrame:
    """The rows of one metric: bucket, each dimension (with a `<dimension>_name` for ids),
    value, comparison, change, change_pct."""
    series = next((s for s in result.metrics if s.slug == slug), None)
    rows = []
    for row in series.rows if series else []:
        record: dict[str, object] = {"bucket": row.bucket}
        for dimension, value in row.dimensions.items():
            record[dimension] = value
            names = result.labels.get(dimension)
            if names is not None:
                record[f"{dimension}_name"] = names.get(value or "", value)
        record |= {
            "value": row.value,
            "comparison": row.comparison,
            "change": row.change,
            "change_pct": row.change_pct,
        }
        rows.append(record)
    frame = pd.DataFrame(rows)
    if "bucket" in frame and frame["bucket"].isna().all():
        frame = frame.drop(columns="bucket")
    return frame


def quota_pacing(result: MetricResult, elapsed_share: float) -> pd.DataFrame:
    """Per agent: GCI, plan, attainment, the share of the plan due by now, and pace (
    attainment / elapsed share; 1.0 is on pace). Agents without a plan are left out."""
    frame = metric_rows(result, "gci")
    if frame.empty or "comparison" not in frame:
        return pd.DataFrame(columns=["agent", "agent_name", "gci", "plan", "attainment", "pace"])
    frame = frame.rename(columns={"value": "gci", "comparison": "plan"})
    frame = frame[frame["plan"].fillna(0) > 0].copy()
    frame["attainment"] = frame["gci"] / frame["plan"]
    frame["expected_by_now"] = frame["plan"] * elapsed_share
    frame["pace"] = frame["attainment"] / elapsed_share if elapsed_share else None
    columns = ["agent", "agent_name", "gci", "plan", "attainment", "expected_by_now", "pace"]
    return frame[columns].sort_values("pace", ascending=False, ignore_index=True)


def heatmap(counts: Sequence[Sequence[int]]) -> pd.DataFrame:
    """counts[weekday][hour] as rows weekday (Mon..Sun) x columns 00..23."""
    days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    frame = pd.DataFrame(counts, columns=[f"{h:02d}" for h in range(24)])
    frame.insert(0, "weekday", days[: len(frame)])
    return frame


def concentration(conc: ConcentrationRead) -> pd.DataFrame:
    """The top-N shares of GCI as rows measure, share."""
    rows = [
        ("Top agent", conc.top_1_agents_share),
        ("Top 5 agents", conc.top_5_agents_share),
        ("Top 10 agents", conc.top_10_agents_share),
        ("Top source", conc.top_1_sources_share),
        ("Top 3 sources", conc.top_3_sources_share),
    ]
    return pd.DataFrame(rows, columns=["measure", "share"])


def elapsed_share(start: dt.date, end: dt.date, as_of: dt.date) -> float:
    """How much of the period [start, end] (inclusive) has passed by the end of as_of."""
    total = (end - start).days + 1
    return min(1.0, max(0.0, ((as_of - start).days + 1) / total))


def trailing_year(as_of: dt.date) -> tuple[dt.date, dt.date]:
    """The 12 whole months before as_of's month, and as_of's month to date."""
    first = as_of.replace(day=1)
    start = first.replace(year=first.year - 1)
    return start, as_of


def metric_wide(result: MetricResult) -> pd.DataFrame:
    """One row per bucket, one column per metric slug (no dimensions)."""
    columns = {}
    for series in result.metrics:
        columns[series.slug] = {row.bucket: row.value for row in series.rows}
    frame = pd.DataFrame(columns)
    frame.index.name = "bucket"
    return frame.reset_index().sort_values("bucket", ignore_index=True)


def sla(read: SlaRead) -> pd.DataFrame:
    rows = [
        ("within", read.within),
        ("breached", read.breached),
        ("never contacted", read.never_contacted),
    ]
    return pd.DataFrame(rows, columns=["outcome", "leads"])


def rules(read: Sequence[AlertRuleRead]) -> pd.DataFrame:
    """One row per rule: id, and the definition's simple fields (name, metric, severity...)."""
    rows = []
    for rule in read:
        row: dict[str, object] = {"id": rule.id}
        row |= {k: v for k, v in rule.rule.items() if isinstance(v, str | int | float | bool)}
        rows.append(row)
    return pd.DataFrame(rows)


def fan(forecast: MonteCarloRead) -> pd.DataFrame:
    """The cumulative P10/P50/P90 at the end of each bucket of the horizon."""
    rows = [
        {"end": b.end, "p10": b.cumulative.p10, "p50": b.cumulative.p50, "p90": b.cumulative.p90}
        for b in forecast.buckets
    ]
    return pd.DataFrame(rows, columns=["end", "p10", "p50", "p90"])


def density(forecast: MonteCarloRead) -> pd.DataFrame:
    """The histogram of the horizon's total: bin low, high, middle and futures in it."""
    edges, counts = forecast.density.edges, forecast.density.counts
    rows = [
        {"low": lo, "high": hi, "middle": (lo + hi) / 2, "futures": n}
        for lo, hi, n in zip(edges[:-1], edges[1:], counts, strict=False)
    ]
    return pd.DataFrame(rows, columns=["low", "high", "middle", "futures"])


def scenarios(forecast: MonteCarloRead) -> pd.DataFrame:
    rows = [
        {"scenario": o.scenario.name, "p10": o.total.p10, "p50": o.total.p50, "p90": o.total.p90}
        for o in forecast.scenarios
    ]
    return pd.DataFrame(rows, columns=["scenario", "p10", "p50", "p90"])
