"""What can go wrong talking to the API, as domain errors the CLI and dashboard can show."""

from __future__ import annotations

from dealscope.errors import DealScopeError


class ClientError(DealScopeError):
    """Base of the client's errors."""


class ApiUnavailable(ClientError):
    """The API could not be reached at all (refused, timed out, name not resolved)."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"the DealScope API at {url} is not reachable: {reason}")
        self.url = url
        self.reason = reason


class ApiError(ClientError):
    """The API answered with an error body `{"error": code, "detail": message}`."""

    def __init__(
        self, status_code: int, code: str, detail: str, retry_after: float | None = None
    ) -> None:
        super().__init__(f"{detail} ({code}, HTTP {status_code})")
        self.status_code = status_code
        self.code = code
        self.detail = detail
        self.retry_after = retry_after  # seconds, from Retry-After (429, 423)


class SessionExpired(ClientError):
    """The session's tokens no longer work (signed out elsewhere, expired or revoked):
    sign in again."""

    def __init__(self, detail: str) -> None:
        super().__init__(f"the session has ended: {detail}; sign in again")
        self.detail = detail
