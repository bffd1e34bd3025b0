"""Request ids: echo the caller's X-Request-ID (or make one) and bind it to every log line."""

from __future__ import annotations

import re
import time
import uuid

import structlog
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = "X-Request-ID"

# A caller's id is reused only when it is short and plain, so it is safe in logs and headers.
_ACCEPTABLE_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")

log = structlog.get_logger(__name__)


def _request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            if _ACCEPTABLE_ID.fullmatch(candidate):
                return candidate
            break
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Pure ASGI (not BaseHTTPMiddleware) so the bound context reaches the endpoint's thread."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        status_code = 500  # stays so if the app raises before it starts a response
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        with structlog.contextvars.bound_contextvars(
            request_id=request_id, method=scope["method"], path=scope["path"]
        ):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                log.debug(
                    "request.finished",
                    status=status_code,
                    duration_ms=round((time.perf_counter() - started) * 1000, 1),
                )
