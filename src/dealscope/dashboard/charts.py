"""Plotly figures from tidy frames, all in the dashboard's theme. No Streamlit here: a page
draws them with `widgets.chart`, which adds the CSV export and the drill-down."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go

from dealscope.dashboard import theme
from dealscope.dashboard.formatting import label

DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def _figure(title: str, height: int = 340) -> go.Figure:
    figure = go.Figure()
    figure.update_layout(template=theme.TEMPLATE, title=title, height=height)
    return figure


def bar(
    frame: pd.DataFrame,
    x: str,
    y: str | Sequence[str],
    title: str,
    *,
    horizontal: bool = False,
    money: bool = False,
    percent: bool = False,
    stacked: bool = False,
    key: str | None = None,
    height: int = 340,
) -> go.Figure:
    """Bars of one or more value columns `y` by `x`; `key` goes into each point's
    customdata, so a click names the row behind it."""
    figure = _figure(title, height)
    columns = [y] if isinstance(y, str) else list(y)
    for column in columns:
        data = (
            {"x": frame[column], "y": frame[x]}
            if horizontal
            else {"x": frame[x], "y": frame[column]}
        )
        figure.add_bar(
            **data,
            name=label(column),
            orientation="h" if horizontal else "v",
            customdata=frame[key] if key else None,
        )
    value_axis = "xaxis" if horizontal else "yaxis"
    fmt: dict[str, object] = {}
    if money:
        fmt = {"tickprefix": "$", "tickformat": "~s"}
    elif percent:
        fmt = {"tickformat": ".0%", "rangemode": "tozero"}
    figure.update_layout({value_axis: fmt}, barmode="stack" if stacked else "group")
    if horizontal:
        figure.update_yaxes(autorange="reversed", type="category")
    if len(columns) == 1:
        figure.update_layout(showlegend=False)
    return figure


def line(
    frame: pd.DataFrame,
    x: str,
    y: str | Sequence[str],
    title: str,
    *,
    money: bool = False,
    percent: bool = False,
    area: bool = False,
    color: str | None = None,
    height: int = 340,
) -> go.Figure:
    """Lines of value columns `y` over `x`; with `color`, one line per value of that column."""
    figure = _figure(title, height)
    columns = [y] if isinstance(y, str) else list(y)
    if color is not None:
        for name, part in frame.groupby(color, sort=False):
            figure.add_scatter(
                x=part[x],
                y=part[columns[0]],
                name=str(name),
                mode="lines",
                stackgroup="one" if area else None,
            )
    else:
        for column in columns:
            figure.add_scatter(
                x=frame[x],
                y=frame[column],
                name=label(column),
                mode="lines+markers",
                fill="tozeroy" if area else None,
            )
    if money:
        figure.update_yaxes(tickprefix="$", tickformat="~s")
    elif percent:
        figure.update_yaxes(tickformat=".0%")
    return figure


def funnel(frame: pd.DataFrame, stage: str, value: str, title: str) -> go.Figure:
    figure = _figure(title, height=360)
    figure.add_funnel(
        y=[label(s) for s in frame[stage]],
        x=frame[value],
        textinfo="value+percent initial",
        marker={"color": theme.PRIMARY},
        customdata=frame[stage],
    )
    return figure


def sankey(flows: pd.DataFrame, title: str) -> go.Figure:
    """Stage-to-stage moves: columns from_stage, to_stage, deals."""
    nodes = list(dict.fromkeys([*flows["from_stage"], *flows["to_stage"]]))
    index = {name: i for i, name in enumerate(nodes)}
    colors = [theme.BAD if n == "lost" else theme.PRIMARY for n in nodes]
    figure = _figure(title, height=420)
    figure.add_trace(
        go.Sankey(
            node={"label": [label(n) for n in nodes], "color": colors, "pad": 14},
            link={
                "source": [index[s] for s in flows["from_stage"]],
                "target": [index[t] for t in flows["to_stage"]],
                "value": flows["deals"],
                "color": "rgba(15,118,110,0.25)",
            },
        )
    )
    return figure


def heatmap(counts: Sequence[Sequence[int]], title: str) -> go.Figure:
    """counts[weekday][hour] as a weekday x hour heatmap."""
    figure = _figure(title, height=300)
    figure.add_heatmap(
        z=counts,
        x=[f"{h:02d}" for h in range(24)],
        y=DAYS,
        colorscale=theme.SEQUENTIAL,
        hovertemplate="%{y} %{x}:00 — %{z}<extra></extra>",
        colorbar={"thickness": 10},
    )
    figure.update_yaxes(autorange="reversed")
    return figure


def donut(frame: pd.DataFrame, names: str, values: str, title: str) -> go.Figure:
    figure = _figure(title, height=300)
    figure.add_pie(
        labels=[label(str(n)) for n in frame[names]],
        values=frame[values],
        hole=0.55,
        sort=False,
        customdata=frame[names],
        textinfo="label+percent",
    )
    figure.update_layout(showlegend=False)
    return figure


def gauge(score: float, title: str) -> go.Figure:
    """A 0-100 score: red below 50, amber to 70, green above."""
    figure = _figure(title, height=260)
    figure.add_indicator(
        mode="gauge+number",
        value=score,
        gauge={
            "axis": {"range": [0, 100]},
            "bar": {"color": theme.PRIMARY},
            "steps": [
                {"range": [0, 50], "color": "#FEE2E2"},
                {"range": [50, 70], "color": "#FEF3C7"},
                {"range": [70, 100], "color": "#DCFCE7"},
            ],
        },
    )
    return figure


def bullet(frame: pd.DataFrame, name: str, actual: str, target: str, title: str) -> go.Figure:
    """Actual against plan per row: bars for the actual, diamonds for the plan."""
    figure = _figure(title, height=90 + 50 * max(1, len(frame)))
    figure.add_bar(
        y=frame[name],
        x=frame[actual],
        orientation="h",
        name="Actual",
        marker={"color": theme.PRIMARY},
    )
    if frame[target].notna().any():
        figure.add_scatter(
            y=frame[name],
            x=frame[target],
            mode="markers",
            name="Plan",
            marker={"symbol": "diamond", "size": 14, "color": theme.TEXT},
        )
    figure.update_xaxes(tickprefix="$", tickformat="~s")
    figure.update_yaxes(autorange="reversed", type="category")
    return figure


def histogram(frame: pd.DataFrame, title: str) -> go.Figure:
    """Pre-binned counts: columns low_days, high_days, leads."""
    figure = _figure(title, height=300)
    figure.add_bar(
        x=(frame["low_days"] + frame["high_days"]) / 2,
        y=frame["leads"],
        width=frame["high_days"] - frame["low_days"],
        marker={"color": theme.PRIMARY, "line": {"color": "white", "width": 1}},
        hovertemplate="%{x:.0f} days: %{y}<extra></extra>",
    )
    figure.update_xaxes(title="days to convert")
    return figure


def interval(estimate: float, low: float, high: float, title: str) -> go.Figure:
    """A difference with its 95% interval against zero (the A/B result)."""
    figure = _figure(title, height=200)
    figure.add_scatter(
        x=[estimate],
        y=["A − B"],
        mode="markers",
        error_x={
            "type": "data",
            "symmetric": False,
            "array": [high - estimate],
            "arrayminus": [estimate - low],
        },
        marker={"size": 14, "color": theme.PRIMARY},
    )
    figure.add_vline(x=0, line_dash="dot", line_color=theme.MUTED)
    figure.update_xaxes(tickformat="+.0%")
    return figure


def fan(frame: pd.DataFrame, title: str) -> go.Figure:
    """A P10-P90 band around the P50 line (columns end, p10, p50, p90)."""
    figure = _figure(title, height=340)
    figure.add_scatter(
        x=frame["end"],
        y=frame["p90"],
        mode="lines",
        line={"width": 0},
        name="P90",
        showlegend=False,
    )
    figure.add_scatter(
        x=frame["end"],
        y=frame["p10"],
        mode="lines",
        line={"width": 0},
        fill="tonexty",
        fillcolor="rgba(15,118,110,0.18)",
        name="P10–P90",
    )
    figure.add_scatter(
        x=frame["end"],
        y=frame["p50"],
        mode="lines+markers",
        name="P50",
        line={"color": theme.PRIMARY},
    )
    figure.update_yaxes(tickprefix="$", tickformat="~s")
    return figure
