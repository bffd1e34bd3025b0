"""Settings (admins): the tenant's users and API keys."""

from __future__ import annotations

import streamlit as st

from dealscope.client import ApiError, ApiKeyCreate, UserCreate, UserUpdate
from dealscope.dashboard import frames, session
from dealscope.dashboard.widgets import fetch, table
from dealscope.kit.roles import Permission, Role

user = session.require()
st.title("Settings")
st.caption(
    f"{user.me.tenant.name} · time zone {user.me.tenant.timezone} · {user.me.tenant.currency}"
)
if not (user.me.can(Permission.MANAGE_USERS) or user.me.can(Permission.MANAGE_API_KEYS)):
    st.info("Settings are for admins: your role may not manage users or API keys.")
    st.stop()
users_tab, keys_tab = st.tabs(["Users", "API keys"])


def _refuse(exc: ApiError) -> None:
    st.error(f"{exc.detail} ({exc.code}). Fix it and try again.", icon=":material/error:")


with users_tab:
    if not user.me.can(Permission.MANAGE_USERS):
        st.info("Your role may not manage users.", icon=":material/lock:")
    else:
        people = fetch(user.client.list_users, "the users")
        frame = frames.of(
            people,
            [
                "id",
                "email",
                "full_name",
                "role",
                "agent_id",
                "team_id",
                "is_active",
                "failed_logins",
                "locked_until",
                "last_login_at",
            ],
        )
        table(frame, "users")
        with st.expander("Add a user", icon=":material/person_add:"), st.form("add-user"):
            email = st.text_input("Email")
            name = st.text_input("Full name")
            password = st.text_input("Password (12+ characters)", type="password")
            role = st.selectbox("Role", list(Role), format_func=lambda r: r.value) or Role.VIEWER
            agent = st.number_input("Agent id (role agent)", min_value=0, value=0)
            team = st.number_input("Team id (role manager)", min_value=0, value=0)
            if st.form_submit_button("Add user", type="primary"):
                try:
                    made = user.client.create_user(
                        UserCreate(
                            email=email,
                            full_name=name,
                            password=password,
                            role=role,
                            agent_id=int(agent) or None,
                            team_id=int(team) or None,
                        )
                    )
                    st.success(f"Added {made.email} as {made.role.value}.")
                except ApiError as exc:
                    _refuse(exc)
        by_id = {p.id: p for p in people}
        with st.expander("Change a user", icon=":material/manage_accounts:"):
            chosen = st.selectbox("User", list(by_id), format_func=lambda i: by_id[i].email)
            new_role = st.selectbox(
                "New role", list(Role), key="new-role", index=list(Role).index(by_id[chosen].role)
            )
            a, b, c = st.columns(3)
            try:
                if a.button("Save role"):
                    user.client.update_user(chosen, UserUpdate(role=new_role))
                    st.rerun()
                if b.button("Unlock"):
                    user.client.unlock_user(chosen)
                    st.rerun()
                if c.button("Disable", type="primary"):
                    user.client.disable_user(chosen)
                    st.rerun()
            except ApiError as exc:
                _refuse(exc)

with keys_tab:
    if not user.me.can(Permission.MANAGE_API_KEYS):
        st.info("Your role may not manage API keys.", icon=":material/lock:")
    else:
        keys = fetch(user.client.list_api_keys, "the API keys")
        table(
            frames.of(
                keys, ["id", "name", "prefix", "role", "created_at", "last_used_at", "revoked_at"]
            ),
            "api keys",
        )
        with st.form("add-key"):
            key_name = st.text_input("Key name", placeholder="nightly BI export")
            key_role = st.selectbox(
                "Role", [Role.VIEWER, Role.ANALYST, Role.ADMIN], format_func=lambda r: r.value
            )
            if st.form_submit_button("Create key", type="primary"):
                try:
                    created = user.client.create_api_key(ApiKeyCreate(name=key_name, role=key_role))
                    st.success("Copy the key now: it is shown this once.")
                    st.code(created.key)
                except ApiError as exc:
                    _refuse(exc)
        live = [k for k in keys if k.revoked_at is None]
        if live:
            names = {k.id: f"{k.name} ({k.prefix})" for k in live}
            revoke = st.selectbox("Revoke a key", list(names), format_func=lambda i: names[i])
            if st.button("Revoke", type="primary"):
                try:
                    user.client.revoke_api_key(revoke)
                    st.rerun()
                except ApiError as exc:
                    _refuse(exc)
