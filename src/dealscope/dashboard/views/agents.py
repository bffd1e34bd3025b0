"""Agents: the leaderboard, team comparison, quota pacing, and one agent's scorecard (click
a bar, pick a name, or open a link with ?agent=<id>)."""

from __future__ import annotations

import streamlit as st

from dealscope.client import Compare, Dimension, MetricQuery, SortBy
from dealscope.dashboard import charts, controls, frames, session
from dealscope.dashboard.data import fetch_agent, fetch_agents, fetch_metrics, fetch_teams
from dealscope.dashboard.formatting import count, minutes, money, percent
from dealscope.dashboard.widgets import chart, empty, fetch, freshness, selected, table, try_fetch

SORT_LABELS = {
    SortBy.GCI: "GCI",
    SortBy.DEALS: "Deals",
    SortBy.CONVERSION: "Conversion",
    SortBy.SPEED_TO_LEAD: "Speed to lead",
}
SORT_COLUMN = {
    SortBy.GCI: "gci",
    SortBy.DEALS: "deals",
    SortBy.CONVERSION: "conversion",
    SortBy.SPEED_TO_LEAD: "speed_to_lead_minutes",
}

user = session.require()
currency = user.me.tenant.currency
is_agent = user.me.agent_id is not None and not user.me.tenant_wide and user.me.team_id is None
st.title("My scorecard" if user.me.role.value == "agent" else "Agents")
view = controls.view_bar(user, compare=False)

sort_default = controls.param("sort", SortBy.GCI, SortBy, list(SortBy))
sort_by = st.segmented_control(
    "Rank by",
    list(SortBy),
    default=sort_default,
    format_func=lambda s: SORT_LABELS[s],
    key="p_sort",
    required=True,
)
controls.keep("sort", sort_by, SortBy.GCI)
snapshot = fetch(
    lambda: fetch_agents(user.client, user.key, view.period, sort_by), "the leaderboard"
)
board_read = snapshot.data
freshness(snapshot)

team_query = MetricQuery.over(controls.OPTIONS_LOOKBACK, ["new_leads"], dimensions=[Dimension.TEAM])
teams = try_fetch(lambda: fetch_metrics(user.client, user.key, team_query), "team names")
team_names = teams.data.labels.get("team", {}) if teams else {}
board = frames.leaderboard(board_read, team_names)
chosen_teams = view.filters.get(Dimension.TEAM, ())
if chosen_teams and not board.empty:
    board = board[board["team_id"].astype("Int64").astype(str).isin(chosen_teams)]
    st.caption(f"Filtered to {', '.join(team_names.get(t, t) for t in chosen_teams)}.")

if board.empty:
    empty("No agents to rank in this scope and period. Pick a longer period or clear filters.")
    st.stop()

st.subheader("Leaderboard")
column = SORT_COLUMN[sort_by]
top = board.dropna(subset=[column]).head(15)
if not top.empty:
    points = chart(
        charts.bar(
            top,
            "name",
            column,
            f"{SORT_LABELS[sort_by]} by agent",
            horizontal=True,
            money=column == "gci",
            percent=column == "conversion",
            key="agent_id",
            height=120 + 24 * len(top),
        ),
        top,
        "leaderboard chart",
        select=True,
    )
    for agent in selected(points, "customdata"):
        st.session_state["p_agent"] = int(agent)
table(
    board[
        [
            "rank",
            "name",
            "team",
            "gci",
            "sales_volume",
            "deals",
            "new_leads",
            "conversion",
            "speed_to_lead_minutes",
        ]
    ],
    "leaderboard",
    column_config={
        "gci": st.column_config.NumberColumn("GCI", format="dollar"),
        "sales_volume": st.column_config.NumberColumn("Volume", format="compact"),
        "conversion": st.column_config.NumberColumn("Conversion", format="percent"),
        "speed_to_lead_minutes": st.column_config.NumberColumn(
            "Speed to lead (min)", format="%.1f"
        ),
    },
)

