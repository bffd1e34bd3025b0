"""/webhooks/...: deliveries from GoHighLevel and other CRMs.

Authenticated by signature or shared secret (never a user token), over the raw body. A
delivery is stored durably before it is acknowledged, then applied to the warehouse in the
background (`ingest.worker`); the answer says whether it was new or a redelivery.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Literal

import anyio
import structlog
from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from dealscope.api.errors import mapping_for
from dealscope.api.schemas import ErrorRead
from dealscope.errors import PermissionDenied, RateLimited, ValidationFailed
from dealscope.ingest import generic
from dealscope.ingest.ghl.events import parse_envelope
from dealscope.ingest.ghl.webhook_auth import (
    ED25519_HEADER,
    GENERIC_SIGNATURE_HEADER,
    RSA_HEADER,
    WebhookCredentials,
    verify_generic,
    verify_ghl,
    verify_workflow,
)
from dealscope.ingest.raw_store import DEAD_LETTER, IncomingEvent, IngestStopped
from dealscope.ingest.service import WebhookIngest
from dealscope.ingest.webhook_settings import TenantWebhooks, load_tenant_webhooks
from dealscope.warehouse.engine import Warehouse

router = APIRouter(prefix="/webhooks", tags=["webhooks"])
log = structlog.get_logger(__name__)

MAX_BODY_BYTES = 1_000_000
_CACHE_SECONDS = 5.0
# Headers kept with the raw event (never the workflow secret).
_KEPT_HEADERS = (
    "content-type",
    "user-agent",
    ED25519_HEADER,
    RSA_HEADER,
    GENERIC_SIGNATURE_HEADER,
    "x-request-id",
)


class WebhookAck(BaseModel):
    """The delivery is stored; it is applied to the warehouse within moments."""

    status: Literal["accepted", "duplicate"] = Field(
        description="accepted: stored now; duplicate: stored before (a redelivery), not again.",
        examples=["accepted"],
    )
    dedupe_key: str = Field(
        description="What redeliveries are recognised by: the webhookId (wh:...), the event "
        "id (id:...) or a hash of the body (sha256:...).",
        examples=["wh:7f3a9c"],
    )


_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {
        "model": ErrorRead,
        "description": "The body is not a JSON object (kept as a dead letter).",
    },
    401: {"model": ErrorRead, "description": "Missing or wrong signature or secret."},
    403: {"model": ErrorRead, "description": "The event is for a location of another tenant."},
    404: {"model": ErrorRead, "description": "No such active tenant."},
    413: {"model": ErrorRead, "description": "The body is larger than 1 MB."},
    429: {"model": ErrorRead, "description": "Over the tenant's webhook rate limit; retry later."},
    503: {"model": ErrorRead, "description": "The server is stopping; retry later."},
}


class TenantCache:
    """Tenants and their webhook credentials by slug, for a few seconds (a delivery must not
    cost a database read); `forget` after a settings change. One load at a time: when an
    entry expires under a flood, the deliveries waiting for it take the one load's result
    (rather than a read each, a hundred at once every few seconds)."""

    def __init__(self, loader: Callable[[str], TenantWebhooks]) -> None:
        self._loader = loader
        self._lock = threading.Lock()
        self._loading = threading.Lock()
        self._entries: dict[str, tuple[float, TenantWebhooks]] = {}

    def peek(self, slug: str) -> TenantWebhooks | None:
        """The cached entry while fresh, else None (without touching the database)."""
        found = self._entries.get(slug)
        if found is not None and found[0] > time.monotonic():
            return found[1]
        return None

    def get(self, slug: str) -> TenantWebhooks:
        found = self.peek(slug)
        if found is not None:
            return found
        with self._loading:
            found = self.peek(slug)  # loaded while this one waited
            if found is not None:
                return found
            loaded = self._loader(slug)
            with self._lock:
                self._entries[slug] = (time.monotonic() + _CACHE_SECONDS, loaded)
        return loaded

    def forget(self, slug: str | None = None) -> None:
        with self._lock:
            if slug is None:
                self._entries.clear()
            else:
                self._entries.pop(slug, None)


def tenant_cache(state: Any) -> TenantCache:
    """The app's cache (`state` is `app.state`)."""
    cache: TenantCache | None = getattr(state, "webhook_tenants", None)
    if cache is None:
        warehouse: Warehouse = state.warehouse
        cache = TenantCache(lambda slug: load_tenant_webhooks(warehouse, slug))
        state.webhook_tenants = cache
    return cache


