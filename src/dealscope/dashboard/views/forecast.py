"""Forecast: the Monte Carlo fan chart of what closes next, its density, the chance of
reaching a target, worst/expected/best scenarios, and how past forecasts did."""

from __future__ import annotations

import streamlit as st

from dealscope.dashboard import charts, controls, frames, session
from dealscope.dashboard.data import fetch_accuracy, fetch_forecast
from dealscope.dashboard.formatting import money, percent
from dealscope.dashboard.widgets import chart, empty, fetch, freshness, table, try_fetch

HORIZONS = [30, 60, 90, 180, 365]
SCENARIOS = ["expected", "best", "worst"]

user = session.require()
currency = user.me.tenant.currency
st.title("Forecast")
left, middle, right = st.columns(3)
horizon = (
    left.segmented_control(
        "Horizon (days)",
        HORIZONS,
        default=controls.param("horizon", 90, int, HORIZONS),
        key="p_horizon",
        required=True,
    )
    or 90
)
scenario = middle.selectbox(
    "Scenario",
    SCENARIOS,
    index=SCENARIOS.index(controls.param("scenario", "expected", str, SCENARIOS)),
    format_func=str.title,
    key="p_scenario",
)
target = right.number_input(
    f"GCI target over the horizon ({currency})",
    min_value=0.0,
    step=10_000.0,
    value=controls.param("target", 0.0, float),
    key="p_target",
    help="The chance of reaching it is shown; 0 for none.",
)
controls.keep("horizon", horizon, 90)
controls.keep("scenario", scenario, "expected")
controls.keep("target", int(target) if target else None, None)

snapshot = fetch(
    lambda: fetch_forecast(user.client, user.key, int(horizon), scenario, target or None),
    "the forecast",
)
forecast = snapshot.data
freshness(snapshot)
st.caption(
    f"GCI closing {forecast.period_start:%d %b} – {forecast.period_end:%d %b %Y}, from "
    f"{forecast.iterations:,} simulated futures of the open pipeline and new business "
    f"({forecast.scenario.name} scenario)."
)
for warning in forecast.warnings:
    st.warning(warning, icon=":material/warning:")

total = forecast.total
c = st.columns(4)
c[0].metric("Expected (P50)", money(total.p50, currency), border=True)
c[1].metric(
    "Likely range (P10–P90)",
    f"{money(total.p10, currency)} – {money(total.p90, currency)}",
    border=True,
)
c[2].metric("From open pipeline", money(forecast.pipeline_mean, currency), border=True)
c[3].metric(
    "Chance of target",
    percent(forecast.probability_of_target, 0) if target else "—",
    border=True,
    help="Share of simulated futures reaching the target.",
)

left, right = st.columns(2)
with left:
    fan = frames.fan(forecast)
    chart(
        charts.fan(fan, f"Cumulative GCI, next {forecast.horizon_days} days"), fan, "forecast fan"
    )
with right:
    density = frames.density(forecast)
    figure = charts.bar(density, "middle", "futures", "How the total could land", money=False)
    if target:
        figure.add_vline(x=target, line_dash="dash", annotation_text="target")
    figure.update_xaxes(tickprefix="$", tickformat="~s", title="GCI over the horizon")
    chart(figure, density, "forecast density")

st.subheader("Scenarios")
outcomes = frames.scenarios(forecast)
if outcomes.empty:
    empty("No scenario comparison came with this forecast.")
else:
    chart(
        charts.bar(outcomes, "scenario", ["p10", "p50", "p90"], "Total by scenario", money=True),
        outcomes,
        "forecast scenarios",
    )
drivers = forecast.drivers
pipeline_worth = money(drivers.open_pipeline_amount, currency)
typical = money(drivers.typical_deal_revenue, currency)
st.caption(
    f"Drivers: {drivers.open_deals:,} open deals worth {pipeline_worth}; "
    f"{drivers.expected_new_leads:,.0f} new leads expected, converting at "
    f"{percent(drivers.new_lead_conversion)}; a typical won deal brings {typical}."
)

st.subheader("Forecast accuracy")
accuracy = try_fetch(lambda: fetch_accuracy(user.client, user.key), "the forecast accuracy")
if accuracy is not None:
    scores = frames.of(accuracy.scores)
    if scores.empty:
        empty(
            "No forecast has come due yet: accuracy appears once forecasts issued (or backtested) "
            "reach the end of their period."
        )
    else:
        chart(
            charts.bar(scores, "horizon_days", "mape", "Error (MAPE) by horizon", percent=True),
            scores,
            "forecast accuracy",
        )
        recent = frames.of(accuracy.recent)
        if not recent.empty:
            table(recent, "scored forecasts")
