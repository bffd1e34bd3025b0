"""What the pages show, fetched from the API through cached functions."""

from __future__ import annotations

import streamlit as st

from dealscope.client import DealScopeClient, HealthRead
from dealscope.config import Settings

HEALTH_TTL_SECONDS = 10


def api_url() -> str:
    """Where the API is: DEALSCOPE_API_URL, else the default local address."""
    return Settings().resolved_api_url


@st.cache_data(ttl=HEALTH_TTL_SECONDS, show_spinner=False)
def fetch_health(url: str) -> HealthRead:
    """The API's health report (errors are raised, and Streamlit does not cache them)."""
    with DealScopeClient(url, timeout=5.0) as client:
        return client.health()