class PayloadTooLarge(ValidationFailed):
    """A delivery larger than MAX_BODY_BYTES (413)."""


SOURCES = ("ghl", "ghl_workflow", "generic")


def _kept_headers(headers: Mapping[str, str], verified_by: str) -> dict[str, str]:
    kept = {name: headers[name] for name in _KEPT_HEADERS if name in headers}
    kept["verified_by"] = verified_by
    return kept


async def _submit(state: Any, event: IncomingEvent) -> WebhookAck:
    ingest: WebhookIngest | None = getattr(state, "webhook_ingest", None)
    if ingest is None:
        raise IngestStopped("webhook ingestion is not running in this process")
    new = await ingest.writer.submit_async(event)
    return WebhookAck(status="accepted" if new else "duplicate", dedupe_key=event.dedupe_key)


async def deliver(
    state: Any,
    scope: Scope,
    source: str,
    slug: str,
    headers: Mapping[str, str],
    body: bytes,
    received_at: dt.datetime,
) -> WebhookAck:
    """Authenticate, read and durably store one delivery (`headers` with lower-case names);
    raises the domain error to answer with. Shared by the routes and the fast path."""
    cache = tenant_cache(state)
    tenant = cache.peek(slug)
    if tenant is None:
        tenant = await anyio.to_thread.run_sync(cache.get, slug)
    limiter = getattr(state, "rate_limiter", None)
    if limiter is not None:
        if getattr(state, "redis", None) is None:  # counted in memory: no I/O to wait for
            limiter.check_webhook(Request(scope), str(tenant.tenant_id))
        else:
            await anyio.to_thread.run_sync(
                limiter.check_webhook, Request(scope), str(tenant.tenant_id)
            )
    if len(body) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"the body is larger than {MAX_BODY_BYTES} bytes")
    creds: WebhookCredentials = tenant.credentials
    if source == "generic":
        verify_generic(body, headers, creds)
        verified_by = "hmac"
    elif source == "ghl_workflow":
        verify_workflow(headers, creds)
        verified_by = "workflow_secret"
    else:
        verified_by = verify_ghl(body, headers, creds)
    event = IncomingEvent(
        tenant_id=tenant.tenant_id,
        source=source,
        dedupe_key="",  # set below: the event's id, else a hash of the body
        body=body.decode("utf-8", errors="replace"),
        received_at=received_at,
        headers=_kept_headers(headers, verified_by),
    )
    try:
        if source == "generic":
            document = generic.parse_body(body)
            event.dedupe_key = generic.dedupe_key(document)
            event.occurred_at = generic.event_time(document)
            kind = document.get("type")
            event.event_type = kind if isinstance(kind, str) else None
        else:
            envelope = parse_envelope(body, workflow=source == "ghl_workflow")
            if creds.location_ids and envelope.location_id not in creds.location_ids:
                raise PermissionDenied(
                    f"location {envelope.location_id!r} is not one of this tenant's GHL locations"
                )
            event.dedupe_key = envelope.dedupe_key
            event.occurred_at = envelope.occurred_at
            event.event_type = envelope.event_type
    except ValidationFailed as exc:  # kept as a dead letter, then refused
        event.dedupe_key = "sha256:" + hashlib.sha256(body).hexdigest()
        event.status, event.error = DEAD_LETTER, str(exc)
        await _submit(state, event)
        raise
    return await _submit(state, event)


async def _from_route(request: Request, source: str, slug: str) -> WebhookAck:
    received_at = dt.datetime.now(dt.UTC)
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise HTTPException(413, f"the body is larger than {MAX_BODY_BYTES} bytes")
    body = await request.body()
    try:
        return await deliver(
            request.app.state, request.scope, source, slug, request.headers, body, received_at
        )
    except PayloadTooLarge as exc:
        raise HTTPException(413, str(exc)) from None


