"""The signed-in user of this browser session: tokens, who they are, their client of the API.

Tokens live in Streamlit's session state (server side, per browser tab session), never in
the URL. The client refreshes the access token by itself and reports each new pair here; when
the session cannot be renewed the user is sent back to the sign-in page with a notice."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import streamlit as st

from dealscope.client import DealScopeClient, MeRead, Tokens
from dealscope.config import Settings

TOKENS = "ds_tokens"
ME = "ds_me"
CLIENT = "ds_client"
SESSION_KEY = "ds_session_key"
NOTICE = "ds_notice"


def api_url() -> str:
    """Where the API is: DEALSCOPE_API_URL, else the default local address."""
    return Settings().resolved_api_url


@dataclass(frozen=True)
class SignedIn:
    client: DealScopeClient
    me: MeRead
    key: str  # identifies this sign-in in cache keys (never shared between sign-ins)


def _store_tokens(tokens: Tokens | None) -> None:
    st.session_state[TOKENS] = tokens


def anonymous_client(url: str | None = None) -> DealScopeClient:
    return DealScopeClient(url or api_url(), on_tokens=_store_tokens)


def current() -> SignedIn | None:
    """The signed-in user, or None (never signed in, signed out, or the session ended)."""
    tokens: Tokens | None = st.session_state.get(TOKENS)
    me: MeRead | None = st.session_state.get(ME)
    if tokens is None or me is None:
        return None
    url = api_url()
    client: DealScopeClient | None = st.session_state.get(CLIENT)
    if client is None or client.base_url != url.rstrip("/") or client.tokens is None:
        client = DealScopeClient(url, tokens=tokens, on_tokens=_store_tokens)
        st.session_state[CLIENT] = client
    return SignedIn(client, me, st.session_state[SESSION_KEY])


def begin(client: DealScopeClient, me: MeRead) -> None:
    """Keep a fresh sign-in (the client already holds its tokens)."""
    st.session_state[CLIENT] = client
    st.session_state[ME] = me
    st.session_state[TOKENS] = client.tokens
    st.session_state[SESSION_KEY] = secrets.token_hex(8)
    st.session_state.pop(NOTICE, None)


def end(notice: str | None = None) -> None:
    """Forget the session here (the caller has signed out on the server, or it ended)."""
    for key in (TOKENS, ME, CLIENT, SESSION_KEY):
        st.session_state.pop(key, None)
    if notice:
        st.session_state[NOTICE] = notice


def require() -> SignedIn:
    """The signed-in user of a page (pages run only after sign-in; this stops otherwise)."""
    user = current()
    if user is None:
        st.stop()
        raise AssertionError("unreachable")
    return user
