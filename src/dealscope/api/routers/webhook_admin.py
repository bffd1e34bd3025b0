"""/webhooks/settings, /webhooks/events, /webhooks/health, /webhooks/dead-letters/replay:
configuring and watching the tenant's incoming webhooks (admins)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from dealscope.api.auth.principal import Principal
from dealscope.api.deps import WarehouseDep, require
from dealscope.api.routers.webhooks import tenant_cache
from dealscope.api.schemas import ErrorRead
from dealscope.ingest.feed import compute_feed_health, list_events
from dealscope.ingest.raw_store import requeue_dead_letters
from dealscope.ingest.service import WebhookIngest
from dealscope.ingest.webhook_settings import MIN_SECRET_LENGTH, read_settings, write_settings
from dealscope.kit.roles import Permission
from dealscope.warehouse.schema import tenants
from dealscope.warehouse.unit_of_work import unit_of_work

router = APIRouter(prefix="/webhooks", tags=["webhooks"])

ConfigAdmin = Annotated[Principal, Depends(require(Permission.WRITE_CONFIG))]
IngestAdmin = Annotated[Principal, Depends(require(Permission.WRITE_INGEST))]

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorRead, "description": "No valid credentials."},
    403: {"model": ErrorRead, "description": "The caller's role may not do this."},
}

EventStatus = Literal["received", "processed", "ignored", "dead_letter"]


class WebhookSettingsRead(BaseModel):
    """How the tenant's webhooks authenticate. Secrets are never shown, only whether set."""

    ghl_url: str = Field(examples=["/api/v1/webhooks/ghl/acme"])
    ghl_workflow_url: str = Field(examples=["/api/v1/webhooks/ghl/acme/workflow"])
    generic_url: str = Field(examples=["/api/v1/webhooks/generic/acme"])
    ghl_ed25519_public_key: str | None = Field(
        default=None, examples=["MCowBQYDK2VwAyEAi2HR1srL4o18O8BRa7gVJY7G7bupbN3H9AwJrHCDiOg="]
    )
    ghl_rsa_public_key: str | None = None
    workflow_secret_set: bool = False
    generic_secret_set: bool = False
    location_ids: list[str] = Field(default_factory=list, examples=[["LOC_brokerage_01"]])
    updated_at: dt.datetime | None = None


class WebhookSettingsUpdate(BaseModel):
    """Only the fields sent change; null clears one."""

    ghl_ed25519_public_key: str | None = Field(
        default=None,
        description="For x-ghl-signature: PEM, or the raw 32 bytes in hex or base64.",
        examples=["MCowBQYDK2VwAyEAi2HR1srL4o18O8BRa7gVJY7G7bupbN3H9AwJrHCDiOg="],
    )
    ghl_rsa_public_key: str | None = Field(
        default=None, description="For x-wh-signature: PEM (or its base64 body)."
    )
    workflow_secret: str | None = Field(
        default=None,
        min_length=MIN_SECRET_LENGTH,
        description="Sent by workflow webhooks in X-DealScope-Webhook-Secret; stored hashed.",
    )
    generic_secret: str | None = Field(
        default=None, min_length=MIN_SECRET_LENGTH, description="HMAC key of the generic webhook."
    )
    location_ids: list[str] | None = Field(
        default=None,
        description="GHL locations (sub-accounts) accepted; empty accepts any.",
        examples=[["LOC_brokerage_01"]],
    )


class RawEventRead(BaseModel):
    id: int = Field(examples=[812])
    source: str = Field(examples=["ghl"])
    event_type: str | None = Field(examples=["OpportunityStageUpdate"])
    dedupe_key: str = Field(examples=["wh:7f3a9c"])
    received_at: dt.datetime
    occurred_at: dt.datetime | None
    status: EventStatus = Field(examples=["dead_letter"])
    attempts: int = Field(examples=[1])
    processed_at: dt.datetime | None
    latency_ms: float | None = Field(examples=[41.5])
    error: str | None = Field(examples=["pipeline stage 'S9' is not known: sync the pipelines"])


class FeedHealthRead(BaseModel):
    """The webhook feed over the last `hours`: what arrived, how it ended, how fast."""

    since: dt.datetime
    received: int = Field(examples=[1250])
    by_status: dict[str, int] = Field(
        examples=[{"received": 0, "processed": 1240, "ignored": 8, "dead_letter": 2}]
    )
    last_received_at: dt.datetime | None
    latency_p50_ms: float | None = Field(description="Receipt to applied.", examples=[38.0])
    latency_p95_ms: float | None = Field(examples=[120.0])
    latency_max_ms: float | None = Field(examples=[410.0])
    dead_letters: int = Field(description="Waiting to be replayed, of any age.", examples=[2])


