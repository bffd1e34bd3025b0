"""Every page for every role, run headless by AppTest against a real API on loopback; the
figures shown are checked against what the API answers for the same view."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
from dashboard_served import ServedTenant
from streamlit.testing.v1 import AppTest

from dealscope.client import (
    ApiError,
    Compare,
    DealScopeClient,
    Dimension,
    Grain,
    MeRead,
    MetricQuery,
    PeriodQuery,
    RangeName,
    Tokens,
)
from dealscope.dashboard import APP_PATH
from dealscope.dashboard.formatting import by_unit, count, money
from dealscope.dashboard.session import ME, SESSION_KEY, TOKENS

ROLES = ["admin", "manager", "analyst", "agent", "viewer"]
ANALYTICS_PAGES = [
    "summary", "pipeline", "revenue", "agents", "forecast", "funnel", "speed", "anomalies"
]  # fmt: skip
TITLES = {
    "summary": "Executive summary",
    "pipeline": "Pipeline",
    "revenue": "Revenue",
    "agents": "Agents",
    "funnel": "Funnel",
    "forecast": "Forecast",
    "speed": "Speed to lead",
    "anomalies": "Anomalies",
    "settings": "Settings",
    "alerts": "Alerts",
    "reports": "Reports",
}


@pytest.fixture(scope="module")
def signed_in(served_tenant: ServedTenant) -> Iterator[dict[str, tuple[DealScopeClient, MeRead]]]:
    """A signed-in client per role (one sign-in each for the module)."""
    clients = {}
    for role, login in served_tenant.logins.items():
        client = DealScopeClient(served_tenant.url)
        client.login(login.email, login.password)
        clients[role] = (client, client.me())
    yield clients
    for client, _ in clients.values():
        client.close()


@pytest.fixture
def app(
    served_tenant: ServedTenant, monkeypatch: pytest.MonkeyPatch
) -> Callable[[Tokens | None, MeRead | None], AppTest]:
    monkeypatch.setenv("DEALSCOPE_API_URL", served_tenant.url)

    def make(tokens: Tokens | None = None, me: MeRead | None = None) -> AppTest:
        test = AppTest.from_file(str(APP_PATH), default_timeout=60)
        if tokens is not None and me is not None:
            test.session_state[TOKENS] = tokens
            test.session_state[ME] = me
            test.session_state[SESSION_KEY] = f"test-{me.user_id}"
        return test

    return make


def _clean(page: AppTest) -> None:
    assert not page.exception, [e.value for e in page.exception]
    assert not page.error, [e.value for e in page.error]


@pytest.mark.parametrize("role", ROLES)
def test_every_page_renders_for_every_role_with_the_apis_figures(
    role: str, app: Callable[..., AppTest], signed_in: dict[str, tuple[DealScopeClient, MeRead]]
) -> None:
    client, me = signed_in[role]
    page = app(client.tokens, me).run()
    _clean(page)
    currency = me.tenant.currency
    pages = [*ANALYTICS_PAGES, "alerts", "reports", *(["settings"] if role == "admin" else [])]
    for name in pages:
        page.switch_page(f"views/{name}.py").run()
        _clean(page)
        title = "My scorecard" if (name, role) == ("agents", "agent") else TITLES[name]
        assert page.title[0].value == title
        shown = {m.label: m.value for m in page.metric}
        period = PeriodQuery(RangeName.LAST_30_DAYS)
        if name == "summary":
            summary = client.summary(period).data
            for card in summary.cards:
                assert shown[card.label] == by_unit(card.value, card.unit, currency), card.slug
            assert "No open alerts" in page.info[-1].value
        elif name == "pipeline":
            pipeline = client.pipeline(period).data
            assert shown["New deals (cohort)"] == count(pipeline.cohort_leads)
            assert shown["Open deals now"] == count(sum(a.leads for a in pipeline.aging))
        elif name == "revenue":
            totals = client.revenue(period).data.totals
            assert shown["GCI"] == money(totals.gci, currency)
            assert shown["Closings"] == count(totals.closings)
            plan_hidden = any("No GCI plan" in i.value for i in page.info)
            assert plan_hidden == (role in ("agent", "manager"))
        elif name == "agents":
            board = client.agents(period).data.agents
            table = page.dataframe[0].value
            assert list(table["name"]) == [a.name for a in board]
            assert shown["GCI"] == money(board[0].gci, currency)
            refused = any("quota pacing" in i.value for i in page.info)
            assert refused == (role in ("agent", "manager"))
            if role == "agent":
                assert [a.agent_id for a in board] == [me.agent_id]
        elif name == "funnel":
            steps = client.funnel(period).data.steps
            assert (
                shown["Overall conversion"].rstrip("%")
                == f"{100 * steps[-1].overall_conversion:.1f}"
                if steps[-1].overall_conversion is not None
                else True
            )
            assert shown[f"Entered {steps[0].step}"] == count(steps[0].leads)
        elif name == "speed":
            speed = client.speed_to_lead(period, 5).data
            assert shown["New leads"] == count(speed.overall.leads)
        elif name == "forecast":
            total = client.forecast(90).data.total
            assert shown["Expected (P50)"] == money(total.p50, currency)
            assert shown["Likely range (P10–P90)"] == (
                f"{money(total.p10, currency)} – {money(total.p90, currency)}"
            )
        elif name == "anomalies":
            found = client.anomalies()
            assert shown["Unusual days"] == count(len(found.anomalies))
            assert len(page.get("plotly_chart")) + len(page.info) >= len(found.metrics)
            if role == "agent":
                assert "webhook_failures" in found.skipped
        elif name == "alerts":
            alerts = client.alerts()
            if alerts.scoped_out:
                assert page.info[0].value.startswith("Alerts watch the whole brokerage")
            else:
                assert shown == {"Open": str(alerts.open), "Acknowledged": str(alerts.acknowledged)}
        elif name == "reports":
            templates = page.dataframe[0].value
            assert list(templates["name"]) == [t.name for t in client.reports().templates]
        elif name == "settings":
            users = page.dataframe[0].value
            assert sorted(users["email"]) == sorted(u.email for u in client.list_users())
    if role != "admin":  # Settings is not in their navigation: asking for it shows no settings
        try:
            page.switch_page("views/settings.py").run()
        except ValueError as refused:
            assert "Could not find a navigation page" in str(refused)
        else:
            assert page.info[0].value.startswith("Settings are for admins")
            assert not page.dataframe


def test_signing_in_through_the_form_and_out_again(
    app: Callable[..., AppTest], served_tenant: ServedTenant
) -> None:
    login = served_tenant.logins["viewer"]
    page = app().run()
    assert page.title[0].value == "DealScope"
    page.text_input[0].input(login.email)
    page.text_input[1].input("not the password")
    page.button[0].click().run()
    assert page.error[0].value == "Wrong email or password. Check both and try again."

    page.text_input[1].input(login.password)
    page.button[0].click().run()
    _clean(page)
    assert page.title[0].value == "Executive summary"
    tokens = page.session_state[TOKENS]

    page.button(key="sign-out").click().run()
    assert TOKENS not in page.session_state
    # The session ended on the server too: its access token no longer works.
    with (
        DealScopeClient(served_tenant.url, token=tokens.access_token) as stale,
        pytest.raises(ApiError) as refused,
    ):
        stale.me()
    assert refused.value.status_code == 401


def test_the_view_comes_from_the_link_and_goes_back_into_it(
    app: Callable[..., AppTest], signed_in: dict[str, tuple[DealScopeClient, MeRead]]
) -> None:
    client, me = signed_in["analyst"]
    page = app(client.tokens, me)
    page.query_params["range"] = "7d"
    page.query_params["compare"] = "previous_year"
    page.run()
    _clean(page)
    summary = client.summary(PeriodQuery(RangeName.LAST_7_DAYS), Compare.PREVIOUS_YEAR).data
    assert (summary.period.end - summary.period.start).days == 6
    shown = {m.label: m.value for m in page.metric}
    for card in summary.cards:
        assert shown[card.label] == by_unit(card.value, card.unit, me.tenant.currency)
    assert page.caption[0].value.startswith("Last 7 days:")
    assert page.query_params["range"] in ("7d", ["7d"])

    page.segmented_control[0].set_value(RangeName.YEAR_TO_DATE).run()
    _clean(page)
    assert page.query_params["range"] in ("ytd", ["ytd"])
    assert page.caption[0].value.startswith(
        f"Year to date: {dt.date(summary.period.end.year, 1, 1):%d %b %Y}"
    )


def test_a_bad_link_says_what_it_ignored(
    app: Callable[..., AppTest], signed_in: dict[str, tuple[DealScopeClient, MeRead]]
) -> None:
    client, me = signed_in["viewer"]
    page = app(client.tokens, me)
    page.query_params["range"] = "fortnight"
    page.run()
    _clean(page)
    assert "range 'fortnight' is not one of" in page.warning[0].value
    assert page.caption[0].value.startswith("Last 30 days:")


def test_an_unreachable_api_tells_the_user_what_to_do(
    free_port: Callable[[], int], monkeypatch: pytest.MonkeyPatch
) -> None:
    api_url = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("DEALSCOPE_API_URL", api_url)
    page = AppTest.from_file(str(APP_PATH), default_timeout=30).run()
    page.text_input[0].input("someone@example.com")
    page.text_input[1].input("a passphrase of some length")
    page.button[0].click().run()
    message = page.error[0].value
    assert f"cannot reach the DealScope API at **{api_url}**" in message
    assert "dealscope serve" in message and "DEALSCOPE_API_URL" in message


def test_a_report_renders_and_downloads(
    app: Callable[..., AppTest], signed_in: dict[str, tuple[DealScopeClient, MeRead]]
) -> None:
    client, me = signed_in["analyst"]
    page = app(client.tokens, me).run()
    page.switch_page("views/reports.py").run()
    _clean(page)
    page.selectbox(key="render-report").set_value("Daily summary (template)")
    page.segmented_control(key="render-format").set_value("csv")
    next(b for b in page.button if b.label == "Render").click().run()
    _clean(page)
    rendered = page.session_state["report_file"]
    assert rendered.filename.startswith("daily-summary-") and rendered.filename.endswith(".zip")
    assert rendered.content[:2] == b"PK"  # a zip of CSV files


# --- the report builder, the alert rule form and the anomalies page ------------------------


def _button(page: AppTest, label: str) -> Any:
    return next(b for b in page.button if b.label == label)


def _figures(page: AppTest) -> list[dict[str, Any]]:
    return [json.loads(c.proto.spec) for c in page.get("plotly_chart")]


def _values(array: Any) -> list[Any]:
    """A trace's array as Plotly's JSON holds it: a list, or typed bytes in base64."""
    if isinstance(array, dict) and "bdata" in array:
        return list(np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"]))
    return list(array)


def test_a_report_is_built_previewed_saved_and_scheduled(
    app: Callable[..., AppTest], signed_in: dict[str, tuple[DealScopeClient, MeRead]]
) -> None:
    client, me = signed_in["analyst"]
    currency = me.tenant.currency
    page = app(client.tokens, me).run()
    page.switch_page("views/reports.py").run()
    _clean(page)
    assert page.subheader[0].value == "Build a report"
    page.text_input(key="rb-report-title").input("Lead flow by source")
    page.multiselect(key="rb-1-metrics").set_value(["new_leads", "gci"]).run()
    # Both metrics split by source; gci not by stage: the dimensions offered are the common ones
    catalog = {m.slug: set(m.dimensions) for m in client.metric_catalog().metrics}
    offered = set(page.multiselect(key="rb-1-dims").options)
    assert offered == {d.value.replace("_", " ").capitalize() for d in
                       catalog["new_leads"] & catalog["gci"]}  # fmt: skip
    _button(page, "Preview").click().run()
    _clean(page)
    cards = {m.label: m.value for m in page.metric}
    query = MetricQuery(metrics=["new_leads", "gci"], range=RangeName.LAST_30_DAYS)
    answer = client.query_metrics(query).data
    for series in answer.metrics:
        assert cards[series.label] == by_unit(series.rows[0].value, series.unit, currency)

    # A second section: GCI by source as bars; its bars are the API's rows.
    page.number_input(key="rb-n").set_value(2).run()
    page.text_input(key="rb-2-title").input("GCI by source")
    page.selectbox(key="rb-2-visual").set_value("bar")
    page.multiselect(key="rb-2-metrics").set_value(["gci"]).run()
    page.multiselect(key="rb-2-dims").set_value(["source"]).run()
    _button(page, "Preview").click().run()
    _clean(page)
    bars = _figures(page)[-1]["data"][0]
    by_source = client.query_metrics(
        MetricQuery(metrics=["gci"], dimensions=[Dimension.SOURCE], range=RangeName.LAST_30_DAYS)
    ).data
    names = by_source.labels.get("source", {})
    expected = {names.get(r.dimensions["source"] or "", r.dimensions["source"]): r.value
                for r in by_source.metrics[0].rows}  # fmt: skip
    assert dict(zip(_values(bars["x"]), _values(bars["y"]), strict=True)) == pytest.approx(expected)

    page.segmented_control(key="rb-format").set_value("xlsx")
    _button(page, "Render this report").click().run()
    _clean(page)
    built = page.session_state["built_file"]
    assert built.filename.endswith(".xlsx") and built.content[:2] == b"PK"

    _button(page, "Save").click().run()
    _clean(page)
    saved = next(r for r in client.reports().reports if r.name == "Lead flow by source")
    assert [s["title"] for s in saved.spec["sections"]] == ["Section 1", "GCI by source"]
    assert saved.spec["sections"][1]["dimensions"] == ["source"]

    page.selectbox(key="sc-report").set_value("Lead flow by source (saved)")
    page.text_input(key="sc-cron").input("30 6 * * 1-5")
    page.text_area(key="sc-to").input("Owner@Brokerage.example, second@brokerage.example")
    page.multiselect(key="sc-formats").set_value(["pdf", "csv"])
    page.button(key="FormSubmitter:schedule-Schedule").click().run()
    _clean(page)
    schedule = next(s for s in client.report_schedules() if s.report_id == saved.id)
    assert (schedule.cron, schedule.timezone) == ("30 6 * * 1-5", me.tenant.timezone)
    assert schedule.recipients == ["owner@brokerage.example", "second@brokerage.example"]
    assert schedule.formats == ["pdf", "csv"]
    shown = page.dataframe[-2].value  # the schedules; the delivery log is empty so far
    assert schedule.id in list(shown["id"])
    assert "No deliveries yet" in page.info[-1].value
    client.delete_schedule(schedule.id)

    # A bad cron is refused with the API's reason, nothing scheduled.
    page.text_input(key="sc-cron").input("every monday")
    page.button(key="FormSubmitter:schedule-Schedule").click().run()
    assert "cron" in page.error[0].value.lower()
    assert not [s for s in client.report_schedules() if s.report_id == saved.id]


def test_a_viewer_sees_reports_but_no_builder(
    app: Callable[..., AppTest], signed_in: dict[str, tuple[DealScopeClient, MeRead]]
) -> None:
    client, me = signed_in["viewer"]
    page = app(client.tokens, me).run()
    page.switch_page("views/reports.py").run()
    _clean(page)
    assert "Build a report" not in [h.value for h in page.subheader]
    assert "Deliveries" not in [h.value for h in page.subheader]
    assert not page.multiselect and "sc-cron" not in [t.key for t in page.text_input]


def test_an_admin_creates_changes_disables_and_deletes_an_alert_rule(
    app: Callable[..., AppTest], signed_in: dict[str, tuple[DealScopeClient, MeRead]]
) -> None:
    client, me = signed_in["admin"]
    page = app(client.tokens, me).run()
    page.switch_page("views/alerts.py").run()
    _clean(page)
    page.text_input(key="rule-new-name").input("GCI fell below plan")
    page.selectbox(key="rule-new-kind").set_value("threshold").run()
    key = "rule-new-threshold"
    page.selectbox(key=f"{key}-metric").set_value("gci")
    page.selectbox(key=f"{key}-range").set_value(RangeName.MONTH_TO_DATE)
    page.selectbox(key=f"{key}-operator").set_value("below")
    page.number_input(key=f"{key}-value").set_value(250_000.0)
    page.selectbox(key="rule-new-severity").set_value("critical")
    page.text_input(key="rule-new-emails").input("broker@example.com")
    _button(page, "Create rule").click().run()
    _clean(page)
    made = next(r for r in client.alert_rules() if r.rule["name"] == "GCI fell below plan")
    assert page.success[0].value == f"Created rule #{made.id}."
    assert made.rule["condition"] == {
        "kind": "threshold", "metric": "gci", "filters": {}, "range": "mtd",
        "operator": "below", "value": 250_000.0,
    }  # fmt: skip
    assert made.rule["severity"] == "critical" and made.rule["is_enabled"]
    assert made.rule["channels"] == [{"type": "email", "recipients": ["broker@example.com"]}]
    assert made.id in list(page.dataframe[0].value["id"])

    # The new rule is now the one chosen: change its value, then disable it.
    assert page.selectbox(key="rule-choice").value == made.id
    page.number_input(key=f"rule-{made.id}-threshold-value").set_value(300_000.0)
    _button(page, "Save changes").click().run()
    _clean(page)
    assert client.alert_rules()[-1].rule["condition"]["value"] == 300_000.0
    _button(page, "Disable rule").click().run()
    _clean(page)
    changed = next(r for r in client.alert_rules() if r.id == made.id)
    assert changed.rule["is_enabled"] is False and changed.rule["condition"]["value"] == 300_000.0
    assert _button(page, "Enable rule")

    # A rule the API refuses says why and stores nothing.
    page.selectbox(key="rule-choice").set_value(None).run()
    page.selectbox(key="rule-new-kind").set_value("change").run()
    page.text_input(key="rule-new-name").input("")
    _button(page, "Create rule").click().run()
    assert "name" in page.error[0].value
    assert len(client.alert_rules()) == 1

    page.selectbox(key="rule-choice").set_value(made.id).run()
    _button(page, "Delete rule").click().run()
    _clean(page)
    assert client.alert_rules() == []
    assert page.success[0].value.startswith(f"Deleted rule #{made.id}")


def test_only_admins_get_the_rule_form(
    app: Callable[..., AppTest], signed_in: dict[str, tuple[DealScopeClient, MeRead]]
) -> None:
    client, me = signed_in["analyst"]
    page = app(client.tokens, me).run()
    page.switch_page("views/alerts.py").run()
    _clean(page)
    assert "Add or change a rule" not in [h.value for h in page.subheader]
    assert not [b for b in page.button if b.label == "Create rule"]


def test_the_anomalies_page_draws_each_series_with_its_flagged_days(
    app: Callable[..., AppTest], signed_in: dict[str, tuple[DealScopeClient, MeRead]]
) -> None:
    client, me = signed_in["analyst"]
    page = app(client.tokens, me).run()
    page.switch_page("views/anomalies.py").run()
    page.slider(key="p_z").set_value(2.0).run()  # a low bar: the small brokerage has flags
    _clean(page)
    assert page.query_params["z"] in ("2.0", ["2.0"])  # the setting goes into the link
    found = client.anomalies(threshold=2.0)
    assert found.anomalies, "the test needs flagged days; lower the threshold"
    shown = {m.label: m.value for m in page.metric}
    assert shown["Unusual days"] == count(len(found.anomalies))
    assert shown["Spikes"] == count(sum(a.direction == "spike" for a in found.anomalies))
    figures = {f["layout"]["title"]["text"]: f for f in _figures(page)}
    daily = client.query_metrics(
        MetricQuery(metrics=["new_leads"], range=RangeName.CUSTOM, start=found.start,
                    end=found.as_of, grain=Grain.DAY, as_of=found.as_of)
    ).data.metrics[0].rows  # fmt: skip
    traces = {t["name"]: t for t in figures["New leads"]["data"]}
    assert _values(traces["Measured"]["y"]) == pytest.approx([r.value or 0 for r in daily])
    assert len(_values(traces["Measured"]["x"])) == (found.as_of - found.start).days + 1
    for metric, title in [("new_leads", "New leads"), ("gci", "GCI")]:
        flagged = sorted((a for a in found.anomalies if a.metric == metric), key=lambda a: a.day)
        traces = {t["name"]: t for t in figures[title]["data"]}
        if not flagged:
            assert "Flagged day" not in traces
            continue
        marks = traces["Flagged day"]
        assert _values(marks["x"]) == [a.day.isoformat() for a in flagged]
        assert _values(marks["y"]) == pytest.approx([a.value for a in flagged])
        band = traces["Expected range"]["error_y"]
        assert _values(band["array"]) == pytest.approx([a.upper - a.expected for a in flagged])
    listed = page.dataframe[0].value
    assert [str(d)[:10] for d in listed["day"]] == [a.day.isoformat() for a in found.anomalies]
    assert list(listed["score"]) == pytest.approx([a.score for a in found.anomalies])
