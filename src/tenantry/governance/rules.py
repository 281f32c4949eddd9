"""The numbers governance runs on: timeouts, throttle limits, lifetimes, quotas."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from tenantry.governance.passwords import PasswordHashing
from tenantry.governance.throttle import ThrottleRule

__all__ = ["GovernanceRules"]


@dataclass(frozen=True)
class GovernanceRules:
    """Secure defaults; the server reads overrides from ``TENANTRY_*`` settings."""

    session_idle: timedelta = timedelta(minutes=15)
    session_absolute: timedelta = timedelta(hours=8)
    account_throttle: ThrottleRule = field(
        default_factory=lambda: ThrottleRule(5, timedelta(minutes=5))
    )
    address_throttle: ThrottleRule = field(
        default_factory=lambda: ThrottleRule(20, timedelta(minutes=5))
    )
    approval_ttl: timedelta = timedelta(hours=24)
    token_max_lifetime: timedelta = timedelta(days=90)
    grant_max_lifetime: timedelta = timedelta(days=7)
    password_hashing: PasswordHashing = field(default_factory=PasswordHashing)
    """argon2id costs of new password hashes."""
    tenant_object_quota: int = 10_000
    """Objects a tenant may own; beyond it a change gets QuotaExceededError (HTTP 429)."""
    directory_hosts: tuple[str, ...] = ()
    """Hosts (``host``, ``host:port``) tenants may point LDAP at; none by default."""

    @property
    def touch_interval(self) -> timedelta:
        """How stale a session's last-use time may get before it is written again."""
        return min(timedelta(seconds=5), self.session_idle / 4)
