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

    def store_url(self) -> str:
        """The store URL to use."""
        if self.store:
            return self.store
        return f"sqlite:///{(self.home / 'tenantry.db').expanduser()}"

    def audit_key_path(self) -> Path:
        """Where the audit signing key lives."""
        return (self.audit_key or self.home / "audit-signing-key.pem").expanduser()
