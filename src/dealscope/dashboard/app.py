"""DealScope dashboard, home page: the API's status while the analytics pages are built."""

from __future__ import annotations

import streamlit as st

from dealscope.client import ApiError, ApiUnavailable, HealthRead
from dealscope.dashboard.data import api_url, fetch_health

st.set_page_config(page_title="DealScope", page_icon=":material/insights:", layout="wide")


def _status_panel(health: HealthRead) -> None:
    if health.status == "ok":
        st.success("The API and its warehouse are answering.", icon=":material/check_circle:")
    else:
        st.warning(
            "The API is up but degraded:\n\n" + "\n".join(f"- {p}" for p in health.problems),
            icon=":material/warning:",
        )
    backend, revision, version, data = st.columns(4)
    backend.metric("Warehouse backend", health.backend)
    revision.metric("Schema revision", health.schema_revision or "none")
    version.metric("API version", health.version)
    data.metric("Data reachable", "yes" if health.database == "ok" else "no")
    st.caption(f"Redis cache: {health.redis}.")


def _api_problem(message: str) -> None:
    st.error(message, icon=":material/cloud_off:")
    # A click reruns the page, and failed fetches are never cached, so that is the retry.
    st.button("Retry", type="primary")


st.title("DealScope")
st.caption("Revenue intelligence for real-estate brokerages")

url = api_url()
st.subheader("System status")
try:
    _status_panel(fetch_health(url))
except ApiUnavailable as exc:
    _api_problem(
        f"The dashboard cannot reach the DealScope API at **{url}** ({exc.reason}).\n\n"
        "Start it with `dealscope serve` (or run everything with `dealscope demo`), or set "
        "`DEALSCOPE_API_URL` to where your API runs, then retry."
    )
except ApiError as exc:
    _api_problem(
        f"The DealScope API at **{url}** answered with an error: {exc}.\n\n"
        "Its log has the details; check that `DEALSCOPE_API_URL` points at a DealScope API."
    )
else:
    st.caption(f"API: {url} · [OpenAPI docs]({url}/docs)")

st.subheader("Analytics")
st.info(
    "The analytics pages (executive summary, pipeline, agent scorecards, funnel, forecast, "
    "attribution and market) arrive with the next issues. Every number they show will come "
    "through this same API, so roles and tenant isolation apply to the dashboard too.",
    icon=":material/construction:",
)
