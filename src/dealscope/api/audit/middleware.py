"""The audit middleware: one `audit_log` row for every request under the API prefix.

Pure ASGI, so the endpoint's response goes out before the row is written; the write is one
short transaction in a worker thread, and a failure to write is logged, never passed to the
caller. `/health`, the docs and CORS preflights are not audited.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import urllib.parse
from dataclasses import dataclass
from typing import Any

import anyio
import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dealscope.api.audit.records import (
    AuditRecord,
    action_for,
    outcome_for,
    principal_of,
    target_of,
    user_agent_of,
)
from dealscope.api.audit.repository import find_sign_in_account, insert_audit_record
from dealscope.api.proxies import TrustedProxies
from dealscope.warehouse.engine import Warehouse

# A sign-in form is a few hundred bytes; beyond this the username is not looked for.
_MAX_SIGN_IN_FORM_BYTES = 4096

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class SignInClaim:
    """Who a sign-in form said it was: its username and, when sent, the tenant's slug."""

    username: str
    tenant_slug: str | None = None


class _SignInTap:
    """Keeps the first bytes of a sign-in form as the endpoint reads them, to name who tried
    to sign in. Only `username` and the tenant fields are ever taken out of it."""

    def __init__(self, receive: Receive) -> None:
        self._receive = receive
        self._body = bytearray()

    async def __call__(self) -> Message:
        message = await self._receive()
        if message["type"] == "http.request" and len(self._body) < _MAX_SIGN_IN_FORM_BYTES:
            self._body.extend(message.get("body", b"")[:_MAX_SIGN_IN_FORM_BYTES])
        return message

    def claim(self) -> SignInClaim | None:
        try:
            form = urllib.parse.parse_qs(self._body.decode("utf-8"), max_num_fields=20)
        except (UnicodeDecodeError, ValueError):
            return None
        finally:
            self._body.clear()  # the password goes no further than this

        def first(name: str) -> str | None:
            values = form.get(name)
            return (values[0].strip() or None) if values else None

        username = first("username")
        if username is None:
            return None
        return SignInClaim(username, first("tenant") or first("client_id"))


def _is_form(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            return bool(value.split(b";")[0].strip() == b"application/x-www-form-urlencoded")
    return False


class AuditMiddleware:
    """Records each request under `prefix` after its response.

    `named_actions` maps route templates to actions other than the method's (the sign-in
    route is `login`); a sign-in request to one of `sign_in_paths` is recorded under the
    username it submitted, in the tenant of the account that username names."""

    def __init__(
        self,
        app: ASGIApp,
        prefix: str,
        named_actions: dict[str, str] | None = None,
        sign_in_paths: frozenset[str] = frozenset(),
        trusted_proxies: TrustedProxies | None = None,
    ) -> None:
        self.app = app
        self.prefix = prefix
        self.named_actions = named_actions or {}
        self.sign_in_paths = sign_in_paths
        self.trusted_proxies = trusted_proxies or TrustedProxies()

    def _audited(self, scope: Scope) -> bool:
        if scope["type"] != "http" or scope["method"] == "OPTIONS":
            return False
        path: str = scope["path"]
        return path == self.prefix or path.startswith(self.prefix + "/")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._audited(scope):
            await self.app(scope, receive, send)
            return
        occurred_at = dt.datetime.now(dt.UTC)
        status_code = 500  # stays so when the app raises before it starts a response
        tap = None
        if scope["method"] == "POST" and scope["path"] in self.sign_in_paths and _is_form(scope):
            tap = _SignInTap(receive)

        async def send_capturing_status(message: Message) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = message["status"]
            await send(message)

        try:
            await self.app(scope, tap or receive, send_capturing_status)
        finally:
            claim = tap.claim() if tap is not None else None
            record = self._record(scope, status_code, occurred_at, claim)
            with anyio.CancelScope(shield=True):  # a client gone away still gets its entry
                await self._write(scope, record, claim)

    def _record(
        self, scope: Scope, status_code: int, occurred_at: dt.datetime, claim: SignInClaim | None
    ) -> AuditRecord:
        state: dict[str, Any] = scope.get("state", {})
        target = target_of(scope)
        detail: dict[str, Any] = dict(state.get("audit_detail", {}))
        principal = principal_of(scope)
        tenant_id = user_id = None
        actor = state.get("audit_actor") or (claim.username if claim else None)
        if principal is not None:
            tenant_id, user_id, actor = principal.tenant_id, principal.user_id, principal.display
            if principal.api_key_id is not None:
                detail["api_key_id"] = principal.api_key_id
        method: str = scope["method"]
        return AuditRecord(
            tenant_id=tenant_id,
            user_id=user_id,
            actor=actor,
            action=action_for(method, target.resource, self.named_actions),
            resource=target.resource,
            resource_id=target.resource_id,
            method=method,
            path=target.path,
            status_code=status_code,
            outcome=outcome_for(status_code),
            ip=self.trusted_proxies.client_ip(scope),
            user_agent=user_agent_of(scope),
            request_id=state.get("request_id"),
            occurred_at=occurred_at,
            detail=detail,
        )

    async def _write(self, scope: Scope, record: AuditRecord, claim: SignInClaim | None) -> None:
        warehouse: Warehouse | None = getattr(scope["app"].state, "warehouse", None)
        if warehouse is None:  # an app served without its lifespan (some tests): nowhere to write
            return
        try:
            await anyio.to_thread.run_sync(_persist, warehouse, record, claim)
        except Exception as exc:  # the response is out; losing the entry must not break anything
            log.error(
                "audit.write_failed",
                error=f"{type(exc).__name__}: {exc}",
                action=record.action,
                resource=record.resource,
                status=record.status_code,
            )


def _persist(warehouse: Warehouse, record: AuditRecord, claim: SignInClaim | None) -> None:
    if claim is not None and record.tenant_id is None:
        with warehouse.engine.connect() as connection:
            account = find_sign_in_account(connection, claim.username, claim.tenant_slug)
        if account is not None:
            record = dataclasses.replace(record, tenant_id=account[0], user_id=account[1])
    insert_audit_record(warehouse, record)
