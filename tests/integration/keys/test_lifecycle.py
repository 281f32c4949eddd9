"""The full key life cycle on a real SoftHSM2 token: import, disks, release, rotate, revoke."""

from __future__ import annotations

import pytest

from tenantry.errors import (
    ConflictError,
    DataIntegrityError,
    KeyMaterialError,
    KeyRevokedError,
    NotFoundError,
)
from tenantry.keys import (
    DiskKeyState,
    KekState,
    RecipientKey,
    ReleaseRefusal,
    WrappedKey,
    generate_tenant_key,
)
from tenantry.keys.disk import read_header, verify_image
from tenantry.service import open_guest_disk
from tests.helpers.specs import estate_from, tenant_section
from tests.integration.keys.conftest import ACME_WEB, OPERATOR, Provider, TrustFor, token_session

SECRET = b"acme payroll 2026: confidential"


def _write(provider: Provider, trust_h1: TrustFor, data: bytes, offset: int = 0) -> int:
    recipient = RecipientKey.generate()
    keys = provider.keys(trust_h1(recipient))
    path = next(provider.datastores.rglob("*.tdisk"))
    with open_guest_disk(keys, path, ACME_WEB, "h1", recipient, writable=True) as disk:
        disk.write(offset, data)
        return disk.flush().generation


def _read(provider: Provider, trust_h1: TrustFor, length: int, offset: int = 0) -> bytes:
    recipient = RecipientKey.generate()
    keys = provider.keys(trust_h1(recipient))
    path = next(provider.datastores.rglob("*.tdisk"))
    with open_guest_disk(keys, path, ACME_WEB, "h1", recipient, writable=False) as disk:
        return disk.read(offset, length)


def test_full_key_life_cycle(provider: Provider, trust_h1: TrustFor, softhsm) -> None:  # type: ignore[no-untyped-def]
    """Import, allocate, write, rotate (data still reads, nothing re-encrypted), revoke
    (nothing decrypts any more, for anyone)."""
    provider.onboard("acme")
    path = provider.create_disk(size=64 * 4096)
    assert read_header(path).generation == 0

    assert _write(provider, trust_h1, SECRET, offset=5000) == 1
    assert _read(provider, trust_h1, len(SECRET), offset=5000) == SECRET
    assert SECRET not in path.read_bytes()

    before = provider.keys().status(OPERATOR, "acme")
    data_before = path.read_bytes()
    provider.keys().rotate_key(OPERATOR, "acme", provider.wrap(generate_tenant_key()))
    after = provider.keys().status(OPERATOR, "acme")
    assert [(k.version, k.state) for k in after.keks] == [
        (1, KekState.RETIRED),
        (2, KekState.ACTIVE),
    ]
    assert after.disks[0].kek_version == 2
    assert after.disks[0].wrapped_dek != before.disks[0].wrapped_dek
    assert not provider.vault.has_kek("acme", 1) and provider.vault.has_kek("acme", 2)
    assert path.read_bytes() == data_before  # rotation re-wraps keys, never data
    assert _read(provider, trust_h1, len(SECRET), offset=5000) == SECRET

    shredded = provider.keys().revoke_keys(OPERATOR, "acme")
    assert shredded == 1
    status = provider.keys().status(OPERATOR, "acme")
    assert {k.state for k in status.keks} == {KekState.REVOKED}
    assert status.disks[0].state is DiskKeyState.SHREDDED and status.disks[0].wrapped_dek == b""
    with pytest.raises(KeyRevokedError):
        _read(provider, trust_h1, 16)
    # Nothing left in the HSM can unwrap the data key, whatever the records once held.
    with token_session(softhsm) as session:
        import pkcs11

        secret_keys = list(
            session.get_objects({pkcs11.Attribute.CLASS: pkcs11.ObjectClass.SECRET_KEY})
        )
        for key in secret_keys:
            with pytest.raises(pkcs11.exceptions.PKCS11Error):
                key.unwrap_key(
                    pkcs11.ObjectClass.SECRET_KEY,
                    pkcs11.KeyType.AES,
                    before.disks[0].wrapped_dek,
                    mechanism=pkcs11.Mechanism.AES_KEY_WRAP,
                )
        labels = {o[pkcs11.Attribute.LABEL] for o in session.get_objects()}
    assert not any(
        label.startswith(("tenantry-kek/acme", "tenantry-sign/acme")) for label in labels
    )


def test_revoked_disk_stays_unreadable_after_the_tenant_imports_a_new_key(
    provider: Provider, trust_h1: TrustFor
) -> None:
    """Crypto-shredding is final: a new key opens new disks, never the shredded ones."""
    provider.onboard("acme")
    provider.create_disk()
    _write(provider, trust_h1, SECRET)
    provider.keys().revoke_keys(OPERATOR, "acme")
    record = provider.keys().import_key(OPERATOR, "acme", provider.wrap(generate_tenant_key()))
    assert record.version == 2
    with pytest.raises(KeyRevokedError):
        _read(provider, trust_h1, 16)


