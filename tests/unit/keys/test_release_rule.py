"""The release rule: a disk's key goes only to a running guest of its tenant on a trusted host.

Each refusal is paired with the legitimate request that passes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tenantry.errors import CryptoError, KeyRevokedError, NotFoundError
from tenantry.keys import (
    DenyAllHosts,
    DiskKeyRecord,
    DiskKeyState,
    HostTrustState,
    RefusalReason,
    ReleaseRequest,
    SigningKeyRecord,
    UnsafeStaticHostTrust,
    check_release,
    check_seal,
    fingerprint,
)
from tenantry.keys.disk import DiskIdentity, empty_header
from tenantry.model import Estate, Ref
from tests.helpers.specs import estate_from, tenant_section

NOW = datetime(2026, 1, 1, tzinfo=UTC)
ACME_WEB = Ref("acme", "web")
RECIPIENT = b"recipient-public-key"
TRUSTED_H1 = HostTrustState("h1", True, "attested", "quote-1")


def _record(**changes: Any) -> DiskKeyRecord:
    values: dict[str, Any] = {
        "disk_id": "d" * 32,
        "tenant": "acme",
        "guest": "web",
        "disk": "root",
        "block_size": 4096,
        "block_count": 16,
        "kek_version": 1,
        "wrapped_dek": b"w" * 40,
        "state": DiskKeyState.ACTIVE,
        "generation": 3,
        "created_at": NOW,
        "changed_at": NOW,
    }
    values.update(changes)
    return DiskKeyRecord(**values)


def _request(guest: Ref = ACME_WEB, host: str = "h1") -> ReleaseRequest:
    return ReleaseRequest("d" * 32, guest, host, RECIPIENT)


@pytest.fixture(scope="module")
def estate() -> Estate:
    return estate_from()


def test_running_guest_of_the_tenant_on_a_trusted_host_gets_the_key(estate: Estate) -> None:
    """The legitimate flow: every condition holds, nothing refuses."""
    assert check_release(_request(), estate, _record(), TRUSTED_H1) is None


def test_unknown_disk_is_refused(estate: Estate) -> None:
    """No record, no key; the refusal maps to NotFoundError."""
    refusal = check_release(_request(), estate, None, TRUSTED_H1)
    assert refusal is not None and refusal.reason is RefusalReason.UNKNOWN_DISK
    assert isinstance(refusal.to_error(), NotFoundError)


def test_shredded_disk_is_refused_as_revoked(estate: Estate) -> None:
    """After revocation the refusal says so (KeyRevokedError, HTTP 410)."""
    refusal = check_release(_request(), estate, _record(state=DiskKeyState.SHREDDED), TRUSTED_H1)
    assert refusal is not None and refusal.reason is RefusalReason.REVOKED
    assert isinstance(refusal.to_error(), KeyRevokedError)


def test_guest_of_another_tenant_is_refused(estate: Estate) -> None:
    """globex's guest asking for acme's disk is refused, even on a trusted host."""
    request = _request(Ref("globex", "web"), "h2")
    refusal = check_release(request, estate, _record(), HostTrustState("h2", True, "attested"))
    assert refusal is not None and refusal.reason is RefusalReason.OTHER_TENANT
    assert isinstance(refusal.to_error(), CryptoError)


def test_unknown_guest_is_refused(estate: Estate) -> None:
    """A guest that does not exist gets nothing."""
    refusal = check_release(_request(Ref("acme", "ghost")), estate, _record(), TRUSTED_H1)
    assert refusal is not None and refusal.reason is RefusalReason.UNKNOWN_GUEST


def test_disk_not_attached_to_the_guest_is_refused(estate: Estate) -> None:
    """A disk of the same tenant that the guest does not list is refused."""
    refusal = check_release(_request(), estate, _record(disk="data"), TRUSTED_H1)
    assert refusal is not None and refusal.reason is RefusalReason.NOT_ATTACHED


def test_stopped_guest_is_refused() -> None:
    """A guest that is not running gets no key; the same guest running does."""
    stopped = estate_from(
        change=lambda d: tenant_section(d, "acme")["guests"][0].update(power="stopped")
    )
    refusal = check_release(_request(), stopped, _record(), TRUSTED_H1)
    assert refusal is not None and refusal.reason is RefusalReason.NOT_RUNNING


def test_request_from_another_host_is_refused(estate: Estate) -> None:
    """acme/web runs on h1: a request naming h2 is refused even if h2 is trusted."""
    refusal = check_release(
        _request(host="h2"), estate, _record(), HostTrustState("h2", True, "attested")
    )
    assert refusal is not None and refusal.reason is RefusalReason.WRONG_HOST


def test_untrusted_host_is_refused(estate: Estate) -> None:
    """The right guest on the right host is still refused while the host is not trusted."""
    refusal = check_release(
        _request(), estate, _record(), HostTrustState("h1", False, "quote stale")
    )
    assert refusal is not None and refusal.reason is RefusalReason.UNTRUSTED_HOST
    assert "quote stale" in refusal.message


def test_trust_verdict_for_another_host_does_not_count(estate: Estate) -> None:
    """A trusted verdict about h2 does not make h1 trusted."""
    refusal = check_release(_request(), estate, _record(), HostTrustState("h2", True, "ok"))
    assert refusal is not None and refusal.reason is RefusalReason.UNTRUSTED_HOST


def test_default_host_trust_denies_everything(estate: Estate) -> None:
    """Without attestation no host is trusted (deny by default)."""
    verdict = DenyAllHosts().assess("h1", "sha256:any")
    assert not verdict.trusted
    refusal = check_release(_request(), estate, _record(), verdict)
    assert refusal is not None and refusal.reason is RefusalReason.UNTRUSTED_HOST


def test_static_trust_binds_hosts_to_recipient_keys(caplog: pytest.LogCaptureFixture) -> None:
    """UnsafeStaticHostTrust warns, trusts only bound keys, and only on listed hosts."""
    trust = UnsafeStaticHostTrust({"h1": {"sha256:good"}, "h2": None})
    assert "without attestation" in caplog.text
    assert trust.assess("h1", "sha256:good").trusted
    assert not trust.assess("h1", "sha256:other").trusted
    assert trust.assess("h2", "sha256:anything").trusted
    assert not trust.assess("h3", "sha256:good").trusted


def _seal_case(**header_changes: Any) -> tuple[Any, DiskKeyRecord, SigningKeyRecord]:
    signing = SigningKeyRecord("acme", b"k" * 32, True, NOW, NOW)
    identity = DiskIdentity("acme", "web", "root", "d" * 32)
    header = empty_header(identity, size=16 * 4096, block_size=4096, signer=fingerprint(b"k" * 32))
    header = header.model_copy(update={"generation": 4, **header_changes})
    return header, _record(), signing


def test_next_generation_of_the_same_disk_may_be_sealed() -> None:
    """The legitimate flow: same disk, same geometry, newer generation, the tenant's key."""
    header, record, signing = _seal_case()
    assert check_seal(header, record, signing) is None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"disk": "data"}, "the header names"),
        ({"block_count": 32}, "geometry"),
        ({"generation": 3}, "not newer than the sealed 3"),
        ({"signer": "sha256:" + "00" * 32}, "another signing key"),
    ],
)
def test_seal_of_anything_else_is_refused(changes: dict[str, Any], message: str) -> None:
    """Another disk, another geometry, an old generation or another key: no signature."""
    header, record, signing = _seal_case(**changes)
    refusal = check_seal(header, record, signing)
    assert refusal is not None and message in refusal.message


def test_seal_without_an_active_signing_key_is_refused() -> None:
    """After revocation the tenant's signing key is inactive: nothing is sealed."""
    header, record, signing = _seal_case()
    inactive = SigningKeyRecord(signing.tenant, signing.public_key, False, NOW, NOW)
    refusal = check_seal(header, record, inactive)
    assert refusal is not None and "no active signing key" in refusal.message
