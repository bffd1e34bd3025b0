"""Anomalies: unusual days in new leads, GCI, speed to lead and webhook failures. Each
series is drawn day by day with the range its trend and weekday pattern expected on each
flagged day, the flagged days marked; then the list, and the days unusual across series."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dealscope.client import ApiError, Grain, MetricQuery, RangeName
from dealscope.client.ops_models import AnomaliesRead, AnomalyRead
from dealscope.dashboard import frames, session, theme
from dealscope.dashboard.controls import keep, param
from dealscope.dashboard.formatting import count, label
from dealscope.dashboard.widgets import chart, empty, fetch, table

DAYS = [14, 30, 60, 90]
TITLES = {
    "new_leads": "New leads",
    "gci": "GCI",
    "speed_to_lead_median_minutes": "Speed to lead (median minutes)",
    "webhook_failures": "Webhook failures",
}
SHORT = TITLES | {"speed_to_lead_median_minutes": "Speed to lead"}
SPIKE, DROP, BAND = "#d62728", "#1f77b4", "rgba(120, 120, 120, 0.35)"


def _daily(metric: str, found: AnomaliesRead) -> pd.DataFrame | None:
    """The series' days from the first day examined to as_of (None when the metric API
    has no such series, e.g. webhook failures)."""
    query = MetricQuery(
        metrics=[metric],
        range=RangeName.CUSTOM,
        start=found.start,
        end=found.as_of,
        grain=Grain.DAY,
        as_of=found.as_of,
    )
    try:
        result = user.client.query_metrics(query).data
    except ApiError:
        return None
    rows = frames.metric_rows(result, metric)
    if rows.empty or "bucket" not in rows:
        return None
    return rows[["bucket", "value"]].rename(columns={"bucket": "day"})


def figure(
    title: str, daily: pd.DataFrame | None, flagged: list[AnomalyRead], money: bool
) -> go.Figure:
    """The daily line, the expected range of each flagged day as a grey bar from lower to
    upper with its expected value, and the flagged days marked (red: spike, blue: drop)."""
    fig = go.Figure()
    fig.update_layout(template=theme.TEMPLATE, title=title, height=320)
    if daily is not None:
        fig.add_scatter(x=daily["day"], y=daily["value"], name="Measured", mode="lines",
                        line={"color": "#555", "width": 1.5})  # fmt: skip
    if flagged:
        fig.add_scatter(
            x=[a.day for a in flagged],
            y=[a.expected for a in flagged],
            name="Expected range",
            mode="markers",
            marker={"symbol": "line-ew-open", "size": 14, "color": "#777"},
            error_y={
                "type": "data",
                "symmetric": False,
                "array": [a.upper - a.expected for a in flagged],
                "arrayminus": [a.expected - a.lower for a in flagged],
                "color": BAND,
                "thickness": 10,
                "width": 0,
            },
            hovertemplate="%{x|%d %b}: expected %{y:,.1f}<extra></extra>",
        )
        fig.add_scatter(
            x=[a.day for a in flagged],
            y=[a.value for a in flagged],
            name="Flagged day",
            mode="markers",
            marker={
                "size": 11,
                "color": [SPIKE if a.direction == "spike" else DROP for a in flagged],
                "line": {"color": "white", "width": 1},
            },
            customdata=[[a.direction, a.score] for a in flagged],
            hovertemplate="%{x|%d %b}: %{y:,.1f} (%{customdata[0]}, z=%{customdata[1]:.1f})"
            "<extra></extra>",
        )
    if money:
        fig.update_yaxes(tickprefix="$", tickformat="~s")
    fig.update_layout(
        legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 1, "xanchor": "right"}
    )
    return fig


user = session.require()
st.title("Anomalies")
left, right = st.columns(2)
days = left.selectbox(
    "Days examined", DAYS, index=DAYS.index(param("days", 30, int, DAYS)), key="p_days"
)
keep("days", days, 30)
threshold = right.slider(
    "Flag beyond (robust z-score)",
    2.0,
    6.0,
    param("z", 3.5, float, [x / 2 for x in range(4, 13)]),
    0.5,
    key="p_z",
)
keep("z", threshold, 3.5)
found = fetch(lambda: user.client.anomalies(days=days, threshold=threshold), "the anomalies")
st.caption(
    f"{found.start:%d %b %Y} – {found.as_of:%d %b %Y}. Each series is judged against its own "
    "trend and weekday pattern; a day beyond the threshold is flagged."
)
c = st.columns(3)
c[0].metric("Unusual days", count(len(found.anomalies)), border=True)
c[1].metric("Spikes", count(sum(a.direction == "spike" for a in found.anomalies)), border=True)
c[2].metric("Drops", count(sum(a.direction == "drop" for a in found.anomalies)), border=True)
for metric, why in found.skipped.items():
    st.info(f"{TITLES.get(metric, label(metric))}: not examined ({why}).", icon=":material/info:")

grid = st.columns(2)
for i, metric in enumerate(found.metrics):
    if i and i % 2 == 0:  # a row per pair: on a phone the series keep their order
        grid = st.columns(2)
    flagged = sorted((a for a in found.anomalies if a.metric == metric), key=lambda a: a.day)
    with grid[i % 2]:
        title = TITLES.get(metric, label(metric))
        daily = None if metric == "webhook_failures" else _daily(metric, found)
        if daily is None and not flagged:
            empty(f"{title}: no unusual day, and no daily series to draw.")
            continue
        frame = daily if daily is not None else pd.DataFrame({"day": [], "value": []})
        flags = pd.DataFrame(
            [
                {"day": a.day, "expected": a.expected, "lower": a.lower, "upper": a.upper}
                for a in flagged
            ],
            columns=["day", "expected", "lower", "upper"],
        )
        behind = frame.merge(flags, on="day", how="outer") if not flags.empty else frame
        chart(figure(title, daily, flagged, metric == "gci"), behind, f"anomalies {metric}")

st.subheader("Unusual days")
if found.anomalies:
    listed = frames.of(
        found.anomalies,
        ["day", "metric", "direction", "value", "expected", "lower", "upper", "score"],
    )
    listed["metric"] = [SHORT.get(m, m) for m in listed["metric"]]
    table(
        listed,
        "anomalies",
        column_config={
            c: st.column_config.NumberColumn(format="%.1f")
            for c in ("value", "expected", "lower", "upper", "score")
        },
    )
else:
    empty(
        f"No day since {found.start:%d %b} was beyond the threshold. Lower it to see the "
        "closest calls."
    )
if found.combined:
    st.subheader("Unusual across series")
    combined = pd.DataFrame(
        [
            {"day": c.day, "score": c.score, "driver": TITLES.get(c.driver, c.driver)}
            | {TITLES.get(k, k): v for k, v in c.scores.items()}
            for c in found.combined
        ]
    )
    table(combined, "anomalies across series")
