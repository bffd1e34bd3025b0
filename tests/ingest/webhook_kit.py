"""Helpers of the webhook tests: keys made per session, signed deliveries, a tenant with a
pipeline and webhook settings, and the warehouse state written as external ids."""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

import sqlalchemy as sa
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from dealscope.ingest.ghl.records import GhlRecords
from dealscope.ingest.webhook_settings import write_settings
from dealscope.kit.crypto import PiiCipher
from dealscope.warehouse import schema
from dealscope.warehouse.engine import Warehouse
from dealscope.warehouse.unit_of_work import unit_of_work

ED25519_KEY = ed25519.Ed25519PrivateKey.generate()
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_ED25519_KEY = ed25519.Ed25519PrivateKey.generate()
WORKFLOW_SECRET = "workflow-secret-0123456789-abcdef"
GENERIC_SECRET = "generic-secret-0123456789-abcdef"
LOCATION = "LOC_brokerage_01"
STAGES = (
    ("S_new", "New lead"),
    ("S_contacted", "Contacted"),
    ("S_qualified", "Qualified"),
    ("S_appointment", "Appointment set"),
    ("S_showing", "Showing"),
    ("S_offer", "Offer made"),
    ("S_contract", "Under contract"),
    ("S_closed", "Closed"),
)


def ed25519_public_pem() -> str:
    return (
        ED25519_KEY.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def rsa_public_pem() -> str:
    return (
        RSA_KEY.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def body_of(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def sign(body: bytes, scheme: str = "ed25519") -> dict[str, str]:
    """Headers GHL would send with `body`."""
    if scheme == "ed25519":
        signature = ED25519_KEY.sign(body)
        return {"x-ghl-signature": base64.b64encode(signature).decode()}
    signature = RSA_KEY.sign(body, padding.PKCS1v15(), hashes.SHA256())
    return {"x-wh-signature": base64.b64encode(signature).decode()}


def make_tenant(warehouse: Warehouse, slug: str, cipher: PiiCipher) -> int:
    """A tenant with the GHL pipeline STAGES and webhook settings (both keys, both secrets,
    LOCATION only)."""
    tenant_id = warehouse.ids.next_id("tenants")
    with unit_of_work(warehouse) as uow:
        uow.connection.execute(
            sa.insert(schema.tenants).values(
                id=tenant_id, slug=slug, name=f"{slug} realty", created_at=dt.datetime.now(dt.UTC)
            )
        )
        GhlRecords(uow, tenant_id, cipher).upsert_pipeline(
            {
                "id": "PIPE_buyers",
                "name": "Buyers",
                "stages": [{"id": i, "name": n, "position": p} for p, (i, n) in enumerate(STAGES)],
            }
        )
        write_settings(
            uow,
            tenant_id,
            {
                "ghl_ed25519_public_key": ed25519_public_pem(),
                "ghl_rsa_public_key": rsa_public_pem(),
                "workflow_secret": WORKFLOW_SECRET,
                "generic_secret": GENERIC_SECRET,
                "location_ids": [LOCATION],
            },
            None,
        )
    return tenant_id


def _utc(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        value = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC).isoformat()
    return value


def warehouse_state(warehouse: Warehouse, tenant_id: int, cipher: PiiCipher) -> dict[str, Any]:
    """Every row ingestion writes for the tenant, with our ids replaced by the external ids
    they stand for (so two tenants fed the same events compare equal), sorted."""
    t = schema
    with warehouse.engine.connect() as conn:

        def ext(table: sa.Table) -> dict[int, str]:
            rows = conn.execute(
                sa.select(table.c.id, table.c.external_id).where(table.c.tenant_id == tenant_id)
            )
            return {int(r.id): r.external_id for r in rows}

        agents, contacts, deals = ext(t.agents), ext(t.contacts), ext(t.opportunities)

        def rows(table: sa.Table, columns: list[str]) -> list[tuple[Any, ...]]:
            found = conn.execute(
                sa.select(*[table.c[c] for c in columns]).where(table.c.tenant_id == tenant_id)
            ).all()
            out = []
            for row in found:
                values = []
                for name, value in zip(columns, row, strict=True):
                    if name in ("assigned_agent_id", "agent_id"):
                        value = agents.get(value)
                    elif name == "contact_id":
                        value = contacts.get(value)
                    elif name == "opportunity_id":
                        value = deals.get(value)
                    elif name in ("email_encrypted", "phone_encrypted"):
                        value = cipher.decrypt(value)
                    elif name == "value" and value is not None:
                        value = str(value)
                    values.append(_utc(value))
                out.append(tuple(values))
            return sorted(out, key=repr)

        return {
            "agents": rows(
                t.agents,
                ["external_id", "first_name", "last_name", "email", "is_active", "created_at"],
            ),
            "contacts": rows(
                t.contacts,
                [
                    "external_id",
                    "first_name",
                    "last_name",
                    "email_encrypted",
                    "phone_encrypted",
                    "source",
                    "source_detail",
                    "assigned_agent_id",
                    "lead_type",
                    "postal_code",
                    "tags",
                    "created_at",
                    "updated_at",
                    "deleted_at",
                ],
            ),
            "opportunities": rows(
                t.opportunities,
                [
                    "external_id",
                    "contact_id",
                    "name",
                    "stage_key",
                    "status",
                    "value",
                    "source",
                    "assigned_agent_id",
                    "lead_type",
                    "created_at",
                    "updated_at",
                    "last_stage_change_at",
                    "closed_at",
                    "deleted_at",
                ],
            ),
            "stage_history": rows(
                t.stage_history,
                [
                    "opportunity_id",
                    "from_stage",
                    "to_stage",
                    "status",
                    "agent_id",
                    "changed_at",
                    "recorded_from",
                ],
            ),
            "messages": rows(
                t.messages,
                [
                    "external_id",
                    "conversation_id",
                    "contact_id",
                    "agent_id",
                    "channel",
                    "direction",
                    "body",
                    "sent_at",
                ],
            ),
            "activities": rows(
                t.activities,
                [
                    "external_id",
                    "contact_id",
                    "opportunity_id",
                    "agent_id",
                    "activity_type",
                    "direction",
                    "outcome",
                    "duration_seconds",
                    "occurred_at",
                    "deleted_at",
                ],
            ),
            "appointments": rows(
                t.appointments,
                [
                    "external_id",
                    "contact_id",
                    "opportunity_id",
                    "agent_id",
                    "title",
                    "appointment_type",
                    "status",
                    "starts_at",
                    "ends_at",
                ],
            ),
        }
