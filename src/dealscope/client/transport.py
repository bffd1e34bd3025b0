"""HTTP with the API's credentials: a bearer token, an API key, or a signed-in session whose
access token is refreshed transparently (before it expires, and once after a 401).

Refresh tokens rotate: each works once, and presenting a spent one ends the whole session.
So a refresh happens under a lock, and a caller that finds the tokens already replaced by
another thread retries with the new ones instead of refreshing again."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from dealscope.client.errors import ApiError, ApiUnavailable, SessionExpired
from dealscope.client.models import TokenRead

REFRESH_MARGIN = dt.timedelta(seconds=30)  # refresh when the access token has less left
TOKEN_PATH = "/api/v1/auth/token"
REFRESH_PATH = "/api/v1/auth/refresh"

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Tokens:
    """A signed-in session: the access token, its one-use refresh token, and when the
    access token expires (UTC)."""

    access_token: str
    refresh_token: str
    expires_at: dt.datetime

    @classmethod
    def issued(cls, read: TokenRead, now: dt.datetime) -> Tokens:
        expires = now + dt.timedelta(seconds=read.expires_in)
        return cls(read.access_token, read.refresh_token, expires)


TokensListener = Callable[[Tokens | None], None]


def api_error(response: httpx.Response) -> ApiError:
    """The error a non-success response stands for, from its body when it has our shape."""
    retry_after = _seconds(response.headers.get("Retry-After"))
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        detail = str(body.get("detail", ""))
        return ApiError(response.status_code, body["error"], detail, retry_after)
    # Not our body: a proxy's error page or another service on the port.
    text = " ".join(response.text.split())[:200] or response.reason_phrase
    return ApiError(response.status_code, f"http_{response.status_code}", text, retry_after)


def _seconds(value: str | None) -> float | None:
    try:
        return None if value is None else float(value)
    except ValueError:
        return None


class Transport:
    """One HTTP connection pool to the API and the credentials it sends."""

    def __init__(
        self,
        base_url: str,
        timeout: float,
        token: str | None = None,
        api_key: str | None = None,
        tokens: Tokens | None = None,
        on_tokens: TokensListener | None = None,
        clock: Clock = utc_now,
    ) -> None:
        if sum(x is not None for x in (token, api_key, tokens)) > 1:
            raise ValueError("give one credential: token, api_key or tokens")
        self.base_url = base_url.rstrip("/")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if api_key:
            headers["X-API-Key"] = api_key
        self.http = httpx.Client(base_url=self.base_url, timeout=timeout, headers=headers)
        self._tokens = tokens
        self._on_tokens = on_tokens
        self._clock = clock
        self._lock = threading.Lock()

    @property
    def tokens(self) -> Tokens | None:
        return self._tokens

    def set_tokens(self, tokens: Tokens | None) -> None:
        with self._lock:
            self._tokens = tokens
        if self._on_tokens is not None:
            self._on_tokens(tokens)

    # --- raw requests --------------------------------------------------------------------

    def send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        files: Any = None,
    ) -> httpx.Response:
        url = f"{self.base_url}{path}"
        try:
            return self.http.request(
                method, path, params=params, json=json, data=data, headers=headers, files=files
            )
        except httpx.TimeoutException as exc:
            raise ApiUnavailable(url, f"no answer within {self.http.timeout.read} s") from exc
        except httpx.TransportError as exc:
            raise ApiUnavailable(url, str(exc) or type(exc).__name__) from exc

    # --- authenticated requests ----------------------------------------------------------

    def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        ok: frozenset[int] = frozenset({200}),
        files: Any = None,
    ) -> httpx.Response:
        """`method path` with the credentials; with a session, a stale access token is
        refreshed first and a 401 is retried once after a refresh. Raises ApiError for a
        status not in `ok`, SessionExpired when the session cannot be renewed."""
        used = self._fresh_access_token()
        response = self.send(
            method, path, params=params, json=json, headers=_bearer(used), files=files
        )
        if response.status_code == 401 and used is not None:
            renewed = self._refresh_unless_replaced(used)
            response = self.send(
                method, path, params=params, json=json, headers=_bearer(renewed), files=files
            )
            if response.status_code == 401:
                self.set_tokens(None)
                raise SessionExpired(api_error(response).detail)
        if response.status_code not in ok:
            raise api_error(response)
        return response

    def sign_in(self, email: str, password: str, tenant: str | None) -> Tokens:
        form = {"username": email, "password": password, "grant_type": "password"}
        if tenant:
            form["tenant"] = tenant
        response = self.send("POST", TOKEN_PATH, data=form)
        if response.status_code != 200:
            raise api_error(response)
        tokens = Tokens.issued(TokenRead.model_validate_json(response.content), self._clock())
        self.set_tokens(tokens)
        return tokens

    def refresh(self) -> Tokens:
        """Exchange the refresh token for new tokens now."""
        current = self._tokens
        if current is None:
            raise SessionExpired("this client has no session to refresh")
        return self._exchange(current)

    def _fresh_access_token(self) -> str | None:
        current = self._tokens
        if current is None:
            return None
        if self._clock() < current.expires_at - REFRESH_MARGIN:
            return current.access_token
        return self._refresh_unless_replaced(current.access_token)

    def _refresh_unless_replaced(self, used: str) -> str:
        with self._lock:
            current = self._tokens
            if current is None:
                raise SessionExpired("signed out")
            if current.access_token != used:
                return current.access_token  # another caller refreshed meanwhile
        return self._exchange(current).access_token

    def _exchange(self, current: Tokens) -> Tokens:
        with self._lock:
            if self._tokens is not current:  # replaced while we waited for the lock
                if self._tokens is None:
                    raise SessionExpired("signed out")
                return self._tokens
            response = self.send(
                "POST", REFRESH_PATH, json={"refresh_token": current.refresh_token}
            )
            if response.status_code == 401:
                self._tokens = None
                error: ApiError | None = api_error(response)
            elif response.status_code != 200:
                raise api_error(response)
            else:
                error = None
                read = TokenRead.model_validate_json(response.content)
                self._tokens = Tokens.issued(read, self._clock())
            tokens = self._tokens
        if self._on_tokens is not None:
            self._on_tokens(tokens)
        if error is not None or tokens is None:
            raise SessionExpired(error.detail if error else "signed out")
        return tokens

    def close(self) -> None:
        self.http.close()


def _bearer(token: str | None) -> dict[str, str] | None:
    return None if token is None else {"Authorization": f"Bearer {token}"}
