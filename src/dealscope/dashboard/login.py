"""The sign-in page: email and password against the API's OAuth2 token endpoint."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from dealscope.client import ApiError, ApiUnavailable
from dealscope.dashboard import session
from dealscope.dashboard.widgets import explain


def _message(exc: ApiError) -> str:
    if exc.status_code == 401:
        return "Wrong email or password. Check both and try again."
    if exc.status_code == 423:
        return f"This account is locked after too many failed sign-ins: {exc.detail}."
    if exc.status_code == 400:
        return f"{exc.detail}. Enter your brokerage's tenant name under *More options*."
    if exc.status_code == 429:
        return "Too many sign-in attempts from here: wait a minute, then try again."
    return explain(exc, "sign-in")


def login_page() -> None:
    _, middle, _ = st.columns([1, 2, 1])
    with middle:
        st.title("DealScope")
        st.caption("Revenue intelligence for real-estate brokerages")
        notice = st.session_state.get(session.NOTICE)
        if notice:
            st.info(notice, icon=":material/info:")
        with st.form("sign-in", border=True):
            email = st.text_input("Email", autocomplete="username")
            password = st.text_input("Password", type="password", autocomplete="current-password")
            with st.expander("More options"):
                tenant = st.text_input(
                    "Tenant", help="Only when your email has accounts at several brokerages."
                )
            submitted = st.form_submit_button("Sign in", type="primary", width="stretch")
        if submitted:
            if not email or not password:
                st.error("Enter your email and password.", icon=":material/error:")
                return
            client = session.anonymous_client()
            try:
                client.login(email.strip(), password, tenant.strip() or None)
                me = client.me()
            except ApiUnavailable as exc:
                st.error(explain(exc, "sign-in"), icon=":material/cloud_off:")
                return
            except ApiError as exc:
                st.error(_message(exc), icon=":material/error:")
                return
            session.begin(client, me)
            st.rerun()
        st.caption(f"API: {session.api_url()}")
    # The browser fetches Plotly's script (several MB) the first time a chart is drawn:
    # an invisible chart here has it loaded while the user types, so the first page after
    # signing in draws at once.
    with st.container(key="plotly-warmup"):
        st.plotly_chart(go.Figure(layout={"height": 10}), config={"staticPlot": True})
