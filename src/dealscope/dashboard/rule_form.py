"""The alert rule form (admins): create a rule, or change, disable or delete one, of any
kind: threshold, change, anomaly or feed health. The rule is the API's document
(/config/alerts/rules); the API checks it and its answer says what is wrong."""

from __future__ import annotations

from typing import Any

import streamlit as st

from dealscope.client import ApiError
from dealscope.client.analytics_models import MetricCatalogRead
from dealscope.client.ops_models import AlertRuleRead
from dealscope.dashboard.builder import RANGE_LABELS, RANGES
from dealscope.dashboard.session import SignedIn
from dealscope.dashboard.widgets import explain

KINDS = {
    "threshold": "Threshold: above or below a value",
    "change": "Change: moved against a baseline",
    "anomaly": "Anomaly: an unusual day",
    "feed_health": "Feed health: webhook failures, silence or latency",
}
SEVERITIES = ["info", "warning", "critical"]
DIRECTIONS = ["drop", "rise", "either"]


def _index(options: list[Any], value: Any, default: int = 0) -> int:
    return options.index(value) if value in options else default


def _emails(channels: list[dict[str, Any]] | None) -> str:
    for channel in channels or []:
        if channel.get("type") == "email":
            return ", ".join(channel.get("recipients", []))
    return ""


def _condition(
    kind: str, old: dict[str, Any], key: str, catalog: MetricCatalogRead
) -> dict[str, Any]:
    """The condition widgets of `kind`, prefilled from `old`; the condition document."""
    if kind == "feed_health":
        a, b = st.columns(2)
        source = a.text_input(
            "Source (empty: all feeds)", value=old.get("source") or "", key=f"{key}-source"
        )
        window = b.number_input(
            "Window (minutes)", 5, 7 * 24 * 60, int(old.get("window_minutes", 60)),
            key=f"{key}-window",
        )  # fmt: skip
        c, d, e = st.columns(3)
        rate = c.number_input(
            "Max failure rate (%)", 0.0, 100.0,
            100 * float(old.get("max_failure_rate") or 0.1), key=f"{key}-rate",
        )  # fmt: skip
        min_events = d.number_input(
            "Min events", 1, 100_000, int(old.get("min_events", 10)), key=f"{key}-min-events"
        )
        stale = e.number_input(
            "Silent for (minutes, 0: off)", 0, 30 * 24 * 60,
            int(old.get("stale_after_minutes") or 0), key=f"{key}-stale",
        )  # fmt: skip
        condition: dict[str, Any] = {
            "kind": kind,
            "source": source.strip() or None,
            "window_minutes": int(window),
            "max_failure_rate": rate / 100,
            "min_events": int(min_events),
            "stale_after_minutes": int(stale) or None,
        }
        return condition
    slugs = [m.slug for m in catalog.metrics]
    labels = {m.slug: m.label for m in catalog.metrics}
    metric = st.selectbox(
        "Metric", slugs, index=_index(slugs, old.get("metric")),
        format_func=lambda s: labels.get(s, s), key=f"{key}-metric",
    )  # fmt: skip
    condition = {"kind": kind, "metric": metric, "filters": old.get("filters", {})}
    a, b, c = st.columns(3)
    if kind == "threshold":
        period = a.selectbox(
            "Period", RANGES, index=_index([r.value for r in RANGES], old.get("range"), 1),
            format_func=RANGE_LABELS.__getitem__, key=f"{key}-range",
        )  # fmt: skip
        operator = b.selectbox(
            "Fires when", ["above", "below"], index=_index(["above", "below"], old.get("operator")),
            key=f"{key}-operator",
        )  # fmt: skip
        value = c.number_input("Value", value=float(old.get("value", 0.0)), key=f"{key}-value")
        condition |= {"range": period.value, "operator": operator, "value": value}
    elif kind == "change":
        baselines = ["previous_period", "same_weekday_average"]
        baseline = a.selectbox(
            "Baseline", baselines, index=_index(baselines, old.get("baseline")),
            format_func=lambda x: x.replace("_", " ").capitalize(), key=f"{key}-baseline",
        )  # fmt: skip
        direction = b.selectbox(
            "Direction", DIRECTIONS, index=_index(DIRECTIONS, old.get("direction")),
            key=f"{key}-direction",
        )  # fmt: skip
        percent = c.number_input(
            "Change (%)", 0.1, 10_000.0, float(old.get("percent", 20.0)), key=f"{key}-percent"
        )
        d, e, f = st.columns(3)
        period = d.selectbox(
            "Period (previous period)", RANGES,
            index=_index([r.value for r in RANGES], old.get("range"), 1),
            format_func=RANGE_LABELS.__getitem__, key=f"{key}-range",
        )  # fmt: skip
        weeks = e.number_input(
            "Weeks (weekday average)", 1, 12, int(old.get("weeks", 4)), key=f"{key}-weeks"
        )
        floor = f.number_input(
            "At least (absolute)", 0.0, None, float(old.get("min_change", 0.0)),
            key=f"{key}-floor",
        )  # fmt: skip
        condition |= {
            "baseline": baseline,
            "direction": direction,
            "percent": percent,
            "range": period.value,
            "weeks": int(weeks),
            "min_change": floor,
        }
    else:
        direction = a.selectbox(
            "Direction", DIRECTIONS, index=_index(DIRECTIONS, old.get("direction"), 2),
            key=f"{key}-direction",
        )  # fmt: skip
        condition |= {"direction": direction, "detector": old.get("detector", "default")}
    return condition


