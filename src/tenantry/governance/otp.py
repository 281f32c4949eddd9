"""Time-based one-time passwords (RFC 6238) as a second factor, with replay protection."""

from __future__ import annotations

import hmac
from datetime import datetime

import pyotp

__all__ = ["new_totp_secret", "provisioning_uri", "verify_totp"]

VALID_WINDOW = 1
"""Codes of the previous and next 30 s step are accepted too (clock drift)."""


def new_totp_secret() -> str:
    """A fresh base32 secret (160 bits)."""
    return str(pyotp.random_base32(32))


def provisioning_uri(secret: str, account: str, issuer: str = "tenantry") -> str:
    """The otpauth:// URI an authenticator app reads (as a QR code)."""
    return str(pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer))


def verify_totp(secret: str, code: str, now: datetime, last_counter: int | None) -> int | None:
    """The time step ``code`` belongs to, or None if it is wrong or was already used.

    A code is accepted once: its step must be later than ``last_counter``, the step of the
    last accepted code, so a code seen by someone else cannot be replayed in its window.
    """
    code = code.strip()
    if not code.isdigit() or len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    current = int(totp.timecode(now))
    found: int | None = None
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        expected = str(totp.generate_otp(step))
        # Check every step whatever matched, so the time does not depend on which one did.
        if hmac.compare_digest(expected.encode(), code.encode()) and found is None:
            found = step
    if found is None or (last_counter is not None and found <= last_counter):
        return None
    return found
