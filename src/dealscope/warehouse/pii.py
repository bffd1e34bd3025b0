"""Re-encrypting stored contact PII under the newest key (the data half of key rotation)."""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa
import sqlalchemy as sa

from dealscope.kit.crypto import PiiCipher
from dealscope.warehouse.engine import Warehouse
from dealscope.warehouse.schema import contacts

_BATCH = 20_000


def _update_from_arrow(conn: sa.Connection, rotated: list[dict[str, object]]) -> None:
    """One UPDATE ... FROM over the batch, scanned by DuckDB straight from Arrow."""
    batch = pa.Table.from_pylist(rotated)
    cursor = conn.connection.driver_connection  # the DuckDB cursor of this transaction
    cursor.register("_rotated_pii", batch)  # type: ignore[union-attr]
    try:
        conn.exec_driver_sql(
            "UPDATE contacts SET email_encrypted = r.email, phone_encrypted = r.phone "
            "FROM _rotated_pii AS r WHERE contacts.id = r.row_id"
        )
    finally:
        cursor.unregister("_rotated_pii")  # type: ignore[union-attr]


def reencrypt_contacts(
    warehouse: Warehouse,
    cipher: PiiCipher,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Rewrite every contact's email and phone ciphertext under `cipher`'s newest key, in
    batches of one transaction each; returns how many contacts were rewritten. A run that stops
    half-way leaves every row readable (old keys stay configured until the caller drops them),
    and running it again finishes the job."""
    with warehouse.engine.connect() as conn:
        total = conn.execute(
            sa.select(sa.func.count())
            .select_from(contacts)
            .where(
                sa.or_(
                    contacts.c.email_encrypted.is_not(None), contacts.c.phone_encrypted.is_not(None)
                )
            )
        ).scalar_one()
    done, last_id = 0, None
    update = (
        sa.update(contacts)
        .where(contacts.c.id == sa.bindparam("row_id"))
        .values(email_encrypted=sa.bindparam("email"), phone_encrypted=sa.bindparam("phone"))
    )
    while True:
        with warehouse.engine.begin() as conn:
            query = (
                sa.select(contacts.c.id, contacts.c.email_encrypted, contacts.c.phone_encrypted)
                .where(
                    sa.or_(
                        contacts.c.email_encrypted.is_not(None),
                        contacts.c.phone_encrypted.is_not(None),
                    )
                )
                .order_by(contacts.c.id)
                .limit(_BATCH)
            )
            if last_id is not None:
                query = query.where(contacts.c.id > last_id)
            rows = conn.execute(query).all()
            if not rows:
                return done
            rotated = [
                {
                    "row_id": r.id,
                    "email": cipher.rotate(r.email_encrypted),
                    "phone": cipher.rotate(r.phone_encrypted),
                }
                for r in rows
            ]
            if warehouse.backend == "duckdb":
                _update_from_arrow(conn, rotated)  # executemany is ~1,000 rows/s on DuckDB
            else:
                conn.execute(update, rotated)
        done += len(rows)
        last_id = rows[-1].id
        if progress is not None:
            progress(done, total)
