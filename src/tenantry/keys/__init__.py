"""Tenant-held keys: HSM key-encryption keys, wrapped data keys, release, encrypted disks.

The tenant wraps its own AES-256 key to the HSM's public wrapping key on its own machine
(``envelope``); the HSM turns it into a non-extractable KEK (``vault``, implemented over
PKCS#11 in ``tenantry.keys.pkcs11``, imported on demand so that tenants need no PKCS#11
library); each disk's data key is generated in the HSM and stored only wrapped; it is
released only to a running guest of its tenant on a trusted host (``release``), and the disk
it protects is encrypted and signed block by block (``tenantry.keys.disk``).
"""

from tenantry.keys.envelope import MIN_RSA_BITS, WrappedKey, WrappingKey, wrap_tenant_key
from tenantry.keys.material import (
    TENANT_KEY_BYTES,
    DataKey,
    OaepHash,
    fingerprint,
    generate_tenant_key,
    read_signing_key_pem,
    read_tenant_key,
    signing_key_pem,
)
from tenantry.keys.private_file import read_private_file
from tenantry.keys.recipient import RecipientKey
from tenantry.keys.records import (
    DiskKeyRecord,
    DiskKeyState,
    KekRecord,
    KekState,
    KeyAudit,
    KeyEvent,
    KeyRecords,
    SigningKeyRecord,
    TenantKeyStatus,
)
from tenantry.keys.release import (
    DenyAllHosts,
    HostTrust,
    HostTrustState,
    RefusalReason,
    ReleasedKey,
    ReleaseRefusal,
    ReleaseRequest,
    SealRequest,
    UnsafeStaticHostTrust,
    check_release,
    check_seal,
)
from tenantry.keys.secret_box import SEALED_PREFIX, SecretBox, is_sealed, load_secret_box
from tenantry.keys.service import KeyService
from tenantry.keys.settings import HsmSettings
from tenantry.keys.vault import KeyVault

__all__ = [
    "MIN_RSA_BITS",
    "SEALED_PREFIX",
    "TENANT_KEY_BYTES",
    "DataKey",
    "DenyAllHosts",
    "DiskKeyRecord",
    "DiskKeyState",
    "HostTrust",
    "HostTrustState",
    "HsmSettings",
    "KekRecord",
    "KekState",
    "KeyAudit",
    "KeyEvent",
    "KeyRecords",
    "KeyService",
    "KeyVault",
    "OaepHash",
    "RecipientKey",
    "RefusalReason",
    "ReleaseRefusal",
    "ReleaseRequest",
    "ReleasedKey",
    "SealRequest",
    "SecretBox",
    "SigningKeyRecord",
    "TenantKeyStatus",
    "UnsafeStaticHostTrust",
    "WrappedKey",
    "WrappingKey",
    "check_release",
    "check_seal",
    "fingerprint",
    "generate_tenant_key",
    "is_sealed",
    "load_secret_box",
    "read_private_file",
    "read_signing_key_pem",
    "read_tenant_key",
    "signing_key_pem",
    "wrap_tenant_key",
]
