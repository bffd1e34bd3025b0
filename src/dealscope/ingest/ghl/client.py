"""HTTP transport to the GHL REST API v2: authentication, rate limits, retries.

`GhlClient.request` is the one way out. It sends the bearer token and the `Version` header
the endpoint needs, reads HighLevel's rate-limit headers after every answer and waits
before the next request when the burst window is spent, stops with a clear error when the
daily quota is gone, and retries 429 (honouring `Retry-After`), 502/503/504 and dropped
connections with exponential backoff and full jitter. Anything else that is not a success
becomes a `GhlApiError` naming the endpoint, the status and HighLevel's own message.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from dealscope.errors import AuthenticationFailed, DealScopeError

DEFAULT_BASE_URL = "https://services.leadconnectorhq.com"
# API versions per resource family (data-formats.md 1.6).
VERSION_CRM = "2021-07-28"  # contacts, opportunities, users, locations
VERSION_CONVERSATIONS = "2021-04-15"  # conversations, calendars

RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})


class GhlApiError(DealScopeError):
    """HighLevel answered a request with an error we cannot retry our way out of."""

    def __init__(self, message: str, status: int | None = None) -> None:
        self.status = status
        super().__init__(message)


class GhlAuthFailed(AuthenticationFailed):
    """HighLevel refused the token (wrong, expired, or without the scope asked for)."""


class GhlDailyLimitReached(GhlApiError):
    """The location's daily request quota is spent; the sync stops where it is."""


@dataclass(frozen=True)
class GhlCredentials:
    """Where and as whom to call HighLevel for one tenant: a sub-account (location) and a
    private integration token or an OAuth location access token."""

    location_id: str
    token: str
    base_url: str = DEFAULT_BASE_URL

    def __repr__(self) -> str:  # never print the token
        return f"GhlCredentials(location_id={self.location_id!r}, base_url={self.base_url!r})"


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: attempts per request, and the backoff between them (seconds)."""

    max_attempts: int = 6
    base_delay: float = 1.0
    max_delay: float = 60.0
    timeout: float = 30.0

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Full jitter: a random wait in [0, min(max, base * 2**attempt)]."""
        return rng.uniform(0.0, min(self.max_delay, self.base_delay * 2**attempt))


@dataclass
class RateLimitState:
    """What HighLevel last said about our quota (None: not told)."""

    burst_max: int | None = None
    burst_remaining: int | None = None
    interval_ms: int | None = None
    daily_limit: int | None = None
    daily_remaining: int | None = None
    observed_at: float | None = None  # monotonic time of the answer that told us

    def update(self, headers: Mapping[str, str], now: float) -> None:
        self.burst_max = _int_header(headers, "x-ratelimit-max", self.burst_max)
        self.burst_remaining = _int_header(headers, "x-ratelimit-remaining", None)
        self.interval_ms = _int_header(
            headers, "x-ratelimit-interval-milliseconds", self.interval_ms
        )
        self.daily_limit = _int_header(headers, "x-ratelimit-limit-daily", self.daily_limit)
        self.daily_remaining = _int_header(headers, "x-ratelimit-daily-remaining", None)
        self.observed_at = now

    def wait_before_next(self, now: float, reserve: int) -> float:
        """Seconds to wait before the next request so the burst window is not overrun: when
        at most `reserve` requests remain, until one full interval has passed since we were
        told (we are not told when the window started, so assume it just did)."""
        if self.burst_remaining is None or self.observed_at is None:
            return 0.0
        if self.burst_remaining > reserve:
            return 0.0
        interval = (self.interval_ms or 10_000) / 1000
        return max(0.0, self.observed_at + interval - now)


def _int_header(headers: Mapping[str, str], name: str, default: int | None) -> int | None:
    value = headers.get(name)
    if value is None:
        return default
    try:
        return int(float(value))
    except ValueError:
        return default


def retry_after_seconds(value: str | None, now: dt.datetime | None = None) -> float | None:
    """`Retry-After` as seconds to wait: delta-seconds or an HTTP date; None if absent or
    unreadable."""
    if not value:
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - (now or dt.datetime.now(dt.UTC))).total_seconds())


@dataclass
class RequestStats:
    requests: int = 0
    retries: int = 0
    throttled_seconds: float = 0.0
    statuses: dict[int, int] = field(default_factory=dict)


