"""sync cursors: where each tenant's REST sync of each resource stopped

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 09:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sync_cursors",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("account", sa.String(length=128), nullable=False),
        sa.Column("resource", sa.String(length=32), nullable=False),
        sa.Column("cursor", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rows_fetched", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_cursors")),
        sa.UniqueConstraint(
            "tenant_id",
            "source",
            "account",
            "resource",
            name=op.f("uq_sync_cursors_tenant_id_source_account_resource"),
        ),
    )
    op.create_index(op.f("ix_sync_cursors_tenant_id"), "sync_cursors", ["tenant_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_sync_cursors_tenant_id"), table_name="sync_cursors")
    op.drop_table("sync_cursors")
