"""Which GHL location, with which token, a tenant's sync reads.

First what the caller passes (command-line options), then the tenant's entry in
`DEALSCOPE_GHL_ACCOUNTS` (JSON: slug -> {"location_id", "token"}), then the installation's
`DEALSCOPE_GHL_LOCATION_ID` / `DEALSCOPE_GHL_TOKEN`. The base URL is `DEALSCOPE_GHL_BASE_URL`
unless the caller or the tenant's entry ("base_url") names another.
"""

from __future__ import annotations

import json
from typing import Any

from dealscope.config import Settings
from dealscope.errors import ConfigurationError
from dealscope.ingest.ghl.client import GhlCredentials


def _tenant_entry(settings: Settings, tenant_slug: str) -> dict[str, Any]:
    if settings.ghl_accounts is None:
        return {}
    try:
        accounts = json.loads(settings.ghl_accounts.get_secret_value())
    except ValueError as exc:
        raise ConfigurationError(f"DEALSCOPE_GHL_ACCOUNTS is not valid JSON: {exc}") from None
    if not isinstance(accounts, dict):
        raise ConfigurationError(
            'DEALSCOPE_GHL_ACCOUNTS must be a JSON object: {"<tenant slug>": '
            '{"location_id": "...", "token": "..."}}'
        )
    entry = accounts.get(tenant_slug, {})
    if not isinstance(entry, dict):
        raise ConfigurationError(
            f"DEALSCOPE_GHL_ACCOUNTS[{tenant_slug!r}] must be an object with location_id and token"
        )
    unknown = sorted(set(entry) - {"location_id", "token", "base_url"})
    if unknown:
        raise ConfigurationError(
            f"DEALSCOPE_GHL_ACCOUNTS[{tenant_slug!r}] has unknown key(s) {', '.join(unknown)}; "
            "expected location_id, token and optionally base_url"
        )
    return entry


def resolve_credentials(
    settings: Settings,
    tenant_slug: str,
    location_id: str | None = None,
    token: str | None = None,
    base_url: str | None = None,
) -> GhlCredentials:
    """The tenant's GHL credentials (see the module doc for the order); ConfigurationError
    naming what is missing."""
    entry = _tenant_entry(settings, tenant_slug)
    default_token = None if settings.ghl_token is None else settings.ghl_token.get_secret_value()
    location = location_id or entry.get("location_id") or settings.ghl_location_id
    secret = token or entry.get("token") or default_token
    url = base_url or entry.get("base_url") or settings.ghl_base_url
    missing = [
        name
        for name, value in (
            ("a location id (--location-id or DEALSCOPE_GHL_LOCATION_ID)", location),
            ("a token (DEALSCOPE_GHL_TOKEN or --token)", secret),
        )
        if not value or not str(value).strip()
    ]
    if missing:
        raise ConfigurationError(
            f"no GHL account for tenant {tenant_slug!r}: give {' and '.join(missing)}, or add "
            f"the tenant to DEALSCOPE_GHL_ACCOUNTS"
        )
    if not str(url).startswith(("http://", "https://")):
        raise ConfigurationError(f"the GHL base URL {url!r} must start with http:// or https://")
    return GhlCredentials(
        location_id=str(location).strip(), token=str(secret).strip(), base_url=url
    )
