"""Rate limits: requests per minute per caller (a user or an API key), in a moving window.

The counting is the `limits` library's moving window (what slowapi uses underneath), kept in
Redis when DEALSCOPE_REDIS_URL is set, so every API process shares the count, and in process
memory otherwise. A caller's limit is its tenant's `rate_limit_per_minute` when set, else
the server's; webhooks have their own, higher limit per tenant. A store that does not answer
lets requests through (logged): an outage of Redis must not become an outage of the API.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import redis
import sqlalchemy as sa
import structlog
from limits import RateLimitItem, RateLimitItemPerSecond
from limits.errors import StorageError
from limits.storage import MemoryStorage, RedisStorage, Storage
from limits.strategies import (
    MovingWindowRateLimiter,
    SlidingWindowCounterRateLimiter,
)
from limits.strategies import (
    RateLimiter as Strategy,
)
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dealscope.api.auth.principal import Principal
from dealscope.config import Settings
from dealscope.errors import RateLimited
from dealscope.warehouse.engine import Warehouse
from dealscope.warehouse.schema import tenants

DEFAULT_KEY_PREFIX = "dealscope:ratelimit"  # Settings.redis_key_prefix + ":ratelimit"
TENANT_LIMIT_CACHE_SECONDS = 30.0

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class RateLimitStatus:
    """Where a caller stands after a request was counted."""

    limit: int
    remaining: int
    reset_after_seconds: int


class TenantLimits:
    """Each tenant's own requests-per-minute (None: the server default), cached briefly so a
    request does not cost a query; a change made by an operator applies within the TTL."""

    def __init__(
        self,
        warehouse: Warehouse,
        ttl_seconds: float = TENANT_LIMIT_CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._warehouse = warehouse
        self._ttl = ttl_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._cached: dict[int, tuple[float, int | None]] = {}  # tenant -> (expires, limit)

    def per_minute(self, tenant_id: int) -> int | None:
        now = self._clock()
        with self._lock:
            cached = self._cached.get(tenant_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        with self._warehouse.engine.connect() as connection:
            value = connection.execute(
                sa.select(tenants.c.rate_limit_per_minute).where(tenants.c.id == tenant_id)
            ).scalar_one_or_none()
        limit = int(value) if value is not None else None
        with self._lock:
            self._cached[tenant_id] = (now + self._ttl, limit)
        return limit


def open_storage(redis_client: redis.Redis | None, key_prefix: str = DEFAULT_KEY_PREFIX) -> Storage:
    """Redis storage over the app's Redis connection pool, or process memory without one."""
    if redis_client is None:
        return MemoryStorage()
    # The URL is not dialled: the storage talks through the given pool (and its timeouts).
    return RedisStorage(
        "redis://",
        connection_pool=redis_client.connection_pool,
        key_prefix=key_prefix,
        wrap_exceptions=True,
    )


class _WindowCounters:
    """The sliding-window counter of `limits` (`SlidingWindowCounterRateLimiter`), in process
    memory: the same windows, weighting and answers, without `MemoryStorage`'s expiry timer,
    a thread it starts every 10 ms while hits arrive (under a webhook flood, a tenth of the
    accept path's time). Counts of windows before the previous one are dropped as it moves."""

    def __init__(self, window_seconds: int) -> None:
        self._expiry = window_seconds
        self._lock = threading.Lock()
        self._counts: dict[str, tuple[int, int, int]] = {}  # key -> (window, previous, current)

    def hit(self, key: str, limit: int) -> tuple[bool, RateLimitStatus]:
        now = time.time()
        expiry = self._expiry
        window = int(now / expiry)
        with self._lock:
            stored, previous, current = self._counts.get(key, (window, 0, 0))
            if stored != window:  # the window moved on: the current count becomes the previous
                previous, current = (current if stored == window - 1 else 0), 0
            fraction = (now / expiry) % 1
            previous_ttl = (1 - fraction) * expiry if previous else 0.0
            allowed = math.floor(previous * previous_ttl / expiry + current) + 1 <= limit
            if allowed:
                current += 1
            self._counts[key] = (window, previous, current)
        weighted = previous * previous_ttl / expiry + current
        remaining = max(0, limit - math.floor(weighted))
        reset_in = math.inf
        if previous:
            reset_in = previous_ttl % (expiry / previous)
        if current:
            reset_in = min(reset_in, ((1 - fraction) * expiry + expiry) % expiry)
        reset_after = 0 if reset_in == math.inf else max(0, math.ceil(reset_in))
        return allowed, RateLimitStatus(limit, remaining, reset_after)


