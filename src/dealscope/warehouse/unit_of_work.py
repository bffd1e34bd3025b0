"""One transaction per request or job for writes, bumping the data version it touched."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import sqlalchemy as sa

from dealscope.warehouse.engine import Warehouse
from dealscope.warehouse.schema import tenants


@dataclass
class UnitOfWork:
    connection: sa.Connection
    warehouse: Warehouse
    touched_tenants: set[int] = field(default_factory=set)

    def next_id(self, table: sa.Table) -> int:
        return self.warehouse.ids.next_id(table.name)

    def touch(self, tenant_id: int) -> None:
        """Mark the tenant's data as changed: its data version moves on at commit."""
        self.touched_tenants.add(tenant_id)


@contextmanager
def unit_of_work(warehouse: Warehouse) -> Iterator[UnitOfWork]:
    """Commit everything done inside on success; roll all of it back on any error."""
    with warehouse.engine.begin() as connection:
        uow = UnitOfWork(connection=connection, warehouse=warehouse)
        yield uow
        if uow.touched_tenants:
            bump_data_version(connection, uow.touched_tenants)


def bump_data_version(connection: sa.Connection, tenant_ids: set[int]) -> None:
    connection.execute(
        sa.update(tenants)
        .where(tenants.c.id.in_(sorted(tenant_ids)))
        .values(data_version=tenants.c.data_version + 1)
    )
