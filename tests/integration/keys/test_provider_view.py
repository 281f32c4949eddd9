"""What the provider sees (THREATS row 33): ciphertext or a refusal, never a key.

Each denial is paired with the tenant's legitimate flow, and each is audited where the
tenant sees it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pkcs11
import pytest

from tenantry.errors import CryptoError, DataIntegrityError, NotFoundError, PermissionDeniedError
from tenantry.governance import Actor
from tenantry.keys import (
    RecipientKey,
    RefusalReason,
    ReleasedKey,
    ReleaseRefusal,
    ReleaseRequest,
    UnsafeStaticHostTrust,
    generate_tenant_key,
)
from tenantry.keys.disk import DiskIdentity, EncryptedDisk, read_header
from tenantry.model import Ref
from tenantry.service import open_guest_disk, release_for_image
from tests.helpers.specs import estate_from, tenant_section
from tests.integration.keys.conftest import (
    ACME_WEB,
    OPERATOR,
    Provider,
    SoftHsm,
    TrustFor,
    token_session,
)

PROVIDER_ADMIN = Actor("alice", roles=frozenset({"administrator"}))
ACME_ADMIN = Actor("bob", tenant="acme", roles=frozenset({"administrator"}))
GLOBEX_ADMIN = Actor("carol", tenant="globex", roles=frozenset({"administrator"}))
GLOBEX_WEB = Ref("globex", "web")
SECRET = b"acme: merger plans, do not disclose"


def _audit(provider: Provider, tenant: str) -> list[dict[str, object]]:
    return [json.loads(e.body) for e in provider.service.store.audit_entries(tenant=tenant)]


def _write_secret(provider: Provider, trust_h1: TrustFor, path: Path) -> bytes:
    """The guest writes SECRET; returns the data key the guest held (to hunt for later)."""
    recipient = RecipientKey.generate()
    keys = provider.keys(trust_h1(recipient))
    released, key = release_for_image(keys, path, ACME_WEB, "h1", recipient)
    with open_guest_disk(keys, path, ACME_WEB, "h1", recipient, writable=True) as disk:
        disk.write(0, SECRET)
        disk.flush()
    assert isinstance(released, ReleasedKey)
    return key.secret_bytes()


def test_provider_admin_cannot_import_rotate_or_revoke(provider: Provider) -> None:
    """Only the tenant controls its keys; each refused attempt is in the tenant's audit view."""
    blob = provider.wrap(generate_tenant_key())
    with pytest.raises(PermissionDeniedError, match="only the tenant controls its keys"):
        provider.keys().import_key(PROVIDER_ADMIN, "acme", blob)
    provider.keys().import_key(ACME_ADMIN, "acme", blob)  # the legitimate flow
    with pytest.raises(PermissionDeniedError):
        provider.keys().rotate_key(PROVIDER_ADMIN, "acme", provider.wrap(generate_tenant_key()))
    with pytest.raises(PermissionDeniedError):
        provider.keys().revoke_keys(PROVIDER_ADMIN, "acme")
    refused = [e for e in _audit(provider, "acme") if e["outcome"] == "refused"]
    assert [(e["action"], e["actor"]) for e in refused] == [
        ("keys.import", "alice"),
        ("keys.rotate", "alice"),
        ("keys.revoke", "alice"),
    ]
    assert provider.vault.has_kek("acme", 1)


def test_another_tenant_cannot_see_or_touch_the_keys(provider: Provider) -> None:
    """globex's administrator gets not-found for acme's keys and may not revoke them."""
    provider.keys().import_key(ACME_ADMIN, "acme", provider.wrap(generate_tenant_key()))
    with pytest.raises(NotFoundError):
        provider.keys().status(GLOBEX_ADMIN, "acme")
    with pytest.raises(PermissionDeniedError):
        provider.keys().revoke_keys(GLOBEX_ADMIN, "acme")
    assert provider.keys().status(ACME_ADMIN, "acme").active is not None