def rule_form(user: SignedIn, rules: list[AlertRuleRead], catalog: MetricCatalogRead) -> None:
    """Create a rule, or change, disable, enable or delete the one chosen."""
    by_id = {r.id: r for r in rules}
    if "rule-next" in st.session_state:  # set by the last action, before the widget exists
        st.session_state["rule-choice"] = st.session_state.pop("rule-next")
    chosen = st.selectbox(
        "Rule",
        [None, *by_id],
        format_func=lambda i: "New rule" if i is None else f"{by_id[i].rule['name']} (#{i})",
        key="rule-choice",
    )
    old: dict[str, Any] = by_id[chosen].rule if chosen is not None else {}
    key = f"rule-{chosen or 'new'}"
    name = st.text_input("Name", value=old.get("name", ""), key=f"{key}-name")
    kinds = list(KINDS)
    kind = st.selectbox(
        "Kind", kinds, index=_index(kinds, old.get("condition", {}).get("kind")),
        format_func=KINDS.__getitem__, key=f"{key}-kind",
    )  # fmt: skip
    condition = _condition(kind, old.get("condition", {}), f"{key}-{kind}", catalog)
    a, b, c = st.columns(3)
    severity = a.selectbox(
        "Severity", SEVERITIES, index=_index(SEVERITIES, old.get("severity"), 1),
        key=f"{key}-severity",
    )  # fmt: skip
    cooldown = b.number_input(
        "Cooldown (minutes, 0: tenant default)", 0, 7 * 24 * 60,
        int(old.get("cooldown_minutes") or 0), key=f"{key}-cooldown",
    )  # fmt: skip
    enabled = c.checkbox("Enabled", value=old.get("is_enabled", True), key=f"{key}-enabled")
    emails = st.text_input(
        "Email recipients (comma-separated; empty: the tenant's default channels)",
        value=_emails(old.get("channels")),
        key=f"{key}-emails",
    )
    others = [ch for ch in old.get("channels") or [] if ch.get("type") != "email"]
    addresses = [e.strip() for e in emails.split(",") if e.strip()]
    channels = others + ([{"type": "email", "recipients": addresses}] if addresses else [])
    rule = {
        "name": name.strip(),
        "condition": condition,
        "severity": severity,
        "channels": channels or None,
        "cooldown_minutes": int(cooldown) or None,
        "is_enabled": enabled,
    }
    left, mid, right = st.columns(3)
    try:
        if chosen is None:
            if left.button("Create rule", type="primary", icon=":material/add_alert:"):
                made = user.client.create_alert_rule(rule)
                st.session_state["rule-notice"] = f"Created rule #{made.id}."
                st.session_state["rule-next"] = made.id
                st.rerun()
            return
        if left.button("Save changes", type="primary", icon=":material/save:"):
            user.client.update_alert_rule(chosen, rule)
            st.session_state["rule-notice"] = f"Saved rule #{chosen}."
            st.rerun()
        toggle = "Disable rule" if old.get("is_enabled", True) else "Enable rule"
        if mid.button(toggle, icon=":material/toggle_on:"):
            user.client.update_alert_rule(chosen, old | {"is_enabled": not old.get("is_enabled")})
            st.session_state["rule-notice"] = f"{toggle.split()[0][:-1]}ed rule #{chosen}."
            st.session_state.pop(f"{key}-enabled", None)
            st.rerun()
        if right.button("Delete rule", icon=":material/delete:"):
            user.client.delete_alert_rule(chosen)
            st.session_state["rule-notice"] = f"Deleted rule #{chosen}; its open alerts resolved."
            st.session_state["rule-next"] = None
            st.rerun()
    except ApiError as exc:
        st.error(explain(exc, "the rule"), icon=":material/error:")
