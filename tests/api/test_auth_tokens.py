"""Access tokens: what they claim, and every way a token that is not ours is refused."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json

import jwt
import pytest

from dealscope.api.auth.tokens import (
    AccessClaims,
    decode_access_token,
    digest,
    encode_access_token,
    new_secret,
)
from dealscope.errors import AuthenticationFailed
from dealscope.kit.roles import Role

SECRET = "a-test-signing-key-" + "k" * 45  # 64 bytes: long enough for HS512 too
OTHER_SECRET = "another-signing-key-" + "o" * 44
T0 = dt.datetime(2025, 3, 3, 12, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


def _token(now: dt.datetime = T0, secret: str = SECRET) -> str:
    return encode_access_token(
        secret, user_id=7, tenant_id=3, role=Role.MANAGER, session_id=11, now=now, lifetime=HOUR
    )


def _claims(token: str) -> dict[str, object]:
    return dict(jwt.decode(token, options={"verify_signature": False}))


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_a_token_round_trips_its_claims() -> None:
    token = _token()

    claims = decode_access_token(SECRET, token, now=T0 + dt.timedelta(minutes=59))

    assert claims == AccessClaims(
        user_id=7,
        tenant_id=3,
        role=Role.MANAGER,
        session_id=11,
        issued_at=T0,
        expires_at=T0 + HOUR,
        token_id=claims.token_id,
    )
    assert len(claims.token_id) == 32
    raw = _claims(token)
    assert raw["sub"] == "7" and raw["tid"] == 3 and raw["sid"] == 11 and raw["typ"] == "access"
    assert raw["exp"] == int((T0 + HOUR).timestamp()) and raw["iat"] == int(T0.timestamp())
    assert jwt.get_unverified_header(token)["alg"] == "HS256"


def test_each_token_has_its_own_id() -> None:
    assert _claims(_token())["jti"] != _claims(_token())["jti"]


def test_a_token_expires_after_its_lifetime_on_a_fixed_clock() -> None:
    token = _token()

    with pytest.raises(AuthenticationFailed, match="the access token has expired"):
        decode_access_token(SECRET, token, now=T0 + HOUR)


def test_a_token_expires_on_the_wall_clock_too() -> None:
    with pytest.raises(AuthenticationFailed, match="the access token has expired"):
        decode_access_token(SECRET, _token(now=dt.datetime.now(dt.UTC) - 2 * HOUR))


def test_a_token_issued_in_the_future_is_refused() -> None:
    with pytest.raises(AuthenticationFailed, match="not valid yet"):
        decode_access_token(SECRET, _token(now=T0 + HOUR), now=T0)


def test_a_token_signed_with_another_key_is_refused() -> None:
    with pytest.raises(AuthenticationFailed, match="Signature verification failed"):
        decode_access_token(SECRET, _token(secret=OTHER_SECRET), now=T0)


def test_a_changed_payload_breaks_the_signature() -> None:
    token = _token()
    header, _, signature = token.split(".")
    promoted = {**_claims(token), "role": "admin", "tid": 4}

    with pytest.raises(AuthenticationFailed, match="Signature verification failed"):
        decode_access_token(SECRET, f"{header}.{_b64(promoted)}.{signature}", now=T0)


def test_one_flipped_character_is_refused() -> None:
    header, payload, signature = _token().split(".")
    flipped = payload[:10] + ("A" if payload[10] != "A" else "B") + payload[11:]

    with pytest.raises(AuthenticationFailed, match="the access token is not valid"):
        decode_access_token(SECRET, f"{header}.{flipped}.{signature}", now=T0)


def test_an_unsigned_alg_none_token_is_refused() -> None:
    claims = _claims(_token())
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."

    with pytest.raises(AuthenticationFailed, match="alg"):
        decode_access_token(SECRET, unsigned, now=T0)


def test_another_algorithm_with_the_same_key_is_refused() -> None:
    hs512 = jwt.encode(_claims(_token()), SECRET, algorithm="HS512")

    with pytest.raises(AuthenticationFailed, match="alg"):
        decode_access_token(SECRET, hs512, now=T0)


def test_a_refresh_typed_token_is_not_an_access_token() -> None:
    confused = jwt.encode({**_claims(_token()), "typ": "refresh"}, SECRET, algorithm="HS256")

    with pytest.raises(AuthenticationFailed, match="'refresh' token cannot be used as an access"):
        decode_access_token(SECRET, confused, now=T0)


@pytest.mark.parametrize("claim", ["sub", "tid", "role", "sid", "typ", "iat", "exp", "jti"])
def test_every_claim_is_required(claim: str) -> None:
    claims = _claims(_token())
    del claims[claim]

    with pytest.raises(AuthenticationFailed, match=f'missing the "{claim}" claim'):
        decode_access_token(SECRET, jwt.encode(claims, SECRET, algorithm="HS256"), now=T0)


@pytest.mark.parametrize(
    ("claim", "value"), [("sub", "seven"), ("tid", "3"), ("sid", True), ("role", "owner")]
)
def test_malformed_claims_are_refused(claim: str, value: object) -> None:
    claims = {**_claims(_token()), claim: value}

    with pytest.raises(AuthenticationFailed, match="claims are malformed"):
        decode_access_token(SECRET, jwt.encode(claims, SECRET, algorithm="HS256"), now=T0)


def test_garbage_is_refused() -> None:
    with pytest.raises(AuthenticationFailed, match="the access token is not valid"):
        decode_access_token(SECRET, "not-a-jwt", now=T0)


def test_refresh_secrets_are_long_random_and_stored_as_sha256() -> None:
    first, second = new_secret(), new_secret()

    assert first != second and len(first) == 64
    assert digest(first) == hashlib.sha256(first.encode()).hexdigest()
