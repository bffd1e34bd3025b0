"""webhook ingest: event time on raw events, deal-state observations, per-tenant webhook
settings, source times on activities and appointments

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21 09:05:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("raw_events", sa.Column("occurred_at", sa.DateTime(timezone=True)))
    op.add_column("activities", sa.Column("updated_at", sa.DateTime(timezone=True)))
    op.add_column("activities", sa.Column("deleted_at", sa.DateTime(timezone=True)))
    op.add_column("appointments", sa.Column("updated_at", sa.DateTime(timezone=True)))
    op.create_table(
        "stage_observations",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("opportunity_id", sa.BigInteger(), nullable=False),
        sa.Column("observed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stage_key", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("agent_id", sa.BigInteger(), nullable=True),
        sa.Column("recorded_from", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stage_observations")),
        sa.UniqueConstraint(
            "tenant_id",
            "opportunity_id",
            "observed_at",
            "stage_key",
            "status",
            name="uq_stage_observations_state",
        ),
    )
    op.create_index(
        op.f("ix_stage_observations_tenant_id"), "stage_observations", ["tenant_id"], unique=False
    )
    op.create_table(
        "webhook_settings",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("ghl_ed25519_public_key", sa.Text(), nullable=True),
        sa.Column("ghl_rsa_public_key", sa.Text(), nullable=True),
        sa.Column("workflow_secret_sha256", sa.String(length=64), nullable=True),
        sa.Column("generic_secret", sa.Text(), nullable=True),
        sa.Column("location_ids", sa.JSON(), nullable=True),
        sa.Column("updated_by", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_settings")),
        sa.UniqueConstraint("tenant_id", name=op.f("uq_webhook_settings_tenant_id")),
    )


def downgrade() -> None:
    op.drop_table("webhook_settings")
    op.drop_index(op.f("ix_stage_observations_tenant_id"), table_name="stage_observations")
    op.drop_table("stage_observations")
    op.drop_column("appointments", "updated_at")
    op.drop_column("activities", "deleted_at")
    op.drop_column("activities", "updated_at")
    op.drop_column("raw_events", "occurred_at")
