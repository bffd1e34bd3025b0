"""DealScopeClient: one method per API call, typed results, errors that say what to do."""

from __future__ import annotations

from types import TracebackType

import httpx
from pydantic import ValidationError

from dealscope.client.errors import ApiError, ApiUnavailable
from dealscope.client.models import HealthRead

DEFAULT_TIMEOUT_SECONDS = 10.0


def _api_error(response: httpx.Response) -> ApiError:
    """The error a non-success response stands for, from its body when it has our shape."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return ApiError(response.status_code, body["error"], str(body.get("detail", "")))
    # Not our body: a proxy's error page or another service on the port.
    text = " ".join(response.text.split())[:200] or response.reason_phrase
    return ApiError(response.status_code, f"http_{response.status_code}", text)


class DealScopeClient:
    """A client of the API at `base_url` (e.g. http://127.0.0.1:8000). Close it when done,
    or use it as a context manager."""

    def __init__(
        self, base_url: str, timeout: float = DEFAULT_TIMEOUT_SECONDS, token: str | None = None
    ) -> None:
        self.base_url = base_url.rstrip("/")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout, headers=headers)

    def _get(self, path: str, ok_statuses: frozenset[int] = frozenset({200})) -> httpx.Response:
        url = f"{self.base_url}{path}"
        try:
            response = self._http.get(path)
        except httpx.TimeoutException as exc:
            raise ApiUnavailable(url, f"no answer within {self._http.timeout.read} s") from exc
        except httpx.TransportError as exc:
            raise ApiUnavailable(url, str(exc) or type(exc).__name__) from exc
        if response.status_code not in ok_statuses:
            raise _api_error(response)
        return response

    def health(self) -> HealthRead:
        """The API's health report. A 503 still carries a report (the database is down), so
        it is returned, not raised; read `.status` and `.database`."""
        response = self._get("/health", ok_statuses=frozenset({200, 503}))
        try:
            return HealthRead.model_validate_json(response.content)
        except ValidationError as exc:
            raise ApiError(
                response.status_code,
                "unexpected_response",
                f"{self.base_url}/health did not answer like a DealScope API: "
                f"{exc.error_count()} field error(s), first: {exc.errors()[0]['msg']}",
            ) from exc

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> DealScopeClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
