"""Contact PII at rest: Fernet encryption with key rotation, and a keyed hash for lookups.

Keys come from DEALSCOPE_PII_KEYS (newest first). In demo, dev and test, when unset, they live
in `<data_dir>/keys/pii.json`, made on first use, so a laptop needs no setup; production
refuses to run without configured keys. The hash key never rotates: rotating it would lose
every lookup by email.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from dealscope.config import Environment, Settings
from dealscope.errors import ConfigurationError, DealScopeError


class DecryptionFailed(DealScopeError):
    """A ciphertext was made with a key that is no longer configured, or was altered."""


class PiiCipher:
    def __init__(self, keys: list[bytes], hash_key: bytes) -> None:
        if not keys:
            raise ConfigurationError("at least one PII encryption key is needed")
        self._fernet = MultiFernet([Fernet(k) for k in keys])
        self.keys = list(keys)
        self.hash_key = hash_key

    def encrypt(self, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        return self._fernet.encrypt(value.encode()).decode()

    def decrypt(self, token: str | None) -> str | None:
        if token is None:
            return None
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise DecryptionFailed(
                "a contact field could not be decrypted with the configured PII keys "
                "(was a key removed before `dealscope keys rotate` finished?)"
            ) from exc

    def encrypt_many(self, values: Iterable[str | None]) -> list[str | None]:
        return [self.encrypt(v) for v in values]

    def rotate(self, token: str | None) -> str | None:
        """The same value under the newest key."""
        return None if token is None else self._fernet.rotate(token.encode()).decode()

    def email_hash(self, email: str | None) -> str | None:
        """A keyed hash of the normalised address: equal emails give equal hashes."""
        if email is None or not email.strip():
            return None
        normalised = email.strip().lower().encode()
        return hmac.new(self.hash_key, normalised, hashlib.sha256).hexdigest()

    def email_hashes(self, emails: Iterable[str | None]) -> list[str | None]:
        return [self.email_hash(e) for e in emails]


def key_file(settings: Settings) -> Path:
    return settings.data_dir / "keys" / "pii.json"


def _read_key_file(path: Path) -> tuple[list[bytes], bytes]:
    data = json.loads(path.read_text())
    return [k.encode() for k in data["keys"]], data["hash_key"].encode()


def write_key_file(path: Path, keys: list[bytes], hash_key: bytes) -> None:
    """Write keys readable by the owner only, replacing the file atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    tmp.touch(mode=0o600)  # private before any secret is written into it
    tmp.write_text(json.dumps({"keys": [k.decode() for k in keys], "hash_key": hash_key.decode()}))
    tmp.replace(path)


def add_key(settings: Settings) -> tuple[PiiCipher, PiiCipher]:
    """Start a rotation: a cipher whose newest key is new (old keys kept, so every stored value
    stays readable while rows are rewritten), and the cipher that will remain afterwards.

    With keys in the key file, the new key is written into it. With DEALSCOPE_PII_KEYS the
    operator adds the new key in front themselves: this then uses the configured keys as they
    are and the remaining cipher is the first key alone."""
    if settings.pii_keys is not None:
        current = load_cipher(settings)
        return current, PiiCipher(current.keys[:1], current.hash_key)
    current = load_cipher(settings)  # makes the key file on first use
    path = key_file(settings)
    keys, hash_key = _read_key_file(path)
    new = Fernet.generate_key()
    write_key_file(path, [new, *keys], hash_key)
    return PiiCipher([new, *keys], hash_key), PiiCipher([new], current.hash_key)


def drop_old_keys(settings: Settings, remaining: PiiCipher) -> None:
    """Finish a rotation that rewrote every row: keep only the newest key in the key file."""
    if settings.pii_keys is None:
        write_key_file(key_file(settings), remaining.keys, remaining.hash_key)


def load_cipher(settings: Settings) -> PiiCipher:
    """The cipher for these settings (see the module docstring for where keys come from)."""
    if settings.pii_keys is not None:
        keys = [
            k.strip().encode() for k in settings.pii_keys.get_secret_value().split(",") if k.strip()
        ]
        if settings.pii_hash_key is None:
            raise ConfigurationError("DEALSCOPE_PII_KEYS is set but DEALSCOPE_PII_HASH_KEY is not")
        try:
            return PiiCipher(keys, settings.pii_hash_key.get_secret_value().encode())
        except ValueError as exc:
            raise ConfigurationError(
                "DEALSCOPE_PII_KEYS must be Fernet keys (32 url-safe base64 bytes), comma-separated"
            ) from exc
    if settings.environment == Environment.PRODUCTION:
        raise ConfigurationError(
            "DEALSCOPE_PII_KEYS and DEALSCOPE_PII_HASH_KEY must be set in production; make a key "
            "with: python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key()"
            ".decode())'"
        )
    path = key_file(settings)
    if not path.exists():
        write_key_file(path, [Fernet.generate_key()], secrets.token_urlsafe(32).encode())
    keys, hash_key = _read_key_file(path)
    return PiiCipher(keys, hash_key)
