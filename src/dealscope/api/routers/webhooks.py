"""/webhooks/...: deliveries from GoHighLevel and other CRMs.

Authenticated by signature or shared secret (never a user token), over the raw body. A
delivery is stored durably before it is acknowledged, then applied to the warehouse in the
background (`ingest.worker`); the answer says whether it was new or a redelivery.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import threading
import time
from collections.abc import Callable
from typing import Any, Literal

import anyio
from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field

from dealscope.api.schemas import ErrorRead
from dealscope.errors import PermissionDenied, ValidationFailed
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
    cost a database read); `forget` after a settings change."""

    def __init__(self, loader: Callable[[str], TenantWebhooks]) -> None:
        self._loader = loader
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, TenantWebhooks]] = {}

    def get(self, slug: str) -> TenantWebhooks:
        now = time.monotonic()
        with self._lock:
            found = self._entries.get(slug)
        if found is not None and found[0] > now:
            return found[1]
        loaded = self._loader(slug)
        with self._lock:
            self._entries[slug] = (now + _CACHE_SECONDS, loaded)
        return loaded

    def forget(self, slug: str | None = None) -> None:
        with self._lock:
            if slug is None:
                self._entries.clear()
            else:
                self._entries.pop(slug, None)


def tenant_cache(request: Request) -> TenantCache:
    cache: TenantCache | None = getattr(request.app.state, "webhook_tenants", None)
    if cache is None:
        warehouse: Warehouse = request.app.state.warehouse
        cache = TenantCache(lambda slug: load_tenant_webhooks(warehouse, slug))
        request.app.state.webhook_tenants = cache
    return cache


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise HTTPException(413, f"the body is larger than {MAX_BODY_BYTES} bytes")
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise HTTPException(413, f"the body is larger than {MAX_BODY_BYTES} bytes")
    return body


async def _tenant(request: Request, slug: str) -> TenantWebhooks:
    cache = tenant_cache(request)
    tenant = await anyio.to_thread.run_sync(cache.get, slug)
    limiter = getattr(request.app.state, "rate_limiter", None)
    if limiter is not None:
        await anyio.to_thread.run_sync(limiter.check_webhook, request, str(tenant.tenant_id))
    return tenant


def _kept_headers(request: Request, verified_by: str) -> dict[str, str]:
    kept = {name: request.headers[name] for name in _KEPT_HEADERS if name in request.headers}
    kept["verified_by"] = verified_by
    return kept


async def _store(request: Request, event: IncomingEvent) -> WebhookAck:
    ingest: WebhookIngest | None = getattr(request.app.state, "webhook_ingest", None)
    if ingest is None:
        raise IngestStopped("webhook ingestion is not running in this process")
    new = await asyncio.wrap_future(ingest.writer.submit(event))
    return WebhookAck(status="accepted" if new else "duplicate", dedupe_key=event.dedupe_key)


async def _store_malformed(
    request: Request, tenant_id: int, source: str, body: bytes, error: ValidationFailed, by: str
) -> None:
    """Keep an authenticated delivery we cannot read as a dead letter, then refuse it."""
    await _store(
        request,
        IncomingEvent(
            tenant_id=tenant_id,
            source=source,
            dedupe_key="sha256:" + hashlib.sha256(body).hexdigest(),
            body=body.decode("utf-8", errors="replace"),
            received_at=dt.datetime.now(dt.UTC),
            headers=_kept_headers(request, by),
            status=DEAD_LETTER,
            error=str(error),
        ),
    )
    raise error


async def _receive_ghl(request: Request, slug: str, workflow: bool) -> WebhookAck:
    received_at = dt.datetime.now(dt.UTC)
    tenant = await _tenant(request, slug)
    body = await _read_body(request)
    creds: WebhookCredentials = tenant.credentials
    if workflow:
        verify_workflow(request.headers, creds)
        verified_by = "workflow_secret"
    else:
        verified_by = verify_ghl(body, request.headers, creds)
    source = "ghl_workflow" if workflow else "ghl"
    try:
        envelope = parse_envelope(body, workflow=workflow)
    except ValidationFailed as exc:
        await _store_malformed(request, tenant.tenant_id, source, body, exc, verified_by)
        raise
    if creds.location_ids and envelope.location_id not in creds.location_ids:
        raise PermissionDenied(
            f"location {envelope.location_id!r} is not one of this tenant's GHL locations"
        )
    return await _store(
        request,
        IncomingEvent(
            tenant_id=tenant.tenant_id,
            source=source,
            dedupe_key=envelope.dedupe_key,
            body=body.decode("utf-8"),
            received_at=received_at,
            event_type=envelope.event_type,
            occurred_at=envelope.occurred_at,
            headers=_kept_headers(request, verified_by),
        ),
    )


@router.post("/ghl/{tenant}", summary="Receive a GoHighLevel webhook", responses=_RESPONSES)
async def receive_ghl(tenant: str, request: Request) -> WebhookAck:
    """A marketplace-app delivery (contact, opportunity, message, appointment, task, note
    and user events; flat or `data`-wrapped), signed by GHL: Ed25519 in `x-ghl-signature`
    or RSA-SHA256 in `x-wh-signature`, checked over the raw body against the tenant's
    configured public keys. Other event types are stored and acknowledged, not applied."""
    return await _receive_ghl(request, tenant, workflow=False)


@router.post(
    "/ghl/{tenant}/workflow",
    summary="Receive a GoHighLevel workflow webhook",
    responses=_RESPONSES,
)
async def receive_ghl_workflow(tenant: str, request: Request) -> WebhookAck:
    """A workflow "Webhook" action (GHL does not sign these): authenticated by the tenant's
    shared secret in the `X-DealScope-Webhook-Secret` header. A contact's standard data
    (snake_case) is applied as that contact's current state."""
    return await _receive_ghl(request, tenant, workflow=True)


@router.post(
    "/generic/{tenant}", summary="Receive a generic signed JSON webhook", responses=_RESPONSES
)
async def receive_generic(tenant: str, request: Request) -> WebhookAck:
    """For other CRMs: `{"id", "type": "<contact|deal|message|appointment|task|note|user>.
    <updated|deleted|completed>", "occurred_at", "data": {record in GHL's field names}}`,
    signed with `X-DealScope-Signature: sha256=<hex HMAC-SHA256 of the body>`."""
    received_at = dt.datetime.now(dt.UTC)
    found = await _tenant(request, tenant)
    body = await _read_body(request)
    verify_generic(body, request.headers, found.credentials)
    try:
        document = generic.parse_body(body)
        key = generic.dedupe_key(document)
        occurred_at = generic.event_time(document)
    except ValidationFailed as exc:
        await _store_malformed(request, found.tenant_id, "generic", body, exc, "hmac")
        raise
    event_type = document.get("type")
    return await _store(
        request,
        IncomingEvent(
            tenant_id=found.tenant_id,
            source="generic",
            dedupe_key=key,
            body=body.decode("utf-8"),
            received_at=received_at,
            event_type=event_type if isinstance(event_type, str) else None,
            occurred_at=occurred_at,
            headers=_kept_headers(request, "hmac"),
        ),
    )
