"""What goes in and out of sign-in, users, API keys and tenants (`XCreate`, `XUpdate`, `XRead`).

Read models never carry a password hash or a key hash; the one model that carries a full API
key (`ApiKeyCreated`) is returned once, when the key is made.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from dealscope.kit.roles import Permission, Role

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256  # argon2 hashes anything, but a megabyte "password" is an attack

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")


def normalise_email(value: str) -> str:
    """`value` trimmed and lower-cased; ValueError unless it looks like name@domain.tld."""
    email = value.strip().lower()
    if not _EMAIL.fullmatch(email):
        raise ValueError(f"{value!r} is not an email address (expected name@domain.tld)")
    return email


def _check_slug(value: str) -> str:
    if not _SLUG.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a tenant slug: use 1-63 lower-case letters, digits and hyphens, "
            "starting with a letter or digit"
        )
    return value


def _check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"{value!r} is not an IANA time zone (e.g. America/Chicago)") from exc
    return value


Email = Annotated[str, AfterValidator(normalise_email), Field(max_length=254)]
Password = Annotated[str, Field(min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH)]
Slug = Annotated[str, AfterValidator(_check_slug)]
TimeZone = Annotated[str, AfterValidator(_check_timezone)]


# --- sign-in -----------------------------------------------------------------------------


class TokenRead(BaseModel):
    """A signed-in session's tokens (the OAuth2 token response)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "access_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9...",
                    "refresh_token": "q3Rk0yC1u8...",
                    "token_type": "bearer",
                    "expires_in": 3600,
                }
            ]
        }
    )

    access_token: str = Field(description="Send as `Authorization: Bearer <access_token>`.")
    refresh_token: str = Field(
        description="Exchange once at /api/v1/auth/refresh for new tokens; a second use ends "
        "the session."
    )
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires.")


class RefreshRequest(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"refresh_token": "q3Rk0yC1u8..."}]})

    refresh_token: str = Field(min_length=1, max_length=512)


# --- tenants -----------------------------------------------------------------------------


class TenantCreate(BaseModel):
    slug: Slug = Field(examples=["summit-ridge"])
    name: str = Field(min_length=1, max_length=200, examples=["Summit Ridge Realty"])
    timezone: TimeZone = Field(default="America/New_York", examples=["America/Denver"])
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$", examples=["USD"])


class TenantRead(BaseModel):
    id: int
    slug: str
    name: str
    timezone: str
    currency: str
    is_active: bool


# --- users -------------------------------------------------------------------------------


class UserCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "email": "jordan.lee@summitridge.example",
                    "full_name": "Jordan Lee",
                    "password": "a long passphrase 42",
                    "role": "analyst",
                }
            ]
        }
    )

    email: Email
    full_name: str = Field(min_length=1, max_length=200)
    password: Password = Field(description=f"At least {MIN_PASSWORD_LENGTH} characters.")
    role: Role
    agent_id: int | None = Field(default=None, description="Required for role agent.")
    team_id: int | None = Field(default=None, description="Required for role manager.")


class UserUpdate(BaseModel):
    """Fields to change; absent fields stay as they are, `null` clears agent_id or team_id."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"full_name": "Jordan Lee-Park", "role": "viewer"}]}
    )

    role: Role | None = None
    full_name: str | None = Field(default=None, min_length=1, max_length=200)
    agent_id: int | None = None
    team_id: int | None = None
    is_active: bool | None = Field(
        default=None, description="false disables the user and ends their sessions."
    )


class UserRead(BaseModel):
    id: int
    email: str
    full_name: str
    role: Role
    agent_id: int | None
    team_id: int | None
    is_active: bool
    failed_logins: int
    locked_until: dt.datetime | None = Field(
        description="While in the future, the account refuses passwords."
    )
    last_login_at: dt.datetime | None
    created_at: dt.datetime


class MeRead(BaseModel):
    """Who the caller is: a user signed in with a password, or an API key."""

    kind: Literal["user", "api_key"]
    user_id: int | None
    api_key_id: int | None
    email: str | None
    full_name: str = Field(description="The user's name, or the API key's name.")
    role: Role
    tenant: TenantRead
    agent_id: int | None
    team_id: int | None
    permissions: list[Permission]


# --- API keys ----------------------------------------------------------------------------


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"name": "nightly BI export", "role": "viewer"}]}
    )

    name: str = Field(min_length=1, max_length=100)
    role: Role = Field(
        default=Role.VIEWER,
        description="An API key reads for the whole tenant: admin, analyst or viewer.",
    )


class ApiKeyRead(BaseModel):
    id: int
    name: str
    prefix: str = Field(description="The key's public part (`dsk_<prefix>_...`), shown in lists.")
    role: Role
    created_by: int | None
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


class ApiKeyCreated(ApiKeyRead):
    key: str = Field(
        description="The whole key, shown this once: send it as `X-API-Key: <key>`.",
        examples=["dsk_3f9a0c1b2d4e_Zx8..."],
    )
