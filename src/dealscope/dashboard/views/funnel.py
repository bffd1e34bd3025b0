"""Funnel: conversion through chosen steps, by segment, time to convert, the bottleneck
against earlier periods, and an A/B comparison of two segments."""

from __future__ import annotations

import streamlit as st

from dealscope.client import FunnelBreakdown, FunnelOrder
from dealscope.dashboard import charts, controls, frames, session
from dealscope.dashboard.data import fetch_funnel
from dealscope.dashboard.formatting import count, days, percent, signed_percent
from dealscope.dashboard.widgets import chart, empty, fetch, freshness, table

STAGES = [
    "new",
    "contacted",
    "qualified",
    "appointment",
    "showing",
    "offer",
    "under_contract",
    "closed_won",
]
BREAKDOWNS = [None, *FunnelBreakdown]

user = session.require()
st.title("Funnel")
view = controls.view_bar(user, filters=False, compare=False)

with st.expander("Funnel settings", expanded=False, icon=":material/tune:"):
    left, right = st.columns(2)
    with left:
        default_steps = [s for s in (st.query_params.get("steps") or "").split(",") if s in STAGES]
        steps = st.multiselect(
            "Steps, in order", STAGES, default=default_steps or STAGES, key="p_steps"
        )
        window = st.number_input(
            "Conversion window (days)", 1, 3650, controls.param("window", 90, int), key="p_window"
        )
    with right:
        order = st.radio(
            "Order",
            list(FunnelOrder),
            horizontal=True,
            key="p_order",
            index=list(FunnelOrder).index(controls.param("order", FunnelOrder.STRICT, FunnelOrder)),
            format_func=lambda o: "Strict (in order)" if o == "strict" else "Any order",
        )
        breakdown = st.selectbox(
            "Break down by",
            BREAKDOWNS,
            key="p_breakdown",
            index=BREAKDOWNS.index(controls.param("breakdown", None, FunnelBreakdown, BREAKDOWNS)),
            format_func=lambda b: "Nothing" if b is None else b.value.title(),
        )
        seg_a = st.text_input(
            "Segment A",
            controls.param("a", "", str),
            key="p_a",
            placeholder="source:zillow or agent:12",
        )
        seg_b = st.text_input(
            "Segment B", controls.param("b", "", str), key="p_b", placeholder="source:referral"
        )
controls.keep("steps", ",".join(steps), ",".join(STAGES))
controls.keep("window", window, 90)
walk: FunnelOrder = order or FunnelOrder.STRICT
controls.keep("order", walk, FunnelOrder.STRICT)
controls.keep("breakdown", breakdown, None)
controls.keep("a", seg_a.strip(), "")
controls.keep("b", seg_b.strip(), "")
if len(steps) < 2:
    empty("Choose at least two steps for a funnel.")
    st.stop()
both = bool(seg_a.strip() and seg_b.strip())
snapshot = fetch(
    lambda: fetch_funnel(
        user.client,
        user.key,
        view.period,
        tuple(steps),
        int(window),
        walk,
        breakdown,
        seg_a.strip() if both else None,
        seg_b.strip() if both else None,
    ),
    "the funnel",
)
funnel = snapshot.data
freshness(snapshot)
steps_frame = frames.of(funnel.steps)
if steps_frame.empty or steps_frame["leads"].iloc[0] == 0:
    empty(
        f"No deal entered '{steps[0]}' in this period. Pick a longer period or another first step."
    )
    st.stop()

first, last = funnel.steps[0], funnel.steps[-1]
c = st.columns(3)
c[0].metric(f"Entered {first.step.replace('_', ' ')}", count(first.leads), border=True)
c[1].metric(f"Reached {last.step.replace('_', ' ')}", count(last.leads), border=True)
c[2].metric("Overall conversion", percent(last.overall_conversion), border=True)

left, right = st.columns(2)
with left:
    chart(charts.funnel(steps_frame, "step", "leads", "Steps"), steps_frame, "funnel steps")
with right:
    bottleneck = funnel.bottleneck
    st.subheader("Bottleneck")
    if bottleneck.change is not None and bottleneck.change < 0:
        st.warning(bottleneck.finding, icon=":material/trending_down:")
    else:
        st.info(bottleneck.finding, icon=":material/insights:")
    trends = frames.of(bottleneck.trends)
    if not trends.empty:
        trends["transition"] = trends["from_step"] + " → " + trends["step"]
        chart(
            charts.bar(
                trends,
                "transition",
                ["conversion", "baseline"],
                "Step conversion: this period vs previous 3",
                percent=True,
            ),
            trends,
            "step trends",
        )

ttc = funnel.time_to_convert
st.subheader("Time to convert")
if ttc.converted == 0:
    empty("No deal has reached the last step yet, so there is no time to convert.")
else:
    st.caption(
        f"{count(ttc.converted)} converted; median {days(ttc.median_days)}, middle half "
        f"{days(ttc.p25_days)} – {days(ttc.p75_days)}, 90% within {days(ttc.p90_days)}."
    )
    bins = frames.of(ttc.histogram)
    chart(charts.histogram(bins, "Days from first to last step"), bins, "time to convert")

if breakdown is not None:
    st.subheader(f"By {breakdown.value}")
    segments = frames.of(funnel.breakdown, ["key", "leads", "converted", "conversion"])
    if segments.empty:
        empty(f"No segments by {breakdown.value} in this period.")
    else:
        top = segments.sort_values("leads", ascending=False).head(20)
        chart(
            charts.bar(top, "key", "conversion", f"Conversion by {breakdown.value}", percent=True),
            segments,
            f"funnel by {breakdown.value}",
        )

st.subheader("A/B comparison")
comparison = funnel.comparison
if comparison is None:
    empty(
        "Enter two segments under *Funnel settings* (e.g. source:zillow and source:referral) "
        "to compare their conversion with a two-proportion z-test."
    )
else:
    rows = frames.of([comparison.a, comparison.b])
    table(rows, "ab segments")
    if comparison.difference is not None and comparison.ci_low is not None:
        chart(
            charts.interval(
                comparison.difference,
                comparison.ci_low,
                comparison.ci_high or 0,
                "Difference in conversion, 95% interval",
            ),
            rows,
            "ab difference",
        )
    verdict = "a significant" if comparison.significant else "no significant"
    st.caption(
        f"A − B = {signed_percent(comparison.difference)} (p = "
        f"{comparison.p_value if comparison.p_value is not None else float('nan'):.3f}): "
        f"{verdict} difference at the 5% level."
    )
