"""The tenant's side of key import: wrap to the HSM's public key; bad material is named."""

from __future__ import annotations

import base64
import contextlib

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from tenantry.errors import KeyMaterialError
from tenantry.keys import (
    DataKey,
    OaepHash,
    WrappedKey,
    WrappingKey,
    generate_tenant_key,
    read_signing_key_pem,
    read_tenant_key,
    signing_key_pem,
    wrap_tenant_key,
)
from tenantry.keys.envelope import oaep_padding

PRIVATE = rsa.generate_private_key(public_exponent=65537, key_size=2048)
WRAPPING = WrappingKey(PRIVATE.public_key(), OaepHash.SHA1)


def _spki_pem(key: object) -> bytes:
    return key.public_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def test_wrapped_key_opens_only_with_the_wrapping_private_key() -> None:
    """The blob decrypts to the tenant's key with the HSM's private key and the announced hash."""
    tenant_key = generate_tenant_key()
    wrapped = WrappedKey.from_pem(
        wrap_tenant_key(WrappingKey.from_pem(WRAPPING.to_pem()), tenant_key).to_pem()
    )
    assert wrapped.wrapping_key == WRAPPING.fingerprint
    assert wrapped.oaep_hash is OaepHash.SHA1
    assert PRIVATE.decrypt(wrapped.ciphertext, oaep_padding(OaepHash.SHA1)) == tenant_key
    assert tenant_key not in wrapped.to_bytes()


def test_oaep_hash_can_be_overridden_by_the_tenant() -> None:
    """--oaep-hash sha256 wraps with SHA-256 and the blob records it."""
    wrapped = wrap_tenant_key(WRAPPING, generate_tenant_key(), oaep_hash=OaepHash.SHA256)
    assert WrappedKey.from_bytes(wrapped.to_bytes()).oaep_hash is OaepHash.SHA256


def test_plain_spki_pem_is_accepted_with_sha256_by_default() -> None:
    """A PEM without header lines is a wrapping key that expects OAEP with SHA-256."""
    key = WrappingKey.from_pem(_spki_pem(PRIVATE.public_key()))
    assert key.oaep_hash is OaepHash.SHA256
    assert key.fingerprint == WRAPPING.fingerprint


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b"", "no BEGIN line"),
        (b"\xff\xfe", "not text"),
        (
            b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            "found '-----BEGIN CERTIFICATE-----'",
        ),
        (b"-----BEGIN PUBLIC KEY-----\nAAAA\n", "no END line"),
        (b"-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----\n", "not valid base64"),
        (b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "not a DER"),
        (
            b"junk line\n-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
            ":1: expected",
        ),
        (
            WRAPPING.to_pem().replace("OAEP-Hash: sha1", "OAEP-Hash: md5").encode(),
            "'md5' is not one of",
        ),
        (
            WRAPPING.to_pem().replace("Fingerprint: sha256:", "Fingerprint: sha256:00").encode(),
            "Fingerprint line says",
        ),
        (_spki_pem(ec.generate_private_key(ec.SECP256R1()).public_key()), "expected an RSA key"),
        (
            # a deliberately weak key: the reader must refuse it
            _spki_pem(rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()),  # noqa: S505
            "RSA-1024 is too small",
        ),
        (b"x" * 70000, "too large"),
    ],
)
def test_bad_wrapping_key_is_named(text: bytes, message: str) -> None:
    """Every malformed wrapping key is a KeyMaterialError saying what is wrong."""
    with pytest.raises(KeyMaterialError, match=message):
        WrappingKey.from_pem(text, source="hsm.pem")


def _blob(data: bytes) -> str:
    body = base64.b64encode(data).decode()
    return f"-----BEGIN TENANTRY WRAPPED KEY-----\n{body}\n-----END TENANTRY WRAPPED KEY-----\n"


GOOD = wrap_tenant_key(WRAPPING, generate_tenant_key())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (_blob(b"TWK1"), "shorter than the header"),
        (_blob(b"XXXX" + GOOD.to_bytes()[4:]), "not a wrapped key"),
        (_blob(GOOD.to_bytes()[:4] + b"\x07" + GOOD.to_bytes()[5:]), "unknown OAEP hash id 7"),
        (_blob(GOOD.to_bytes()[:-1]), "truncated or corrupt"),
        (
            GOOD.to_pem().replace("Wrapping-Key: sha256:", "Wrapping-Key: sha256:ff"),
            "Wrapping-Key line says",
        ),
        (GOOD.to_pem().replace("WRAPPED KEY", "WRAPPED KEX", 1), "found .*WRAPPED KEX"),
        (WRAPPING.to_pem(), "found .*PUBLIC KEY"),
    ],
)
def test_corrupt_wrapped_key_is_named(text: str, message: str) -> None:
    """Every corrupt blob is a KeyMaterialError saying which part is wrong."""
    with pytest.raises(KeyMaterialError, match=message):
        WrappedKey.from_pem(text, source="acme.wrapped")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_arbitrary_blob_bytes_never_crash(data: bytes) -> None:
    """Any bytes inside the armor are a wrapped key or a KeyMaterialError."""
    with contextlib.suppress(KeyMaterialError):
        WrappedKey.from_pem(_blob(data))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_arbitrary_text_never_crashes_the_pem_readers(text: str) -> None:
    """Any text is a key or a KeyMaterialError, never another exception."""
    for reader in (WrappingKey.from_pem, WrappedKey.from_pem):
        with contextlib.suppress(KeyMaterialError):
            reader(text)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x01" * 31, "31 bytes"),
        (b"\x01" * 33, "33 bytes"),
        (b"ab" * 31, "62 hex digits"),
        (b"", "0 bytes"),
    ],
)
def test_tenant_key_of_the_wrong_size_is_named(data: bytes, message: str) -> None:
    """Keys that are not 32 bytes (raw or hex) are refused, naming the size."""
    with pytest.raises(KeyMaterialError, match=message):
        read_tenant_key(data, source="tenant.key")


def test_tenant_key_reads_raw_and_hex() -> None:
    """32 raw bytes and 64 hex digits (with a newline) are the same key."""
    key = generate_tenant_key()
    assert read_tenant_key(key) == key
    assert read_tenant_key(key.hex().encode() + b"\n") == key


def test_data_key_never_shows_itself() -> None:
    """A released data key's repr and str are redacted."""
    key = DataKey(b"\x42" * 32)
    assert "42" not in repr(key) and "B" * 4 not in str(key)
    with pytest.raises(KeyMaterialError, match="16 bytes"):
        DataKey(b"\x00" * 16)


def test_signing_key_pem_round_trips_and_refuses_other_keys() -> None:
    """The tenant's Ed25519 public key survives PEM; an RSA key is refused."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    raw = (
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )
    assert read_signing_key_pem(signing_key_pem(raw).encode()) == raw
    with pytest.raises(KeyMaterialError, match="expected an Ed25519 key"):
        read_signing_key_pem(_spki_pem(PRIVATE.public_key()))
    with pytest.raises(KeyMaterialError, match="not a PEM"):
        read_signing_key_pem(b"nope")
