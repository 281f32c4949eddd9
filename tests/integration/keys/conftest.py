"""A real SoftHSM2 token (the session's ``softhsm`` fixture, tests/conftest.py), and a provider
with the two-tenants estate on it; each test starts with no tenant keys on the token (they are
destroyed after every test).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tenantry.governance import Actor
from tenantry.keys import (
    HostTrust,
    RecipientKey,
    UnsafeStaticHostTrust,
    WrappedKey,
    WrappingKey,
    generate_tenant_key,
    wrap_tenant_key,
)
from tenantry.keys.pkcs11 import Pkcs11Vault
from tenantry.model import Ref
from tenantry.service import Service, TenantKeys
from tests.helpers.softhsm import SoftHsm
from tests.helpers.specs import estate_from

OPERATOR = Actor.local_operator()
ACME_WEB = Ref("acme", "web")


def require_tool(request: pytest.FixtureRequest, tool: str, package: str) -> None:
    """Skip when ``tool`` is missing, or fail under CI / --require-all (never pass by skipping)."""
    if shutil.which(tool) is not None:
        return
    why = f"{tool} not found: apt-get install {package}"
    if request.config.getoption("--require-all"):
        pytest.fail(f"required here (CI or --require-all) but {why}", pytrace=False)
    pytest.skip(why)


@pytest.fixture
def vault(softhsm: SoftHsm) -> Iterator[Pkcs11Vault]:
    """The token as a KeyVault; tenant keys made by a test are destroyed after it."""
    vault = Pkcs11Vault(softhsm.module, softhsm.token, softhsm.pin)
    vault.wrapping_key()  # logs in, and creates the wrapping key once per token
    yield vault
    wipe_tenant_keys(softhsm)
    vault.close()


def token_session(softhsm: SoftHsm):  # type: ignore[no-untyped-def]
    """A raw PKCS#11 session (what an attacker holding the PIN has); needs a vault logged in.

    PKCS#11 login is per process: the session shares the vault's login, and closing it does
    not log the vault out.
    """
    import pkcs11

    return pkcs11.lib(softhsm.module).get_token(token_label=softhsm.token).open(rw=True)


def wipe_tenant_keys(softhsm: SoftHsm) -> None:
    """Destroy every tenant KEK and signing key on the token (the wrapping key stays)."""
    import pkcs11

    with token_session(softhsm) as session:
        for obj in list(session.get_objects()):
            label = obj[pkcs11.Attribute.LABEL]
            if label.startswith(("tenantry-kek/", "tenantry-sign/")):
                obj.destroy()


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    """A store holding the two-tenants estate (acme/web on h1 with disk root)."""
    svc = Service.open(f"sqlite:///{tmp_path / 'tenantry.db'}")
    svc.apply(OPERATOR, estate_from())
    yield svc
    svc.close()


@dataclass
class Provider:
    """The provider's key service, and the tenant's and guest's sides around it."""

    service: Service
    vault: Pkcs11Vault
    datastores: Path

    def keys(self, trust: HostTrust | None = None) -> TenantKeys:
        """The key service with a host-trust signal (default: deny everything)."""
        return TenantKeys(self.service, self.vault, host_trust=trust)

    def wrap(self, tenant_key: bytes) -> WrappedKey:
        """What the tenant does on its own machine: wrap to the published PEM."""
        published = self.keys().wrapping_key().to_pem()
        wrapped = wrap_tenant_key(WrappingKey.from_pem(published), tenant_key)
        return WrappedKey.from_pem(wrapped.to_pem())

    def onboard(self, tenant: str = "acme") -> bytes:
        """Import a fresh tenant key; returns the key as the tenant keeps it."""
        tenant_key = generate_tenant_key()
        self.keys().import_key(OPERATOR, tenant, self.wrap(tenant_key))
        return tenant_key

    def create_disk(self, guest: Ref = ACME_WEB, disk: str = "root", size: int = 1 << 20) -> Path:
        path, _ = self.keys().create_disk(OPERATOR, guest, disk, self.datastores, size=size)
        return path


@pytest.fixture
def provider(service: Service, vault: Pkcs11Vault, tmp_path: Path) -> Provider:
    return Provider(service, vault, tmp_path / "datastores")


TrustFor = Callable[[RecipientKey], UnsafeStaticHostTrust]


@pytest.fixture
def trust_h1() -> TrustFor:
    """A host-trust signal that binds one recipient key to h1 (what attestation will give)."""

    def bind(recipient: RecipientKey) -> UnsafeStaticHostTrust:
        return UnsafeStaticHostTrust({"h1": {recipient.fingerprint}})

    return bind
