"""Bearer secrets: 256-bit random, shown once, stored only as SHA-256 digests."""

from __future__ import annotations

import hashlib
import hmac
import secrets

__all__ = ["TOKEN_PREFIX", "digest_secret", "matches_digest", "new_id", "new_secret"]

TOKEN_PREFIX = "tnt_"  # noqa: S105 - a public marker that lets secret scanners spot leaks


def new_secret() -> str:
    """A fresh bearer secret: the prefix and 32 random bytes, URL-safe base64."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def new_id() -> str:
    """An opaque, unguessable identifier for a stored object (sessions, grants, approvals)."""
    return secrets.token_urlsafe(12)


def digest_secret(secret: str) -> str:
    """The hex SHA-256 digest stored in place of a secret (a 256-bit secret needs no salt)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def matches_digest(secret: str, digest: str) -> bool:
    """Constant-time comparison of a presented secret with a stored digest."""
    return hmac.compare_digest(digest_secret(secret).encode(), digest.encode())
