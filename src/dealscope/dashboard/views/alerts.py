"""Alerts: the alert centre (open, acknowledged, resolved) and the rules that raise them."""

from __future__ import annotations

import streamlit as st

from dealscope.client import ApiError
from dealscope.dashboard import frames, session
from dealscope.dashboard.rule_form import rule_form
from dealscope.dashboard.widgets import empty, fetch, table
from dealscope.kit.roles import Permission

STATUSES = ["active", "open", "acknowledged", "resolved", "all"]
SEVERITIES = [None, "critical", "warning", "info"]
ICONS = {"critical": ":material/error:", "warning": ":material/warning:", "info": ":material/info:"}

user = session.require()
st.title("Alerts")
left, right = st.columns(2)
status = (
    left.segmented_control(
        "Status", STATUSES, default="active", key="p_status", format_func=str.title, required=True
    )
    or "active"
)
severity = right.selectbox(
    "Severity", SEVERITIES, format_func=lambda s: "All" if s is None else s.title()
)
found = fetch(lambda: user.client.alerts(status, severity), "the alerts")
if found.scoped_out:
    empty(
        "Alerts watch the whole brokerage, so they are shown to tenant-wide roles (admin, "
        "analyst, viewer). Your own figures are on the summary and your scorecard."
    )
    st.stop()
c = st.columns(2)
c[0].metric("Open", found.open, border=True)
c[1].metric("Acknowledged", found.acknowledged, border=True)

may_act = user.me.can(Permission.WRITE_CONFIG)
if not found.items:
    empty(
        f"No {status if status != 'all' else ''} alerts. An alert appears when a rule's "
        "condition holds after new data arrives; rules are listed below."
    )
for alert in found.items:
    with st.container(border=True):
        st.markdown(f"{ICONS.get(alert.severity, '')} **{alert.title}**")
        st.caption(
            f"{alert.severity} · {alert.status} · fired {alert.fired_at:%d %b %Y %H:%M} UTC"
            + (f" · rule: {alert.rule_name}" if alert.rule_name else "")
        )
        if may_act and alert.status != "resolved":
            a, b = st.columns(2)
            try:
                if alert.status == "open" and a.button("Acknowledge", key=f"ack-{alert.id}"):
                    user.client.acknowledge_alert(alert.id)
                    st.rerun()
                if b.button("Resolve", key=f"resolve-{alert.id}"):
                    user.client.resolve_alert(alert.id)
                    st.rerun()
            except ApiError as exc:
                st.warning(f"{exc.detail} ({exc.code}).")

st.subheader("Rules")
notice = st.session_state.pop("rule-notice", None)
if notice:
    st.success(notice, icon=":material/check:")
rules = fetch(user.client.alert_rules, "the alert rules")
if not rules:
    empty(
        "No alert rules yet. "
        + (
            "Add one below: a metric, a condition and who to tell."
            if may_act
            else "An admin adds them: a metric, a condition and who to tell."
        )
    )
else:
    table(frames.rules(rules), "alert rules")
if may_act:
    with st.container(border=True):
        st.subheader("Add or change a rule")
        rule_form(user, rules, fetch(user.client.metric_catalog, "the metric catalog"))