class GhlClient:
    """One HighLevel location, over one pooled HTTP connection. Use as a context manager."""

    def __init__(
        self,
        credentials: GhlCredentials,
        *,
        retry: RetryPolicy | None = None,
        reserve: int = 0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not credentials.location_id.strip():
            raise GhlApiError("the GHL location id is empty")
        if not credentials.token.strip():
            raise GhlAuthFailed("the GHL access token is empty")
        self.credentials = credentials
        self.retry = retry or RetryPolicy()
        self.reserve = reserve
        self.limits = RateLimitState()
        self.stats = RequestStats()
        self._sleep = sleep
        self._clock = clock
        self._rng = rng or random.Random()
        self._http = httpx.Client(
            base_url=credentials.base_url.rstrip("/"),
            headers={
                "Authorization": f"Bearer {credentials.token}",
                "Accept": "application/json",
                "User-Agent": "dealscope-ghl-sync",
            },
            timeout=self.retry.timeout,
            transport=transport,
        )

    @property
    def location_id(self) -> str:
        return self.credentials.location_id

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> GhlClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _pause(self, seconds: float) -> None:
        if seconds > 0:
            self.stats.throttled_seconds += seconds
            self._sleep(seconds)

    def request(
        self,
        method: str,
        path: str,
        *,
        version: str = VERSION_CRM,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> dict[str, Any]:
        """Send one API call (retrying what may be retried) and return its JSON object."""
        what = f"{method} {path}"
        attempt = 0
        while True:
            if self.limits.daily_remaining is not None and self.limits.daily_remaining <= 0:
                raise GhlDailyLimitReached(
                    f"GHL daily request quota of location {self.location_id} is spent "
                    f"(limit {self.limits.daily_limit}); the sync stopped at its last cursor "
                    "and continues from there when run again after the quota resets",
                    status=429,
                )
            self._pause(self.limits.wait_before_next(self._clock(), self.reserve))
            try:
                response = self._http.request(
                    method, path, params=params, json=json, headers={"Version": version}
                )
            except httpx.TransportError as exc:
                attempt += 1
                if attempt >= self.retry.max_attempts:
                    raise GhlApiError(
                        f"{what}: cannot reach GHL at {self.credentials.base_url} after "
                        f"{attempt} attempts: {exc}"
                    ) from exc
                self.stats.retries += 1
                self._pause(self.retry.backoff(attempt, self._rng))
                continue
            self.stats.requests += 1
            self.stats.statuses[response.status_code] = (
                self.stats.statuses.get(response.status_code, 0) + 1
            )
            self.limits.update(response.headers, self._clock())
            if response.status_code in RETRYABLE_STATUSES:
                attempt += 1
                if attempt >= self.retry.max_attempts:
                    raise GhlApiError(
                        f"{what}: GHL answered {response.status_code} {attempt} times in a "
                        f"row: {_message(response)}",
                        status=response.status_code,
                    )
                self.stats.retries += 1
                self._pause(self._retry_wait(response, attempt))
                continue
            return self._decoded(what, response)

    def _retry_wait(self, response: httpx.Response, attempt: int) -> float:
        told = retry_after_seconds(response.headers.get("retry-after"))
        if told is not None:
            return min(told, self.retry.max_delay * 5)
        if response.status_code == 429 and self.limits.interval_ms:
            # Throttled without a Retry-After: the burst window resets within one interval.
            return self.limits.interval_ms / 1000 + self.retry.backoff(0, self._rng)
        return self.retry.backoff(attempt, self._rng)

    def _decoded(self, what: str, response: httpx.Response) -> dict[str, Any]:
        status = response.status_code
        if status in (401, 403):
            raise GhlAuthFailed(
                f"{what}: GHL refused the token for location {self.location_id} ({status}: "
                f"{_message(response)}); check the token (--token or DEALSCOPE_GHL_TOKEN) and "
                "its scopes (contacts, opportunities, users, conversations: readonly)"
            )
        if status >= 400:
            raise GhlApiError(f"{what}: GHL answered {status}: {_message(response)}", status)
        try:
            body = response.json()
        except ValueError:
            raise GhlApiError(
                f"{what}: GHL answered {status} with a body that is not JSON: "
                f"{response.text[:200]!r}",
                status,
            ) from None
        if not isinstance(body, dict):
            raise GhlApiError(f"{what}: expected a JSON object, got {type(body).__name__}", status)
        return body


def _message(response: httpx.Response) -> str:
    """HighLevel's own error message (`message` may be a string or a list), else the text."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:300] or response.reason_phrase
    if isinstance(body, dict):
        message = body.get("message") or body.get("error") or body
        if isinstance(message, list):
            return "; ".join(str(m) for m in message)
        return str(message)[:300]
    return str(body)[:300]
