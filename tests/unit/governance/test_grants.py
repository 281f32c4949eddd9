"""Grants and approvals as listed: an active grant past its end reads as expired."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tenantry.governance import Approval, ApprovalStatus, DataGrant, GrantStatus, Privilege
from tenantry.model import Kind, Ref

NOW = datetime(2030, 1, 1, tzinfo=UTC)


def _grant(status: GrantStatus, ends: datetime) -> DataGrant:
    return DataGrant(
        "g1",
        "acme",
        "u1",
        "op",
        Kind.GUEST,
        Ref("acme", "web"),
        Privilege.DISK_READ,
        "acme:bob",
        NOW - timedelta(hours=1),
        ends,
        status,
    )


def test_active_grant_works_until_its_end_and_reads_expired_after() -> None:
    """is_active follows the clock; the listing says expired once past the end."""
    grant = _grant(GrantStatus.ACTIVE, NOW + timedelta(minutes=1))
    assert grant.is_active(NOW)
    assert not grant.is_active(NOW + timedelta(minutes=1))
    assert grant.to_json(NOW + timedelta(minutes=2))["status"] == "expired"
    assert grant.to_json(NOW)["object"] == "guest/acme/web"


def test_pending_or_revoked_grant_is_never_active() -> None:
    """Only an approved (active) grant lets anyone in."""
    for status in (GrantStatus.PENDING, GrantStatus.REVOKED, GrantStatus.REJECTED):
        assert not _grant(status, NOW + timedelta(days=1)).is_active(NOW)


def test_grant_covers_only_its_user_privilege_and_object() -> None:
    """Another user, privilege or guest is not covered."""
    grant = _grant(GrantStatus.ACTIVE, NOW + timedelta(days=1))
    assert grant.covers("u1", Privilege.DISK_READ, Kind.GUEST, Ref("acme", "web"))
    assert not grant.covers("u2", Privilege.DISK_READ, Kind.GUEST, Ref("acme", "web"))
    assert not grant.covers("u1", Privilege.MEMORY_DUMP, Kind.GUEST, Ref("acme", "web"))
    assert not grant.covers("u1", Privilege.DISK_READ, Kind.GUEST, Ref("acme", "db"))


def test_pending_approval_past_its_expiry_reads_expired() -> None:
    """The listed status of an unexpired pending request is pending, then expired."""
    approval = Approval("a1", "delete", "s", {}, "u1", "alice", NOW, NOW + timedelta(hours=1))
    assert approval.effective_status(NOW) is ApprovalStatus.PENDING
    assert approval.to_json(NOW + timedelta(hours=2))["status"] == "expired"
