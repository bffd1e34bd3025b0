"""A tenant's report branding: name on the cover, logo and colours.

Stored as the `branding` field of the tenant's dashboard configuration document (PUT
/api/v1/config/dashboard, versioned like the rest of it); read here straight from the newest
saved version, so the scheduler and the CLI brand reports the same way the API does. Without
a saved document the defaults below apply and the cover carries the tenant's name.
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from dealscope.warehouse.schema import config_documents
from dealscope.warehouse.tenancy import TenantScope, scope_select

MAX_LOGO_BYTES = 300_000  # of the data URI; a logo is a small picture
_LOGO = re.compile(r"^data:image/(png|jpeg|svg\+xml);base64,[A-Za-z0-9+/=\s]+$")
_COLOUR = r"^#[0-9a-fA-F]{6}$"


class Branding(BaseModel):
    """How the tenant's reports look."""

    model_config = ConfigDict(extra="forbid")

    display_name: str | None = Field(
        default=None, max_length=120, description="Name on the cover; default: the tenant's."
    )
    logo: str | None = Field(
        default=None,
        max_length=MAX_LOGO_BYTES,
        description="The logo as a data URI: data:image/png;base64,... (png, jpeg or svg+xml).",
    )
    primary_color: str = Field(
        default="#1b2a4a", pattern=_COLOUR, description="Cover and headings, as #rrggbb."
    )
    accent_color: str = Field(
        default="#1f6feb", pattern=_COLOUR, description="Charts and highlights, as #rrggbb."
    )

    @field_validator("logo")
    @classmethod
    def _data_uri(cls, logo: str | None) -> str | None:
        if logo is not None and not _LOGO.fullmatch(logo):
            raise ValueError(
                "the logo must be a data URI: data:image/png;base64,... (png, jpeg or svg+xml)"
            )
        return logo

    @field_validator("primary_color", "accent_color")
    @classmethod
    def _lower(cls, colour: str) -> str:
        return colour.lower()


def load_branding(connection: sa.Connection, tenant_id: int) -> Branding:
    """The branding in the tenant's newest dashboard configuration (defaults when none is
    saved, or when the saved one predates branding)."""
    c = config_documents.c
    stmt = scope_select(sa.select(c.document), config_documents, TenantScope(tenant_id))
    row = connection.execute(
        stmt.where(c.kind == "dashboard").order_by(c.version.desc()).limit(1)
    ).first()
    document: dict[str, Any] = dict(row.document) if row is not None else {}
    try:
        return Branding.model_validate(document.get("branding") or {})
    except ValidationError:  # saved by an older version with other rules: fall back
        return Branding()