@router.post("/ghl/{tenant}", summary="Receive a GoHighLevel webhook", responses=_RESPONSES)
async def receive_ghl(tenant: str, request: Request) -> WebhookAck:
    """A marketplace-app delivery (contact, opportunity, message, appointment, task, note
    and user events; flat or `data`-wrapped), signed by GHL: Ed25519 in `x-ghl-signature`
    or RSA-SHA256 in `x-wh-signature`, checked over the raw body against the tenant's
    configured public keys. Other event types are stored and acknowledged, not applied."""
    return await _from_route(request, "ghl", tenant)


@router.post(
    "/ghl/{tenant}/workflow",
    summary="Receive a GoHighLevel workflow webhook",
    responses=_RESPONSES,
)
async def receive_ghl_workflow(tenant: str, request: Request) -> WebhookAck:
    """A workflow "Webhook" action (GHL does not sign these): authenticated by the tenant's
    shared secret in the `X-DealScope-Webhook-Secret` header. A contact's standard data
    (snake_case) is applied as that contact's current state."""
    return await _from_route(request, "ghl_workflow", tenant)


@router.post(
    "/generic/{tenant}", summary="Receive a generic signed JSON webhook", responses=_RESPONSES
)
async def receive_generic(tenant: str, request: Request) -> WebhookAck:
    """For other CRMs: `{"id", "type": "<contact|deal|message|appointment|task|note|user>.
    <updated|deleted|completed>", "occurred_at", "data": {record in GHL's field names}}`,
    signed with `X-DealScope-Signature: sha256=<hex HMAC-SHA256 of the body>`."""
    return await _from_route(request, "generic", tenant)


# --- the fast path ---------------------------------------------------------------------

_RESPONSE_HEADERS = [
    (b"content-type", b"application/json"),
    (b"cache-control", b"no-store"),
    (b"x-content-type-options", b"nosniff"),
]


class WebhookFastPath:
    """Answers webhook deliveries ahead of the middleware stack and the router: a CRM
    sending thousands a second needs no request id, audit row, CORS or OpenAPI validation
    (the raw event is the record of each delivery). Same `deliver` as the routes, same
    answers and errors; every other request passes through untouched. Placed in front of
    the application itself, `owner` is the application whose state it uses (inside it,
    the one in the request's scope)."""

    def __init__(self, app: ASGIApp, prefix: str, owner: Any = None) -> None:
        self.app = app
        self._owner = owner
        self._pattern = re.compile(
            "^" + re.escape(prefix) + r"/webhooks/(ghl|generic)/([^/]+)(/workflow)?$"
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = None
        if scope["type"] == "http" and scope["method"] == "POST":
            match = self._pattern.match(scope["path"])
        if match is None or (match.group(1) == "generic" and match.group(3)):
            await self.app(scope, receive, send)
            return
        source = "generic" if match.group(1) == "generic" else "ghl"
        if match.group(3):
            source = "ghl_workflow"
        received_at = dt.datetime.now(dt.UTC)
        status, payload = 200, None
        extra: list[tuple[bytes, bytes]] = []
        try:
            body = await _read(receive)
            ack = await deliver(
                (self._owner or scope["app"]).state, scope, source, match.group(2),
                Headers(scope=scope), body, received_at,
            )  # fmt: skip
            payload = ack.model_dump()
        except PayloadTooLarge as exc:
            status, payload = 413, {"error": "payload_too_large", "detail": str(exc)}
        except Exception as exc:  # the one place errors become answers on this path
            mapping = mapping_for(exc)
            if mapping is None:
                log.error("webhook.crashed", exc_info=exc)
                status, payload = (
                    500,
                    {
                        "error": "internal_error",
                        "detail": "an unexpected error occurred; the server log has the details",
                    },
                )
            else:
                status = mapping.status_code
                payload = {"error": mapping.code, "detail": str(exc)}
                extra = [(k.lower().encode(), v.encode()) for k, v in mapping.headers.items()]
                if isinstance(exc, RateLimited):
                    extra.append((b"retry-after", str(exc.retry_after_seconds).encode()))
        content = json.dumps(payload).encode()
        headers = [*_RESPONSE_HEADERS, *extra, (b"content-length", str(len(content)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": content})


async def _read(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise PayloadTooLarge(f"the body is larger than {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)
