"""Signed tree heads: bound to the key by the log id; any change voids the signature."""

from __future__ import annotations

import dataclasses

import pytest

from tenantry.audit import (
    EMPTY_ROOT,
    Ed25519Signer,
    SignedTreeHead,
    TreeHead,
    load_public_key,
    log_id_of,
    public_key_pem,
)
from tenantry.errors import InputError, KeyMaterialError

SIGNER = Ed25519Signer.generate()
OTHER = Ed25519Signer.generate()


def _head(signer: Ed25519Signer = SIGNER, size: int = 3) -> SignedTreeHead:
    return TreeHead(size, EMPTY_ROOT, 1_700_000_000_000, log_id_of(signer.public_key())).sign(
        signer
    )


def test_a_signed_head_verifies_with_its_key() -> None:
    """The legitimate flow: the log's key verifies the head it signed."""
    assert _head().is_signed_by(SIGNER.public_key())


@pytest.mark.parametrize(
    "change",
    [
        {"size": 4},
        {"root": b"\x01" * 32},
        {"timestamp": 1_700_000_000_001},
    ],
)
def test_any_changed_field_voids_the_signature(change: dict[str, object]) -> None:
    """Size, root and time are all covered by the signature."""
    signed = _head()
    altered = SignedTreeHead(dataclasses.replace(signed.head, **change), signed.signature)  # type: ignore[arg-type]
    assert not altered.is_signed_by(SIGNER.public_key())


def test_a_head_signed_by_another_key_is_refused() -> None:
    """A head re-signed with a swapped key fails against the pinned key, even with its log id."""
    forged = _head(OTHER)
    assert not forged.is_signed_by(SIGNER.public_key())
    renamed = SignedTreeHead(
        dataclasses.replace(forged.head, log_id=log_id_of(SIGNER.public_key())), forged.signature
    )
    assert not renamed.is_signed_by(SIGNER.public_key())


def test_a_head_survives_its_json_form() -> None:
    """to_json and from_json round-trip exactly and the signature still verifies."""
    signed = _head()
    again = SignedTreeHead.from_json(signed.to_json())
    assert again == signed
    assert again.is_signed_by(SIGNER.public_key())


@pytest.mark.parametrize(
    ("data", "where"),
    [
        ([], "tree head: expected an object"),
        ({"size": 1}, "missing field"),
        ({**_head().to_json(), "size": -1}, "tree head.size"),
        ({**_head().to_json(), "root": "zz"}, "tree head.root: not hex"),
        ({**_head().to_json(), "root": "00"}, "tree head.root: expected 32 bytes"),
        ({**_head().to_json(), "signature": "***"}, "tree head.signature: not base64"),
        ({**_head().to_json(), "log_id": "abc"}, "tree head.log_id"),
    ],
)
def test_a_malformed_head_is_refused_with_its_place(data: object, where: str) -> None:
    """Bad checkpoint files raise InputError naming the field."""
    with pytest.raises(InputError, match=where):
        SignedTreeHead.from_json(data)


def test_public_keys_load_from_pem_and_hex() -> None:
    """The key a provider hands out (PEM) and its raw hex form both pin the same log."""
    raw = SIGNER.public_key()
    assert load_public_key(public_key_pem(raw)) == raw
    assert load_public_key(raw.hex()) == raw


@pytest.mark.parametrize("text", ["", "nothex", "00" * 31, "-----BEGIN PUBLIC KEY-----\nxx\n"])
def test_a_bad_public_key_is_refused(text: str) -> None:
    """Garbage instead of a key raises KeyMaterialError, never a crash."""
    with pytest.raises(KeyMaterialError):
        load_public_key(text)


def test_a_signing_key_survives_pem_and_a_bad_pem_is_refused() -> None:
    """The 0600 key file format round-trips; anything else is a clear error."""
    assert Ed25519Signer.from_pem(SIGNER.to_pem()).public_key() == SIGNER.public_key()
    with pytest.raises(KeyMaterialError):
        Ed25519Signer.from_pem(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    assert "log_id" in repr(SIGNER)
    assert "PRIVATE" not in repr(SIGNER)