class RateLimiter:
    """Counts requests per caller and refuses those over the limit with `RateLimited`.

    `window_seconds` is a minute in service; tests shorten it to see a window pass."""

    def __init__(
        self,
        storage: Storage,
        default_limit: int,
        webhook_limit: int,
        tenant_limits: Callable[[int], int | None] | None = None,
        window_seconds: int = 60,
    ) -> None:
        # People: the exact moving window (a timestamp per hit, few hits). Webhooks: the
        # sliding-window counter (two counters, weighted), since an exact window of a
        # flood's thousands of hits per minute costs a scan on every delivery.
        self._strategy = MovingWindowRateLimiter(storage)
        self._webhook_strategy = SlidingWindowCounterRateLimiter(storage)
        self._webhook_windows = (
            _WindowCounters(window_seconds) if isinstance(storage, MemoryStorage) else None
        )
        self._default_limit = default_limit
        self._webhook_limit = webhook_limit
        self._tenant_limits = tenant_limits
        self._window_seconds = window_seconds

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        warehouse: Warehouse,
        redis_client: redis.Redis | None,
    ) -> RateLimiter:
        return cls(
            open_storage(redis_client, f"{settings.redis_key_prefix}:ratelimit"),
            default_limit=settings.rate_limit_per_minute,
            webhook_limit=settings.webhook_rate_limit_per_minute,
            tenant_limits=TenantLimits(warehouse).per_minute,
        )

    def limit_for(self, principal: Principal) -> int:
        """The caller's requests per window: its tenant's override, else the default."""
        override = None if self._tenant_limits is None else self._tenant_limits(principal.tenant_id)
        return override if override is not None else self._default_limit

    def check(self, request: Request, principal: Principal) -> RateLimitStatus | None:
        """Count one request of `principal`; raise `RateLimited` when it is over its limit.

        Blocking (Redis round trips): call it from a sync dependency or a worker thread."""
        return self._hit(
            request, self._strategy, self.limit_for(principal), "api", principal.subject
        )

    def check_webhook(self, request: Request, tenant_key: str) -> RateLimitStatus | None:
        """Count one webhook delivery for the tenant named by `tenant_key`."""
        if self._webhook_windows is not None:
            allowed, status = self._webhook_windows.hit(tenant_key, self._webhook_limit)
            request.state.rate_limit = status
            if not allowed:
                raise RateLimited(
                    max(1, status.reset_after_seconds),
                    self._webhook_limit,
                    window=self._window_name(),
                )
            return status
        return self._hit(
            request, self._webhook_strategy, self._webhook_limit, "webhook", tenant_key
        )

    def _hit(
        self, request: Request, strategy: Strategy, limit: int, *identity: str
    ) -> RateLimitStatus | None:
        item = RateLimitItemPerSecond(limit, self._window_seconds)
        try:
            allowed = strategy.hit(item, *identity)
            status = self._status(strategy, item, *identity)
        except StorageError as exc:
            log.warning(
                "ratelimit.store_unavailable", error=str(exc.storage_error), caller=identity[-1]
            )
            return None
        request.state.rate_limit = status
        if not allowed:
            raise RateLimited(max(1, status.reset_after_seconds), limit, window=self._window_name())
        return status

    @staticmethod
    def _status(strategy: Strategy, item: RateLimitItem, *identity: str) -> RateLimitStatus:
        reset_at, remaining = strategy.get_window_stats(item, *identity)
        return RateLimitStatus(
            limit=item.amount,
            remaining=max(0, remaining),
            reset_after_seconds=max(0, math.ceil(reset_at - time.time())),
        )

    def _window_name(self) -> str:
        return "minute" if self._window_seconds == 60 else f"{self._window_seconds} s"


class RateLimitHeadersMiddleware:
    """Tells a counted caller where it stands: `X-RateLimit-Limit`, `X-RateLimit-Remaining`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_limits(message: Message) -> None:
            if message["type"] == "http.response.start":
                status = scope.get("state", {}).get("rate_limit")
                if isinstance(status, RateLimitStatus):
                    headers = MutableHeaders(scope=message)
                    headers["X-RateLimit-Limit"] = str(status.limit)
                    headers["X-RateLimit-Remaining"] = str(status.remaining)
            await send(message)

        await self.app(scope, receive, send_with_limits)
