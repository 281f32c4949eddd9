"""``Pkcs11Vault``: tenant KEKs, wrapped DEKs and signing keys on one PKCS#11 token."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey, RSAPublicNumbers
from pkcs11 import Attribute, KeyType, Mechanism, ObjectClass
from pkcs11 import exceptions as p11
from pkcs11.util.ec import encode_named_curve_parameters

from tenantry.errors import CryptoError, HsmUnavailableError, KeyMaterialError, NotFoundError
from tenantry.keys.envelope import WrappedKey, WrappingKey, oaep_padding
from tenantry.keys.material import OaepHash, generate_tenant_key
from tenantry.keys.pkcs11.login import SharedLogin, attach, detach
from tenantry.keys.pkcs11.objects import (
    DEK_TEMPLATE,
    ED25519_OID,
    KEK_TEMPLATE,
    PRIVATE_NO_USE,
    PUBLIC_NO_USE,
    UNAVAILABLE,
    ed25519_point,
    find,
    oaep,
    recipient_numbers,
)
from tenantry.keys.vault import WRAPPING_LABEL, kek_label, signing_label

__all__ = ["WRAPPING_KEY_BITS", "Pkcs11Vault"]

WRAPPING_KEY_BITS = 3072


class Pkcs11Vault:
    """Tenant KEKs, wrapped DEKs and signing keys on one PKCS#11 token."""

    def __init__(self, module: str, token: str, pin: str) -> None:
        self._key = (module, token)
        self._pin = pin
        self._shared: SharedLogin | None = None
        self._oaep_hash: OaepHash | None = None

    def __repr__(self) -> str:
        return f"Pkcs11Vault(module={self._key[0]!r}, token={self._key[1]!r})"

    # ------------------------------------------------------------------ session

    def _attach(self) -> SharedLogin:
        if self._shared is None:
            self._shared = attach(*self._key, self._pin)
        return self._shared

    @contextmanager
    def _session(self, what: str) -> Iterator[Any]:
        shared = self._attach()
        with shared.lock:
            try:
                yield shared.session
            except p11.PKCS11Error as exc:
                # Expected failures (a key that does not unwrap, a missing key) are turned
                # into precise errors where they happen; anything else means the token failed.
                raise HsmUnavailableError(
                    f"token {self._key[1]!r} failed while trying to {what}: {type(exc).__name__}"
                ) from exc

    def close(self) -> None:
        """Leave the shared login; the last vault on the token logs out."""
        shared, self._shared = self._shared, None
        if shared is not None:
            detach(*self._key, shared)

    # ------------------------------------------------------------------ wrapping key

    def wrapping_key(self) -> WrappingKey:
        """The RSA wrapping key tenants encrypt their keys to (created on first use)."""
        with self._session("read the wrapping key") as session:
            public = find(session, ObjectClass.PUBLIC_KEY, WRAPPING_LABEL)
            if public is None:
                public, _ = session.generate_keypair(
                    KeyType.RSA,
                    WRAPPING_KEY_BITS,
                    store=True,
                    label=WRAPPING_LABEL,
                    id=WRAPPING_LABEL.encode(),
                    public_template=PUBLIC_NO_USE,
                    private_template={
                        **PRIVATE_NO_USE,
                        Attribute.PRIVATE: True,
                        Attribute.SENSITIVE: True,
                        Attribute.EXTRACTABLE: False,
                        Attribute.UNWRAP: True,
                    },
                )
            numbers = RSAPublicNumbers(
                int.from_bytes(public[Attribute.PUBLIC_EXPONENT], "big"),
                int.from_bytes(public[Attribute.MODULUS], "big"),
            )
            der = numbers.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            return WrappingKey.from_der(der, self._probe_oaep_hash(session, numbers.public_key()))

    def _probe_oaep_hash(self, session: Any, public: RSAPublicKey) -> OaepHash:
        # Some tokens (SoftHSM 2.6) unwrap RSA-OAEP only with SHA-1; tell tenants which to use
        # by trying SHA-256 once on a throwaway key.
        if self._oaep_hash is not None:
            return self._oaep_hash
        private = find(session, ObjectClass.PRIVATE_KEY, WRAPPING_LABEL)
        if private is None:
            raise HsmUnavailableError("the wrapping key pair is incomplete on the token")
        chosen = OaepHash.SHA1
        probe = public.encrypt(generate_tenant_key(), oaep_padding(OaepHash.SHA256))
        with suppress(p11.ArgumentsBad, p11.MechanismParamInvalid, p11.MechanismInvalid):
            key = private.unwrap_key(
                ObjectClass.SECRET_KEY,
                KeyType.AES,
                probe,
                mechanism=Mechanism.RSA_PKCS_OAEP,
                mechanism_param=oaep(OaepHash.SHA256),
                template=DEK_TEMPLATE,
            )
            key.destroy()
            chosen = OaepHash.SHA256
        self._oaep_hash = chosen
        return chosen

    # ------------------------------------------------------------------ KEKs

    def import_kek(self, tenant: str, version: int, wrapped: WrappedKey) -> None:
        """Unwrap the tenant's blob with the wrapping key into a token KEK object."""
        current = self.wrapping_key()
        if wrapped.wrapping_key != current.fingerprint:
            raise KeyMaterialError(
                f"the wrapped key was made for wrapping key {wrapped.wrapping_key}, but this "
                f"HSM's wrapping key is {current.fingerprint}",
                hint="Fetch the wrapping key (`tenantry keys wrapping-key`) and wrap again.",
            )
        if len(wrapped.ciphertext) * 8 != current.public_key.key_size:
            raise KeyMaterialError(
                f"the wrapped key has {len(wrapped.ciphertext)} bytes of ciphertext; "
                f"RSA-{current.public_key.key_size} produces {current.public_key.key_size // 8}"
            )
        label = kek_label(tenant, version)
        with self._session("import a tenant key") as session:
            if find(session, ObjectClass.SECRET_KEY, label) is not None:
                raise CryptoError(f"the HSM already holds {label}")
            private = find(session, ObjectClass.PRIVATE_KEY, WRAPPING_LABEL)
            if private is None:  # pragma: no cover - wrapping_key() just created it
                raise HsmUnavailableError("the wrapping key pair is incomplete on the token")
            try:
                private.unwrap_key(
                    ObjectClass.SECRET_KEY,
                    KeyType.AES,
                    wrapped.ciphertext,
                    label=label,
                    id=label.encode(),
                    mechanism=Mechanism.RSA_PKCS_OAEP,
                    mechanism_param=oaep(wrapped.oaep_hash),
                    store=True,
                    template=KEK_TEMPLATE,
                )
            except (p11.ArgumentsBad, p11.MechanismParamInvalid) as exc:
                raise KeyMaterialError(
                    f"this HSM cannot unwrap RSA-OAEP with {wrapped.oaep_hash}",
                    hint=f"Wrap again with --oaep-hash {current.oaep_hash}.",
                ) from exc
            except p11.PKCS11Error as exc:
                if isinstance(exc, UNAVAILABLE):
                    raise
                raise KeyMaterialError(
                    "the wrapped key does not decrypt with this HSM's wrapping key "
                    "(corrupt, or wrapped with another OAEP hash)"
                ) from exc

    def has_kek(self, tenant: str, version: int) -> bool:
        """Whether the token holds that KEK version."""
        with self._session("look up a KEK") as session:
            return find(session, ObjectClass.SECRET_KEY, kek_label(tenant, version)) is not None

    def destroy_kek(self, tenant: str, version: int) -> bool:
        """Destroy the KEK object (crypto-shredding); False if it was not there."""
        with self._session("destroy a KEK") as session:
            key = find(session, ObjectClass.SECRET_KEY, kek_label(tenant, version))
            if key is None:
                return False
            key.destroy()
            return True

    # ------------------------------------------------------------------ data keys

    def new_data_key(self, tenant: str, version: int) -> bytes:
        """Generate an AES-256 DEK inside the HSM and return it wrapped under the KEK."""
        with self._session("generate a data key") as session:
            kek = self._kek(session, tenant, version)
            dek = session.generate_key(KeyType.AES, 256, store=False, template=DEK_TEMPLATE)
            try:
                return bytes(kek.wrap_key(dek, mechanism=Mechanism.AES_KEY_WRAP))
            finally:
                dek.destroy()

    def rewrap_data_key(self, tenant: str, old: int, new: int, wrapped: bytes) -> bytes:
        """Move a DEK from KEK ``old`` to KEK ``new`` without it leaving the HSM."""
        with self._session("re-wrap a data key") as session:
            target = self._kek(session, tenant, new)
            dek = self._unwrap_dek(session, tenant, old, wrapped)
            try:
                return bytes(target.wrap_key(dek, mechanism=Mechanism.AES_KEY_WRAP))
            finally:
                dek.destroy()

    def release_data_key(
        self, tenant: str, version: int, wrapped: bytes, recipient: bytes
    ) -> tuple[bytes, OaepHash]:
        """Wrap the DEK to the recipient's RSA key with RSA-OAEP, inside the HSM."""
        numbers = recipient_numbers(recipient)
        oaep_hash = self._oaep_hash or self.wrapping_key().oaep_hash
        size = (numbers.n.bit_length() + 7) // 8
        with self._session("release a data key") as session:
            dek = self._unwrap_dek(session, tenant, version, wrapped)
            target = None
            try:
                target = session.create_object(
                    {
                        Attribute.CLASS: ObjectClass.PUBLIC_KEY,
                        Attribute.KEY_TYPE: KeyType.RSA,
                        Attribute.TOKEN: False,
                        Attribute.MODULUS: numbers.n.to_bytes(size, "big"),
                        Attribute.PUBLIC_EXPONENT: numbers.e.to_bytes(
                            (numbers.e.bit_length() + 7) // 8, "big"
                        ),
                        **PUBLIC_NO_USE,
                        Attribute.WRAP: True,
                    }
                )
                released = target.wrap_key(
                    dek, mechanism=Mechanism.RSA_PKCS_OAEP, mechanism_param=oaep(oaep_hash)
                )
                return bytes(released), oaep_hash
            finally:
                dek.destroy()
                if target is not None:
                    target.destroy()

    def _kek(self, session: Any, tenant: str, version: int) -> Any:
        kek = find(session, ObjectClass.SECRET_KEY, kek_label(tenant, version))
        if kek is None:
            raise NotFoundError(f"the HSM holds no KEK v{version} for tenant {tenant}")
        return kek

    def _unwrap_dek(self, session: Any, tenant: str, version: int, wrapped: bytes) -> Any:
        kek = self._kek(session, tenant, version)
        try:
            return kek.unwrap_key(
                ObjectClass.SECRET_KEY,
                KeyType.AES,
                wrapped,
                mechanism=Mechanism.AES_KEY_WRAP,
                store=False,
                template=DEK_TEMPLATE,
            )
        except p11.PKCS11Error as exc:
            if isinstance(exc, UNAVAILABLE):
                raise
            # AES key wrap carries an integrity check: a DEK wrapped under another KEK (another
            # tenant's, or a revoked one) fails here.
            raise CryptoError(
                f"the data key does not unwrap under KEK v{version} of tenant {tenant}"
            ) from exc

    # ------------------------------------------------------------------ signing

    def signing_key(self, tenant: str) -> bytes:
        """The tenant's Ed25519 public key; the key pair is generated on first use."""
        label = signing_label(tenant)
        with self._session("read a signing key") as session:
            public = find(session, ObjectClass.PUBLIC_KEY, label)
            if public is None:
                public, _ = session.generate_keypair(
                    KeyType.EC_EDWARDS,
                    store=True,
                    label=label,
                    id=label.encode(),
                    public_template={
                        Attribute.EC_PARAMS: encode_named_curve_parameters(ED25519_OID),
                        **PUBLIC_NO_USE,
                        Attribute.VERIFY: True,
                    },
                    private_template={
                        **PRIVATE_NO_USE,
                        Attribute.PRIVATE: True,
                        Attribute.SENSITIVE: True,
                        Attribute.EXTRACTABLE: False,
                        Attribute.SIGN: True,
                    },
                )
            return ed25519_point(bytes(public[Attribute.EC_POINT]))

    def sign(self, tenant: str, message: bytes) -> bytes:
        """Sign with the tenant's Ed25519 key (pure EdDSA)."""
        with self._session("sign") as session:
            private = find(session, ObjectClass.PRIVATE_KEY, signing_label(tenant))
            if private is None:
                raise NotFoundError(f"the HSM holds no signing key for tenant {tenant}")
            return bytes(private.sign(message, mechanism=Mechanism.EDDSA))

    def destroy_signing_key(self, tenant: str) -> bool:
        """Destroy the signing key pair (the records keep the public half for verification)."""
        with self._session("destroy a signing key") as session:
            found = False
            for object_class in (ObjectClass.PRIVATE_KEY, ObjectClass.PUBLIC_KEY):
                key = find(session, object_class, signing_label(tenant))
                if key is not None:
                    key.destroy()
                    found = True
            return found
