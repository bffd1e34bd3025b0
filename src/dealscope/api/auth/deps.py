"""`current_principal`: the dependency that identifies the caller of a request.

Routes do not use it directly: they take `PrincipalDep` or `require(permission)` from
`dealscope.api.deps`, which add the rate limit after it. It reads the app's warehouse and
settings from `request.app.state` (not through `api.deps`, which imports this module).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer

from dealscope.api.auth.access import authenticate_access_token
from dealscope.api.auth.api_keys import authenticate_api_key, looks_like_api_key
from dealscope.api.auth.principal import Principal
from dealscope.config import Settings
from dealscope.errors import AuthenticationFailed
from dealscope.warehouse.engine import Warehouse

TOKEN_URL = "/api/v1/auth/token"  # dealscope.api.app.API_PREFIX + the auth router's path
API_KEY_HEADER = "X-API-Key"

# auto_error=False: a missing credential is our AuthenticationFailed (401 in our error shape).
# Both schemes appear in the OpenAPI document, so /docs offers to sign in either way.
bearer_scheme = OAuth2PasswordBearer(
    tokenUrl=TOKEN_URL,
    scheme_name="password",
    description="Sign in with email and password; the access token goes in "
    "`Authorization: Bearer <token>`.",
    auto_error=False,
)
api_key_scheme = APIKeyHeader(
    name=API_KEY_HEADER,
    scheme_name="api_key",
    description="A tenant API key, `dsk_<prefix>_<secret>` (also accepted as a Bearer token).",
    auto_error=False,
)


def current_principal(
    request: Request,
    bearer: Annotated[str | None, Depends(bearer_scheme)],
    api_key: Annotated[str | None, Depends(api_key_scheme)],
) -> Principal:
    """The caller, from `Authorization: Bearer <access token or API key>` or `X-API-Key`;
    AuthenticationFailed (401) without a valid one. Sets `request.state.principal`."""
    warehouse: Warehouse = request.app.state.warehouse
    settings: Settings = request.app.state.settings
    now = dt.datetime.now(dt.UTC)
    if bearer and api_key:
        raise AuthenticationFailed(
            f"send one credential: an Authorization header or an {API_KEY_HEADER} header, not both"
        )
    if api_key or (bearer and looks_like_api_key(bearer)):
        principal = authenticate_api_key(warehouse, api_key or bearer or "", now)
    elif bearer:
        principal = authenticate_access_token(warehouse, settings, bearer, now)
    else:
        raise AuthenticationFailed(
            f"sign in first: send `Authorization: Bearer <access token>` (from {TOKEN_URL}) "
            f"or an `{API_KEY_HEADER}` header"
        )
    request.state.principal = principal
    return principal


# Marks the dependency for tools that inspect routes (the access-matrix test).
current_principal.authenticates = True  # type: ignore[attr-defined]
