"""/auth: sign in (OAuth2 password flow), refresh, sign out, and who am I."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, Response, status
from fastapi.security import OAuth2PasswordRequestForm

from dealscope.api.auth.identity import describe_principal
from dealscope.api.auth.schemas import MeRead, RefreshRequest, TokenRead
from dealscope.api.auth.sessions import IssuedTokens, SignInAttempt, refresh, sign_in, sign_out
from dealscope.api.deps import PrincipalDep, SettingsDep, WarehouseDep
from dealscope.api.schemas import ErrorRead
from dealscope.errors import ValidationFailed

router = APIRouter(prefix="/auth", tags=["auth"])

_NOT_AUTHENTICATED: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorRead, "description": "No valid credentials (see `detail`)."}
}


_TENANT_FIELD = (
    "The tenant's slug, needed only when the email has accounts in several tenants "
    "(OAuth2 clients may send it as client_id instead)."
)


def _token_response(tokens: IssuedTokens, response: Response) -> TokenRead:
    response.headers["Cache-Control"] = "no-store"  # RFC 6749 §5.1: tokens are not cached
    return TokenRead(
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        expires_in=tokens.expires_in,
    )


@router.post(
    "/token",
    summary="Sign in with email and password",
    responses={
        400: {"model": ErrorRead, "description": "The email has accounts in several tenants."},
        **_NOT_AUTHENTICATED,
        423: {"model": ErrorRead, "description": "Locked after too many failed sign-ins."},
    },
)
def issue_token(
    request: Request,
    response: Response,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    warehouse: WarehouseDep,
    settings: SettingsDep,
    tenant: Annotated[str | None, Form(description=_TENANT_FIELD)] = None,
) -> TokenRead:
    """The OAuth2 password flow: `username` is the email. Five wrong passwords in a row lock
    the account for a while; the answer says until when."""
    if tenant and form.client_id and tenant != form.client_id:
        raise ValidationFailed(
            f"tenant {tenant!r} and client_id {form.client_id!r} disagree; send one of them"
        )
    attempt = SignInAttempt(
        email=form.username,
        password=form.password,
        tenant_slug=tenant or form.client_id or None,
        ip=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
    )
    tokens = sign_in(warehouse, settings, attempt, dt.datetime.now(dt.UTC))
    return _token_response(tokens, response)


@router.post(
    "/refresh",
    summary="Exchange a refresh token for new tokens",
    responses=_NOT_AUTHENTICATED,
)
def refresh_token(
    body: RefreshRequest, response: Response, warehouse: WarehouseDep, settings: SettingsDep
) -> TokenRead:
    """Each refresh token works once: the answer carries its successor. Presenting a used one
    again ends the whole session (someone else may hold a copy)."""
    tokens = refresh(warehouse, settings, body.refresh_token, dt.datetime.now(dt.UTC))
    return _token_response(tokens, response)


@router.post(
    "/logout",
    summary="Sign out: end this session",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={
        400: {"model": ErrorRead, "description": "Called with an API key (it has no session)."},
        **_NOT_AUTHENTICATED,
    },
)
def logout(principal: PrincipalDep, warehouse: WarehouseDep) -> None:
    """The session's access and refresh tokens stop working at once."""
    if principal.session_id is None:
        raise ValidationFailed(
            "an API key has no session to sign out of; revoke the key instead "
            "(DELETE /api/v1/api-keys/{id})"
        )
    sign_out(warehouse, principal.tenant_id, principal.session_id, dt.datetime.now(dt.UTC))


@router.get("/me", summary="Who am I", responses=_NOT_AUTHENTICATED)
def read_me(principal: PrincipalDep, warehouse: WarehouseDep) -> MeRead:
    """The caller's account, tenant, role, data links and permissions."""
    with warehouse.engine.connect() as conn:
        return describe_principal(conn, principal)
