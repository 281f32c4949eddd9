"""A SoftHSM2 token directory for the whole test session, with two tokens: one that the key
tests wipe after each test, and one that the API servers of the e2e tests keep their tenant
keys on.

SoftHSM reads ``SOFTHSM2_CONF`` once per process, so every token a session uses is created
here, up front, and the configuration is exported before the first PKCS#11 call.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

__all__ = [
    "API_TOKEN",
    "INIT_TOKEN",
    "PIN",
    "SO_PIN",
    "TOKEN",
    "SoftHsm",
    "softhsm_tokens",
]

TOKEN = "tenantry-test"
API_TOKEN = "tenantry-api"
PIN = "31415926"
SO_PIN = "27182818"
INIT_TOKEN = ("softhsm2-util", "--init-token", "--free")


@dataclass(frozen=True)
class SoftHsm:
    """Where the token is and how to log in."""

    module: str
    token: str
    pin: str
    so_pin: str
    conf: Path
    tokens: Path

    def env(self) -> dict[str, str]:
        """Environment for a tenantry process (CLI, driver, server) using this token."""
        return {
            "SOFTHSM2_CONF": str(self.conf),
            "TENANTRY_HSM_MODULE": self.module,
            "TENANTRY_HSM_TOKEN": self.token,
            "TENANTRY_HSM_PIN": self.pin,
        }

    def other(self, token: str) -> SoftHsm:
        """The same configuration, another token."""
        return replace(self, token=token)


@contextmanager
def softhsm_tokens(module: str, root: Path) -> Iterator[SoftHsm]:
    """Initialise TOKEN and API_TOKEN under ``root`` and export ``SOFTHSM2_CONF`` meanwhile."""
    tokens = root / "tokens"
    tokens.mkdir()
    conf = root / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n"
    )
    previous = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    for label in (TOKEN, API_TOKEN):
        subprocess.run(
            [*INIT_TOKEN, "--label", label, "--pin", PIN, "--so-pin", SO_PIN],
            check=True,
            capture_output=True,
        )
    try:
        yield SoftHsm(module, TOKEN, PIN, SO_PIN, conf, tokens)
    finally:
        if previous is None:
            os.environ.pop("SOFTHSM2_CONF", None)
        else:
            os.environ["SOFTHSM2_CONF"] = previous
