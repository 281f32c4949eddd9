"""Login throttling: after ``limit`` consecutive failures a key is locked for a while.

Keys are per account (``user:DOMAIN/NAME``) and per source address (``addr:IP``), never global,
so one attacker cannot lock every administrator out at once, and a spray across accounts from
one address stops at that address's limit.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

__all__ = ["FailureCount", "ThrottleRule", "account_key", "address_key"]


def account_key(domain: str, name: str) -> str:
    """The throttle key of an account."""
    return f"user:{domain}/{name}"


def address_key(address: str) -> str:
    """The throttle key of a source address."""
    return f"addr:{address}"


@dataclass(frozen=True)
class ThrottleRule:
    """``limit`` failures in a row lock the key for ``lockout``."""

    limit: int
    lockout: timedelta


@dataclass(frozen=True)
class FailureCount:
    """Consecutive failures of one key and, once over the limit, until when it is locked."""

    key: str
    count: int = 0
    locked_until: datetime | None = None

    def is_locked(self, now: datetime) -> bool:
        """Whether the key is locked at ``now``."""
        return self.locked_until is not None and now < self.locked_until

    def after_failure(self, rule: ThrottleRule, now: datetime) -> FailureCount:
        """The count after one more failure (a lock that ran out starts a fresh count)."""
        count = self.count
        if self.locked_until is not None and now >= self.locked_until:
            count = 0
        count += 1
        locked = now + rule.lockout if count >= rule.limit else None
        return replace(self, count=count, locked_until=locked)
