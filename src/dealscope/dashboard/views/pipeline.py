"""Pipeline: the stage funnel, the Sankey of stage moves, velocity, aging, source mix and
when leads arrive; click a stage or a source for the rows behind it."""

from __future__ import annotations

import streamlit as st

from dealscope.dashboard import charts, controls, frames, session
from dealscope.dashboard.data import fetch_pipeline
from dealscope.dashboard.formatting import count, days, label, percent
from dealscope.dashboard.widgets import chart, empty, fetch, freshness, selected, table

user = session.require()
st.title("Pipeline")
view = controls.view_bar(user, filters=False, compare=False)
snapshot = fetch(lambda: fetch_pipeline(user.client, user.key, view.period), "the pipeline")
pipeline = snapshot.data
st.caption(
    f"{view.describe()}: deals created {pipeline.period_start:%d %b} – "
    f"{pipeline.period_end:%d %b %Y} (the cohort), open pipeline at the end of "
    f"{pipeline.as_of:%d %b %Y}."
)
freshness(snapshot)

open_deals = sum(s.leads for s in pipeline.aging)
won = sum(c.won for c in pipeline.conversion_by_source)
c1, c2, c3, c4 = st.columns(4)
c1.metric("New deals (cohort)", count(pipeline.cohort_leads), border=True)
c2.metric("Won so far", count(won), border=True)
c3.metric(
    "Cohort win rate",
    percent(won / pipeline.cohort_leads if pipeline.cohort_leads else None),
    border=True,
)
c4.metric("Open deals now", count(open_deals), border=True)

if pipeline.cohort_leads == 0:
    empty(
        "No deals were created in this period, so the funnel, flows and velocity are empty. "
        "Pick a longer period above, or check that your CRM is sending new leads."
    )
else:
    left, right = st.columns(2)
    with left:
        funnel = frames.of(pipeline.funnel)
        points = chart(
            charts.funnel(funnel, "stage", "leads", "Stage funnel"),
            funnel,
            "stage funnel",
            select=True,
        )
        drop = frames.of(pipeline.drop_off)
        for stage in selected(points, "customdata"):
            st.markdown(f"**{label(str(stage))}**: what became of the deals that reached it")
            table(drop[drop["stage"] == stage], f"drop-off {stage}")
    with right:
        flows = frames.of(pipeline.flows)
        if flows.empty:
            empty("No stage moves yet for this cohort.")
        else:
            chart(charts.sankey(flows, "Stage flows (incl. lost)"), flows, "stage flows")

left, right = st.columns(2)
with left:
    velocity = frames.of(pipeline.velocity)
    if velocity["exits"].sum() == 0:
        empty("No deal left a stage in this period, so there is no time-in-stage to show.")
    else:
        chart(
            charts.bar(
                velocity, "stage", ["median_days", "p90_days"], "Days in stage (median, p90)"
            ),
            velocity,
            "stage velocity",
        )
        slowest = velocity.sort_values("median_days", ascending=False).iloc[0]
        st.caption(
            f"Slowest stage: {label(slowest['stage'])}, median {days(slowest['median_days'])}."
        )
with right:
    aging = frames.of(pipeline.aging)
    temperature = frames.of(pipeline.temperature)
    if open_deals == 0:
        empty("No deals are open at the end of this period.")
    else:
        a, b = st.columns(2)
        with a:
            chart(charts.donut(aging, "name", "leads", "Open deals by age (days)"), aging, "aging")
        with b:
            chart(
                charts.donut(temperature, "name", "leads", "Temperature"),
                temperature,
                "temperature",
            )

st.subheader("Source mix")
volume = frames.source_volume(pipeline)
if volume.empty or volume["leads"].sum() == 0:
    empty("No new leads in this period, so there is no source mix to show.")
else:
    figure = charts.line(
        volume,
        "bucket_start",
        "leads",
        f"New leads by source, per {pipeline.grain.value}",
        color="source",
        area=True,
    )
    chart(figure, volume, "source mix")
    conversion = frames.of(pipeline.conversion_by_source, ["key", "leads", "won", "conversion"])
    if conversion["won"].sum() == 0:
        empty(
            "None of this period's new deals has been won yet, so sources cannot be compared "
            "on win rate: deals take weeks to close. Pick 90D or YTD above."
        )
    else:
        points = chart(
            charts.bar(
                conversion, "key", "conversion", "Win rate by source", percent=True, key="key"
            ),
            conversion,
            "conversion by source",
            select=True,
        )
        for source in selected(points, "customdata"):
            st.markdown(f"**{source}**: new leads per {pipeline.grain.value}")
            table(volume[volume["source"] == source], f"volume {source}")

st.subheader("When leads arrive and when agents reach out")
left, right = st.columns(2)
with left:
    arrivals = pipeline.arrivals_heatmap
    grid = frames.heatmap(arrivals.counts)
    chart(
        charts.heatmap(arrivals.counts, f"Lead arrivals ({arrivals.total:,})"),
        grid,
        "arrivals heatmap",
    )
with right:
    outbound = pipeline.outbound_heatmap
    grid = frames.heatmap(outbound.counts)
    chart(
        charts.heatmap(outbound.counts, f"Outbound activity ({outbound.total:,})"),
        grid,
        "outbound heatmap",
    )
st.caption(f"Hours in the tenant's time zone ({pipeline.timezone}).")
