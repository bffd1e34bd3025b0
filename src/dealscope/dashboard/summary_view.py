"""The executive summary's sections (the page file only arranges them)."""

from __future__ import annotations

import streamlit as st

from dealscope.client import Compare, Unit
from dealscope.client.analytics_models import KpiCard, SummaryRead
from dealscope.dashboard import charts, frames
from dealscope.dashboard.formatting import by_unit, money, percent, signed_percent
from dealscope.dashboard.state import COMPARE_LABELS
from dealscope.dashboard.widgets import chart, csv_button, empty, selected

CARDS_PER_ROW = 5


def _card(card: KpiCard, compare: Compare, currency: str) -> None:
    delta = None if card.change_pct is None else signed_percent(card.change_pct)
    versus = "plan" if compare == Compare.TARGET else COMPARE_LABELS[compare].lower()
    st.metric(
        card.label,
        by_unit(card.value, card.unit, currency),
        delta=delta,
        delta_color="normal" if card.higher_is_better else "inverse",
        help=f"{card.label}: {by_unit(card.comparison, card.unit, currency)} in the "
        f"{versus}. Higher is {'better' if card.higher_is_better else 'worse'}.",
        border=True,
    )
    if card.target is not None:
        st.caption(
            f"Plan {by_unit(card.target, card.unit, currency)} · {percent(card.attainment, 0)}"
        )


def kpi_cards(summary: SummaryRead, currency: str) -> None:
    for first in range(0, len(summary.cards), CARDS_PER_ROW):
        row = summary.cards[first : first + CARDS_PER_ROW]
        for column, card in zip(st.columns(CARDS_PER_ROW), row, strict=False):
            with column:
                _card(card, summary.compare, currency)
    csv_button(frames.cards(summary), "kpi cards")


def revenue_to_date(summary: SummaryRead, currency: str) -> None:
    frame = frames.revenue_to_date(summary)
    figure = charts.bullet(frame, "period", "gci", "target", "GCI to date against plan")
    chart(figure, frame, "revenue to date")
    if frame["target"].isna().all():
        st.caption("No plan to compare with: plans show for tenant-wide roles once set.")
    else:
        parts = [f"{r.label}: {percent(r.attainment, 0)} of plan" for r in summary.revenue]
        st.caption(" · ".join(parts) + f" (GCI in {currency}).")


def pipeline_health(summary: SummaryRead) -> None:
    health = summary.pipeline_health
    frame = frames.health(summary)
    chart(charts.gauge(health.score, "Pipeline health (0-100)"), frame, "pipeline health")
    for part in health.components:
        st.progress(part.score, text=f"{part.name.replace('_', ' ')}: {part.detail}")
    with st.expander("How the score is computed"):
        st.write(health.formula)


def top_agents(summary: SummaryRead, currency: str) -> None:
    frame = frames.of(summary.top_agents, ["agent_id", "name", "gci", "closings"])
    if frame.empty:
        empty("No closings in this period, so no agent has GCI to rank. Try a longer period.")
        return
    figure = charts.bar(
        frame, "name", "gci", "Top agents by GCI", horizontal=True, money=True, key="agent_id"
    )
    points = chart(figure, frame, "top agents", select=True, height=280)
    for agent_id in selected(points, "customdata"):
        row = frame[frame["agent_id"] == int(agent_id)].iloc[0]
        st.write(
            f"**{row['name']}**: {money(row['gci'], currency)} GCI from "
            f"{int(row['closings'])} closing(s)."
        )
        st.page_link(
            "views/agents.py",
            label=f"Open {row['name']}'s scorecard",
            icon=":material/person:",
            query_params={"agent": str(int(agent_id))},
        )


def alert_centre(summary: SummaryRead) -> None:
    if not summary.alerts:
        empty(
            "No open alerts. Alerts appear here when an alert rule fires (rules are set "
            "under the alerts configuration by an admin)."
        )
        return
    icons = {"critical": ":material/error:", "warning": ":material/warning:"}
    for alert in summary.alerts:
        text = alert.title + (f" ({alert.metric})" if alert.metric else "")
        if alert.severity == "critical":
            st.error(text, icon=icons["critical"])
        elif alert.severity == "warning":
            st.warning(text, icon=icons["warning"])
        else:
            st.info(text, icon=":material/notifications:")


def units_note(summary: SummaryRead) -> str:
    money_cards = [c.label for c in summary.cards if c.unit == Unit.MONEY]
    return f"Money figures ({', '.join(money_cards)}) are in the tenant's currency."
