"""Executive summary: KPI cards, revenue to date against plan, pipeline health, top agents
and the alert centre; refreshes itself every few seconds."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from dealscope.dashboard import controls, session, summary_view
from dealscope.dashboard.data import fetch_summary
from dealscope.dashboard.widgets import fetch, freshness

REFRESH_SECONDS = 15
AGE_TICK_SECONDS = 5

user = session.require()
currency = user.me.tenant.currency
st.title("Executive summary")
view = controls.view_bar(user, filters=False)


@st.fragment(run_every=dt.timedelta(seconds=AGE_TICK_SECONDS))
def data_age(changed: str = "") -> None:
    """'as of 12 s ago', ticking between refreshes (a caption only: cheap to rerun)."""
    snapshot = st.session_state.get("summary_snapshot")
    if snapshot is not None:
        freshness(snapshot, live=f" · refreshes every {REFRESH_SECONDS} s{changed}")


@st.fragment(run_every=dt.timedelta(seconds=REFRESH_SECONDS))
def live_summary() -> None:
    snapshot = fetch(lambda: fetch_summary(user.client, view.period, view.compare), "the summary")
    summary = snapshot.data
    last = st.session_state.get("summary_version")
    st.session_state["summary_version"] = snapshot.data_version
    changed = (
        " · new data just arrived" if last is not None and last != snapshot.data_version else ""
    )
    scope = (
        "" if user.me.tenant_wide else " · your own figures" if user.me.agent_id else " · your team"
    )
    st.caption(
        f"{view.describe()}: {summary.period.start:%d %b %Y} – {summary.period.end:%d %b %Y}{scope}"
    )
    st.session_state["summary_snapshot"] = snapshot
    data_age(changed)
    summary_view.kpi_cards(summary, currency)

    left, right = st.columns(2)
    with left:
        st.subheader("Revenue to date")
        summary_view.revenue_to_date(summary, currency)
    with right:
        st.subheader("Pipeline health")
        summary_view.pipeline_health(summary)
    left, right = st.columns(2)
    with left:
        st.subheader("Top agents")
        summary_view.top_agents(summary, currency)
    with right:
        st.subheader("Alert centre")
        summary_view.alert_centre(summary)
    st.caption(summary_view.units_note(summary))


live_summary()
