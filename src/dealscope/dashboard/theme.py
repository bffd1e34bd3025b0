"""One look for every page: the palette of `.streamlit/config.toml`, a Plotly template that
uses it, and a little CSS for phones (390 px wide)."""

from __future__ import annotations

import plotly.graph_objects as go
import plotly.io as pio

PRIMARY = "#0F766E"  # teal, config.toml's primaryColor
TEXT = "#0F172A"
MUTED = "#64748B"
GRID = "#E2E8F0"
GOOD = "#15803D"
BAD = "#B91C1C"
WARN = "#B45309"
# Categorical colours: teal first, then well-separated hues that stay readable on white.
SERIES = ["#0F766E", "#2563EB", "#D97706", "#7C3AED", "#DB2777", "#0891B2", "#65A30D", "#475569"]
SEQUENTIAL = [[0.0, "#F0FDFA"], [0.5, "#2DD4BF"], [1.0, "#134E4A"]]
TEMPLATE = "dealscope"

pio.templates[TEMPLATE] = go.layout.Template(
    layout=go.Layout(
        font={"family": "Source Sans Pro, sans-serif", "color": TEXT, "size": 13},
        colorway=SERIES,
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        margin={"l": 8, "r": 8, "t": 64, "b": 8},
        xaxis={"gridcolor": GRID, "zerolinecolor": GRID, "automargin": True},
        yaxis={"gridcolor": GRID, "zerolinecolor": GRID, "automargin": True},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "right", "x": 1},
        hoverlabel={"font": {"family": "Source Sans Pro, sans-serif"}},
        title={"font": {"size": 15}, "x": 0, "xanchor": "left", "y": 0.98, "yanchor": "top"},
    )
)

# Phones: tighter padding, KPI values that wrap, tables that scroll instead of overflowing.
CSS = """
<style>
@media (max-width: 640px) {
  .block-container { padding-left: 0.75rem; padding-right: 0.75rem; padding-top: 2.5rem; }
  [data-testid="stMetricValue"] { font-size: 1.5rem; }
  h1 { font-size: 1.6rem !important; }
}
.st-key-plotly-warmup { display: none; }
[data-testid="stMetric"] { background: #F8FAFC; border-radius: 0.5rem; }
[data-testid="stMetricValue"] { font-size: 1.75rem; }
[data-testid="stMetricValue"] > div { overflow: visible; text-overflow: clip; }
[data-testid="stMetricLabel"] p { white-space: normal; }
</style>
"""