if user.me.tenant_wide or user.me.team_id is not None:
    st.subheader("Team comparison")
    teams_snapshot = try_fetch(
        lambda: fetch_teams(user.client, user.key, view.period), "the team comparison"
    )
    if teams_snapshot is not None:
        comparison = frames.teams(teams_snapshot.data)
        chart(
            charts.bar(
                comparison,
                "team",
                ["gci", "gci_per_agent"],
                "GCI and GCI per agent by team",
                money=True,
            ),
            comparison,
            "team comparison",
        )
        table(
            comparison,
            "teams",
            column_config={
                "gci": st.column_config.NumberColumn("GCI", format="dollar"),
                "gci_per_agent": st.column_config.NumberColumn("GCI per agent", format="dollar"),
                "gci_share": st.column_config.NumberColumn("Share of GCI", format="percent"),
                "conversion": st.column_config.NumberColumn("Conversion", format="percent"),
                "attainment": st.column_config.NumberColumn("Plan attainment", format="percent"),
                "plan": st.column_config.NumberColumn("Plan", format="dollar"),
                "deals_won": st.column_config.NumberColumn("Deals won"),
                "speed_to_lead_median_minutes": st.column_config.NumberColumn(
                    "Speed to lead (min)", format="%.1f"
                ),
            },
        )

st.subheader("Quota pacing")
quota_query = MetricQuery.over(
    view.period,
    ["gci"],
    dimensions=[Dimension.AGENT],
    compare=Compare.TARGET,
    filters={d: list(v) for d, v in view.filters.items()},
)
quota = try_fetch(lambda: fetch_metrics(user.client, user.key, quota_query), "quota pacing")
if quota is not None:
    share = frames.elapsed_share(board_read.period_start, board_read.period_end, board_read.as_of)
    pacing = frames.quota_pacing(quota.data, share)
    if pacing.empty:
        empty("No agent has a GCI plan for this period; load agent targets to see pacing.")
    else:
        shown = pacing.head(20)
        chart(
            charts.bar(
                shown,
                "agent_name",
                "pace",
                "Pace against plan (1.0 = on pace)",
                horizontal=True,
                height=120 + 24 * len(shown),
            ),
            pacing,
            "quota pacing",
        )
        behind = int((pacing["pace"] < 1).sum())
        st.caption(
            f"{percent(share, 0)} of the period gone; {behind} of {len(pacing)} agents with a plan "
            "are behind pace."
        )

st.subheader("Scorecard")
ids = [int(a) for a in board["agent_id"]]
names = dict(zip(ids, board["name"], strict=True))
wanted = controls.param("agent", ids[0], int, ids)
agent_id = st.selectbox(
    "Agent",
    ids,
    index=ids.index(st.session_state.get("p_agent", wanted))
    if st.session_state.get("p_agent", wanted) in ids
    else 0,
    format_func=lambda a: names.get(a, str(a)),
)
controls.keep("agent", agent_id, None)
row = board[board["agent_id"] == agent_id].iloc[0]
c = st.columns(5)
c[0].metric("GCI", money(row["gci"], currency), border=True)
c[1].metric("Deals", count(row["deals"]), border=True)
c[2].metric("New leads", count(row["new_leads"]), border=True)
c[3].metric("Conversion", percent(row["conversion"]), border=True)
c[4].metric("Speed to lead", minutes(row["speed_to_lead_minutes"]), border=True)
detail = try_fetch(
    lambda: fetch_agent(user.client, user.key, agent_id, view.period), "the agent's scorecard"
)
if detail is not None:
    agent = detail.data
    versus = frames.agent_versus(agent)
    left, right = st.columns(2)
    with left:
        if len(versus.columns) > 2:
            chart(
                charts.bar(
                    versus,
                    "measure",
                    list(versus.columns[1:]),
                    f"{agent.name} against the averages",
                    money=True,
                ),
                versus,
                f"agent {agent_id} against averages",
            )
        else:
            st.caption("Team and brokerage averages are shown to managers and tenant-wide roles.")
        to_date = frames.of(agent.quota_to_date)
        if to_date["target"].notna().any() and (to_date["target"].fillna(0) > 0).any():
            chart(
                charts.bullet(to_date, "label", "gci", "target", "GCI against plan to date"),
                to_date,
                f"agent {agent_id} quota",
            )
        else:
            empty(f"{agent.name} has no GCI plan for this month, quarter or year.")
    with right:
        trend = frames.of(agent.trend)
        chart(
            charts.bar(trend, "month_start", "gci", f"{agent.name}: GCI by month", money=True),
            trend,
            f"agent {agent_id} trend",
        )
        activities = frames.of(agent.activities)
        if activities.empty or activities["count"].sum() == 0:
            empty("No activities logged in this period.")
        else:
            chart(
                charts.bar(activities, "activity_type", "count", "Activities in the period"),
                activities,
                f"agent {agent_id} activities",
            )
