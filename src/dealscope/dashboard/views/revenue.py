"""Revenue: totals, pacing against plan, the monthly series, breakdowns, concentration risk
and a filtered trend (filters and comparison from the controls)."""

from __future__ import annotations

import datetime as dt
from functools import partial

import streamlit as st

from dealscope.client import Compare, Grain, MetricQuery, PeriodQuery, RangeName
from dealscope.dashboard import charts, controls, frames, session
from dealscope.dashboard.data import fetch_metrics, fetch_revenue
from dealscope.dashboard.formatting import count, money, percent
from dealscope.dashboard.widgets import chart, empty, fetch, freshness, selected, table, try_fetch

user = session.require()
currency = user.me.tenant.currency
st.title("Revenue")
view = controls.view_bar(user)
snapshot = fetch(lambda: fetch_revenue(user.client, user.key, view.period), "revenue")
revenue = snapshot.data
totals = revenue.totals
st.caption(
    f"{view.describe()}: closings {revenue.period_start:%d %b} – {revenue.period_end:%d %b %Y}."
)
freshness(snapshot)

cols = st.columns(5)
cols[0].metric("GCI", money(totals.gci, currency), border=True)
cols[1].metric("Sales volume", money(totals.sales_volume, currency), border=True)
cols[2].metric("Company dollar", money(totals.company_dollar, currency), border=True)
cols[3].metric("Closings", count(totals.closings), border=True)
cols[4].metric("Average deal", money(totals.average_deal_size, currency), border=True)

pacing = revenue.pacing
left, right = st.columns(2)
with left:
    st.subheader("Pacing against plan")
    if pacing.target is None:
        empty(
            "No GCI plan to pace against: plans show for tenant-wide roles (admin, analyst, "
            "viewer) once targets are loaded for this period."
        )
    else:
        frame = frames.of([pacing])
        frame["label"] = "GCI"
        chart(
            charts.bullet(frame, "label", "gci", "target", "GCI against the period's plan"),
            frame,
            "pacing",
        )
        verdict = "ahead of" if (pacing.pace_ratio or 0) >= 1 else "behind"
        st.caption(
            f"{percent(pacing.attainment, 0)} of plan with {percent(pacing.elapsed_share, 0)} of "
            f"the period gone: {verdict} pace ({money(pacing.expected_by_now, currency)} "
            f"expected by now, pace ratio {pacing.pace_ratio or 0:.2f})."
        )
with right:
    st.subheader("Closed against open pipeline")
    cvp = revenue.closed_vs_pipeline
    a, b = st.columns(2)
    a.metric("Closed volume", money(cvp.closed_volume, currency), border=True)
    b.metric("Open pipeline value", money(cvp.pipeline_value, currency), border=True)
    st.caption(f"{count(cvp.open_deals)} deals open at the end of {revenue.as_of:%d %b %Y}.")

st.subheader("By month")
monthly = frames.of(revenue.monthly)
if monthly["closings"].sum() == 0:
    empty("No closings in this period. Pick a longer period to see the monthly series.")
else:
    points = chart(
        charts.bar(
            monthly,
            "month_start",
            ["gci", "company_dollar"],
            "GCI and company dollar",
            money=True,
            key="month_start",
        ),
        monthly,
        "monthly revenue",
        select=True,
    )
    for month in selected(points, "customdata"):
        start = dt.date.fromisoformat(str(month)[:10])
        end = (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
        month_period = PeriodQuery(RangeName.CUSTOM, start, min(end, revenue.period_end))
        query = MetricQuery.over(month_period, ["gci", "closings"], dimensions=["agent"])
        result = try_fetch(partial(fetch_metrics, user.client, user.key, query), "that month")
        if result is not None:
            st.markdown(f"**{start:%B %Y}**: GCI by agent")
            rows = frames.metric_rows(result.data, "gci").sort_values("value", ascending=False)
            table(rows, f"gci by agent {start:%Y-%m}")

st.subheader("Breakdowns")
tabs = st.tabs(["Agent", "Team", "Office", "Source", "Property type", "ZIP"])
sets = [
    revenue.by_agent,
    revenue.by_team,
    revenue.by_office,
    revenue.by_source,
    revenue.by_property_type,
    revenue.by_zip,
]
names = ["agent", "team", "office", "source", "property type", "zip"]
for tab, group, name in zip(tabs, sets, names, strict=True):
    with tab:
        frame = frames.breakdown(group)
        if frame.empty:
            empty(f"No closings by {name} in this period.")
            continue
        top = frame.head(15)
        chart(
            charts.bar(
                top,
                "label",
                "gci",
                f"GCI by {name} (top 15)",
                horizontal=True,
                money=True,
                height=120 + 24 * len(top),
            ),
            frame,
            f"gci by {name}",
        )

st.subheader("Concentration risk")
conc = revenue.concentration
if conc.agent_hhi is None:
    empty("No GCI in this period, so there is nothing to be concentrated.")
else:
    shares = frames.concentration(conc)
    left, right = st.columns([2, 1])
    with left:
        chart(
            charts.bar(shares, "measure", "share", "Share of GCI", percent=True),
            shares,
            "concentration",
        )
    with right:
        level = (conc.level or "ok").lower()
        message = (
            f"Agent HHI {conc.agent_hhi:.3f}: **{level}**. The top agent earns "
            f"{percent(conc.top_1_agents_share, 0)} of GCI, the top 5 "
            f"{percent(conc.top_5_agents_share, 0)}."
        )
        if level in ("high", "elevated"):
            st.warning(message, icon=":material/warning:")
        else:
            st.success(message, icon=":material/check_circle:")

st.subheader("Trend")
trend_query = MetricQuery.over(
    view.period,
    ["gci"],
    grain=Grain.MONTH
    if revenue.period_end.toordinal() - revenue.period_start.toordinal() > 62
    else Grain.WEEK,
    compare=view.compare,
    filters={d: list(v) for d, v in view.filters.items()},
)
trend = try_fetch(lambda: fetch_metrics(user.client, user.key, trend_query), "the GCI trend")
if trend is not None:
    rows = frames.metric_rows(trend.data, "gci")
    if rows.empty:
        empty("No GCI for these filters in this period.")
    else:
        compare_name = "plan" if view.compare == Compare.TARGET else "comparison"
        rows = rows.rename(columns={"value": "gci", "comparison": compare_name})
        filtered = ", ".join(f"{d.value}: {', '.join(v)}" for d, v in view.filters.items())
        title = "GCI per " + (trend_query.grain.value if trend_query.grain else "period")
        chart(
            charts.line(rows, "bucket", ["gci", compare_name], title, money=True), rows, "gci trend"
        )
        st.caption(f"Filtered by {filtered}." if filtered else "All teams, offices and sources.")

st.page_link(
    "views/forecast.py",
    label="Forecast: what is likely to close next, and the chance of the plan",
    icon=":material/trending_up:",
)
