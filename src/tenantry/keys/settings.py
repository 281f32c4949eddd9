"""Where the HSM is: ``TENANTRY_HSM_MODULE``, ``TENANTRY_HSM_TOKEN`` and the user PIN."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from tenantry.errors import HsmUnavailableError

__all__ = ["HsmSettings"]


class HsmSettings(BaseSettings):
    """The PKCS#11 module, token label and PIN; the PIN is never shown or logged."""

    model_config = SettingsConfigDict(env_prefix="TENANTRY_HSM_", extra="ignore")

    module: Path | None = Field(None, description="path of the PKCS#11 module (.so)")
    token: str = Field("tenantry", description="label of the token holding tenant keys")
    pin: SecretStr | None = Field(None, description="user PIN (prefer pin_file)")
    pin_file: Path | None = Field(None, description="file whose first line is the user PIN")

    def user_pin(self) -> str:
        """The PIN, from ``pin`` or ``pin_file``."""
        if self.pin is not None:
            return self.pin.get_secret_value()
        if self.pin_file is not None:
            try:
                return self.pin_file.read_text().splitlines()[0].strip()
            except (OSError, IndexError) as exc:
                raise HsmUnavailableError(f"cannot read the PIN from {self.pin_file}") from exc
        raise HsmUnavailableError("no HSM PIN configured")

    def module_path(self) -> str:
        """The module path, or HsmUnavailableError when none is configured."""
        if self.module is None:
            raise HsmUnavailableError("no PKCS#11 module configured")
        if not self.module.exists():
            raise HsmUnavailableError(f"the PKCS#11 module {self.module} does not exist")
        return str(self.module)
