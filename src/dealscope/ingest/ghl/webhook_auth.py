"""Authenticating webhook deliveries over their raw bytes, before any JSON parsing.

- GHL marketplace webhooks: Ed25519 `x-ghl-signature` (checked first when sent) and the
  legacy RSA PKCS#1 v1.5 SHA-256 `x-wh-signature`, both base64, against the tenant's
  configured public keys.
- GHL workflow webhooks (GHL does not sign them): a shared secret the admin puts in a custom
  header, compared in constant time with the stored hash.
- The generic JSON webhook: `X-DealScope-Signature: sha256=<hex HMAC-SHA256 of the body>`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from dealscope.errors import AuthenticationFailed, ValidationFailed

ED25519_HEADER = "x-ghl-signature"
RSA_HEADER = "x-wh-signature"
WORKFLOW_SECRET_HEADER = "x-dealscope-webhook-secret"
GENERIC_SIGNATURE_HEADER = "x-dealscope-signature"


@dataclass(frozen=True)
class WebhookCredentials:
    """What a tenant's deliveries are checked against (any may be missing)."""

    ed25519_public_key: ed25519.Ed25519PublicKey | None = None
    rsa_public_key: rsa.RSAPublicKey | None = None
    workflow_secret_sha256: str | None = None
    generic_secret: str | None = None
    location_ids: frozenset[str] = frozenset()


def load_ed25519_key(text: str) -> ed25519.Ed25519PublicKey:
    """An Ed25519 public key from PEM (SPKI), or its raw 32 bytes in hex or base64."""
    stripped = text.strip()
    if stripped.startswith("-----BEGIN"):
        key = serialization.load_pem_public_key(stripped.encode())
        if not isinstance(key, ed25519.Ed25519PublicKey):
            raise ValidationFailed("ghl_ed25519_public_key: the PEM key is not an Ed25519 key")
        return key
    raw: bytes | None = None
    try:
        raw = bytes.fromhex(stripped)
    except ValueError:
        try:
            raw = base64.b64decode(stripped, validate=True)
        except (binascii.Error, ValueError):
            raw = None
    if raw is not None and len(raw) == 44:  # SPKI DER in base64 (MCowBQYDK2VwAyEA...)
        der_key = serialization.load_der_public_key(raw)
        if isinstance(der_key, ed25519.Ed25519PublicKey):
            return der_key
    if raw is None or len(raw) != 32:
        raise ValidationFailed(
            "ghl_ed25519_public_key: expected PEM, or 32 raw bytes in hex or base64"
        )
    return ed25519.Ed25519PublicKey.from_public_bytes(raw)


def load_rsa_key(text: str) -> rsa.RSAPublicKey:
    """An RSA public key from PEM (SPKI or PKCS#1), or the bare base64 body of one."""
    stripped = text.strip()
    if not stripped.startswith("-----BEGIN"):
        stripped = f"-----BEGIN PUBLIC KEY-----\n{stripped}\n-----END PUBLIC KEY-----"
    try:
        key = serialization.load_pem_public_key(stripped.encode())
    except ValueError as exc:
        raise ValidationFailed(f"ghl_rsa_public_key: not a PEM public key ({exc})") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValidationFailed("ghl_rsa_public_key: the PEM key is not an RSA key")
    return key


def secret_sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _signature(headers: Mapping[str, str], name: str) -> bytes:
    try:
        return base64.b64decode(headers[name].strip(), validate=True)
    except (binascii.Error, ValueError):
        raise AuthenticationFailed(f"the {name} header is not base64") from None


def verify_ghl(body: bytes, headers: Mapping[str, str], creds: WebhookCredentials) -> str:
    """Check a marketplace delivery; returns the header that verified it. Raises
    AuthenticationFailed (401) naming what is wrong."""
    if ED25519_HEADER in headers and creds.ed25519_public_key is not None:
        try:
            creds.ed25519_public_key.verify(_signature(headers, ED25519_HEADER), body)
        except InvalidSignature:
            raise AuthenticationFailed(
                f"the {ED25519_HEADER} signature does not match the body"
            ) from None
        return ED25519_HEADER
    if RSA_HEADER in headers and creds.rsa_public_key is not None:
        try:
            creds.rsa_public_key.verify(
                _signature(headers, RSA_HEADER), body, padding.PKCS1v15(), hashes.SHA256()
            )
        except InvalidSignature:
            raise AuthenticationFailed(
                f"the {RSA_HEADER} signature does not match the body"
            ) from None
        return RSA_HEADER
    if creds.ed25519_public_key is None and creds.rsa_public_key is None:
        raise AuthenticationFailed(
            "this tenant has no GHL webhook public key configured "
            "(PUT /api/v1/webhooks/settings as an admin)"
        )
    raise AuthenticationFailed(
        f"a signed {ED25519_HEADER} or {RSA_HEADER} header is required "
        "(for a key this tenant has configured)"
    )


def verify_workflow(headers: Mapping[str, str], creds: WebhookCredentials) -> None:
    if creds.workflow_secret_sha256 is None:
        raise AuthenticationFailed("this tenant has no workflow webhook secret configured")
    sent = headers.get(WORKFLOW_SECRET_HEADER)
    if not sent:
        raise AuthenticationFailed(f"the {WORKFLOW_SECRET_HEADER} header is missing")
    if not hmac.compare_digest(secret_sha256(sent), creds.workflow_secret_sha256):
        raise AuthenticationFailed(f"the {WORKFLOW_SECRET_HEADER} header is wrong")


def sign_generic(body: bytes, secret: str) -> str:
    """The X-DealScope-Signature value for `body` (what a sender computes)."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_generic(body: bytes, headers: Mapping[str, str], creds: WebhookCredentials) -> None:
    if creds.generic_secret is None:
        raise AuthenticationFailed("this tenant has no generic webhook secret configured")
    sent = headers.get(GENERIC_SIGNATURE_HEADER)
    if not sent:
        raise AuthenticationFailed(f"the {GENERIC_SIGNATURE_HEADER} header is missing")
    if not hmac.compare_digest(
        sent.strip().encode(), sign_generic(body, creds.generic_secret).encode()
    ):
        raise AuthenticationFailed(f"the {GENERIC_SIGNATURE_HEADER} signature does not match")