def test_rotation_leaves_every_disk_of_the_tenant_readable(
    provider: Provider, trust_h1: TrustFor
) -> None:
    """Two disks, two rotations: both data keys follow the KEK and both disks still open."""
    data_disk = {"name": "data", "datastore": "ds1", "size": "1MiB"}
    provider.service.apply(
        OPERATOR,
        estate_from(
            change=lambda d: tenant_section(d, "acme")["guests"][0]["disks"].append(data_disk)
        ),
    )
    provider.onboard("acme")
    paths = [provider.create_disk(disk="root"), provider.create_disk(disk="data")]
    for rotation in range(2):
        provider.keys().rotate_key(OPERATOR, "acme", provider.wrap(generate_tenant_key()))
        status = provider.keys().status(OPERATOR, "acme")
        assert {d.kek_version for d in status.disks} == {rotation + 2}
    for path in paths:
        recipient = RecipientKey.generate()
        keys = provider.keys(trust_h1(recipient))
        with open_guest_disk(keys, path, ACME_WEB, "h1", recipient, writable=False) as disk:
            assert disk.read(0, 4) == bytes(4)
    assert [k.version for k in status.keks if k.state is KekState.ACTIVE] == [3]
    assert not provider.vault.has_kek("acme", 2) and provider.vault.has_kek("acme", 3)


def test_second_import_is_a_conflict_and_rotation_needs_a_key(provider: Provider) -> None:
    """A tenant has one active key: import twice is refused; rotate before import is too."""
    with pytest.raises(NotFoundError, match="no active key"):
        provider.keys().rotate_key(OPERATOR, "acme", provider.wrap(generate_tenant_key()))
    provider.onboard("acme")
    with pytest.raises(ConflictError, match="already has an active key"):
        provider.onboard("acme")


def test_blob_for_another_wrapping_key_changes_nothing(provider: Provider) -> None:
    """A blob wrapped to someone else's key is refused by name; no KEK, no record appears."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    from tenantry.keys import WrappingKey, wrap_tenant_key

    other = WrappingKey(rsa.generate_private_key(public_exponent=65537, key_size=3072).public_key())
    blob = wrap_tenant_key(other, generate_tenant_key())
    with pytest.raises(KeyMaterialError, match="made for wrapping key"):
        provider.keys().import_key(OPERATOR, "acme", blob)
    assert provider.keys().status(OPERATOR, "acme").keks == ()
    assert not provider.vault.has_kek("acme", 1)


def test_corrupt_blob_changes_nothing(provider: Provider) -> None:
    """A blob whose ciphertext was altered does not decrypt in the HSM; nothing is stored."""
    good = provider.wrap(generate_tenant_key())
    ciphertext = bytearray(good.ciphertext)
    ciphertext[10] ^= 0xFF
    bad = WrappedKey(good.wrapping_key, good.oaep_hash, bytes(ciphertext))
    with pytest.raises(KeyMaterialError, match="does not decrypt"):
        provider.keys().import_key(OPERATOR, "acme", bad)
    assert provider.keys().status(OPERATOR, "acme").keks == ()
    assert not provider.vault.has_kek("acme", 1)


def test_disk_for_an_unknown_guest_or_before_any_key_is_refused(provider: Provider) -> None:
    """No disk without a spec'd guest disk and a tenant key; nothing is allocated."""
    with pytest.raises(NotFoundError, match="no key yet"):
        provider.create_disk()
    provider.onboard("acme")
    with pytest.raises(NotFoundError, match="has no disk data"):
        provider.create_disk(disk="data")
    assert not provider.datastores.exists() or not any(provider.datastores.rglob("*.tdisk"))
    provider.create_disk()
    with pytest.raises(ConflictError):
        provider.create_disk()


def test_sealed_image_verifies_with_the_tenant_signing_key(
    provider: Provider, trust_h1: TrustFor
) -> None:
    """The tenant checks the image with its public signing key: clean, then tampered."""
    provider.onboard("acme")
    path = provider.create_disk()
    _write(provider, trust_h1, SECRET)
    public = provider.keys().signing_key(OPERATOR, "acme")
    assert verify_image(path, signing_key=public).ok
    with path.open("r+b") as file:
        file.seek(read_header(path).geometry.table_offset + 20)
        file.write(b"\x00\x00")
    assert not verify_image(path, signing_key=public).ok


def test_refused_release_returns_a_refusal_not_a_key(provider: Provider) -> None:
    """With the default host trust the release is a refusal value naming the reason."""
    provider.onboard("acme")
    path = provider.create_disk()
    from tenantry.keys import ReleaseRequest

    recipient = RecipientKey.generate()
    result = provider.keys().release_key(
        ReleaseRequest(read_header(path).disk_id, ACME_WEB, "h1", recipient.public_der)
    )
    assert isinstance(result, ReleaseRefusal)
    assert "deny by default" in result.message


def test_restored_older_image_is_refused_as_a_rollback(
    provider: Provider, trust_h1: TrustFor
) -> None:
    """The key service remembers the newest sealed generation: an older copy of the image,
    correctly signed, does not open; the current one does."""
    provider.onboard("acme")
    path = provider.create_disk()
    _write(provider, trust_h1, b"version 1")
    old = path.read_bytes()
    _write(provider, trust_h1, b"version 2")
    current = path.read_bytes()
    path.write_bytes(old)
    with pytest.raises(DataIntegrityError, match="rolled back"):
        _read(provider, trust_h1, 9)
    path.write_bytes(current)
    assert _read(provider, trust_h1, 9) == b"version 2"
