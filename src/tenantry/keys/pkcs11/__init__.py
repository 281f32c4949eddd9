"""``KeyVault`` over a PKCS#11 token (python-pkcs11): the only package that imports ``pkcs11``.

Every secret key object is created sensitive; KEKs and signing keys are also non-extractable
and live on the token, data keys exist only as short-lived session objects destroyed right
after use. Import this package only where an HSM is used: tenants' tools never need it.
"""

from tenantry.keys.pkcs11.vault import Pkcs11Vault

__all__ = ["Pkcs11Vault"]
