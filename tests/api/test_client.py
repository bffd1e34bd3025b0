"""DealScopeClient against the real API served by uvicorn on a loopback port."""

from __future__ import annotations

import datetime as dt
import json
import threading
import typing
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from accounts import PASSWORD, add_brokerage, add_user
from pydantic import BaseModel

from dealscope import __version__
from dealscope.analytics import specs as server_specs
from dealscope.analytics import summary as server_summary
from dealscope.api import alert_schemas as server_alerts
from dealscope.api import report_schemas as server_reports
from dealscope.api.analytics_schemas import agents as server_agents
from dealscope.api.analytics_schemas import anomalies as server_anomalies
from dealscope.api.analytics_schemas import forecast as server_forecast
from dealscope.api.analytics_schemas import funnel as server_funnel
from dealscope.api.analytics_schemas import leaderboard as server_leaderboard
from dealscope.api.analytics_schemas import pipeline as server_pipeline
from dealscope.api.analytics_schemas import revenue as server_revenue
from dealscope.api.analytics_schemas import speed as server_speed
from dealscope.api.auth import schemas as server_auth
from dealscope.api.schemas import HealthRead as ServerHealthRead
from dealscope.client import (
    ApiError,
    ApiUnavailable,
    DealScopeClient,
    HealthRead,
    SessionExpired,
    Tokens,
    enums,
)
from dealscope.client import agent_models as client_agents
from dealscope.client import analytics_models as client_analytics
from dealscope.client import dashboard_models as client_dashboards
from dealscope.client import forecast_models as client_forecast
from dealscope.client import models as client_models
from dealscope.client import ops_models as client_ops
from dealscope.config import Settings
from dealscope.kit.roles import Role
from dealscope.warehouse.engine import Warehouse
from dealscope.warehouse.migrate import head_revision


def test_health_over_http(
    warehouse: Warehouse,
    settings_for: Callable[..., Settings],
    serve_api: Callable[[Settings], str],
) -> None:
    base_url = serve_api(settings_for(warehouse))

    with DealScopeClient(base_url) as client:
        health = client.health()

    assert health == HealthRead(
        status="ok",
        version=__version__,
        backend=warehouse.backend,
        schema_revision=head_revision(),
        schema_current=True,
        database="ok",
        redis="not configured",
        problems=[],
    )


def test_unreachable_api_names_the_url(free_port: Callable[[], int]) -> None:
    url = f"http://127.0.0.1:{free_port()}"

    with pytest.raises(ApiUnavailable) as raised, DealScopeClient(url, timeout=2) as client:
        client.health()

    assert raised.value.url == f"{url}/health"
    assert str(raised.value).startswith(f"the DealScope API at {url}/health is not reachable")


class _Canned(BaseHTTPRequestHandler):
    """A stand-in server answering every GET with a fixed status and body."""

    status = 500
    body = b""
    content_type = "application/json"

    def do_GET(self) -> None:
        self.send_response(self.status)
        self.send_header("Content-Type", self.content_type)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def canned() -> Iterator[Callable[[int, bytes, str], str]]:
    servers: list[HTTPServer] = []

    def serve(status: int, body: bytes, content_type: str = "application/json") -> str:
        canned_reply = {"status": status, "body": body, "content_type": content_type}
        handler = type("Handler", (_Canned,), canned_reply)
        server = HTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}"

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


def test_an_error_body_becomes_api_error_with_its_code_and_detail(
    canned: Callable[..., str],
) -> None:
    body = json.dumps({"error": "schema_out_of_date", "detail": "run `dealscope db upgrade`"})
    url = canned(500, body.encode())

    with pytest.raises(ApiError) as raised, DealScopeClient(url) as client:
        client.health()

    assert (raised.value.status_code, raised.value.code) == (500, "schema_out_of_date")
    assert raised.value.detail == "run `dealscope db upgrade`"


def test_a_foreign_error_page_still_becomes_a_readable_api_error(
    canned: Callable[..., str],
) -> None:
    url = canned(502, b"<html><body>Bad   gateway</body></html>", "text/html")

    with pytest.raises(ApiError) as raised, DealScopeClient(url) as client:
        client.health()

    assert (raised.value.status_code, raised.value.code) == (502, "http_502")
    assert raised.value.detail == "<html><body>Bad gateway</body></html>"


def test_something_else_on_the_port_is_reported_as_not_an_api(
    canned: Callable[..., str],
) -> None:
    url = canned(200, b'{"hello": "world"}')

    with pytest.raises(ApiError) as raised, DealScopeClient(url) as client:
        client.health()

    assert raised.value.code == "unexpected_response"
    assert "did not answer like a DealScope API" in raised.value.detail


def test_the_token_is_sent_as_a_bearer_header() -> None:
    with DealScopeClient("http://127.0.0.1:1", token="t0k3n") as client:
        assert client._http.headers["Authorization"] == "Bearer t0k3n"


def test_client_and_server_agree_on_the_health_model() -> None:
    def fields(model: type[BaseModel]) -> dict[str, tuple[object, bool]]:
        return {n: (f.annotation, f.is_required()) for n, f in model.model_fields.items()}

    assert fields(HealthRead) == fields(ServerHealthRead)


# --- sessions: sign-in, transparent refresh, sign-out ------------------------------------


@pytest.fixture
def session_api(
    warehouse: Warehouse,
    settings_for: Callable[..., Settings],
    serve_api: Callable[[Settings], str],
) -> tuple[str, str]:
    """The API over a tenant with one analyst; its URL and the analyst's email."""
    brokerage = add_brokerage(warehouse, "acme")
    email = "ana@acme.example"
    add_user(warehouse, brokerage, email, Role.ANALYST)
    return serve_api(settings_for(warehouse)), email