def test_provider_reading_a_disk_gets_ciphertext_or_a_refusal(
    provider: Provider, trust_h1: TrustFor
) -> None:
    """The raw image holds no plaintext; asking for the key with the provider's own recipient
    key is refused (by default and on the attested host alike), and audited for the tenant."""
    provider.onboard("acme")
    path = provider.create_disk()
    dek = _write_secret(provider, trust_h1, path)
    raw = path.read_bytes()
    assert SECRET not in raw and dek not in raw

    admin_key = RecipientKey.generate()
    guest_key = RecipientKey.generate()
    request = ReleaseRequest(
        read_header(path).disk_id, ACME_WEB, "h1", admin_key.public_der, "alice"
    )
    for trust in (None, trust_h1(guest_key)):
        result = provider.keys(trust).release_key(request)
        assert isinstance(result, ReleaseRefusal)
        assert result.reason is RefusalReason.UNTRUSTED_HOST
    refusals = [
        e
        for e in _audit(provider, "acme")
        if e["action"] == "keys.release" and e["outcome"] == "refused"
    ]
    assert len(refusals) == 2 and all(e["actor"] == "alice" for e in refusals)


def test_the_hsm_never_lets_a_kek_or_signing_key_out(provider: Provider, softhsm: SoftHsm) -> None:
    """Even with the PIN, KEK and signing key values cannot be read or wrapped out."""
    provider.onboard("acme")
    with token_session(softhsm) as session:
        kek = session.get_key(pkcs11.ObjectClass.SECRET_KEY, label="tenantry-kek/acme/v1")
        signing = session.get_key(pkcs11.ObjectClass.PRIVATE_KEY, label="tenantry-sign/acme")
        assert kek[pkcs11.Attribute.SENSITIVE] and not kek[pkcs11.Attribute.EXTRACTABLE]
        assert signing[pkcs11.Attribute.SENSITIVE] and not signing[pkcs11.Attribute.EXTRACTABLE]
        for key in (kek, signing):
            with pytest.raises(pkcs11.exceptions.AttributeSensitive):
                key[pkcs11.Attribute.VALUE]
        thief = session.generate_key(
            pkcs11.KeyType.AES, 256, template={pkcs11.Attribute.WRAP: True}
        )
        with pytest.raises(pkcs11.exceptions.KeyUnextractable):
            thief.wrap_key(kek, mechanism=pkcs11.Mechanism.AES_KEY_WRAP_PAD)
        thief.destroy()


def test_no_record_response_or_audit_entry_holds_key_material(
    provider: Provider, trust_h1: TrustFor
) -> None:
    """Status, release responses and the audit log carry wrapped keys and names, never keys."""
    tenant_key = provider.onboard("acme")
    path = provider.create_disk()
    dek = _write_secret(provider, trust_h1, path)
    status = provider.keys().status(OPERATOR, "acme")
    text = repr(status) + json.dumps(_audit(provider, "acme"))
    for secret in (tenant_key, dek):
        assert secret.hex() not in text and secret not in status.disks[0].wrapped_dek
    recipient = RecipientKey.generate()
    released, _ = release_for_image(
        provider.keys(trust_h1(recipient)), path, ACME_WEB, "h1", recipient
    )
    assert dek not in released.wrapped and dek.hex() not in repr(released)


@pytest.fixture
def two_tenants_with_disks(provider: Provider) -> Provider:
    """acme/web and globex/web each with a root disk and their own keys."""
    disk = {"name": "root", "datastore": "ds1", "size": "1MiB"}
    estate = estate_from(
        change=lambda d: tenant_section(d, "globex")["guests"][0].update(disks=[disk])
    )
    provider.service.apply(OPERATOR, estate)
    provider.onboard("acme")
    provider.onboard("globex")
    return provider


def test_attaching_a_disk_to_another_tenants_guest_fails_by_policy(
    two_tenants_with_disks: Provider,
) -> None:
    """globex's running guest on its trusted host asking for acme's disk key is refused, and
    both tenants see the attempt."""
    provider = two_tenants_with_disks
    acme_disk = provider.create_disk(ACME_WEB)
    recipient = RecipientKey.generate()
    keys = provider.keys(UnsafeStaticHostTrust({"h2": {recipient.fingerprint}}))
    with pytest.raises(CryptoError, match="does not belong to the tenant"):
        release_for_image(keys, acme_disk, GLOBEX_WEB, "h2", recipient)
    globex_disk = provider.create_disk(GLOBEX_WEB)
    released, _ = release_for_image(keys, globex_disk, GLOBEX_WEB, "h2", recipient)
    assert released.tenant == "globex"  # the legitimate flow
    for tenant in ("acme", "globex"):
        assert any(
            e["action"] == "keys.release" and "other-tenant" in str(e["reason"])
            for e in _audit(provider, tenant)
        )


