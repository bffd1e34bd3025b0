"""Security headers on every response, CORS only for configured origins, HSTS only over
HTTPS, and forwarding headers believed only from trusted proxies."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dealscope.api.app import create_app
from dealscope.api.headers import API_CONTENT_SECURITY_POLICY, HSTS, SECURITY_HEADERS
from dealscope.api.proxies import TrustedProxies
from dealscope.config import Settings
from dealscope.warehouse.engine import Warehouse

# The warehouse's backend is moot for headers: DuckDB only.
duckdb_only = pytest.mark.parametrize("warehouse", ["duckdb"], indirect=True)

ORIGIN = "https://dash.acme.example"


def _client(
    warehouse: Warehouse, settings_for: Callable[..., Settings], **options: Any
) -> TestClient:
    settings = settings_for(
        warehouse,
        cors_origins=options.pop("cors_origins", []),
        trusted_proxies=options.pop("trusted_proxies", []),
    )
    return TestClient(create_app(settings), **options)


@pytest.mark.parametrize(
    ("path", "status"),
    [("/health", 200), ("/api/v1/auth/me", 401), ("/api/v1/nothing", 404), ("/openapi.json", 200)],
)
@duckdb_only
def test_json_responses_carry_every_security_header_and_the_csp(
    api: TestClient, path: str, status: int
) -> None:
    response = api.get(path)

    assert response.status_code == status
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value, name
    assert (
        response.headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
    )
    assert "Strict-Transport-Security" not in response.headers  # plain http


@duckdb_only
@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_the_documentation_pages_have_no_csp_to_block_their_scripts(
    api: TestClient, path: str
) -> None:
    response = api.get(path)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "Content-Security-Policy" not in response.headers
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@duckdb_only
def test_the_header_values(api: TestClient) -> None:
    headers = api.get("/health").headers

    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert headers["Permissions-Policy"] == (
        "camera=(), geolocation=(), microphone=(), payment=(), usb=()"
    )
    assert headers["Content-Security-Policy"] == API_CONTENT_SECURITY_POLICY


@duckdb_only
def test_hsts_is_sent_over_https(
    warehouse: Warehouse, settings_for: Callable[..., Settings]
) -> None:
    with _client(warehouse, settings_for, base_url="https://api.acme.example") as client:
        response = client.get("/health")

    assert (
        response.headers["Strict-Transport-Security"]
        == HSTS
        == ("max-age=31536000; includeSubDomains")
    )


@duckdb_only
def test_hsts_follows_x_forwarded_proto_only_from_a_trusted_proxy(
    warehouse: Warehouse, settings_for: Callable[..., Settings]
) -> None:
    https = {"X-Forwarded-Proto": "https"}
    with _client(
        warehouse, settings_for, trusted_proxies=["10.0.0.0/8"], client=("10.1.2.3", 4000)
    ) as behind_proxy:
        trusted = behind_proxy.get("/health", headers=https)
    with _client(
        warehouse, settings_for, trusted_proxies=["10.0.0.0/8"], client=("198.51.100.9", 4000)
    ) as direct:
        spoofed = direct.get("/health", headers=https)

    assert trusted.headers["Strict-Transport-Security"] == HSTS
    assert "Strict-Transport-Security" not in spoofed.headers


# --- CORS ------------------------------------------------------------------------------


def _preflight(client: TestClient, origin: str, method: str = "PUT") -> Any:
    return client.options(
        "/api/v1/config/dashboard",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "Authorization, Content-Type, X-API-Key, "
            "X-Request-ID",
        },
    )


@duckdb_only
def test_without_configured_origins_no_cors_headers_are_sent(api: TestClient) -> None:
    preflight = _preflight(api, ORIGIN)
    simple = api.get("/health", headers={"Origin": ORIGIN})

    assert "Access-Control-Allow-Origin" not in preflight.headers
    assert preflight.status_code == 405  # no CORS layer: OPTIONS is just an unknown method
    assert "Access-Control-Allow-Origin" not in simple.headers


@duckdb_only
def test_a_configured_origin_may_call_with_tokens_and_read_the_request_id(
    warehouse: Warehouse, settings_for: Callable[..., Settings]
) -> None:
    with _client(warehouse, settings_for, cors_origins=[ORIGIN]) as client:
        preflight = _preflight(client, ORIGIN)
        simple = client.get("/api/v1/auth/me", headers={"Origin": ORIGIN})

    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == ORIGIN
    allowed = {
        h.strip().lower() for h in preflight.headers["Access-Control-Allow-Headers"].split(",")
    }
    assert {"authorization", "content-type", "x-api-key", "x-request-id"} <= allowed
    assert "PUT" in preflight.headers["Access-Control-Allow-Methods"]
    assert "Access-Control-Allow-Credentials" not in preflight.headers
    assert preflight.headers["X-Content-Type-Options"] == "nosniff"  # preflights too
    assert simple.status_code == 401
    assert simple.headers["Access-Control-Allow-Origin"] == ORIGIN
    exposed = {h.strip() for h in simple.headers["Access-Control-Expose-Headers"].split(",")}
    assert {"X-Request-ID", "Retry-After"} <= exposed


@duckdb_only
def test_another_origin_is_refused(
    warehouse: Warehouse, settings_for: Callable[..., Settings]
) -> None:
    with _client(warehouse, settings_for, cors_origins=[ORIGIN]) as client:
        preflight = _preflight(client, "https://evil.example")
        simple = client.get("/health", headers={"Origin": "https://evil.example"})

    assert preflight.status_code == 400
    assert "Access-Control-Allow-Origin" not in preflight.headers
    assert "Access-Control-Allow-Origin" not in simple.headers


# --- whose address -----------------------------------------------------------------------


def _scope(peer: str, **headers: str) -> dict[str, Any]:
    return {
        "type": "http",
        "client": (peer, 1234),
        "scheme": "http",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
    }


def test_the_peer_is_the_client_unless_it_is_a_trusted_proxy() -> None:
    proxies = TrustedProxies.parse(["10.0.0.0/8", "::1"])
    forwarded = {"X-Forwarded-For": "203.0.113.7, 10.0.0.2"}

    assert proxies.client_ip(_scope("198.51.100.1", **forwarded)) == "198.51.100.1"
    assert proxies.client_ip(_scope("10.0.0.1", **forwarded)) == "203.0.113.7"
    assert proxies.client_ip(_scope("::1", **{"X-Forwarded-For": "2001:db8::5"})) == "2001:db8::5"
    assert proxies.client_ip(_scope("10.0.0.1")) == "10.0.0.1"  # nothing forwarded
    # A client cannot hide behind a forged left-most entry: the nearest untrusted hop wins.
    spoofed = {"X-Forwarded-For": "1.2.3.4, 203.0.113.7"}
    assert proxies.client_ip(_scope("10.0.0.1", **spoofed)) == "203.0.113.7"
    assert TrustedProxies().client_ip(_scope("10.0.0.1", **forwarded)) == "10.0.0.1"
    assert not proxies.trusts("testclient")
