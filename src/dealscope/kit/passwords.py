"""Password hashing with argon2 (pwdlib)."""

from __future__ import annotations

from functools import lru_cache

from pwdlib import PasswordHash


@lru_cache(maxsize=1)
def _hasher() -> PasswordHash:
    return PasswordHash.recommended()


def hash_password(password: str) -> str:
    """An argon2id hash of `password`, with its own random salt."""
    return _hasher().hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    """Whether `password` matches `password_hash`; never raises on a malformed hash."""
    try:
        return _hasher().verify(password, password_hash)
    except Exception:  # pwdlib raises for unknown hash formats; a bad hash is a plain no
        return False
