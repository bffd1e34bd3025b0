"""Speed to lead: how fast new leads hear from a person, SLA breaches, and the win rate by
response time."""

from __future__ import annotations

import streamlit as st

from dealscope.dashboard import charts, controls, frames, session
from dealscope.dashboard.data import fetch_speed
from dealscope.dashboard.formatting import count, minutes, percent
from dealscope.dashboard.widgets import chart, empty, fetch, freshness

user = session.require()
st.title("Speed to lead")
view = controls.view_bar(user, filters=False, compare=False)
sla = st.number_input(
    "Response target (minutes)", 1, 10_080, controls.param("sla", 5, int), key="p_sla"
)
controls.keep("sla", sla, 5)
snapshot = fetch(
    lambda: fetch_speed(user.client, user.key, view.period, float(sla)), "speed to lead"
)
speed = snapshot.data
freshness(snapshot)
overall = speed.overall
if overall.leads == 0:
    empty("No new leads in this period, so there is no response time to measure.")
    st.stop()

c = st.columns(4)
c[0].metric("New leads", count(overall.leads), border=True)
c[1].metric("Median response", minutes(overall.median_minutes), border=True)
c[2].metric("90th percentile", minutes(overall.p90_minutes), border=True)
c[3].metric(f"Within {sla} min", percent(speed.sla.within_share), border=True)

left, right = st.columns(2)
with left:
    shares = frames.sla(speed.sla)
    chart(
        charts.donut(shares, "outcome", "leads", f"Against the {sla}-minute target"), shares, "sla"
    )
with right:
    buckets = frames.of(speed.win_rate_by_response)
    chart(
        charts.bar(buckets, "bucket", "win_rate", "Win rate by response time", percent=True),
        buckets,
        "win rate by response",
    )

sources = frames.of(speed.by_source, ["key", "leads", "contacted", "median_minutes", "p90_minutes"])
chart(
    charts.bar(sources, "key", "median_minutes", "Median response by source (minutes)"),
    sources,
    "response by source",
)
hours = frames.of(speed.by_hour, ["hour", "leads", "median_minutes", "p90_minutes"])
chart(
    charts.line(
        hours,
        "hour",
        ["median_minutes", "p90_minutes"],
        f"Response by hour of arrival ({speed.timezone}), minutes",
    ),
    hours,
    "response by hour",
)
