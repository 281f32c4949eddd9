"""State shared by the commands of one invocation: options, the service, the consoles."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

from tenantry.cli.gateway import Gateway, LocalGateway
from tenantry.client import Client
from tenantry.errors import AuthenticationError
from tenantry.governance import Actor
from tenantry.service import Service
from tenantry.settings import Settings

__all__ = ["CliState", "state"]


@dataclass
class CliState:
    """Global options, and the service opened on first use."""

    store: str | None = None
    verbose: bool = False
    out: Console = field(default_factory=lambda: Console(highlight=False, soft_wrap=True))
    err: Console = field(
        default_factory=lambda: Console(stderr=True, highlight=False, soft_wrap=True)
    )
    server: str | None = None
    """The API server to act through (remote mode); None: the local store."""
    cacert: str | None = None
    _service: Service | None = None
    _client: Client | None = None

    @property
    def is_remote(self) -> bool:
        return self.server is not None

    def credentials_path(self) -> Path:
        """Where `tenantry login` keeps session tokens (one per server, mode 0600)."""
        return Settings().home / "credentials.json"

    def saved_credentials(self) -> dict[str, Any]:
        """Every saved server login."""
        path = self.credentials_path()
        if not path.exists():
            return {}
        data: dict[str, Any] = json.loads(path.read_text())
        return data

    def save_credentials(self, server: str, entry: dict[str, Any] | None) -> None:
        """Remember (or with None forget) the login for ``server``."""
        data = self.saved_credentials()
        if entry is None:
            data.pop(server, None)
        else:
            data[server] = entry
        path = self.credentials_path()
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            json.dump(data, handle, indent=2)

    def client(self, *, anonymous: bool = False) -> Client:
        """A client of ``--server`` with the saved token (opened once)."""
        if self.server is None:  # pragma: no cover - callers check is_remote
            raise AuthenticationError("no --server given")
        if self._client is None:
            saved = self.saved_credentials().get(self.server, {})
            token = None if anonymous else saved.get("token")
            if token is None and not anonymous:
                raise AuthenticationError(f"not logged in to {self.server}")
            cacert = self.cacert or saved.get("cacert")
            self._client = Client(self.server, token=token, cacert=cacert)
        return self._client

    def gateway(self) -> Gateway:
        """Governance operations: through ``--server`` if given, else on the local store."""
        if self.is_remote:
            return self.client()
        return LocalGateway(self.service(), self.actor())

    def store_url(self) -> str:
        return self.store or Settings().store_url()

    def service(self) -> Service:
        """The service over the chosen store (opened once)."""
        if self._service is None:
            self._service = Service.open(self.store_url())
        return self._service

    def actor(self) -> Actor:
        """Who this invocation acts as: the local operator."""
        return Actor.local_operator()

    def close(self) -> None:
        if self._service is not None:
            self._service.close()
            self._service = None
        if self._client is not None:
            self._client.close()
            self._client = None


state = CliState()
