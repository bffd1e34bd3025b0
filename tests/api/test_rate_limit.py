"""Rate limits per caller, in process memory and in a real Redis.

The limiter is driven directly for the counting rules (a 101st request, another caller, a
tenant's own limit, a window passing, webhooks), and through the API for what a client sees
(429 with Retry-After in the error shape, X-RateLimit-* headers, a tenant override read from
the warehouse).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator

import pytest
import redis
from accounts import add_brokerage, add_user, bearer_of
from fastapi.testclient import TestClient
from limits.storage import MemoryStorage, Storage
from starlette.requests import Request

from dealscope.api.app import create_app
from dealscope.api.auth.principal import Principal
from dealscope.api.ratelimit import RateLimiter, RateLimitStatus, open_storage
from dealscope.config import Settings
from dealscope.errors import RateLimited
from dealscope.kit.roles import Role
from dealscope.warehouse.engine import Warehouse
from dealscope.warehouse.schema import tenants
from dealscope.warehouse.tenancy import TenantScope

ME = "/api/v1/auth/me"


def _principal(user_id: int, tenant_id: int = 1) -> Principal:
    return Principal(
        tenant_id=tenant_id,
        role=Role.ANALYST,
        scope=TenantScope(tenant_id),
        display=f"user{user_id}@example.com",
        user_id=user_id,
    )


def _request() -> Request:
    return Request({"type": "http", "method": "GET", "path": "/", "headers": []})


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def store(request: pytest.FixtureRequest) -> Iterator[Callable[[], Storage]]:
    """A factory of fresh, isolated limiter storages of each kind."""
    clients: list[redis.Redis] = []

    def make() -> Storage:
        if request.param == "memory":
            return MemoryStorage()
        client = redis.Redis.from_url(request.getfixturevalue("redis_url"))
        clients.append(client)
        prefix = f"{request.getfixturevalue('redis_prefix')}{secrets.token_hex(4)}"
        return open_storage(client, prefix)

    yield make
    for client in clients:
        client.close()


def test_the_101st_request_in_a_minute_is_refused_with_a_retry_time(
    store: Callable[[], Storage],
) -> None:
    limiter = RateLimiter(store(), default_limit=100, webhook_limit=1200)
    caller = _principal(7)

    statuses = [limiter.check(_request(), caller) for _ in range(100)]
    with pytest.raises(RateLimited) as refused:
        limiter.check(_request(), caller)

    assert statuses[0] == RateLimitStatus(limit=100, remaining=99, reset_after_seconds=60)
    assert statuses[-1] is not None and statuses[-1].remaining == 0
    assert 0 < refused.value.retry_after_seconds <= 60
    assert refused.value.limit == 100
    assert str(refused.value) == (
        f"rate limit of 100 requests per minute exceeded; "
        f"retry after {refused.value.retry_after_seconds} s"
    )


def test_another_caller_has_its_own_count(store: Callable[[], Storage]) -> None:
    limiter = RateLimiter(store(), default_limit=3, webhook_limit=1200)
    busy, other, same_id_as_key = (
        _principal(1),
        _principal(2),
        Principal(1, Role.VIEWER, TenantScope(1), "export key", api_key_id=1),
    )
    for _ in range(3):
        limiter.check(_request(), busy)
    with pytest.raises(RateLimited):
        limiter.check(_request(), busy)

    other_status = limiter.check(_request(), other)
    key_status = limiter.check(_request(), same_id_as_key)  # api_key:1 is not user:1

    assert other_status is not None and other_status.remaining == 2
    assert key_status is not None and key_status.remaining == 2


def test_a_tenants_own_limit_overrides_the_default(store: Callable[[], Storage]) -> None:
    overrides = {10: 3}
    limiter = RateLimiter(store(), 100, 1200, tenant_limits=overrides.get)
    strict, default = _principal(1, tenant_id=10), _principal(2, tenant_id=20)

    for _ in range(3):
        limiter.check(_request(), strict)
    with pytest.raises(RateLimited) as refused:
        limiter.check(_request(), strict)
    status = limiter.check(_request(), default)

    assert refused.value.limit == 3
    assert limiter.limit_for(strict) == 3
    assert status is not None and (status.limit, status.remaining) == (100, 99)


def test_the_count_starts_again_once_the_window_has_passed(store: Callable[[], Storage]) -> None:
    limiter = RateLimiter(store(), default_limit=2, webhook_limit=2, window_seconds=1)
    caller = _principal(3)
    limiter.check(_request(), caller)
    limiter.check(_request(), caller)
    with pytest.raises(RateLimited) as refused:
        limiter.check(_request(), caller)
    assert refused.value.retry_after_seconds == 1
    assert "per 1 s" in str(refused.value)

    time.sleep(1.05)

    status = limiter.check(_request(), caller)
    assert status is not None and status.remaining == 1


def test_webhooks_count_per_tenant_key_against_their_own_limit(
    store: Callable[[], Storage],
) -> None:
    limiter = RateLimiter(store(), default_limit=1, webhook_limit=5)
    caller = _principal(4)
    limiter.check(_request(), caller)  # the API limit (1) is used up ...

    statuses = [limiter.check_webhook(_request(), "tenant:acme") for _ in range(5)]
    with pytest.raises(RateLimited) as refused:
        limiter.check_webhook(_request(), "tenant:acme")
    other_tenant = limiter.check_webhook(_request(), "tenant:zenith")

    assert [s.remaining for s in statuses if s is not None] == [4, 3, 2, 1, 0]  # ... not these
    assert refused.value.limit == 5
    assert other_tenant is not None and other_tenant.remaining == 4
    with pytest.raises(RateLimited):
        limiter.check(_request(), caller)


def test_the_status_is_left_on_the_request_for_the_response_headers(
    store: Callable[[], Storage],
) -> None:
    limiter = RateLimiter(store(), default_limit=5, webhook_limit=5)
    request = _request()

    limiter.check(request, _principal(5))

    assert request.state.rate_limit == RateLimitStatus(5, 4, 60)


@pytest.mark.redis
def test_redis_keys_live_under_the_prefix_and_expire_with_the_window(
    redis_url: str, redis_prefix: str
) -> None:
    prefix = f"{redis_prefix}{secrets.token_hex(4)}"
    with redis.Redis.from_url(redis_url) as client:
        limiter = RateLimiter(open_storage(client, prefix), 10, 10, window_seconds=60)
        limiter.check(_request(), _principal(9))
        limiter.check_webhook(_request(), "tenant:acme")

        keys = sorted(k.decode() for k in client.scan_iter(match=f"{prefix}*"))
        ttls = [client.ttl(key) for key in keys]

    assert keys == [
        f"{prefix}:LIMITER/api/user:9/10/60/second",
        # the sliding-window counter's key, hash-tagged for Redis Cluster; it also holds the
        # previous window's count, so it lives two windows
        f"{prefix}:{{LIMITER/webhook/tenant:acme/10/60/second}}",
    ]
    assert 0 < ttls[0] <= 60 and 0 < ttls[1] <= 120, ttls


def test_an_unreachable_redis_lets_requests_through(free_port: Callable[[], int]) -> None:
    dead = redis.Redis.from_url(
        f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=0.5, socket_timeout=0.5
    )
    limiter = RateLimiter(open_storage(dead, "gone"), default_limit=1, webhook_limit=1)
    request = _request()

    results = [limiter.check(request, _principal(1)) for _ in range(3)]

    assert results == [None, None, None]
    assert getattr(request.state, "rate_limit", None) is None


# --- through the API -----------------------------------------------------------------


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def limited_settings(
    request: pytest.FixtureRequest, warehouse: Warehouse, settings_for: Callable[..., Settings]
) -> Settings:
    """Settings of an app over `warehouse` whose limiter counts in memory or in Redis."""
    if request.param == "memory":
        return settings_for(warehouse)
    prefix = f"{request.getfixturevalue('redis_prefix')}{secrets.token_hex(4)}"
    return settings_for(
        warehouse, redis_url=request.getfixturevalue("redis_url"), redis_key_prefix=prefix
    )


@pytest.mark.parametrize("warehouse", ["duckdb"], indirect=True)
def test_the_api_answers_the_101st_request_with_429_and_retry_after(
    warehouse: Warehouse, limited_settings: Settings
) -> None:
    acme = add_brokerage(warehouse, "acme")
    add_user(warehouse, acme, "ann@acme.example", Role.ANALYST)
    add_user(warehouse, acme, "bob@acme.example", Role.ANALYST)
    with TestClient(create_app(limited_settings)) as client:
        ann, bob = bearer_of(client, "ann@acme.example"), bearer_of(client, "bob@acme.example")
        answers = [client.get(ME, headers=ann) for _ in range(100)]
        refused = client.get(ME, headers=ann)
        bobs = client.get(ME, headers=bob)

    assert {a.status_code for a in answers} == {200}
    assert (
        answers[0].headers["X-RateLimit-Limit"],
        answers[0].headers["X-RateLimit-Remaining"],
    ) == ("100", "99")
    assert answers[-1].headers["X-RateLimit-Remaining"] == "0"
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert refused.json() == {
        "error": "rate_limited",
        "detail": f"rate limit of 100 requests per minute exceeded; "
        f"retry after {refused.headers['Retry-After']} s",
    }
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert (bobs.status_code, bobs.headers["X-RateLimit-Remaining"]) == (200, "99")


def test_a_tenants_limit_in_the_warehouse_applies_to_its_callers(
    warehouse: Warehouse, limited_settings: Settings
) -> None:
    strict, relaxed = add_brokerage(warehouse, "strict"), add_brokerage(warehouse, "relaxed")
    with warehouse.engine.begin() as connection:
        connection.execute(
            tenants.update().where(tenants.c.id == strict.tenant_id).values(rate_limit_per_minute=3)
        )
    add_user(warehouse, strict, "sam@strict.example", Role.VIEWER)
    add_user(warehouse, relaxed, "rae@relaxed.example", Role.VIEWER)
    with TestClient(create_app(limited_settings)) as client:
        sam, rae = bearer_of(client, "sam@strict.example"), bearer_of(client, "rae@relaxed.example")
        sams = [client.get(ME, headers=sam).status_code for _ in range(4)]
        rae_answer = client.get(ME, headers=rae)

    assert sams == [200, 200, 200, 429]
    assert rae_answer.headers["X-RateLimit-Limit"] == "100"


@pytest.mark.parametrize("warehouse", ["duckdb"], indirect=True)
def test_requests_without_a_caller_carry_no_rate_limit_headers(api: TestClient) -> None:
    response = api.get(ME)

    assert response.status_code == 401
    assert "X-RateLimit-Limit" not in response.headers
