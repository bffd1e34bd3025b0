"""Every page for every role, run headless by AppTest against a real API on loopback; the
figures shown are checked against what the API answers for the same view."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import pytest
from dashboard_served import ServedTenant
from streamlit.testing.v1 import AppTest

from dealscope.client import (
    ApiError,
    Compare,
    DealScopeClient,
    MeRead,
    PeriodQuery,
    RangeName,
    Tokens,
)
from dealscope.dashboard import APP_PATH
from dealscope.dashboard.formatting import by_unit, count, money
from dealscope.dashboard.session import ME, SESSION_KEY, TOKENS

ROLES = ["admin", "manager", "analyst", "agent", "viewer"]
ANALYTICS_PAGES = ["summary", "pipeline", "revenue", "agents", "forecast", "funnel", "speed"]
TITLES = {
    "summary": "Executive summary",
    "pipeline": "Pipeline",
    "revenue": "Revenue",
    "agents": "Agents",
    "funnel": "Funnel",
    "forecast": "Forecast",
    "speed": "Speed to lead",
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
    page.selectbox[0].set_value("Daily summary (template)")
    page.segmented_control[0].set_value("csv")
    next(b for b in page.button if b.label == "Render").click().run()
    _clean(page)
    rendered = page.session_state["report_file"]
    assert rendered.filename.startswith("daily-summary-") and rendered.filename.endswith(".zip")
    assert rendered.content[:2] == b"PK"  # a zip of CSV files
