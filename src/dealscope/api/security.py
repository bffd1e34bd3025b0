"""The security layers around every route: headers, CORS, the audit log and rate-limit headers.

Installed in this order, outermost first (call before the request-id middleware is added, so
that it wraps these and their log lines carry the request id):

    SecurityHeaders -> CORS (when origins are configured) -> Audit -> RateLimitHeaders -> routes

CORS answers browser preflights before they reach the audit log; the audit middleware sees
the final status of every request under the API prefix, 429s included.
"""

from __future__ import annotations

from fastapi import FastAPI

from dealscope.api.audit.middleware import AuditMiddleware
from dealscope.api.headers import SecurityHeadersMiddleware, documentation_paths, install_cors
from dealscope.api.proxies import TrustedProxies
from dealscope.api.ratelimit import RateLimitHeadersMiddleware
from dealscope.config import Settings

# Routes whose action is not their method's, by route template under the API prefix.
NAMED_ACTIONS = {"/auth/token": "login", "/auth/refresh": "refresh", "/auth/logout": "logout"}
SIGN_IN_PATH = "/auth/token"


def install_security_middleware(app: FastAPI, settings: Settings, api_prefix: str) -> None:
    """Add the security middleware to `app` (Starlette runs the last added first)."""
    proxies = TrustedProxies.parse(settings.trusted_proxies)
    app.add_middleware(RateLimitHeadersMiddleware)
    app.add_middleware(
        AuditMiddleware,
        prefix=api_prefix,
        named_actions={api_prefix + path: action for path, action in NAMED_ACTIONS.items()},
        sign_in_paths=frozenset({api_prefix + SIGN_IN_PATH}),
        trusted_proxies=proxies,
    )
    install_cors(app, settings.cors_origins)
    app.add_middleware(
        SecurityHeadersMiddleware,
        documentation_paths=documentation_paths(app),
        trusted_proxies=proxies,
    )