class ReplayRequest(BaseModel):
    event_ids: list[int] | None = Field(
        default=None, description="Dead letters to replay; none means all of the tenant's."
    )


class ReplayRead(BaseModel):
    requeued: int = Field(description="Dead letters put back in the queue.", examples=[2])


def _settings_read(request: Request, slug: str, row: dict[str, Any] | None) -> WebhookSettingsRead:
    base = str(request.url_for("receive_ghl", tenant=slug).path)
    row = row or {}
    return WebhookSettingsRead(
        ghl_url=base,
        ghl_workflow_url=base + "/workflow",
        generic_url=str(request.url_for("receive_generic", tenant=slug).path),
        ghl_ed25519_public_key=row.get("ghl_ed25519_public_key"),
        ghl_rsa_public_key=row.get("ghl_rsa_public_key"),
        workflow_secret_set=row.get("workflow_secret_sha256") is not None,
        generic_secret_set=row.get("generic_secret") is not None,
        location_ids=list(row.get("location_ids") or []),
        updated_at=row.get("updated_at"),
    )


def _slug(conn: Any, tenant_id: int) -> str:
    return str(conn.execute(tenants.select().where(tenants.c.id == tenant_id)).first().slug)


@router.get("/settings", summary="The tenant's webhook settings", responses=_ERRORS)
def get_webhook_settings(
    admin: ConfigAdmin, warehouse: WarehouseDep, request: Request
) -> WebhookSettingsRead:
    """The URLs to give GHL (or another CRM) and how deliveries to them authenticate."""
    with warehouse.engine.connect() as conn:
        return _settings_read(
            request, _slug(conn, admin.tenant_id), read_settings(conn, admin.tenant_id)
        )


@router.put(
    "/settings",
    summary="Change the tenant's webhook settings",
    responses={**_ERRORS, 400: {"model": ErrorRead, "description": "A key that does not load."}},
)
def put_webhook_settings(
    body: WebhookSettingsUpdate, admin: ConfigAdmin, warehouse: WarehouseDep, request: Request
) -> WebhookSettingsRead:
    """Keys are checked by loading them; deliveries use the new settings within seconds."""
    with unit_of_work(warehouse) as uow:
        row = write_settings(
            uow, admin.tenant_id, body.model_dump(exclude_unset=True), admin.user_id
        )
        slug = _slug(uow.connection, admin.tenant_id)
    tenant_cache(request.app.state).forget(slug)
    return _settings_read(request, slug, row)


@router.get("/events", summary="The tenant's stored deliveries", responses=_ERRORS)
def get_webhook_events(
    admin: IngestAdmin,
    warehouse: WarehouseDep,
    status: EventStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before_id: int | None = None,
) -> list[RawEventRead]:
    """Newest first, optionally of one status (`dead_letter` shows each one's error); page
    with `before_id`. Bodies are not shown: they hold contact details."""
    with warehouse.engine.connect() as conn:
        rows = list_events(conn, admin.tenant_id, status, limit, before_id)
    return [RawEventRead.model_validate(r) for r in rows]


@router.get("/health", summary="Health of the webhook feed", responses=_ERRORS)
def get_webhook_health(
    admin: IngestAdmin,
    warehouse: WarehouseDep,
    hours: Annotated[int, Query(ge=1, le=24 * 31)] = 24,
) -> FeedHealthRead:
    """Counts by outcome and receipt-to-applied latency over the last `hours`."""
    since = dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours)
    with warehouse.engine.connect() as conn:
        health = compute_feed_health(conn, admin.tenant_id, since)
    return FeedHealthRead.model_validate(health, from_attributes=True)


@router.post("/dead-letters/replay", summary="Replay dead letters", responses=_ERRORS)
def replay_dead_letters(
    body: ReplayRequest, admin: IngestAdmin, warehouse: WarehouseDep, request: Request
) -> ReplayRead:
    """Put the tenant's dead letters (or the ones named) back in the queue; the worker
    applies them again at once (fix the cause first, e.g. sync the pipelines)."""
    count = requeue_dead_letters(warehouse, admin.tenant_id, body.event_ids)
    ingest: WebhookIngest | None = getattr(request.app.state, "webhook_ingest", None)
    if ingest is not None:
        ingest.worker.wake()
    return ReplayRead(requeued=count)
