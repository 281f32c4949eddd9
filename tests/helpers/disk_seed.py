"""Run as ``python -m tests.helpers.disk_seed STORE DATASTORES`` (with ``TENANTRY_HSM_*`` and
``SOFTHSM2_CONF`` set): import acme's key into the token, allocate acme/web's disk ``root``
and write ACME_ROOT at its start, the way acme's host agent would on trusted host h1.

A process of its own: SoftHSM reads its configuration once per process, and each server's
token is made after the test process may already have loaded the library.
"""

from __future__ import annotations

import sys
from pathlib import Path

ACME_WEB_DISK_BYTES = 1 << 20
ACME_ROOT = b"acme ledger, tenant eyes only\n" + bytes(range(256)) * 32
"""What acme keeps on acme/web's root disk, from offset 0."""


def main(store: str, datastores: Path) -> None:
    """Seed acme's key and disk."""
    from tenantry.governance import Actor
    from tenantry.keys import (
        HsmSettings,
        RecipientKey,
        UnsafeStaticHostTrust,
        WrappingKey,
        generate_tenant_key,
        wrap_tenant_key,
    )
    from tenantry.keys.pkcs11 import Pkcs11Vault
    from tenantry.model import Ref
    from tenantry.service import Service, TenantKeys, open_guest_disk

    operator = Actor.local_operator()
    settings = HsmSettings()
    service = Service.open(store)
    recipient = RecipientKey.generate()
    vault = Pkcs11Vault(settings.module_path(), settings.token, settings.user_pin())
    keys = TenantKeys(
        service, vault, host_trust=UnsafeStaticHostTrust({"h1": {recipient.fingerprint}})
    )
    try:
        published = WrappingKey.from_pem(keys.wrapping_key().to_pem())
        keys.import_key(operator, "acme", wrap_tenant_key(published, generate_tenant_key()))
        guest = Ref("acme", "web")
        path, _ = keys.create_disk(operator, guest, "root", datastores, size=ACME_WEB_DISK_BYTES)
        disk = open_guest_disk(keys, path, guest, "h1", recipient, writable=True)
        try:
            disk.write(0, ACME_ROOT)
            disk.flush()
        finally:
            disk.close()
    finally:
        keys.close()
        service.close()


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