class _Clock:
    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.mark.parametrize("warehouse", ["duckdb"], indirect=True)
def test_an_expiring_access_token_is_refreshed_before_the_call(
    session_api: tuple[str, str],
) -> None:
    url, email = session_api
    clock = _Clock()
    seen: list[Tokens | None] = []
    with DealScopeClient(url, clock=clock, on_tokens=seen.append) as client:
        first = client.login(email, PASSWORD)
        assert client.me().email == email
        assert client.tokens == first  # nothing refreshed while the token is fresh

        clock.now = first.expires_at - dt.timedelta(seconds=10)  # inside the margin
        assert client.me().role == Role.ANALYST
        second = client.tokens
        assert second is not None and second.refresh_token != first.refresh_token
        assert seen == [first, second]

        # The spent refresh token no longer works: presenting it again ends the session.
        with (
            DealScopeClient(url, tokens=first, clock=lambda: first.expires_at) as stale,
            pytest.raises(SessionExpired),
        ):
            stale.me()
        with pytest.raises(SessionExpired):
            client.me()  # the whole session ended (reuse of a spent refresh token)
        assert client.tokens is None and seen[-1] is None


@pytest.mark.parametrize("warehouse", ["duckdb"], indirect=True)
def test_a_refused_access_token_is_refreshed_once_and_the_call_retried(
    session_api: tuple[str, str],
) -> None:
    url, email = session_api
    with DealScopeClient(url) as signer:
        real = signer.login(email, PASSWORD)
    broken = Tokens("not-a-token", real.refresh_token, real.expires_at)
    with DealScopeClient(url, tokens=broken) as client:
        assert client.me().email == email
        assert client.tokens is not None and client.tokens.access_token != "not-a-token"


@pytest.mark.parametrize("warehouse", ["duckdb"], indirect=True)
def test_logout_ends_the_session_on_the_server(session_api: tuple[str, str]) -> None:
    url, email = session_api
    with DealScopeClient(url) as client:
        tokens = client.login(email, PASSWORD)
        client.logout()
        assert client.tokens is None
    with DealScopeClient(url, token=tokens.access_token) as stale, pytest.raises(ApiError) as no:
        stale.me()
    assert no.value.status_code == 401
    with DealScopeClient(url) as client, pytest.raises(ApiError) as wrong:
        client.login(email, "not the password at all")
    assert (wrong.value.status_code, wrong.value.code) == (401, "not_authenticated")


# --- the client's models and vocabularies are the server's --------------------------------


def _flatten(annotation: object) -> list[object]:
    args = typing.get_args(annotation)
    if not args:
        return [annotation]
    return [x for a in args for x in _flatten(a)]


def _names(model: type[BaseModel]) -> dict[str, object]:
    def walk(m: type[BaseModel]) -> dict[str, object]:
        out: dict[str, object] = {}
        for name, field in m.model_fields.items():
            nested = [a for a in _flatten(field.annotation)
                      if isinstance(a, type) and issubclass(a, BaseModel)]  # fmt: skip
            out[name] = walk(nested[0]) if nested else None
        return out

    return walk(model)


@pytest.mark.parametrize(
    ("client_model", "server_model"),
    [
        (client_analytics.SummaryRead, server_summary.SummaryRead),
        (client_analytics.RevenueRead, server_revenue.RevenueRead),
        (client_analytics.LeaderboardRead, server_leaderboard.LeaderboardRead),
        (client_analytics.MetricResult, server_specs.MetricResult),
        (client_dashboards.PipelineRead, server_pipeline.PipelineRead),
        (client_dashboards.FunnelRead, server_funnel.FunnelRead),
        (client_dashboards.SpeedToLeadRead, server_speed.SpeedToLeadRead),
        (client_agents.AgentDetailRead, server_agents.AgentDetailRead),
        (client_agents.TeamsRead, server_agents.TeamsRead),
        (client_agents.TeamDetailRead, server_agents.TeamDetailRead),
        (client_ops.AlertList, server_alerts.AlertList),
        (client_ops.DeliveryRead, server_alerts.DeliveryRead),
        (client_ops.ScheduleRead, server_reports.ScheduleRead),
        (client_ops.AnomaliesRead, server_anomalies.AnomaliesRead),
        (client_forecast.MonteCarloRead, server_forecast.MonteCarloRead),
        (client_forecast.AccuracyRead, server_forecast.AccuracyRead),
        (client_models.MeRead, server_auth.MeRead),
        (client_models.UserRead, server_auth.UserRead),
        (client_models.ApiKeyCreated, server_auth.ApiKeyCreated),
        (client_models.TokenRead, server_auth.TokenRead),
    ],
)
def test_client_models_have_the_servers_fields(
    client_model: type[BaseModel], server_model: type[BaseModel]
) -> None:
    assert _names(client_model) == _names(server_model)


def test_client_vocabularies_are_the_servers() -> None:
    from dealscope.analytics import funnel, funnel_walk, leaderboard, periods, specs

    pairs = [
        (enums.RangeName, periods.RangeName),
        (enums.Compare, periods.Compare),
        (enums.Grain, periods.Grain),
        (enums.Unit, specs.Unit),
        (enums.Dimension, specs.Dimension),
        (enums.SortBy, leaderboard.SortBy),
        (enums.FunnelOrder, funnel_walk.FunnelOrder),
        (enums.FunnelBreakdown, funnel.FunnelBreakdown),
    ]
    for mine, theirs in pairs:
        assert [m.value for m in mine] == [t.value for t in theirs], mine.__name__
