"""Token objects: attribute templates, mechanism parameters, and value encodings."""

from __future__ import annotations

from typing import Any, cast

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey, RSAPublicNumbers
from pkcs11 import MGF, Attribute, Mechanism, ObjectClass
from pkcs11 import exceptions as p11

from tenantry.errors import HsmUnavailableError, KeyMaterialError
from tenantry.keys.envelope import MIN_RSA_BITS
from tenantry.keys.material import OaepHash

__all__ = [
    "DEK_TEMPLATE",
    "ED25519_OID",
    "KEK_TEMPLATE",
    "PRIVATE_NO_USE",
    "PUBLIC_NO_USE",
    "UNAVAILABLE",
    "ed25519_point",
    "find",
    "oaep",
    "recipient_numbers",
]

ED25519_OID = "1.3.101.112"
_OAEP_PARAMS = {
    OaepHash.SHA256: (Mechanism.SHA256, MGF.SHA256, None),
    OaepHash.SHA1: (Mechanism.SHA_1, MGF.SHA1, None),
}
UNAVAILABLE = (
    p11.DeviceError,
    p11.DeviceMemory,
    p11.DeviceRemoved,
    p11.SessionClosed,
    p11.SessionHandleInvalid,
    p11.TokenNotPresent,
    p11.TokenNotRecognised,
    p11.UserNotLoggedIn,
)
"""Errors that mean "the token is not usable", as opposed to "this key or blob is wrong"."""

# Each key may do one thing; every other use is switched off explicitly.
PUBLIC_NO_USE = {Attribute.ENCRYPT: False, Attribute.VERIFY: False, Attribute.WRAP: False}
PRIVATE_NO_USE = {
    Attribute.DECRYPT: False,
    Attribute.SIGN: False,
    Attribute.UNWRAP: False,
    Attribute.DERIVE: False,
}
_NO_USE = {**PUBLIC_NO_USE, **PRIVATE_NO_USE}
KEK_TEMPLATE = {
    **_NO_USE,
    Attribute.PRIVATE: True,
    Attribute.SENSITIVE: True,
    Attribute.EXTRACTABLE: False,
    Attribute.WRAP: True,
    Attribute.UNWRAP: True,
}
# A DEK must be extractable to be wrapped at all, but never readable in clear (sensitive).
DEK_TEMPLATE = {
    **_NO_USE,
    Attribute.PRIVATE: True,
    Attribute.SENSITIVE: True,
    Attribute.EXTRACTABLE: True,
    Attribute.WRAP: False,
    Attribute.UNWRAP: False,
}


def find(session: Any, object_class: ObjectClass, label: str) -> Any | None:
    """The object with that class and label, or None."""
    try:
        return session.get_key(object_class=object_class, label=label)
    except p11.NoSuchKey:
        return None


def oaep(oaep_hash: OaepHash) -> bytes:
    """RSA-OAEP mechanism parameters for ``oaep_hash``."""
    # python-pkcs11 builds CK_RSA_PKCS_OAEP_PARAMS from this tuple; its stub says bytes.
    return cast(bytes, _OAEP_PARAMS[oaep_hash])


def recipient_numbers(recipient: bytes) -> RSAPublicNumbers:
    """The RSA numbers of a recipient's SubjectPublicKeyInfo; KeyMaterialError otherwise."""
    try:
        key = serialization.load_der_public_key(recipient)
    except ValueError as exc:
        raise KeyMaterialError("the recipient key is not a DER SubjectPublicKeyInfo") from exc
    if not isinstance(key, RSAPublicKey) or key.key_size < MIN_RSA_BITS:
        raise KeyMaterialError(f"the recipient key must be RSA of at least {MIN_RSA_BITS} bits")
    return key.public_numbers()


def ed25519_point(point: bytes) -> bytes:
    """The raw 32-byte key from CKA_EC_POINT."""
    # A DER OCTET STRING around the 32-byte key on most tokens, raw on some.
    if len(point) == 34 and point[:2] == b"\x04\x20":
        return point[2:]
    if len(point) == 32:
        return point
    raise HsmUnavailableError(f"the token returned an Ed25519 point of {len(point)} bytes")
