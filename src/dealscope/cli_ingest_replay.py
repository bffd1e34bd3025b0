"""`dealscope ingest replay`: apply webhook dead letters again (after fixing their cause).

With no server holding the warehouse, it requeues them and applies them right here, then
lists what is still dead. When a running server holds the embedded DuckDB file, it asks
that server to requeue them (`--api-key` or DEALSCOPE_API_KEY, an admin's key), and the
server's worker applies them within moments.
"""

from __future__ import annotations

from typing import Annotated

import httpx
import sqlalchemy as sa
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from dealscope.config import get_settings
from dealscope.errors import ValidationFailed, WarehouseBusy
from dealscope.ingest.feed import list_events
from dealscope.ingest.raw_store import DEAD_LETTER, requeue_dead_letters
from dealscope.ingest.worker import IngestWorker
from dealscope.kit.crypto import load_cipher
from dealscope.warehouse.engine import Warehouse, open_warehouse
from dealscope.warehouse.migrate import ensure_current
from dealscope.warehouse.schema import tenants

console = Console(soft_wrap=True)


def _tenant_id(warehouse: Warehouse, slug: str | None) -> int | None:
    if slug is None:
        return None
    with warehouse.engine.connect() as conn:
        found = conn.execute(sa.select(tenants.c.id).where(tenants.c.slug == slug)).scalar()
    if found is None:
        raise ValidationFailed(f"no tenant {slug!r}")
    return int(found)


def _through_api(url: str, api_key: str | None, event_ids: list[int] | None) -> None:
    if not api_key:
        raise ValidationFailed(
            f"a running server holds the warehouse: to replay through its API at {url}, pass "
            "--api-key (or set DEALSCOPE_API_KEY) with an admin's API key"
        )
    response = httpx.post(
        f"{url}/api/v1/webhooks/dead-letters/replay",
        json={"event_ids": event_ids},
        headers={"X-API-Key": api_key},
        timeout=60.0,
    )
    if response.status_code != 200:
        try:
            detail = response.json().get("detail", response.text)
        except ValueError:
            detail = response.text
        raise ValidationFailed(f"the API at {url} refused the replay: {detail}")
    count = response.json()["requeued"]
    console.print(
        f"Requeued {count} dead letters through the API at {url}; its worker applies them now "
        "(see GET /api/v1/webhooks/events?status=dead_letter for any that fail again)."
    )


def replay(
    tenant: Annotated[
        str | None, typer.Option("--tenant", help="Only this tenant's (slug); default all.")
    ] = None,
    event_id: Annotated[
        list[int] | None,
        typer.Option("--id", help="Only this dead letter (repeatable); default all."),
    ] = None,
    api_key: Annotated[
        str | None,
        typer.Option(
            "--api-key", envvar="DEALSCOPE_API_KEY", help="An admin's key, if a server runs."
        ),
    ] = None,
) -> None:
    """Apply webhook dead letters again: fix what failed them (e.g. sync the pipelines)
    first. Lists the ones that fail again, with their errors."""
    settings = get_settings()
    try:
        warehouse = open_warehouse(settings.resolved_database_url)
    except WarehouseBusy:
        if tenant is not None:
            console.print("(--tenant is the API key's own tenant when going through the API)")
        _through_api(settings.resolved_api_url, api_key, event_id)
        return
    try:
        ensure_current(warehouse)
        tenant_id = _tenant_id(warehouse, tenant)
        count = requeue_dead_letters(warehouse, tenant_id, event_id)
        worker = IngestWorker(warehouse, load_cipher(settings))
        while worker.process_batch():
            pass
        with warehouse.engine.connect() as conn:
            ids = (
                [tenant_id]
                if tenant_id is not None
                else list(conn.execute(sa.select(tenants.c.id)).scalars())
            )
            still = [e for t in ids for e in list_events(conn, t, DEAD_LETTER, 1000)]
    finally:
        warehouse.close()
    if event_id:
        still = [e for e in still if e["id"] in set(event_id)]
    console.print(f"Replayed {count} dead letters: {count - len(still)} applied.")
    if still:
        table = Table(title=f"{len(still)} still dead letters")
        for column in ("id", "type", "received", "attempts", "error"):
            table.add_column(column)
        for e in still:
            table.add_row(
                str(e["id"]),
                escape(e["event_type"] or "?"),
                f"{e['received_at']:%Y-%m-%d %H:%M:%S}",
                str(e["attempts"]),
                escape(e["error"] or ""),
            )
        console.print(table)
