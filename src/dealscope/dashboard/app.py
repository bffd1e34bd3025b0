"""DealScope dashboard: sign-in, role-aware navigation, and the analytics pages (a client of
the API only; run it with `dealscope dashboard`)."""

from __future__ import annotations

import contextlib
from typing import Any

import streamlit as st

from dealscope.client import ApiError, ApiUnavailable
from dealscope.dashboard import controls, session, theme
from dealscope.dashboard.login import login_page
from dealscope.dashboard.navigation import (
    ANALYTICS,
    OPERATIONS,
    PAGES_DIR,
    SETTINGS,
    pages_for,
)

st.set_page_config(
    page_title="DealScope", page_icon=":material/insights:", layout="wide",
    initial_sidebar_state="auto",
)  # fmt: skip
st.html(theme.CSS)


def _sign_out() -> None:
    signed_in = session.current()
    if signed_in is not None:
        # The tokens are forgotten here either way; on the server they expire on their own.
        with contextlib.suppress(ApiError, ApiUnavailable):
            signed_in.client.logout()
    session.end("You have signed out.")
    st.query_params.clear()


user = session.current()
if user is None:
    # Every page's address shows the sign-in form, so a shared link (page and view in its
    # query string) opens where it points once its reader has signed in.
    sign_in = st.Page(login_page, title="Sign in", icon=":material/login:", default=True)
    aliases = [
        st.Page(login_page, title=spec.title, url_path=spec.url_path)
        for spec in (*ANALYTICS, *OPERATIONS, SETTINGS)
    ]
    st.navigation([sign_in, *aliases], position="hidden").run()
    st.stop()

sections: dict[str, list[Any]] = {}
for spec in pages_for(user.me):
    sections.setdefault(spec.section, []).append(
        st.Page(PAGES_DIR / spec.file, title=spec.title, icon=spec.icon, url_path=spec.url_path)
    )
page = st.navigation(sections)

with st.sidebar:
    st.markdown(f"**{user.me.full_name}**  \n{user.me.tenant.name}")
    st.caption(f"Role: {user.me.role.value} · {user.me.email or 'API key'}")
    st.button(
        "Sign out", icon=":material/logout:", width="stretch", key="sign-out", on_click=_sign_out
    )

if st.session_state.get("ds_page") != page.url_path:
    st.session_state["ds_page"] = page.url_path
    controls.reset_page_params()
page.run()
