"""Writing a generated brokerage into the warehouse as one tenant, in one transaction."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from dealscope.demo.catalog import TIMEZONE
from dealscope.demo.generator import REFERENCES, SCOPED_REFERENCES, Brokerage
from dealscope.errors import ValidationFailed
from dealscope.kit.crypto import PiiCipher
from dealscope.warehouse.bulk import BulkLoader, bulk_load
from dealscope.warehouse.engine import Warehouse
from dealscope.warehouse.schema import TENANT_TABLES, metadata, tenants


@dataclass
class LoadResult:
    tenant_id: int
    rows: dict[str, int]
    seconds: float


def find_tenant(warehouse: Warehouse, slug: str) -> int | None:
    """The id of the tenant called `slug`, or None."""
    with warehouse.engine.connect() as conn:
        found = conn.execute(sa.select(tenants.c.id).where(tenants.c.slug == slug)).scalar()
    return None if found is None else int(found)


def _shift(column: pa.ChunkedArray, base: int) -> pa.ChunkedArray:
    return pc.add(column.cast(pa.int64()), pa.scalar(base, pa.int64()))


def _with_warehouse_ids(
    name: str, data: pa.Table, bases: dict[str, int], tenant_id: int
) -> pa.Table:
    """Local ids (0..n-1 per table) moved into the blocks reserved for this load."""
    columns = {}
    for column in data.column_names:
        values = data.column(column)
        if column == "id":
            values = _shift(values, bases[name])
        elif column in REFERENCES.get(name, {}):
            values = _shift(values, bases[REFERENCES[name][column]])
        columns[column] = values
    if name == "targets":
        scope = data.column("scope")
        shifted = data.column("scope_id")
        for scope_name, table in SCOPED_REFERENCES.items():
            shifted = pc.if_else(
                pc.equal(scope, scope_name), _shift(data.column("scope_id"), bases[table]), shifted
            )
        columns["scope_id"] = shifted
    columns["tenant_id"] = pa.array([tenant_id] * data.num_rows, pa.int64())
    return pa.table(columns)


def _protect_pii(contacts: pa.Table, cipher: PiiCipher) -> pa.Table:
    """Generated contacts carry email and phone in clear; the warehouse keeps ciphertext and
    a keyed hash of the email only."""
    emails = contacts.column("email").to_pylist()
    phones = contacts.column("phone").to_pylist()
    protected = contacts.drop_columns(["email", "phone"])
    protected = protected.append_column(
        "email_encrypted", pa.array(cipher.encrypt_many(emails), pa.string())
    )
    protected = protected.append_column(
        "phone_encrypted", pa.array(cipher.encrypt_many(phones), pa.string())
    )
    return protected.append_column("email_hash", pa.array(cipher.email_hashes(emails), pa.string()))


def _delete_tenant_rows(loader: BulkLoader, tenant_id: int) -> None:
    for name in sorted(TENANT_TABLES):
        table = metadata.tables[name]
        loader.execute(sa.delete(table).where(table.c.tenant_id == tenant_id))


def load_brokerage(
    warehouse: Warehouse,
    brokerage: Brokerage,
    tenant_slug: str,
    cipher: PiiCipher,
    tenant_name: str | None = None,
    replace: bool = False,
    progress: Callable[[str, float], None] | None = None,
) -> LoadResult:
    """Write `brokerage` as tenant `tenant_slug`. An existing tenant of that slug is refused
    unless `replace`, which swaps its data for the new data in the same transaction."""
    report = progress or (lambda stage, fraction: None)
    started = time.perf_counter()
    existing = find_tenant(warehouse, tenant_slug)
    if existing is not None and not replace:
        raise ValidationFailed(
            f"tenant {tenant_slug!r} already exists; pass --replace to regenerate its data"
        )
    tenant_id = existing if existing is not None else warehouse.ids.next_id("tenants")
    tables = {name: t for name, t in brokerage.tables.items() if t.num_rows > 0}
    if "contacts" in tables:
        tables["contacts"] = _protect_pii(tables["contacts"], cipher)
    bases = {name: warehouse.ids.reserve(name, t.num_rows) for name, t in tables.items()}
    total = sum(t.num_rows for t in tables.values())
    written = 0
    with bulk_load(warehouse) as loader:
        if existing is not None:
            _delete_tenant_rows(loader, tenant_id)
            loader.execute(
                sa.update(tenants)
                .where(tenants.c.id == tenant_id)
                .values(data_version=tenants.c.data_version + 1)
            )
        else:
            loader.append(
                tenants,
                pa.table(
                    {
                        "id": [tenant_id],
                        "slug": [tenant_slug],
                        "name": [tenant_name or brokerage.spec.name],
                        "currency": ["USD"],
                        "timezone": [TIMEZONE],
                        "data_version": [1],
                        "is_active": [True],
                        "created_at": pa.array(
                            [dt.datetime.now(dt.UTC)], pa.timestamp("us", tz="UTC")
                        ),
                    }
                ),
            )
        for name, data in tables.items():
            report(name, written / max(total, 1))
            loader.append(metadata.tables[name], _with_warehouse_ids(name, data, bases, tenant_id))
            written += data.num_rows
    report("done", 1.0)
    return LoadResult(
        tenant_id=tenant_id,
        rows={n: t.num_rows for n, t in tables.items()},
        seconds=time.perf_counter() - started,
    )
