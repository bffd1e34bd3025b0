"""The one table that turns domain errors into HTTP responses.

Every error body has the shape `{"error": code, "detail": message}`. Domain errors carry no
HTTP codes (dealscope.errors); they get theirs here. 422 is reserved for payload validation.
Anything unexpected is a 500 that names the request id, so the log line can be found.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import sqlalchemy.exc
import structlog
from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dealscope.errors import (
    AccountLocked,
    AlreadyExists,
    AuthenticationFailed,
    ConfigurationError,
    Conflict,
    DealScopeError,
    NotFound,
    PermissionDenied,
    RateLimited,
    SchemaOutOfDate,
    ValidationFailed,
    WarehouseBusy,
)
from dealscope.warehouse.tenancy import ScopeViolation

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class ErrorMapping:
    status_code: int
    code: str
    headers: Mapping[str, str] = field(default_factory=dict)  # sent with every such error


# The nearest entry along an exception's MRO wins, so a new subclass inherits its parent's
# mapping until it gets its own line here.
ERROR_TABLE: dict[type[Exception], ErrorMapping] = {
    DealScopeError: ErrorMapping(status.HTTP_400_BAD_REQUEST, "bad_request"),
    NotFound: ErrorMapping(status.HTTP_404_NOT_FOUND, "not_found"),
    ValidationFailed: ErrorMapping(status.HTTP_400_BAD_REQUEST, "validation_failed"),
    ScopeViolation: ErrorMapping(status.HTTP_403_FORBIDDEN, "scope_violation"),
    Conflict: ErrorMapping(status.HTTP_409_CONFLICT, "conflict"),
    AlreadyExists: ErrorMapping(status.HTTP_409_CONFLICT, "already_exists"),
    AuthenticationFailed: ErrorMapping(
        status.HTTP_401_UNAUTHORIZED, "not_authenticated", {"WWW-Authenticate": "Bearer"}
    ),
    AccountLocked: ErrorMapping(status.HTTP_423_LOCKED, "account_locked"),
    PermissionDenied: ErrorMapping(status.HTTP_403_FORBIDDEN, "permission_denied"),
    RateLimited: ErrorMapping(status.HTTP_429_TOO_MANY_REQUESTS, "rate_limited"),
    WarehouseBusy: ErrorMapping(status.HTTP_503_SERVICE_UNAVAILABLE, "warehouse_busy"),
    SchemaOutOfDate: ErrorMapping(status.HTTP_503_SERVICE_UNAVAILABLE, "schema_out_of_date"),
    ConfigurationError: ErrorMapping(status.HTTP_503_SERVICE_UNAVAILABLE, "misconfigured"),
    # The database going away is an outage, not a bug in the request or in us.
    sqlalchemy.exc.OperationalError: ErrorMapping(
        status.HTTP_503_SERVICE_UNAVAILABLE, "warehouse_unavailable"
    ),
}


def mapping_for(exc: Exception) -> ErrorMapping | None:
    """The table entry for `exc`, from its nearest mapped class; None when unmapped."""
    for cls in type(exc).__mro__:
        mapping = ERROR_TABLE.get(cls)
        if mapping is not None:
            return mapping
    return None


def error_response(status_code: int, code: str, detail: str) -> JSONResponse:
    return JSONResponse({"error": code, "detail": detail}, status_code=status_code)


async def _mapped_error(request: Request, exc: Exception) -> JSONResponse:
    mapping = mapping_for(exc)
    if mapping is None:  # registered only for mapped classes, so this is a programming error
        return await _unexpected_error(request, exc)
    log.info("request.failed", error=mapping.code, detail=str(exc))
    detail = str(exc)
    if isinstance(exc, sqlalchemy.exc.OperationalError):
        # The driver's message can name hosts and users; the log has it, the client need not.
        detail = "the warehouse database is not reachable right now; try again shortly"
    response = error_response(mapping.status_code, mapping.code, detail)
    response.headers.update(mapping.headers)
    if isinstance(exc, RateLimited):
        response.headers["Retry-After"] = str(exc.retry_after_seconds)
    return response


def _location(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [f"{_location(tuple(e['loc']))}: {e['msg']}" for e in exc.errors()]
    return error_response(
        status.HTTP_422_UNPROCESSABLE_CONTENT, "invalid_request", "; ".join(problems)
    )


_HTTP_CODES = {
    status.HTTP_404_NOT_FOUND: "not_found",
    status.HTTP_405_METHOD_NOT_ALLOWED: "method_not_allowed",
}


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
    response = error_response(exc.status_code, code, str(exc.detail))
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    request_id = getattr(request.state, "request_id", None)
    log.error("request.crashed", exc_info=exc)
    return error_response(
        status.HTTP_500_INTERNAL_SERVER_ERROR,
        "internal_error",
        f"an unexpected error occurred; the server log has the details (request id {request_id})",
    )


class UnexpectedErrorMiddleware:
    """Renders a bug's 500 inside the middleware stack (Starlette would render it outside all
    of it), so security headers, the request id and the audit outcome apply to it too. Add it
    before any other middleware: the first added is the innermost."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started:  # too late to answer differently; let the server close it
                raise
            response = await _unexpected_error(Request(scope), exc)
            await response(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    """Render every error the app can raise in the `{"error", "detail"}` shape."""
    for exc_class in ERROR_TABLE:
        app.add_exception_handler(exc_class, _mapped_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
