"""Security headers on every response, and CORS for the browser origins the settings name."""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dealscope.api.proxies import TrustedProxies

# The API serves JSON only: nothing in a response may load, run or frame anything.
API_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'"
HSTS = "max-age=31536000; includeSubDomains"

SECURITY_HEADERS: dict[str, str] = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "camera=(), geolocation=(), microphone=(), payment=(), usb=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}

CORS_ALLOWED_HEADERS = ["Authorization", "Content-Type", "X-API-Key", "X-Request-ID"]
CORS_EXPOSED_HEADERS = [
    "X-Request-ID",
    "Retry-After",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-Data-Version",
    "X-Cache",
]
CORS_ALLOWED_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]


class SecurityHeadersMiddleware:
    """Adds `SECURITY_HEADERS` to every response, the API's Content-Security-Policy to all but
    the documentation pages (Swagger UI and ReDoc load scripts and styles), and HSTS when the
    client connected over HTTPS."""

    def __init__(
        self,
        app: ASGIApp,
        documentation_paths: Iterable[str] = (),
        trusted_proxies: TrustedProxies | None = None,
    ) -> None:
        self.app = app
        self.documentation_paths = frozenset(documentation_paths)
        self.trusted_proxies = trusted_proxies or TrustedProxies()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = dict(SECURITY_HEADERS)
        if scope["path"] not in self.documentation_paths:
            extra["Content-Security-Policy"] = API_CONTENT_SECURITY_POLICY
        if self.trusted_proxies.scheme(scope) == "https":
            extra["Strict-Transport-Security"] = HSTS

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in extra.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def documentation_paths(app: FastAPI) -> list[str]:
    """The HTML pages FastAPI serves for the OpenAPI schema."""
    paths = (app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url)
    return [path for path in paths if path]


def install_cors(app: FastAPI, origins: list[str]) -> None:
    """Let browsers on `origins` call the API with a token; nothing at all when empty.

    Credentials (cookies) are not allowed: callers send tokens or keys in headers."""
    if not origins:
        return
    app.add_middleware(
        CORSMiddleware,
        allow_origins=origins,
        allow_methods=CORS_ALLOWED_METHODS,
        allow_headers=CORS_ALLOWED_HEADERS,
        expose_headers=CORS_EXPOSED_HEADERS,
        allow_credentials=False,
        max_age=600,
    )
