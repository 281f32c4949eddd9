"""Settings from the environment (``TENANTRY_*``) with secure defaults."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "default_home"]


def default_home() -> Path:
    """Where tenantry keeps its state by default: ``$XDG_DATA_HOME/tenantry``."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "tenantry"


class Settings(BaseSettings):
    """Process-wide settings; every field can be set as ``TENANTRY_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="TENANTRY_", extra="ignore")

    home: Path = Field(default_factory=default_home, description="state directory")
    store: str | None = Field(None, description="store URL; default: SQLite file in home")
    audit_key: Path | None = Field(
        None,
        description="Ed25519 key that signs the audit log's tree heads (PEM, mode 0600; created "
        "on first use); default: audit-signing-key.pem in home. Keep it away from the store's "
        "administrators.",
    )

    # ---- the API server (`tenantry serve`) and governance
    secrets_key: Path | None = Field(
        None,
        description="AES-256 key (0600 file, created on first use) sealing TOTP seeds in the "
        "store; default: secrets-key in home. Keep it away from the store's backups.",
    )
    api_host: str = Field("127.0.0.1", description="address the API listens on (loopback)")
    api_port: int = Field(8443, ge=1, le=65535, description="port the API listens on")
    tls_cert: Path | None = Field(None, description="PEM certificate; default: generated")
    tls_key: Path | None = Field(None, description="PEM private key; default: generated")
    session_idle_seconds: int = Field(900, gt=0, description="idle timeout of a session")
    session_absolute_seconds: int = Field(28800, gt=0, description="absolute session lifetime")
    login_max_failures: int = Field(5, gt=0, description="failed logins that lock an account")
    login_lockout_seconds: int = Field(300, gt=0, description="how long a lockout lasts")
    address_max_failures: int = Field(20, gt=0, description="failed logins that lock an address")
    approval_ttl_seconds: int = Field(86400, gt=0, description="how long a request may wait")
    tenant_object_quota: int = Field(10_000, gt=0, description="objects a tenant may own")
    tenant_requests_per_second: float = Field(
        50.0, gt=0, description="sustained API requests per tenant credential domain"
    )
    tenant_request_burst: int = Field(100, gt=0, description="requests a tenant may burst")
    login_requests_per_second: float = Field(
        5.0, gt=0, description="login attempts per source address"
    )
    directory_hosts: str = Field(
        "",
        description="comma-separated host or host:port entries tenants may point their LDAP "
        "directory at (none by default)",
    )
    datastores: Path | None = Field(
        None, description="where disk images live; default: datastores/ in home"
    )
    unsafe_trust_hosts: str = Field(
        "",
        description="comma-separated hosts the API trusts without attestation to release disk "
        "keys for reads (tests and labs only; logged and audited)",
    )
    max_request_bytes: int = Field(16 * 1024 * 1024, gt=0, description="largest request body")

    def store_url(self) -> str:
        """The store URL to use."""
        if self.store:
            return self.store
        return f"sqlite:///{(self.home / 'tenantry.db').expanduser()}"

    def datastores_path(self) -> Path:
        """Where disk images live."""
        return (self.datastores or self.home / "datastores").expanduser()

    def secrets_key_path(self) -> Path:
        """Where the key sealing secrets at rest (TOTP seeds) lives."""
        return (self.secrets_key or self.home / "secrets-key").expanduser()

    def audit_key_path(self) -> Path:
        """Where the audit signing key lives."""
        return (self.audit_key or self.home / "audit-signing-key.pem").expanduser()