def test_attaching_a_disk_to_another_tenants_guest_fails_cryptographically(
    two_tenants_with_disks: Provider, trust_h1: TrustFor
) -> None:
    """With the policy bypassed, globex's KEK cannot unwrap acme's data key, and globex's data
    key cannot decrypt acme's blocks."""
    provider = two_tenants_with_disks
    acme_disk = provider.create_disk(ACME_WEB)
    globex_disk = provider.create_disk(GLOBEX_WEB)
    _write_secret(provider, trust_h1, acme_disk)
    acme_record = provider.keys().status(OPERATOR, "acme").disks[0]
    recipient = RecipientKey.generate()
    with pytest.raises(CryptoError, match="does not unwrap under KEK v1 of tenant globex"):
        provider.vault.release_data_key("globex", 1, acme_record.wrapped_dek, recipient.public_der)

    keys = provider.keys(UnsafeStaticHostTrust({"h2": {recipient.fingerprint}}))
    _, globex_key = release_for_image(keys, globex_disk, GLOBEX_WEB, "h2", recipient)
    header = read_header(acme_disk)
    with (
        EncryptedDisk.open(
            acme_disk,
            key=globex_key,
            identity=header.identity,
            signing_key=provider.keys().signing_key(OPERATOR, "acme"),
        ) as disk,
        pytest.raises(DataIntegrityError, match="fails authentication"),
    ):
        disk.read_block(0)
    globex_identity = DiskIdentity("globex", "web", "root", header.disk_id)
    with pytest.raises(DataIntegrityError, match="not globex/web/root"):
        EncryptedDisk.open(
            acme_disk,
            key=globex_key,
            identity=globex_identity,
            signing_key=provider.keys().signing_key(OPERATOR, "globex"),
        )


def test_stopped_guest_gets_no_key_and_running_guest_does(
    provider: Provider, trust_h1: TrustFor
) -> None:
    """Power state is checked at release time against the stored estate."""
    provider.onboard("acme")
    path = provider.create_disk()
    recipient = RecipientKey.generate()
    keys = provider.keys(trust_h1(recipient))
    provider.service.apply(
        OPERATOR,
        estate_from(
            change=lambda d: tenant_section(d, "acme")["guests"][0].update(power="stopped")
        ),
    )
    with pytest.raises(CryptoError, match="stopped, not running"):
        release_for_image(keys, path, ACME_WEB, "h1", recipient)
    provider.service.apply(OPERATOR, estate_from())
    released, _ = release_for_image(keys, path, ACME_WEB, "h1", recipient)
    assert released.disk == "root"


def test_sealing_is_refused_for_an_old_generation_or_an_untrusted_host(
    provider: Provider, trust_h1: TrustFor
) -> None:
    """The key service signs only newer generations, for a guest that may hold the key."""
    provider.onboard("acme")
    path = provider.create_disk()
    recipient = RecipientKey.generate()
    keys = provider.keys(trust_h1(recipient))
    from tenantry.keys import SealRequest

    header = read_header(path)
    newer = header.model_copy(update={"generation": 1, "signature": ""})
    stale = header.model_copy(update={"generation": 0, "signature": ""})
    with pytest.raises(CryptoError, match="not newer"):
        keys.seal_disk(SealRequest(ACME_WEB, "h1", recipient.public_der, stale))
    with pytest.raises(CryptoError, match="not trusted"):
        provider.keys().seal_disk(SealRequest(ACME_WEB, "h1", recipient.public_der, newer))
    assert len(keys.seal_disk(SealRequest(ACME_WEB, "h1", recipient.public_der, newer))) == 64
    seals = [e["outcome"] for e in _audit(provider, "acme") if e["action"] == "disk.seal"]
    assert seals == ["refused", "refused", "succeeded"]
