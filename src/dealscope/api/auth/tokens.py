"""Access tokens (signed JWTs) and the opaque secrets behind refresh tokens and API keys.

An access token is a JWT signed with HS256 and `DEALSCOPE_JWT_SECRET`. Its claims: `sub` (the
user id, a string as RFC 7519 wants), `tid` (tenant id), `role`, `sid` (the sign-in session),
`typ` = "access", `iat`, `exp` and a unique `jti`. Decoding accepts HS256 only, so a token
"signed" with `alg: none` or any other algorithm is refused, and every claim is required.

Refresh tokens and API key secrets are random strings; only their SHA-256 is stored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid
from dataclasses import dataclass

import jwt

from dealscope.errors import AuthenticationFailed
from dealscope.kit.roles import Role

ALGORITHM = "HS256"
ACCESS = "access"
_REQUIRED_CLAIMS = ["sub", "tid", "role", "sid", "typ", "iat", "exp", "jti"]
_EXPIRED = "the access token has expired; get a new one from /api/v1/auth/refresh or sign in"


@dataclass(frozen=True)
class AccessClaims:
    """What a valid access token says about its bearer."""

    user_id: int
    tenant_id: int
    role: Role
    session_id: int
    issued_at: dt.datetime
    expires_at: dt.datetime
    token_id: str


def encode_access_token(
    secret: str,
    *,
    user_id: int,
    tenant_id: int,
    role: Role,
    session_id: int,
    now: dt.datetime,
    lifetime: dt.timedelta,
) -> str:
    """A signed access token for the session, valid from `now` for `lifetime`."""
    claims = {
        "sub": str(user_id),
        "tid": tenant_id,
        "role": role.value,
        "sid": session_id,
        "typ": ACCESS,
        "iat": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def decode_access_token(secret: str, token: str, now: dt.datetime | None = None) -> AccessClaims:
    """The claims of `token`, or AuthenticationFailed saying why it is not acceptable.

    `now` replaces the clock for the expiry check (tests); the default is the wall clock."""
    options: jwt.types.Options = {"require": _REQUIRED_CLAIMS}
    if now is not None:  # PyJWT checks exp and iat against its own clock; we check them below
        options["verify_exp"] = options["verify_iat"] = False
    try:
        payload = jwt.decode(token, secret, algorithms=[ALGORITHM], options=options)
    except jwt.ExpiredSignatureError as exc:
        raise AuthenticationFailed(_EXPIRED) from exc
    except jwt.InvalidTokenError as exc:
        raise AuthenticationFailed(f"the access token is not valid ({exc})") from exc
    if payload["typ"] != ACCESS:
        raise AuthenticationFailed(
            f"a {payload['typ']!r} token cannot be used as an access token; send the "
            "access_token from /api/v1/auth/token"
        )
    try:
        claims = AccessClaims(
            user_id=int(payload["sub"]),
            tenant_id=_integer(payload["tid"]),
            role=Role(payload["role"]),
            session_id=_integer(payload["sid"]),
            issued_at=dt.datetime.fromtimestamp(payload["iat"], dt.UTC),
            expires_at=dt.datetime.fromtimestamp(payload["exp"], dt.UTC),
            token_id=str(payload["jti"]),
        )
    except (TypeError, ValueError) as exc:
        raise AuthenticationFailed("the access token's claims are malformed") from exc
    if now is not None and claims.expires_at <= now:
        raise AuthenticationFailed(_EXPIRED)
    if now is not None and claims.issued_at > now:
        raise AuthenticationFailed("the access token is not valid yet (issued in the future)")
    return claims


def _integer(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an integer claim, got {value!r}")
    return value


def new_secret() -> str:
    """A random, URL-safe secret of 48 bytes (64 characters): a refresh token."""
    return secrets.token_urlsafe(48)


def digest(secret: str) -> str:
    """The SHA-256 hex digest under which a refresh token or key secret is stored.

    A plain hash is enough: these secrets are long and random, not guessable passwords."""
    return hashlib.sha256(secret.encode()).hexdigest()
